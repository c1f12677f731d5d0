//! Drift statistics on raw numeric samples: two-sample Kolmogorov–Smirnov, Wasserstein-1 (plain
//! and normed) and PSI.

use crate::error::{Result, check_sample};

/// `ks_2samp`'s limit for trying the exact p-value (scipy's `MAX_AUTO_N`).
pub const KS_MAX_EXACT_N: usize = 10_000;

/// How a KS p-value was computed, as scipy's `ks_2samp(method='auto')` chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    /// The exact distribution of the two-sample statistic (both samples ≤ 10,000 values).
    Exact,
    /// The asymptotic distribution (larger samples, or the exact computation failed).
    Asymptotic,
}

/// The result of a two-sample Kolmogorov–Smirnov test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KsResult {
    /// `sup |F_ref − F_cur|` over all values.
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: KsMethod,
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The two-sample KS statistic of two sorted samples: the largest gap between their empirical
/// CDFs, evaluated (as scipy does) as `i/n1 − j/n2` after every distinct value.
fn ks_statistic_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let (mut max_pos, mut max_neg) = (0.0f64, 0.0f64);
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        while a.get(i).is_some_and(|&u| u <= x) {
            i += 1;
        }
        while b.get(j).is_some_and(|&v| v <= x) {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_pos = max_pos.max(diff);
        max_neg = max_neg.max(-diff);
    }
    max_pos.max(max_neg.clamp(0.0, 1.0))
}

/// The two-sample KS statistic `sup |F_ref − F_cur|` (scipy's `ks_2samp(...).statistic`).
pub fn ks_statistic(reference: &[f64], current: &[f64]) -> Result<f64> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    Ok(ks_statistic_sorted(&sorted(reference), &sorted(current)))
}

const fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// `P(D_{n,n} >= h/n)` for equal sample sizes (scipy's `_compute_prob_outside_square`).
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// The probability that a random lattice path from `(0, 0)` to `(m, n)` leaves the band
/// `|x/m − y/n| < h/lcm` (scipy's `_compute_outer_prob_inside_method`): one column of
/// outside-probabilities over a sliding window, each entry the hypergeometric mix of its
/// neighbours, so nothing overflows.
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng, h) = (m / g, n / g, h as i64);
    let (mg_i, ng_i, n_i) = (mg as i64, ng as i64, n as i64);
    let ceil_div = |a: i64, b: i64| -> i64 { a.div_euclid(b) + i64::from(a.rem_euclid(b) != 0) };
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg_i).min(n_i + 1);
    let mut curlen = maxj - minj;
    let mut a = vec![1.0f64; (n + 2) as usize];
    for v in a.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=(m as i64) {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng_i * i - h).div_euclid(mg_i) + 1).max(0).min(n_i);
        maxj = ceil_div(ng_i * i + h, mg_i).min(n_i + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            let prev = a
                .get((jj + minj - lastminj) as usize)
                .copied()
                .unwrap_or(1.0);
            val = (prev * i as f64 + val * j as f64) / (i + j) as f64;
            if let Some(slot) = a.get_mut(jj as usize) {
                *slot = val;
            }
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            for k in (maxj - minj)..(maxj - minj + lastlen - curlen) {
                if let Some(slot) = a.get_mut(k as usize) {
                    *slot = 1.0;
                }
            }
        }
    }
    a.get((maxj - minj - 1) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Two-sample Kolmogorov–Smirnov test, two-sided, as scipy 1.17's
/// `stats.ks_2samp(reference, current)` with its default `method='auto'`: the exact p-value when
/// both samples hold at most [`KS_MAX_EXACT_N`] values (the statistic is then rounded to the
/// lattice `h / lcm(n1, n2)` as scipy does), the asymptotic one otherwise.
///
/// For the asymptotic p-value scipy evaluates the one-sample distribution `kstwo.sf(d, round(en))`
/// with `en = n1·n2/(n1+n2)`; see [`kstwo_sf`], which matches it to 1e-10 except in two
/// documented corners.
pub fn ks_2samp(reference: &[f64], current: &[f64]) -> Result<KsResult> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    let d = ks_statistic_sorted(&sorted(reference), &sorted(current));
    Ok(ks_p_value(d, reference.len() as u64, current.len() as u64))
}

