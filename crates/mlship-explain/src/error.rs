//! The explain crate's error type.

/// What can go wrong while explaining a model.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// A parameter is outside its allowed range.
    #[error("invalid {param} = {value}: expected {expected}")]
    Invalid {
        /// The parameter's name.
        param: String,
        /// The offending value.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// Inputs whose shapes must agree do not.
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// The argument at fault.
        what: String,
        /// The expected size.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A column named by the caller is not in the data.
    #[error("unknown column {column:?}\nhint: the data has columns {available}")]
    UnknownColumn {
        /// The name given.
        column: String,
        /// The columns that exist, comma separated.
        available: String,
    },
    /// A group of a sensitive column is too small for the statistic asked for.
    #[error(
        "group {group:?} of column {column:?} has {rows} row(s): at least {needed} are needed\n\
         hint: merge rare groups or use more data"
    )]
    SmallGroup {
        /// The sensitive column.
        column: String,
        /// The group's value.
        group: String,
        /// The rows it holds.
        rows: usize,
        /// The minimum needed.
        needed: usize,
    },
    /// A metric needs class probabilities and the model gives none.
    #[error(
        "metric {metric} needs class probabilities, but the model gives none\n\
         hint: choose a metric on predicted labels or values, such as accuracy"
    )]
    NoProbabilities {
        /// The metric asked for.
        metric: String,
    },
    /// Data values are unusable (non-finite, empty, …).
    #[error("{0}")]
    Data(String),
    /// The operation does not apply to this model or data.
    #[error("{0}")]
    Unsupported(String),
    /// The model or another component failed.
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
}

impl ExplainError {
    /// An out-of-range parameter.
    pub fn invalid(
        param: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            param: param.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// Mismatched sizes.
    pub fn shape(what: impl Into<String>, expected: usize, found: usize) -> Self {
        Self::Shape {
            what: what.into(),
            expected,
            found,
        }
    }
}

impl From<ExplainError> for mlship_core::Error {
    fn from(err: ExplainError) -> Self {
        match err {
            ExplainError::Invalid {
                param,
                value,
                expected,
            } => mlship_core::Error::InvalidParam {
                param,
                value,
                expected,
            },
            ExplainError::Core(e) => e,
            ExplainError::Unsupported(_) | ExplainError::NoProbabilities { .. } => {
                mlship_core::Error::Unsupported(err.to_string())
            }
            other => mlship_core::Error::InvalidData(other.to_string()),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = ExplainError> = std::result::Result<T, E>;
