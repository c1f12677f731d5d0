//! Decision-tree properties.

use mlship_core::Task;
use mlship_core::traits::{FitContext, Model};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::{Array2, array};
use proptest::prelude::*;

use crate::{binary, dataset, synthetic};

fn tree(spec: &str, d: &mlship_core::Dataset) -> FittedModel {
    ModelSpec::from_json(spec)
        .unwrap()
        .fit(d.view(), &FitContext::seeded(3))
        .unwrap()
        .model
}

fn distinct_rows(x: &[f64], p: usize) -> Array2<f64> {
    // Add a row counter as the last feature so every row is distinct.
    let n = x.len() / p;
    Array2::from_shape_fn(
        (n, p + 1),
        |(i, j)| if j == p { i as f64 } else { x[i * p + j] },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn unlimited_tree_reproduces_its_training_targets(
        xs in prop::collection::vec(-5.0f64..5.0, 6..120),
        ys in prop::collection::vec(-100.0f64..100.0, 60),
    ) {
        let x = distinct_rows(&xs[..xs.len() / 2 * 2], 2);
        let n = x.nrows();
        let y: Vec<f64> = (0..n).map(|i| ys[i % ys.len()]).collect();
        let d = dataset(x.clone(), y.clone(), Task::Regression, None);
        let m = tree(r#"{"kind":"decision_tree"}"#, &d);
        let p = m.as_model().predict(x.view()).unwrap();
        for i in 0..n {
            prop_assert!((p[i] - y[i]).abs() <= 1e-9 * (1.0 + y[i].abs()), "row {i}: {} vs {}", p[i], y[i]);
        }
        // Classification too: labels from the sign of the target.
        let yc: Vec<f64> = y.iter().map(|v| f64::from(*v > 0.0)).collect();
        let d = dataset(x.clone(), yc.clone(), binary(), None);
        let m = tree(r#"{"kind":"decision_tree","criterion":"entropy"}"#, &d);
        prop_assert_eq!(m.as_model().predict(x.view()).unwrap().to_vec(), yc);
    }

    #[test]
    fn regression_predictions_stay_in_the_target_range_and_importances_sum_to_one(
        seed in any::<u64>(),
        depth in 1usize..6,
        leaf in 1usize..10,
        q in prop::collection::vec(-10.0f64..10.0, 8),
    ) {
        let d = synthetic(150, 4, 0, seed);
        let spec = format!(r#"{{"kind":"decision_tree","max_depth":{depth},"min_samples_leaf":{leaf}}}"#);
        let FittedModel::DecisionTree(m) = tree(&spec, &d) else { panic!("not a tree") };
        let y = d.y().unwrap();
        let (lo, hi) = y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        let probe = Array2::from_shape_vec((2, 4), q).unwrap();
        for v in m.predict(probe.view()).unwrap().iter().chain(m.predict(d.x()).unwrap().iter()) {
            prop_assert!(*v >= lo - 1e-9 && *v <= hi + 1e-9);
        }
        let s: f64 = m.feature_importances().iter().sum();
        prop_assert!((s - 1.0).abs() < 1e-12, "{s}");
    }

    #[test]
    fn missing_values_follow_the_learned_default(seed in any::<u64>(), frac in 0.1f64..0.6) {
        // Missing x0 is strongly associated with class 1: the root's default must send it to
        // the child that predicts 1.
        let mut r = mlship_core::rng::Rng::new(seed);
        let n = 200;
        let mut x = Array2::zeros((n, 1));
        let mut y = vec![0.0; n];
        for i in 0..n {
            if r.bernoulli(frac) {
                x[[i, 0]] = f64::NAN;
                y[i] = 1.0;
            } else {
                x[[i, 0]] = r.normal();
                y[i] = f64::from(x[[i, 0]] > 1.0);
            }
        }
        let d = dataset(x, y, binary(), None);
        let m = tree(r#"{"kind":"decision_tree","max_depth":1}"#, &d);
        let p = m.as_model().predict_proba(array![[f64::NAN], [0.0]].view()).unwrap();
        prop_assert!(p[[0, 1]] > 0.5, "{p:?}");
        prop_assert!(p[[1, 1]] < 0.5, "{p:?}");
        let e = m.as_model().tree_ensemble().unwrap();
        let mut out = [0.0, 0.0];
        e.predict_raw_row(&[f64::NAN], &mut out).unwrap();
        prop_assert_eq!(out[1], p[[0, 1]]);
    }

    #[test]
    fn bytes_round_trip_predicts_identically(seed in any::<u64>(), classes in 0usize..4) {
        let classes = if classes == 1 { 2 } else { classes };
        let d = synthetic(120, 3, classes, seed);
        for kind in ["decision_tree", "random_forest", "extra_trees"] {
            let spec = format!(r#"{{"kind":"{kind}","n_estimators":5}}"#);
            let spec = if kind == "decision_tree" { format!(r#"{{"kind":"{kind}","max_depth":5}}"#) } else { spec };
            let m = tree(&spec, &d);
            let back = FittedModel::from_bytes(&m.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(&back, &m);
            let x = d.x();
            prop_assert_eq!(back.as_model().predict(x.view()).unwrap(), m.as_model().predict(x.view()).unwrap());
        }
    }
}

#[test]
fn flat_predictor_matches_the_core_walker_bit_for_bit() {
    let d = synthetic(300, 5, 3, 11);
    let m = tree(
        r#"{"kind":"random_forest","n_estimators":7,"max_depth":6}"#,
        &d,
    );
    let e = m.as_model().tree_ensemble().unwrap();
    let x = d.x();
    let p = m.as_model().predict_proba(x.view()).unwrap();
    let mut out = [0.0; 3];
    for (i, row) in x.rows().into_iter().enumerate() {
        e.predict_raw_row(row.as_slice().unwrap(), &mut out)
            .unwrap();
        assert_eq!(out.to_vec(), p.row(i).to_vec());
    }
}

#[test]
fn max_leaf_nodes_grows_best_first_to_the_limit() {
    let d = synthetic(400, 4, 0, 5);
    for leaves in [2, 5, 17] {
        let m = tree(
            &format!(r#"{{"kind":"decision_tree","max_leaf_nodes":{leaves}}}"#),
            &d,
        );
        let e = m.as_model().tree_ensemble().unwrap();
        assert_eq!(e.trees()[0].leaf_values.len(), leaves);
    }
}

#[test]
fn weights_and_balanced_class_weights_shift_the_split() {
    // Class 1 is rare; with balanced class weights the tree must predict it on its side.
    let x = array![
        [0.0],
        [1.0],
        [2.0],
        [3.0],
        [4.0],
        [5.0],
        [6.0],
        [7.0],
        [8.0],
        [9.0]
    ];
    let y = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
    let d = dataset(x.clone(), y.clone(), binary(), None);
    let plain = tree(r#"{"kind":"decision_tree","max_depth":1}"#, &d);
    let balanced = tree(
        r#"{"kind":"decision_tree","max_depth":1,"class_weight":"balanced"}"#,
        &d,
    );
    // Both split at 6.5; the right leaf holds classes {1, 0, 1}: 2/3 unweighted, and
    // 2·2.5 / (2·2.5 + 0.625) with balanced weights (0.625 for class 0, 2.5 for class 1).
    let q = array![[9.0]];
    let p = plain.as_model().predict_proba(q.view()).unwrap()[[0, 1]];
    let b = balanced.as_model().predict_proba(q.view()).unwrap()[[0, 1]];
    assert!((p - 2.0 / 3.0).abs() < 1e-12, "{p}");
    assert!((b - 5.0 / 5.625).abs() < 1e-12, "{b}");
    // Zero weights drop rows.
    let w = vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0];
    let d = dataset(x, y, binary(), Some(w));
    let m = tree(r#"{"kind":"decision_tree"}"#, &d);
    assert_eq!(m.as_model().predict(array![[8.0]].view()).unwrap()[0], 1.0);
}

#[test]
fn absolute_error_predicts_medians() {
    let x = array![[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]];
    let y = vec![1.0, 2.0, 100.0, 5.0, 6.0, 7.0];
    let d = dataset(x, y, Task::Regression, None);
    let m = tree(
        r#"{"kind":"decision_tree","criterion":"absolute_error","max_depth":1}"#,
        &d,
    );
    let p = m.as_model().predict(array![[0.0], [1.0]].view()).unwrap();
    assert_eq!(p.to_vec(), vec![2.0, 6.0]);
}

#[test]
fn tiny_and_huge_targets_are_split_alike() {
    // Impurity thresholds are relative: rescaling the target rescales the predictions.
    let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64);
    let y: Vec<f64> = (0..40).map(|i| f64::from(i % 7)).collect();
    let base = tree(
        r#"{"kind":"decision_tree"}"#,
        &dataset(x.clone(), y.clone(), Task::Regression, None),
    );
    let want = base.as_model().predict(x.view()).unwrap();
    for scale in [1e-9, 1e9] {
        let ys: Vec<f64> = y.iter().map(|v| v * scale).collect();
        let m = tree(
            r#"{"kind":"decision_tree"}"#,
            &dataset(x.clone(), ys, Task::Regression, None),
        );
        let got = m.as_model().predict(x.view()).unwrap();
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g / scale - w).abs() < 1e-6, "scale {scale}: {g} vs {w}");
        }
    }
}

#[test]
fn node_covers_add_up_for_tree_shap() {
    let d = synthetic(300, 4, 3, 21);
    let r = synthetic(300, 4, 0, 22);
    for (spec, data) in [
        (r#"{"kind":"decision_tree","max_depth":6}"#, &d),
        (r#"{"kind":"random_forest","n_estimators":4}"#, &d),
        (
            r#"{"kind":"gbdt","n_estimators":4,"min_samples_leaf":5}"#,
            &d,
        ),
        (
            r#"{"kind":"gbdt","n_estimators":4,"min_samples_leaf":5}"#,
            &r,
        ),
    ] {
        let m = tree(spec, data);
        let e = m.as_model().tree_ensemble().unwrap();
        for t in e.trees() {
            assert!(t.nodes[0].cover > 0.0);
            for n in &t.nodes {
                if let mlship_core::tree::NodeKind::Split { left, right, .. } = n.kind {
                    let sum = t.nodes[left as usize].cover + t.nodes[right as usize].cover;
                    assert!(
                        (n.cover - sum).abs() <= 1e-9 * n.cover,
                        "{spec}: {} vs {sum}",
                        n.cover
                    );
                }
            }
        }
    }
}
