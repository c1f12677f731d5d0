//! Ranking metrics: ROC AUC and average precision.
//!
//! Scores are sorted once, O(n log n), as `(key, signed weight)` pairs: the key is the score's
//! bits mapped to an order-preserving `u64`, and the weight carries the label in its sign
//! (positive class: `+w`, negative class: `-w`), so one 16-byte record per sample is all the
//! memory used beyond the inputs.

use super::check;
use crate::{EvaluateError, Result};

/// Maps a finite score to a `u64` whose unsigned order is the score's order (`-0.0 == 0.0`).
#[inline]
fn key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Sorts by descending key in place.
fn sort_desc(records: &mut [(u64, f64)]) {
    records.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
}

/// Walks the distinct thresholds from the highest score down, calling `f(tp, fp)` with the
/// cumulative positive and negative weights after each tie group.
fn for_each_threshold(records: &[(u64, f64)], mut f: impl FnMut(f64, f64)) {
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < records.len() {
        let k = records[i].0;
        while i < records.len() && records[i].0 == k {
            let w = records[i].1;
            if w.is_sign_negative() {
                fp -= w;
            } else {
                tp += w;
            }
            i += 1;
        }
        f(tp, fp);
    }
}

/// Area under the ROC curve of sorted records (trapezoids between distinct thresholds).
fn auc_sorted(records: &[(u64, f64)]) -> f64 {
    let (mut area, mut tp0, mut fp0) = (0.0, 0.0, 0.0);
    for_each_threshold(records, |tp, fp| {
        area += (fp - fp0) * (tp + tp0);
        tp0 = tp;
        fp0 = fp;
    });
    area / 2.0 / (tp0 * fp0)
}

/// Checks a binary target and scores; returns the labels as booleans.
fn binary_inputs(
    y_true: &[f64],
    y_score: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<Vec<bool>> {
    check::non_empty("y_true", y_true)?;
    check::same_len("y_score", y_score, y_true.len(), "y_true")?;
    check::finite("y_score", y_score)?;
    check::weights(sample_weight, y_true.len())?;
    y_true
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v == 0.0 || v == 1.0 {
                Ok(v == 1.0)
            } else {
                Err(EvaluateError::invalid_input(format!(
                    "y_true[{i}] = {v}: expected a binary class index, 0 or 1"
                )))
            }
        })
        .collect()
}

fn records(y: &[bool], y_score: &[f64], sample_weight: Option<&[f64]>) -> Vec<(u64, f64)> {
    y.iter()
        .zip(y_score)
        .enumerate()
        .map(|(i, (&pos, &s))| {
            let w = check::w_at(sample_weight, i);
            (key(s), if pos { w } else { -w })
        })
        .collect()
}

/// Binary ROC AUC (scikit-learn's `roc_auc_score` with binary `y_true`): `y_score` is the
/// positive-class (class 1) score. Ties are areas of trapezoids, as scikit-learn's
/// `roc_curve` + `auc`. NaN when `y_true` holds one class only (scikit-learn warns and
/// returns NaN).
pub fn roc_auc_score(
    y_true: &[f64],
    y_score: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    let y = binary_inputs(y_true, y_score, sample_weight)?;
    if y.iter().all(|&p| p) || y.iter().all(|&p| !p) {
        return Ok(f64::NAN);
    }
    let mut r = records(&y, y_score, sample_weight);
    sort_desc(&mut r);
    Ok(auc_sorted(&r))
}

/// Average precision (scikit-learn's `average_precision_score` with binary `y_true`,
/// `pos_label=1`): `Σ (Rₙ − Rₙ₋₁) Pₙ` over distinct thresholds, not interpolated.
/// Without positives, recall is taken as 1 everywhere and the score is 0, as in scikit-learn.
pub fn average_precision_score(
    y_true: &[f64],
    y_score: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    let y = binary_inputs(y_true, y_score, sample_weight)?;
    let mut r = records(&y, y_score, sample_weight);
    Ok(ap_of_records(&mut r, sample_weight.is_some()))
}

