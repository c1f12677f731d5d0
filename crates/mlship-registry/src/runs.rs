//! Runs: what `mlship run` / `mlship train` did — the spec, the data fingerprint, every
//! candidate's cross-validation scores and timings, and the chosen model. A version links to
//! the run that produced it through its manifest's `lineage.run_id`.

use std::collections::BTreeMap;

use mlship_core::time::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{RegistryError, Result};
use crate::names::validate_model_name;
use crate::registry::Registry;
use crate::store::{SqlValue, Store};
use crate::types::VersionId;

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Its id (see [`new_run_id`]); the bundles it writes carry it as `lineage.run_id`.
    pub id: String,
    /// When it started (RFC 3339, UTC).
    pub created_at: String,
    /// The command: `run` or `train`.
    pub command: String,
    /// The experiment spec as given (or the command's options).
    pub spec: Value,
    /// The fingerprint of the training data.
    #[serde(default)]
    pub data_fingerprint: Option<String>,
    /// Every candidate tried.
    #[serde(default)]
    pub candidates: Vec<RunCandidate>,
    /// The chosen candidate's name.
    #[serde(default)]
    pub chosen: Option<String>,
    /// The chosen model's final metrics.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Seconds the whole run took.
    #[serde(default)]
    pub seconds: f64,
    /// The registered versions that came from this run (filled in when read).
    #[serde(default)]
    pub versions: Vec<VersionId>,
}

/// One candidate of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCandidate {
    /// Its name (estimator and parameter set).
    pub name: String,
    /// Its parameters.
    #[serde(default)]
    pub params: Value,
    /// Cross-validation scores per metric, one per fold.
    #[serde(default)]
    pub cv_scores: BTreeMap<String, Vec<f64>>,
    /// Seconds spent fitting, over all folds.
    #[serde(default)]
    pub fit_seconds: f64,
    /// Seconds spent scoring, over all folds.
    #[serde(default)]
    pub score_seconds: f64,
    /// Why it failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

impl RunCandidate {
    /// The mean cross-validation score of `metric`.
    pub fn mean(&self, metric: &str) -> Option<f64> {
        let s = self.cv_scores.get(metric)?;
        (!s.is_empty()).then(|| s.iter().sum::<f64>() / s.len() as f64)
    }
}

/// A fresh run id: `run-YYYYMMDD-HHMMSS-xxxxxx` (UTC time and six hex digits).
pub fn new_run_id() -> String {
    let ms = now_ms();
    let t = mlship_core::time::rfc3339_ms(ms);
    let stamp: String = t[..19].chars().filter(char::is_ascii_digit).collect();
    let noise = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i64(ms);
        h.write_u32(std::process::id());
        h.finish() & 0xff_ffff
    };
    format!("run-{}-{}-{noise:06x}", &stamp[..8], &stamp[8..])
}

fn run_from_text(text: &str) -> Result<RunRecord> {
    serde_json::from_str(text).map_err(|e| {
        RegistryError::Invalid(format!("registry data: a run record is not valid: {e}"))
    })
}

pub(crate) fn insert_run(db: &mut dyn Store, run: &RunRecord) -> Result<()> {
    let mut stored = run.clone();
    stored.versions.clear();
    let text = serde_json::to_string(&stored)
        .map_err(|e| RegistryError::Invalid(format!("cannot encode run {}: {e}", run.id)))?;
    db.execute(
        "INSERT INTO runs (id, created_ms, record) VALUES (?, ?, ?)",
        &[run.id.as_str().into(), SqlValue::Int(now_ms()), text.into()],
    )?;
    Ok(())
}

pub(crate) fn runs_with_ids(db: &mut dyn Store, ids: &[String]) -> Result<Vec<RunRecord>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = db
            .query("SELECT record FROM runs WHERE id = ?", &[id.into()])?
            .first()
        {
            out.push(run_from_text(&r.text(0)?)?);
        }
    }
    Ok(out)
}

fn linked_versions(db: &mut dyn Store, id: &str) -> Result<Vec<VersionId>> {
    db.query(
        "SELECT m.name, v.number FROM versions v JOIN models m ON m.id = v.model_id \
         WHERE v.run_id = ? ORDER BY m.name, v.number",
        &[id.into()],
    )?
    .iter()
    .map(|r| {
        Ok(VersionId {
            model: r.text(0)?,
            version: r.uint(1)?,
        })
    })
    .collect()
}

impl Registry {
    /// Records a run (its id must be new).
    pub fn record_run(&mut self, run: &RunRecord) -> Result<()> {
        validate_model_name(&run.id)?;
        self.write_tx(|db, _, _| {
            if !db
                .query(
                    "SELECT id FROM runs WHERE id = ?",
                    &[run.id.as_str().into()],
                )?
                .is_empty()
            {
                return Err(RegistryError::AlreadyExists {
                    what: "run",
                    name: run.id.clone(),
                    hint: "give each run a fresh id (new_run_id)",
                });
            }
            insert_run(db, run)
        })
    }

    /// One run, with the versions registered from it.
    pub fn run(&mut self, id: &str) -> Result<RunRecord> {
        validate_model_name(id)?;
        self.read_tx(|db, _| {
            let mut run = runs_with_ids(db, &[id.to_owned()])?.pop().ok_or_else(|| {
                RegistryError::Invalid(format!(
                    "run {id:?} is not recorded\nhint: `mlship runs list` shows the recorded runs"
                ))
            })?;
            run.versions = linked_versions(db, id)?;
            Ok(run)
        })
    }

    /// Every run, newest first.
    pub fn runs(&mut self) -> Result<Vec<RunRecord>> {
        self.read_tx(|db, _| {
            let rows = db.query(
                "SELECT record FROM runs ORDER BY created_ms DESC, id DESC",
                &[],
            )?;
            let mut out = rows
                .iter()
                .map(|r| run_from_text(&r.text(0)?))
                .collect::<Result<Vec<_>>>()?;
            for run in &mut out {
                run.versions = linked_versions(db, &run.id)?;
            }
            Ok(out)
        })
    }
}
