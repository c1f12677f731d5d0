//! Where served models come from.
//!
//! The server is handed one [`ModelSource`] per served name. It asks the source which version
//! should be served ([`ModelSource::resolve`]) and, when that changes, loads it
//! ([`ModelSource::load`]). The facade implements sources over bundle files and the registry;
//! this crate knows neither.

use std::fmt;
use std::sync::Arc;

use mlship_core::manifest::Manifest;
use mlship_core::traits::{RawExplainer, RawPredictor};

/// What a source says should be served now: a registry version number, or a bundle file's
/// checksum. The server reloads when it changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId(pub String);

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A model ready to serve.
#[derive(Clone)]
pub struct ServedModel {
    /// Predicts from raw input (the bundle's pipeline row path and model).
    pub predictor: Arc<dyn RawPredictor>,
    /// Explains predictions, when the model offers explanations.
    pub explainer: Option<Arc<dyn RawExplainer>>,
    /// The version as clients see it (in V2 metadata, `/versions/{v}` paths and the prediction
    /// log): a registry version number, or a short checksum for a bundle file. It must be 1 to
    /// 128 characters from `[A-Za-z0-9._-]`.
    pub version: String,
    /// The bundle's manifest.
    pub manifest: Manifest,
}

impl fmt::Debug for ServedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServedModel")
            .field("version", &self.version)
            .field("task", &self.predictor.task().name())
            .field("columns", &self.predictor.schema().columns.len())
            .field(
                "explainer",
                &self.explainer.as_ref().map(|e| e.method().to_owned()),
            )
            .finish_non_exhaustive()
    }
}

/// Yields the model to serve under one name. Called from a dedicated thread, never on the
/// server's async workers, so implementations may block (open a database, read a file).
pub trait ModelSource: Send + Sync + fmt::Debug {
    /// What the source reads, for logs (`churn@production`, `models/churn.mlship`).
    fn describe(&self) -> String;

    /// The version that should be served now.
    fn resolve(&self) -> mlship_core::Result<VersionId>;

    /// Loads and verifies `version`.
    fn load(&self, version: &VersionId) -> mlship_core::Result<ServedModel>;
}
