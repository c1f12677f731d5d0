//! Running one drift test on one column with a threshold, and the verdict it gives.

use serde::{Deserialize, Serialize};

use mlship_core::sketch::ColumnSketch;

use crate::drift::{categorical, numeric, sketch};
use crate::error::{MonitorError, Result};

/// A per-column drift test (serde: snake_case, e.g. `"ks"`, `"chi_square"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftTest {
    /// Two-sample Kolmogorov–Smirnov ([`numeric::ks_2samp`]); drift when p-value < threshold.
    Ks,
    /// Evidently's normed Wasserstein distance ([`numeric::wasserstein_normed`]); drift when
    /// distance ≥ threshold.
    Wasserstein,
    /// Population stability index ([`numeric::psi`] on samples, [`numeric::psi_from_counts`] on
    /// frequencies); drift when PSI ≥ threshold.
    Psi,
    /// Chi-square goodness of fit ([`categorical::chi_square`]); drift when p-value < threshold.
    ChiSquare,
    /// Jensen–Shannon distance, base e ([`categorical::jensen_shannon`]); drift when ≥ threshold.
    JensenShannon,
    /// KL divergence ([`categorical::kl_divergence`]); drift when ≥ threshold.
    KlDiv,
    /// Hellinger distance ([`categorical::hellinger`]); drift when ≥ threshold.
    Hellinger,
    /// Two-proportion z-test for two-valued columns ([`categorical::z_test`]); drift when
    /// p-value < threshold.
    ZTest,
}

impl DriftTest {
    /// Whether the test yields a p-value (drift when below the threshold) rather than a distance
    /// (drift when at or above it).
    pub fn is_p_value_test(self) -> bool {
        matches!(self, Self::Ks | Self::ChiSquare | Self::ZTest)
    }

    /// Evidently's default threshold for the test: 0.05 for p-value tests, 0.1 for distances.
    pub fn default_threshold(self) -> f64 {
        if self.is_p_value_test() { 0.05 } else { 0.1 }
    }

    /// A short name for messages ("KS", "PSI", …).
    pub fn label(self) -> &'static str {
        match self {
            Self::Ks => "KS",
            Self::Wasserstein => "normed Wasserstein distance",
            Self::Psi => "PSI",
            Self::ChiSquare => "chi-square",
            Self::JensenShannon => "Jensen-Shannon distance",
            Self::KlDiv => "KL divergence",
            Self::Hellinger => "Hellinger distance",
            Self::ZTest => "z-test",
        }
    }
}

/// The data a test compares.
#[derive(Clone, Copy, Debug)]
pub enum DriftInput<'a> {
    /// Raw finite numeric samples (KS, Wasserstein, PSI).
    Numeric {
        /// The reference sample.
        reference: &'a [f64],
        /// The current sample.
        current: &'a [f64],
    },
    /// Two numeric sketches, e.g. the bundle profile's and one built from current data (KS,
    /// Wasserstein, PSI; see [`sketch`] for the approximation).
    Sketches {
        /// The reference sketch.
        reference: &'a ColumnSketch,
        /// The current sketch.
        current: &'a ColumnSketch,
    },
    /// Aligned per-level frequencies (chi-square, Jensen–Shannon, KL, Hellinger, PSI, and the
    /// z-test with exactly two levels); see [`categorical::align_counts`].
    Frequencies {
        /// Reference counts or shares per level.
        reference: &'a [f64],
        /// Current counts or shares per level, in the same level order.
        current: &'a [f64],
    },
}

/// The outcome of one drift test on one column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriftVerdict {
    /// The column tested.
    pub column: String,
    /// The test run.
    pub test: DriftTest,
    /// The test statistic (for p-value tests, the statistic behind the p-value).
    pub statistic: f64,
    /// The p-value, for p-value tests.
    pub p_value: Option<f64>,
    /// The threshold applied.
    pub threshold: f64,
    /// Whether the column drifted.
    pub drifted: bool,
    /// Why, in words: "KS p-value 0.0003 < 0.05".
    pub reason: String,
}

/// A number for a verdict's reason: four decimals, or scientific notation when very small or large.
pub(crate) fn fmt_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e6).contains(&x.abs()) {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".into()
        } else {
            s.to_owned()
        }
    } else {
        format!("{x:.2e}")
    }
}

