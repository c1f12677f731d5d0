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
    /// A parameter has a value outside its range.
    #[error("invalid {param} = {value}: expected {expected}")]
    Invalid {
        /// The parameter.
        param: String,
        /// Its value, as given.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// Rows cannot be split as asked.
    #[error("cannot split the rows: {0}")]
    Split(String),
    /// A pipeline specification is malformed or names what does not exist.
    #[error("{origin}: {detail}")]
    Spec {
        /// Where the specification came from (a file name, or `pipeline spec`).
        origin: String,
        /// What is wrong, with a hint where one helps.
        detail: String,
    },
    /// A column transformer could not be fitted or applied.
    #[error(transparent)]
    Transform(#[from] crate::transform::TransformError),
    /// A column transformer failed on one row of the input.
    #[error("row {row}: {source}")]
    Row {
        /// The row, counted from 0.
        row: usize,
        /// What went wrong.
        #[source]
        source: crate::transform::TransformError,
    },
    /// An error from mlship-core.
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
}

impl PreprocessError {
    /// Counts the rows this error names from `offset`, for a batch that is one slice of a
    /// larger input.
    #[must_use]
    pub fn offset_rows(self, offset: usize) -> Self {
        match self {
            Self::Row { row, source } => Self::Row {
                row: row + offset,
                source,
            },
            Self::Core(e) => Self::Core(e.offset_rows(offset)),
            other => other,
        }
    }
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
