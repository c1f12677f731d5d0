//! Probability calibration and decision-threshold tuning for binary classifiers.
//!
//! - [`Calibrator`]: isotonic or sigmoid (Platt) calibration of scores, fitted on out-of-fold
//!   predictions as scikit-learn's `CalibratedClassifierCV` does, and stored in model bundles.
//! - [`tune_threshold`]: the score cut that maximises a [`ThresholdMetric`].
//!
//! Parity with scikit-learn 1.9.1 is checked against `tests/fixtures/calibration.json`, made by
//! `tests/fixtures/make_calibration.py`.

use serde::{Deserialize, Serialize};

use crate::{EvaluateError, Result};

/// How scores are mapped to probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    /// A non-decreasing step-linear map (pool adjacent violators), as scikit-learn's
    /// `IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)`.
    Isotonic,
    /// Platt's sigmoid `1 / (1 + exp(a·f + b))`, as scikit-learn's `_sigmoid_calibration`.
    Sigmoid,
}

/// A fitted calibration map from a classifier's score to the probability of the positive class.
///
/// Deserialisation validates the state (finite numbers, strictly increasing `thresholds_x`,
/// non-decreasing `thresholds_y` in `[0, 1]`, equal lengths), since a calibrator travels in
/// model bundles that may come from anywhere.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", try_from = "RawCalibrator")]
pub enum Calibrator {
    /// Linear interpolation between the thresholds, clipped to the first and last value outside.
    Isotonic {
        /// Scores at the knots, strictly increasing.
        thresholds_x: Vec<f64>,
        /// Calibrated probabilities at the knots, non-decreasing, in `[0, 1]`.
        thresholds_y: Vec<f64>,
    },
    /// `1 / (1 + exp(a·score + b))`.
    Sigmoid {
        /// The slope (negative when higher scores mean the positive class).
        a: f64,
        /// The intercept.
        b: f64,
    },
}

/// The unchecked serialised form of [`Calibrator`].
#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
enum RawCalibrator {
    Isotonic {
        thresholds_x: Vec<f64>,
        thresholds_y: Vec<f64>,
    },
    Sigmoid {
        a: f64,
        b: f64,
    },
}

impl TryFrom<RawCalibrator> for Calibrator {
    type Error = EvaluateError;

    fn try_from(raw: RawCalibrator) -> Result<Self> {
        match raw {
            RawCalibrator::Sigmoid { a, b } => {
                if !a.is_finite() {
                    return Err(EvaluateError::invalid_param("a", a, "a finite number"));
                }
                if !b.is_finite() {
                    return Err(EvaluateError::invalid_param("b", b, "a finite number"));
                }
                Ok(Self::Sigmoid { a, b })
            }
            RawCalibrator::Isotonic {
                thresholds_x,
                thresholds_y,
            } => {
                validate_thresholds(&thresholds_x, &thresholds_y)?;
                Ok(Self::Isotonic {
                    thresholds_x,
                    thresholds_y,
                })
            }
        }
    }
}

fn validate_thresholds(x: &[f64], y: &[f64]) -> Result<()> {
    if x.is_empty() {
        return Err(EvaluateError::invalid_input(
            "thresholds_x is empty: expected at least one knot",
        ));
    }
    if x.len() != y.len() {
        return Err(EvaluateError::invalid_input(format!(
            "thresholds_y has {} entries but thresholds_x has {}: expected one per knot",
            y.len(),
            x.len()
        )));
    }
    for (i, (&xi, &yi)) in x.iter().zip(y).enumerate() {
        if !xi.is_finite() {
            return Err(EvaluateError::invalid_input(format!(
                "thresholds_x[{i}] = {xi}: expected a finite number"
            )));
        }
        if !(0.0..=1.0).contains(&yi) {
            return Err(EvaluateError::invalid_input(format!(
                "thresholds_y[{i}] = {yi}: expected a probability in [0, 1]"
            )));
        }
        if i > 0 {
            if xi <= x[i - 1] {
                return Err(EvaluateError::invalid_input(format!(
                    "thresholds_x[{i}] = {xi} is not above thresholds_x[{}] = {}: expected strictly increasing knots",
                    i - 1,
                    x[i - 1]
                )));
            }
            if yi < y[i - 1] {
                return Err(EvaluateError::invalid_input(format!(
                    "thresholds_y[{i}] = {yi} is below thresholds_y[{}] = {}: expected non-decreasing values",
                    i - 1,
                    y[i - 1]
                )));
            }
        }
    }
    Ok(())
}

