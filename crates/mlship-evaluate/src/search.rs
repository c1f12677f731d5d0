//! Hyperparameter search: grid and random candidates, cross-validated and ranked.
//!
//! - [`grid_candidates`] enumerates a [`ParamGrid`] in scikit-learn's `ParameterGrid` order.
//! - [`random_candidates`] draws from a [`SearchSpace`] with `ParameterSampler`'s semantics.
//! - [`search`] cross-validates the candidates through a fit-and-score closure (see [`crate::cv`])
//!   and returns a results table like `GridSearchCV.cv_results_` / `RandomizedSearchCV.cv_results_`,
//!   with the best candidate (`best_index_`).
//!
//! The folds are split once and shared by every candidate, as in scikit-learn. Without a time
//! budget all (candidate, fold) pairs run in parallel; with one, candidates run one after another
//! (their folds in parallel) and the search stops once the budget is spent, so the result is
//! reproducible over the candidates it lists as completed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mlship_core::params::{ParamGrid, ParamSet, SearchSpace};
use mlship_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::cv::{FitAndScore, FoldResult, build_pool, mean_std, run_pairs, with_context};
use crate::split::{Fold, Splitter};
use crate::{EvaluateError, Result};

/// The largest grid [`grid_candidates`] materialises.
pub const MAX_GRID_CANDIDATES: u64 = 1_000_000;

/// Every candidate of `grid`, in scikit-learn's `ParameterGrid` order: names sorted, the last
/// name varying fastest (`list(ParameterGrid(grid))`). An empty grid gives one empty candidate.
///
/// Errors: an axis without values; more than [`MAX_GRID_CANDIDATES`] candidates.
pub fn grid_candidates(grid: &ParamGrid) -> Result<Vec<ParamSet>> {
    grid.validate()?;
    let size = grid
        .size()
        .filter(|&s| s <= MAX_GRID_CANDIDATES)
        .ok_or_else(|| {
            EvaluateError::invalid_input(format!(
                "the grid has {} candidates, more than the {MAX_GRID_CANDIDATES} a grid search \
                 may try\nhint: use a random search with max_candidates",
                grid.size()
                    .map_or_else(|| "over 2^64".to_owned(), |s| s.to_string())
            ))
        })?;
    Ok((0..size).filter_map(|i| grid.get(i)).collect())
}

/// `n` candidates drawn from `space` with a generator seeded by `seed`, mirroring
/// scikit-learn's `ParameterSampler(space, n_iter=n, random_state=seed)`:
/// - when every distribution is a `choice`, the candidates are grid points drawn **without**
///   replacement, and at most the grid's size of them are returned;
/// - otherwise each candidate draws every parameter in name order (with replacement).
///
/// Same space, `n` and seed ⇒ same candidates. The stream is mlship's own [`Rng`], so the values
/// differ from scikit-learn's (NumPy's) for the same seed.
pub fn random_candidates(space: &SearchSpace, n: usize, seed: u64) -> Result<Vec<ParamSet>> {
    space.validate()?;
    let mut rng = Rng::new(seed);
    if let Some(grid) = space.as_grid() {
        let size = grid.size().unwrap_or(u64::MAX);
        let k = (n as u64).min(size);
        let indices = sample_without_replacement(&mut rng, size, k);
        return Ok(indices.into_iter().filter_map(|i| grid.get(i)).collect());
    }
    (0..n)
        .map(|_| space.sample(&mut rng).map_err(EvaluateError::from))
        .collect()
}

/// `k ≤ size` distinct indices of `0..size` in draw order.
fn sample_without_replacement(rng: &mut Rng, size: u64, k: u64) -> Vec<u64> {
    if size <= 2 * k {
        // Dense: a partial Fisher–Yates shuffle (size is at most twice the candidates wanted).
        let mut pool: Vec<u64> = (0..size).collect();
        for i in 0..k as usize {
            let j = i + rng.index(pool.len() - i);
            pool.swap(i, j);
        }
        pool.truncate(k as usize);
        pool
    } else {
        // Sparse: rejection, fewer than two draws per index on average.
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(k as usize);
        while (out.len() as u64) < k {
            let i = rng.below(size);
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

/// How [`search`] runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchOptions {
    /// Worker threads for the folds (scikit-learn's `n_jobs`); at least 1 (default 1).
    pub threads: usize,
    /// Evaluate only the first this many candidates (reproducible; scikit-learn's `n_iter` for
    /// random search). Default: all.
    pub max_candidates: Option<usize>,
    /// Stop starting new candidates once this much time has passed; the first candidate always
    /// runs. Default: no budget.
    pub time_budget: Option<Duration>,
    /// Whether a higher score is better (default true, as for every scikit-learn scorer; false
    /// for a loss such as RMSE).
    pub greater_is_better: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            threads: 1,
            max_candidates: None,
            time_budget: None,
            greater_is_better: true,
        }
    }
}