/// Average precision of unsorted records; zero weights are dropped first when `weighted`.
fn ap_of_records(r: &mut Vec<(u64, f64)>, weighted: bool) -> f64 {
    if weighted {
        // scikit-learn drops zero-weight samples before building the curve.
        r.retain(|e| e.1 != 0.0);
    }
    sort_desc(r);
    let total: f64 = r
        .iter()
        .filter(|e| !e.1.is_sign_negative())
        .map(|e| e.1)
        .sum();
    let (mut ap, mut r0) = (0.0, 0.0);
    for_each_threshold(r, |tp, fp| {
        let ps = tp + fp;
        let precision = if ps == 0.0 { 0.0 } else { tp / ps };
        let recall = if total == 0.0 { 1.0 } else { tp / total };
        ap += (recall - r0) * precision;
        r0 = recall;
    });
    ap
}

/// How multiclass average precision combines classes (scikit-learn's `average`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApAverage {
    /// One curve over every (sample, class) cell of the one-hot target.
    Micro,
    /// Unweighted mean over classes (scikit-learn's default).
    Macro,
    /// Mean over classes weighted by their (weighted) support.
    Weighted,
}

/// Multiclass average precision (scikit-learn's `average_precision_score` with multiclass
/// `y_true`, one-vs-rest on the binarised target): `y_score` is row-major
/// `n_samples × n_classes`, and every class `0..n_classes` must occur in `y_true`.
pub fn average_precision_score_multiclass(
    y_true: &[f64],
    y_score: &[f64],
    n_classes: usize,
    sample_weight: Option<&[f64]>,
    average: ApAverage,
) -> Result<f64> {
    let (y, support) = multiclass_inputs(y_true, "y_score", y_score, n_classes, sample_weight)?;
    let n = y.len();
    let weighted = sample_weight.is_some();
    let cell = |i: usize, c: usize| {
        let w = check::w_at(sample_weight, i);
        (
            key(y_score[i * n_classes + c]),
            if y[i] == c { w } else { -w },
        )
    };
    if average == ApAverage::Micro {
        let mut r: Vec<(u64, f64)> = (0..n * n_classes)
            .map(|j| cell(j / n_classes, j % n_classes))
            .collect();
        return Ok(ap_of_records(&mut r, weighted));
    }
    let mut r = Vec::with_capacity(n);
    let scores: Vec<f64> = (0..n_classes)
        .map(|c| {
            r.clear();
            r.extend((0..n).map(|i| cell(i, c)));
            ap_of_records(&mut r, weighted)
        })
        .collect();
    Ok(match average {
        ApAverage::Weighted => {
            scores.iter().zip(&support).map(|(s, w)| s * w).sum::<f64>()
                / support.iter().sum::<f64>()
        }
        _ => scores.iter().sum::<f64>() / n_classes as f64,
    })
}

/// Validates multiclass targets and a `n_samples × n_classes` score matrix in which every
/// class occurs; returns the class indices and the weighted support per class.
fn multiclass_inputs(
    y_true: &[f64],
    score_name: &str,
    y_score: &[f64],
    n_classes: usize,
    sample_weight: Option<&[f64]>,
) -> Result<(Vec<usize>, Vec<f64>)> {
    check::non_empty("y_true", y_true)?;
    if n_classes < 3 {
        return Err(EvaluateError::invalid_param(
            "n_classes",
            n_classes,
            "at least 3 classes (use the binary form for two)",
        ));
    }
    let n = y_true.len();
    if y_score.len() != n * n_classes {
        return Err(EvaluateError::invalid_input(format!(
            "{score_name} has {} entries: expected n_samples × n_classes = {n} × {n_classes}",
            y_score.len()
        )));
    }
    check::finite(score_name, y_score)?;
    check::weights(sample_weight, n)?;
    let y = check::labels("y_true", y_true)?;
    let mut support = vec![0.0; n_classes];
    let mut count = vec![0usize; n_classes];
    for (i, &c) in y.iter().enumerate() {
        if c >= n_classes {
            return Err(EvaluateError::invalid_input(format!(
                "y_true[{i}] = {c}: expected a class index below n_classes = {n_classes}"
            )));
        }
        support[c] += check::w_at(sample_weight, i);
        count[c] += 1;
    }
    if let Some(c) = count.iter().position(|&k| k == 0) {
        return Err(EvaluateError::invalid_input(format!(
            "class {c} does not occur in y_true: the one-vs-rest scores need every one of \
             the {n_classes} classes"
        )));
    }
    Ok((y, support))
}

