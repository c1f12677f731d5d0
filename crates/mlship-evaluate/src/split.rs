//! Cross-validation splitters that yield row-index sets.
//!
//! Every splitter turns a number of rows (and, where it needs them, the target `y` and the
//! `groups`) into a list of [`Fold`]s: sorted training and validation row indices. Cross-validation
//! hands these to a fit-and-score closure that refits the whole pipeline on each fold's raw rows,
//! so no statistic leaks from validation rows into training (DESIGN.md, "Evaluation without
//! leakage").
//!
//! The splitters match scikit-learn 1.9's classes of the same name. Without shuffling they
//! produce the **same** index sets as scikit-learn (checked against a fixture written by
//! `tests/fixtures/make_splits.py`); with shuffling they draw from mlship's own seeded
//! [`Rng`], so the folds are reproducible from `seed` but differ from scikit-learn's
//! (which draws from NumPy's Mersenne Twister).
//!
//! Differences from scikit-learn that hold for every splitter:
//! - randomness is explicit: a `seed` (default 0) instead of `random_state=None`; a `seed` with
//!   `shuffle = false` is accepted and ignored rather than refused;
//! - index sets are always sorted ascending (scikit-learn's shuffle splitters return them in
//!   permutation order);
//! - class labels are `f64` values that must be whole numbers (scikit-learn's "binary" or
//!   "multiclass" target types); groups are `u64` labels;
//! - where scikit-learn merely warns (a class with fewer members than `n_splits`), the split
//!   proceeds as scikit-learn's does; where scikit-learn raises, an [`EvaluateError`] names the
//!   parameter or input at fault.
//!
//! Experiment files choose a splitter with a [`SplitSpec`], e.g.
//! `{ kind = "stratified_kfold", n_splits = 5, shuffle = true, seed = 0 }`.

use std::collections::BTreeMap;

use mlship_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::{EvaluateError, Result};

/// One train/validation split: sorted, disjoint row indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Rows to fit on, ascending.
    pub train: Vec<usize>,
    /// Rows to score on, ascending.
    pub valid: Vec<usize>,
}

impl Fold {
    /// A fold whose validation rows are those with `fold_of[row] == k`; the rest train.
    fn from_assignment(fold_of: &[usize], k: usize) -> Self {
        let (mut train, mut valid) = (Vec::new(), Vec::new());
        for (row, &f) in fold_of.iter().enumerate() {
            if f == k {
                valid.push(row);
            } else {
                train.push(row);
            }
        }
        Self { train, valid }
    }

    /// A fold from a validation set: sorted, with every other row of `0..n_rows` training.
    fn from_valid(n_rows: usize, mut valid: Vec<usize>) -> Self {
        valid.sort_unstable();
        let mut train = Vec::with_capacity(n_rows - valid.len());
        let mut next = valid.iter().peekable();
        for row in 0..n_rows {
            if next.peek() == Some(&&row) {
                next.next();
            } else {
                train.push(row);
            }
        }
        Self { train, valid }
    }
}

/// A cross-validation splitter: rows (with their target and groups) in, folds out.
///
/// Object-safe, so a [`SplitSpec`] can build a `Box<dyn Splitter>`. Splitting is deterministic:
/// the same splitter on the same inputs gives the same folds, on every platform.
pub trait Splitter: std::fmt::Debug + Send + Sync {
    /// The splitter's `kind` as spelled in a [`SplitSpec`] (e.g. `"stratified_kfold"`).
    fn name(&self) -> &'static str;

    /// How many folds [`split`](Splitter::split) yields (for repeated splitters,
    /// `n_splits × n_repeats`).
    fn n_splits(&self) -> usize;

    /// Splits `n_rows` rows. `y` (one class label per row) is required by the stratified
    /// splitters and `groups` (one group label per row) by the group splitters; both are
    /// checked for length when given and otherwise ignored by splitters that do not use them.
    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>>;
}

// ---------------------------------------------------------------------------------------------
// Shared validation
// ---------------------------------------------------------------------------------------------

fn default_n_splits() -> usize {
    5
}

fn default_shuffle_n_splits() -> usize {
    10
}

fn default_n_repeats() -> usize {
    10
}

fn check_n_splits(n_splits: usize) -> Result<()> {
    if n_splits < 2 {
        return Err(EvaluateError::invalid_param(
            "n_splits",
            n_splits,
            "at least 2",
        ));
    }
    Ok(())
}

fn check_rows(n_splits: usize, n_rows: usize) -> Result<()> {
    if n_splits > n_rows {
        return Err(EvaluateError::invalid_input(format!(
            "too few rows for the folds: n_splits = {n_splits} needs at least {n_splits} rows, got {n_rows}"
        )));
    }
    Ok(())
}

fn check_lengths(n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<()> {
    if let Some(y) = y
        && y.len() != n_rows
    {
        return Err(EvaluateError::invalid_input(format!(
            "y has {} values but there are {n_rows} rows",
            y.len()
        )));
    }
    if let Some(g) = groups
        && g.len() != n_rows
    {
        return Err(EvaluateError::invalid_input(format!(
            "groups has {} values but there are {n_rows} rows",
            g.len()
        )));
    }
    Ok(())
}

fn require_y<'a>(name: &str, y: Option<&'a [f64]>) -> Result<&'a [f64]> {
    y.ok_or_else(|| {
        EvaluateError::invalid_input(format!(
            "{name} stratifies by class and needs y, but none was given"
        ))
    })
}

