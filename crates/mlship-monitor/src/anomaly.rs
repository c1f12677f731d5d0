//! Input anomalies of a window against a bundle's [`ReferenceProfile`], and per-row errors once
//! labels arrive.
//!
//! - [`input_anomalies`]: per column, values outside the training range `[min, max]` (numeric and
//!   datetime columns), levels never seen in training (categorical columns whose reference
//!   sketch kept every level — a truncated sketch cannot tell unseen from rare, so its column
//!   reports none), and a missing-rate spike when the window's missing rate exceeds the
//!   reference's by at least [`AnomalyPolicy::min_missing_increase`]. A reference column absent
//!   from the window counts as entirely missing; window columns unknown to the reference are
//!   ignored.
//! - [`crate::isolation`]: a row-level anomaly score from an isolation forest.
//! - [`row_errors`]: predictions whose error exceeds a threshold, per row and as a rate.

use std::collections::BTreeMap;

use mlship_core::batch::{RawBatch, RawValue};
use mlship_core::profile::ReferenceProfile;
use mlship_core::sketch::ColumnSketch;
use serde::{Deserialize, Serialize};

use crate::error::{MonitorError, Result};

/// At most this many unseen levels are listed per column (all are counted).
pub const MAX_LISTED_LEVELS: usize = 10;

/// Thresholds of the input-anomaly checks. `Default` is the one source of defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyPolicy {
    /// A column's missing rate spikes when it exceeds the reference's by at least this much
    /// (default 0.1, ten percentage points).
    pub min_missing_increase: f64,
}

impl Default for AnomalyPolicy {
    fn default() -> Self {
        Self {
            min_missing_increase: 0.1,
        }
    }
}

/// The anomalies of one column in one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnAnomalies {
    /// The column.
    pub column: String,
    /// Values below the reference minimum.
    pub below_range: u64,
    /// Values above the reference maximum.
    pub above_range: u64,
    /// Values of levels never seen in training.
    pub unseen: u64,
    /// Up to [`MAX_LISTED_LEVELS`] unseen levels, in order of first appearance.
    pub unseen_levels: Vec<String>,
    /// Missing values in the window.
    pub missing: u64,
    /// The window's missing rate.
    pub missing_rate: f64,
    /// The reference's missing rate.
    pub reference_missing_rate: f64,
    /// Whether the missing rate spiked.
    pub missing_spike: bool,
}

/// The input anomalies of one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowAnomalies {
    /// Rows in the window.
    pub rows: usize,
    /// Rows with at least one value outside the training range.
    pub out_of_range_rows: usize,
    /// Rows with at least one unseen level.
    pub unseen_rows: usize,
    /// Per reference column, in the profile's order.
    pub columns: Vec<ColumnAnomalies>,
}

impl WindowAnomalies {
    /// The share of rows with an out-of-range value (0 for an empty window).
    pub fn out_of_range_rate(&self) -> f64 {
        rate(self.out_of_range_rows, self.rows)
    }

    /// The share of rows with an unseen level (0 for an empty window).
    pub fn unseen_rate(&self) -> f64 {
        rate(self.unseen_rows, self.rows)
    }

    /// The number of columns whose missing rate spiked.
    pub fn missing_spikes(&self) -> usize {
        self.columns.iter().filter(|c| c.missing_spike).count()
    }

    /// The window's anomaly metrics under the names alert rules use:
    /// `anomaly.out_of_range_rate`, `anomaly.unseen_category_rate` and
    /// `anomaly.missing_spike_columns`.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("anomaly.out_of_range_rate".into(), self.out_of_range_rate()),
            ("anomaly.unseen_category_rate".into(), self.unseen_rate()),
            (
                "anomaly.missing_spike_columns".into(),
                self.missing_spikes() as f64,
            ),
        ])
    }
}

fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn reference_missing_rate(sketch: &ColumnSketch) -> f64 {
    if sketch.count() == 0 {
        0.0
    } else {
        sketch.missing() as f64 / sketch.count() as f64
    }
}

