//! Which test runs on which column, how many columns must drift for the dataset to drift, and
//! the two guards against crying wolf: multiple-testing correction and an effect-size floor.
//!
//! # Default test per column (Evidently's `_get_default_stattest`)
//!
//! `n_unique` counts the distinct values of reference and current together, as Evidently does
//! (`pd.concat([reference, current]).nunique()`); for frequencies it is the number of levels
//! with mass on either side, for sketches it is unknown and taken as many.
//!
//! | kind                         | reference rows ≤ 1,000                 | reference rows > 1,000          |
//! |------------------------------|----------------------------------------|---------------------------------|
//! | numeric, `n_unique` > 5      | KS, drift when p < 0.05                | normed Wasserstein, drift ≥ 0.1 |
//! | numeric, 3 ≤ `n_unique` ≤ 5  | chi-square, p < 0.05                   | Jensen–Shannon, ≥ 0.1           |
//! | numeric, `n_unique` ≤ 2      | z-test, p < 0.05                       | Jensen–Shannon, ≥ 0.1           |
//! | categorical, > 2 levels      | chi-square, p < 0.05                   | Jensen–Shannon, ≥ 0.1           |
//! | categorical, ≤ 2 levels      | z-test, p < 0.05                       | Jensen–Shannon, ≥ 0.1           |
//! | boolean / two-valued         | z-test, p < 0.05                       | Jensen–Shannon, ≥ 0.1           |
//!
//! A numeric column with few distinct values is treated as categorical: its raw samples are
//! counted per distinct value (the frequencies of reference and current aligned on the union of
//! values) before chi-square, the z-test or Jensen–Shannon run. The same happens whenever a
//! per-column override asks a frequency test of a numeric column. `DriftPolicy::tests` and
//! `DriftPolicy::thresholds` override the test and threshold per column.
//!
//! # Guards (beyond Evidently)
//!
//! - **Multiple-testing correction** (`correction`, default `benjamini_hochberg`): the p-values
//!   of all p-value tests of one run are adjusted together before being compared with their
//!   thresholds. With 50 columns and no drift at all, uncorrected tests at p < 0.05 flag about
//!   2.5 columns per run; Benjamini–Hochberg bounds the expected share of false alarms among the
//!   flagged columns at the threshold, and keeps more power than Bonferroni (which bounds the
//!   chance of any false alarm and so misses real drift on wide tables). `none` reproduces
//!   Evidently. Distance tests are not corrected: they have no p-value.
//! - **Effect-size floor**: on large samples a p-value test finds differences too small to
//!   matter. A p-value test counts as drift only when its effect size also reaches a floor:
//!
//!   | test       | effect size                                              | floor (default)              |
//!   |------------|----------------------------------------------------------|------------------------------|
//!   | KS         | the KS statistic, the largest gap between the two ECDFs  | `min_ks_statistic` = 0.1     |
//!   | chi-square | Cramér's V `√(χ² / (n_cur · (k − 1)))`, k levels present | `min_cramers_v` = 0.1        |
//!   | z-test     | absolute difference of the two level-0 shares            | `min_proportion_diff` = 0.05 |
//!
//!   A floor of 0 turns the guard off.
//!
//! # Dataset drift
//!
//! The dataset drifts when the share of drifted columns is at least `drift_share` (default 0.5,
//! as Evidently). With `weights` (e.g. feature importances) the share is weighted: weights are
//! normalised over the evaluated columns, a column without a weight counts 0.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::correction;
use crate::error::{MonitorError, Result};
use crate::verdict::{DriftInput, DriftTest, DriftVerdict, fmt_num, run_test};

/// Evidently's boundary between small and large references (rows).
pub const SMALL_REFERENCE_ROWS: usize = 1_000;

/// Evidently's boundary: a numeric column with at most this many distinct values is tested as
/// categorical.
pub const MAX_UNIQUE_AS_CATEGORICAL: usize = 5;

/// The kind of a column, for choosing its default test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Numeric values.
    Numeric,
    /// Categories (strings or codes).
    Categorical,
    /// A boolean or otherwise two-valued column.
    Boolean,
}

