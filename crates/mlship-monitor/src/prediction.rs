//! Prediction drift (the model's output distribution) and target drift (the labels', once they
//! arrive), decided by the same tests, defaults, correction and effect-size floors as input
//! columns ([`crate::policy`]). Numeric outputs (regression values, a positive-class
//! probability) are compared as a numeric column, class labels as a categorical one — a
//! boolean one when reference and current hold at most two classes together.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::drift::categorical::align_counts;
use crate::error::{MonitorError, Result};
use crate::policy::{ColumnDrift, ColumnKind, DriftPolicy, evaluate_columns};
use crate::verdict::DriftInput;

/// A sample of model outputs or labels.
#[derive(Clone, Copy, Debug)]
pub enum OutputSample<'a> {
    /// Numeric outputs: regression values or a class probability.
    Numeric(&'a [f64]),
    /// Class labels.
    Classes(&'a [String]),
}

impl OutputSample<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Numeric(v) => v.len(),
            Self::Classes(v) => v.len(),
        }
    }
}

/// The drift of one output column with the metric alert rules read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputDrift {
    /// The column's outcome under the policy (its name is `prediction` or `target`).
    #[serde(flatten)]
    pub drift: ColumnDrift,
}

impl OutputDrift {
    /// The alert metrics: `drift.<name>` (1 when drifted, 0 otherwise) and
    /// `drift.<name>_statistic` (the test statistic).
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let name = &self.drift.verdict.column;
        BTreeMap::from([
            (
                format!("drift.{name}"),
                f64::from(u8::from(self.drift.verdict.drifted)),
            ),
            (
                format!("drift.{name}_statistic"),
                self.drift.verdict.statistic,
            ),
        ])
    }
}

fn counts(labels: &[String]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for label in labels {
        *counts.entry(label.clone()).or_insert(0) += 1;
    }
    counts
}

/// Compares a reference and a current output sample of the column `name` under `policy`.
///
/// # Errors
/// [`MonitorError::Invalid`] when the two samples are of different kinds; the policy's and the
/// tests' errors (empty or non-finite samples) otherwise, naming the column.
pub fn output_drift(
    name: &str,
    reference: OutputSample<'_>,
    current: OutputSample<'_>,
    policy: &DriftPolicy,
) -> Result<OutputDrift> {
    let reference_rows = reference.len();
    let result = match (reference, current) {
        (OutputSample::Numeric(r), OutputSample::Numeric(c)) => evaluate_columns(
            policy,
            &[(
                name.to_owned(),
                ColumnKind::Numeric,
                DriftInput::Numeric {
                    reference: r,
                    current: c,
                },
            )],
            reference_rows,
        ),
        (OutputSample::Classes(r), OutputSample::Classes(c)) => {
            if r.is_empty() || c.is_empty() {
                return Err(MonitorError::Empty {
                    what: format!(
                        "{} sample of column {name}",
                        if r.is_empty() { "reference" } else { "current" }
                    ),
                });
            }
            let (levels, r, c) = align_counts(&counts(r), &counts(c));
            let kind = if levels.len() <= 2 {
                ColumnKind::Boolean
            } else {
                ColumnKind::Categorical
            };
            evaluate_columns(
                policy,
                &[(
                    name.to_owned(),
                    kind,
                    DriftInput::Frequencies {
                        reference: &r,
                        current: &c,
                    },
                )],
                reference_rows,
            )
        }
        _ => {
            return Err(MonitorError::Invalid {
                param: format!("samples of column {name}"),
                value: "one numeric, one of class labels".into(),
                expected: "reference and current of the same kind".into(),
            });
        }
    }?;
    let drift = result
        .columns
        .into_iter()
        .next()
        .ok_or_else(|| MonitorError::Empty {
            what: format!("drift result of column {name}"),
        })?;
    Ok(OutputDrift { drift })
}

/// Prediction drift: the model's outputs on the reference against the current window's.
///
/// # Errors
/// As [`output_drift`].
pub fn prediction_drift(
    reference: OutputSample<'_>,
    current: OutputSample<'_>,
    policy: &DriftPolicy,
) -> Result<OutputDrift> {
    output_drift("prediction", reference, current, policy)
}

/// Target drift: the training labels against the labels that arrived for the current window.
///
/// # Errors
/// As [`output_drift`].
pub fn target_drift(
    reference: OutputSample<'_>,
    current: OutputSample<'_>,
    policy: &DriftPolicy,
) -> Result<OutputDrift> {
    output_drift("target", reference, current, policy)
}

#[cfg(test)]
mod tests {
    use mlship_core::rng::Rng;

    use super::*;
    use crate::verdict::DriftTest;

    fn normal(seed: u64, n: usize, mean: f64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.normal_with(mean, 1.0)).collect()
    }

    #[test]
    fn a_shifted_regression_output_drifts_and_a_resample_does_not() {
        let policy = DriftPolicy::default();
        let reference = normal(1, 500, 0.0);
        let same = prediction_drift(
            OutputSample::Numeric(&reference),
            OutputSample::Numeric(&normal(2, 500, 0.0)),
            &policy,
        )
        .unwrap();
        assert_eq!(same.drift.verdict.test, DriftTest::Ks);
        assert!(!same.drift.verdict.drifted, "{}", same.drift.verdict.reason);
        let shifted = prediction_drift(
            OutputSample::Numeric(&reference),
            OutputSample::Numeric(&normal(3, 500, 0.8)),
            &policy,
        )
        .unwrap();
        assert!(
            shifted.drift.verdict.drifted,
            "{}",
            shifted.drift.verdict.reason
        );
        assert_eq!(shifted.metrics()["drift.prediction"], 1.0);
        assert!(shifted.metrics()["drift.prediction_statistic"] > 0.2);
    }

    #[test]
    fn class_labels_use_the_frequency_tests() {
        let policy = DriftPolicy::default();
        let label = |s: &str, n: usize| vec![s.to_owned(); n];
        let reference = [label("a", 300), label("b", 300), label("c", 300)].concat();
        let current = [label("a", 600), label("b", 150), label("c", 150)].concat();
        let drift = target_drift(
            OutputSample::Classes(&reference),
            OutputSample::Classes(&current),
            &policy,
        )
        .unwrap();
        assert_eq!(drift.drift.verdict.column, "target");
        assert_eq!(drift.drift.verdict.test, DriftTest::ChiSquare);
        assert!(
            drift.drift.verdict.drifted,
            "{}",
            drift.drift.verdict.reason
        );
        let two = [label("yes", 400), label("no", 400)].concat();
        let drift = target_drift(
            OutputSample::Classes(&two),
            OutputSample::Classes(&two),
            &policy,
        )
        .unwrap();
        assert_eq!(drift.drift.verdict.test, DriftTest::ZTest);
        assert!(!drift.drift.verdict.drifted);
        assert_eq!(drift.metrics()["drift.target"], 0.0);
    }

    #[test]
    fn mismatched_or_empty_samples_are_refused() {
        let policy = DriftPolicy::default();
        let msg = prediction_drift(
            OutputSample::Numeric(&[1.0]),
            OutputSample::Classes(&["a".to_owned()]),
            &policy,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("prediction"), "{msg}");
        let msg = target_drift(
            OutputSample::Classes(&[]),
            OutputSample::Classes(&["a".to_owned()]),
            &policy,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("reference") && msg.contains("target"), "{msg}");
    }
}
