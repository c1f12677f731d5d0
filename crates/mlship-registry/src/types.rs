//! The records the registry returns: models, versions, audit entries, diffs and reports.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A version's lifecycle state. Archived versions stay readable but take no alias and are
/// skipped by `@latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// In use or usable.
    Active,
    /// Kept for the record.
    Archived,
}

impl Status {
    /// `active` or `archived`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// One version of one registered model: `churn/3`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VersionId {
    /// The registered model.
    pub model: String,
    /// The version number, from 1.
    pub version: u64,
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.model, self.version)
    }
}

/// A registered model, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Labels.
    pub tags: BTreeMap<String, String>,
    /// When it was first registered (RFC 3339, UTC).
    pub created_at: String,
    /// How many versions exist (deleted ones excluded).
    pub versions: u64,
    /// The newest version number, archived or not.
    pub latest: Option<u64>,
    /// Alias → version number.
    pub aliases: BTreeMap<String, u64>,
}

/// One version, with everything copied out of its bundle's manifest when it was registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The registered model.
    pub model: String,
    /// The version number.
    pub version: u64,
    /// Active or archived.
    pub status: Status,
    /// When it was registered (RFC 3339, UTC).
    pub created_at: String,
    /// The SHA-256 of the bundle (its address in the artifact store), hex.
    pub artifact: String,
    /// The bundle's size in bytes.
    pub size: u64,
    /// The bundle's kind (`model`, …).
    pub kind: String,
    /// What it predicts (`binary`, `regression`, …).
    pub task: Option<String>,
    /// The run that produced it.
    pub run_id: Option<String>,
    /// The experiment spec or command that produced it.
    pub experiment: Option<String>,
    /// The version it was trained from.
    pub parent_version: Option<String>,
    /// The mlship version that wrote the bundle.
    pub mlship_version: String,
    /// The fingerprint of its training data.
    pub data_fingerprint: Option<String>,
    /// A note given at registration.
    pub description: Option<String>,
    /// Estimator and preprocessing parameters.
    pub params: Value,
    /// Evaluation metrics.
    pub metrics: BTreeMap<String, f64>,
    /// The input schema, as in the manifest; left out (`None`) of version lists and search
    /// results, filled in when one version is read.
    pub schema: Option<Value>,
    /// The manifest's whole lineage.
    pub lineage: Value,
    /// Labels (the bundle's own, then those given at registration).
    pub tags: BTreeMap<String, String>,
    /// The aliases pointing at it now.
    pub aliases: Vec<String>,
}

impl VersionRecord {
    /// `model/version`.
    pub fn id(&self) -> VersionId {
        VersionId {
            model: self.model.clone(),
            version: self.version,
        }
    }
}

/// A registered model with its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDetail {
    /// The model.
    #[serde(flatten)]
    pub model: ModelSummary,
    /// Its versions, oldest first.
    pub version_list: Vec<VersionRecord>,
}

/// What an audit entry records.
pub mod action {
    /// A version was registered.
    pub const REGISTER: &str = "register";
    /// An alias was set (or moved) without a reason.
    pub const ALIAS_SET: &str = "alias-set";
    /// An alias was removed.
    pub const ALIAS_REMOVE: &str = "alias-remove";
    /// An alias was moved with a reason.
    pub const PROMOTE: &str = "promote";
    /// An alias was moved back to the version it held before.
    pub const ROLLBACK: &str = "rollback";
    /// A version's status changed.
    pub const STATUS: &str = "status";
    /// A version was deleted.
    pub const DELETE: &str = "delete";
    /// The model was imported from an export file.
    pub const IMPORT: &str = "import";

    /// The actions that move an alias.
    pub const ALIAS_MOVES: [&str; 4] = [ALIAS_SET, ALIAS_REMOVE, PROMOTE, ROLLBACK];
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its position in the log (increasing).
    pub id: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who: `--actor`, else `$USER`.
    pub actor: String,
    /// The model.
    pub model: String,
    /// What happened (see [`action`]).
    pub action: String,
    /// The alias moved, for alias moves.
    pub alias: Option<String>,
    /// The version concerned (for alias moves, the one the alias points at afterwards).
    pub version: Option<u64>,
    /// The value before: a version number for alias moves, a status for status changes.
    pub before: Option<String>,
    /// The value after.
    pub after: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
}

/// What an alias move did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasMove {
    /// The model.
    pub model: String,
    /// The alias.
    pub alias: String,
    /// Where it pointed before (`None`: unset).
    pub from: Option<u64>,
    /// Where it points now (`None`: removed).
    pub to: Option<u64>,
    /// Whether anything changed (moving an alias to where it is records nothing).
    pub changed: bool,
}

/// One changed entry in a [`Diff`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The parameter, metric or column (a dotted path for nested parameters).
    pub key: String,
    /// The value in the first version (`None`: absent).
    pub from: Option<Value>,
    /// The value in the second version (`None`: absent).
    pub to: Option<Value>,
}

/// The differences between two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// The first version.
    pub from: VersionId,
    /// The second version.
    pub to: VersionId,
    /// Changed parameters.
    pub params: Vec<Change>,
    /// Every metric in either version, changed or not, with the change `to - from`.
    pub metrics: Vec<MetricChange>,
    /// Columns added, removed or changed in the input schema.
    pub schema: Vec<Change>,
    /// The training data fingerprints, when they differ.
    pub data_fingerprint: Option<Change>,
    /// Whether the bundles are byte-identical.
    pub same_artifact: bool,
}

/// A metric in a [`Diff`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricChange {
    /// The metric.
    pub name: String,
    /// Its value in the first version.
    pub from: Option<f64>,
    /// Its value in the second version.
    pub to: Option<f64>,
    /// `to - from`, when both exist.
    pub delta: Option<f64>,
}

/// The result of re-hashing artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Versions whose artifact was checked.
    pub versions: u64,
    /// Distinct artifacts read and hashed.
    pub artifacts: u64,
    /// Bytes read.
    pub bytes: u64,
    /// What failed, one entry per bad artifact.
    pub problems: Vec<VerifyProblem>,
}

/// One artifact that failed verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyProblem {
    /// Its address.
    pub artifact: String,
    /// The versions that refer to it.
    pub versions: Vec<VersionId>,
    /// What is wrong.
    pub error: String,
}

/// The result of garbage collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GcReport {
    /// Artifacts kept (referenced by a version).
    pub kept: u64,
    /// Artifacts removed.
    pub removed: Vec<String>,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Leftovers of interrupted writes removed.
    pub leftovers: u64,
}

/// What an import brought in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The model.
    pub model: String,
    /// Versions imported.
    pub versions: u64,
    /// Aliases set.
    pub aliases: u64,
    /// Audit entries copied.
    pub audit_entries: u64,
    /// Runs copied.
    pub runs: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportReport {
    /// The model.
    pub model: String,
    /// The file written.
    pub path: std::path::PathBuf,
    /// Versions exported.
    pub versions: u64,
    /// Audit entries exported.
    pub audit_entries: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}