/// The multiple-testing correction applied to the p-value tests of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// No correction (Evidently's behaviour).
    None,
    /// Bonferroni: bounds the chance of any false alarm.
    Bonferroni,
    /// Benjamini–Hochberg: bounds the expected share of false alarms among flagged columns.
    #[default]
    BenjaminiHochberg,
}

impl Correction {
    fn label(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Bonferroni => "Bonferroni",
            Self::BenjaminiHochberg => "Benjamini-Hochberg",
        }
    }
}

/// How drift is decided per column and for the dataset. `Default` is the one source of
/// defaults (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftPolicy {
    /// Share (weighted when `weights` is set) of drifted columns at which the dataset drifts.
    pub drift_share: f64,
    /// Correction of the p-value tests of one run.
    pub correction: Correction,
    /// Effect-size floor for KS: the statistic must reach it.
    pub min_ks_statistic: f64,
    /// Effect-size floor for chi-square: Cramér's V must reach it.
    pub min_cramers_v: f64,
    /// Effect-size floor for the z-test: `|p_ref − p_cur|` must reach it.
    pub min_proportion_diff: f64,
    /// Per-column test overrides.
    pub tests: BTreeMap<String, DriftTest>,
    /// Per-column threshold overrides (otherwise the test's default threshold).
    pub thresholds: BTreeMap<String, f64>,
    /// Optional per-column importance weights for the dataset share.
    pub weights: Option<BTreeMap<String, f64>>,
}

impl Default for DriftPolicy {
    fn default() -> Self {
        Self {
            drift_share: 0.5,
            correction: Correction::BenjaminiHochberg,
            min_ks_statistic: 0.1,
            min_cramers_v: 0.1,
            min_proportion_diff: 0.05,
            tests: BTreeMap::new(),
            thresholds: BTreeMap::new(),
            weights: None,
        }
    }
}

fn invalid(param: &str, value: f64, expected: &str) -> MonitorError {
    MonitorError::Invalid {
        param: param.into(),
        value: value.to_string(),
        expected: expected.into(),
    }
}

impl DriftPolicy {
    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<()> {
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            return Err(invalid(
                "drift_share",
                self.drift_share,
                "a share in (0, 1]",
            ));
        }
        for (name, value) in [
            ("min_ks_statistic", self.min_ks_statistic),
            ("min_cramers_v", self.min_cramers_v),
            ("min_proportion_diff", self.min_proportion_diff),
        ] {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(invalid(name, value, "an effect-size floor in [0, 1]"));
            }
        }
        if let Some(weights) = &self.weights {
            check_weights(weights)?;
        }
        Ok(())
    }
}

fn check_weights(weights: &BTreeMap<String, f64>) -> Result<()> {
    if let Some((column, &w)) = weights.iter().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
        return Err(invalid(
            &format!("weight of column {column}"),
            w,
            "a finite weight >= 0",
        ));
    }
    Ok(())
}

/// Evidently's default test for a column of `kind` with `n_unique` distinct values (reference
/// and current together) and a reference of `reference_rows` rows (see the module table).
pub fn default_test(kind: ColumnKind, n_unique: usize, reference_rows: usize) -> DriftTest {
    let small = reference_rows <= SMALL_REFERENCE_ROWS;
    let categorical_like = match kind {
        ColumnKind::Numeric => n_unique <= MAX_UNIQUE_AS_CATEGORICAL,
        ColumnKind::Categorical | ColumnKind::Boolean => true,
    };
    match (small, categorical_like) {
        (true, false) => DriftTest::Ks,
        (false, false) => DriftTest::Wasserstein,
        (false, true) => DriftTest::JensenShannon,
        (true, true) => {
            if kind != ColumnKind::Boolean && n_unique > 2 {
                DriftTest::ChiSquare
            } else {
                DriftTest::ZTest
            }
        }
    }
}

/// One column's outcome under a policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnDrift {
    /// The verdict: `p_value` is the raw p-value, `drifted` and `reason` the policy's decision.
    #[serde(flatten)]
    pub verdict: DriftVerdict,
    /// The kind of column.
    pub kind: ColumnKind,
    /// The corrected p-value, for p-value tests.
    pub adjusted_p_value: Option<f64>,
    /// The effect size, for p-value tests.
    pub effect_size: Option<f64>,
    /// The effect-size floor applied, for p-value tests.
    pub effect_floor: Option<f64>,
}

