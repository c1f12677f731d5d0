//! Input validation shared by the metrics.

use crate::{EvaluateError, Result};

/// Fails when `values` is empty.
pub(crate) fn non_empty(name: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(EvaluateError::invalid_input(format!(
            "{name} is empty: expected at least one sample"
        )));
    }
    Ok(())
}

/// Fails when `values` does not hold `expected` entries.
pub(crate) fn same_len(name: &str, values: &[f64], expected: usize, of: &str) -> Result<()> {
    if values.len() != expected {
        return Err(EvaluateError::invalid_input(format!(
            "{name} has {} entries but {of} has {expected}: expected one per sample",
            values.len()
        )));
    }
    Ok(())
}

/// Fails on the first NaN or infinite value.
pub(crate) fn finite(name: &str, values: &[f64]) -> Result<()> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(EvaluateError::invalid_input(format!(
            "{name}[{i}] = {}: expected a finite number",
            values[i]
        )));
    }
    Ok(())
}

/// Checks sample weights against `n` samples: finite, non-negative, not all zero.
pub(crate) fn weights(sample_weight: Option<&[f64]>, n: usize) -> Result<()> {
    let Some(w) = sample_weight else {
        return Ok(());
    };
    same_len("sample_weight", w, n, "y_true")?;
    if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(EvaluateError::invalid_input(format!(
            "sample_weight[{i}] = {}: expected a finite, non-negative weight",
            w[i]
        )));
    }
    if w.iter().all(|v| *v == 0.0) {
        return Err(EvaluateError::invalid_input(
            "sample_weight is zero everywhere: expected at least one positive weight",
        ));
    }
    Ok(())
}

/// Converts class indices stored as `f64` into `usize`.
pub(crate) fn labels(name: &str, values: &[f64]) -> Result<Vec<usize>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < f64::from(u32::MAX) {
                Ok(v as usize)
            } else {
                Err(EvaluateError::invalid_input(format!(
                    "{name}[{i}] = {v}: expected a class index (0, 1, 2, …)"
                )))
            }
        })
        .collect()
}

/// The weight of sample `i` (1 without weights).
#[inline]
pub(crate) fn w_at(sample_weight: Option<&[f64]>, i: usize) -> f64 {
    sample_weight.map_or(1.0, |w| w[i])
}

/// Weighted mean as numpy's `average`: `sum(w * x) / sum(w)`, or the plain mean.
pub(crate) fn average(values: impl Iterator<Item = f64>, sample_weight: Option<&[f64]>) -> f64 {
    match sample_weight {
        None => {
            let (mut s, mut n) = (0.0, 0usize);
            for v in values {
                s += v;
                n += 1;
            }
            s / n as f64
        }
        Some(w) => {
            let mut s = 0.0;
            for (v, wi) in values.zip(w) {
                s += v * wi;
            }
            s / w.iter().sum::<f64>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<impl std::fmt::Debug>) -> String {
        r.map_or_else(|e| e.to_string(), |v| format!("ok {v:?}"))
    }

    #[test]
    fn errors_name_the_argument_and_position() {
        assert_eq!(
            msg(finite("y_score", &[0.1, f64::NAN])),
            "y_score[1] = NaN: expected a finite number"
        );
        assert_eq!(
            msg(labels("y_true", &[0.0, 1.5])),
            "y_true[1] = 1.5: expected a class index (0, 1, 2, …)"
        );
        assert_eq!(
            msg(labels("y_pred", &[-1.0])),
            "y_pred[0] = -1: expected a class index (0, 1, 2, …)"
        );
        assert_eq!(
            msg(weights(Some(&[1.0, -2.0]), 2)),
            "sample_weight[1] = -2: expected a finite, non-negative weight"
        );
        assert_eq!(
            msg(weights(Some(&[0.0, 0.0]), 2)),
            "sample_weight is zero everywhere: expected at least one positive weight"
        );
        assert_eq!(
            msg(weights(Some(&[1.0]), 2)),
            "sample_weight has 1 entries but y_true has 2: expected one per sample"
        );
        assert_eq!(
            msg(non_empty("y_true", &[])),
            "y_true is empty: expected at least one sample"
        );
    }

    #[test]
    fn average_is_numpy_average() {
        assert_eq!(average([1.0, 3.0].into_iter(), None), 2.0);
        assert_eq!(average([1.0, 3.0].into_iter(), Some(&[3.0, 1.0])), 1.5);
    }
}