fn require_groups<'a>(name: &str, groups: Option<&'a [u64]>) -> Result<&'a [u64]> {
    groups.ok_or_else(|| {
        EvaluateError::invalid_input(format!(
            "{name} keeps groups together and needs groups, but none were given"
        ))
    })
}

/// Class labels of `y` encoded as `0..n_classes` in sorted label order, with the class counts.
/// Refuses NaN and non-integer labels (scikit-learn's "continuous" target type).
fn encode_classes(y: &[f64]) -> Result<(Vec<usize>, Vec<usize>)> {
    for (row, &v) in y.iter().enumerate() {
        if v.is_nan() {
            return Err(EvaluateError::invalid_input(format!(
                "y holds NaN at row {row}: stratified splitting needs a class label in every row"
            )));
        }
        if v.is_finite() && v.fract() != 0.0 || v.is_infinite() {
            return Err(EvaluateError::invalid_input(format!(
                "y holds {v} at row {row}: stratified splitting needs class labels (whole numbers), \
                 not a continuous target\nhint: use kfold for regression"
            )));
        }
    }
    // +0.0 for -0.0 so both are one class, as in NumPy.
    let key = |v: f64| {
        if v == 0.0 {
            0.0f64.to_bits()
        } else {
            v.to_bits()
        }
    };
    let mut labels: Vec<f64> = y.to_vec();
    labels.sort_by(f64::total_cmp);
    labels.dedup_by(|a, b| key(*a) == key(*b));
    let index: BTreeMap<u64, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, &v)| (key(v), i))
        .collect();
    let mut codes = Vec::with_capacity(y.len());
    let mut counts = vec![0usize; labels.len()];
    for &v in y {
        let c = index.get(&key(v)).copied().unwrap_or(0);
        codes.push(c);
        counts[c] += 1;
    }
    Ok((codes, counts))
}

/// Group labels encoded as `0..n_groups` in sorted label order, with the group sizes.
fn encode_groups(groups: &[u64]) -> (Vec<usize>, Vec<usize>) {
    let mut labels = groups.to_vec();
    labels.sort_unstable();
    labels.dedup();
    let mut codes = Vec::with_capacity(groups.len());
    let mut counts = vec![0usize; labels.len()];
    for g in groups {
        let c = labels.binary_search(g).unwrap_or(0);
        codes.push(c);
        counts[c] += 1;
    }
    (codes, counts)
}

/// scikit-learn's error when every class is smaller than `n_splits`.
fn check_class_counts(n_splits: usize, counts: &[usize]) -> Result<()> {
    if counts.iter().all(|&c| c < n_splits) {
        let largest = counts.iter().copied().max().unwrap_or(0);
        return Err(EvaluateError::invalid_param(
            "n_splits",
            n_splits,
            format!("at most the size of the largest class ({largest} rows)"),
        ));
    }
    Ok(())
}

fn check_n_groups(n_splits: usize, n_groups: usize) -> Result<()> {
    if n_splits > n_groups {
        return Err(EvaluateError::invalid_param(
            "n_splits",
            n_splits,
            format!("at most the number of distinct groups ({n_groups})"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// KFold
// ---------------------------------------------------------------------------------------------

/// K-fold: consecutive blocks of rows (of the shuffled rows with `shuffle`), each the validation
/// set once. The first `n_rows % n_splits` folds hold one row more.
///
/// Matches scikit-learn's `KFold`; identical folds without shuffle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KFold {
    /// Number of folds, at least 2 (default 5).
    pub n_splits: usize,
    /// Shuffle the rows before cutting the blocks (default false).
    pub shuffle: bool,
    /// Seed of the shuffle (default 0; ignored without shuffle).
    pub seed: u64,
}

impl Default for KFold {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            shuffle: false,
            seed: 0,
        }
    }
}

impl KFold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)
    }

    fn split_with(&self, n_rows: usize, rng: Option<&mut Rng>) -> Vec<Fold> {
        let mut rows: Vec<usize> = (0..n_rows).collect();
        if let Some(rng) = rng {
            rng.shuffle(&mut rows);
        }
        let k = self.n_splits;
        let mut start = 0;
        (0..k)
            .map(|f| {
                let size = n_rows / k + usize::from(f < n_rows % k);
                let valid = rows[start..start + size].to_vec();
                start += size;
                Fold::from_valid(n_rows, valid)
            })
            .collect()
    }
}

impl Splitter for KFold {
    fn name(&self) -> &'static str {
        "kfold"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        check_rows(self.n_splits, n_rows)?;
        let mut rng = Rng::new(self.seed);
        Ok(self.split_with(n_rows, self.shuffle.then_some(&mut rng)))
    }
}

// ---------------------------------------------------------------------------------------------
// StratifiedKFold
// ---------------------------------------------------------------------------------------------