/// Checks a window of raw rows against the reference profile.
///
/// # Errors
/// [`MonitorError::Invalid`] when the policy's `min_missing_increase` is not in `[0, 1]`.
pub fn input_anomalies(
    profile: &ReferenceProfile,
    window: &RawBatch,
    policy: &AnomalyPolicy,
) -> Result<WindowAnomalies> {
    if !(0.0..=1.0).contains(&policy.min_missing_increase) {
        return Err(MonitorError::Invalid {
            param: "min_missing_increase".into(),
            value: policy.min_missing_increase.to_string(),
            expected: "a rate in [0, 1]".into(),
        });
    }
    let rows = window.n_rows();
    let mut out_of_range_row = vec![false; rows];
    let mut unseen_row = vec![false; rows];
    let mut columns = Vec::with_capacity(profile.columns.len());
    for reference in &profile.columns {
        let sketch = &reference.sketch;
        let reference_missing_rate = reference_missing_rate(sketch);
        let mut found = ColumnAnomalies {
            column: reference.name.clone(),
            below_range: 0,
            above_range: 0,
            unseen: 0,
            unseen_levels: Vec::new(),
            missing: 0,
            missing_rate: 0.0,
            reference_missing_rate,
            missing_spike: false,
        };
        let Some(column) = window.column(&reference.name) else {
            found.missing = rows as u64;
            found.missing_rate = if rows == 0 { 0.0 } else { 1.0 };
            found.missing_spike =
                rows > 0 && 1.0 - reference_missing_rate >= policy.min_missing_increase;
            columns.push(found);
            continue;
        };
        let range = sketch.numeric().and_then(|n| Some((n.min()?, n.max()?)));
        let levels = sketch
            .categorical()
            .filter(|c| !c.truncated())
            .map(mlship_core::sketch::CategoricalSketch::levels);
        for row in 0..rows {
            let number = match column.value(row) {
                RawValue::Null => {
                    found.missing += 1;
                    continue;
                }
                RawValue::Number(x) if x.is_nan() => {
                    found.missing += 1;
                    continue;
                }
                RawValue::Number(x) => Some(x),
                RawValue::Datetime(us) => Some(us as f64),
                RawValue::Str(level) => {
                    if let Some(levels) = levels
                        && !levels.contains_key(level)
                    {
                        found.unseen += 1;
                        unseen_row[row] = true;
                        if found.unseen_levels.len() < MAX_LISTED_LEVELS
                            && !found.unseen_levels.iter().any(|l| l == level)
                        {
                            found.unseen_levels.push(level.to_owned());
                        }
                    }
                    None
                }
                RawValue::Bool(_) => None,
            };
            if let (Some(x), Some((lo, hi))) = (number, range) {
                if x < lo {
                    found.below_range += 1;
                    out_of_range_row[row] = true;
                } else if x > hi {
                    found.above_range += 1;
                    out_of_range_row[row] = true;
                }
            }
        }
        found.missing_rate = rate(found.missing as usize, rows);
        found.missing_spike =
            rows > 0 && found.missing_rate - reference_missing_rate >= policy.min_missing_increase;
        columns.push(found);
    }
    Ok(WindowAnomalies {
        rows,
        out_of_range_rows: out_of_range_row.iter().filter(|&&b| b).count(),
        unseen_rows: unseen_row.iter().filter(|&&b| b).count(),
        columns,
    })
}

/// Predictions whose error exceeds a threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorAnomalies {
    /// The threshold.
    pub threshold: f64,
    /// The rows whose error exceeds it, ascending.
    pub rows: Vec<usize>,
    /// Their share of all rows (0 when there are none).
    pub rate: f64,
}

impl ErrorAnomalies {
    /// The alert metric `performance.large_error_rate`: the share of rows whose error exceeds
    /// the threshold. It is a performance metric (it needs labels), so a rule on it may roll
    /// back.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        BTreeMap::from([("performance.large_error_rate".to_owned(), self.rate)])
    }
}

/// Absolute errors `|y − ŷ|` of a regressor.
///
/// # Errors
/// [`MonitorError::LengthMismatch`] when the lengths differ; [`MonitorError::NonFinite`] naming
/// the row when a label or prediction is not finite.
pub fn absolute_errors(labels: &[f64], predictions: &[f64]) -> Result<Vec<f64>> {
    if labels.len() != predictions.len() {
        return Err(MonitorError::LengthMismatch {
            what: "labels and predictions".into(),
            left: labels.len(),
            right: predictions.len(),
        });
    }
    crate::error::check_finite("labels", labels)?;
    crate::error::check_finite("predictions", predictions)?;
    Ok(labels
        .iter()
        .zip(predictions)
        .map(|(y, p)| (y - p).abs())
        .collect())
}

/// Per-row errors `1 − p(true class)` of a classifier, from its probabilities (one row of class
/// probabilities per prediction) and the index of each row's true class.
///
/// # Errors
/// [`MonitorError::LengthMismatch`] when the lengths differ; [`MonitorError::Invalid`] naming
/// the row when a class index is out of range or a probability is outside `[0, 1]`.
pub fn classification_errors(labels: &[usize], probabilities: &[Vec<f64>]) -> Result<Vec<f64>> {
    if labels.len() != probabilities.len() {
        return Err(MonitorError::LengthMismatch {
            what: "labels and probability rows".into(),
            left: labels.len(),
            right: probabilities.len(),
        });
    }
    labels
        .iter()
        .zip(probabilities)
        .enumerate()
        .map(|(row, (&label, probs))| match probs.get(label) {
            Some(&p) if (0.0..=1.0).contains(&p) => Ok(1.0 - p),
            Some(&p) => Err(MonitorError::Invalid {
                param: format!("probability of row {row}"),
                value: p.to_string(),
                expected: "a probability in [0, 1]".into(),
            }),
            None => Err(MonitorError::Invalid {
                param: format!("label of row {row}"),
                value: label.to_string(),
                expected: format!("a class index below {}", probs.len()),
            }),
        })
        .collect()
}

