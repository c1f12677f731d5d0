//! The monitor's error type.

/// What can go wrong while computing drift statistics.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// A sample or frequency vector that must hold values is empty.
    #[error("{what} is empty: expected at least one value")]
    Empty {
        /// The argument or column at fault (e.g. "reference of column age").
        what: String,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("{what} holds a non-finite value {value} at position {index}: expected finite values")]
    NonFinite {
        /// The argument or column at fault.
        what: String,
        /// Where the value sits.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A frequency is negative, or all frequencies are zero.
    #[error("{what} has invalid frequencies: {detail}")]
    BadFrequencies {
        /// The argument or column at fault.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// Two vectors that must be aligned have different lengths.
    #[error("{what}: lengths differ ({left} vs {right}): expected aligned vectors")]
    LengthMismatch {
        /// The arguments at fault.
        what: String,
        /// The first length.
        left: usize,
        /// The second length.
        right: usize,
    },
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
    /// A test does not apply to the data given (e.g. a z-test on a column with three levels).
    #[error("{test} does not apply to column {column}: {detail}")]
    NotApplicable {
        /// The test's name.
        test: String,
        /// The column.
        column: String,
        /// Why not.
        detail: String,
    },
    /// An alert-rules file is not valid TOML or does not match the rule format.
    #[error("invalid alert rules: {detail}; see docs/monitoring.md for the rule format")]
    RulesFile {
        /// The parser's message (it names the key and line).
        detail: String,
    },
    /// One alert rule has an invalid value.
    #[error("alert rule {rule}: invalid {key}: {detail}")]
    Rule {
        /// The rule's name (or its position when it has none).
        rule: String,
        /// The key at fault.
        key: String,
        /// What is wrong and what would be accepted.
        detail: String,
    },
    /// An alert could not be written to its output.
    #[error("cannot write alerts to {target}: {detail}")]
    Output {
        /// The output (a file path or "stdout").
        target: String,
        /// The underlying error.
        detail: String,
    },
    /// A sketch could not answer a question.
    #[error(transparent)]
    Sketch(#[from] mlship_core::sketch::SketchError),
}

impl From<MonitorError> for mlship_core::Error {
    fn from(err: MonitorError) -> Self {
        match err {
            MonitorError::Invalid {
                param,
                value,
                expected,
            } => mlship_core::Error::InvalidParam {
                param,
                value,
                expected,
            },
            MonitorError::NotApplicable { .. } => mlship_core::Error::Unsupported(err.to_string()),
            other => mlship_core::Error::InvalidData(other.to_string()),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = MonitorError> = std::result::Result<T, E>;

/// Checks that `values` is non-empty and finite; `what` names the argument or column.
pub(crate) fn check_sample(what: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(MonitorError::Empty { what: what.into() });
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(MonitorError::NonFinite {
            what: what.into(),
            index,
            value,
        });
    }
    Ok(())
}

/// Checks that every value of `values` (which may be empty) is finite; `what` names the argument.
pub(crate) fn check_finite(what: &str, values: &[f64]) -> Result<()> {
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(MonitorError::NonFinite {
            what: what.into(),
            index,
            value,
        });
    }
    Ok(())
}

impl MonitorError {
    /// The same error with the argument it names qualified by `column` ("reference" becomes
    /// "reference of column age").
    pub fn in_column(self, column: &str) -> Self {
        let qualify = |what: String| format!("{what} of column {column}");
        match self {
            Self::Empty { what } => Self::Empty {
                what: qualify(what),
            },
            Self::NonFinite { what, index, value } => Self::NonFinite {
                what: qualify(what),
                index,
                value,
            },
            Self::BadFrequencies { what, detail } => Self::BadFrequencies {
                what: qualify(what),
                detail,
            },
            Self::LengthMismatch { what, left, right } => Self::LengthMismatch {
                what: qualify(what),
                left,
                right,
            },
            other => other,
        }
    }
}
