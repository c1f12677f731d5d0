//! The model registry: registered models, immutable numbered versions, aliases, tags, lineage,
//! an append-only audit log and rollback, over an embedded SQLite store (the default, under
//! `MLSHIP_HOME`) or a PostgreSQL server for teams, with a content-addressed artifact store.
//! It stores bundles as bytes plus their manifests and knows no model types.
//!
//! - [`Registry`]: every operation (register, list, show, search, diff, alias, promote,
//!   rollback, history, archive, delete, verify, export, import, gc, runs).
//! - [`Location`]: where a registry lives (`--registry`, `MLSHIP_REGISTRY`, `MLSHIP_HOME`).
//! - [`Store`]: the metadata database, implemented by [`SqliteStore`] and [`PostgresStore`].
//! - [`ArtifactStore`]: bundle bytes by SHA-256, implemented by [`FsArtifacts`] and
//!   [`DbArtifacts`]; written once, verified on every read.
//! - [`ModelUri`] and [`load_model`]: `file.mlship`, `NAME@ALIAS`, `NAME/VERSION`, `NAME@latest`.
//! - [`names`]: the naming rules, enforced here for every caller.

#![forbid(unsafe_code)]

pub mod artifact;
mod error;
mod export;
pub mod names;
mod postgres;
mod registry;
mod runs;
pub mod search;
mod sqlite;
mod store;
mod types;
mod uri;

pub use artifact::{ArtifactStore, DbArtifacts, FsArtifacts, sha256_hex};
pub use error::{RegistryError, Result};
pub use export::{EXPORT_KIND, EXPORT_VERSION};
pub use postgres::PostgresStore;
pub use registry::{
    Expect, HOME_ENV, Location, PAUSE_ENV, REGISTRY_ENV, RegisterOptions, Registry, default_actor,
    diff_records,
};
pub use runs::{RunCandidate, RunRecord, new_run_id};
pub use sqlite::SqliteStore;
pub use store::{Row, SqlValue, Store, StoreKind};
pub use types::{
    AliasMove, AuditEntry, Change, Diff, ExportReport, GcReport, ImportReport, MetricChange,
    ModelDetail, ModelSummary, Status, VerifyProblem, VerifyReport, VersionId, VersionRecord,
    action,
};
pub use uri::ModelUri;

/// A model's bundle bytes, resolved from a [`ModelUri`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedModel {
    /// The bundle bytes (verified against their SHA-256 when they came from the registry).
    pub bytes: Vec<u8>,
    /// The registered version, when the URI named one.
    pub version: Option<VersionId>,
    /// Where the bytes came from: the file path or `NAME/VERSION`.
    pub source: String,
}

/// Reads the bundle a URI names: a file from disk, or a registered version through the
/// registry that `open` returns (called only for registry URIs).
pub fn load_model(uri: &ModelUri, open: impl FnOnce() -> Result<Registry>) -> Result<LoadedModel> {
    if let ModelUri::File(path) = uri {
        let bytes = std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RegistryError::Bundle(mlship_core::bundle::BundleError::NotFound {
                    path: path.clone(),
                })
            } else {
                RegistryError::io("read", path, e)
            }
        })?;
        Ok(LoadedModel {
            bytes,
            version: None,
            source: path.display().to_string(),
        })
    } else {
        let mut registry = open()?;
        let id = registry.resolve(uri)?;
        let bytes = registry.load(&id)?;
        Ok(LoadedModel {
            bytes,
            source: id.to_string(),
            version: Some(id),
        })
    }
}