/// Stratified k-fold: each fold holds each class's share of rows to within one row.
///
/// Matches scikit-learn's `StratifiedKFold` (its `_make_test_folds` allocation: the class-sorted
/// rows dealt round-robin to the folds give each fold's count per class; within a class, rows
/// in data order fill fold 0 first, then fold 1, …). Identical folds without shuffle. With
/// shuffle, each class's fold labels are shuffled by mlship's [`Rng`]. As in scikit-learn, an
/// error only when every class has fewer than `n_splits` rows; when only some do, the split
/// proceeds (scikit-learn warns) and some folds miss those classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StratifiedKFold {
    /// Number of folds, at least 2 (default 5).
    pub n_splits: usize,
    /// Shuffle each class's rows among the folds (default false).
    pub shuffle: bool,
    /// Seed of the shuffle (default 0; ignored without shuffle).
    pub seed: u64,
}

impl Default for StratifiedKFold {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            shuffle: false,
            seed: 0,
        }
    }
}

impl StratifiedKFold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)
    }

    fn split_with(&self, y: &[f64], rng: Option<&mut Rng>) -> Result<Vec<Fold>> {
        let k = self.n_splits;
        let (sorted_codes, counts_sorted) = encode_classes(y)?;
        check_class_counts(k, &counts_sorted)?;
        // Re-encode classes by order of first appearance, as scikit-learn does.
        let mut order_of = vec![usize::MAX; counts_sorted.len()];
        let mut next = 0;
        for &c in &sorted_codes {
            if order_of[c] == usize::MAX {
                order_of[c] = next;
                next += 1;
            }
        }
        let codes: Vec<usize> = sorted_codes.iter().map(|&c| order_of[c]).collect();
        let n_classes = counts_sorted.len();
        let mut counts = vec![0usize; n_classes];
        for &c in &codes {
            counts[c] += 1;
        }
        // allocation[f][c]: rows of class c in fold f — round robin over the class-sorted rows.
        let mut allocation = vec![vec![0usize; n_classes]; k];
        let mut pos = 0;
        for (c, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                allocation[pos % k][c] += 1;
                pos += 1;
            }
        }
        let mut per_class: Vec<Vec<usize>> = (0..n_classes)
            .map(|c| {
                (0..k)
                    .flat_map(|f| std::iter::repeat_n(f, allocation[f][c]))
                    .collect()
            })
            .collect();
        if let Some(rng) = rng {
            for folds in &mut per_class {
                rng.shuffle(folds);
            }
        }
        let mut cursor = vec![0usize; n_classes];
        let fold_of: Vec<usize> = codes
            .iter()
            .map(|&c| {
                let f = per_class[c][cursor[c]];
                cursor[c] += 1;
                f
            })
            .collect();
        Ok((0..k).map(|f| Fold::from_assignment(&fold_of, f)).collect())
    }
}

impl Splitter for StratifiedKFold {
    fn name(&self) -> &'static str {
        "stratified_kfold"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let y = require_y(self.name(), y)?;
        check_rows(self.n_splits, n_rows)?;
        let mut rng = Rng::new(self.seed);
        self.split_with(y, self.shuffle.then_some(&mut rng))
    }
}

// ---------------------------------------------------------------------------------------------
// GroupKFold
// ---------------------------------------------------------------------------------------------

/// Group k-fold: every group's rows fall in one validation set, never split between train and
/// validation.
///
/// Matches scikit-learn 1.9's `GroupKFold`. Without shuffle (the default) identical folds:
/// groups, largest first (equal sizes: the larger group label first, as scikit-learn's reversed
/// stable sort), each go to the fold with the fewest rows so far (ties: the lowest fold).
/// With shuffle, as scikit-learn, the distinct groups are permuted (by mlship's [`Rng`]) and cut
/// into `n_splits` consecutive blocks of groups (the first `n_groups % n_splits` blocks one
/// group larger), so folds balance the number of groups, not of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupKFold {
    /// Number of folds, at least 2 and at most the number of groups (default 5).
    pub n_splits: usize,
    /// Assign permuted groups in blocks instead of balancing rows (default false).
    pub shuffle: bool,
    /// Seed of the permutation (default 0; ignored without shuffle).
    pub seed: u64,
}

impl Default for GroupKFold {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            shuffle: false,
            seed: 0,
        }
    }
}

impl GroupKFold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)
    }
}