/// The dataset-level decision and the per-column outcomes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetDrift {
    /// Per-column outcomes, in input order.
    pub columns: Vec<ColumnDrift>,
    /// The correction applied to p-value tests.
    pub correction: Correction,
    /// Whether the share below is weighted by importance.
    pub weighted: bool,
    /// The (weighted) share of drifted columns.
    pub drifted_share: f64,
    /// The share at which the dataset drifts.
    pub drift_share: f64,
    /// Whether the dataset drifted.
    pub drifted: bool,
    /// Why, in words.
    pub reason: String,
}

/// Counts of each distinct value of `reference` ∪ `current`, aligned; `None` when a value is
/// not finite (the test itself then reports it).
fn numeric_frequencies(reference: &[f64], current: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    if reference.iter().chain(current).any(|v| !v.is_finite()) {
        return None;
    }
    let mut values: Vec<f64> = reference.iter().chain(current).copied().collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let count = |sample: &[f64]| {
        let mut counts = vec![0.0; values.len()];
        for v in sample {
            if let Ok(i) = values.binary_search_by(|x| x.total_cmp(v)) {
                counts[i] += 1.0;
            }
        }
        counts
    };
    Some((count(reference), count(current)))
}

/// For the z-test: drops levels empty on both sides and pads to two levels, so a column whose
/// reference and current hold one or two values between them gets exactly two (Evidently counts
/// distinct values present). Vectors that are misaligned or keep more than two levels are
/// returned unchanged for the test to report.
fn two_levels(reference: Vec<f64>, current: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    if reference.len() != current.len() {
        return (reference, current);
    }
    let (mut r, mut c): (Vec<f64>, Vec<f64>) = reference
        .iter()
        .zip(&current)
        .filter(|(a, b)| **a != 0.0 || **b != 0.0)
        .map(|(&a, &b)| (a, b))
        .unzip();
    if r.len() > 2 {
        return (reference, current);
    }
    r.resize(2, 0.0);
    c.resize(2, 0.0);
    (r, c)
}

fn n_unique(input: &DriftInput<'_>) -> usize {
    match input {
        DriftInput::Numeric { reference, current } => {
            let mut values: Vec<f64> = reference.iter().chain(*current).copied().collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            values.len()
        }
        DriftInput::Sketches { .. } => usize::MAX,
        DriftInput::Frequencies { reference, current } => {
            let n = reference.len().max(current.len());
            (0..n)
                .filter(|&i| {
                    reference.get(i).is_some_and(|&v| v != 0.0)
                        || current.get(i).is_some_and(|&v| v != 0.0)
                })
                .count()
        }
    }
}

fn needs_frequencies(test: DriftTest) -> bool {
    matches!(
        test,
        DriftTest::ChiSquare
            | DriftTest::ZTest
            | DriftTest::JensenShannon
            | DriftTest::KlDiv
            | DriftTest::Hellinger
    )
}

/// The effect size of a p-value test and the policy's floor for it.
fn effect(
    policy: &DriftPolicy,
    verdict: &DriftVerdict,
    freq: Option<(&[f64], &[f64])>,
) -> (f64, f64) {
    match verdict.test {
        DriftTest::ChiSquare => {
            let v = freq.map_or(f64::NAN, |(r, c)| {
                let n: f64 = c.iter().sum();
                let k = r
                    .iter()
                    .zip(c)
                    .filter(|(a, b)| **a != 0.0 || **b != 0.0)
                    .count();
                if n > 0.0 && k > 1 {
                    (verdict.statistic / (n * (k - 1) as f64)).sqrt()
                } else {
                    0.0
                }
            });
            (v, policy.min_cramers_v)
        }
        DriftTest::ZTest => {
            let d = match freq {
                Some((&[r0, r1], &[c0, c1])) => (r0 / (r0 + r1) - c0 / (c0 + c1)).abs(),
                _ => f64::NAN,
            };
            (d, policy.min_proportion_diff)
        }
        _ => (verdict.statistic, policy.min_ks_statistic),
    }
}

