//! Label-free estimated performance of a classifier from its probabilities, for the windows
//! whose labels have not arrived. Both estimates assume the probabilities are calibrated (e.g.
//! through evaluate's calibration); they are reported under the `estimated.` metric family and
//! marked as estimated.
//!
//! - **Accuracy** (confidence-based): a calibrated classifier predicting its most probable class
//!   is right with probability `max_k p_k`, so the expected accuracy is the mean of each row's
//!   largest probability.
//! - **ROC AUC** (after the confidence-based performance estimation, CBPE, of `NannyML`): a row
//!   with positive-class probability `p` is a positive with probability `p`, so each pair of
//!   rows `(i, j)` is a (positive, negative) pair with probability `p_i·(1 − p_j)`. The
//!   estimate is the expected share of such pairs ranked correctly,
//!
//!   `Σ_{i≠j} p_i (1 − p_j) ([s_i > s_j] + ½[s_i = s_j]) / Σ_{i≠j} p_i (1 − p_j)`,
//!
//!   with scores `s = p`. `NannyML` integrates the ROC curve of expected true and false
//!   positives instead, which also pairs each row with itself; leaving those pairs out matches
//!   the definition of AUC over distinct rows. Computed in `O(n log n)` after sorting. For `K`
//!   classes the estimate is the unweighted mean of the `K` one-versus-rest estimates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{MonitorError, Result};

/// Performance estimated from probabilities alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EstimatedPerformance {
    /// Always true: these numbers are estimates, not measurements.
    pub estimated: bool,
    /// Rows the estimate is over.
    pub rows: usize,
    /// Expected accuracy: the mean largest probability.
    pub accuracy: f64,
    /// Expected ROC AUC (one-versus-rest macro average for more than two classes); `None` when
    /// no pair of rows can be ranked (e.g. all probabilities 0 or 1 for one class).
    pub roc_auc: Option<f64>,
}

impl EstimatedPerformance {
    /// The alert metrics: `estimated.accuracy` and, when defined, `estimated.roc_auc`.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let mut metrics = BTreeMap::from([("estimated.accuracy".to_owned(), self.accuracy)]);
        if let Some(auc) = self.roc_auc {
            metrics.insert("estimated.roc_auc".into(), auc);
        }
        metrics
    }
}

fn check_rows(probabilities: &[Vec<f64>]) -> Result<usize> {
    let Some(first) = probabilities.first() else {
        return Err(MonitorError::Empty {
            what: "probabilities".into(),
        });
    };
    let k = first.len();
    if k < 2 {
        return Err(MonitorError::Invalid {
            param: "probabilities of row 0".into(),
            value: format!("{k} class(es)"),
            expected: "at least 2 classes".into(),
        });
    }
    for (row, probs) in probabilities.iter().enumerate() {
        if probs.len() != k {
            return Err(MonitorError::LengthMismatch {
                what: format!("probabilities of row {row} and row 0"),
                left: probs.len(),
                right: k,
            });
        }
        if let Some(&p) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(MonitorError::Invalid {
                param: format!("probability of row {row}"),
                value: p.to_string(),
                expected: "a probability in [0, 1]".into(),
            });
        }
    }
    Ok(k)
}

/// The expected ROC AUC of scores `p` for a class whose membership probabilities are `p`
/// (see the module docs); `None` when the denominator is 0.
pub fn expected_roc_auc(p: &[f64]) -> Option<f64> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut negatives_below = 0.0;
    let mut numerator = 0.0;
    let mut total_pos = 0.0;
    let mut total_neg = 0.0;
    let mut self_pairs = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end < order.len() && p[order[end]] == p[order[start]] {
            end += 1;
        }
        let (mut pos, mut neg, mut own) = (0.0, 0.0, 0.0);
        for &i in &order[start..end] {
            pos += p[i];
            neg += 1.0 - p[i];
            own += p[i] * (1.0 - p[i]);
        }
        numerator += pos * negatives_below + 0.5 * (pos * neg - own);
        negatives_below += neg;
        total_pos += pos;
        total_neg += neg;
        self_pairs += own;
        start = end;
    }
    let denominator = total_pos * total_neg - self_pairs;
    (denominator > 0.0).then(|| (numerator / denominator).clamp(0.0, 1.0))
}