impl Splitter for GroupKFold {
    fn name(&self) -> &'static str {
        "group_kfold"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let groups = require_groups(self.name(), groups)?;
        check_rows(self.n_splits, n_rows)?;
        let (codes, sizes) = encode_groups(groups);
        let n_groups = sizes.len();
        check_n_groups(self.n_splits, n_groups)?;
        let k = self.n_splits;
        let mut fold_of_group = vec![0usize; n_groups];
        if self.shuffle {
            let perm = Rng::new(self.seed).permutation(n_groups);
            let mut start = 0;
            for f in 0..k {
                let size = n_groups / k + usize::from(f < n_groups % k);
                for &g in &perm[start..start + size] {
                    fold_of_group[g] = f;
                }
                start += size;
            }
        } else {
            // np.argsort(sizes, kind="stable")[::-1]: descending size, larger index first.
            let mut order: Vec<usize> = (0..n_groups).collect();
            order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(b.cmp(&a)));
            let mut load = vec![0usize; k];
            for g in order {
                let mut lightest = 0;
                for f in 1..k {
                    if load[f] < load[lightest] {
                        lightest = f;
                    }
                }
                load[lightest] += sizes[g];
                fold_of_group[g] = lightest;
            }
        }
        let fold_of: Vec<usize> = codes.iter().map(|&g| fold_of_group[g]).collect();
        Ok((0..k).map(|f| Fold::from_assignment(&fold_of, f)).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// StratifiedGroupKFold
// ---------------------------------------------------------------------------------------------

/// Stratified group k-fold: groups kept whole, folds chosen to keep class shares as even as
/// the groups allow.
///
/// Matches scikit-learn's `StratifiedGroupKFold` (greedy: groups in order of decreasing standard
/// deviation of their class counts, each to the fold that minimises the mean over classes of the
/// standard deviation of per-fold class shares; near-ties, within `np.isclose`, go to the fold
/// with fewer rows). Identical folds without shuffle. With shuffle, the groups' order before the
/// stable sort is permuted by mlship's [`Rng`]. Errors as scikit-learn: every class smaller than
/// `n_splits`, or fewer groups than `n_splits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StratifiedGroupKFold {
    /// Number of folds, at least 2 (default 5).
    pub n_splits: usize,
    /// Permute groups before the greedy assignment, breaking ties differently (default false).
    pub shuffle: bool,
    /// Seed of the permutation (default 0; ignored without shuffle).
    pub seed: u64,
}

impl Default for StratifiedGroupKFold {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            shuffle: false,
            seed: 0,
        }
    }
}

impl StratifiedGroupKFold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)
    }
}

/// NumPy's population standard deviation (mean first, then mean of squared deviations).
fn np_std(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values.clone() {
        sum += v;
        n += 1;
    }
    if n == 0 {
        return f64::NAN;
    }
    let mean = sum / n as f64;
    let mut sq = 0.0;
    for v in values {
        let d = v - mean;
        sq += d * d;
    }
    (sq / n as f64).sqrt()
}

fn np_isclose(a: f64, b: f64) -> bool {
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-8 + 1e-5 * b.abs()
}

impl Splitter for StratifiedGroupKFold {
    fn name(&self) -> &'static str {
        "stratified_group_kfold"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let y = require_y(self.name(), y)?;
        let groups = require_groups(self.name(), groups)?;
        check_rows(self.n_splits, n_rows)?;
        let k = self.n_splits;
        let (classes, class_counts) = encode_classes(y)?;
        check_class_counts(k, &class_counts)?;
        let n_classes = class_counts.len();
        let (mut group_codes, group_sizes) = encode_groups(groups);
        let n_groups = group_sizes.len();
        check_n_groups(k, n_groups)?;

        let mut per_group = vec![vec![0.0f64; n_classes]; n_groups];
        for (&c, &g) in classes.iter().zip(&group_codes) {
            per_group[g][c] += 1.0;
        }
        if self.shuffle {
            let perm = Rng::new(self.seed).permutation(n_groups);
            per_group = perm.iter().map(|&g| per_group[g].clone()).collect();
            let mut inv = vec![0usize; n_groups];
            for (i, &g) in perm.iter().enumerate() {
                inv[g] = i;
            }
            for g in &mut group_codes {
                *g = inv[*g];
            }
        }
        let spread: Vec<f64> = per_group
            .iter()
            .map(|counts| np_std(counts.iter().copied()))
            .collect();
        let mut order: Vec<usize> = (0..n_groups).collect();
        // Stable sort on -std: larger spread first, ties in (possibly shuffled) group order.
        order.sort_by(|&a, &b| (-spread[a]).total_cmp(&-spread[b]));