/// One candidate's row of the results table (one index of scikit-learn's `cv_results_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    /// The candidate's parameters (`params`).
    pub params: ParamSet,
    /// Mean validation score over the folds (`mean_test_score`).
    pub mean_test_score: f64,
    /// Population standard deviation of the fold scores (`std_test_score`).
    pub std_test_score: f64,
    /// Rank by mean score, 1 the best, ties sharing the lowest rank (`rank_test_score`, SciPy's
    /// `rankdata(method="min")`).
    pub rank_test_score: usize,
    /// Mean fit seconds (`mean_fit_time`).
    pub mean_fit_time: f64,
    /// Population standard deviation of the fit seconds (`std_fit_time`).
    pub std_fit_time: f64,
    /// Mean score seconds (`mean_score_time`).
    pub mean_score_time: f64,
    /// Population standard deviation of the score seconds (`std_score_time`).
    pub std_score_time: f64,
    /// The fold scores in fold order (`split0_test_score`, `split1_test_score`, …).
    pub split_test_scores: Vec<f64>,
    /// Means over the folds of the closure's extra metrics (`mean_test_<name>` with multi-metric
    /// scoring), each over the folds that reported it.
    pub mean_test_metrics: BTreeMap<String, f64>,
}

/// The results table of a search (scikit-learn's `cv_results_`, one row per completed
/// candidate in candidate order) with the best candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// One row per completed candidate, in candidate order.
    pub rows: Vec<SearchRow>,
    /// The row of the best candidate: the first with rank 1 (`best_index_`).
    pub best_index: usize,
    /// Candidates offered after `max_candidates` was applied.
    pub n_candidates: usize,
    /// Candidates completed: the first `completed` of those offered (fewer than `n_candidates`
    /// only when the time budget stopped the search).
    pub completed: usize,
    /// Whether the time budget stopped the search before every candidate ran.
    pub stopped_by_time_budget: bool,
    /// Whether a higher score ranked better.
    pub greater_is_better: bool,
}

impl SearchResult {
    /// The best candidate's row (`best_params_`, `best_score_`).
    pub fn best(&self) -> Option<&SearchRow> {
        self.rows.get(self.best_index)
    }
}

/// Cross-validates each candidate with the folds of `splitter` on `n_rows` rows (with `y` and
/// `groups` for the splitters that need them) through `fit_and_score`, ranks them by mean score
/// and picks the best: scikit-learn's `GridSearchCV` / `RandomizedSearchCV` `fit` with
/// `refit=False` (refitting the winner is the caller's job).
///
/// Errors: no candidates, `max_candidates = 0`, `threads = 0`, the splitter's errors, and the
/// first failing (candidate, fold) pair in candidate order, named by both indices.
pub fn search(
    candidates: &[ParamSet],
    splitter: &dyn Splitter,
    n_rows: usize,
    y: Option<&[f64]>,
    groups: Option<&[u64]>,
    fit_and_score: &FitAndScore<'_>,
    options: &SearchOptions,
) -> Result<SearchResult> {
    let start = Instant::now();
    if options.max_candidates == Some(0) {
        return Err(EvaluateError::invalid_param(
            "max_candidates",
            0,
            "at least 1",
        ));
    }
    let offered = &candidates[..options
        .max_candidates
        .map_or(candidates.len(), |m| m.min(candidates.len()))];
    if offered.is_empty() {
        return Err(EvaluateError::invalid_input("the search has no candidates"));
    }
    let pool = build_pool(options.threads)?;
    let folds = splitter.split(n_rows, y, groups)?;

    let (per_candidate, stopped) = match options.time_budget {
        None => (run_pairs(&pool, offered, &folds, fit_and_score)?, false),
        Some(budget) => {
            let mut done = Vec::with_capacity(offered.len());
            let mut stopped = false;
            for (c, params) in offered.iter().enumerate() {
                if c > 0 && start.elapsed() >= budget {
                    stopped = true;
                    break;
                }
                let mut one = run_pairs(&pool, std::slice::from_ref(params), &folds, fit_and_score)
                    .map_err(|e| with_context(e, &format!("candidate {c} ({params})")))?;
                done.push(one.pop().unwrap_or_default());
            }
            (done, stopped)
        }
    };

    let mut rows: Vec<SearchRow> = offered
        .iter()
        .zip(per_candidate)
        .map(|(params, folds)| summarise(params, &folds))
        .collect();
    let means: Vec<f64> = rows.iter().map(|r| r.mean_test_score).collect();
    let ranks = rank_min(&means, options.greater_is_better);
    for (row, rank) in rows.iter_mut().zip(&ranks) {
        row.rank_test_score = *rank;
    }
    let best_index = ranks.iter().position(|&r| r == 1).unwrap_or(0);
    Ok(SearchResult {
        completed: rows.len(),
        rows,
        best_index,
        n_candidates: offered.len(),
        stopped_by_time_budget: stopped,
        greater_is_better: options.greater_is_better,
    })
}

