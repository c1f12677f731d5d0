//! Errors of fitting and applying column transformers.

/// What went wrong while fitting or applying a column transformer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TransformError {
    /// A parameter is out of its range.
    #[error("invalid {param} = {value}: expected {expected}")]
    Invalid {
        /// The parameter's name.
        param: &'static str,
        /// The value given, as written by a person.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// Every value of a column is missing, so no statistic can be learned from it.
    #[error(
        "column {column:?}: all {n_rows} values are missing at fit, nothing to learn {what} from\nhint: drop the column, or impute it with a constant"
    )]
    AllMissing {
        /// The column at fault.
        column: String,
        /// Its number of rows.
        n_rows: usize,
        /// What was to be learned (`"a mean"`, `"categories"`, …).
        what: &'static str,
    },
    /// A category not seen at fit, under the `error` unknown policy.
    #[error(
        "column {column:?}: unknown level {level:?} (not seen at fit)\nhint: refit on data that contains it, or choose handle_unknown = \"ignore\""
    )]
    UnknownLevel {
        /// The column at fault.
        column: String,
        /// The level, `null` for a missing value.
        level: String,
    },
    /// A value that is not a finite number where one is needed.
    #[error(
        "column {column:?}, row {row}: value {value} is not finite\nhint: replace infinities before fitting"
    )]
    NonFinite {
        /// The column at fault.
        column: String,
        /// The row (0-based).
        row: usize,
        /// The value.
        value: f64,
    },
    /// A target value that is not a valid class index or number.
    #[error("column {column:?}: target row {row} holds {value}, {expected}")]
    BadTarget {
        /// The column being encoded.
        column: String,
        /// The row (0-based).
        row: usize,
        /// The value.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// Two inputs that must have the same length do not.
    #[error("column {column:?}: {what} has length {got}, expected {expected}")]
    Length {
        /// The column being processed.
        column: String,
        /// Which input has the wrong length.
        what: &'static str,
        /// The length expected.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A cross-fitting fold assignment that cannot be used.
    #[error(
        "column {column:?}: fold {fold} {detail}\nhint: give every row a fold id in 0..k with k >= 2 and every fold non-empty"
    )]
    Folds {
        /// The column being encoded.
        column: String,
        /// The fold at fault.
        fold: usize,
        /// What is wrong with it.
        detail: &'static str,
    },
}

impl TransformError {
    /// An [`TransformError::Invalid`] parameter error.
    pub(crate) fn invalid(
        param: &'static str,
        value: impl std::fmt::Display,
        expected: &'static str,
    ) -> Self {
        Self::Invalid {
            param,
            value: value.to_string(),
            expected,
        }
    }

    /// A [`TransformError::Length`] error if `got != expected`.
    pub(crate) fn check_len(
        column: &str,
        what: &'static str,
        expected: usize,
        got: usize,
    ) -> Result<(), Self> {
        if expected == got {
            Ok(())
        } else {
            Err(Self::Length {
                column: column.to_owned(),
                what,
                expected,
                got,
            })
        }
    }
}
