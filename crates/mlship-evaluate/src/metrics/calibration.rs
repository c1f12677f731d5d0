//! Calibration curve.

use super::check;
use crate::{EvaluateError, Result};

/// How a calibration curve bins probabilities (scikit-learn's `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinStrategy {
    /// Equal-width bins over [0, 1] (scikit-learn's default).
    #[default]
    Uniform,
    /// Bins with equal numbers of samples, at numpy's linear percentiles.
    Quantile,
}

/// A calibration (reliability) curve over the non-empty bins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CalibrationCurve {
    /// Share of positives per non-empty bin.
    pub prob_true: Vec<f64>,
    /// Mean predicted probability per non-empty bin.
    pub prob_pred: Vec<f64>,
}

/// numpy's `percentile(x, q * 100)` with the default linear method, on sorted `x`.
fn percentile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let h = q * (n - 1) as f64;
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Calibration curve of a binary target (scikit-learn's `calibration_curve`, `pos_label=1`,
/// default `n_bins=5`); scikit-learn takes no sample weights here.
pub fn calibration_curve(
    y_true: &[f64],
    y_prob: &[f64],
    n_bins: usize,
    strategy: BinStrategy,
) -> Result<CalibrationCurve> {
    check::non_empty("y_true", y_true)?;
    check::same_len("y_prob", y_prob, y_true.len(), "y_true")?;
    check::finite("y_prob", y_prob)?;
    if let Some(i) = y_prob.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(EvaluateError::invalid_input(format!(
            "y_prob[{i}] = {}: expected a probability in [0, 1]",
            y_prob[i]
        )));
    }
    if let Some(i) = y_true.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(EvaluateError::invalid_input(format!(
            "y_true[{i}] = {}: expected a binary class index, 0 or 1",
            y_true[i]
        )));
    }
    if n_bins == 0 {
        return Err(EvaluateError::invalid_param(
            "n_bins",
            n_bins,
            "n_bins >= 1",
        ));
    }
    // numpy's linspace(0, 1, n_bins + 1): i * step, the last exactly 1.
    let step = 1.0 / n_bins as f64;
    let grid = |i: usize| if i == n_bins { 1.0 } else { i as f64 * step };
    let edges: Vec<f64> = match strategy {
        BinStrategy::Uniform => (1..n_bins).map(grid).collect(),
        BinStrategy::Quantile => {
            let mut sorted = y_prob.to_vec();
            sorted.sort_by(f64::total_cmp);
            (1..n_bins)
                .map(|i| percentile_linear(&sorted, grid(i) * 100.0 / 100.0))
                .collect()
        }
    };
    let mut sums = vec![0.0; n_bins];
    let mut trues = vec![0.0; n_bins];
    let mut totals = vec![0usize; n_bins];
    for (&y, &p) in y_true.iter().zip(y_prob) {
        let b = edges.partition_point(|&e| e < p);
        sums[b] += p;
        trues[b] += y;
        totals[b] += 1;
    }
    let keep = (0..n_bins).filter(|&b| totals[b] != 0);
    Ok(CalibrationCurve {
        prob_true: keep.clone().map(|b| trues[b] / totals[b] as f64).collect(),
        prob_pred: keep.map(|b| sums[b] / totals[b] as f64).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_bins_drop_empty_ones() {
        let c =
            calibration_curve(&[0.0, 1.0, 1.0], &[0.1, 0.9, 0.7], 5, BinStrategy::Uniform).unwrap();
        assert_eq!(c.prob_true, vec![0.0, 1.0, 1.0]);
        assert_eq!(c.prob_pred, vec![0.1, 0.7, 0.9]);
    }

    #[test]
    fn checks_probabilities_and_bins() {
        let e = calibration_curve(&[0.0], &[1.2], 5, BinStrategy::Uniform)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "y_prob[0] = 1.2: expected a probability in [0, 1]");
        let e = calibration_curve(&[0.0], &[0.2], 0, BinStrategy::Quantile)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "invalid n_bins = 0: expected n_bins >= 1");
    }
}