/// One candidate's row (rank filled in later).
fn summarise(params: &ParamSet, folds: &[FoldResult]) -> SearchRow {
    let scores: Vec<f64> = folds.iter().map(|f| f.score).collect();
    let fit: Vec<f64> = folds.iter().map(|f| f.fit_seconds).collect();
    let score_t: Vec<f64> = folds.iter().map(|f| f.score_seconds).collect();
    let (mean_test_score, std_test_score) = mean_std(&scores);
    let (mean_fit_time, std_fit_time) = mean_std(&fit);
    let (mean_score_time, std_score_time) = mean_std(&score_t);
    let mut by_name: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for fold in folds {
        for (name, v) in &fold.metrics {
            by_name.entry(name).or_default().push(*v);
        }
    }
    SearchRow {
        params: params.clone(),
        mean_test_score,
        std_test_score,
        rank_test_score: 0,
        mean_fit_time,
        std_fit_time,
        mean_score_time,
        std_score_time,
        split_test_scores: scores,
        mean_test_metrics: by_name
            .into_iter()
            .map(|(name, vs)| (name.to_owned(), mean_std(&vs).0))
            .collect(),
    }
}

/// Ranks `scores` with 1 the best and ties sharing their lowest rank: SciPy's
/// `rankdata(-scores, method="min")` when `greater_is_better` (as `cv_results_` does), else
/// `rankdata(scores, method="min")`. NaN scores rank last, as scikit-learn's `_store` does.
pub fn rank_min(scores: &[f64], greater_is_better: bool) -> Vec<usize> {
    let key = |s: f64| {
        if s.is_nan() {
            f64::INFINITY
        } else if greater_is_better {
            -s
        } else {
            s
        }
    };
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| key(scores[a]).total_cmp(&key(scores[b])));
    let mut ranks = vec![0; scores.len()];
    let mut rank = 1;
    for (pos, &i) in order.iter().enumerate() {
        if pos > 0 && key(scores[i]) != key(scores[order[pos - 1]]) {
            rank = pos + 1;
        }
        ranks[i] = rank;
    }
    ranks
}

// ---------------------------------------------------------------------------------------------
// Successive halving
// ---------------------------------------------------------------------------------------------

/// The smallest number of rows a successive-halving iteration uses (scikit-learn's
/// `min_resources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinResources {
    /// As many as lets the last iteration use every row (`"exhaust"`, the default of
    /// `HalvingGridSearchCV`), but at least the `smallest` heuristic.
    Exhaust,
    /// `2 × n_splits` rows, times the number of classes for a classifier (`"smallest"`, the
    /// default of `HalvingRandomSearchCV`).
    Smallest,
    /// This many rows.
    Rows(usize),
}

/// How [`successive_halving`] runs (the parameters of scikit-learn's `HalvingGridSearchCV` /
/// `HalvingRandomSearchCV` with `resource="n_samples"` and `max_resources="auto"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HalvingOptions {
    /// Each iteration keeps `ceil(n / factor)` candidates and multiplies the rows by `factor`;
    /// at least 2 (default 3).
    pub factor: usize,
    /// The rows of the first iteration (default [`MinResources::Exhaust`]).
    pub min_resources: MinResources,
    /// Run as many iterations as the candidates need, repeating the first resource level when
    /// the rows would run out (`aggressive_elimination`, default false).
    pub aggressive_elimination: bool,
    /// Whether the target holds classes (the `smallest` heuristic then multiplies by their count).
    pub classification: bool,
    /// Seed of the row subsampling (scikit-learn's `random_state`; default 0).
    pub seed: u64,
    /// Worker threads (`n_jobs`); at least 1 (default 1).
    pub threads: usize,
    /// Whether a higher score is better (default true).
    pub greater_is_better: bool,
}

impl Default for HalvingOptions {
    fn default() -> Self {
        Self {
            factor: 3,
            min_resources: MinResources::Exhaust,
            aggressive_elimination: false,
            classification: false,
            seed: 0,
            threads: 1,
            greater_is_better: true,
        }
    }
}

/// One row of a successive-halving results table: a candidate at one iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HalvingRow {
    /// The iteration, from 0 (`iter`).
    pub iter: usize,
    /// Rows the iteration subsampled from the data (`n_resources`).
    pub n_resources: usize,
    /// Scores, times and rank (over every row of every iteration, as in `cv_results_`).
    #[serde(flatten)]
    pub row: SearchRow,
}

