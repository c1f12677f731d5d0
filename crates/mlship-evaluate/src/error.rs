//! Errors of metrics and splitters.

/// What went wrong while evaluating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluateError {
    /// A parameter is outside its allowed range.
    #[error("invalid {param} = {value}: expected {expected}")]
    InvalidParam {
        /// The parameter's name.
        param: String,
        /// The offending value.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// Inputs that cannot be scored as given (lengths, values, classes), described for a person.
    #[error("{0}")]
    InvalidInput(String),
    /// An error from mlship-core.
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
}

impl EvaluateError {
    /// An out-of-range parameter.
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

    /// Inputs that cannot be scored.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }
}

impl From<EvaluateError> for mlship_core::Error {
    fn from(e: EvaluateError) -> Self {
        match e {
            EvaluateError::Core(e) => e,
            EvaluateError::InvalidParam {
                param,
                value,
                expected,
            } => Self::InvalidParam {
                param,
                value,
                expected,
            },
            EvaluateError::InvalidInput(m) => Self::InvalidData(m),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = EvaluateError> = std::result::Result<T, E>;