/// Runs `test` on `input` for `column` and decides drift against `threshold`: p-value tests
/// drift when `p < threshold` (threshold in (0, 1)), distance tests when
/// `statistic >= threshold` (threshold finite and ≥ 0), as Evidently's stattests decide.
pub fn run_test(
    column: &str,
    test: DriftTest,
    input: DriftInput<'_>,
    threshold: f64,
) -> Result<DriftVerdict> {
    let valid = if test.is_p_value_test() {
        threshold > 0.0 && threshold < 1.0
    } else {
        threshold.is_finite() && threshold >= 0.0
    };
    if !valid {
        return Err(MonitorError::Invalid {
            param: format!("threshold of {} on column {column}", test.label()),
            value: threshold.to_string(),
            expected: if test.is_p_value_test() {
                "a p-value threshold in (0, 1)".into()
            } else {
                "a finite distance threshold >= 0".into()
            },
        });
    }
    let (statistic, p_value) = compute(column, test, input).map_err(|e| e.in_column(column))?;
    let (drifted, reason) = if let Some(p) = p_value {
        let drifted = p < threshold;
        let op = if drifted { "<" } else { ">=" };
        let reason = format!(
            "{} p-value {} {op} {}",
            test.label(),
            fmt_num(p),
            fmt_num(threshold)
        );
        (drifted, reason)
    } else {
        let drifted = statistic >= threshold;
        let op = if drifted { ">=" } else { "<" };
        let reason = format!(
            "{} {} {op} {}",
            test.label(),
            fmt_num(statistic),
            fmt_num(threshold)
        );
        (drifted, reason)
    };
    Ok(DriftVerdict {
        column: column.to_owned(),
        test,
        statistic,
        p_value,
        threshold,
        drifted,
        reason,
    })
}