/// The outcome of [`successive_halving`] (the attributes of scikit-learn's halving searches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HalvingResult {
    /// Every evaluation, iteration by iteration (`cv_results_`).
    pub rows: Vec<HalvingRow>,
    /// The best row of the last iteration (`best_index_`).
    pub best_index: usize,
    /// Rows used per iteration (`n_resources_`).
    pub n_resources: Vec<usize>,
    /// Candidates evaluated per iteration (`n_candidates_`).
    pub n_candidates: Vec<usize>,
    /// Iterations run (`n_iterations_`).
    pub n_iterations: usize,
    /// Iterations needed to narrow the candidates down to one (`n_required_iterations_`).
    pub n_required_iterations: usize,
    /// Iterations the rows allow (`n_possible_iterations_`).
    pub n_possible_iterations: usize,
    /// Rows of the first iteration (`min_resources_`).
    pub min_resources: usize,
    /// Rows available (`max_resources_`).
    pub max_resources: usize,
}

impl HalvingResult {
    /// The best candidate's row (`best_params_`, `best_score_`).
    pub fn best(&self) -> Option<&HalvingRow> {
        self.rows.get(self.best_index)
    }
}

/// `floor(log_base(x))` for `x ≥ 1`, exactly (scikit-learn computes it in floating point, which
/// can come out one lower when `x` is an exact power, e.g. `log(243, 3)`).
fn ilog(x: usize, base: usize) -> usize {
    x.checked_ilog(base).map_or(0, |v| v as usize)
}

/// Successive halving over `candidates` with training rows as the resource: scikit-learn's
/// `HalvingGridSearchCV` / `HalvingRandomSearchCV` `fit` with `resource="n_samples"` and
/// `refit=False`.
///
/// Iteration `i` evaluates its candidates on every fold of `splitter` with each fold's training
/// and validation rows subsampled (without replacement, seeded, sorted) to the fraction
/// `n_resources[i] / n_rows`, and keeps the best `ceil(n / factor)` for the next iteration (ties
/// keep the later candidate, as a stable ascending sort does). The best candidate is the best of
/// the last iteration.
///
/// Differences from scikit-learn: the subsample is drawn from mlship's [`Rng`]; `log` is
/// computed exactly on integers; a subsampled fold without training or validation rows is an
/// error naming the iteration.
pub fn successive_halving(
    candidates: &[ParamSet],
    splitter: &dyn Splitter,
    n_rows: usize,
    y: Option<&[f64]>,
    groups: Option<&[u64]>,
    fit_and_score: &FitAndScore<'_>,
    options: &HalvingOptions,
) -> Result<HalvingResult> {
    let factor = options.factor;
    if factor < 2 {
        return Err(EvaluateError::invalid_param("factor", factor, "at least 2"));
    }
    if candidates.is_empty() {
        return Err(EvaluateError::invalid_input("the search has no candidates"));
    }
    let pool = build_pool(options.threads)?;
    let folds = splitter.split(n_rows, y, groups)?;

    let n_classes = match (options.classification, y) {
        (true, Some(y)) => {
            let mut labels: Vec<f64> = y.to_vec();
            labels.sort_by(f64::total_cmp);
            labels.dedup();
            labels.len()
        }
        _ => 1,
    };
    let max_resources = n_rows;
    let (min_resources, n_required, n_possible, n_iterations) = schedule(
        candidates.len(),
        2 * splitter.n_splits() * n_classes,
        max_resources,
        options,
    )?;

    let sign = if options.greater_is_better { 1.0 } else { -1.0 };
    let mut rows: Vec<HalvingRow> = Vec::new();
    let mut current: Vec<ParamSet> = candidates.to_vec();
    let (mut n_resources_per_iter, mut n_candidates_per_iter) = (Vec::new(), Vec::new());
    for itr in 0..n_iterations {
        let power = if options.aggressive_elimination {
            (itr + n_possible).saturating_sub(n_required)
        } else {
            itr
        };
        let n_resources = factor
            .saturating_pow(u32::try_from(power).unwrap_or(u32::MAX))
            .saturating_mul(min_resources)
            .min(max_resources);
        n_resources_per_iter.push(n_resources);
        n_candidates_per_iter.push(current.len());

        let sub_folds = subsample_folds(&folds, n_resources, n_rows, options.seed, itr)?;
        let results = run_pairs(&pool, &current, &sub_folds, fit_and_score)
            .map_err(|e| with_context(e, &format!("halving iteration {itr}")))?;
        let first = rows.len();
        for (params, fold_results) in current.iter().zip(&results) {
            rows.push(HalvingRow {
                iter: itr,
                n_resources,
                row: summarise(params, fold_results),
            });
        }
        // Keep the best ceil(n / factor), ascending as scikit-learn's `_top_k` returns them.
        let keep = current.len().div_ceil(factor);
        let mut order: Vec<usize> = (0..current.len()).collect();
        order.sort_by(|&a, &b| {
            (sign * rows[first + a].row.mean_test_score)
                .total_cmp(&(sign * rows[first + b].row.mean_test_score))
        });
        current = order[order.len() - keep..]
            .iter()
            .map(|&i| current[i].clone())
            .collect();
    }

    let means: Vec<f64> = rows.iter().map(|r| r.row.mean_test_score).collect();
    for (row, rank) in rows
        .iter_mut()
        .zip(rank_min(&means, options.greater_is_better))
    {
        row.row.rank_test_score = rank;
    }
    let last = n_iterations.saturating_sub(1);
    let mut best_index = 0;
    for (i, r) in rows.iter().enumerate() {
        if r.iter == last
            && (rows[best_index].iter != last
                || sign * r.row.mean_test_score > sign * rows[best_index].row.mean_test_score)
        {
            best_index = i;
        }
    }
    Ok(HalvingResult {
        rows,
        best_index,
        n_resources: n_resources_per_iter,
        n_candidates: n_candidates_per_iter,
        n_iterations,
        n_required_iterations: n_required,
        n_possible_iterations: n_possible,
        min_resources,
        max_resources,
    })
}

