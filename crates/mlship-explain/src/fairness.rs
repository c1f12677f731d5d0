//! Fairness of a binary classifier across the groups of a sensitive column.
//!
//! Per group (as Fairlearn's `MetricFrame`): rows, selection rate, accuracy, true and false
//! positive rates, and — when asked for and the model gives probabilities — the mean predicted
//! probability. Gaps, as Fairlearn defines them between groups: demographic parity difference
//! (max − min selection rate) and ratio (min / max), equalized odds difference (the larger of
//! the TPR and FPR differences) and ratio (the smaller of the TPR and FPR ratios). Each gap comes
//! with a percentile bootstrap interval: rows are resampled with replacement within each group
//! (so every group stays present), in parallel, each replicate from its own seeded generator.

use std::collections::BTreeMap;

use mlship_core::RawBatch;
use mlship_core::batch::RawValue;
use mlship_core::rng::Rng;
use mlship_core::traits::RawPredictor;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};
use crate::raw;

/// Fairness parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FairnessParams {
    /// Bootstrap replicates for the intervals (0: no intervals).
    pub n_bootstrap: usize,
    /// Coverage of the intervals, in `(0, 1)`.
    pub confidence: f64,
    /// Seed of the resampling.
    pub seed: u64,
    /// Also report the mean predicted probability per group (needs probabilities).
    pub mean_probability: bool,
}

impl Default for FairnessParams {
    fn default() -> Self {
        Self {
            n_bootstrap: 200,
            confidence: 0.95,
            seed: 0,
            mean_probability: false,
        }
    }
}

/// A statistic with its bootstrap interval. `None` where it is undefined (a ratio whose
/// denominator is zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The value on the data.
    pub value: Option<f64>,
    /// The lower end of the interval.
    pub low: Option<f64>,
    /// The upper end of the interval.
    pub high: Option<f64>,
}

/// The metrics of one group (or of all rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// The group's value of the sensitive column (`overall` for all rows).
    pub group: String,
    /// Rows in the group.
    pub count: usize,
    /// Metric name → value; undefined rates (no positives for the TPR) are absent.
    pub metrics: BTreeMap<String, f64>,
}

/// A fairness report for one sensitive column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessReport {
    /// The sensitive column.
    pub column: String,
    /// All rows together.
    pub overall: GroupMetrics,
    /// Per group, sorted by group value.
    pub groups: Vec<GroupMetrics>,
    /// Gap name → estimate: `demographic_parity_difference`, `demographic_parity_ratio`,
    /// `equalized_odds_difference`, `equalized_odds_ratio`.
    pub gaps: BTreeMap<String, Estimate>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    n: f64,
    tp: f64,
    fp: f64,
    tn: f64,
    fn_: f64,
    proba: f64,
}

impl Counts {
    fn add(&mut self, truth: bool, pred: bool, proba: f64) {
        self.n += 1.0;
        self.proba += proba;
        match (truth, pred) {
            (true, true) => self.tp += 1.0,
            (false, true) => self.fp += 1.0,
            (false, false) => self.tn += 1.0,
            (true, false) => self.fn_ += 1.0,
        }
    }
    fn selection_rate(&self) -> f64 {
        (self.tp + self.fp) / self.n
    }
    fn tpr(&self) -> Option<f64> {
        let p = self.tp + self.fn_;
        (p > 0.0).then(|| self.tp / p)
    }
    fn fpr(&self) -> Option<f64> {
        let q = self.fp + self.tn;
        (q > 0.0).then(|| self.fp / q)
    }
    fn metrics(&self, with_proba: bool) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        m.insert("selection_rate".into(), self.selection_rate());
        m.insert("accuracy".into(), (self.tp + self.tn) / self.n);
        if let Some(v) = self.tpr() {
            m.insert("true_positive_rate".into(), v);
        }
        if let Some(v) = self.fpr() {
            m.insert("false_positive_rate".into(), v);
        }
        if with_proba {
            m.insert("mean_probability".into(), self.proba / self.n);
        }
        m
    }
}

/// Difference and ratio between groups of one rate; `None` entries are skipped.
fn spread(values: impl Iterator<Item = Option<f64>>) -> (Option<f64>, Option<f64>) {
    let vals: Vec<f64> = values.flatten().collect();
    if vals.is_empty() {
        return (None, None);
    }
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (Some(hi - lo), (hi > 0.0).then(|| lo / hi))
}

const GAPS: [&str; 4] = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
];