        let totals: Vec<f64> = class_counts.iter().map(|&c| c as f64).collect();
        let mut per_fold = vec![vec![0.0f64; n_classes]; k];
        let mut fold_of_group = vec![0usize; n_groups];
        for g in order {
            let mut best = 0;
            let mut min_eval = f64::INFINITY;
            let mut min_samples = f64::INFINITY;
            for i in 0..k {
                for (slot, add) in per_fold[i].iter_mut().zip(&per_group[g]) {
                    *slot += add;
                }
                let mut eval_sum = 0.0;
                for (c, &total) in totals.iter().enumerate() {
                    eval_sum += np_std(per_fold.iter().map(|fold| fold[c] / total));
                }
                for (slot, add) in per_fold[i].iter_mut().zip(&per_group[g]) {
                    *slot -= add;
                }
                let fold_eval = eval_sum / n_classes as f64;
                let samples: f64 = per_fold[i].iter().sum();
                if fold_eval < min_eval
                    || (np_isclose(fold_eval, min_eval) && samples < min_samples)
                {
                    min_eval = fold_eval;
                    min_samples = samples;
                    best = i;
                }
            }
            for (slot, add) in per_fold[best].iter_mut().zip(&per_group[g]) {
                *slot += add;
            }
            fold_of_group[g] = best;
        }
        let fold_of: Vec<usize> = group_codes.iter().map(|&g| fold_of_group[g]).collect();
        Ok((0..k).map(|f| Fold::from_assignment(&fold_of, f)).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// TimeSeriesSplit
// ---------------------------------------------------------------------------------------------

/// Time-series split: rows in time order; each fold validates on a later block and trains on
/// (at most `max_train_size` of) the rows before it, leaving `gap` rows out in between.
///
/// Identical to scikit-learn's `TimeSeriesSplit`: `test_size` defaults to
/// `n_rows / (n_splits + 1)`, the last validation block ends at the last row, and the split is
/// refused when `n_splits + 1 > n_rows` or `n_rows - gap - test_size · n_splits ≤ 0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeSeriesSplit {
    /// Number of folds, at least 2 (default 5).
    pub n_splits: usize,
    /// Keep only the latest this many training rows (default: all; at least 1).
    pub max_train_size: Option<usize>,
    /// Rows per validation block (default `n_rows / (n_splits + 1)`; at least 1).
    pub test_size: Option<usize>,
    /// Rows left out between the end of training and the validation block (default 0).
    pub gap: usize,
}

impl Default for TimeSeriesSplit {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            max_train_size: None,
            test_size: None,
            gap: 0,
        }
    }
}

impl TimeSeriesSplit {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)?;
        if self.max_train_size == Some(0) {
            return Err(EvaluateError::invalid_param(
                "max_train_size",
                0,
                "at least 1 (or leave it out for no limit)",
            ));
        }
        if self.test_size == Some(0) {
            return Err(EvaluateError::invalid_param(
                "test_size",
                0,
                "at least 1 (or leave it out for n_rows / (n_splits + 1))",
            ));
        }
        Ok(())
    }
}

impl Splitter for TimeSeriesSplit {
    fn name(&self) -> &'static str {
        "time_series_split"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let k = self.n_splits;
        if k + 1 > n_rows {
            return Err(EvaluateError::invalid_input(format!(
                "too few rows for the folds: time_series_split with n_splits = {k} needs at least {} rows, got {n_rows}",
                k + 1
            )));
        }
        let test_size = self.test_size.unwrap_or(n_rows / (k + 1));
        let needed = test_size.saturating_mul(k).saturating_add(self.gap);
        if needed >= n_rows || test_size == 0 {
            return Err(EvaluateError::invalid_input(format!(
                "too few rows for the folds: time_series_split with n_splits = {k}, test_size = {test_size} and gap = {} needs more than {needed} rows, got {n_rows}",
                self.gap
            )));
        }
        let first = n_rows - k * test_size;
        Ok((0..k)
            .map(|i| {
                let test_start = first + i * test_size;
                let train_end = test_start - self.gap;
                let train_start = match self.max_train_size {
                    Some(m) if m < train_end => train_end - m,
                    _ => 0,
                };
                Fold {
                    train: (train_start..train_end).collect(),
                    valid: (test_start..test_start + test_size).collect(),
                }
            })
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// ShuffleSplit and StratifiedShuffleSplit
// ---------------------------------------------------------------------------------------------

/// A size of the validation or training part: a fraction of the rows or a row count.
///
/// In TOML and JSON a float is a fraction (`0.2`) and an integer a count (`30`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SplitSize {
    /// A number of rows, at least 1 and below the number of rows.
    Count(usize),
    /// A share of the rows, strictly between 0 and 1.
    Fraction(f64),
}

impl<'de> Deserialize<'de> for SplitSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = SplitSize;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a positive row count or a fraction in (0, 1)")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<SplitSize, E> {
                usize::try_from(v)
                    .map(SplitSize::Count)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<SplitSize, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
                    .and_then(|v| self.visit_u64(v))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<SplitSize, E> {
                Ok(SplitSize::Fraction(v))
            }
        }

        d.deserialize_any(Visitor)
    }
}

impl std::fmt::Display for SplitSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Fraction(x) => write!(f, "{x}"),
        }
    }
}

impl SplitSize {
    fn validate(self, param: &str) -> Result<()> {
        match self {
            Self::Count(0) => Err(EvaluateError::invalid_param(
                param,
                0,
                "a positive row count or a fraction in (0, 1)",
            )),
            Self::Fraction(x) if !(x > 0.0 && x < 1.0) => Err(EvaluateError::invalid_param(
                param,
                x,
                "a positive row count or a fraction in (0, 1)",
            )),
            _ => Ok(()),
        }
    }
}

