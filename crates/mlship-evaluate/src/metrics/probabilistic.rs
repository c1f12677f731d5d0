//! Probabilistic losses: log loss and Brier score.

use super::check;
use crate::{EvaluateError, Result};

fn check_proba(name: &str, p: &[f64]) -> Result<()> {
    check::finite(name, p)?;
    if let Some(i) = p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(EvaluateError::invalid_input(format!(
            "{name}[{i}] = {}: expected a probability in [0, 1]",
            p[i]
        )));
    }
    Ok(())
}

/// Log loss (scikit-learn's `log_loss(labels=range(n_classes))`): `y_proba` is row-major
/// `n_samples × n_classes`, or with `n_classes = 2` it may also be the positive-class column
/// alone (length `n_samples`). As scikit-learn 1.9, probabilities are clipped to
/// `[ε, 1 − ε]` with ε = `f64::EPSILON` and rows are not renormalised (scikit-learn only
/// warns when they do not sum to one).
pub fn log_loss(
    y_true: &[f64],
    y_proba: &[f64],
    n_classes: usize,
    sample_weight: Option<&[f64]>,
    normalize: bool,
) -> Result<f64> {
    check::non_empty("y_true", y_true)?;
    if n_classes < 2 {
        return Err(EvaluateError::invalid_param(
            "n_classes",
            n_classes,
            "at least 2 classes",
        ));
    }
    let n = y_true.len();
    let one_column = n_classes == 2 && y_proba.len() == n;
    if !one_column && y_proba.len() != n * n_classes {
        return Err(EvaluateError::invalid_input(format!(
            "y_proba has {} entries: expected n_samples × n_classes = {n} × {n_classes}",
            y_proba.len()
        )));
    }
    check_proba("y_proba", y_proba)?;
    check::weights(sample_weight, n)?;
    let y = check::labels("y_true", y_true)?;
    if let Some(i) = y.iter().position(|&c| c >= n_classes) {
        return Err(EvaluateError::invalid_input(format!(
            "y_true[{i}] = {}: expected a class index below n_classes = {n_classes}",
            y[i]
        )));
    }
    let eps = f64::EPSILON;
    let losses = y.iter().enumerate().map(|(i, &c)| {
        let p = if one_column {
            if c == 1 { y_proba[i] } else { 1.0 - y_proba[i] }
        } else {
            y_proba[i * n_classes + c]
        };
        -p.clamp(eps, 1.0 - eps).ln()
    });
    if normalize {
        Ok(check::average(losses, sample_weight))
    } else {
        Ok(match sample_weight {
            None => losses.sum(),
            Some(w) => losses.zip(w).map(|(l, w)| l * w).sum(),
        })
    }
}

/// Brier score of a binary target (scikit-learn's `brier_score_loss` with binary `y_true`,
/// `pos_label=1`): the weighted mean of `(y − p)²` with `y_proba` the class-1 probability.
pub fn brier_score_loss(
    y_true: &[f64],
    y_proba: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    check::non_empty("y_true", y_true)?;
    check::same_len("y_proba", y_proba, y_true.len(), "y_true")?;
    check_proba("y_proba", y_proba)?;
    check::weights(sample_weight, y_true.len())?;
    if let Some(i) = y_true.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(EvaluateError::invalid_input(format!(
            "y_true[{i}] = {}: expected a binary class index, 0 or 1",
            y_true[i]
        )));
    }
    Ok(check::average(
        y_true.iter().zip(y_proba).map(|(y, p)| (y - p) * (y - p)),
        sample_weight,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_loss_clips_to_machine_epsilon() {
        let v = log_loss(&[1.0], &[0.0], 2, None, true).unwrap();
        assert_eq!(v, -f64::EPSILON.ln());
        let v = log_loss(&[0.0, 1.0], &[1.0, 0.0, 0.0, 1.0], 2, None, true).unwrap();
        assert_eq!(v, -(1.0 - f64::EPSILON).ln());
    }

    #[test]
    fn log_loss_checks_shapes_and_values() {
        let e = log_loss(&[0.0, 1.0], &[0.5; 3], 2, None, true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "y_proba has 3 entries: expected n_samples × n_classes = 2 × 2"
        );
        let e = log_loss(&[0.0], &[1.5], 2, None, true)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "y_proba[0] = 1.5: expected a probability in [0, 1]");
        let e = log_loss(&[3.0], &[0.2, 0.3, 0.5], 3, None, true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "y_true[0] = 3: expected a class index below n_classes = 3"
        );
    }

    #[test]
    fn brier_is_mean_squared_error_of_probabilities() {
        assert_eq!(
            brier_score_loss(&[0.0, 1.0], &[0.5, 1.0], None).unwrap(),
            0.125
        );
    }
}