/// Inverse of [`key`].
#[inline]
fn unkey(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Cumulative (tp, fp, threshold) at each distinct threshold, highest first, after dropping
/// zero-weight samples (scikit-learn's `confusion_matrix_at_thresholds`).
fn threshold_points(
    y_true: &[f64],
    y_score: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let y = binary_inputs(y_true, y_score, sample_weight)?;
    let mut r = records(&y, y_score, sample_weight);
    if sample_weight.is_some() {
        r.retain(|e| e.1 != 0.0);
    }
    sort_desc(&mut r);
    let (mut tps, mut fps, mut thr) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    for_each_threshold(&r, |tp, fp| {
        // Groups are visited in order; find this group's key for its threshold.
        let k = r[i].0;
        while i < r.len() && r[i].0 == k {
            i += 1;
        }
        tps.push(tp);
        fps.push(fp);
        thr.push(unkey(k));
    });
    Ok((tps, fps, thr))
}

/// Points of a ROC curve (scikit-learn's `roc_curve`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RocCurve {
    /// False positive rates, increasing, starting at 0.
    pub fpr: Vec<f64>,
    /// True positive rates, increasing, starting at 0.
    pub tpr: Vec<f64>,
    /// Decreasing score thresholds; the first is `+∞`.
    pub thresholds: Vec<f64>,
}

/// ROC curve of a binary target (scikit-learn's `roc_curve`, `pos_label=1`); with
/// `drop_intermediate` (scikit-learn's default `true`) collinear points are dropped. Rates
/// are NaN when a class is absent, as in scikit-learn (which warns).
pub fn roc_curve(
    y_true: &[f64],
    y_score: &[f64],
    sample_weight: Option<&[f64]>,
    drop_intermediate: bool,
) -> Result<RocCurve> {
    let (mut tps, mut fps, mut thr) = threshold_points(y_true, y_score, sample_weight)?;
    if drop_intermediate && fps.len() > 2 {
        let second_diff_nonzero =
            |x: &[f64], i: usize| (x[i + 2] - x[i + 1]) - (x[i + 1] - x[i]) != 0.0;
        let keep: Vec<usize> = (0..fps.len())
            .filter(|&j| {
                j == 0
                    || j == fps.len() - 1
                    || second_diff_nonzero(&fps, j - 1)
                    || second_diff_nonzero(&tps, j - 1)
            })
            .collect();
        tps = keep.iter().map(|&j| tps[j]).collect();
        fps = keep.iter().map(|&j| fps[j]).collect();
        thr = keep.iter().map(|&j| thr[j]).collect();
    }
    let rate = |x: Vec<f64>| -> Vec<f64> {
        let total = x.last().copied().unwrap_or(0.0);
        std::iter::once(0.0)
            .chain(x)
            .map(|v| if total <= 0.0 { f64::NAN } else { v / total })
            .collect()
    };
    Ok(RocCurve {
        fpr: rate(fps),
        tpr: rate(tps),
        thresholds: std::iter::once(f64::INFINITY).chain(thr).collect(),
    })
}

/// Points of a precision-recall curve (scikit-learn's `precision_recall_curve`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PrecisionRecallCurve {
    /// Precision per threshold, increasing thresholds, then a final 1.
    pub precision: Vec<f64>,
    /// Recall per threshold, decreasing, then a final 0.
    pub recall: Vec<f64>,
    /// Increasing score thresholds (one fewer than the points).
    pub thresholds: Vec<f64>,
}