/// The result scipy's `ks_2samp(method='auto')` gives for statistic `d` (in `[0, 1]`) between
/// samples of `n1` and `n2` values (both ≥ 1): the method choice, the lattice rounding of `d` in
/// the exact branch, and the two-sided p-value. Used by [`ks_2samp`] and by the sketch variant.
pub fn ks_p_value(d: f64, n1: u64, n2: u64) -> KsResult {
    let (n1, n2) = (n1.max(1), n2.max(1));
    let d = d.clamp(0.0, 1.0);
    if n1.max(n2) <= KS_MAX_EXACT_N as u64 {
        let g = gcd(n1, n2);
        let lcm = (n1 / g) * n2;
        let h = (d * lcm as f64).round_ties_even() as u64;
        let d = h as f64 / lcm as f64;
        if h == 0 {
            return KsResult {
                statistic: d,
                p_value: 1.0,
                method: KsMethod::Exact,
            };
        }
        let p = if n1 == n2 {
            prob_outside_square(n1, h)
        } else {
            outer_prob_inside(n1, n2, g, h)
        };
        if (0.0..=1.0).contains(&p) {
            return KsResult {
                statistic: d,
                p_value: p,
                method: KsMethod::Exact,
            };
        }
        return asymptotic(d, n1, n2);
    }
    asymptotic(d, n1, n2)
}

fn asymptotic(d: f64, n1: u64, n2: u64) -> KsResult {
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even().max(1.0);
    KsResult {
        statistic: d,
        p_value: kstwo_sf(d, en as u64).clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    }
}

/// The one-sided one-sample KS survival function `P(D⁺_n >= d)` (scipy's `special.smirnov`), by
/// the exact Birnbaum–Tingey sum `d · Σ_j C(n, j) (1 − d − j/n)^(n−j) (d + j/n)^(j−1)`, whose terms
/// are all positive; evaluated in logarithms (binomials accumulated term by term).
pub fn smirnov(n: u64, d: f64) -> f64 {
    if d.is_nan() {
        return f64::NAN;
    }
    if d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let jmax = (nf * (1.0 - d)).floor().min(nf) as u64;
    let mut logs = Vec::with_capacity(jmax as usize + 1);
    // ln C(n, j), accumulated with Kahan compensation (up to n terms).
    let (mut ln_binom, mut carry) = (0.0f64, 0.0f64);
    for j in 0..=jmax {
        if j > 0 {
            let y = ((n - j + 1) as f64 / j as f64).ln() - carry;
            let t = ln_binom + y;
            carry = (t - ln_binom) - y;
            ln_binom = t;
        }
        let jf = j as f64;
        let left = (nf - jf) / nf - d;
        if left <= 0.0 {
            continue;
        }
        let right = d + jf / nf;
        logs.push(ln_binom + (nf - jf) * left.ln() + (jf - 1.0) * right.ln());
    }
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return 0.0;
    }
    let sum: f64 = logs.iter().map(|l| (l - top).exp()).sum();
    (top + sum.ln() + d.ln()).exp().clamp(0.0, 1.0)
}

/// The Pelz–Good approximation of the one-sample KS CDF `P(D_n <= d)` (scipy's
/// `_kolmogn_PelzGood`, ported term for term).
fn pelz_good_cdf(n: f64, d: f64) -> f64 {
    use std::f64::consts::PI;
    const MIN_LOG: f64 = -708.0;
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let sqrt2pi = (2.0 * PI).sqrt();
    let z = n.sqrt() * d;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -pi2 / 8.0 / z2;
    if qlog < MIN_LOG {
        return 0.0;
    }
    let q = qlog.exp();
    let (k1a, k1b) = (-z2, pi2 / 4.0);
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * kk as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (v, c) in k.iter_mut().zip(coeffs) {
            *v = *v * qpower + c;
        }
    }
    let div = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (v, dv) in k.iter_mut().zip(div) {
        *v = *v * q * sqrt2pi / dv;
    }
    let q = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let ksq = kf * kf;
        let qp = q.powf(ksq);
        let kspi = PI * kf;
        k2extra += ksq * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    k[2] += k2extra * (pi2 * sqrt2pi / (-36.0 * z3));
    k[3] += k3extra * (pi2 * sqrt2pi / (216.0 * z6));
    for (i, v) in k.iter_mut().enumerate() {
        *v /= n.powf(i as f64 / 2.0);
    }
    k[0] + k[1] + k[2] + k[3]
}

