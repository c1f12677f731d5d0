//! Model-agnostic SHAP: KernelSHAP and permutation-sampling SHAP over any [`Game`].
//!
//! KernelSHAP (Lundberg & Lee 2017) fits a weighted linear regression over coalitions with the
//! Shapley kernel weights, the efficiency constraint (values add up to `f(x) − E[f]`) built in by
//! eliminating one coefficient. When the budget `nsamples` covers every coalition the result is
//! exactly the Shapley values; otherwise whole coalition sizes are enumerated, smallest and
//! largest first, as far as the budget reaches, and the rest is sampled in complementary pairs.
//! Permutation SHAP averages marginal contributions along random permutations, each walked
//! forwards and backwards (antithetic); it adds up exactly for every permutation.
//!
//! Both are seeded and parallel over rows; row `i` draws from its own generator, so the result
//! does not depend on the thread count.

use std::collections::HashMap;

use mlship_core::rng::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};
use crate::game::Game;
use crate::linalg;
use crate::values::ShapValues;

/// KernelSHAP parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelParams {
    /// Coalitions evaluated per row (`None`: `2 × players + 2048`, as shap).
    pub nsamples: Option<usize>,
    /// Seed of the coalition sampling.
    pub seed: u64,
}

/// Permutation SHAP parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PermutationParams {
    /// Permutations per row; each is walked forwards and backwards.
    pub n_permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
}