/// The rows whose error exceeds `threshold` and their rate.
///
/// # Errors
/// [`MonitorError::Invalid`] when the threshold is not finite; [`MonitorError::NonFinite`]
/// naming the row when an error is not finite.
pub fn row_errors(errors: &[f64], threshold: f64) -> Result<ErrorAnomalies> {
    if !threshold.is_finite() {
        return Err(MonitorError::Invalid {
            param: "error threshold".into(),
            value: threshold.to_string(),
            expected: "a finite number".into(),
        });
    }
    crate::error::check_finite("errors", errors)?;
    let rows: Vec<usize> = errors
        .iter()
        .enumerate()
        .filter(|&(_, &e)| e > threshold)
        .map(|(i, _)| i)
        .collect();
    let rate = rate(rows.len(), errors.len());
    Ok(ErrorAnomalies {
        threshold,
        rows,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use mlship_core::batch::RawColumn;

    use super::*;

    fn profile() -> ReferenceProfile {
        let batch = RawBatch::new(vec![
            RawColumn::numeric("age", (0..100).map(|i| Some(f64::from(20 + i % 40)))),
            RawColumn::categorical(
                "plan",
                (0..100).map(|i| Some(if i % 3 == 0 { "basic" } else { "pro" })),
            ),
            RawColumn::numeric(
                "income",
                (0..100).map(|i| {
                    if i % 20 == 0 {
                        None
                    } else {
                        Some(f64::from(i))
                    }
                }),
            ),
        ])
        .unwrap();
        ReferenceProfile::of(&batch, 7).unwrap()
    }

    #[test]
    fn finds_out_of_range_values_unseen_levels_and_missing_spikes() {
        let window = RawBatch::new(vec![
            RawColumn::numeric("age", [Some(18.0), Some(30.0), Some(70.0), None]),
            RawColumn::categorical(
                "plan",
                [Some("pro"), Some("gold"), Some("gold"), Some("basic")],
            ),
            RawColumn::numeric("income", [None, None, Some(5.0), Some(6.0)]),
        ])
        .unwrap();
        let found = input_anomalies(&profile(), &window, &AnomalyPolicy::default()).unwrap();
        let age = &found.columns[0];
        assert_eq!((age.below_range, age.above_range, age.missing), (1, 1, 1));
        assert!(age.missing_spike, "25 % missing against 0 %");
        let plan = &found.columns[1];
        assert_eq!(plan.unseen, 2);
        assert_eq!(plan.unseen_levels, vec!["gold".to_owned()]);
        let income = &found.columns[2];
        assert!((income.reference_missing_rate - 0.05).abs() < 1e-12);
        assert!((income.missing_rate - 0.5).abs() < 1e-12);
        assert!(income.missing_spike);
        assert_eq!(found.out_of_range_rows, 2);
        assert_eq!(found.unseen_rows, 2);
        let metrics = found.metrics();
        assert!((metrics["anomaly.out_of_range_rate"] - 0.5).abs() < 1e-12);
        assert!((metrics["anomaly.unseen_category_rate"] - 0.5).abs() < 1e-12);
        assert!((metrics["anomaly.missing_spike_columns"] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_window_like_the_reference_has_no_anomalies() {
        let reference = profile();
        let found =
            input_anomalies(&reference, &reference.reservoir, &AnomalyPolicy::default()).unwrap();
        assert_eq!(found.out_of_range_rows, 0);
        assert_eq!(found.unseen_rows, 0);
        assert_eq!(found.missing_spikes(), 0);
    }

    #[test]
    fn a_missing_column_counts_as_all_missing() {
        let window = RawBatch::new(vec![RawColumn::numeric("age", [Some(30.0)])]).unwrap();
        let found = input_anomalies(&profile(), &window, &AnomalyPolicy::default()).unwrap();
        assert!(found.columns[1].missing_spike);
        assert!((found.columns[2].missing_rate - 1.0).abs() < 1e-12);
        let msg = input_anomalies(
            &profile(),
            &window,
            &AnomalyPolicy {
                min_missing_increase: 2.0,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("min_missing_increase"), "{msg}");
    }

    #[test]
    fn errors_above_the_threshold_are_flagged_per_row_and_as_a_rate() {
        let errors = absolute_errors(&[1.0, 2.0, 3.0, 4.0], &[1.1, 2.0, 5.0, 0.0]).unwrap();
        let found = row_errors(&errors, 1.0).unwrap();
        assert_eq!(found.rows, vec![2, 3]);
        assert!((found.rate - 0.5).abs() < 1e-12);
        assert!((found.metrics()["performance.large_error_rate"] - 0.5).abs() < 1e-12);
        let errors = classification_errors(&[0, 1], &[vec![0.9, 0.1], vec![0.8, 0.2]]).unwrap();
        assert!((errors[0] - 0.1).abs() < 1e-12 && (errors[1] - 0.8).abs() < 1e-12);
        assert_eq!(row_errors(&errors, 0.5).unwrap().rows, vec![1]);
        let msg = classification_errors(&[2], &[vec![0.5, 0.5]])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("row 0"), "{msg}");
        assert!(absolute_errors(&[1.0], &[]).is_err());
        assert!(row_errors(&[f64::NAN], 0.5).is_err());
    }
}