/// `x · 2^e` without intermediate overflow or underflow (C's `ldexp`).
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 0 {
        let step = e.min(1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = e.max(-1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    x
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for l in 0..m {
            let ail = a[i * m + l];
            if ail != 0.0 {
                for j in 0..m {
                    out[i * m + j] += ail * b[l * m + j];
                }
            }
        }
    }
    out
}

/// The one-sample KS CDF `P(D_n <= d)` by the Durbin matrix algorithm in the Marsaglia–Tsang–Wang
/// form (scipy's `_kolmogn_DMTW`, ported step for step, with the same 2^128 rescaling).
fn dmtw_cdf(n: u64, d: f64) -> f64 {
    const E128: i64 = 128;
    let ep128 = 2f64.powi(128);
    let em128 = 2f64.powi(-128);
    if d >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut pwr = vec![0.0; m * m];
    for i in 0..m {
        pwr[i * m + i] = 1.0;
    }
    let (mut nn, mut expnt, mut hexpnt) = (n, 0i64, 0i64);
    while nn > 0 {
        if nn % 2 == 1 {
            pwr = matmul(&pwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > ep128 {
            for x in &mut hm {
                *x /= ep128;
            }
            hexpnt += E128;
        }
        nn /= 2;
    }
    let mut p = pwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < em128 {
            p *= ep128;
            expnt -= E128;
        }
    }
    ldexp(p, expnt)
}

/// The two-sided one-sample KS survival function `P(D_n >= d)`, following scipy's
/// `kstwo.sf(d, n)` (its `_kolmogn(n, d, cdf=False)`) branch by branch: 1 for `n·d <= 1/2`, the
/// Ruben–Gambino formulas for `n·d <= 1` and `n·d >= n − 1`, `2·smirnov(n, d)` for `d >= 1/2`, and
/// for `n <= 140`: `2·smirnov(n, d)` when `n·d² > 4`, else the Durbin matrix (scipy switches to
/// Pomeranz's recursion above `n·d² = 0.754693`; both are exact algorithms, so they agree to
/// rounding); for `n > 140`: 0 when `n·d² >= 370`, `2·smirnov(n, d)` when `n·d² >= 2.2`, the
/// Durbin matrix when `n <= 100000` and `n·d^1.5 <= 1.4`, else the Pelz–Good expansion.
pub fn kstwo_sf(d: f64, n: u64) -> f64 {
    let nf = n as f64;
    if d.is_nan() || n == 0 {
        return f64::NAN;
    }
    if d >= 1.0 {
        return 0.0;
    }
    if d <= 0.0 {
        return 1.0;
    }
    let t = nf * d;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let prob =
            (crate::special::ln_gamma(nf + 1.0) - nf * nf.ln() + nf * (2.0 * t - 1.0).ln()).exp();
        return (1.0 - prob).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - d).powf(nf)).clamp(0.0, 1.0);
    }
    if d >= 0.5 {
        return (2.0 * smirnov(n, d)).clamp(0.0, 1.0);
    }
    let nxsquared = t * d;
    if n <= 140 {
        if nxsquared > 4.0 {
            return (2.0 * smirnov(n, d)).clamp(0.0, 1.0);
        }
        // scipy: the Durbin matrix up to n·d² = 0.754693, Pomeranz's recursion above; both
        // are exact, and the Durbin matrix serves for both here.
        return (1.0 - dmtw_cdf(n, d)).clamp(0.0, 1.0);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return (2.0 * smirnov(n, d)).clamp(0.0, 1.0);
    }
    if n <= 100_000 && nf * d.powf(1.5) <= 1.4 {
        return (1.0 - dmtw_cdf(n, d)).clamp(0.0, 1.0);
    }
    (1.0 - pelz_good_cdf(nf, d)).clamp(0.0, 1.0)
}

