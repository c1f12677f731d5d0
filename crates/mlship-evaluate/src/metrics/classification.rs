//! Label-based classification metrics: accuracy, precision / recall / F, confusion matrix,
//! MCC and Cohen's kappa.

use serde::Serialize;

use super::check;
use crate::{EvaluateError, Result};

/// How per-class scores are combined (scikit-learn's `average`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// Only the class `pos_label` (scikit-learn's `average="binary"`, default `pos_label=1`);
    /// the targets must hold at most two classes.
    Binary {
        /// The positive class index.
        pos_label: usize,
    },
    /// Global counts of true positives, false negatives and false positives.
    Micro,
    /// Unweighted mean over classes.
    Macro,
    /// Mean over classes weighted by their (weighted) support.
    Weighted,
}

impl Default for Average {
    /// `Binary { pos_label: 1 }`, scikit-learn's default.
    fn default() -> Self {
        Self::Binary { pos_label: 1 }
    }
}

/// The value of an undefined ratio (scikit-learn's `zero_division`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroDivision {
    /// scikit-learn's default `"warn"`: 0.0 (without a warning here).
    #[default]
    Warn,
    /// 0.0.
    Zero,
    /// 1.0.
    One,
    /// NaN; NaN classes are left out of averages.
    Nan,
}

impl ZeroDivision {
    fn value(self) -> f64 {
        match self {
            Self::Warn | Self::Zero => 0.0,
            Self::One => 1.0,
            Self::Nan => f64::NAN,
        }
    }
}

/// Per-class precision, recall, F-beta and support (scikit-learn's
/// `precision_recall_fscore_support(average=None)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerClassScores {
    /// The class indices scored, sorted: those present in `y_true` or `y_pred`.
    pub labels: Vec<usize>,
    /// Precision per class.
    pub precision: Vec<f64>,
    /// Recall per class.
    pub recall: Vec<f64>,
    /// F-beta per class.
    pub fscore: Vec<f64>,
    /// Weighted number of true samples per class.
    pub support: Vec<f64>,
}

/// Parsed, validated label pairs.
struct Labels {
    t: Vec<usize>,
    p: Vec<usize>,
    /// Sorted class indices present in either.
    present: Vec<usize>,
    /// Position of each `t` in `present`.
    ti: Vec<usize>,
    /// Position of each `p` in `present`.
    pi: Vec<usize>,
}

impl Labels {
    /// Position of class `c` in `present`, if present.
    fn position(&self, c: usize) -> Option<usize> {
        self.present.binary_search(&c).ok()
    }
}