/// scikit-learn's `_validate_shuffle_split`: `(n_train, n_valid)`; a fractional validation size
/// rounds up, a fractional training size rounds down.
fn shuffle_sizes(
    n_rows: usize,
    test_size: Option<SplitSize>,
    train_size: Option<SplitSize>,
) -> Result<(usize, usize)> {
    let test_size = match (test_size, train_size) {
        (None, None) => Some(SplitSize::Fraction(0.1)),
        (t, _) => t,
    };
    for (param, size) in [("test_size", test_size), ("train_size", train_size)] {
        if let Some(size) = size {
            size.validate(param)?;
            if let SplitSize::Count(c) = size
                && c >= n_rows
            {
                return Err(EvaluateError::invalid_param(
                    param,
                    c,
                    format!("fewer rows than there are ({n_rows}) or a fraction in (0, 1)"),
                ));
            }
        }
    }
    if let (Some(SplitSize::Fraction(a)), Some(SplitSize::Fraction(b))) = (test_size, train_size)
        && a + b > 1.0
    {
        return Err(EvaluateError::invalid_param(
            "test_size + train_size",
            a + b,
            "at most 1",
        ));
    }
    let count = |size: SplitSize, up: bool| match size {
        SplitSize::Count(c) => c,
        SplitSize::Fraction(x) => {
            let v = x * n_rows as f64;
            if up {
                v.ceil() as usize
            } else {
                v.floor() as usize
            }
        }
    };
    let n_test = test_size.map(|s| count(s, true));
    let n_train = train_size.map(|s| count(s, false));
    let (n_train, n_test) = match (n_train, n_test) {
        (Some(a), Some(b)) => (a, b),
        (None, Some(b)) => (n_rows.saturating_sub(b), b),
        (Some(a), None) => (a, n_rows.saturating_sub(a)),
        (None, None) => (n_rows, 0),
    };
    if n_train + n_test > n_rows {
        return Err(EvaluateError::invalid_input(format!(
            "train and validation sizes add up to {} rows but there are only {n_rows}\nhint: reduce test_size or train_size",
            n_train + n_test
        )));
    }
    if n_train == 0 {
        return Err(EvaluateError::invalid_input(format!(
            "too few rows: with {n_rows} rows, test_size = {} and train_size = {} leave no training rows",
            test_size.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            train_size.map_or_else(|| "none".to_owned(), |s| s.to_string()),
        )));
    }
    if n_test == 0 {
        return Err(EvaluateError::invalid_input(format!(
            "too few rows: with {n_rows} rows the validation set is empty"
        )));
    }
    Ok((n_train, n_test))
}

/// Random train/validation splits, each drawn independently (rows may validate in several
/// splits or none).
///
/// Matches scikit-learn's `ShuffleSplit` (defaults `n_splits = 10`, `test_size = 0.1` when
/// neither size is given; validation size rounded up, training size rounded down). Draws from
/// mlship's [`Rng`] (split `i` from `Rng::derive(seed, i)`), so folds differ from scikit-learn's;
/// index sets are sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShuffleSplit {
    /// Number of splits, at least 1 (default 10).
    pub n_splits: usize,
    /// Validation size (default 0.1 when `train_size` is absent too, else the complement).
    pub test_size: Option<SplitSize>,
    /// Training size (default: the complement of `test_size`).
    pub train_size: Option<SplitSize>,
    /// Seed (default 0).
    pub seed: u64,
}

impl Default for ShuffleSplit {
    fn default() -> Self {
        Self {
            n_splits: default_shuffle_n_splits(),
            test_size: None,
            train_size: None,
            seed: 0,
        }
    }
}

fn check_n_splits_at_least_one(n_splits: usize) -> Result<()> {
    if n_splits == 0 {
        return Err(EvaluateError::invalid_param("n_splits", 0, "at least 1"));
    }
    Ok(())
}

impl ShuffleSplit {
    /// Checks the parameters that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        check_n_splits_at_least_one(self.n_splits)?;
        if let Some(s) = self.test_size {
            s.validate("test_size")?;
        }
        if let Some(s) = self.train_size {
            s.validate("train_size")?;
        }
        Ok(())
    }
}

impl Splitter for ShuffleSplit {
    fn name(&self) -> &'static str {
        "shuffle_split"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let (n_train, n_test) = shuffle_sizes(n_rows, self.test_size, self.train_size)?;
        Ok((0..self.n_splits)
            .map(|i| {
                let perm = Rng::derive(self.seed, i as u64).permutation(n_rows);
                let mut valid = perm[..n_test].to_vec();
                let mut train = perm[n_test..n_test + n_train].to_vec();
                valid.sort_unstable();
                train.sort_unstable();
                Fold { train, valid }
            })
            .collect())
    }
}

/// scikit-learn's `_approximate_mode`: per-class counts summing to `n_draws`, proportional to
/// `counts`, largest remainders first with ties broken at random.
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut Rng) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let continuous: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 / total as f64 * n_draws as f64)
        .collect();
    let mut floored: Vec<usize> = continuous.iter().map(|&v| v.floor() as usize).collect();
    let mut need = n_draws.saturating_sub(floored.iter().sum());
    if need > 0 {
        let remainder: Vec<f64> = continuous
            .iter()
            .zip(&floored)
            .map(|(&c, &f)| c - f as f64)
            .collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.total_cmp(a));
        values.dedup();
        for value in values {
            let mut inds: Vec<usize> = (0..remainder.len())
                .filter(|&i| remainder[i] == value)
                .collect();
            let add_now = inds.len().min(need);
            rng.shuffle(&mut inds);
            for &i in &inds[..add_now] {
                floored[i] += 1;
            }
            need -= add_now;
            if need == 0 {
                break;
            }
        }
    }
    floored
}