/// scikit-learn's halving schedule: `(min_resources, n_required, n_possible, n_iterations)`.
fn schedule(
    n_candidates: usize,
    smallest: usize,
    max_resources: usize,
    options: &HalvingOptions,
) -> Result<(usize, usize, usize, usize)> {
    let factor = options.factor;
    let n_required = 1 + ilog(n_candidates, factor);
    let min_resources = match options.min_resources {
        MinResources::Smallest => smallest,
        MinResources::Rows(r) => r,
        MinResources::Exhaust => smallest.max(
            max_resources
                / factor.saturating_pow(u32::try_from(n_required - 1).unwrap_or(u32::MAX)),
        ),
    };
    if min_resources == 0 {
        return Err(EvaluateError::invalid_param(
            "min_resources",
            0,
            "at least 1 row",
        ));
    }
    if min_resources > max_resources {
        return Err(EvaluateError::invalid_param(
            "min_resources",
            min_resources,
            format!("at most the number of rows ({max_resources})"),
        ));
    }
    let n_possible = 1 + ilog(max_resources / min_resources, factor);
    let n_iterations = if options.aggressive_elimination {
        n_required
    } else {
        n_possible.min(n_required)
    };

    Ok((min_resources, n_required, n_possible, n_iterations))
}

/// The folds with training and validation rows subsampled to `n_resources / n_rows` (seeded per
/// fold, the same draws at every iteration as scikit-learn's fixed `random_state`).
fn subsample_folds(
    folds: &[Fold],
    n_resources: usize,
    n_rows: usize,
    seed: u64,
    itr: usize,
) -> Result<Vec<Fold>> {
    let fraction = n_resources as f64 / n_rows as f64;
    let sub_folds: Vec<Fold> = folds
        .iter()
        .enumerate()
        .map(|(k, fold)| {
            let mut rng = Rng::derive(seed, k as u64);
            Fold {
                train: subsample(&mut rng, &fold.train, fraction),
                valid: subsample(&mut rng, &fold.valid, fraction),
            }
        })
        .collect();
    if let Some(k) = sub_folds
        .iter()
        .position(|f| f.train.is_empty() || f.valid.is_empty())
    {
        return Err(EvaluateError::invalid_input(format!(
            "successive halving iteration {itr} subsamples fold {k} to no training or no \
             validation rows ({n_resources} of {n_rows} rows)\nhint: raise min_resources"
        )));
    }
    Ok(sub_folds)
}

/// `floor(fraction × len)` of `rows` drawn without replacement, sorted ascending.
fn subsample(rng: &mut Rng, rows: &[usize], fraction: f64) -> Vec<usize> {
    let n = ((fraction * rows.len() as f64) as usize).min(rows.len());
    if n == rows.len() {
        return rows.to_vec();
    }
    let mut pool = rows.to_vec();
    for i in 0..n {
        let j = i + rng.index(pool.len() - i);
        pool.swap(i, j);
    }
    pool.truncate(n);
    pool.sort_unstable();
    pool
}

#[cfg(test)]
mod tests {
    use mlship_core::params::{Distribution, ParamValue};
    use proptest::prelude::*;

    use super::*;
    use crate::split::KFold;

    fn kfold() -> KFold {
        KFold {
            n_splits: 3,
            ..KFold::default()
        }
    }

    fn c_of(p: &ParamSet) -> f64 {
        p.get("C").and_then(ParamValue::as_f64).unwrap_or(f64::NAN)
    }

    /// −(C − 3)², the same on every fold, with fixed timings.
    #[allow(clippy::unnecessary_wraps, reason = "the fit-and-score signature")]
    fn parabola(p: &ParamSet, _: &[usize], _: &[usize]) -> mlship_core::Result<FoldResult> {
        let c = c_of(p);
        Ok(FoldResult::new(-(c - 3.0) * (c - 3.0)))
    }