fn parse(y_true: &[f64], y_pred: &[f64], sample_weight: Option<&[f64]>) -> Result<Labels> {
    check::non_empty("y_true", y_true)?;
    check::same_len("y_pred", y_pred, y_true.len(), "y_true")?;
    check::weights(sample_weight, y_true.len())?;
    let t = check::labels("y_true", y_true)?;
    let p = check::labels("y_pred", y_pred)?;
    let max = t.iter().chain(&p).copied().max().unwrap_or(0);
    let (present, ti, pi) = if max < 1 << 16 {
        // Dense lookup for the usual small class indices.
        let mut pos = vec![usize::MAX; max + 1];
        for &c in t.iter().chain(&p) {
            pos[c] = 0;
        }
        let present: Vec<usize> = (0..=max).filter(|&c| pos[c] == 0).collect();
        for (i, &c) in present.iter().enumerate() {
            pos[c] = i;
        }
        let map = |v: &[usize]| v.iter().map(|&c| pos[c]).collect::<Vec<_>>();
        (present, map(&t), map(&p))
    } else {
        // Large indices: no allocation proportional to the largest one.
        let mut present: Vec<usize> = t.iter().chain(&p).copied().collect();
        present.sort_unstable();
        present.dedup();
        let map = |v: &[usize]| {
            v.iter()
                .map(|c| present.binary_search(c).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        let (ti, pi) = (map(&t), map(&p));
        (present, ti, pi)
    };
    Ok(Labels {
        t,
        p,
        present,
        ti,
        pi,
    })
}

/// Weighted confusion counts over `present`, row-major (true × predicted).
fn counts(l: &Labels, sample_weight: Option<&[f64]>) -> Vec<f64> {
    let k = l.present.len();
    let mut c = vec![0.0; k * k];
    for (i, (&t, &p)) in l.ti.iter().zip(&l.pi).enumerate() {
        c[t * k + p] += check::w_at(sample_weight, i);
    }
    c
}

/// Accuracy (scikit-learn's `accuracy_score`): the weighted share of exact matches, or with
/// `normalize = false` their weighted count.
pub fn accuracy_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    normalize: bool,
) -> Result<f64> {
    let l = parse(y_true, y_pred, sample_weight)?;
    let hits =
        l.t.iter()
            .zip(&l.p)
            .map(|(a, b)| f64::from(u8::from(a == b)));
    if normalize {
        Ok(check::average(hits, sample_weight))
    } else {
        Ok(match sample_weight {
            None => hits.sum(),
            Some(w) => hits.zip(w).map(|(h, w)| h * w).sum(),
        })
    }
}

/// Balanced accuracy (scikit-learn's `balanced_accuracy_score`): the mean recall over classes
/// with a positive weighted support; with `adjusted`, rescaled so chance scores 0.
pub fn balanced_accuracy_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    adjusted: bool,
) -> Result<f64> {
    let l = parse(y_true, y_pred, sample_weight)?;
    let k = l.present.len();
    let c = counts(&l, sample_weight);
    let per_class: Vec<f64> = (0..k)
        .filter_map(|i| {
            let row: f64 = c[i * k..(i + 1) * k].iter().sum();
            (row != 0.0).then(|| c[i * k + i] / row)
        })
        .collect();
    let mut score = per_class.iter().sum::<f64>() / per_class.len() as f64;
    if adjusted {
        let chance = 1.0 / per_class.len() as f64;
        score -= chance;
        score /= 1.0 - chance;
    }
    Ok(score)
}

/// Per-class precision, recall, F-beta and support (scikit-learn's
/// `precision_recall_fscore_support(average=None)`), over the classes present in either input.
pub fn precision_recall_fscore_support(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    beta: f64,
    zero_division: ZeroDivision,
) -> Result<PerClassScores> {
    check_beta(beta)?;
    let l = parse(y_true, y_pred, sample_weight)?;
    let labels = l.present.clone();
    let (tp, pred, truth) = class_sums(&l, sample_weight);
    Ok(ratios(labels, &tp, &pred, &truth, beta, zero_division))
}

fn check_beta(beta: f64) -> Result<()> {
    if beta.is_finite() && beta >= 0.0 {
        Ok(())
    } else {
        Err(EvaluateError::invalid_param(
            "beta",
            beta,
            "a finite number >= 0",
        ))
    }
}

/// True-positive, predicted and true weighted sums per present class.
fn class_sums(l: &Labels, sample_weight: Option<&[f64]>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = l.present.len();
    let (mut tp, mut pred, mut truth) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    for (i, (&t, &p)) in l.ti.iter().zip(&l.pi).enumerate() {
        let w = check::w_at(sample_weight, i);
        truth[t] += w;
        pred[p] += w;
        if t == p {
            tp[t] += w;
        }
    }
    (tp, pred, truth)
}

fn divide(num: f64, den: f64, zero_division: ZeroDivision) -> f64 {
    if den == 0.0 {
        zero_division.value()
    } else {
        num / den
    }
}

fn ratios(
    labels: Vec<usize>,
    tp: &[f64],
    pred: &[f64],
    truth: &[f64],
    beta: f64,
    zd: ZeroDivision,
) -> PerClassScores {
    let beta2 = beta * beta;
    let precision = tp
        .iter()
        .zip(pred)
        .map(|(t, p)| divide(*t, *p, zd))
        .collect();
    let recall = tp
        .iter()
        .zip(truth)
        .map(|(t, s)| divide(*t, *s, zd))
        .collect();
    let fscore = tp
        .iter()
        .zip(pred.iter().zip(truth))
        .map(|(t, (p, s))| divide((1.0 + beta2) * t, beta2 * s + p, zd))
        .collect();
    PerClassScores {
        labels,
        precision,
        recall,
        fscore,
        support: truth.to_vec(),
    }
}

