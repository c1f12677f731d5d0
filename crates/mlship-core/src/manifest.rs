//! The typed manifest every bundle carries.
//!
//! The manifest is the JSON part of a `*.mlship` envelope: readable without decoding any
//! section, it says what the bundle is (kind, task, input schema), how it was made (parameters,
//! metrics, lineage) and which section versions it holds. Fields may be added in later versions
//! of mlship; older readers ignore fields they do not know, and every field has a default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::task::Task;

/// Where a bundle came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Lineage {
    /// Fingerprint of the training data (see [`crate::fingerprint`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_fingerprint: Option<String>,
    /// Where the training data was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_source: Option<String>,
    /// The experiment spec or command that produced the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// The run that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The seed of every random choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The registry version this one was trained from, for continued training.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_version: Option<String>,
    /// The source code version (a git commit) of the training code, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_version: Option<String>,
}

/// The manifest of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// What the bundle holds: `model` for a servable model.
    pub kind: String,
    /// A name suggested for registering or serving it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was written (RFC 3339, UTC).
    pub created_at: String,
    /// The mlship version that wrote it.
    pub mlship_version: String,
    /// What the model predicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// The raw input the model accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    /// Estimator and preprocessing parameters, as given.
    pub params: Value,
    /// Evaluation metrics by name.
    pub metrics: BTreeMap<String, f64>,
    /// Where it came from.
    pub lineage: Lineage,
    /// Free-form labels.
    pub tags: BTreeMap<String, String>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            kind: String::new(),
            name: None,
            created_at: String::new(),
            mlship_version: env!("CARGO_PKG_VERSION").to_owned(),
            task: None,
            schema: None,
            params: Value::Object(serde_json::Map::new()),
            metrics: BTreeMap::new(),
            lineage: Lineage::default(),
            tags: BTreeMap::new(),
        }
    }
}

impl Manifest {
    /// A manifest of the given kind, stamped with the current time and this mlship's version.
    pub fn new(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            created_at: crate::time::rfc3339_ms(crate::time::now_ms()),
            ..Self::default()
        }
    }

    /// The manifest as a JSON value, for the envelope.
    pub fn to_json(&self) -> Value {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The manifest from the envelope's JSON value.
    pub fn from_json(value: &Value) -> Result<Self> {
        let m = Self::deserialize(value).map_err(|e| {
            Error::invalid_data(format!(
                "the bundle manifest is not valid: {e}\nhint: the file may come from an incompatible tool"
            ))
        })?;
        if let Some((name, v)) = m.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid_data(format!(
                "the bundle manifest has a non-finite metric {name} = {v}"
            )));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnKind, ColumnSpec};

    #[test]
    fn round_trip_and_unknown_fields_are_ignored() {
        let mut m = Manifest::new("model");
        m.task = Some(Task::Regression);
        m.schema = Some(Schema::new(vec![ColumnSpec::new(
            "x",
            ColumnKind::Numeric,
            false,
        )]));
        m.metrics.insert("r2".into(), 0.9);
        m.lineage.seed = Some(7);
        let json = m.to_json();
        assert_eq!(Manifest::from_json(&json).unwrap(), m);
        let mut newer = json.clone();
        newer["field_from_the_future"] = Value::from(1);
        assert_eq!(Manifest::from_json(&newer).unwrap(), m);
        assert!(m.created_at.ends_with('Z'));
    }

    #[test]
    fn defaults_fill_missing_fields_and_bad_types_are_errors() {
        let m = Manifest::from_json(&serde_json::json!({"kind": "model"})).unwrap();
        assert_eq!(m.kind, "model");
        assert!(m.metrics.is_empty());
        let e = Manifest::from_json(&serde_json::json!({"metrics": {"auc": "high"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("manifest is not valid"), "{e}");
    }
}