/// Precision-recall curve of a binary target (scikit-learn's `precision_recall_curve`,
/// `pos_label=1`, `drop_intermediate=False`). Without positives, recall is 1 everywhere.
pub fn precision_recall_curve(
    y_true: &[f64],
    y_score: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<PrecisionRecallCurve> {
    let (tps, fps, thr) = threshold_points(y_true, y_score, sample_weight)?;
    let total = tps.last().copied().unwrap_or(0.0);
    let precision = tps
        .iter()
        .zip(&fps)
        .rev()
        .map(|(tp, fp)| if tp + fp == 0.0 { 0.0 } else { tp / (tp + fp) })
        .chain(std::iter::once(1.0))
        .collect();
    let recall = tps
        .iter()
        .rev()
        .map(|tp| if total == 0.0 { 1.0 } else { tp / total })
        .chain(std::iter::once(0.0))
        .collect();
    Ok(PrecisionRecallCurve {
        precision,
        recall,
        thresholds: thr.into_iter().rev().collect(),
    })
}

/// How multiclass ROC AUC pairs classes (scikit-learn's `multi_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiClass {
    /// One class against the rest.
    Ovr,
    /// Every pair of classes (no sample weights, as in scikit-learn).
    Ovo,
}

/// How per-class (or per-pair) AUCs are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AucAverage {
    /// OvR only: one curve over every (sample, class) cell of the one-hot target.
    Micro,
    /// Unweighted mean.
    Macro,
    /// OvR: weighted by (weighted) class support; OvO: by the pair's share of samples.
    Weighted,
}

/// Multiclass ROC AUC (scikit-learn's `roc_auc_score(multi_class="ovr" | "ovo")`):
/// `y_proba` is row-major `n_samples × n_classes`, rows summing to 1 (within numpy's
/// `allclose`), and every class `0..n_classes` must occur in `y_true`.
pub fn roc_auc_score_multiclass(
    y_true: &[f64],
    y_proba: &[f64],
    n_classes: usize,
    sample_weight: Option<&[f64]>,
    multi_class: MultiClass,
    average: AucAverage,
) -> Result<f64> {
    if multi_class == MultiClass::Ovo && sample_weight.is_some() {
        return Err(EvaluateError::invalid_input(
            "sample_weight is not supported by one-vs-one ROC AUC (as in scikit-learn): \
             pass None or use one-vs-rest",
        ));
    }
    let (y, support) = multiclass_inputs(y_true, "y_proba", y_proba, n_classes, sample_weight)?;
    let n = y.len();
    for (i, row) in y_proba.chunks_exact(n_classes).enumerate() {
        let s: f64 = row.iter().sum();
        if (1.0 - s).abs() > 1e-8 + 1e-5 * s.abs() {
            return Err(EvaluateError::invalid_input(format!(
                "row {i} of y_proba sums to {s}: multiclass ROC AUC needs probabilities \
                 summing to 1 over classes"
            )));
        }
    }
    if average == AucAverage::Micro {
        if multi_class == MultiClass::Ovo {
            return Err(EvaluateError::invalid_param(
                "average",
                "micro",
                "macro or weighted for one-vs-one ROC AUC (as in scikit-learn)",
            ));
        }
        let mut r: Vec<(u64, f64)> = (0..n * n_classes)
            .map(|j| {
                let (i, c) = (j / n_classes, j % n_classes);
                let w = check::w_at(sample_weight, i);
                (key(y_proba[j]), if y[i] == c { w } else { -w })
            })
            .collect();
        sort_desc(&mut r);
        return Ok(auc_sorted(&r));
    }
    let mut buf: Vec<(u64, f64)> = Vec::with_capacity(n);
    let mut auc_of = |pos: usize, rows: &mut dyn Iterator<Item = usize>| -> f64 {
        buf.clear();
        buf.extend(rows.map(|i| {
            let w = check::w_at(sample_weight, i);
            (
                key(y_proba[i * n_classes + pos]),
                if y[i] == pos { w } else { -w },
            )
        }));
        sort_desc(&mut buf);
        auc_sorted(&buf)
    };
    let (scores, weights): (Vec<f64>, Vec<f64>) = match multi_class {
        MultiClass::Ovr => (0..n_classes)
            .map(|c| (auc_of(c, &mut (0..n)), support[c]))
            .unzip(),
        MultiClass::Ovo => {
            let mut pairs = Vec::new();
            for a in 0..n_classes {
                for b in a + 1..n_classes {
                    let in_pair = |i: &usize| y[*i] == a || y[*i] == b;
                    let sa = auc_of(a, &mut (0..n).filter(in_pair));
                    let sb = auc_of(b, &mut (0..n).filter(in_pair));
                    let in_ab = y.iter().filter(|&&c| c == a || c == b).count();
                    let prevalence = in_ab as f64 / n as f64;
                    pairs.push((f64::midpoint(sa, sb), prevalence));
                }
            }
            pairs.into_iter().unzip()
        }
    };
    Ok(match average {
        AucAverage::Macro | AucAverage::Micro => scores.iter().sum::<f64>() / scores.len() as f64,
        AucAverage::Weighted => {
            scores.iter().zip(&weights).map(|(s, w)| s * w).sum::<f64>()
                / weights.iter().sum::<f64>()
        }
    })
}