/// numpy-style mean ignoring NaN, optionally weighted; all-zero weights fall back to the mean.
fn nan_average(values: &[f64], weights: Option<&[f64]>) -> f64 {
    let keep: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    if keep.is_empty() {
        return f64::NAN;
    }
    if let Some(w) = weights {
        let sw: f64 = keep.iter().map(|&i| w[i]).sum();
        if sw != 0.0 {
            return keep.iter().map(|&i| values[i] * w[i]).sum::<f64>() / sw;
        }
    }
    keep.iter().map(|&i| values[i]).sum::<f64>() / keep.len() as f64
}

/// (precision, recall, F-beta) averaged as scikit-learn's `precision_recall_fscore_support`.
fn averaged(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    beta: f64,
    average: Average,
    zd: ZeroDivision,
) -> Result<[f64; 3]> {
    check_beta(beta)?;
    let l = parse(y_true, y_pred, sample_weight)?;
    let (tp, pred, truth) = class_sums(&l, sample_weight);
    let s = match average {
        Average::Binary { pos_label } => {
            if l.present.len() > 2 {
                return Err(EvaluateError::invalid_input(format!(
                    "average = binary needs at most two classes but y_true and y_pred hold {}: \
                     choose micro, macro or weighted",
                    l.present.len()
                )));
            }
            match l.position(pos_label) {
                Some(i) => ratios(
                    vec![pos_label],
                    &tp[i..=i],
                    &pred[i..=i],
                    &truth[i..=i],
                    beta,
                    zd,
                ),
                None if l.present.len() < 2 => {
                    ratios(vec![pos_label], &[0.0], &[0.0], &[0.0], beta, zd)
                }
                None => {
                    return Err(EvaluateError::invalid_param(
                        "pos_label",
                        pos_label,
                        format!("one of the classes present, {:?}", l.present),
                    ));
                }
            }
        }
        Average::Micro => {
            let sum = |v: &[f64]| [v.iter().sum::<f64>()];
            ratios(
                l.present.clone(),
                &sum(&tp),
                &sum(&pred),
                &sum(&truth),
                beta,
                zd,
            )
        }
        Average::Macro | Average::Weighted => {
            ratios(l.present.clone(), &tp, &pred, &truth, beta, zd)
        }
    };
    let weights = (average == Average::Weighted).then_some(s.support.as_slice());
    Ok([
        nan_average(&s.precision, weights),
        nan_average(&s.recall, weights),
        nan_average(&s.fscore, weights),
    ])
}

/// Precision (scikit-learn's `precision_score`): `tp / (tp + fp)`.
pub fn precision_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    average: Average,
    zero_division: ZeroDivision,
) -> Result<f64> {
    Ok(averaged(y_true, y_pred, sample_weight, 1.0, average, zero_division)?[0])
}

/// Recall (scikit-learn's `recall_score`): `tp / (tp + fn)`.
pub fn recall_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    average: Average,
    zero_division: ZeroDivision,
) -> Result<f64> {
    Ok(averaged(y_true, y_pred, sample_weight, 1.0, average, zero_division)?[1])
}

/// F1 (scikit-learn's `f1_score`): `2 tp / (2 tp + fp + fn)`.
pub fn f1_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    average: Average,
    zero_division: ZeroDivision,
) -> Result<f64> {
    Ok(averaged(y_true, y_pred, sample_weight, 1.0, average, zero_division)?[2])
}

