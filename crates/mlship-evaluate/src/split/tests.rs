//! Tests of the splitters: scikit-learn parity, specs, errors and invariants.

use super::*;
use mlship_core::rng::Rng;
use proptest::prelude::*;
use serde_json::Value;

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/splits.json"
));

fn as_usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| usize::try_from(x.as_u64().expect("index")).expect("fits"))
        .collect()
}

#[test]
fn folds_match_scikit_learn() {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture parses");
    assert_eq!(
        fixture["versions"]["sklearn"].as_str().map(|v| &v[..3]),
        Some("1.9")
    );
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() > 100, "fixture holds {} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let spec: SplitSpec = serde_json::from_value(case["spec"].clone()).expect(name);
        let splitter = spec.build().expect(name);
        let n_rows = usize::try_from(case["n_rows"].as_u64().expect("n_rows")).expect("fits");
        let y: Option<Vec<f64>> = case.get("y").map(|y| {
            y.as_array()
                .expect("y")
                .iter()
                .map(|v| v.as_f64().expect("label"))
                .collect()
        });
        let groups: Option<Vec<u64>> = case.get("groups").map(|g| {
            g.as_array()
                .expect("groups")
                .iter()
                .map(|v| v.as_u64().expect("group"))
                .collect()
        });
        let got = splitter.split(n_rows, y.as_deref(), groups.as_deref());
        if case.get("error").is_some() {
            assert!(
                got.is_err(),
                "{name}: scikit-learn refuses, we gave {got:?}"
            );
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = case["folds"].as_array().expect("folds");
        assert_eq!(got.len(), want.len(), "{name}: number of folds");
        assert_eq!(splitter.n_splits(), want.len(), "{name}: n_splits()");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g.valid, as_usizes(&w["valid"]), "{name}: fold {i} valid");
            assert_eq!(g.train, as_usizes(&w["train"]), "{name}: fold {i} train");
        }
    }
}

