//! Drift statistics between two [`ColumnSketch`]es, so a monitor can compare current data with a
//! bundle's reference profile without its raw rows.
//!
//! A numeric sketch keeps each distinct value exactly while a column has at most
//! [`EXACT_DISTINCT_LIMIT`](mlship_core::sketch::EXACT_DISTINCT_LIMIT) of them; then these
//! functions equal their raw-sample counterparts. Beyond that values live in log-spaced bins of
//! relative width [`RELATIVE_ACCURACY`](mlship_core::sketch::RELATIVE_ACCURACY) (2^-8), and the
//! CDFs are taken as spreading each bin's count evenly over its range: the KS statistic is then
//! off by at most the mass of the bins a step falls in, the Wasserstein distance by about
//! `2^-8 · E|x|`, and PSI uses the sketch's (lower) deciles, each within `2^-8` relative of the
//! exact one.

use mlship_core::sketch::{Bin, ColumnSketch, NumericSketch};

use crate::drift::numeric::{KsResult, ks_p_value, psi_from_counts};
use crate::error::{MonitorError, Result};

/// A numeric sketch's bins and finite count, checked.
struct Cdf {
    bins: Vec<Bin>,
    n: f64,
}

impl Cdf {
    fn new(what: &str, sketch: &ColumnSketch) -> Result<Self> {
        let bins: Vec<Bin> = sketch.bins().collect();
        let n: u64 = bins.iter().map(|b| b.count).sum();
        if n == 0 {
            return Err(MonitorError::Empty {
                what: format!("{what} sketch (no finite numeric values)"),
            });
        }
        Ok(Self { bins, n: n as f64 })
    }

    /// `F(x)`: the share of values `<= x`, each bin's count spread evenly over its range.
    fn at(&self, x: f64) -> f64 {
        let mut below = 0.0;
        for bin in &self.bins {
            if bin.upper <= x {
                below += bin.count as f64;
            } else if bin.lower <= x {
                below += bin.count as f64 * (x - bin.lower) / (bin.upper - bin.lower);
            }
        }
        (below / self.n).clamp(0.0, 1.0)
    }

    /// `F(x−)`: the share of values `< x` (point bins at `x` left out).
    fn before(&self, x: f64) -> f64 {
        let point: u64 = self
            .bins
            .iter()
            .filter(|b| b.lower == x && b.upper == x)
            .map(|b| b.count)
            .sum();
        (self.at(x) - point as f64 / self.n).clamp(0.0, 1.0)
    }

    fn breakpoints(&self) -> impl Iterator<Item = f64> + '_ {
        self.bins.iter().flat_map(|b| [b.lower, b.upper])
    }
}

fn breakpoints(a: &Cdf, b: &Cdf) -> Vec<f64> {
    let mut xs: Vec<f64> = a.breakpoints().chain(b.breakpoints()).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs
}

/// The KS statistic `sup |F_ref − F_cur|` between two numeric sketches' CDFs (the sketch analogue
/// of [`super::numeric::ks_statistic`]). Both CDFs are piecewise linear between bin ends, so the
/// supremum is attained at a bin end (or just before a point bin) and is exact for the sketched
/// CDFs. Cost: O(B²) for B bins in all.
pub fn ks_statistic(reference: &ColumnSketch, current: &ColumnSketch) -> Result<f64> {
    let (r, c) = (
        Cdf::new("reference", reference)?,
        Cdf::new("current", current)?,
    );
    let mut d = 0.0f64;
    for x in breakpoints(&r, &c) {
        d = d.max((r.at(x) - c.at(x)).abs());
        d = d.max((r.before(x) - c.before(x)).abs());
    }
    Ok(d.min(1.0))
}

/// The KS test between two numeric sketches: [`ks_statistic`] with the p-value scipy's
/// `ks_2samp` would attach to it for the sketches' finite counts ([`super::numeric::ks_p_value`]).
/// Exact while both sketches keep exact values; otherwise the statistic carries the sketch's
/// approximation and the p-value follows it.
pub fn ks_2samp(reference: &ColumnSketch, current: &ColumnSketch) -> Result<KsResult> {
    let (r, c) = (
        Cdf::new("reference", reference)?,
        Cdf::new("current", current)?,
    );
    let d = ks_statistic(reference, current)?;
    Ok(ks_p_value(d, r.n as u64, c.n as u64))
}

/// Evidently's normed Wasserstein distance between two numeric sketches: [`wasserstein`] divided
/// by `max(σ, 0.001)`, σ the reference's population standard deviation (from the sketch's exact
/// running moments).
pub fn wasserstein_normed(reference: &ColumnSketch, current: &ColumnSketch) -> Result<f64> {
    let w = wasserstein(reference, current)?;
    let n = reference.numeric().map_or(0, NumericSketch::finite);
    let var = reference
        .numeric()
        .and_then(NumericSketch::variance)
        .unwrap_or(0.0);
    let pop_std = if n > 1 {
        (var * (n - 1) as f64 / n as f64).sqrt()
    } else {
        0.0
    };
    Ok(w / pop_std.max(0.001))
}

/// `∫ |f|` over `[0, w]` for `f` linear from `a` to `b`.
fn abs_linear_integral(a: f64, b: f64, w: f64) -> f64 {
    if a * b >= 0.0 {
        0.5 * (a.abs() + b.abs()) * w
    } else {
        0.5 * (a * a + b * b) / (a.abs() + b.abs()) * w
    }
}