/// Checks scores, labels and weights of `n` samples; returns the weights (ones when absent).
fn check_inputs(scores: &[f64], labels: &[f64], weights: Option<&[f64]>) -> Result<Vec<f64>> {
    if scores.is_empty() {
        return Err(EvaluateError::invalid_input(
            "scores is empty: expected at least one sample",
        ));
    }
    if labels.len() != scores.len() {
        return Err(EvaluateError::invalid_input(format!(
            "labels has {} entries but scores has {}: expected one per sample",
            labels.len(),
            scores.len()
        )));
    }
    if let Some(i) = scores.iter().position(|v| !v.is_finite()) {
        return Err(EvaluateError::invalid_input(format!(
            "scores[{i}] = {}: expected a finite number",
            scores[i]
        )));
    }
    if let Some(i) = labels.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(EvaluateError::invalid_input(format!(
            "labels[{i}] = {}: expected 0 or 1",
            labels[i]
        )));
    }
    let Some(w) = weights else {
        return Ok(vec![1.0; scores.len()]);
    };
    if w.len() != scores.len() {
        return Err(EvaluateError::invalid_input(format!(
            "weights has {} entries but scores has {}: expected one per sample",
            w.len(),
            scores.len()
        )));
    }
    if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(EvaluateError::invalid_input(format!(
            "weights[{i}] = {}: expected a finite, non-negative weight",
            w[i]
        )));
    }
    if w.iter().all(|v| *v == 0.0) {
        return Err(EvaluateError::invalid_input(
            "weights is zero everywhere: expected at least one positive weight",
        ));
    }
    Ok(w.to_vec())
}

impl Calibrator {
    /// Fits a calibration map on `(score, label, weight)` triples; labels are 0 or 1.
    ///
    /// # Errors
    /// When the inputs are empty, of different lengths, not finite, labels are not 0/1, or
    /// weights are negative or all zero.
    pub fn fit(
        method: CalibrationMethod,
        scores: &[f64],
        labels: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        let w = check_inputs(scores, labels, weights)?;
        Ok(match method {
            CalibrationMethod::Isotonic => {
                let (thresholds_x, thresholds_y) = fit_isotonic(scores, labels, &w);
                Self::Isotonic {
                    thresholds_x,
                    thresholds_y,
                }
            }
            CalibrationMethod::Sigmoid => {
                let (a, b) = fit_sigmoid(scores, labels, &w);
                Self::Sigmoid { a, b }
            }
        })
    }

    /// The method this calibrator was fitted with.
    #[must_use]
    pub fn method(&self) -> CalibrationMethod {
        match self {
            Self::Isotonic { .. } => CalibrationMethod::Isotonic,
            Self::Sigmoid { .. } => CalibrationMethod::Sigmoid,
        }
    }

    /// The calibrated probability of the positive class for `score` (NaN stays NaN).
    #[must_use]
    pub fn predict(&self, score: f64) -> f64 {
        match self {
            Self::Sigmoid { a, b } => expit(-(a * score + b)),
            // Weighted means of 0/1 labels can land one rounding step outside [0, 1].
            Self::Isotonic {
                thresholds_x: x,
                thresholds_y: y,
            } => interpolate(x, y, score).clamp(0.0, 1.0),
        }
    }

    /// [`predict`](Self::predict) for every score.
    #[must_use]
    pub fn predict_many(&self, scores: &[f64]) -> Vec<f64> {
        scores.iter().map(|&s| self.predict(s)).collect()
    }
}