fn gaps(groups: &[Counts]) -> [Option<f64>; 4] {
    let (dpd, dpr) = spread(groups.iter().map(|c| Some(c.selection_rate())));
    let (tpd, tpr) = spread(groups.iter().map(Counts::tpr));
    let (fpd, fpr) = spread(groups.iter().map(Counts::fpr));
    let eod = match (tpd, fpd) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let eor = match (tpr, fpr) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => None,
    };
    [dpd, dpr, eod, eor]
}

/// The fairness report from outcomes: `truth` and `pred` say whether each row is (predicted)
/// positive, `proba` is the predicted probability of the positive class when known, `groups`
/// the sensitive column's value per row.
#[allow(clippy::too_many_lines)] // one pass: validation, counts, bootstrap, report
pub fn fairness_from_outcomes(
    column: &str,
    truth: &[bool],
    pred: &[bool],
    proba: Option<&[f64]>,
    groups: &[String],
    params: &FairnessParams,
) -> Result<FairnessReport> {
    let n = truth.len();
    if pred.len() != n || groups.len() != n || proba.is_some_and(|p| p.len() != n) {
        return Err(ExplainError::shape(
            "predictions and groups",
            n,
            pred.len().min(groups.len()),
        ));
    }
    if params.mean_probability && proba.is_none() {
        return Err(ExplainError::NoProbabilities {
            metric: "mean_probability".into(),
        });
    }
    if !(params.confidence > 0.0 && params.confidence < 1.0) {
        return Err(ExplainError::invalid(
            "confidence",
            params.confidence,
            "a value in (0, 1)",
        ));
    }
    let mut index: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (r, g) in groups.iter().enumerate() {
        index.entry(g.as_str()).or_default().push(r);
    }
    if index.len() < 2 {
        return Err(ExplainError::Data(format!(
            "column {column:?} has {} group(s) in the data: fairness compares at least 2",
            index.len()
        )));
    }
    if let Some((g, rows)) = index.iter().find(|(_, rows)| rows.len() < 2) {
        return Err(ExplainError::SmallGroup {
            column: column.to_owned(),
            group: (*g).to_owned(),
            rows: rows.len(),
            needed: 2,
        });
    }
    let p = |r: usize| proba.map_or(0.0, |p| p[r]);
    let count = |rows: &mut dyn Iterator<Item = usize>| {
        let mut c = Counts::default();
        for r in rows {
            c.add(truth[r], pred[r], p(r));
        }
        c
    };
    let per_group: Vec<Counts> = index
        .values()
        .map(|rows| count(&mut rows.iter().copied()))
        .collect();
    let all = count(&mut (0..n));
    let with_p = params.mean_probability;
    let point = gaps(&per_group);
    let replicates: Vec<[Option<f64>; 4]> = (0..params.n_bootstrap)
        .into_par_iter()
        .map(|b| {
            let mut rng = Rng::derive(params.seed, b as u64);
            let counts: Vec<Counts> = index
                .values()
                .map(|rows| count(&mut (0..rows.len()).map(|_| rows[rng.index(rows.len())])))
                .collect();
            gaps(&counts)
        })
        .collect();
    let alpha = (1.0 - params.confidence) / 2.0;
    let mut out_gaps = BTreeMap::new();
    for (i, name) in GAPS.iter().enumerate() {
        let mut sample: Vec<f64> = replicates.iter().filter_map(|r| r[i]).collect();
        sample.sort_by(f64::total_cmp);
        let q = |p: f64| {
            (!sample.is_empty()).then(|| {
                let h = (sample.len() - 1) as f64 * p;
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(sample.len() - 1);
                sample[lo] + (h - lo as f64) * (sample[hi] - sample[lo])
            })
        };
        out_gaps.insert(
            (*name).to_owned(),
            Estimate {
                value: point[i],
                low: q(alpha),
                high: q(1.0 - alpha),
            },
        );
    }
    Ok(FairnessReport {
        column: column.to_owned(),
        overall: GroupMetrics {
            group: "overall".into(),
            count: n,
            metrics: all.metrics(with_p),
        },
        groups: index
            .keys()
            .zip(&per_group)
            .map(|(g, c)| GroupMetrics {
                group: (*g).to_owned(),
                count: c.n as usize,
                metrics: c.metrics(with_p),
            })
            .collect(),
        gaps: out_gaps,
    })
}

