//! The error categories shared at crate seams.
//!
//! Each lifecycle crate has its own `thiserror` enum and converts into [`Error`] where it hands
//! a result to another crate. Messages are lower case, name the column, row, file, parameter or
//! version at fault, and put a hint on its own line where one helps.

use std::path::PathBuf;

use crate::schema::ValidationReport;

/// The result type used across mlship's crate seams.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, by category.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("reading", "writing", …).
        action: &'static str,
        /// The file or folder at fault.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Input data does not match the schema a model expects.
    #[error("{0}")]
    Schema(#[from] ValidationReport),
    /// A parameter is outside its allowed range.
    #[error("invalid {param} = {value}: expected {expected}")]
    InvalidParam {
        /// The parameter's name as the user spells it.
        param: String,
        /// The offending value, as given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// Input data is malformed in a way the schema cannot express (shape, length, values).
    #[error("{0}")]
    InvalidData(String),
    /// The operation is not offered by this model or component.
    #[error("{0}")]
    Unsupported(String),
    /// A bundle or another stored artifact could not be read.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// Work stopped because its deadline passed or it was cancelled.
    #[error("stopped before finishing: {0}")]
    Stopped(String),
    /// Any other failure, described for a person.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Counts the rows a validation report names from `offset`, for a batch that is one slice
    /// of a larger input; other errors are returned unchanged.
    #[must_use]
    pub fn offset_rows(self, offset: usize) -> Self {
        match self {
            Self::Schema(mut report) => {
                report.offset_rows(offset);
                Self::Schema(report)
            }
            other => other,
        }
    }

    /// An I/O error that names the file at fault.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An out-of-range parameter: `invalid l1_ratio = 1.3: expected a value in [0, 1]`.
    pub fn invalid_param(
        param: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Self::InvalidParam {
            param: param.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// Malformed data, described for a person.
    pub fn invalid_data(message: impl Into<String>) -> Self {
        Self::InvalidData(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_param_message_names_param_value_and_range() {
        let e = Error::invalid_param("l1_ratio", 1.3, "a value in [0, 1]");
        assert_eq!(
            e.to_string(),
            "invalid l1_ratio = 1.3: expected a value in [0, 1]"
        );
    }

    #[test]
    fn io_error_names_the_path() {
        let e = Error::io(
            "reading",
            "/data/x.csv",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        );
        assert_eq!(e.to_string(), "reading /data/x.csv: no such file");
    }
}