/// The logistic function, stable for large `|z|`.
fn expit(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(z))`, stable for large `|z|`.
fn log1pexp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// scipy's `interp1d(kind="linear")` after clipping `t` to the knots' range.
fn interpolate(x: &[f64], y: &[f64], t: f64) -> f64 {
    let (Some(&first), Some(&last)) = (x.first(), x.last()) else {
        return f64::NAN;
    };
    if t.is_nan() {
        return f64::NAN;
    }
    if x.len() == 1 {
        return y[0];
    }
    let t = t.clamp(first, last);
    // numpy's searchsorted(x, t, side="left"), clipped to [1, n - 1].
    let hi = x.partition_point(|&v| v < t).clamp(1, x.len() - 1);
    let lo = hi - 1;
    let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
    slope * (t - x[lo]) + y[lo]
}

/// sklearn's `_make_unique`'s merge tolerance, `np.finfo(float64).resolution`.
const UNIQUE_EPS: f64 = 1e-15;

/// Isotonic regression of labels on scores; returns the trimmed thresholds.
fn fit_isotonic(scores: &[f64], labels: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    // Drop zero weights, then order by (score, label) as numpy's lexsort.
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| w[i] > 0.0).collect();
    order.sort_by(|&i, &j| {
        scores[i]
            .total_cmp(&scores[j])
            .then(labels[i].total_cmp(&labels[j]))
    });
    // Merge equal scores into one point with the weighted mean label (`_make_unique`).
    let mut ux: Vec<f64> = Vec::new();
    let mut uy: Vec<f64> = Vec::new();
    let mut uw: Vec<f64> = Vec::new();
    let mut current_x = f64::NAN;
    let (mut sum_wy, mut sum_w) = (0.0, 0.0);
    for &i in &order {
        let x = scores[i];
        if ux.is_empty() && sum_w == 0.0 {
            current_x = x;
        } else if x - current_x >= UNIQUE_EPS {
            ux.push(current_x);
            uy.push(sum_wy / sum_w);
            uw.push(sum_w);
            current_x = x;
            sum_wy = 0.0;
            sum_w = 0.0;
        }
        sum_w += w[i];
        sum_wy += labels[i] * w[i];
    }
    ux.push(current_x);
    uy.push(sum_wy / sum_w);
    uw.push(sum_w);

    let fitted = pava(&uy, &uw);
    let fitted: Vec<f64> = fitted.into_iter().map(|v| v.clamp(0.0, 1.0)).collect();

    // Keep the ends and every point whose value differs from a neighbour's.
    let n = fitted.len();
    let mut tx = Vec::with_capacity(n);
    let mut ty = Vec::with_capacity(n);
    for i in 0..n {
        let keep = i == 0 || i + 1 == n || fitted[i] != fitted[i - 1] || fitted[i] != fitted[i + 1];
        if keep {
            tx.push(ux[i]);
            ty.push(fitted[i]);
        }
    }
    (tx, ty)
}

/// Weighted pool adjacent violators: the non-decreasing fit of `y` with weights `w`.
fn pava(y: &[f64], w: &[f64]) -> Vec<f64> {
    // Blocks as (weighted mean, total weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(y.len());
    for (&yi, &wi) in y.iter().zip(w) {
        let mut block = (yi, wi, 1_usize);
        while let Some(&(mean, weight, len)) = blocks.last() {
            if mean < block.0 {
                break;
            }
            blocks.pop();
            let total = weight + block.1;
            block = (
                (mean * weight + block.0 * block.1) / total,
                total,
                len + block.2,
            );
        }
        blocks.push(block);
    }
    let mut out = Vec::with_capacity(y.len());
    for (mean, _, len) in blocks {
        out.extend(std::iter::repeat_n(mean, len));
    }
    out
}

/// Scores at or above this magnitude are rescaled before the sigmoid fit, as in scikit-learn.
const MAX_ABS_PREDICTION: f64 = 30.0;

/// Platt's sigmoid fit: minimises the weighted log loss of smoothed targets over `(a, b)`.
fn fit_sigmoid(scores: &[f64], labels: &[f64], w: &[f64]) -> (f64, f64) {
    let max_abs = scores.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
    let scale = if max_abs >= MAX_ABS_PREDICTION {
        max_abs
    } else {
        1.0
    };
    let f: Vec<f64> = scores.iter().map(|s| s / scale).collect();
    let (mut prior0, mut prior1) = (0.0, 0.0);
    for (&y, &wi) in labels.iter().zip(w) {
        if y > 0.0 {
            prior1 += wi;
        } else {
            prior0 += wi;
        }
    }
    let t_pos = (prior1 + 1.0) / (prior1 + 2.0);
    let t_neg = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = labels
        .iter()
        .map(|&y| if y > 0.0 { t_pos } else { t_neg })
        .collect();

    // Loss of raw prediction r = -(a·f + b): Σ w (log(1 + e^r) − t·r).
    let loss = |a: f64, b: f64| -> f64 {
        f.iter()
            .zip(&t)
            .zip(w)
            .map(|((&fi, &ti), &wi)| {
                let r = -(a * fi + b);
                wi * (log1pexp(r) - ti * r)
            })
            .sum()
    };
    let mut a = 0.0;
    let mut b = ((prior0 + 1.0) / (prior1 + 1.0)).ln();
    let mut current = loss(a, b);
    for _ in 0..200 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for ((&fi, &ti), &wi) in f.iter().zip(&t).zip(w) {
            let p = expit(-(a * fi + b));
            let d = wi * (p - ti);
            ga -= d * fi;
            gb -= d;
            let h = wi * p * (1.0 - p);
            haa += h * fi * fi;
            hab += h * fi;
            hbb += h;
        }
        if ga.abs().max(gb.abs()) <= 1e-13 * (1.0 + current.abs()) {
            break;
        }
        let det = haa * hbb - hab * hab;
        let trace = haa + hbb;
        if trace <= 0.0 {
            break;
        }
        // Newton step; when the Hessian is singular (constant scores) the pseudo-inverse
        // step along the gradient, which is where L-BFGS from the same start ends up.
        let (da, db) = if det > 1e-12 * trace * trace {
            (-(hbb * ga - hab * gb) / det, -(haa * gb - hab * ga) / det)
        } else {
            (-ga / trace, -gb / trace)
        };
        let slope = ga * da + gb * db;
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            let candidate = loss(a + step * da, b + step * db);
            if candidate <= current + 1e-4 * step * slope {
                a += step * da;
                b += step * db;
                current = candidate;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    (a / scale, b)
}

/// The metric a decision threshold is tuned for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMetric {
    /// `2·TP / (2·TP + FP + FN)`, 0 when there are no positives at all.
    F1,
    /// The mean of the true positive and true negative rates.
    BalancedAccuracy,
    /// The weighted share of correct predictions.
    Accuracy,
    /// Youden's J: true positive rate + true negative rate − 1.
    Youden,
}

/// The score cut that maximises `metric` for a binary classifier, and the metric's value there.
///
/// A sample is predicted positive when its score is at least the threshold. Every distinct
/// score is tried as a cut (samples with equal scores always fall on the same side), in
/// O(n log n). When several cuts reach the best value, the highest one is returned.
///
/// # Errors
/// As [`Calibrator::fit`]; also when the balanced accuracy or Youden's J is asked for and one
/// class has no weight.
pub fn tune_threshold(
    scores: &[f64],
    labels: &[f64],
    weights: Option<&[f64]>,
    metric: ThresholdMetric,
) -> Result<(f64, f64)> {
    let w = check_inputs(scores, labels, weights)?;
    let (mut pos, mut neg) = (0.0, 0.0);
    for (&y, &wi) in labels.iter().zip(&w) {
        if y > 0.0 {
            pos += wi;
        } else {
            neg += wi;
        }
    }
    if matches!(
        metric,
        ThresholdMetric::BalancedAccuracy | ThresholdMetric::Youden
    ) && (pos == 0.0 || neg == 0.0)
    {
        let missing = u8::from(pos == 0.0);
        return Err(EvaluateError::invalid_input(format!(
            "labels has no weight on class {missing}: expected both classes for {metric:?}"
        )));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
    let value = |tp: f64, fp: f64| -> f64 {
        let fn_ = pos - tp;
        let tn = neg - fp;
        match metric {
            ThresholdMetric::F1 => {
                let denom = 2.0 * tp + fp + fn_;
                if denom > 0.0 { 2.0 * tp / denom } else { 0.0 }
            }
            ThresholdMetric::Accuracy => (tp + tn) / (pos + neg),
            ThresholdMetric::BalancedAccuracy => 0.5 * (tp / pos + tn / neg),
            ThresholdMetric::Youden => tp / pos + tn / neg - 1.0,
        }
    };
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut best: Option<(f64, f64)> = None;
    let mut k = 0;
    while k < order.len() {
        let cut = scores[order[k]];
        while k < order.len() && scores[order[k]] == cut {
            let i = order[k];
            if labels[i] > 0.0 {
                tp += w[i];
            } else {
                fp += w[i];
            }
            k += 1;
        }
        let v = value(tp, fp);
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((cut, v));
        }
    }
    best.ok_or_else(|| {
        EvaluateError::invalid_input("scores is empty: expected at least one sample")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    const FIXTURES: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/calibration.json"
    ));

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= tol, "{what}[{i}]: got {g}, want {w}");
        }
    }

    #[test]
    fn parity_with_scikit_learn() {
        let fixtures: Value = serde_json::from_str(FIXTURES).unwrap();
        let cases = fixtures["cases"].as_array().unwrap();
        assert!(cases.len() >= 4);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let scores = floats(&case["scores"]);
            let labels = floats(&case["labels"]);
            let weights = case["weights"].as_array().map(|_| floats(&case["weights"]));
            let grid = floats(&case["grid"]);

            let iso = Calibrator::fit(
                CalibrationMethod::Isotonic,
                &scores,
                &labels,
                weights.as_deref(),
            )
            .unwrap();
            let Calibrator::Isotonic {
                thresholds_x,
                thresholds_y,
            } = &iso
            else {
                panic!("{name}: not isotonic");
            };
            close(
                thresholds_x,
                &floats(&case["isotonic"]["thresholds_x"]),
                1e-12,
                &format!("{name} isotonic thresholds_x"),
            );
            close(
                thresholds_y,
                &floats(&case["isotonic"]["thresholds_y"]),
                1e-12,
                &format!("{name} isotonic thresholds_y"),
            );
            close(
                &iso.predict_many(&grid),
                &floats(&case["isotonic"]["predictions"]),
                1e-12,
                &format!("{name} isotonic predictions"),
            );

            let sig = Calibrator::fit(
                CalibrationMethod::Sigmoid,
                &scores,
                &labels,
                weights.as_deref(),
            )
            .unwrap();
            let Calibrator::Sigmoid { a, b } = sig else {
                panic!("{name}: not sigmoid");
            };
            let want_a = case["sigmoid"]["a"].as_f64().unwrap();
            let want_b = case["sigmoid"]["b"].as_f64().unwrap();
            // sklearn stops L-BFGS at a gradient of 1e-6; Newton goes to the optimum.
            let tol_ab = 1e-6 * (1.0 + want_a.abs().max(want_b.abs()));
            assert!(
                (a - want_a).abs() <= tol_ab,
                "{name} sigmoid a: {a} vs {want_a}"
            );
            assert!(
                (b - want_b).abs() <= tol_ab,
                "{name} sigmoid b: {b} vs {want_b}"
            );
            let want_pred = floats(&case["sigmoid"]["predictions"]);
            // The prediction formula itself, from sklearn's own (a, b): 1e-12.
            let theirs = Calibrator::Sigmoid {
                a: want_a,
                b: want_b,
            };
            close(
                &theirs.predict_many(&grid),
                &want_pred,
                1e-12,
                &format!("{name} sigmoid formula"),
            );
            // Our fit's predictions: within the optimiser tolerance of sklearn's.
            close(
                &sig.predict_many(&grid),
                &want_pred,
                1e-6,
                &format!("{name} sigmoid predictions"),
            );
        }
    }

    #[test]
    fn ties_are_merged_by_weighted_mean() {
        let c = Calibrator::fit(
            CalibrationMethod::Isotonic,
            &[0.5, 0.5, 0.5, 0.9],
            &[0.0, 1.0, 1.0, 1.0],
            Some(&[3.0, 1.0, 0.0, 1.0]),
        )
        .unwrap();
        assert_eq!(
            c,
            Calibrator::Isotonic {
                thresholds_x: vec![0.5, 0.9],
                thresholds_y: vec![0.25, 1.0]
            }
        );
        assert!((c.predict(0.7) - 0.625).abs() < 1e-15);
        assert_eq!(c.predict(-3.0), 0.25);
        assert_eq!(c.predict(3.0), 1.0);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let c = Calibrator::Isotonic {
            thresholds_x: vec![0.0, 1.0],
            thresholds_y: vec![0.1, 0.9],
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"method":"isotonic","thresholds_x":[0.0,1.0],"thresholds_y":[0.1,0.9]}"#
        );
        assert_eq!(serde_json::from_str::<Calibrator>(&json).unwrap(), c);
        let s = Calibrator::Sigmoid { a: -2.0, b: 0.5 };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Calibrator>(&json).unwrap(), s);

        for (bad, needle) in [
            (
                r#"{"method":"isotonic","thresholds_x":[1.0,0.0],"thresholds_y":[0.1,0.9]}"#,
                "thresholds_x[1]",
            ),
            (
                r#"{"method":"isotonic","thresholds_x":[0.0,1.0],"thresholds_y":[0.9,0.1]}"#,
                "thresholds_y[1]",
            ),
            (
                r#"{"method":"isotonic","thresholds_x":[0.0,1.0],"thresholds_y":[0.1]}"#,
                "thresholds_y has 1",
            ),
            (
                r#"{"method":"isotonic","thresholds_x":[0.0],"thresholds_y":[1.5]}"#,
                "thresholds_y[0]",
            ),
            (
                r#"{"method":"isotonic","thresholds_x":[],"thresholds_y":[]}"#,
                "thresholds_x is empty",
            ),
            (r#"{"method":"sigmoid","a":1.0}"#, "b"),
            (r#"{"method":"platt","a":1.0,"b":0.0}"#, "platt"),
        ] {
            let err = serde_json::from_str::<Calibrator>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn bad_inputs_name_argument_and_position() {
        let m = CalibrationMethod::Sigmoid;
        let err = |r: Result<Calibrator>| r.unwrap_err().to_string();
        assert!(err(Calibrator::fit(m, &[], &[], None)).contains("scores is empty"));
        assert!(err(Calibrator::fit(m, &[0.1, 0.2], &[1.0], None)).contains("labels has 1"));
        assert!(err(Calibrator::fit(m, &[0.1, f64::NAN], &[1.0, 0.0], None)).contains("scores[1]"));
        assert!(err(Calibrator::fit(m, &[0.1, 0.2], &[1.0, 2.0], None)).contains("labels[1]"));
        assert!(
            err(Calibrator::fit(
                m,
                &[0.1, 0.2],
                &[1.0, 0.0],
                Some(&[1.0, -1.0])
            ))
            .contains("weights[1]")
        );
        assert!(
            err(Calibrator::fit(
                m,
                &[0.1, 0.2],
                &[1.0, 0.0],
                Some(&[0.0, 0.0])
            ))
            .contains("zero everywhere")
        );
        assert!(
            tune_threshold(&[0.1, 0.2], &[1.0, 1.0], None, ThresholdMetric::Youden)
                .unwrap_err()
                .to_string()
                .contains("class 0")
        );
    }

    /// Every distinct score as a cut, evaluated directly.
    fn brute_force(
        scores: &[f64],
        labels: &[f64],
        w: &[f64],
        metric: ThresholdMetric,
    ) -> (f64, f64) {
        let mut cuts: Vec<f64> = scores.to_vec();
        cuts.sort_by(|a, b| b.total_cmp(a));
        cuts.dedup();
        let mut best = (f64::NAN, f64::NEG_INFINITY);
        for cut in cuts {
            let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
            for i in 0..scores.len() {
                match (scores[i] >= cut, labels[i] > 0.0) {
                    (true, true) => tp += w[i],
                    (true, false) => fp += w[i],
                    (false, true) => fn_ += w[i],
                    (false, false) => tn += w[i],
                }
            }
            let v = match metric {
                ThresholdMetric::F1 => {
                    if tp + fp + fn_ > 0.0 {
                        2.0 * tp / (2.0 * tp + fp + fn_)
                    } else {
                        0.0
                    }
                }
                ThresholdMetric::Accuracy => (tp + tn) / (tp + fp + fn_ + tn),
                ThresholdMetric::BalancedAccuracy => 0.5 * (tp / (tp + fn_) + tn / (tn + fp)),
                ThresholdMetric::Youden => tp / (tp + fn_) + tn / (tn + fp) - 1.0,
            };
            if v > best.1 + 1e-12 {
                best = (cut, v);
            }
        }
        best
    }

    #[test]
    fn tuned_threshold_examples() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2];
        let labels = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let w = [1.0, 2.0, 1.0, 1.0, 0.5, 1.0];
        for metric in [
            ThresholdMetric::F1,
            ThresholdMetric::Accuracy,
            ThresholdMetric::BalancedAccuracy,
            ThresholdMetric::Youden,
        ] {
            let (t, v) = tune_threshold(&scores, &labels, Some(&w), metric).unwrap();
            let (bt, bv) = brute_force(&scores, &labels, &w, metric);
            assert!((v - bv).abs() < 1e-12, "{metric:?}: {v} vs {bv}");
            assert_eq!(t, bt, "{metric:?}");
        }
        // Perfectly separable: the lowest positive score separates the classes.
        let (t, v) = tune_threshold(
            &[0.1, 0.2, 0.7, 0.9],
            &[0.0, 0.0, 1.0, 1.0],
            None,
            ThresholdMetric::Youden,
        )
        .unwrap();
        assert_eq!((t, v), (0.7, 1.0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn isotonic_is_monotone_and_in_unit_interval(
            data in prop::collection::vec((-5.0_f64..5.0, any::<bool>(), 0.0_f64..3.0), 1..60),
            grid in prop::collection::vec(-10.0_f64..10.0, 1..40),
        ) {
            let scores: Vec<f64> = data.iter().map(|d| (d.0 * 4.0).round() / 4.0).collect();
            let labels: Vec<f64> = data.iter().map(|d| f64::from(u8::from(d.1))).collect();
            let mut weights: Vec<f64> = data.iter().map(|d| d.2).collect();
            weights[0] += 0.5;
            let c = Calibrator::fit(CalibrationMethod::Isotonic, &scores, &labels, Some(&weights))
                .unwrap();
            let mut grid = grid;
            grid.sort_by(f64::total_cmp);
            let p = c.predict_many(&grid);
            for (i, v) in p.iter().enumerate() {
                prop_assert!((0.0..=1.0).contains(v));
                if i > 0 {
                    prop_assert!(*v >= p[i - 1] - 1e-15);
                }
            }
            let json = serde_json::to_string(&c).unwrap();
            prop_assert_eq!(serde_json::from_str::<Calibrator>(&json).unwrap(), c);
        }

        #[test]
        fn tuned_threshold_matches_brute_force(
            data in prop::collection::vec((0_u8..8, any::<bool>(), 0.1_f64..3.0), 2..40),
        ) {
            let scores: Vec<f64> = data.iter().map(|d| f64::from(d.0) / 8.0).collect();
            let mut labels: Vec<f64> = data.iter().map(|d| f64::from(u8::from(d.1))).collect();
            labels[0] = 0.0;
            labels[1] = 1.0;
            let w: Vec<f64> = data.iter().map(|d| d.2).collect();
            for metric in [ThresholdMetric::F1, ThresholdMetric::Accuracy, ThresholdMetric::Youden] {
                let (t, v) = tune_threshold(&scores, &labels, Some(&w), metric).unwrap();
                let (_, bv) = brute_force(&scores, &labels, &w, metric);
                prop_assert!((v - bv).abs() < 1e-9);
                prop_assert!(scores.contains(&t));
            }
        }
    }
}