/// The fairness report of a binary classifier on `data` with the true labels `labels` (one per
/// row, as the task's class labels) across the groups of the raw column `sensitive`.
pub fn fairness(
    predictor: &dyn RawPredictor,
    data: &RawBatch,
    labels: &[String],
    sensitive: &str,
    params: &FairnessParams,
) -> Result<FairnessReport> {
    let task = predictor.task();
    if task.n_classes() != 2 {
        return Err(ExplainError::Unsupported(format!(
            "fairness gaps need a binary classifier, this model is {}",
            task.name()
        )));
    }
    let col = &data.columns()[raw::column_index(data, sensitive)?];
    if labels.len() != data.n_rows() {
        return Err(ExplainError::shape("labels", data.n_rows(), labels.len()));
    }
    let positive = &task.classes()[1];
    let negative = &task.classes()[0];
    let truth: Vec<bool> = labels
        .iter()
        .enumerate()
        .map(|(r, l)| {
            if l == positive {
                Ok(true)
            } else if l == negative {
                Ok(false)
            } else {
                Err(ExplainError::Data(format!(
                    "row {r}: label {l:?} is not a class of the model ({negative:?}, {positive:?})"
                )))
            }
        })
        .collect::<Result<_>>()?;
    let pred = predictor.predict(data)?;
    let yhat: Vec<bool> = pred.values.iter().map(|&v| v == 1.0).collect();
    let proba: Option<Vec<f64>> = pred.probabilities.as_ref().map(|p| p.column(1).to_vec());
    let groups: Vec<String> = (0..data.n_rows())
        .map(|r| match col.value(r) {
            RawValue::Null => "(missing)".to_owned(),
            RawValue::Str(s) => s.to_owned(),
            v => v.to_string(),
        })
        .collect();
    fairness_from_outcomes(sensitive, &truth, &yhat, proba.as_deref(), &groups, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Toy, toy_batch};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn gaps_by_hand() {
        // Group a: selection 2/4, TPR 1/2, FPR 1/2. Group b: selection 1/4, TPR 1/1, FPR 0/3.
        let truth = [true, true, false, false, true, false, false, false];
        let pred = [true, false, true, false, true, false, false, false];
        let groups = s(&["a", "a", "a", "a", "b", "b", "b", "b"]);
        let r = fairness_from_outcomes(
            "g",
            &truth,
            &pred,
            None,
            &groups,
            &FairnessParams::default(),
        )
        .unwrap();
        let v = |k: &str| r.gaps[k].value.unwrap();
        assert_eq!(v("demographic_parity_difference"), 0.25);
        assert_eq!(v("demographic_parity_ratio"), 0.5);
        assert_eq!(v("equalized_odds_difference"), 0.5);
        assert_eq!(v("equalized_odds_ratio"), 0.0);
        assert_eq!(r.groups[1].metrics["true_positive_rate"], 1.0);
        assert_eq!(r.overall.metrics["accuracy"], 6.0 / 8.0);
        for e in r.gaps.values() {
            if let (Some(lo), Some(hi), Some(x)) = (e.low, e.high, e.value) {
                assert!(lo <= hi && lo <= x + 0.5 && hi >= x - 0.5);
            }
        }
    }

    #[test]
    fn bad_input_is_named() {
        let toy = Toy::classifier();
        let data = toy_batch(30, 1);
        let labels: Vec<String> = toy.predict(&data).unwrap().labels.unwrap();
        let p = FairnessParams::default();
        let e = fairness(&toy, &data, &labels, "gender", &p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown column \"gender\"") && e.contains("a, b, c"),
            "{e}"
        );
        let r = fairness(&toy, &data, &labels, "c", &p).unwrap();
        assert_eq!(r.groups.len(), 3);
        assert_eq!(r.gaps["equalized_odds_difference"].value, Some(0.0));

        let truth = [true, false, true];
        let groups = s(&["a", "a", "b"]);
        let e = fairness_from_outcomes("g", &truth, &truth, None, &groups, &p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("group \"b\" of column \"g\" has 1 row(s)"),
            "{e}"
        );

        let mut no_proba = Toy::classifier();
        no_proba.probabilities = false;
        let with_p = FairnessParams {
            mean_probability: true,
            ..p
        };
        let e = fairness(&no_proba, &data, &labels, "c", &with_p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("metric mean_probability needs class probabilities"),
            "{e}"
        );
        let r = fairness(&toy, &data, &labels, "c", &with_p).unwrap();
        assert!(r.groups[0].metrics.contains_key("mean_probability"));
    }
}
