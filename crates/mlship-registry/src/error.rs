//! The registry's error: one category per way an operation can fail, naming the model, version,
//! alias or artifact at fault.

use std::path::PathBuf;

use mlship_core::bundle::BundleError;

/// The registry's result type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// What went wrong in a registry operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// An error from mlship-core (an invalid manifest, …).
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
    /// A bundle could not be read or failed its checksum.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A model, alias or tag name breaks the naming rules.
    #[error("invalid {what} {value:?}: {reason}\nhint: {hint}")]
    InvalidName {
        /// What the name names: `model name`, `alias`, `tag key`, …
        what: &'static str,
        /// The name as given (control characters escaped by `{:?}`).
        value: String,
        /// What is wrong with it.
        reason: String,
        /// What would be accepted.
        hint: &'static str,
    },
    /// A model URI could not be parsed.
    #[error(
        "invalid model {uri:?}: {reason}\n\
         hint: give a bundle file (model.mlship), NAME@ALIAS, NAME/VERSION or NAME@latest"
    )]
    InvalidUri {
        /// The text given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No model of that name is registered.
    #[error(
        "model {name:?} is not registered\nhint: `mlship registry list` shows the registered models"
    )]
    ModelNotFound {
        /// The name looked up.
        name: String,
    },
    /// The model has no version of that number (never had one, or it was deleted).
    #[error(
        "version {model}/{version} does not exist\nhint: `mlship registry versions {model}` lists its versions"
    )]
    VersionNotFound {
        /// The model.
        model: String,
        /// The version number looked up.
        version: u64,
    },
    /// The model has no alias of that name.
    #[error(
        "model {model:?} has no alias {alias:?}\nhint: `mlship registry show {model}` lists its aliases"
    )]
    AliasNotFound {
        /// The model.
        model: String,
        /// The alias looked up.
        alias: String,
    },
    /// The model has no versions at all, so `@latest` means nothing.
    #[error(
        "model {model:?} has no active version\nhint: register one with `mlship register FILE --name {model}`"
    )]
    NoVersions {
        /// The model.
        model: String,
    },
    /// An alias moved between reading it and moving it (compare-and-set failed).
    #[error(
        "alias {model}@{alias} changed meanwhile: expected it at {expected}, found it at {found}\n\
         hint: look at `mlship registry history {model}` and try again"
    )]
    Conflict {
        /// The model.
        model: String,
        /// The alias.
        alias: String,
        /// Where the caller believed it pointed (`none` when unset).
        expected: String,
        /// Where it pointed.
        found: String,
    },
    /// A version cannot be deleted or archived while aliases point at it.
    #[error(
        "cannot {op} {model}/{version}: alias {aliases} points at it\n\
         hint: move or remove the alias first (`mlship registry alias {model} ALIAS --remove`)"
    )]
    InUse {
        /// What was refused: `delete` or `archive`.
        op: &'static str,
        /// The model.
        model: String,
        /// The version.
        version: u64,
        /// The aliases pointing at it, comma-separated.
        aliases: String,
    },
    /// An archived version cannot take an alias.
    #[error(
        "{model}/{version} is archived: an alias cannot point at it\n\
         hint: pick an active version (`mlship registry versions {model}`)"
    )]
    Archived {
        /// The model.
        model: String,
        /// The version.
        version: u64,
    },
    /// Rollback found no earlier version for the alias.
    #[error(
        "nothing to roll back: alias {model}@{alias} {reason}\n\
         hint: `mlship registry history {model}` shows its moves"
    )]
    NothingToRollBack {
        /// The model.
        model: String,
        /// The alias.
        alias: String,
        /// Why: `was never moved`, `had no version before …`.
        reason: String,
    },
    /// Something of that name already exists.
    #[error("{what} {name:?} already exists\nhint: {hint}")]
    AlreadyExists {
        /// What: `model`, `run`.
        what: &'static str,
        /// Its name.
        name: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// An artifact's bytes no longer hash to its address: it was modified or corrupted.
    #[error(
        "artifact sha256:{hash} is corrupted: its bytes hash to sha256:{computed}{}\n\
         hint: restore it from a backup or an export; `mlship registry verify --all` checks every artifact",
        at_location(.location)
    )]
    Tampered {
        /// The address (expected SHA-256, hex).
        hash: String,
        /// The SHA-256 of the bytes found, hex.
        computed: String,
        /// Where it is stored (a file or a table).
        location: String,
    },
    /// An artifact a version refers to is missing.
    #[error(
        "artifact sha256:{hash} is missing{}\n\
         hint: restore it from a backup or an export; `mlship registry verify --all` checks every artifact",
        at_location(.location)
    )]
    ArtifactMissing {
        /// The address (SHA-256, hex).
        hash: String,
        /// Where it was looked for.
        location: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {op} {}: {source}", .path.display())]
    Io {
        /// What was attempted: `read`, `write`, `create`, …
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The database refused or failed an operation.
    #[error("{store} registry at {location}: {message}")]
    Database {
        /// `SQLite` or `PostgreSQL`.
        store: &'static str,
        /// The database file or server (without a password).
        location: String,
        /// The database's message.
        message: String,
    },
    /// The registry's schema is newer than this build knows.
    #[error(
        "the registry at {location} has schema version {found}, newer than this build reads ({supported})\n\
         hint: upgrade mlship"
    )]
    SchemaTooNew {
        /// The database.
        location: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A search query could not be parsed.
    #[error(
        "invalid search query {query:?}: {reason}\n\
         hint: combine terms such as `churn`, `name=churn`, `tag.team=risk`, `metrics.roc_auc > 0.9`, `status=active`"
    )]
    InvalidQuery {
        /// The query.
        query: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Input that is well-formed but not acceptable (an export file of another kind, …).
    #[error("{0}")]
    Invalid(String),
}

fn at_location(location: &str) -> String {
    if location.is_empty() {
        String::new()
    } else {
        format!(" (at {location})")
    }
}

impl RegistryError {
    /// An I/O error naming the file.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