/// F-beta (scikit-learn's `fbeta_score`): `(1 + β²) tp / ((1 + β²) tp + β² fn + fp)`.
pub fn fbeta_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    beta: f64,
    average: Average,
    zero_division: ZeroDivision,
) -> Result<f64> {
    Ok(averaged(y_true, y_pred, sample_weight, beta, average, zero_division)?[2])
}

/// How a confusion matrix is normalised (scikit-learn's `normalize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalize {
    /// Over the true classes (rows sum to 1).
    True,
    /// Over the predicted classes (columns sum to 1).
    Pred,
    /// Over all samples.
    All,
}

/// A square confusion matrix: rows are true classes, columns predicted classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfusionMatrix {
    /// Number of classes (rows and columns).
    pub n_classes: usize,
    /// Row-major `n_classes × n_classes` weighted counts (or normalised shares).
    pub values: Vec<f64>,
}

impl ConfusionMatrix {
    /// The entry for true class `t` and predicted class `p`.
    pub fn get(&self, t: usize, p: usize) -> f64 {
        self.values[t * self.n_classes + p]
    }
}

/// Confusion matrix over classes `0..n_classes` (scikit-learn's
/// `confusion_matrix(labels=range(n_classes))`); normalised rows, columns or all with zero
/// sums give 0 as scikit-learn does.
pub fn confusion_matrix(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    n_classes: usize,
    normalize: Option<Normalize>,
) -> Result<ConfusionMatrix> {
    let l = parse(y_true, y_pred, sample_weight)?;
    for (name, v) in [("y_true", &l.t), ("y_pred", &l.p)] {
        if let Some(i) = v.iter().position(|&c| c >= n_classes) {
            return Err(EvaluateError::invalid_input(format!(
                "{name}[{i}] = {}: expected a class index below n_classes = {n_classes}",
                v[i]
            )));
        }
    }
    let k = n_classes;
    let mut c = vec![0.0; k * k];
    for (i, (&t, &p)) in l.t.iter().zip(&l.p).enumerate() {
        c[t * k + p] += check::w_at(sample_weight, i);
    }
    let fix = |v: f64| if v.is_finite() { v } else { 0.0 };
    match normalize {
        None => {}
        Some(Normalize::True) => {
            for row in c.chunks_mut(k.max(1)) {
                let s: f64 = row.iter().sum();
                for v in row.iter_mut() {
                    *v = fix(*v / s);
                }
            }
        }
        Some(Normalize::Pred) => {
            for j in 0..k {
                let s: f64 = (0..k).map(|i| c[i * k + j]).sum();
                (0..k).for_each(|i| c[i * k + j] = fix(c[i * k + j] / s));
            }
        }
        Some(Normalize::All) => {
            let s: f64 = c.iter().sum();
            for v in &mut c {
                *v = fix(*v / s);
            }
        }
    }
    Ok(ConfusionMatrix {
        n_classes: k,
        values: c,
    })
}

/// Matthews correlation coefficient, multiclass form (scikit-learn's `matthews_corrcoef`);
/// 0.0 when undefined.
pub fn matthews_corrcoef(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    let l = parse(y_true, y_pred, sample_weight)?;
    let k = l.present.len();
    let c = counts(&l, sample_weight);
    let t_sum: Vec<f64> = (0..k).map(|i| c[i * k..(i + 1) * k].iter().sum()).collect();
    let p_sum: Vec<f64> = (0..k).map(|j| (0..k).map(|i| c[i * k + j]).sum()).collect();
    let n_correct: f64 = (0..k).map(|i| c[i * k + i]).sum();
    let n: f64 = p_sum.iter().sum();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let cov_ytyp = n_correct * n - dot(&t_sum, &p_sum);
    let cov_ypyp = n * n - dot(&p_sum, &p_sum);
    let cov_ytyt = n * n - dot(&t_sum, &t_sum);
    let prod = cov_ypyp * cov_ytyt;
    Ok(if prod == 0.0 {
        0.0
    } else {
        cov_ytyp / prod.sqrt()
    })
}