/// Decides a p-value test's drift from its corrected p-value and effect size, and says why.
fn decide(
    policy: &DriftPolicy,
    m: usize,
    verdict: &mut DriftVerdict,
    p: f64,
    adj: f64,
    size: f64,
    floor: f64,
) {
    let significant = adj < verdict.threshold;
    let large = size >= floor;
    verdict.drifted = significant && large;
    let label = verdict.test.label();
    let op = if significant { "<" } else { ">=" };
    let p_part = if policy.correction == Correction::None {
        format!(
            "{label} p-value {} {op} {} (no multiple-testing correction)",
            fmt_num(p),
            fmt_num(verdict.threshold)
        )
    } else {
        format!(
            "{label} p-value {}, {}-adjusted over {m} p-value tests to {} {op} {}",
            fmt_num(p),
            policy.correction.label(),
            fmt_num(adj),
            fmt_num(verdict.threshold)
        )
    };
    let effect_name = match verdict.test {
        DriftTest::ChiSquare => "Cramer's V",
        DriftTest::ZTest => "|p_ref - p_cur|",
        _ => "KS statistic",
    };
    let e_op = if large { ">=" } else { "<" };
    let e_part = format!(
        "effect size {effect_name} {} {e_op} floor {}",
        fmt_num(size),
        fmt_num(floor)
    );
    let outcome = match (significant, large) {
        (true, true) => "drift",
        (true, false) => "no drift: significant but below the effect-size floor",
        (false, _) => "no drift: not significant",
    };
    verdict.reason = format!("{p_part}; {e_part}: {outcome}");
}

