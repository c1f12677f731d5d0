//! Train / validation / test splits: random, stratified, group-aware and time-ordered.
//!
//! Sizes follow scikit-learn's `train_test_split`: a fraction `f` of `n` rows takes `ceil(f · n)`
//! rows. The test set is carved out first, then the validation set, and the rest trains.
//! Every split is a pure function of its inputs and the seed, so the same call gives the same
//! rows on every machine.

use mlship_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{PreprocessError, Result};

/// How rows are assigned to the sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SplitMethod {
    /// Rows shuffled with the seed.
    #[default]
    Random,
    /// Each class keeps its share in every set, to within one row per class.
    Stratified,
    /// Whole groups go to one set; no group is split.
    Group,
    /// The earliest rows train, later rows validate, the latest test; no shuffling.
    Time,
}

/// The sizes and seed of a split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitOptions {
    /// Share of rows for the test set, in `[0, 1)`.
    pub test: f64,
    /// Share of rows for the validation set, in `[0, 1)`.
    pub validation: f64,
    /// Seed of the shuffle.
    pub seed: u64,
}

impl Default for SplitOptions {
    fn default() -> Self {
        Self {
            test: 0.2,
            validation: 0.0,
            seed: 0,
        }
    }
}

/// What a split is keyed on, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub enum SplitKey<'a> {
    /// No key: a seeded shuffle.
    Random,
    /// A class code per row.
    Stratified(&'a [u32]),
    /// A group id per row.
    Group(&'a [u64]),
    /// A time per row (any totally ordered number, e.g. microseconds since the epoch).
    Time(&'a [i64]),
}

impl SplitKey<'_> {
    /// The method this key splits by.
    pub fn method(&self) -> SplitMethod {
        match self {
            Self::Random => SplitMethod::Random,
            Self::Stratified(_) => SplitMethod::Stratified,
            Self::Group(_) => SplitMethod::Group,
            Self::Time(_) => SplitMethod::Time,
        }
    }
}

/// Row indices of each set, each in ascending row order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitIndices {
    /// Training rows.
    pub train: Vec<usize>,
    /// Validation rows (empty when no validation share was asked for).
    pub validation: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// Splits `n_rows` rows into train, validation and test sets.
///
/// # Errors
/// Shares outside `[0, 1)` or adding up to 1 or more, a key whose length is not `n_rows`, or a
/// split that would leave the training set empty.
pub fn split_rows(
    n_rows: usize,
    key: SplitKey<'_>,
    options: &SplitOptions,
) -> Result<SplitIndices> {
    for (name, value) in [("test", options.test), ("validation", options.validation)] {
        if !(0.0..1.0).contains(&value) {
            return Err(PreprocessError::Invalid {
                param: format!("{name} share"),
                value: value.to_string(),
                expected: "a fraction in [0, 1), such as 0.2".into(),
            });
        }
    }
    if options.test + options.validation >= 1.0 {
        return Err(PreprocessError::Invalid {
            param: "test + validation shares".into(),
            value: (options.test + options.validation).to_string(),
            expected: "less than 1, so that rows remain to train on".into(),
        });
    }
    let key_len = match key {
        SplitKey::Random => n_rows,
        SplitKey::Stratified(k) => k.len(),
        SplitKey::Group(k) => k.len(),
        SplitKey::Time(k) => k.len(),
    };
    if key_len != n_rows {
        return Err(PreprocessError::Split(format!(
            "the split key has {key_len} values for {n_rows} rows"
        )));
    }
    let n_test = share(options.test, n_rows);
    let n_val = share(options.validation, n_rows);
    if n_test + n_val >= n_rows {
        return Err(PreprocessError::Split(format!(
            "{n_rows} rows leave none to train on after {n_test} test and {n_val} validation rows\n\
             hint: use smaller shares or more data"
        )));
    }
    let mut rng = Rng::new(options.seed);
    let mut out = match key {
        SplitKey::Random => {
            let order = rng.permutation(n_rows);
            assign_in_order(&order, n_test, n_val)
        }
        SplitKey::Stratified(classes) => stratified(classes, options, &mut rng),
        SplitKey::Group(groups) => grouped(groups, n_test, n_val, &mut rng),
        SplitKey::Time(times) => {
            let mut order: Vec<usize> = (0..n_rows).collect();
            order.sort_by_key(|&i| (times[i], i));
            // Latest rows test, the ones before them validate.
            let mut sets = SplitIndices {
                train: order[..n_rows - n_test - n_val].to_vec(),
                validation: order[n_rows - n_test - n_val..n_rows - n_test].to_vec(),
                test: order[n_rows - n_test..].to_vec(),
            };
            sort_sets(&mut sets);
            sets
        }
    };
    if out.train.is_empty() {
        return Err(PreprocessError::Split(
            "the split leaves no rows to train on\nhint: use smaller shares or more groups".into(),
        ));
    }
    sort_sets(&mut out);
    Ok(out)
}

/// `ceil(fraction · n)`, as scikit-learn sizes a test set.
fn share(fraction: f64, n: usize) -> usize {
    if fraction <= 0.0 {
        0
    } else {
        ((fraction * n as f64).ceil() as usize).min(n)
    }
}

fn sort_sets(sets: &mut SplitIndices) {
    sets.train.sort_unstable();
    sets.validation.sort_unstable();
    sets.test.sort_unstable();
}

/// The first `n_test` rows of `order` test, the next `n_val` validate, the rest train.
fn assign_in_order(order: &[usize], n_test: usize, n_val: usize) -> SplitIndices {
    SplitIndices {
        test: order[..n_test].to_vec(),
        validation: order[n_test..n_test + n_val].to_vec(),
        train: order[n_test + n_val..].to_vec(),
    }
}

/// Allocates `total` rows over classes in proportion to `counts`: each class gets the floor of
/// its exact share, and the rows left over go to the largest remainders (ties to the rarer
/// class, then the lower code). Every class lands within one row of its exact share.
fn apportion(counts: &[usize], total: usize, n: usize) -> Vec<usize> {
    if n == 0 {
        return vec![0; counts.len()];
    }
    let exact: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 * total as f64 / n as f64)
        .collect();
    let mut alloc: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = total.saturating_sub(alloc.iter().sum());
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra)
            .then(counts[a].cmp(&counts[b]))
            .then(a.cmp(&b))
    });
    for &k in &order {
        if left == 0 {
            break;
        }
        if alloc[k] < counts[k] {
            alloc[k] += 1;
            left -= 1;
        }
    }
    alloc
}