/// Disagreement weights of Cohen's kappa (scikit-learn's `weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KappaWeights {
    /// Every disagreement counts 1.
    #[default]
    None,
    /// `|i - j|` between class positions.
    Linear,
    /// `(i - j)²` between class positions.
    Quadratic,
}

/// Cohen's kappa between two labelings (scikit-learn's `cohen_kappa_score`); NaN when
/// undefined (scikit-learn's default `replace_undefined_by=np.nan`). Distances of the
/// weighted forms are between positions among the classes present, as in scikit-learn.
pub fn cohen_kappa_score(
    y1: &[f64],
    y2: &[f64],
    sample_weight: Option<&[f64]>,
    weights: KappaWeights,
) -> Result<f64> {
    let l = parse(y1, y2, sample_weight)?;
    let k = l.present.len();
    let c = counts(&l, sample_weight);
    let sum0: Vec<f64> = (0..k).map(|j| (0..k).map(|i| c[i * k + j]).sum()).collect();
    let sum1: Vec<f64> = (0..k).map(|i| c[i * k..(i + 1) * k].iter().sum()).collect();
    let total: f64 = sum0.iter().sum();
    if total == 0.0 {
        return Ok(f64::NAN);
    }
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let d = i.abs_diff(j) as f64;
            let w = match weights {
                KappaWeights::None => f64::from(u8::from(i != j)),
                KappaWeights::Linear => d,
                KappaWeights::Quadratic => d * d,
            };
            num += w * c[i * k + j];
            den += w * (sum0[i] * sum1[j] / total);
        }
    }
    Ok(if den == 0.0 {
        f64::NAN
    } else {
        1.0 - num / den
    })
}

/// One row of a classification report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1_score: f64,
    /// Weighted number of true samples.
    pub support: f64,
}

/// A classification report (scikit-learn's `classification_report(output_dict=True)`):
/// per-class rows, accuracy, and macro and weighted averages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    /// Per class present in `y_true` or `y_pred`, by class index.
    pub classes: std::collections::BTreeMap<usize, ReportRow>,
    /// Accuracy (scikit-learn reports the micro-averaged F1, which equals it).
    pub accuracy: f64,
    /// Unweighted means over classes (support: the total).
    pub macro_avg: ReportRow,
    /// Support-weighted means over classes (support: the total).
    pub weighted_avg: ReportRow,
}