impl Default for PermutationParams {
    fn default() -> Self {
        Self {
            n_permutations: 10,
            seed: 0,
        }
    }
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// The coalitions and their kernel weights for `m` players under a budget.
fn coalitions(m: usize, nsamples: usize, rng: &mut Rng) -> (Vec<bool>, Vec<f64>) {
    let mut masks = Vec::new();
    let mut weights = Vec::new();
    // Kernel weight of one coalition of size s: (m − 1) / (C(m, s) s (m − s)).
    let size_weight = |s: usize| (m - 1) as f64 / (s * (m - s)) as f64;
    let total_subsets = if m < 60 { (1u64 << m) - 2 } else { u64::MAX };
    if total_subsets <= nsamples as u64 {
        for code in 1..(1u64 << m) - 1 {
            let s = code.count_ones() as usize;
            masks.extend((0..m).map(|j| code >> j & 1 == 1));
            weights.push(size_weight(s) / binomial(m, s));
        }
        return (masks, weights);
    }
    // Size s pairs with m − s; when m is even, size m/2 is its own complement.
    let sizes: Vec<usize> = (1..=m / 2).collect();
    let paired = |s: usize| 2 * s != m;
    let mut mass: Vec<f64> = sizes
        .iter()
        .map(|&s| size_weight(s) * if paired(s) { 2.0 } else { 1.0 })
        .collect();
    let total: f64 = mass.iter().sum();
    for w in &mut mass {
        *w /= total;
    }
    let mut left = nsamples as f64;
    let mut remaining = mass.clone();
    let mut full = 0;
    let mut mass_left = 1.0;
    for (i, &s) in sizes.iter().enumerate() {
        let count = binomial(m, s) * if paired(s) { 2.0 } else { 1.0 };
        let share = remaining[i] / remaining[i..].iter().sum::<f64>().max(f64::MIN_POSITIVE);
        if left * share / count < 1.0 - 1e-8 {
            break;
        }
        // Enumerate every coalition of size s (and its complement).
        let w = mass[i] / count;
        for_each_subset(m, s, |subset| {
            let mut mask = vec![false; m];
            for &j in subset {
                mask[j] = true;
            }
            if paired(s) {
                masks.extend(mask.iter().map(|b| !b));
                weights.push(w);
            }
            masks.extend(mask);
            weights.push(w);
        });
        left -= count;
        mass_left -= mass[i];
        remaining[i] = 0.0;
        full = i + 1;
    }
    if full < sizes.len() && left >= 2.0 {
        let rest: Vec<f64> = mass[full..].to_vec();
        let cum = mlship_core::rng::cumulative(&rest);
        let mut seen: HashMap<Vec<bool>, usize> = HashMap::new();
        let first = weights.len();
        let mut drawn = 0usize;
        let budget = left as usize;
        let mut attempts = 0usize;
        while drawn + 2 <= budget && attempts < budget * 4 {
            attempts += 1;
            let s = sizes[full + rng.weighted(&cum)];
            let perm = rng.permutation(m);
            let mut mask = vec![false; m];
            perm[..s].iter().for_each(|&j| mask[j] = true);
            let complement: Vec<bool> = mask.iter().map(|b| !b).collect();
            for mk in [mask, complement] {
                if let Some(&at) = seen.get(&mk) {
                    weights[at] += 1.0;
                } else {
                    seen.insert(mk.clone(), weights.len());
                    masks.extend(mk);
                    weights.push(1.0);
                    drawn += 1;
                }
            }
        }
        let sampled: f64 = weights[first..].iter().sum();
        if sampled > 0.0 {
            for w in &mut weights[first..] {
                *w *= mass_left / sampled;
            }
        }
    }
    (masks, weights)
}

/// Calls `f` with every subset of `0..m` of size `s`, in lexicographic order.
fn for_each_subset(m: usize, s: usize, mut f: impl FnMut(&[usize])) {
    if s > m {
        return;
    }
    let mut idx: Vec<usize> = (0..s).collect();
    loop {
        f(&idx);
        let mut i = s;
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            if idx[i] != i + m - s {
                break;
            }
            if i == 0 && idx[0] == m - s {
                return;
            }
        }
        idx[i] += 1;
        for j in i + 1..s {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// KernelSHAP values for every row of `game`.
pub fn kernel_shap(game: &dyn Game, params: &KernelParams) -> Result<ShapValues> {
    let m = game.n_players();
    let k = game.n_outputs();
    let nsamples = params.nsamples.unwrap_or(2 * m + 2048);
    if nsamples < 2 {
        return Err(ExplainError::invalid("nsamples", nsamples, "at least 2"));
    }
    let expected = game.expected()?;
    let mut out = ShapValues::zeros(game.n_rows(), k, m, expected.clone());
    if m == 0 || k == 0 {
        return Ok(out);
    }
    let results: Vec<Result<()>> = out
        .values
        .par_chunks_mut(k * m)
        .enumerate()
        .map(|(row, phi)| {
            let mut fx = vec![0.0; k];
            game.values(row, &vec![true; m], &mut fx)?;
            let total: Vec<f64> = fx.iter().zip(&expected).map(|(f, e)| f - e).collect();
            if m == 1 {
                phi.copy_from_slice(&total);
                return Ok(());
            }
            let mut rng = Rng::derive(params.seed, row as u64);
            let (masks, weights) = coalitions(m, nsamples, &mut rng);
            let n = weights.len();
            let mut y = vec![0.0; n * k];
            game.values(row, &masks, &mut y)?;
            // Eliminate the last player: φ_last = total − Σ others.
            let p = m - 1;
            let mut xd = vec![0.0; n * p];
            let mut yd = vec![0.0; n * k];
            for r in 0..n {
                let z = &masks[r * m..(r + 1) * m];
                let last = f64::from(u8::from(z[m - 1]));
                for j in 0..p {
                    xd[r * p + j] = f64::from(u8::from(z[j])) - last;
                }
                for o in 0..k {
                    yd[r * k + o] = y[r * k + o] - expected[o] - last * total[o];
                }
            }
            let beta = linalg::weighted_least_squares(&xd, &yd, &weights, p, k, 0.0)
                .or_else(|| {
                    // A rank-deficient sample: a whisper of ridge keeps the fit defined.
                    linalg::weighted_least_squares(&xd, &yd, &weights, p, k, 1e-9)
                })
                .ok_or_else(|| {
                    ExplainError::Data(format!(
                        "the coalition sample of row {row} does not determine the values\nhint: raise nsamples"
                    ))
                })?;
            for o in 0..k {
                let mut sum = 0.0;
                for j in 0..p {
                    phi[o * m + j] = beta[j * k + o];
                    sum += beta[j * k + o];
                }
                phi[o * m + p] = total[o] - sum;
            }
            Ok(())
        })
        .collect();
    results.into_iter().collect::<Result<()>>()?;
    Ok(out)
}

/// Permutation-sampling SHAP values for every row of `game`.
pub fn permutation_shap(game: &dyn Game, params: &PermutationParams) -> Result<ShapValues> {
    if params.n_permutations == 0 {
        return Err(ExplainError::invalid("n_permutations", 0, "at least 1"));
    }
    let m = game.n_players();
    let k = game.n_outputs();
    let expected = game.expected()?;
    let mut out = ShapValues::zeros(game.n_rows(), k, m, expected);
    if m == 0 || k == 0 {
        return Ok(out);
    }
    let results: Vec<Result<()>> = out
        .values
        .par_chunks_mut(k * m)
        .enumerate()
        .map(|(row, phi)| {
            let mut rng = Rng::derive(params.seed, row as u64);
            // For each permutation, prefixes of length 0..=m forwards, then backwards.
            let walks = 2 * params.n_permutations;
            let mut orders = Vec::with_capacity(walks);
            let mut masks = Vec::with_capacity(walks * (m + 1) * m);
            for _ in 0..params.n_permutations {
                let perm = rng.permutation(m);
                let reversed: Vec<usize> = perm.iter().rev().copied().collect();
                for order in [perm, reversed] {
                    let mut mask = vec![false; m];
                    masks.extend_from_slice(&mask);
                    for &j in &order {
                        mask[j] = true;
                        masks.extend_from_slice(&mask);
                    }
                    orders.push(order);
                }
            }
            let mut y = vec![0.0; walks * (m + 1) * k];
            game.values(row, &masks, &mut y)?;
            for (w, order) in orders.iter().enumerate() {
                let base = w * (m + 1);
                for (step, &j) in order.iter().enumerate() {
                    for o in 0..k {
                        phi[o * m + j] += y[(base + step + 1) * k + o] - y[(base + step) * k + o];
                    }
                }
            }
            let n = walks as f64;
            for v in phi.iter_mut() {
                *v /= n;
            }
            Ok(())
        })
        .collect();
    results.into_iter().collect::<Result<()>>()?;
    Ok(out)
}

#[cfg(test)]
mod tests;