/// Random stratified train/validation splits: each split keeps the class shares.
///
/// Matches scikit-learn's `StratifiedShuffleSplit` (per-class counts by its
/// `_approximate_mode`, ties broken at random; errors when a class has a single row or when
/// either part is smaller than the number of classes). Draws from mlship's [`Rng`] (split `i`
/// from `Rng::derive(seed, i)`); index sets are sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StratifiedShuffleSplit {
    /// Number of splits, at least 1 (default 10).
    pub n_splits: usize,
    /// Validation size (default 0.1 when `train_size` is absent too, else the complement).
    pub test_size: Option<SplitSize>,
    /// Training size (default: the complement of `test_size`).
    pub train_size: Option<SplitSize>,
    /// Seed (default 0).
    pub seed: u64,
}

impl Default for StratifiedShuffleSplit {
    fn default() -> Self {
        Self {
            n_splits: default_shuffle_n_splits(),
            test_size: None,
            train_size: None,
            seed: 0,
        }
    }
}

impl StratifiedShuffleSplit {
    /// Checks the parameters that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        check_n_splits_at_least_one(self.n_splits)?;
        if let Some(s) = self.test_size {
            s.validate("test_size")?;
        }
        if let Some(s) = self.train_size {
            s.validate("train_size")?;
        }
        Ok(())
    }
}

impl Splitter for StratifiedShuffleSplit {
    fn name(&self) -> &'static str {
        "stratified_shuffle_split"
    }

    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let y = require_y(self.name(), y)?;
        let (n_train, n_test) = shuffle_sizes(n_rows, self.test_size, self.train_size)?;
        let (codes, counts) = encode_classes(y)?;
        let n_classes = counts.len();
        if counts.iter().any(|&c| c < 2) {
            return Err(EvaluateError::invalid_input(
                "a class of y has a single row, too few to appear in both train and validation"
                    .to_owned(),
            ));
        }
        if n_train < n_classes {
            return Err(EvaluateError::invalid_input(format!(
                "the training part holds {n_train} rows, fewer than the {n_classes} classes"
            )));
        }
        if n_test < n_classes {
            return Err(EvaluateError::invalid_input(format!(
                "the validation part holds {n_test} rows, fewer than the {n_classes} classes"
            )));
        }
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for (row, &c) in codes.iter().enumerate() {
            rows_of[c].push(row);
        }
        Ok((0..self.n_splits)
            .map(|i| {
                let mut rng = Rng::derive(self.seed, i as u64);
                let n_i = approximate_mode(&counts, n_train, &mut rng);
                let remaining: Vec<usize> = counts.iter().zip(&n_i).map(|(c, n)| c - n).collect();
                let t_i = approximate_mode(&remaining, n_test, &mut rng);
                let (mut train, mut valid) = (Vec::new(), Vec::new());
                for c in 0..n_classes {
                    let mut rows = rows_of[c].clone();
                    rng.shuffle(&mut rows);
                    train.extend_from_slice(&rows[..n_i[c]]);
                    valid.extend_from_slice(&rows[n_i[c]..n_i[c] + t_i[c]]);
                }
                train.sort_unstable();
                valid.sort_unstable();
                Fold { train, valid }
            })
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Repeated k-fold
// ---------------------------------------------------------------------------------------------

/// K-fold repeated `n_repeats` times with different shuffles.
///
/// Matches scikit-learn's `RepeatedKFold` (defaults `n_splits = 5`, `n_repeats = 10`); repeat `r`
/// is a shuffled [`KFold`] drawing from `Rng::derive(seed, r)`. Folds are yielded repeat by
/// repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatedKFold {
    /// Folds per repeat, at least 2 (default 5).
    pub n_splits: usize,
    /// Number of repeats, at least 1 (default 10).
    pub n_repeats: usize,
    /// Seed (default 0).
    pub seed: u64,
}

impl Default for RepeatedKFold {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            n_repeats: default_n_repeats(),
            seed: 0,
        }
    }
}

fn check_n_repeats(n_repeats: usize) -> Result<()> {
    if n_repeats == 0 {
        return Err(EvaluateError::invalid_param("n_repeats", 0, "at least 1"));
    }
    Ok(())
}

impl RepeatedKFold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)?;
        check_n_repeats(self.n_repeats)
    }
}

impl Splitter for RepeatedKFold {
    fn name(&self) -> &'static str {
        "repeated_kfold"
    }

    fn n_splits(&self) -> usize {
        self.n_splits.saturating_mul(self.n_repeats)
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        check_rows(self.n_splits, n_rows)?;
        let kfold = KFold {
            n_splits: self.n_splits,
            shuffle: true,
            seed: self.seed,
        };
        let mut folds = Vec::with_capacity(self.n_splits * self.n_repeats);
        for r in 0..self.n_repeats {
            let mut rng = Rng::derive(self.seed, r as u64);
            folds.extend(kfold.split_with(n_rows, Some(&mut rng)));
        }
        Ok(folds)
    }
}

