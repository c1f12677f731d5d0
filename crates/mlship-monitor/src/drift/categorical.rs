//! Drift statistics on category frequencies: chi-square goodness of fit, Jensen–Shannon,
//! Kullback–Leibler, Hellinger and the two-proportion z-test. Frequencies are aligned `&[f64]`
//! vectors (one entry per level, same order on both sides); [`align_counts`] builds them from
//! per-level counts.

use std::collections::BTreeMap;

use crate::error::{MonitorError, Result};
use crate::special::{chi2_sf, erfc};

/// Checks that `values` is a non-empty vector of finite, non-negative frequencies with a
/// positive sum, and returns them divided by their sum.
pub(crate) fn shares(what: &str, values: &[f64]) -> Result<Vec<f64>> {
    crate::error::check_sample(what, values)?;
    if let Some(v) = values.iter().find(|v| **v < 0.0) {
        return Err(MonitorError::BadFrequencies {
            what: what.into(),
            detail: format!("negative frequency {v}"),
        });
    }
    let total: f64 = values.iter().sum();
    if total <= 0.0 {
        return Err(MonitorError::BadFrequencies {
            what: what.into(),
            detail: "all frequencies are zero".into(),
        });
    }
    Ok(values.iter().map(|v| v / total).collect())
}

pub(crate) fn check_aligned(p: &[f64], q: &[f64]) -> Result<()> {
    if p.len() == q.len() {
        Ok(())
    } else {
        Err(MonitorError::LengthMismatch {
            what: "reference and current frequencies".into(),
            left: p.len(),
            right: q.len(),
        })
    }
}

/// Aligned frequency vectors over the union of both sides' levels (in level order), a level
/// missing from one side counted as zero there (as Evidently aligns value counts).
pub fn align_counts(
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
) -> (Vec<String>, Vec<f64>, Vec<f64>) {
    let mut levels: Vec<String> = reference.keys().chain(current.keys()).cloned().collect();
    levels.sort();
    levels.dedup();
    let get = |m: &BTreeMap<String, u64>, k: &String| m.get(k).copied().unwrap_or(0) as f64;
    let r = levels.iter().map(|k| get(reference, k)).collect();
    let c = levels.iter().map(|k| get(current, k)).collect();
    (levels, r, c)
}

/// The result of a chi-square goodness-of-fit test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ChiSquareResult {
    /// `Σ (observed − expected)² / expected`.
    pub statistic: f64,
    /// `chi2.sf(statistic, k − 1)`.
    pub p_value: f64,
    /// Degrees of freedom, `k − 1`.
    pub df: usize,
}

/// Chi-square goodness of fit of the current counts against the reference proportions, as
/// Evidently's `chisquare` stattest: expected counts are the reference shares times the current
/// total, then scipy's `stats.chisquare(current, expected)`. A level seen in current but never in
/// the reference has expected count zero and makes the statistic infinite (p-value 0), as in
/// scipy. Levels with zero count on both sides are left out (scipy would return NaN). The p-value
/// is the regularised upper incomplete gamma `Q((k−1)/2, statistic/2)`; with a single level left
/// there are no degrees of freedom and it is NaN.
pub fn chi_square(reference: &[f64], current: &[f64]) -> Result<ChiSquareResult> {
    let p = shares("reference", reference)?;
    shares("current", current)?;
    check_aligned(&p, current)?;
    let total: f64 = current.iter().sum();
    let mut statistic = 0.0;
    let mut levels = 0usize;
    for (&share, &obs) in p.iter().zip(current) {
        let expected = share * total;
        if expected == 0.0 && obs == 0.0 {
            // A level absent on both sides carries no information (scipy would give NaN).
            continue;
        }
        levels += 1;
        let diff = obs - expected;
        statistic += if expected > 0.0 {
            diff * diff / expected
        } else {
            f64::INFINITY
        };
    }
    let df = levels.saturating_sub(1);
    let p_value = if df == 0 {
        f64::NAN
    } else {
        chi2_sf(statistic, df as f64)
    };
    Ok(ChiSquareResult {
        statistic,
        p_value,
        df,
    })
}