/// The Wasserstein-1 distance `∫ |F_ref − F_cur|` between two numeric sketches (the sketch
/// analogue of [`super::numeric::wasserstein`]), integrating the piecewise-linear CDFs exactly
/// between consecutive bin ends. Cost: O(B²).
pub fn wasserstein(reference: &ColumnSketch, current: &ColumnSketch) -> Result<f64> {
    let (r, c) = (
        Cdf::new("reference", reference)?,
        Cdf::new("current", current)?,
    );
    let xs = breakpoints(&r, &c);
    let mut total = 0.0;
    for w in xs.windows(2) {
        let (x0, x1) = (w[0], w[1]);
        let a = r.at(x0) - c.at(x0);
        let b = r.before(x1) - c.before(x1);
        total += abs_linear_integral(a, b, x1 - x0);
    }
    Ok(total)
}

/// PSI between two numeric sketches (the sketch analogue of [`super::numeric::psi`]): edges at
/// the reference sketch's unique deciles (its lower quantiles at k/10, k = 1..9, within 2^-8
/// relative of the exact ones), each side's counts over `[edge_i, edge_{i+1})` with open outer
/// bins from [`ColumnSketch::counts_in`], shares clipped below at 1e-4. The edges are lower
/// quantiles, not numpy's interpolated ones, so on discrete data the bins (and PSI) can differ
/// from [`super::numeric::psi`] even while the sketch is exact.
pub fn psi(reference: &ColumnSketch, current: &ColumnSketch) -> Result<f64> {
    Cdf::new("reference", reference)?;
    Cdf::new("current", current)?;
    let mut edges = vec![f64::NEG_INFINITY];
    for k in 1..10 {
        if let Some(q) = reference.quantile(f64::from(k) / 10.0) {
            edges.push(q);
        }
    }
    edges.push(f64::INFINITY);
    edges.dedup();
    let r = reference.counts_in(&edges)?;
    let c = current.counts_in(&edges)?;
    psi_from_counts(&r, &c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::numeric;

    fn sketch(values: &[f64]) -> ColumnSketch {
        let mut s = ColumnSketch::new_numeric();
        s.update_f64(values, None).expect("numeric sketch");
        s
    }

    fn normalish(n: usize, shift: f64, seed: u64) -> Vec<f64> {
        // A deterministic bell-shaped sample: sums of four uniforms from an LCG.
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| (next() + next() + next() + next() - 2.0) * 1.7 + shift)
            .collect()
    }

    #[test]
    fn exact_sketches_match_raw_statistics() {
        // Few distinct values: the sketches keep them exactly.
        let r: Vec<f64> = (0..300).map(|i| f64::from(i % 7) - 2.0).collect();
        let c: Vec<f64> = (0..200).map(|i| f64::from((i * 3) % 9) - 3.0).collect();
        let (sr, sc) = (sketch(&r), sketch(&c));
        let ks = numeric::ks_statistic(&r, &c).expect("ks");
        assert!((ks_statistic(&sr, &sc).expect("ks") - ks).abs() < 1e-12);
        let w = numeric::wasserstein(&r, &c).expect("w");
        assert!((wasserstein(&sr, &sc).expect("w") - w).abs() < 1e-12);
        let raw = numeric::ks_2samp(&r, &c).expect("ks");
        let sk = ks_2samp(&sr, &sc).expect("ks");
        assert!((sk.statistic - raw.statistic).abs() < 1e-12);
        assert!((sk.p_value - raw.p_value).abs() < 1e-12 * raw.p_value.max(1e-300));
        let wn = numeric::wasserstein_normed(&r, &c).expect("w");
        assert!((wasserstein_normed(&sr, &sc).expect("w") - wn).abs() < 1e-9 * wn);
    }

    #[test]
    fn binned_sketches_approximate_raw_statistics() {
        let r = normalish(20_000, 10.0, 1);
        let c = normalish(15_000, 10.3, 2);
        let (sr, sc) = (sketch(&r), sketch(&c));
        let ks = numeric::ks_statistic(&r, &c).expect("ks");
        let ks_s = ks_statistic(&sr, &sc).expect("ks");
        assert!((ks_s - ks).abs() < 0.01, "sketch {ks_s} raw {ks}");
        let w = numeric::wasserstein(&r, &c).expect("w");
        let w_s = wasserstein(&sr, &sc).expect("w");
        // 2^-8 relative accuracy on values near 10.
        assert!((w_s - w).abs() < 10.0 / 256.0, "sketch {w_s} raw {w}");
        let p = numeric::psi(&r, &c).expect("psi");
        let p_s = psi(&sr, &sc).expect("psi");
        assert!((p_s - p).abs() < 0.02 * p.max(0.1), "sketch {p_s} raw {p}");
        let ks_raw = numeric::ks_2samp(&r, &c).expect("ks");
        let ks_sk = ks_2samp(&sr, &sc).expect("ks");
        assert_eq!(ks_sk.method, numeric::KsMethod::Asymptotic);
        assert!(ks_raw.p_value < 1e-20 && ks_sk.p_value < 1e-20);
        let wn = numeric::wasserstein_normed(&r, &c).expect("w");
        let wn_s = wasserstein_normed(&sr, &sc).expect("w");
        assert!((wn_s - wn).abs() < 0.01 * wn, "sketch {wn_s} raw {wn}");
        assert_eq!(ks_statistic(&sr, &sr).expect("ks"), 0.0);
        assert_eq!(wasserstein(&sr, &sr).expect("w"), 0.0);
    }

    #[test]
    fn empty_or_categorical_sketch_is_an_error() {
        let empty = ColumnSketch::new_numeric();
        let err = ks_statistic(&empty, &sketch(&[1.0])).expect_err("empty");
        assert_eq!(
            err.to_string(),
            "reference sketch (no finite numeric values) is empty: expected at least one value"
        );
        assert!(wasserstein(&sketch(&[1.0]), &ColumnSketch::new_categorical()).is_err());
    }
}
