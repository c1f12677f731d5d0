//! Conventions shared by every estimator's parameters.
//!
//! Each estimator has an `XParams` struct: serde with `deny_unknown_fields`, whose `Default` is
//! the one source of defaults, and whose `validate()` returns the validated estimator (which
//! implements `mlship_core::traits::Estimator`). The checks below give the one structured
//! parameter error, [`TrainError::Invalid`].

use crate::error::{Result, TrainError};

/// Checks that `value` is finite and `> 0` (or `>= 0` when `allow_zero`).
pub fn positive(param: &str, value: f64, allow_zero: bool) -> Result<()> {
    let ok = value.is_finite() && (value > 0.0 || (allow_zero && value == 0.0));
    if ok {
        Ok(())
    } else if allow_zero {
        Err(TrainError::invalid(param, value, "a finite number >= 0"))
    } else {
        Err(TrainError::invalid(param, value, "a finite number > 0"))
    }
}

/// Checks that `value` lies in `[lo, hi]`.
pub fn in_range(param: &str, value: f64, lo: f64, hi: f64) -> Result<()> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(TrainError::invalid(
            param,
            value,
            format!("a value in [{lo}, {hi}]"),
        ))
    }
}

/// Checks that an integer count is at least `min`.
pub fn at_least(param: &str, value: usize, min: usize) -> Result<()> {
    if value >= min {
        Ok(())
    } else {
        Err(TrainError::invalid(
            param,
            value,
            format!("an integer >= {min}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_parameter_and_range() {
        assert!(positive("alpha", 0.0, true).is_ok());
        assert_eq!(
            positive("C", 0.0, false).unwrap_err().to_string(),
            "invalid C = 0: expected a finite number > 0"
        );
        assert_eq!(
            in_range("l1_ratio", 1.3, 0.0, 1.0).unwrap_err().to_string(),
            "invalid l1_ratio = 1.3: expected a value in [0, 1]"
        );
        assert!(in_range("l1_ratio", f64::NAN, 0.0, 1.0).is_err());
        assert!(at_least("max_iter", 0, 1).is_err());
    }
}