/// scipy's `special.rel_entr(x, y)`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// The Jensen–Shannon distance (the square root of the divergence) between two frequency
/// vectors, each normalised to sum to one (scipy's `spatial.distance.jensenshannon(p, q, base)`;
/// `base = None` means natural logarithms, so the distance is at most `√ln 2`; base 2 bounds it
/// by 1). Evidently's `jensenshannon` stattest uses base e with threshold 0.1.
pub fn jensen_shannon(reference: &[f64], current: &[f64], base: Option<f64>) -> Result<f64> {
    let p = shares("reference", reference)?;
    let q = shares("current", current)?;
    check_aligned(&p, &q)?;
    let mut js = 0.0;
    for (&a, &b) in p.iter().zip(&q) {
        let m = a.midpoint(b);
        js += rel_entr(a, m) + rel_entr(b, m);
    }
    if let Some(base) = base {
        if !(base > 0.0 && base != 1.0 && base.is_finite()) {
            return Err(MonitorError::Invalid {
                param: "base".into(),
                value: base.to_string(),
                expected: "a positive finite logarithm base other than 1".into(),
            });
        }
        js /= base.ln();
    }
    Ok((js / 2.0).max(0.0).sqrt())
}

/// The Kullback–Leibler divergence `KL(reference ‖ current) = Σ p·ln(p/q)` of the normalised
/// frequencies (scipy's `stats.entropy(reference, current)`); infinite when a level with
/// reference mass has none in current.
pub fn kl_divergence(reference: &[f64], current: &[f64]) -> Result<f64> {
    let p = shares("reference", reference)?;
    let q = shares("current", current)?;
    check_aligned(&p, &q)?;
    Ok(p.iter().zip(&q).map(|(&a, &b)| rel_entr(a, b)).sum())
}

/// The Hellinger distance `√(½ Σ (√p − √q)²)` of the normalised frequencies, in `[0, 1]`
/// (Evidently's `hellinger` stattest on categorical data).
pub fn hellinger(reference: &[f64], current: &[f64]) -> Result<f64> {
    let p = shares("reference", reference)?;
    let q = shares("current", current)?;
    check_aligned(&p, &q)?;
    let s: f64 = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| (a.sqrt() - b.sqrt()).powi(2))
        .sum();
    Ok((s / 2.0).sqrt())
}

/// The result of a two-proportion z-test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ZTestResult {
    /// `(p_ref − p_cur) / √(P(1−P)(1/n_ref + 1/n_cur))` with the pooled proportion `P`.
    pub statistic: f64,
    /// The two-sided p-value `erfc(|z|/√2)`.
    pub p_value: f64,
}

/// Evidently's `z` stattest for two-valued columns: the pooled two-proportion z statistic and
/// its two-sided normal p-value. `reference` and `current` are the counts of the two levels
/// (`[count of level 0, count of level 1]`), the proportion being that of level 0. When the
/// pooled proportion is 0 or 1 (one level only, on both sides) the p-value is 1 and the
/// statistic 0, as Evidently short-cuts. Evidently evaluates `2·(1 − Φ(|z|))`; this uses
/// `erfc(|z|/√2)`, equal in exact arithmetic and accurate far into the tail.
pub fn z_test(reference: [f64; 2], current: [f64; 2]) -> Result<ZTestResult> {
    shares("reference", &reference)?;
    shares("current", &current)?;
    let (n1, n2) = (reference[0] + reference[1], current[0] + current[1]);
    let (p1, p2) = (reference[0] / n1, current[0] / n2);
    let pooled = (reference[0] + current[0]) / (n1 + n2);
    let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if var <= 0.0 {
        return Ok(ZTestResult {
            statistic: 0.0,
            p_value: 1.0,
        });
    }
    let z = (p1 - p2) / var.sqrt();
    Ok(ZTestResult {
        statistic: z,
        p_value: erfc(z.abs() / std::f64::consts::SQRT_2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_edge_levels() {
        // A level new in current: infinite statistic, p-value 0 (as scipy).
        let new_level = chi_square(&[50.0, 50.0, 0.0], &[40.0, 50.0, 10.0]).expect("chi2");
        assert!(new_level.statistic.is_infinite());
        assert_eq!(new_level.p_value, 0.0);
        // A level absent on both sides changes nothing.
        let with_empty = chi_square(&[50.0, 50.0, 0.0], &[40.0, 60.0, 0.0]).expect("chi2");
        let without = chi_square(&[50.0, 50.0], &[40.0, 60.0]).expect("chi2");
        assert_eq!(with_empty, without);
        assert_eq!(without.df, 1);
        let err = chi_square(&[1.0, 2.0], &[1.0]).expect_err("lengths");
        assert_eq!(
            err.to_string(),
            "reference and current frequencies: lengths differ (2 vs 1): expected aligned vectors"
        );
        let err = jensen_shannon(&[0.0, 0.0], &[1.0, 1.0], None).expect_err("zero mass");
        assert_eq!(
            err.to_string(),
            "reference has invalid frequencies: all frequencies are zero"
        );
        assert!(
            kl_divergence(&[1.0, 1.0], &[1.0, 0.0])
                .expect("kl")
                .is_infinite()
        );
    }
}