/// Estimates accuracy and ROC AUC from class probabilities, one row per prediction (binary
/// classifiers give two columns: negative, positive).
///
/// # Errors
/// [`MonitorError::Empty`] without rows; [`MonitorError::Invalid`] or
/// [`MonitorError::LengthMismatch`] naming the row when a row has fewer than two classes, a
/// different number of classes than the first row, or a value outside `[0, 1]`.
pub fn estimate(probabilities: &[Vec<f64>]) -> Result<EstimatedPerformance> {
    let k = check_rows(probabilities)?;
    let n = probabilities.len();
    let accuracy = probabilities
        .iter()
        .map(|row| row.iter().copied().fold(0.0, f64::max))
        .sum::<f64>()
        / n as f64;
    let classes: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
    let aucs: Option<Vec<f64>> = classes
        .iter()
        .map(|&c| {
            let p: Vec<f64> = probabilities.iter().map(|row| row[c]).collect();
            expected_roc_auc(&p)
        })
        .collect();
    let roc_auc = aucs.map(|a| a.iter().sum::<f64>() / a.len() as f64);
    Ok(EstimatedPerformance {
        estimated: true,
        rows: n,
        accuracy,
        roc_auc,
    })
}

#[cfg(test)]
mod tests {
    use mlship_core::rng::Rng;

    use super::*;

    /// Realised ROC AUC by counting pairs (ties count one half).
    fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
        let (mut good, mut pairs) = (0.0, 0.0);
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    if si > sj {
                        good += 1.0;
                    } else if si == sj {
                        good += 0.5;
                    }
                }
            }
        }
        good / pairs
    }

    #[test]
    fn two_rows_by_hand() {
        // Pairs: (0.9 positive, 0.1 negative) with weight 0.81 ranked right; (0.1 positive,
        // 0.9 negative) with weight 0.01 ranked wrong.
        let auc = expected_roc_auc(&[0.9, 0.1]).unwrap();
        assert!((auc - 0.81 / 0.82).abs() < 1e-12, "{auc}");
        assert_eq!(expected_roc_auc(&[1.0, 1.0]), None);
        let est = estimate(&[vec![0.1, 0.9], vec![0.9, 0.1]]).unwrap();
        assert!(est.estimated);
        assert!((est.accuracy - 0.9).abs() < 1e-12);
        assert!((est.roc_auc.unwrap() - 0.81 / 0.82).abs() < 1e-12);
    }

    #[test]
    fn estimates_match_realised_performance_on_calibrated_probabilities() {
        // Labels drawn from the probabilities themselves: the probabilities are calibrated.
        let mut rng = Rng::new(42);
        let n = 3000;
        let p: Vec<f64> = (0..n)
            .map(|_| 1.0 / (1.0 + (-1.5 * rng.normal()).exp()))
            .collect();
        let labels: Vec<bool> = p.iter().map(|&pi| rng.bernoulli(pi)).collect();
        let probs: Vec<Vec<f64>> = p.iter().map(|&pi| vec![1.0 - pi, pi]).collect();
        let est = estimate(&probs).unwrap();
        let realised_accuracy = p
            .iter()
            .zip(&labels)
            .filter(|&(&pi, &y)| (pi >= 0.5) == y)
            .count() as f64
            / n as f64;
        let realised_auc = roc_auc(&p, &labels);
        assert!(
            (est.accuracy - realised_accuracy).abs() < 0.03,
            "{} vs {realised_accuracy}",
            est.accuracy
        );
        let auc = est.roc_auc.unwrap();
        assert!((auc - realised_auc).abs() < 0.03, "{auc} vs {realised_auc}");
        assert!(est.metrics().contains_key("estimated.roc_auc"));
    }

    #[test]
    fn multiclass_is_the_macro_average_of_one_versus_rest() {
        let probs = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.1, 0.8],
            vec![0.3, 0.4, 0.3],
        ];
        let est = estimate(&probs).unwrap();
        let per_class: Vec<f64> = (0..3)
            .map(|c| {
                let p: Vec<f64> = probs.iter().map(|r| r[c]).collect();
                expected_roc_auc(&p).unwrap()
            })
            .collect();
        let mean = per_class.iter().sum::<f64>() / 3.0;
        assert!((est.roc_auc.unwrap() - mean).abs() < 1e-12);
        assert!((est.accuracy - (0.7 + 0.5 + 0.8 + 0.4) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn bad_probabilities_are_refused_by_row() {
        assert!(estimate(&[]).is_err());
        let msg = estimate(&[vec![0.5, 0.5], vec![1.5, -0.5]])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("row 1"), "{msg}");
        let msg = estimate(&[vec![0.5, 0.5], vec![1.0]])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("row 1"), "{msg}");
        assert!(estimate(&[vec![1.0]]).is_err());
    }
}