#[test]
fn spec_reads_toml_like_json_and_refuses_unknown_keys() {
    let spec: SplitSpec = serde_json::from_str(
        r#"{ "kind": "stratified_kfold", "n_splits": 5, "shuffle": true, "seed": 0 }"#,
    )
    .expect("parses");
    assert_eq!(
        spec,
        SplitSpec::StratifiedKFold(StratifiedKFold {
            n_splits: 5,
            shuffle: true,
            seed: 0
        })
    );
    let spec: SplitSpec = serde_json::from_str(r#"{ "kind": "kfold" }"#).expect("defaults");
    assert_eq!(spec, SplitSpec::KFold(KFold::default()));
    let spec: SplitSpec =
        serde_json::from_str(r#"{ "kind": "shuffle_split", "test_size": 0.25, "train_size": 30 }"#)
            .expect("sizes");
    assert_eq!(
        spec,
        SplitSpec::ShuffleSplit(ShuffleSplit {
            test_size: Some(SplitSize::Fraction(0.25)),
            train_size: Some(SplitSize::Count(30)),
            ..ShuffleSplit::default()
        })
    );
    let err = serde_json::from_str::<SplitSpec>(r#"{ "kind": "shuffle_split", "test_size": -3 }"#)
        .expect_err("negative size");
    assert!(
        err.to_string()
            .contains("integer `-3`, expected a positive row count or a fraction in (0, 1)"),
        "{err}"
    );
    let err = serde_json::from_str::<SplitSpec>(r#"{ "kind": "kfold", "n_split": 5 }"#)
        .expect_err("unknown key");
    assert!(err.to_string().contains("n_split"), "{err}");
    let err = serde_json::from_str::<SplitSpec>(r#"{ "kind": "leave_one_out" }"#)
        .expect_err("unknown kind");
    assert!(err.to_string().contains("leave_one_out"), "{err}");
    assert_eq!(
        SplitSpec::default(),
        SplitSpec::StratifiedKFold(StratifiedKFold::default())
    );
    for kind in SplitSpec::KINDS {
        let spec: SplitSpec =
            serde_json::from_value(serde_json::json!({ "kind": kind })).expect(kind);
        let built = spec.build().expect(kind);
        assert_eq!(built.name(), kind);
        let back = serde_json::to_value(&spec).expect("serialises");
        assert_eq!(back["kind"], kind);
        assert_eq!(serde_json::from_value::<SplitSpec>(back).expect(kind), spec);
    }
}

#[test]
fn errors_name_the_parameter_and_value() {
    let err = SplitSpec::KFold(KFold {
        n_splits: 1,
        ..KFold::default()
    })
    .build()
    .expect_err("n_splits = 1");
    assert_eq!(err.to_string(), "invalid n_splits = 1: expected at least 2");

    let err = KFold::default().split(3, None, None).expect_err("3 rows");
    assert!(err.to_string().contains("too few rows"), "{err}");
    assert!(err.to_string().contains("n_splits = 5"), "{err}");

    let err = GroupKFold::default()
        .split(10, None, None)
        .expect_err("no groups");
    assert!(err.to_string().contains("needs groups"), "{err}");
    let err = StratifiedKFold::default()
        .split(10, None, None)
        .expect_err("no y");
    assert!(err.to_string().contains("needs y"), "{err}");

    let mut y = vec![0.0; 10];
    y[4] = f64::NAN;
    let err = StratifiedKFold::default()
        .split(10, Some(&y), None)
        .expect_err("NaN");
    assert!(err.to_string().contains("NaN at row 4"), "{err}");
    let y: Vec<f64> = (0..10).map(|i| f64::from(i) * 0.5).collect();
    let err = StratifiedKFold::default()
        .split(10, Some(&y), None)
        .expect_err("continuous");
    assert!(err.to_string().contains("0.5 at row 1"), "{err}");

    // Every class smaller than n_splits: refused, as scikit-learn.
    let y = [0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
    let ok = StratifiedKFold {
        n_splits: 2,
        ..StratifiedKFold::default()
    }
    .split(6, Some(&y), None);
    assert!(ok.is_ok(), "classes of 2 rows each fit 2 folds: {ok:?}");
    let err = StratifiedKFold {
        n_splits: 3,
        ..StratifiedKFold::default()
    }
    .split(6, Some(&y), None)
    .expect_err("all classes < 3");
    assert_eq!(
        err.to_string(),
        "invalid n_splits = 3: expected at most the size of the largest class (2 rows)"
    );
    // Only some classes smaller: proceeds (scikit-learn warns).
    let y = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    let folds = StratifiedKFold::default()
        .split(6, Some(&y), None)
        .expect("one class big enough");
    assert_eq!(folds.len(), 5);

    let err = GroupKFold::default()
        .split(10, None, Some(&[1, 1, 2, 2, 3, 3, 4, 4, 4, 4]))
        .expect_err("4 groups");
    assert!(
        err.to_string()
            .contains("invalid n_splits = 5: expected at most the number of distinct groups (4)"),
        "{err}"
    );
    let err = KFold::default()
        .split(10, Some(&[0.0; 9]), None)
        .expect_err("length");
    assert!(err.to_string().contains("y has 9 values"), "{err}");

    let err = SplitSpec::ShuffleSplit(ShuffleSplit {
        test_size: Some(SplitSize::Fraction(1.5)),
        ..ShuffleSplit::default()
    })
    .build()
    .expect_err("fraction");
    assert!(
        err.to_string().starts_with("invalid test_size = 1.5"),
        "{err}"
    );
    let err = ShuffleSplit {
        test_size: Some(SplitSize::Count(10)),
        ..ShuffleSplit::default()
    }
    .split(10, None, None)
    .expect_err("count");
    assert!(
        err.to_string().starts_with("invalid test_size = 10"),
        "{err}"
    );
    let err = TimeSeriesSplit {
        test_size: Some(3),
        gap: 2,
        ..TimeSeriesSplit::default()
    }
    .split(16, None, None)
    .expect_err("too many");
    assert!(err.to_string().contains("too few rows"), "{err}");
    let err = StratifiedShuffleSplit::default()
        .split(5, Some(&[0.0, 0.0, 0.0, 0.0, 1.0]), None)
        .expect_err("singleton");
    assert!(err.to_string().contains("single row"), "{err}");
}

#[test]
fn shuffle_split_sizes_round_like_scikit_learn() {
    // ceil for validation, floor for training.
    assert_eq!(shuffle_sizes(10, None, None).expect("ok"), (9, 1));
    assert_eq!(shuffle_sizes(11, None, None).expect("ok"), (9, 2));
    assert_eq!(
        shuffle_sizes(10, Some(SplitSize::Fraction(0.25)), None).expect("ok"),
        (7, 3)
    );
    assert_eq!(
        shuffle_sizes(10, None, Some(SplitSize::Fraction(0.75))).expect("ok"),
        (7, 3)
    );
    assert_eq!(
        shuffle_sizes(
            10,
            Some(SplitSize::Count(2)),
            Some(SplitSize::Fraction(0.55))
        )
        .expect("ok"),
        (5, 2)
    );
    assert!(shuffle_sizes(10, Some(SplitSize::Count(6)), Some(SplitSize::Count(5))).is_err());
    let folds = ShuffleSplit {
        n_splits: 3,
        test_size: Some(SplitSize::Count(2)),
        train_size: Some(SplitSize::Count(5)),
        seed: 1,
    }
    .split(10, None, None)
    .expect("ok");
    for f in &folds {
        assert_eq!((f.train.len(), f.valid.len()), (5, 2));
    }
}

#[test]
fn shuffled_splitters_depend_on_the_seed() {
    let y: Vec<f64> = (0..100).map(|i| f64::from(i % 3)).collect();
    let groups: Vec<u64> = (0..100).map(|i| i / 4).collect();
    for kind in SplitSpec::KINDS {
        if kind == "time_series_split" {
            continue;
        }
        let with_seed = |seed: u64| {
            let mut v = serde_json::json!({ "kind": kind, "seed": seed });
            if !kind.starts_with("repeated") && !kind.contains("shuffle_split") {
                v["shuffle"] = Value::Bool(true);
            }
            let spec: SplitSpec = serde_json::from_value(v).expect(kind);
            spec.build()
                .expect(kind)
                .split(100, Some(&y), Some(&groups))
                .expect(kind)
        };
        assert_eq!(with_seed(7), with_seed(7), "{kind}: same seed");
        assert_ne!(with_seed(7), with_seed(8), "{kind}: other seed");
    }
}

#[test]
fn repeated_kfold_repeats_differ() {
    let folds = RepeatedKFold {
        n_splits: 4,
        n_repeats: 3,
        seed: 11,
    }
    .split(40, None, None)
    .expect("ok");
    assert_eq!(folds.len(), 12);
    assert_ne!(folds[..4], folds[4..8]);
    let first = KFold {
        n_splits: 4,
        shuffle: true,
        seed: 0,
    }
    .split_with(40, Some(&mut Rng::derive(11, 0)));
    assert_eq!(folds[..4], first[..]);
}

#[test]
fn approximate_mode_matches_scikit_learn_examples() {
    let mut rng = Rng::new(0);
    assert_eq!(approximate_mode(&[4, 2], 3, &mut rng), vec![2, 1]);
    assert_eq!(approximate_mode(&[5, 2], 4, &mut rng), vec![3, 1]);
    let tie = approximate_mode(&[2, 2, 2, 1], 2, &mut rng);
    assert_eq!(tie.iter().sum::<usize>(), 2);
    assert_eq!(tie[3], 0);
}

// ---------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------

/// Checks that every fold's index sets are sorted, in range and disjoint.
fn assert_disjoint(folds: &[Fold], n_rows: usize) -> std::result::Result<(), TestCaseError> {
    for f in folds {
        prop_assert!(f.train.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(f.valid.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(f.train.iter().chain(&f.valid).all(|&i| i < n_rows));
        let mut seen = vec![false; n_rows];
        for &i in &f.train {
            seen[i] = true;
        }
        prop_assert!(f.valid.iter().all(|&i| !seen[i]), "train and valid overlap");
        prop_assert!(!f.valid.is_empty());
    }
    Ok(())
}

/// Checks that folds (of one repeat) are complementary and validate each row exactly once.
fn assert_partition(folds: &[Fold], n_rows: usize) -> std::result::Result<(), TestCaseError> {
    let mut count = vec![0usize; n_rows];
    for f in folds {
        prop_assert_eq!(f.train.len() + f.valid.len(), n_rows);
        for &i in &f.valid {
            count[i] += 1;
        }
    }
    prop_assert!(
        count.iter().all(|&c| c == 1),
        "rows not validated exactly once"
    );
    Ok(())
}

/// Checks each class's count per fold is within one row of its even share.
fn assert_stratified(
    folds: &[Fold],
    y: &[f64],
    k: usize,
) -> std::result::Result<(), TestCaseError> {
    let n_classes = y.iter().map(|&v| v as usize).max().unwrap_or(0) + 1;
    let mut total = vec![0usize; n_classes];
    for &v in y {
        total[v as usize] += 1;
    }
    for f in folds {
        let mut in_fold = vec![0usize; n_classes];
        for &i in &f.valid {
            in_fold[y[i] as usize] += 1;
        }
        for c in 0..n_classes {
            let share = total[c] as f64 / k as f64;
            prop_assert!(
                (in_fold[c] as f64 - share).abs() < 1.0,
                "class {} has {} rows in a fold, share {}",
                c,
                in_fold[c],
                share
            );
        }
    }
    Ok(())
}

/// Checks no group has rows on both sides of any fold.
fn assert_groups_whole(folds: &[Fold], groups: &[u64]) -> std::result::Result<(), TestCaseError> {
    for f in folds {
        let valid: std::collections::BTreeSet<u64> = f.valid.iter().map(|&i| groups[i]).collect();
        prop_assert!(
            f.train.iter().all(|&i| !valid.contains(&groups[i])),
            "a group is split"
        );
    }
    Ok(())
}

fn labels(max_rows: usize, max_classes: u32) -> impl Strategy<Value = Vec<f64>> {
    (2..=max_classes)
        .prop_flat_map(move |c| prop::collection::vec((0..c).prop_map(f64::from), 10..max_rows))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn kfold_partitions_rows(n_rows in 2usize..200, k in 2usize..12, shuffle: bool, seed: u64) {
        prop_assume!(k <= n_rows);
        let s = KFold { n_splits: k, shuffle, seed };
        let folds = s.split(n_rows, None, None).expect("valid");
        prop_assert_eq!(folds.len(), k);
        assert_disjoint(&folds, n_rows)?;
        assert_partition(&folds, n_rows)?;
        let sizes: Vec<usize> = folds.iter().map(|f| f.valid.len()).collect();
        prop_assert!(sizes.iter().max().expect("k > 0") - sizes.iter().min().expect("k > 0") <= 1);
        prop_assert_eq!(s.split(n_rows, None, None).expect("valid"), folds);
    }

    #[test]
    fn stratified_kfold_keeps_class_shares(y in labels(200, 5), k in 2usize..6, shuffle: bool, seed: u64) {
        let s = StratifiedKFold { n_splits: k, shuffle, seed };
        match s.split(y.len(), Some(&y), None) {
            Ok(folds) => {
                assert_disjoint_allow_empty(&folds, y.len())?;
                assert_partition(&folds, y.len())?;
                assert_stratified(&folds, &y, k)?;
                prop_assert_eq!(s.split(y.len(), Some(&y), None).expect("valid"), folds);
            }
            Err(e) => prop_assert!(e.to_string().contains("n_splits"), "{}", e),
        }
    }

    #[test]
    fn stratified_kfold_ignores_label_values(
        y in labels(150, 5),
        k in 2usize..6,
        shuffle: bool,
        seed: u64,
        shift in -50i32..50,
    ) {
        // Like scikit-learn, classes are taken in order of first appearance, so any
        // one-to-one relabelling gives the same folds; unused inputs change nothing.
        let relabelled: Vec<f64> = y.iter().map(|&v| f64::from(shift) - 3.0 * v).collect();
        let groups: Vec<u64> = (0..y.len() as u64).map(|i| i % 7).collect();
        let s = StratifiedKFold { n_splits: k, shuffle, seed };
        let a = s.split(y.len(), Some(&y), None).ok();
        let b = s.split(y.len(), Some(&relabelled), Some(&groups)).ok();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn unused_inputs_change_nothing(n_rows in 12usize..120, seed: u64) {
        let y: Vec<f64> = (0..n_rows).map(|i| (i % 3) as f64).collect();
        let groups: Vec<u64> = (0..n_rows as u64).map(|i| i / 3).collect();
        for spec in [
            SplitSpec::KFold(KFold { n_splits: 3, shuffle: true, seed }),
            SplitSpec::TimeSeriesSplit(TimeSeriesSplit { n_splits: 3, ..TimeSeriesSplit::default() }),
            SplitSpec::ShuffleSplit(ShuffleSplit { n_splits: 2, seed, ..ShuffleSplit::default() }),
            SplitSpec::RepeatedKFold(RepeatedKFold { n_splits: 3, n_repeats: 2, seed }),
        ] {
            let s = spec.build().expect("valid");
            prop_assert_eq!(
                s.split(n_rows, None, None).expect("valid"),
                s.split(n_rows, Some(&y), Some(&groups)).expect("valid")
            );
        }
    }

    #[test]
    fn repeated_stratified_kfold_keeps_class_shares(y in labels(120, 4), k in 2usize..5, repeats in 1usize..4, seed: u64) {
        let s = RepeatedStratifiedKFold { n_splits: k, n_repeats: repeats, seed };
        if let Ok(folds) = s.split(y.len(), Some(&y), None) {
            prop_assert_eq!(folds.len(), k * repeats);
            for chunk in folds.chunks(k) {
                assert_disjoint_allow_empty(chunk, y.len())?;
                assert_partition(chunk, y.len())?;
                assert_stratified(chunk, &y, k)?;
            }
            prop_assert_eq!(s.split(y.len(), Some(&y), None).expect("valid"), folds);
        }
    }

    #[test]
    fn repeated_kfold_partitions_each_repeat(n_rows in 2usize..100, k in 2usize..8, repeats in 1usize..4, seed: u64) {
        prop_assume!(k <= n_rows);
        let s = RepeatedKFold { n_splits: k, n_repeats: repeats, seed };
        let folds = s.split(n_rows, None, None).expect("valid");
        prop_assert_eq!(folds.len(), s.n_splits());
        for chunk in folds.chunks(k) {
            assert_disjoint(chunk, n_rows)?;
            assert_partition(chunk, n_rows)?;
        }
    }

    #[test]
    fn group_kfold_keeps_groups_whole(
        groups in prop::collection::vec(0u64..30, 5..200),
        k in 2usize..6,
        shuffle: bool,
        seed: u64,
    ) {
        let s = GroupKFold { n_splits: k, shuffle, seed };
        match s.split(groups.len(), None, Some(&groups)) {
            Ok(folds) => {
                assert_disjoint(&folds, groups.len())?;
                assert_partition(&folds, groups.len())?;
                assert_groups_whole(&folds, &groups)?;
                prop_assert_eq!(s.split(groups.len(), None, Some(&groups)).expect("valid"), folds);
            }
            Err(e) => prop_assert!(e.to_string().contains("groups"), "{}", e),
        }
    }

    #[test]
    fn stratified_group_kfold_keeps_groups_whole(
        rows in prop::collection::vec((0u32..3, 0u64..25), 10..150),
        k in 2usize..5,
        shuffle: bool,
        seed: u64,
    ) {
        let y: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let groups: Vec<u64> = rows.iter().map(|r| r.1).collect();
        let s = StratifiedGroupKFold { n_splits: k, shuffle, seed };
        if let Ok(folds) = s.split(y.len(), Some(&y), Some(&groups)) {
            assert_disjoint_allow_empty(&folds, y.len())?;
            assert_partition(&folds, y.len())?;
            assert_groups_whole(&folds, &groups)?;
            prop_assert_eq!(s.split(y.len(), Some(&y), Some(&groups)).expect("valid"), folds);
        }
    }

    #[test]
    fn time_series_split_respects_time_order(
        n_rows in 3usize..300,
        k in 2usize..8,
        max_train_size in prop::option::of(1usize..50),
        test_size in prop::option::of(1usize..30),
        gap in 0usize..5,
    ) {
        let s = TimeSeriesSplit { n_splits: k, max_train_size, test_size, gap };
        if let Ok(folds) = s.split(n_rows, None, None) {
            prop_assert_eq!(folds.len(), k);
            assert_disjoint(&folds, n_rows)?;
            let mut last_valid_end = None;
            for f in &folds {
                let first_valid = f.valid[0];
                if let Some(&last_train) = f.train.last() {
                    prop_assert!(last_train + gap < first_valid, "gap not respected");
                    prop_assert_eq!(last_train + gap + 1, first_valid);
                }
                if let Some(m) = max_train_size {
                    prop_assert!(f.train.len() <= m);
                }
                if let Some(t) = test_size {
                    prop_assert_eq!(f.valid.len(), t);
                }
                if let Some(end) = last_valid_end {
                    prop_assert_eq!(first_valid, end);
                }
                last_valid_end = f.valid.last().map(|&v| v + 1);
            }
            prop_assert_eq!(last_valid_end, Some(n_rows));
        }
    }

    #[test]
    fn shuffle_splits_are_disjoint_and_sized(
        n_rows in 4usize..200,
        n_splits in 1usize..6,
        test in 0.05f64..0.6,
        seed: u64,
    ) {
        let s = ShuffleSplit { n_splits, test_size: Some(SplitSize::Fraction(test)), train_size: None, seed };
        if let Ok(folds) = s.split(n_rows, None, None) {
            prop_assert_eq!(folds.len(), n_splits);
            assert_disjoint(&folds, n_rows)?;
            let n_test = (test * n_rows as f64).ceil() as usize;
            for f in &folds {
                prop_assert_eq!(f.valid.len(), n_test);
                prop_assert_eq!(f.train.len(), n_rows - n_test);
            }
            prop_assert_eq!(s.split(n_rows, None, None).expect("valid"), folds);
        }
    }

    #[test]
    fn stratified_shuffle_split_keeps_class_shares(
        y in labels(200, 4),
        n_splits in 1usize..5,
        test in 0.1f64..0.5,
        seed: u64,
    ) {
        let s = StratifiedShuffleSplit { n_splits, test_size: Some(SplitSize::Fraction(test)), train_size: None, seed };
        if let Ok(folds) = s.split(y.len(), Some(&y), None) {
            assert_disjoint(&folds, y.len())?;
            let n = y.len() as f64;
            let n_test = (test * n).ceil();
            for f in &folds {
                prop_assert_eq!(f.valid.len() as f64, n_test);
                prop_assert_eq!(f.train.len() + f.valid.len(), y.len());
                for c in 0..4u32 {
                    let total = y.iter().filter(|&&v| v == f64::from(c)).count() as f64;
                    let got = f.valid.iter().filter(|&&i| y[i] == f64::from(c)).count() as f64;
                    prop_assert!((got - total * n_test / n).abs() < 1.0 + 1e-9);
                }
            }
            prop_assert_eq!(s.split(y.len(), Some(&y), None).expect("valid"), folds);
        }
    }
}

/// Like [`assert_disjoint`], but a fold may validate no rows (stratified splits of tiny classes).
fn assert_disjoint_allow_empty(
    folds: &[Fold],
    n_rows: usize,
) -> std::result::Result<(), TestCaseError> {
    for f in folds {
        let mut seen = vec![false; n_rows];
        for &i in &f.train {
            seen[i] = true;
        }
        prop_assert!(f.valid.iter().all(|&i| !seen[i]), "train and valid overlap");
        prop_assert!(f.train.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(f.valid.windows(2).all(|w| w[0] < w[1]));
    }
    Ok(())
}
