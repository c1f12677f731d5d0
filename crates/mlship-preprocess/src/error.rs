//! Errors of reading, converting and profiling data.

use std::path::PathBuf;

/// What went wrong while reading or converting a table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreprocessError {
    /// The file does not exist.
    #[error(
        "{path}: no such file\nhint: check the path (relative paths start from the current directory)"
    )]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// A directory was given where a file was expected.
    #[error(
        "{path} is a directory, not a data file\nhint: name a .csv, .parquet or .arrow file inside it"
    )]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The file has no bytes.
    #[error(
        "{path} is empty (0 bytes)\nhint: a CSV file needs a header row and at least one data row"
    )]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// The file has columns but no rows.
    #[error(
        "{path} has a header but no data rows\nhint: there is nothing to profile or train on; check the export that wrote it"
    )]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// The extension names no format mlship reads.
    #[error(
        "{path}: cannot tell the file format from {extension:?}\nhint: mlship reads .csv, .tsv, .parquet and .arrow / .ipc / .feather files"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Its extension.
        extension: String,
    },
    /// The bytes do not form a file of the expected format.
    #[error("{path} is not a valid {format} file: {detail}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The format expected from its name.
        format: &'static str,
        /// What is wrong, for a person.
        detail: String,
    },
    /// A column cannot be used as it is.
    #[error("column {column:?}: {detail}")]
    Column {
        /// The column at fault.
        column: String,
        /// What is wrong.
        detail: String,
    },
    /// Reading or writing failed at the operating-system level.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// polars reported an error not covered above.
    #[error("{path}: {detail}")]
    Polars {
        /// The file, or a description of the frame.
        path: PathBuf,
        /// polars' message.
        detail: String,
    },
    /// A column transformer could not be fitted or applied.
    #[error(transparent)]
    Transform(#[from] crate::transform::TransformError),
    /// An error from mlship-core.
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
}

impl From<PreprocessError> for mlship_core::Error {
    fn from(e: PreprocessError) -> Self {
        match e {
            PreprocessError::Core(e) => e,
            PreprocessError::Io {
                action,
                path,
                source,
            } => Self::io(action, path, source),
            other => Self::invalid_data(other.to_string()),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = PreprocessError> = std::result::Result<T, E>;