fn compute(column: &str, test: DriftTest, input: DriftInput<'_>) -> Result<(f64, Option<f64>)> {
    let not_applicable = |detail: &str| MonitorError::NotApplicable {
        test: test.label().into(),
        column: column.into(),
        detail: detail.into(),
    };
    match (test, input) {
        (DriftTest::Ks, DriftInput::Numeric { reference, current }) => {
            let r = numeric::ks_2samp(reference, current)?;
            Ok((r.statistic, Some(r.p_value)))
        }
        (DriftTest::Wasserstein, DriftInput::Numeric { reference, current }) => {
            Ok((numeric::wasserstein_normed(reference, current)?, None))
        }
        (DriftTest::Psi, DriftInput::Numeric { reference, current }) => {
            Ok((numeric::psi(reference, current)?, None))
        }
        (DriftTest::Ks, DriftInput::Sketches { reference, current }) => {
            let r = sketch::ks_2samp(reference, current)?;
            Ok((r.statistic, Some(r.p_value)))
        }
        (DriftTest::Wasserstein, DriftInput::Sketches { reference, current }) => {
            Ok((sketch::wasserstein_normed(reference, current)?, None))
        }
        (DriftTest::Psi, DriftInput::Sketches { reference, current }) => {
            Ok((sketch::psi(reference, current)?, None))
        }
        (DriftTest::Psi, DriftInput::Frequencies { reference, current }) => {
            Ok((numeric::psi_from_counts(reference, current)?, None))
        }
        (DriftTest::ChiSquare, DriftInput::Frequencies { reference, current }) => {
            let r = categorical::chi_square(reference, current)?;
            if r.df == 0 {
                return Err(not_applicable(
                    "a single level leaves no degrees of freedom",
                ));
            }
            Ok((r.statistic, Some(r.p_value)))
        }
        (DriftTest::JensenShannon, DriftInput::Frequencies { reference, current }) => {
            Ok((categorical::jensen_shannon(reference, current, None)?, None))
        }
        (DriftTest::KlDiv, DriftInput::Frequencies { reference, current }) => {
            Ok((categorical::kl_divergence(reference, current)?, None))
        }
        (DriftTest::Hellinger, DriftInput::Frequencies { reference, current }) => {
            Ok((categorical::hellinger(reference, current)?, None))
        }
        (DriftTest::ZTest, DriftInput::Frequencies { reference, current }) => {
            match (reference, current) {
                (&[r0, r1], &[c0, c1]) => {
                    let r = categorical::z_test([r0, r1], [c0, c1])?;
                    Ok((r.statistic, Some(r.p_value)))
                }
                _ => Err(not_applicable("expected exactly two levels")),
            }
        }
        (_, DriftInput::Numeric { .. } | DriftInput::Sketches { .. }) => {
            Err(not_applicable("it needs category frequencies"))
        }
        (_, DriftInput::Frequencies { .. }) => Err(not_applicable("it needs raw numeric samples")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_verdict_reads_well() {
        let reference: Vec<f64> = (0..100).map(f64::from).collect();
        let current: Vec<f64> = (50..150).map(f64::from).collect();
        let input = DriftInput::Numeric {
            reference: &reference,
            current: &current,
        };
        let v = run_test("age", DriftTest::Ks, input, 0.05).expect("ks runs");
        assert!(v.drifted);
        assert_eq!(v.statistic, 0.5);
        assert!(v.reason.starts_with("KS p-value "), "{}", v.reason);
        assert!(v.reason.ends_with(" < 0.05"), "{}", v.reason);
        let json = serde_json::to_value(&v).expect("serialises");
        assert_eq!(json["test"], "ks");
        let same = run_test(
            "age",
            DriftTest::Ks,
            DriftInput::Numeric {
                reference: &reference,
                current: &reference,
            },
            0.05,
        )
        .expect("ks runs");
        assert!(!same.drifted);
        assert_eq!(same.reason, "KS p-value 1 >= 0.05");
    }

    #[test]
    fn distance_verdicts_and_errors_name_the_column() {
        let freq = DriftInput::Frequencies {
            reference: &[50.0, 50.0],
            current: &[90.0, 10.0],
        };
        let v = run_test("plan", DriftTest::JensenShannon, freq, 0.1).expect("js runs");
        assert!(v.drifted && v.p_value.is_none());
        assert!(
            v.reason.starts_with("Jensen-Shannon distance 0.3"),
            "{}",
            v.reason
        );
        let z = run_test("plan", DriftTest::ZTest, freq, 0.05).expect("z runs");
        assert!(z.drifted);

        let err = run_test(
            "age",
            DriftTest::Ks,
            DriftInput::Numeric {
                reference: &[],
                current: &[1.0],
            },
            0.05,
        )
        .expect_err("empty reference");
        assert_eq!(
            err.to_string(),
            "reference of column age is empty: expected at least one value"
        );
        let err = run_test(
            "age",
            DriftTest::Wasserstein,
            DriftInput::Numeric {
                reference: &[1.0, f64::NAN],
                current: &[1.0],
            },
            0.1,
        )
        .expect_err("NaN");
        assert!(
            err.to_string()
                .contains("reference of column age holds a non-finite value NaN")
        );
        let err = run_test(
            "age",
            DriftTest::ChiSquare,
            DriftInput::Numeric {
                reference: &[1.0],
                current: &[1.0],
            },
            0.05,
        )
        .expect_err("not applicable");
        assert_eq!(
            err.to_string(),
            "chi-square does not apply to column age: it needs category frequencies"
        );
        assert!(
            run_test(
                "age",
                DriftTest::Ks,
                DriftInput::Numeric {
                    reference: &[1.0],
                    current: &[1.0]
                },
                1.5
            )
            .is_err()
        );
        let core: mlship_core::Error = err.into();
        assert!(core.to_string().contains("column age"));
    }

    #[test]
    fn sketch_and_counts_inputs() {
        let reference: Vec<f64> = (0..400).map(|i| f64::from(i % 10)).collect();
        let current: Vec<f64> = (0..300).map(|i| f64::from(i % 10) + 2.0).collect();
        let (mut sr, mut sc) = (ColumnSketch::new_numeric(), ColumnSketch::new_numeric());
        sr.update_f64(&reference, None).expect("sketch");
        sc.update_f64(&current, None).expect("sketch");
        for test in [DriftTest::Ks, DriftTest::Wasserstein, DriftTest::Psi] {
            let raw = run_test(
                "x",
                test,
                DriftInput::Numeric {
                    reference: &reference,
                    current: &current,
                },
                test.default_threshold(),
            )
            .expect("raw");
            let sk = run_test(
                "x",
                test,
                DriftInput::Sketches {
                    reference: &sr,
                    current: &sc,
                },
                test.default_threshold(),
            )
            .expect("sketch");
            assert!(raw.drifted && sk.drifted, "{test:?}");
            // PSI edges differ: numpy's interpolated deciles vs the sketch's lower quantiles.
            if test != DriftTest::Psi {
                assert!((raw.statistic - sk.statistic).abs() < 1e-9, "{test:?}");
            }
        }

        // A level missing from current counts as zero there.
        let r: std::collections::BTreeMap<String, u64> = [
            ("a".to_owned(), 50),
            ("b".to_owned(), 30),
            ("c".to_owned(), 20),
        ]
        .into();
        let c: std::collections::BTreeMap<String, u64> =
            [("a".to_owned(), 70), ("b".to_owned(), 30)].into();
        let (levels, rf, cf) = categorical::align_counts(&r, &c);
        assert_eq!(levels, ["a", "b", "c"]);
        assert_eq!(cf, [70.0, 30.0, 0.0]);
        let v = run_test(
            "plan",
            DriftTest::ChiSquare,
            DriftInput::Frequencies {
                reference: &rf,
                current: &cf,
            },
            0.05,
        )
        .expect("chi2");
        assert!(v.drifted, "{}", v.reason);
        let err = run_test(
            "plan",
            DriftTest::ZTest,
            DriftInput::Frequencies {
                reference: &rf,
                current: &cf,
            },
            0.05,
        )
        .expect_err("three levels");
        assert_eq!(
            err.to_string(),
            "z-test does not apply to column plan: expected exactly two levels"
        );
    }

    #[test]
    fn serde_names_are_snake_case() {
        assert_eq!(
            serde_json::to_string(&DriftTest::ChiSquare).expect("json"),
            "\"chi_square\""
        );
        let t: DriftTest = serde_json::from_str("\"jensen_shannon\"").expect("parses");
        assert_eq!(t, DriftTest::JensenShannon);
    }
}