/// A classification report (scikit-learn's `classification_report(output_dict=True)`).
pub fn classification_report(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    zero_division: ZeroDivision,
) -> Result<ClassificationReport> {
    let l = parse(y_true, y_pred, sample_weight)?;
    let (tp, pred, truth) = class_sums(&l, sample_weight);
    let s = ratios(l.present.clone(), &tp, &pred, &truth, 1.0, zero_division);
    let total: f64 = s.support.iter().sum();
    let classes = (0..s.labels.len())
        .map(|i| {
            let row = ReportRow {
                precision: s.precision[i],
                recall: s.recall[i],
                f1_score: s.fscore[i],
                support: s.support[i],
            };
            (s.labels[i], row)
        })
        .collect();
    let avg = |weights: Option<&[f64]>| ReportRow {
        precision: nan_average(&s.precision, weights),
        recall: nan_average(&s.recall, weights),
        f1_score: nan_average(&s.fscore, weights),
        support: total,
    };
    let sum = |v: &[f64]| [v.iter().sum::<f64>()];
    let micro = ratios(
        vec![0],
        &sum(&tp),
        &sum(&pred),
        &sum(&truth),
        1.0,
        zero_division,
    );
    Ok(ClassificationReport {
        classes,
        accuracy: micro.fscore[0],
        macro_avg: avg(None),
        weighted_avg: avg(Some(&s.support)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_with_weights_and_counts() {
        let (t, p) = ([0.0, 1.0, 1.0, 2.0], [0.0, 1.0, 0.0, 2.0]);
        assert_eq!(accuracy_score(&t, &p, None, true).unwrap(), 0.75);
        assert_eq!(accuracy_score(&t, &p, None, false).unwrap(), 3.0);
        let w = [1.0, 1.0, 2.0, 0.0];
        assert_eq!(accuracy_score(&t, &p, Some(&w), true).unwrap(), 0.5);
    }

    #[test]
    fn binary_average_rejects_multiclass_and_missing_pos_label() {
        let e = precision_score(
            &[0.0, 1.0, 2.0],
            &[0.0, 1.0, 2.0],
            None,
            Average::default(),
            ZeroDivision::Warn,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("average = binary needs at most two classes"),
            "{e}"
        );
        let e = recall_score(
            &[0.0, 2.0],
            &[0.0, 2.0],
            None,
            Average::Binary { pos_label: 1 },
            ZeroDivision::Warn,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "invalid pos_label = 1: expected one of the classes present, [0, 2]"
        );
    }

    #[test]
    fn zero_division_values() {
        // Nothing predicted positive: precision is undefined.
        let (t, p) = ([0.0, 1.0], [0.0, 0.0]);
        let b = Average::default();
        assert_eq!(
            precision_score(&t, &p, None, b, ZeroDivision::Warn).unwrap(),
            0.0
        );
        assert_eq!(
            precision_score(&t, &p, None, b, ZeroDivision::One).unwrap(),
            1.0
        );
        assert!(
            precision_score(&t, &p, None, b, ZeroDivision::Nan)
                .unwrap()
                .is_nan()
        );
        // NaN classes are left out of the macro mean.
        let m = precision_score(&t, &p, None, Average::Macro, ZeroDivision::Nan).unwrap();
        assert_eq!(m, 0.5);
    }

    #[test]
    fn confusion_matrix_checks_classes_and_normalises() {
        let e = confusion_matrix(&[0.0, 3.0], &[0.0, 1.0], None, 2, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "y_true[1] = 3: expected a class index below n_classes = 2"
        );
        let cm = confusion_matrix(
            &[0.0, 0.0, 1.0],
            &[0.0, 1.0, 1.0],
            None,
            3,
            Some(Normalize::True),
        )
        .unwrap();
        assert_eq!(cm.values, vec![0.5, 0.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(cm.get(1, 1), 1.0);
    }

    #[test]
    fn mcc_and_kappa_edge_cases() {
        assert_eq!(
            matthews_corrcoef(&[1.0, 1.0], &[1.0, 1.0], None).unwrap(),
            0.0
        );
        assert!(
            cohen_kappa_score(&[1.0, 1.0], &[1.0, 1.0], None, KappaWeights::None)
                .unwrap()
                .is_nan()
        );
        assert_eq!(
            cohen_kappa_score(
                &[0.0, 1.0, 2.0],
                &[0.0, 1.0, 2.0],
                None,
                KappaWeights::Quadratic
            )
            .unwrap(),
            1.0
        );
    }

    #[test]
    fn large_class_indices_need_no_large_allocation() {
        let big = 4.0e9;
        let (t, p) = ([0.0, big, big, 7.0], [0.0, big, 7.0, 7.0]);
        let s = precision_recall_fscore_support(&t, &p, None, 1.0, ZeroDivision::Warn).unwrap();
        assert_eq!(s.labels, vec![0, 7, 4_000_000_000]);
        assert_eq!(s.recall, vec![1.0, 1.0, 0.5]);
        assert_eq!(accuracy_score(&t, &p, None, true).unwrap(), 0.75);
    }

    #[test]
    fn beta_must_be_non_negative() {
        let e = fbeta_score(
            &[0.0],
            &[0.0],
            None,
            -1.0,
            Average::Micro,
            ZeroDivision::Warn,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "invalid beta = -1: expected a finite number >= 0");
    }

    #[test]
    fn report_serialises() {
        let r = classification_report(&[0.0, 1.0, 1.0], &[0.0, 1.0, 0.0], None, ZeroDivision::Warn)
            .unwrap();
        assert_eq!(r.accuracy, 2.0 / 3.0);
        assert_eq!(r.classes[&1].recall, 0.5);
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"macro_avg\""), "{json}");
    }
}