    #[test]
    fn grid_order_matches_parameter_grid() {
        // list(ParameterGrid({"b": ["x", "y", "z"], "a": [1, 2]}))
        let grid = ParamGrid::new()
            .with("b", ["x", "y", "z"])
            .with("a", [1i64, 2]);
        let got: Vec<String> = grid_candidates(&grid)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "a=1, b=x", "a=1, b=y", "a=1, b=z", "a=2, b=x", "a=2, b=y", "a=2, b=z"
            ]
        );
        let huge = (0..7).fold(ParamGrid::new(), |g, i| {
            g.with(format!("p{i}"), (0..10i64).collect::<Vec<_>>())
        });
        let e = grid_candidates(&huge).unwrap_err();
        assert!(e.to_string().contains("10000000 candidates"), "{e}");
    }

    #[test]
    fn grid_search_finds_the_optimum() {
        let grid = ParamGrid::new().with("C", [0.5, 1.0, 2.0, 3.0, 4.0, 6.0]);
        let cands = grid_candidates(&grid).unwrap();
        let r = search(
            &cands,
            &kfold(),
            12,
            None,
            None,
            &parabola,
            &SearchOptions::default(),
        )
        .unwrap();
        assert_eq!(r.best_index, 3);
        let best = r.best().unwrap();
        assert_eq!(c_of(&best.params), 3.0);
        assert_eq!(best.mean_test_score, 0.0);
        assert_eq!(best.rank_test_score, 1);
        assert_eq!(best.split_test_scores, [0.0, 0.0, 0.0]);
        // 2.0 and 4.0 tie at −1: both rank 2, then 1.0 (−4) ranks 4, 0.5 (−6.25) 5, 6.0 (−9) 6.
        let ranks: Vec<usize> = r.rows.iter().map(|r| r.rank_test_score).collect();
        assert_eq!(ranks, [5, 4, 2, 1, 2, 6]);
        assert_eq!((r.completed, r.n_candidates), (6, 6));
        assert!(!r.stopped_by_time_budget);

        // The same objective as a loss.
        let loss = |p: &ParamSet, _: &[usize], _: &[usize]| {
            let c = c_of(p);
            Ok(FoldResult::new((c - 3.0) * (c - 3.0)))
        };
        let opts = SearchOptions {
            greater_is_better: false,
            ..SearchOptions::default()
        };
        let r = search(&cands, &kfold(), 12, None, None, &loss, &opts).unwrap();
        assert_eq!(r.best_index, 3);
    }

    #[test]
    fn random_search_finds_the_best_sampled_candidate() {
        let space = SearchSpace::new().with(
            "C",
            Distribution::LogUniform {
                low: 0.1,
                high: 30.0,
            },
        );
        let cands = random_candidates(&space, 40, 11).unwrap();
        assert_eq!(cands.len(), 40);
        assert_eq!(cands, random_candidates(&space, 40, 11).unwrap());
        let r = search(
            &cands,
            &kfold(),
            9,
            None,
            None,
            &parabola,
            &SearchOptions::default(),
        )
        .unwrap();
        let closest = cands
            .iter()
            .map(|p| (c_of(p) - 3.0).abs())
            .fold(f64::INFINITY, f64::min);
        let best = r.best().unwrap();
        assert_eq!((c_of(&best.params) - 3.0).abs(), closest);
        assert!(closest < 0.5, "{closest}");
    }

    #[test]
    fn all_choice_spaces_sample_the_grid_without_replacement() {
        let space = SearchSpace::from(
            ParamGrid::new()
                .with("C", [0.1, 1.0, 10.0])
                .with("penalty", ["l1", "l2"]),
        );
        let cands = random_candidates(&space, 10, 0).unwrap();
        assert_eq!(cands.len(), 6);
        let mut shown: Vec<String> = cands.iter().map(ToString::to_string).collect();
        shown.sort();
        shown.dedup();
        assert_eq!(shown.len(), 6);
        let few = random_candidates(&space, 4, 0).unwrap();
        assert_eq!(few.len(), 4);
        assert_eq!(few, random_candidates(&space, 4, 0).unwrap());
    }

    #[test]
    fn ranks_match_scipy_rankdata_min() {
        // scipy.stats.rankdata(-np.array([0.5, 0.7, 0.7, 0.1, 0.5]), method="min")
        assert_eq!(rank_min(&[0.5, 0.7, 0.7, 0.1, 0.5], true), [3, 1, 1, 5, 3]);
        // scipy.stats.rankdata([0.5, 0.7, 0.7, 0.1, 0.5], method="min")
        assert_eq!(rank_min(&[0.5, 0.7, 0.7, 0.1, 0.5], false), [2, 4, 4, 1, 2]);
        assert_eq!(rank_min(&[1.0, f64::NAN, 2.0], true), [2, 3, 1]);
        assert_eq!(rank_min(&[], true), Vec::<usize>::new());
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let space = SearchSpace::new()
            .with(
                "C",
                Distribution::Uniform {
                    low: 0.0,
                    high: 6.0,
                },
            )
            .with("k", Distribution::IntUniform { low: 1, high: 3 });
        let cands = random_candidates(&space, 12, 5).unwrap();
        let objective = |p: &ParamSet, train: &[usize], valid: &[usize]| {
            let k = p.get("k").and_then(ParamValue::as_i64).unwrap_or(0) as f64;
            let shift = valid.iter().sum::<usize>() as f64 / train.len() as f64;
            let mut r = FoldResult::new(-(c_of(p) - 3.0).powi(2) + k * shift);
            r.metrics.insert("k_shift".into(), k * shift);
            Ok(r)
        };
        let run = |threads| {
            let opts = SearchOptions {
                threads,
                ..SearchOptions::default()
            };
            let r = search(&cands, &kfold(), 17, None, None, &objective, &opts).unwrap();
            serde_json::to_string(&r).unwrap()
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn fold_errors_name_candidate_and_fold() {
        let failing = |p: &ParamSet, _: &[usize], valid: &[usize]| {
            if c_of(p) > 1.5 && valid[0] > 0 {
                Err(mlship_core::Error::invalid_data("singular matrix"))
            } else {
                Ok(FoldResult::new(1.0))
            }
        };
        let cands = grid_candidates(&ParamGrid::new().with("C", [1.0, 2.0, 3.0])).unwrap();
        for threads in [1, 2] {
            for time_budget in [None, Some(Duration::from_hours(1))] {
                let opts = SearchOptions {
                    threads,
                    time_budget,
                    ..SearchOptions::default()
                };
                let e = search(&cands, &kfold(), 9, None, None, &failing, &opts).unwrap_err();
                assert_eq!(
                    e.to_string(),
                    "candidate 1 (C=2.0): fold 1 failed: singular matrix"
                );
            }
        }
    }

    #[test]
    fn max_candidates_and_time_budget_cut_the_list_reproducibly() {
        let cands = grid_candidates(&ParamGrid::new().with("C", [1.0, 2.0, 3.0, 4.0])).unwrap();
        let opts = SearchOptions {
            max_candidates: Some(2),
            ..SearchOptions::default()
        };
        let r = search(&cands, &kfold(), 9, None, None, &parabola, &opts).unwrap();
        assert_eq!((r.n_candidates, r.completed), (2, 2));
        assert_eq!(c_of(&r.best().unwrap().params), 2.0);

        // A spent budget still runs the first candidate, then stops.
        let opts = SearchOptions {
            time_budget: Some(Duration::ZERO),
            ..SearchOptions::default()
        };
        let r = search(&cands, &kfold(), 9, None, None, &parabola, &opts).unwrap();
        assert_eq!((r.n_candidates, r.completed), (4, 1));
        assert!(r.stopped_by_time_budget);
        assert_eq!(r.rows[0].params, cands[0]);

        let opts = SearchOptions {
            max_candidates: Some(0),
            ..SearchOptions::default()
        };
        let e = search(&cands, &kfold(), 9, None, None, &parabola, &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid max_candidates = 0: expected at least 1"
        );
        let e = search(
            &[],
            &kfold(),
            9,
            None,
            None,
            &parabola,
            &SearchOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "the search has no candidates");
    }

    #[test]
    fn successive_halving_follows_scikit_learns_schedule_and_finds_the_optimum() {
        // 9 candidates, factor 3, 90 rows, 3 folds: HalvingGridSearchCV(min_resources="exhaust")
        // runs 3 iterations on 10, 30 and 90 rows with 9, 3 and 1 candidates.
        let grid = ParamGrid::new().with("C", [0.0, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0]);
        let cands = grid_candidates(&grid).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let objective = |p: &ParamSet, train: &[usize], valid: &[usize]| {
            if let Ok(mut s) = seen.lock() {
                s.push(train.len() + valid.len());
            }
            parabola(p, train, valid)
        };
        let r = successive_halving(
            &cands,
            &kfold(),
            90,
            None,
            None,
            &objective,
            &HalvingOptions::default(),
        )
        .unwrap();
        assert_eq!(r.n_resources, [10, 30, 90]);
        assert_eq!(r.n_candidates, [9, 3, 1]);
        assert_eq!(
            (
                r.n_iterations,
                r.n_required_iterations,
                r.n_possible_iterations
            ),
            (3, 3, 3)
        );
        assert_eq!((r.min_resources, r.max_resources), (10, 90));
        assert_eq!(r.rows.len(), 13);
        let best = r.best().unwrap();
        assert_eq!((best.iter, c_of(&best.row.params)), (2, 3.0));
        // The second iteration holds the three best of the first, in ascending score order.
        let second: Vec<f64> = r
            .rows
            .iter()
            .filter(|row| row.iter == 1)
            .map(|row| c_of(&row.row.params))
            .collect();
        assert_eq!(second, [2.5, 3.5, 3.0]);
        // Each fold of iteration 0 sees floor(fraction × rows): 6 + 3 of 60 + 30 at 1/9.
        let sizes = seen.into_inner().unwrap();
        assert!(sizes[..27].iter().all(|&n| n == 6 + 3), "{sizes:?}");

        let e = successive_halving(
            &cands,
            &kfold(),
            90,
            None,
            None,
            &parabola,
            &HalvingOptions {
                factor: 1,
                ..HalvingOptions::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "invalid factor = 1: expected at least 2");
    }

    #[test]
    fn successive_halving_does_not_depend_on_the_thread_count() {
        let space = SearchSpace::new().with(
            "C",
            Distribution::Uniform {
                low: 0.0,
                high: 6.0,
            },
        );
        let cands = random_candidates(&space, 10, 3).unwrap();
        let objective = |p: &ParamSet, train: &[usize], valid: &[usize]| {
            let shift = valid.iter().sum::<usize>() as f64 / (1 + train.len()) as f64;
            Ok(FoldResult::new(-(c_of(p) - 3.0).powi(2) + shift))
        };
        let run = |threads| {
            let opts = HalvingOptions {
                threads,
                min_resources: MinResources::Smallest,
                ..HalvingOptions::default()
            };
            let r =
                successive_halving(&cands, &kfold(), 120, None, None, &objective, &opts).unwrap();
            serde_json::to_string(&r).unwrap()
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn aggressive_elimination_repeats_the_first_resource_level() {
        // HalvingGridSearchCV(factor=3, min_resources=30, aggressive_elimination=True) on 90
        // rows and 27 candidates: 4 iterations on 30, 30, 30 and 90 rows.
        let grid = ParamGrid::new().with("C", (0..27).map(f64::from).collect::<Vec<_>>());
        let cands = grid_candidates(&grid).unwrap();
        let opts = HalvingOptions {
            min_resources: MinResources::Rows(30),
            aggressive_elimination: true,
            ..HalvingOptions::default()
        };
        let r = successive_halving(&cands, &kfold(), 90, None, None, &parabola, &opts).unwrap();
        assert_eq!(r.n_resources, [30, 30, 30, 90]);
        assert_eq!(r.n_candidates, [27, 9, 3, 1]);
        assert_eq!(c_of(&r.best().unwrap().row.params), 3.0);
        let opts = HalvingOptions {
            aggressive_elimination: false,
            ..opts
        };
        let r = successive_halving(&cands, &kfold(), 90, None, None, &parabola, &opts).unwrap();
        assert_eq!(r.n_resources, [30, 90]);
        assert_eq!(r.n_candidates, [27, 9]);
        assert_eq!(c_of(&r.best().unwrap().row.params), 3.0);
        let opts = HalvingOptions {
            min_resources: MinResources::Rows(91),
            ..HalvingOptions::default()
        };
        let e = successive_halving(&cands, &kfold(), 90, None, None, &parabola, &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid min_resources = 91: expected at most the number of rows (90)"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn rank_min_counts_strictly_better_scores(
            scores in proptest::collection::vec(-3i32..3, 0..20),
            greater in any::<bool>(),
        ) {
            let scores: Vec<f64> = scores.into_iter().map(f64::from).collect();
            let ranks = rank_min(&scores, greater);
            for (i, &s) in scores.iter().enumerate() {
                let better = scores
                    .iter()
                    .filter(|&&t| if greater { t > s } else { t < s })
                    .count();
                prop_assert_eq!(ranks[i], better + 1);
            }
        }

        #[test]
        fn grid_candidates_are_the_distinct_product(
            lens in proptest::collection::vec(1usize..4, 0..4),
        ) {
            let grid = lens.iter().enumerate().fold(ParamGrid::new(), |g, (i, &n)| {
                g.with(format!("p{i}"), (0..n as i64).collect::<Vec<_>>())
            });
            let cands = grid_candidates(&grid).unwrap();
            prop_assert_eq!(cands.len(), lens.iter().product::<usize>());
            let mut shown: Vec<String> = cands.iter().map(ToString::to_string).collect();
            let in_order = shown.clone();
            shown.sort();
            shown.dedup();
            prop_assert_eq!(shown.len(), cands.len());
            // Integer values below 10 sort as text in grid order.
            prop_assert_eq!(shown, in_order);
        }

        #[test]
        fn random_candidates_without_replacement_are_distinct(
            lens in proptest::collection::vec(1usize..5, 1..4),
            n in 1usize..40,
            seed in any::<u64>(),
        ) {
            let grid = lens.iter().enumerate().fold(ParamGrid::new(), |g, (i, &len)| {
                g.with(format!("p{i}"), (0..len as i64).collect::<Vec<_>>())
            });
            let size: usize = lens.iter().product();
            let cands = random_candidates(&SearchSpace::from(grid), n, seed).unwrap();
            prop_assert_eq!(cands.len(), n.min(size));
            let mut shown: Vec<String> = cands.iter().map(ToString::to_string).collect();
            shown.sort();
            shown.dedup();
            prop_assert_eq!(shown.len(), cands.len());
        }
    }
}