/// Top-k accuracy (scikit-learn's `top_k_accuracy_score(labels=range(n_classes))`) for
/// row-major `n_samples × n_classes` scores, `n_classes ≥ 3`: a hit when the true class is
/// among the `k` highest scores; among tied scores the higher class index ranks first, as
/// scikit-learn's reversed stable argsort.
pub fn top_k_accuracy_score(
    y_true: &[f64],
    y_score: &[f64],
    n_classes: usize,
    k: usize,
    sample_weight: Option<&[f64]>,
    normalize: bool,
) -> Result<f64> {
    check::non_empty("y_true", y_true)?;
    if n_classes < 3 {
        return Err(EvaluateError::invalid_param(
            "n_classes",
            n_classes,
            "at least 3 classes",
        ));
    }
    if k == 0 {
        return Err(EvaluateError::invalid_param("k", k, "k >= 1"));
    }
    let n = y_true.len();
    if y_score.len() != n * n_classes {
        return Err(EvaluateError::invalid_input(format!(
            "y_score has {} entries: expected n_samples × n_classes = {n} × {n_classes}",
            y_score.len()
        )));
    }
    check::finite("y_score", y_score)?;
    check::weights(sample_weight, n)?;
    let y = check::labels("y_true", y_true)?;
    if let Some(i) = y.iter().position(|&c| c >= n_classes) {
        return Err(EvaluateError::invalid_input(format!(
            "y_true[{i}] = {}: expected a class index below n_classes = {n_classes}",
            y[i]
        )));
    }
    let hits = y.iter().enumerate().map(|(i, &c)| {
        let row = &y_score[i * n_classes..(i + 1) * n_classes];
        let s = row[c];
        let ahead = row
            .iter()
            .enumerate()
            .filter(|&(j, &v)| v > s || (v == s && j > c))
            .count();
        f64::from(u8::from(ahead < k))
    });
    if normalize {
        Ok(check::average(hits, sample_weight))
    } else {
        Ok(match sample_weight {
            None => hits.sum(),
            Some(w) => hits.zip(w).map(|(h, w)| h * w).sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_order_matches_float_order() {
        let xs = [
            -f64::MAX,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            1e-300,
            1.0,
            f64::MAX,
        ];
        for pair in xs.windows(2) {
            assert!(key(pair[0]) <= key(pair[1]), "{pair:?}");
            assert_eq!(unkey(key(pair[1])), pair[1]);
        }
        assert_eq!(key(-0.0), key(0.0));
    }

    #[test]
    fn auc_with_ties_is_half_credit() {
        assert_eq!(roc_auc_score(&[0.0, 1.0], &[0.5, 0.5], None).unwrap(), 0.5);
        let a = roc_auc_score(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8], None).unwrap();
        assert_eq!(a, 0.75);
        assert!(
            roc_auc_score(&[1.0, 1.0], &[0.1, 0.2], None)
                .unwrap()
                .is_nan()
        );
    }

    #[test]
    fn binary_inputs_are_checked() {
        let e = roc_auc_score(&[0.0, 2.0], &[0.1, 0.2], None)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "y_true[1] = 2: expected a binary class index, 0 or 1");
        let e = roc_auc_score(&[0.0, 1.0], &[0.1, f64::INFINITY], None)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "y_score[1] = inf: expected a finite number");
    }

    #[test]
    fn multiclass_auc_errors() {
        let y = [0.0, 1.0, 2.0];
        let p = [0.5, 0.25, 0.25, 0.25, 0.5, 0.25, 0.25, 0.25, 0.5];
        let w = [1.0; 3];
        let e = roc_auc_score_multiclass(&y, &p, 3, Some(&w), MultiClass::Ovo, AucAverage::Macro)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("sample_weight is not supported by one-vs-one"),
            "{e}"
        );
        let bad = [0.5, 0.5, 0.5, 0.25, 0.5, 0.25, 0.25, 0.25, 0.5];
        let e = roc_auc_score_multiclass(&y, &bad, 3, None, MultiClass::Ovr, AucAverage::Macro)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("row 0 of y_proba sums to 1.5"), "{e}");
        let e = roc_auc_score_multiclass(
            &[0.0, 1.0, 1.0],
            &p,
            3,
            None,
            MultiClass::Ovr,
            AucAverage::Macro,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("class 2 does not occur in y_true"), "{e}");
        let a =
            roc_auc_score_multiclass(&y, &p, 3, None, MultiClass::Ovr, AucAverage::Macro).unwrap();
        assert_eq!(a, 1.0);
    }

    /// O(n²) pair-counting AUC with weights: P(s⁺ > s⁻) + ½ P(s⁺ = s⁻).
    fn brute_auc(y: &[f64], s: &[f64], w: &[f64]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..y.len() {
            for j in 0..y.len() {
                if y[i] == 1.0 && y[j] == 0.0 {
                    let pair = w[i] * w[j];
                    den += pair;
                    num += pair
                        * if s[i] > s[j] {
                            1.0
                        } else if s[i] == s[j] {
                            0.5
                        } else {
                            0.0
                        };
                }
            }
        }
        num / den
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn auc_is_invariant_to_monotone_transforms(
            data in prop::collection::vec((0u8..2, 0u8..12, 0u8..4), 2..60)
        ) {
            let y: Vec<f64> = data.iter().map(|d| f64::from(d.0)).collect();
            prop_assume!(y.contains(&0.0) && y.contains(&1.0));
            let s: Vec<f64> = data.iter().map(|d| f64::from(d.1) / 11.0).collect();
            let w: Vec<f64> = data.iter().map(|d| f64::from(d.2)).collect();
            prop_assume!(w.iter().zip(&y).any(|(w, y)| *w > 0.0 && *y == 1.0));
            prop_assume!(w.iter().zip(&y).any(|(w, y)| *w > 0.0 && *y == 0.0));
            let a = roc_auc_score(&y, &s, Some(&w)).unwrap();
            let t: Vec<f64> = s.iter().map(|v| (3.0 * v).exp() - 7.0).collect();
            let b = roc_auc_score(&y, &t, Some(&w)).unwrap();
            prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            let c = brute_auc(&y, &s, &w);
            prop_assert!((a - c).abs() < 1e-12, "{a} vs brute force {c}");
        }

        #[test]
        fn average_precision_is_at_most_one(
            data in prop::collection::vec((0u8..2, 0u8..12), 1..60)
        ) {
            let y: Vec<f64> = data.iter().map(|d| f64::from(d.0)).collect();
            let s: Vec<f64> = data.iter().map(|d| f64::from(d.1)).collect();
            let ap = average_precision_score(&y, &s, None).unwrap();
            prop_assert!((0.0..=1.0 + 1e-12).contains(&ap), "{ap}");
        }
    }
}