/// Runs the policy's test on each `(column, kind, input)`, corrects the p-value tests of the
/// run, applies the effect-size floors and decides dataset drift. `reference_rows` is the size
/// of the reference the columns come from.
pub fn evaluate_columns(
    policy: &DriftPolicy,
    inputs: &[(String, ColumnKind, DriftInput<'_>)],
    reference_rows: usize,
) -> Result<DatasetDrift> {
    policy.validate()?;
    let mut seen = BTreeSet::new();
    let mut raw = Vec::with_capacity(inputs.len());
    for (column, kind, input) in inputs {
        if !seen.insert(column.as_str()) {
            return Err(MonitorError::Invalid {
                param: "columns".into(),
                value: column.clone(),
                expected: "each column evaluated once".into(),
            });
        }
        let test = match policy.tests.get(column) {
            Some(&t) => t,
            None => default_test(*kind, n_unique(input), reference_rows),
        };
        let threshold = policy
            .thresholds
            .get(column)
            .copied()
            .unwrap_or_else(|| test.default_threshold());
        let counted = match input {
            DriftInput::Numeric { reference, current } if needs_frequencies(test) => {
                numeric_frequencies(reference, current)
            }
            DriftInput::Frequencies { reference, current } if test == DriftTest::ZTest => {
                Some((reference.to_vec(), current.to_vec()))
            }
            _ => None,
        };
        let counted = if test == DriftTest::ZTest {
            counted.map(|(r, c)| two_levels(r, c))
        } else {
            counted
        };
        let input = match (&counted, input) {
            (Some((r, c)), _) => DriftInput::Frequencies {
                reference: r,
                current: c,
            },
            (None, &other) => other,
        };
        let verdict = run_test(column, test, input, threshold)?;
        let freq = match input {
            DriftInput::Frequencies { reference, current } => Some((reference, current)),
            _ => None,
        };
        let eff = verdict.p_value.map(|_| effect(policy, &verdict, freq));
        raw.push((verdict, *kind, eff));
    }

    let p_values: Vec<f64> = raw.iter().filter_map(|(v, _, _)| v.p_value).collect();
    let adjusted = match policy.correction {
        Correction::None => p_values.clone(),
        Correction::Bonferroni => correction::bonferroni(&p_values)?,
        Correction::BenjaminiHochberg => correction::benjamini_hochberg(&p_values)?,
    };
    let m = p_values.len();
    let mut adjusted = adjusted.into_iter();
    let mut columns = Vec::with_capacity(raw.len());
    for (mut verdict, kind, eff) in raw {
        let (Some(p), Some((size, floor))) = (verdict.p_value, eff) else {
            columns.push(ColumnDrift {
                verdict,
                kind,
                adjusted_p_value: None,
                effect_size: None,
                effect_floor: None,
            });
            continue;
        };
        let adj = adjusted.next().unwrap_or(p);
        decide(policy, m, &mut verdict, p, adj, size, floor);
        columns.push(ColumnDrift {
            verdict,
            kind,
            adjusted_p_value: Some(adj),
            effect_size: Some(size),
            effect_floor: Some(floor),
        });
    }

    let flags: Vec<(&str, bool)> = columns
        .iter()
        .map(|c| (c.verdict.column.as_str(), c.verdict.drifted))
        .collect();
    let decision = dataset_drift(&flags, policy.drift_share, policy.weights.as_ref())?;
    Ok(DatasetDrift {
        columns,
        correction: policy.correction,
        weighted: policy.weights.is_some(),
        drifted_share: decision.share,
        drift_share: policy.drift_share,
        drifted: decision.drifted,
        reason: decision.reason,
    })
}

/// The dataset-level decision from per-column flags.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetDecision {
    /// The (weighted) share of drifted columns.
    pub share: f64,
    /// Whether `share >= drift_share`.
    pub drifted: bool,
    /// Why, in words.
    pub reason: String,
}

/// Dataset drift from `(column, drifted)` flags: the share of drifted columns, weighted by
/// `weights` normalised over these columns (a column without a weight counts 0), compared with
/// `drift_share`.
pub fn dataset_drift(
    columns: &[(&str, bool)],
    drift_share: f64,
    weights: Option<&BTreeMap<String, f64>>,
) -> Result<DatasetDecision> {
    if !(drift_share > 0.0 && drift_share <= 1.0) {
        return Err(invalid("drift_share", drift_share, "a share in (0, 1]"));
    }
    if columns.is_empty() {
        return Err(MonitorError::Empty {
            what: "columns".into(),
        });
    }
    let n_drifted = columns.iter().filter(|(_, d)| *d).count();
    let (share, how) = if let Some(weights) = weights {
        check_weights(weights)?;
        let w = |c: &str| weights.get(c).copied().unwrap_or(0.0);
        let total: f64 = columns.iter().map(|(c, _)| w(c)).sum();
        if total <= 0.0 {
            return Err(invalid(
                "weights",
                total,
                "a positive total weight over the evaluated columns",
            ));
        }
        let drifted: f64 = columns.iter().filter(|(_, d)| *d).map(|(c, _)| w(c)).sum();
        (drifted / total, "importance-weighted share")
    } else {
        (n_drifted as f64 / columns.len() as f64, "share")
    };
    let drifted = share >= drift_share;
    let op = if drifted { ">=" } else { "<" };
    let reason = format!(
        "{n_drifted} of {} columns drifted; {how} {} {op} {}",
        columns.len(),
        fmt_num(share),
        fmt_num(drift_share)
    );
    Ok(DatasetDecision {
        share,
        drifted,
        reason,
    })
}

impl DatasetDrift {
    /// The alert metrics: `drift.share` (the possibly weighted share of drifted columns),
    /// `drift.dataset` (1 when the dataset drifted, 0 otherwise) and `drift.columns` (how many
    /// columns drifted).
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let drifted = self.columns.iter().filter(|c| c.verdict.drifted).count();
        BTreeMap::from([
            ("drift.share".to_owned(), self.drifted_share),
            (
                "drift.dataset".to_owned(),
                f64::from(u8::from(self.drifted)),
            ),
            ("drift.columns".to_owned(), drifted as f64),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_choice_table() {
        use ColumnKind::{Boolean, Categorical, Numeric};
        use DriftTest::{ChiSquare, JensenShannon, Ks, Wasserstein, ZTest};
        let cases = [
            (Numeric, 100, 1000, Ks),
            (Numeric, 5, 1000, ChiSquare),
            (Numeric, 2, 1000, ZTest),
            (Categorical, 3, 1000, ChiSquare),
            (Categorical, 2, 1000, ZTest),
            (Boolean, 2, 1000, ZTest),
            (Numeric, 100, 1001, Wasserstein),
            (Numeric, 6, 1001, Wasserstein),
            (Numeric, 5, 1001, JensenShannon),
            (Categorical, 10, 1001, JensenShannon),
            (Boolean, 2, 1001, JensenShannon),
        ];
        for (kind, n, rows, expected) in cases {
            assert_eq!(default_test(kind, n, rows), expected, "{kind:?} {n} {rows}");
        }

        // A numeric column with three distinct values is counted and tested by chi-square.
        let reference: Vec<f64> = (0..300).map(|i| f64::from(i % 3)).collect();
        let current: Vec<f64> = (0..300).map(|i| f64::from(i % 3)).collect();
        let inputs = [(
            "level".to_owned(),
            Numeric,
            DriftInput::Numeric {
                reference: &reference,
                current: &current,
            },
        )];
        let out = evaluate_columns(&DriftPolicy::default(), &inputs, 300).expect("runs");
        assert_eq!(out.columns[0].verdict.test, ChiSquare);
        assert!(!out.drifted);
    }

    #[test]
    fn one_valued_and_padded_columns_get_a_z_test() {
        let ones = [1.0; 40];
        let inputs = [
            (
                "flag".to_owned(),
                ColumnKind::Boolean,
                DriftInput::Numeric {
                    reference: &ones,
                    current: &ones,
                },
            ),
            (
                "plan".to_owned(),
                ColumnKind::Categorical,
                DriftInput::Frequencies {
                    reference: &[30.0, 0.0, 10.0],
                    current: &[26.0, 0.0, 14.0],
                },
            ),
        ];
        let out = evaluate_columns(&DriftPolicy::default(), &inputs, 40).expect("runs");
        assert_eq!(out.columns[0].verdict.test, DriftTest::ZTest);
        assert_eq!(out.columns[0].verdict.p_value, Some(1.0));
        assert_eq!(out.columns[1].verdict.test, DriftTest::ZTest);
        assert!((out.columns[1].effect_size.expect("effect") - 0.1).abs() < 1e-12);
        assert_eq!(out.drifted_share, 0.0);
    }

    fn two_valued(
        name: &str,
        current: &'static [f64],
    ) -> (String, ColumnKind, DriftInput<'static>) {
        (
            name.to_owned(),
            ColumnKind::Boolean,
            DriftInput::Frequencies {
                reference: &[50.0, 50.0],
                current,
            },
        )
    }

    #[test]
    fn benjamini_hochberg_turns_a_marginal_p_into_no_drift() {
        let mut inputs = vec![two_valued("marginal", &[36.0, 64.0])];
        for name in ["b", "c", "d", "e"] {
            inputs.push(two_valued(name, &[50.0, 50.0]));
        }
        let none = DriftPolicy {
            correction: Correction::None,
            ..DriftPolicy::default()
        };
        let raw = evaluate_columns(&none, &inputs, 100).expect("runs");
        let col = &raw.columns[0];
        assert_eq!(col.verdict.test, DriftTest::ZTest);
        assert!(col.verdict.p_value.expect("p") < 0.05);
        assert!(col.verdict.drifted, "{}", col.verdict.reason);
        assert!(
            col.verdict
                .reason
                .contains("no multiple-testing correction")
        );

        let bh = evaluate_columns(&DriftPolicy::default(), &inputs, 100).expect("runs");
        let col = &bh.columns[0];
        let adj = col.adjusted_p_value.expect("adjusted");
        assert!(adj >= 0.05, "{adj}");
        assert!(!col.verdict.drifted);
        assert!(
            col.verdict
                .reason
                .contains("Benjamini-Hochberg-adjusted over 5 p-value tests"),
            "{}",
            col.verdict.reason
        );
        assert!(col.verdict.reason.ends_with("no drift: not significant"));
        assert!(!bh.drifted);
    }

    #[test]
    fn effect_floor_suppresses_tiny_ks_on_huge_samples() {
        let n = 50_000;
        let reference: Vec<f64> = (0..n).map(|i| f64::from(i) / f64::from(n)).collect();
        let current: Vec<f64> = reference.iter().map(|x| x + 0.02).collect();
        let inputs = [(
            "x".to_owned(),
            ColumnKind::Numeric,
            DriftInput::Numeric {
                reference: &reference,
                current: &current,
            },
        )];
        let mut policy = DriftPolicy {
            tests: [("x".to_owned(), DriftTest::Ks)].into(),
            ..DriftPolicy::default()
        };
        let out = evaluate_columns(&policy, &inputs, n as usize).expect("runs");
        let col = &out.columns[0];
        assert!(col.verdict.p_value.expect("p") < 1e-6);
        assert!(col.verdict.statistic < 0.1);
        assert!(!col.verdict.drifted);
        assert!(
            col.verdict
                .reason
                .ends_with("no drift: significant but below the effect-size floor"),
            "{}",
            col.verdict.reason
        );
        policy.min_ks_statistic = 0.0;
        let out = evaluate_columns(&policy, &inputs, n as usize).expect("runs");
        assert!(out.columns[0].verdict.drifted);
        assert!(out.drifted);
    }

    #[test]
    fn weighted_dataset_drift() {
        let flags = [("a", true), ("b", false), ("c", false), ("d", false)];
        let plain = dataset_drift(&flags, 0.5, None).expect("share");
        assert_eq!(plain.share, 0.25);
        assert!(!plain.drifted);
        // "d" has no weight: it counts 0; the rest normalise to a: 3/5.
        let weights: BTreeMap<String, f64> = [
            ("a".to_owned(), 3.0),
            ("b".to_owned(), 1.0),
            ("c".to_owned(), 1.0),
        ]
        .into();
        let weighted = dataset_drift(&flags, 0.5, Some(&weights)).expect("share");
        assert!((weighted.share - 0.6).abs() < 1e-12);
        assert!(weighted.drifted);
        assert_eq!(
            weighted.reason,
            "1 of 4 columns drifted; importance-weighted share 0.6 >= 0.5"
        );
        let bad: BTreeMap<String, f64> = [("b".to_owned(), -1.0)].into();
        let err = dataset_drift(&flags, 0.5, Some(&bad)).expect_err("negative");
        assert_eq!(
            err.to_string(),
            "invalid weight of column b = -1: expected a finite weight >= 0"
        );
        let nan: BTreeMap<String, f64> = [("c".to_owned(), f64::NAN)].into();
        assert!(dataset_drift(&flags, 0.5, Some(&nan)).is_err());
    }

    #[test]
    fn dataset_metrics_name_share_verdict_and_count() {
        let drift = DatasetDrift {
            columns: Vec::new(),
            correction: Correction::None,
            weighted: false,
            drifted_share: 0.75,
            drift_share: 0.5,
            drifted: true,
            reason: String::new(),
        };
        let metrics = drift.metrics();
        assert_eq!(metrics["drift.share"], 0.75);
        assert_eq!(metrics["drift.dataset"], 1.0);
        assert_eq!(metrics["drift.columns"], 0.0);
    }

    #[test]
    fn policy_json_round_trip_and_unknown_field() {
        let policy = DriftPolicy {
            correction: Correction::Bonferroni,
            tests: [("age".to_owned(), DriftTest::Psi)].into(),
            thresholds: [("age".to_owned(), 0.2)].into(),
            weights: Some([("age".to_owned(), 1.0)].into()),
            ..DriftPolicy::default()
        };
        let json = serde_json::to_string(&policy).expect("json");
        let back: DriftPolicy = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, policy);
        let empty: DriftPolicy = serde_json::from_str("{}").expect("defaults");
        assert_eq!(empty, DriftPolicy::default());
        assert_eq!(empty.correction, Correction::BenjaminiHochberg);
        let err = serde_json::from_str::<DriftPolicy>(r#"{"drift_shares": 0.3}"#)
            .expect_err("unknown field");
        assert!(
            err.to_string().contains("unknown field `drift_shares`"),
            "{err}"
        );
        let out = serde_json::to_value(
            evaluate_columns(
                &DriftPolicy::default(),
                &[two_valued("flag", &[50.0, 50.0])],
                100,
            )
            .expect("runs"),
        )
        .expect("json");
        assert_eq!(out["columns"][0]["test"], "z_test");
        assert_eq!(out["correction"], "benjamini_hochberg");
    }
}
