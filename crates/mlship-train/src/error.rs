//! Errors of the estimators.

/// What went wrong while fitting, predicting or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A parameter is outside its allowed range:
    /// `invalid l1_ratio = 1.3: expected a value in [0, 1]`.
    #[error("invalid {param} = {value}: expected {expected}")]
    Invalid {
        /// The parameter's name as the user spells it.
        param: String,
        /// The offending value, as given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A feature value is missing or infinite where the estimator needs finite numbers.
    #[error(
        "feature {feature:?} row {row}: {value} is not a finite number\nhint: imputation is the pipeline's job; add an imputer before this model"
    )]
    NonFinite {
        /// The feature's name.
        feature: String,
        /// The row within the data handed to the estimator.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// The data cannot be fitted as given (task, target, shape), described for a person.
    #[error("{0}")]
    Data(String),
    /// A stored model failed validation on load.
    #[error("invalid stored model: {0}")]
    Corrupt(String),
    /// A model specification could not be read.
    #[error("invalid model specification: {0}")]
    Spec(String),
    /// An error from mlship-core.
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
}

/// The crate's result type.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

impl TrainError {
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

    /// Data that cannot be fitted.
    pub fn data(message: impl Into<String>) -> Self {
        Self::Data(message.into())
    }
}

impl From<TrainError> for mlship_core::Error {
    fn from(e: TrainError) -> Self {
        match e {
            TrainError::Core(e) => e,
            TrainError::Invalid {
                param,
                value,
                expected,
            } => Self::InvalidParam {
                param,
                value,
                expected,
            },
            e @ (TrainError::NonFinite { .. } | TrainError::Data(_)) => {
                Self::InvalidData(e.to_string())
            }
            e @ (TrainError::Corrupt(_) | TrainError::Spec(_)) => Self::Other(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value_and_convert_to_core() {
        let e = TrainError::invalid("l1_ratio", 1.3, "a value in [0, 1]");
        assert_eq!(
            e.to_string(),
            "invalid l1_ratio = 1.3: expected a value in [0, 1]"
        );
        let core: mlship_core::Error = e.into();
        assert!(matches!(core, mlship_core::Error::InvalidParam { .. }));
        let e = TrainError::NonFinite {
            feature: "bmi".into(),
            row: 3,
            value: f64::NAN,
        };
        assert!(
            e.to_string().starts_with("feature \"bmi\" row 3: NaN"),
            "{e}"
        );
    }
}