/// The Wasserstein-1 (earth mover's) distance between two samples, `∫ |F_ref − F_cur|`
/// (scipy's `stats.wasserstein_distance(reference, current)`).
pub fn wasserstein(reference: &[f64], current: &[f64]) -> Result<f64> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    let (a, b) = (sorted(reference), sorted(current));
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
    all.sort_by(f64::total_cmp);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        let x = w[0];
        while a.get(i).is_some_and(|&u| u <= x) {
            i += 1;
        }
        while b.get(j).is_some_and(|&v| v <= x) {
            j += 1;
        }
        total += (i as f64 / n1 - j as f64 / n2).abs() * (w[1] - w[0]);
    }
    Ok(total)
}

/// The population standard deviation (numpy's `np.std`, `ddof = 0`).
pub(crate) fn std_dev(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// Evidently's normed Wasserstein distance (`wasserstein` stattest, default threshold 0.1):
/// [`wasserstein`] divided by `max(std(reference), 0.001)` (population std).
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> Result<f64> {
    let w = wasserstein(reference, current)?;
    Ok(w / std_dev(reference).max(0.001))
}

/// numpy's default (linear) quantile of a sorted sample.
fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's _lerp: a + (b - a)·t, and b − (b − a)·(1 − t) for t ≥ 0.5.
    let diff = b - a;
    if frac >= 0.5 {
        b - diff * (1.0 - frac)
    } else {
        a + diff * frac
    }
}

/// The PSI bin edges of a reference sample: its unique deciles `quantile(ref, k/10)`, k = 1..9.
pub fn psi_edges(reference: &[f64]) -> Result<Vec<f64>> {
    check_sample("reference", reference)?;
    let s = sorted(reference);
    let mut edges: Vec<f64> = (1..10)
        .map(|k| quantile_linear(&s, f64::from(k) / 10.0))
        .collect();
    edges.dedup();
    Ok(edges)
}

/// The smallest bin share PSI uses (shares are clipped below at this value).
pub const PSI_MIN_SHARE: f64 = 1e-4;

/// PSI over aligned bin shares (or counts): each side normalised to shares, clipped below at
/// [`PSI_MIN_SHARE`], then `Σ (q − p)·ln(q/p)`.
pub fn psi_from_counts(reference: &[f64], current: &[f64]) -> Result<f64> {
    let p = crate::drift::categorical::shares("reference", reference)?;
    let q = crate::drift::categorical::shares("current", current)?;
    crate::drift::categorical::check_aligned(&p, &q)?;
    Ok(p.iter()
        .zip(&q)
        .map(|(&p, &q)| {
            let (p, q) = (p.max(PSI_MIN_SHARE), q.max(PSI_MIN_SHARE));
            (q - p) * (q / p).ln()
        })
        .sum())
}

/// Counts of `values` in the bins `searchsorted(edges, v, side='right')` (`edges.len() + 1` bins).
fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<f64> {
    let mut counts = vec![0.0; edges.len() + 1];
    for &v in values {
        counts[edges.partition_point(|&e| e <= v)] += 1.0;
    }
    counts
}

/// The population stability index of a numeric column (the bench's definition, as in
/// Evidently's `psi` with threshold 0.1): bins at the reference's unique deciles ([`psi_edges`]),
/// value `v` in bin `searchsorted(edges, v, side='right')`, shares clipped below at 1e-4,
/// `Σ (q − p)·ln(q/p)`.
pub fn psi(reference: &[f64], current: &[f64]) -> Result<f64> {
    check_sample("current", current)?;
    let edges = psi_edges(reference)?;
    psi_from_counts(&bin_counts(&edges, reference), &bin_counts(&edges, current))
}