fn stratified(classes: &[u32], options: &SplitOptions, rng: &mut Rng) -> SplitIndices {
    let n = classes.len();
    let n_classes = classes.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (row, &c) in classes.iter().enumerate() {
        members[c as usize].push(row);
    }
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    let test_alloc = apportion(&counts, share(options.test, n), n);
    let val_alloc = apportion(&counts, share(options.validation, n), n);
    let mut out = SplitIndices {
        train: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
    };
    for (k, rows) in members.iter_mut().enumerate() {
        rng.shuffle(rows);
        let t = test_alloc[k];
        let v = val_alloc[k].min(rows.len() - t);
        out.test.extend_from_slice(&rows[..t]);
        out.validation.extend_from_slice(&rows[t..t + v]);
        out.train.extend_from_slice(&rows[t + v..]);
    }
    out
}

fn grouped(groups: &[u64], n_test: usize, n_val: usize, rng: &mut Rng) -> SplitIndices {
    let mut ids: Vec<u64> = groups.to_vec();
    ids.sort_unstable();
    ids.dedup();
    rng.shuffle(&mut ids);
    let mut sizes = std::collections::HashMap::with_capacity(ids.len());
    for &g in groups {
        *sizes.entry(g).or_insert(0usize) += 1;
    }
    // Whole groups fill the test set, then the validation set, until each reaches its size.
    let mut set_of = std::collections::HashMap::with_capacity(ids.len());
    let (mut in_test, mut in_val) = (0usize, 0usize);
    for g in ids {
        let size = sizes[&g];
        let set = if in_test < n_test {
            in_test += size;
            2u8
        } else if in_val < n_val {
            in_val += size;
            1
        } else {
            0
        };
        set_of.insert(g, set);
    }
    let mut out = SplitIndices {
        train: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
    };
    for (row, g) in groups.iter().enumerate() {
        match set_of[g] {
            2 => out.test.push(row),
            1 => out.validation.push(row),
            _ => out.train.push(row),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use proptest::prelude::*;

    use super::*;

    fn covers(sets: &SplitIndices, n: usize) -> bool {
        let all: BTreeSet<usize> = sets
            .train
            .iter()
            .chain(&sets.validation)
            .chain(&sets.test)
            .copied()
            .collect();
        all.len() == n
            && sets.train.len() + sets.validation.len() + sets.test.len() == n
            && all.iter().copied().eq(0..n)
    }

    #[test]
    fn random_split_sizes_follow_scikit_learn() {
        let opts = SplitOptions {
            test: 0.25,
            validation: 0.1,
            seed: 7,
        };
        let s = split_rows(10, SplitKey::Random, &opts).unwrap();
        assert_eq!(s.test.len(), 3); // ceil(2.5)
        assert_eq!(s.validation.len(), 1);
        assert_eq!(s.train.len(), 6);
        assert!(covers(&s, 10));
        assert_eq!(s, split_rows(10, SplitKey::Random, &opts).unwrap());
        let other = split_rows(10, SplitKey::Random, &SplitOptions { seed: 8, ..opts }).unwrap();
        assert_ne!(s, other);
    }

    #[test]
    fn bad_shares_and_tiny_data_are_refused() {
        let bad = SplitOptions {
            test: 1.0,
            ..SplitOptions::default()
        };
        let e = split_rows(10, SplitKey::Random, &bad).unwrap_err();
        assert!(e.to_string().contains("test share"), "{e}");
        let sum = SplitOptions {
            test: 0.6,
            validation: 0.5,
            seed: 0,
        };
        assert!(split_rows(10, SplitKey::Random, &sum).is_err());
        let e = split_rows(1, SplitKey::Random, &SplitOptions::default()).unwrap_err();
        assert!(e.to_string().contains("none to train"), "{e}");
        let e = split_rows(3, SplitKey::Stratified(&[0, 1]), &SplitOptions::default()).unwrap_err();
        assert!(e.to_string().contains("2 values for 3 rows"), "{e}");
        // One group holding every row cannot leave a training set.
        let e =
            split_rows(4, SplitKey::Group(&[1, 1, 1, 1]), &SplitOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no rows to train"), "{e}");
    }

    #[test]
    fn time_split_keeps_order() {
        let times = [50, 10, 40, 20, 30, 60, 0, 70, 80, 90];
        let opts = SplitOptions {
            test: 0.2,
            validation: 0.2,
            seed: 0,
        };
        let s = split_rows(10, SplitKey::Time(&times), &opts).unwrap();
        let t = |rows: &[usize]| rows.iter().map(|&r| times[r]).collect::<BTreeSet<_>>();
        assert_eq!(t(&s.test), BTreeSet::from([80, 90]));
        assert_eq!(t(&s.validation), BTreeSet::from([60, 70]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn stratified_keeps_class_shares(
            classes in prop::collection::vec(0u32..4, 10..200),
            test in 0.05f64..0.4,
            validation in 0.0f64..0.3,
            seed in any::<u64>(),
        ) {
            let n = classes.len();
            let opts = SplitOptions { test, validation, seed };
            let Ok(s) = split_rows(n, SplitKey::Stratified(&classes), &opts) else {
                return Ok(());
            };
            prop_assert!(covers(&s, n));
            let mut counts: HashMap<u32, usize> = HashMap::new();
            for &c in &classes { *counts.entry(c).or_default() += 1; }
            for (set, frac) in [(&s.test, test), (&s.validation, validation)] {
                let expected_total = (frac * n as f64).ceil();
                for (&c, &count) in &counts {
                    let got = set.iter().filter(|&&r| classes[r] == c).count() as f64;
                    let exact = count as f64 * expected_total / n as f64;
                    prop_assert!((got - exact).abs() <= 1.0, "class {} got {} want {}", c, got, exact);
                }
            }
        }

        #[test]
        fn groups_stay_whole(
            groups in prop::collection::vec(0u64..12, 5..150),
            seed in any::<u64>(),
        ) {
            let n = groups.len();
            let opts = SplitOptions { test: 0.2, validation: 0.1, seed };
            let Ok(s) = split_rows(n, SplitKey::Group(&groups), &opts) else { return Ok(()); };
            prop_assert!(covers(&s, n));
            let set_of = |rows: &[usize]| rows.iter().map(|&r| groups[r]).collect::<BTreeSet<_>>();
            let (a, b, c) = (set_of(&s.train), set_of(&s.validation), set_of(&s.test));
            prop_assert!(a.is_disjoint(&b) && a.is_disjoint(&c) && b.is_disjoint(&c));
        }

        #[test]
        fn time_sets_are_ordered(
            times in prop::collection::vec(-1000i64..1000, 5..150),
            seed in any::<u64>(),
        ) {
            let n = times.len();
            let opts = SplitOptions { test: 0.2, validation: 0.2, seed };
            let Ok(s) = split_rows(n, SplitKey::Time(&times), &opts) else { return Ok(()); };
            prop_assert!(covers(&s, n));
            let max = |rows: &[usize]| rows.iter().map(|&r| times[r]).max();
            let min = |rows: &[usize]| rows.iter().map(|&r| times[r]).min();
            prop_assert!(max(&s.train) <= min(&s.validation).or(max(&s.train)));
            prop_assert!(max(&s.validation).or(max(&s.train)) <= min(&s.test));
        }

        #[test]
        fn random_split_is_a_partition(n in 2usize..300, test in 0.0f64..0.5, seed in any::<u64>()) {
            let opts = SplitOptions { test, validation: 0.0, seed };
            if let Ok(s) = split_rows(n, SplitKey::Random, &opts) {
                prop_assert!(covers(&s, n));
                prop_assert_eq!(s.test.len(), share(test, n));
            }
        }
    }
}