/// Stratified k-fold repeated `n_repeats` times with different shuffles.
///
/// Matches scikit-learn's `RepeatedStratifiedKFold` (defaults `n_splits = 5`, `n_repeats = 10`);
/// repeat `r` is a shuffled [`StratifiedKFold`] drawing from `Rng::derive(seed, r)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatedStratifiedKFold {
    /// Folds per repeat, at least 2 (default 5).
    pub n_splits: usize,
    /// Number of repeats, at least 1 (default 10).
    pub n_repeats: usize,
    /// Seed (default 0).
    pub seed: u64,
}

impl Default for RepeatedStratifiedKFold {
    fn default() -> Self {
        Self {
            n_splits: default_n_splits(),
            n_repeats: default_n_repeats(),
            seed: 0,
        }
    }
}

impl RepeatedStratifiedKFold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_n_splits(self.n_splits)?;
        check_n_repeats(self.n_repeats)
    }
}

impl Splitter for RepeatedStratifiedKFold {
    fn name(&self) -> &'static str {
        "repeated_stratified_kfold"
    }

    fn n_splits(&self) -> usize {
        self.n_splits.saturating_mul(self.n_repeats)
    }

    fn split(&self, n_rows: usize, y: Option<&[f64]>, groups: Option<&[u64]>) -> Result<Vec<Fold>> {
        self.validate()?;
        check_lengths(n_rows, y, groups)?;
        let y = require_y(self.name(), y)?;
        check_rows(self.n_splits, n_rows)?;
        let skf = StratifiedKFold {
            n_splits: self.n_splits,
            shuffle: true,
            seed: self.seed,
        };
        let mut folds = Vec::with_capacity(self.n_splits * self.n_repeats);
        for r in 0..self.n_repeats {
            let mut rng = Rng::derive(self.seed, r as u64);
            folds.extend(skf.split_with(y, Some(&mut rng))?);
        }
        Ok(folds)
    }
}

// ---------------------------------------------------------------------------------------------
// SplitSpec
// ---------------------------------------------------------------------------------------------

/// A splitter as an experiment file names it, tagged by `kind`; omitted keys take the
/// splitter's defaults, unknown keys are refused.
///
/// ```toml
/// split = { kind = "stratified_kfold", n_splits = 5, shuffle = true, seed = 0 }
/// ```
///
/// The default is scikit-learn's default for classifiers (`cv=5`): stratified 5-fold without
/// shuffle. For regression targets use [`SplitSpec::default_for_regression`] (5-fold), since
/// stratification refuses continuous targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum SplitSpec {
    /// [`KFold`].
    #[serde(rename = "kfold")]
    KFold(KFold),
    /// [`StratifiedKFold`].
    #[serde(rename = "stratified_kfold")]
    StratifiedKFold(StratifiedKFold),
    /// [`GroupKFold`].
    #[serde(rename = "group_kfold")]
    GroupKFold(GroupKFold),
    /// [`StratifiedGroupKFold`].
    #[serde(rename = "stratified_group_kfold")]
    StratifiedGroupKFold(StratifiedGroupKFold),
    /// [`TimeSeriesSplit`].
    #[serde(rename = "time_series_split")]
    TimeSeriesSplit(TimeSeriesSplit),
    /// [`ShuffleSplit`].
    #[serde(rename = "shuffle_split")]
    ShuffleSplit(ShuffleSplit),
    /// [`StratifiedShuffleSplit`].
    #[serde(rename = "stratified_shuffle_split")]
    StratifiedShuffleSplit(StratifiedShuffleSplit),
    /// [`RepeatedKFold`].
    #[serde(rename = "repeated_kfold")]
    RepeatedKFold(RepeatedKFold),
    /// [`RepeatedStratifiedKFold`].
    #[serde(rename = "repeated_stratified_kfold")]
    RepeatedStratifiedKFold(RepeatedStratifiedKFold),
}

impl Default for SplitSpec {
    fn default() -> Self {
        Self::StratifiedKFold(StratifiedKFold::default())
    }
}

impl SplitSpec {
    /// The valid `kind` values.
    pub const KINDS: [&'static str; 9] = [
        "kfold",
        "stratified_kfold",
        "group_kfold",
        "stratified_group_kfold",
        "time_series_split",
        "shuffle_split",
        "stratified_shuffle_split",
        "repeated_kfold",
        "repeated_stratified_kfold",
    ];

    /// Plain 5-fold without shuffle: scikit-learn's default `cv=5` for regressors.
    pub fn default_for_regression() -> Self {
        Self::KFold(KFold::default())
    }

    /// The splitter, its parameters checked.
    pub fn build(&self) -> Result<Box<dyn Splitter>> {
        Ok(match self {
            Self::KFold(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::StratifiedKFold(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::GroupKFold(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::StratifiedGroupKFold(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::TimeSeriesSplit(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::ShuffleSplit(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::StratifiedShuffleSplit(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::RepeatedKFold(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
            Self::RepeatedStratifiedKFold(s) => {
                s.validate()?;
                Box::new(s.clone())
            }
        })
    }
}

#[cfg(test)]
mod tests;
