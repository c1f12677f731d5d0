//! Gradient-boosting properties.

use mlship_core::traits::{FitContext, Progress};
use mlship_core::{Dataset, FeatureInfo, FeatureKind, Task};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::{Array1, Array2, array};
use proptest::prelude::*;
use std::sync::Mutex;

use crate::synthetic;

fn losses(spec: &str, d: &Dataset) -> (FittedModel, Vec<f64>) {
    let seen = Mutex::new(Vec::new());
    let progress = |p: &Progress| {
        assert_eq!(p.stage, "boosting");
        seen.lock().unwrap().push((p.done, p.loss.unwrap()));
    };
    let ctx = FitContext {
        progress: Some(&progress),
        ..FitContext::seeded(5)
    };
    let m = ModelSpec::from_json(spec)
        .unwrap()
        .fit(d.view(), &ctx)
        .unwrap()
        .model;
    let mut s = seen.into_inner().unwrap();
    s.sort_by_key(|p| p.0);
    (m, s.into_iter().map(|p| p.1).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn training_loss_never_increases(
        seed in any::<u64>(),
        lr in 0.05f64..=1.0,
        leaves in 2usize..16,
        classes in 0usize..4,
        loss in 0usize..3,
    ) {
        // Squared error: the Newton step is the exact minimiser per leaf; absolute error: the
        // leaf median is; Huber: a gradient step of a 1-smooth loss. So any learning rate up
        // to 1 decreases the loss. Log-loss is checked at learning rates up to 0.5.
        let classes = if classes == 1 { 2 } else { classes };
        let lr = if classes > 0 { lr.min(0.5) } else { lr };
        let d = synthetic(300, 4, classes, seed);
        let spec = format!(
            r#"{{"kind":"gbdt","n_estimators":15,"learning_rate":{lr},"num_leaves":{leaves},"min_samples_leaf":5{}}}"#,
            match (classes, loss) {
                (0, 1) => r#","loss":"absolute_error""#,
                (0, 2) => r#","loss":"huber","huber_delta":0.5"#,
                _ => "",
            }
        );
        let (_, l) = losses(&spec, &d);
        prop_assert_eq!(l.len(), 15);
        for w in l.windows(2) {
            prop_assert!(w[1] <= w[0] * (1.0 + 1e-12) + 1e-15, "{l:?}");
        }
    }

    #[test]
    fn bytes_round_trip_and_core_view_agree(seed in any::<u64>(), classes in 0usize..4) {
        let classes = if classes == 1 { 2 } else { classes };
        let mut d = synthetic(200, 3, classes, seed);
        // Make some values missing.
        let mut x = d.x().into_owned();
        for i in (0..200).step_by(7) {
            x[[i, 1]] = f64::NAN;
        }
        d = Dataset::new(x, d.features().to_vec(), d.task().clone()).unwrap()
            .with_target(d.y().unwrap().to_owned()).unwrap();
        let m = ModelSpec::from_json(r#"{"kind":"gbdt","n_estimators":8,"min_samples_leaf":5}"#)
            .unwrap().fit(d.view(), &FitContext::seeded(1)).unwrap().model;
        let back = FittedModel::from_bytes(&m.to_bytes().unwrap()).unwrap();
        prop_assert_eq!(&back, &m);
        let x = d.x();
        prop_assert_eq!(back.as_model().predict(x.view()).unwrap(), m.as_model().predict(x.view()).unwrap());
        let FittedModel::Gbdt(t) = &m else { panic!("not gbdt") };
        let raw = t.predict_raw(x.view()).unwrap();
        let e = t.ensemble();
        let mut out = vec![0.0; e.n_outputs()];
        for (i, row) in x.rows().into_iter().enumerate() {
            e.predict_raw_row(row.as_slice().unwrap(), &mut out).unwrap();
            prop_assert_eq!(out.clone(), raw.row(i).to_vec());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn monotone_constraints_hold_everywhere(seed in any::<u64>(), dir in prop::sample::select(vec![1i8, -1]), classes in 0usize..3) {
        let classes = if classes == 1 { 2 } else { classes };
        let d = synthetic(300, 3, classes, seed);
        let spec = format!(
            r#"{{"kind":"gbdt","n_estimators":20,"num_leaves":8,"min_samples_leaf":5,"monotone_constraints":[{dir},0,0]}}"#
        );
        let m = ModelSpec::from_json(&spec).unwrap().fit(d.view(), &FitContext::seeded(2)).unwrap().model;
        let FittedModel::Gbdt(t) = &m else { panic!("not gbdt") };
        // Every class's trees obey the constraint, so every raw output is monotone.
        let mut r = mlship_core::rng::Rng::new(seed ^ 1);
        for _ in 0..5 {
            let (b, c) = (r.normal(), r.normal());
            let grid = Array2::from_shape_fn((41, 3), |(i, j)| match j {
                0 => -3.0 + 0.15 * i as f64,
                1 => b,
                _ => c,
            });
            let raw = t.predict_raw(grid.view()).unwrap();
            for k in 0..raw.ncols() {
                for i in 1..41 {
                    let step = raw[[i, k]] - raw[[i - 1, k]];
                    prop_assert!(f64::from(dir) * step >= -1e-12, "class {k} row {i}: {step}");
                }
            }
        }
    }
}

#[test]
fn learns_binary_and_multiclass_and_regression() {
    for (classes, min) in [(0, 0.8), (2, 0.9), (3, 0.8)] {
        let d = synthetic(2000, 5, classes, 3);
        let test = synthetic(1000, 5, classes, 4);
        let m = ModelSpec::from_json(r#"{"kind":"gbdt","n_estimators":60}"#)
            .unwrap()
            .fit(d.view(), &FitContext::seeded(1))
            .unwrap()
            .model;
        let p = m.as_model().predict(test.x().view()).unwrap();
        let y = test.y().unwrap();
        let score = if classes == 0 {
            let mean = y.mean().unwrap();
            1.0 - (&p - &y).mapv(|v| v * v).sum() / y.mapv(|v| (v - mean).powi(2)).sum()
        } else {
            p.iter().zip(y.iter()).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
        };
        assert!(score > min, "classes {classes}: {score}");
        let FittedModel::Gbdt(t) = &m else {
            panic!("not gbdt")
        };
        let s: f64 = t.feature_importances().iter().sum();
        assert!((s - 1.0).abs() < 1e-12);
        assert!(t.importance_split().iter().sum::<f64>() > 0.0);
        // The useful features (0, 1, 2) outweigh the noise (3, 4).
        let fi = t.feature_importances();
        assert!(fi[0] > fi[3] && fi[0] > fi[4], "{fi:?}");
        if classes == 3 {
            assert_eq!(t.n_trees(), 180);
        }
    }
}

#[test]
fn early_stopping_keeps_the_best_round() {
    let d = synthetic(600, 4, 2, 8);
    let ev = synthetic(300, 4, 2, 9);
    let ctx = FitContext {
        eval_set: Some(ev.view()),
        ..FitContext::seeded(1)
    };
    let out = ModelSpec::from_json(
        r#"{"kind":"gbdt","n_estimators":500,"learning_rate":0.5,"n_iter_no_change":5}"#,
    )
    .unwrap()
    .fit(d.view(), &ctx)
    .unwrap();
    assert!(out.report.iterations < 500, "{:?}", out.report);
    assert!(out.report.warnings[0].contains("early stopping"));
    let FittedModel::Gbdt(t) = &out.model else {
        panic!("not gbdt")
    };
    assert_eq!(t.n_trees(), out.report.iterations);
    // A held-out fraction works too.
    let out = ModelSpec::from_json(
        r#"{"kind":"gbdt","n_estimators":500,"learning_rate":0.5,"validation_fraction":0.2}"#,
    )
    .unwrap()
    .fit(d.view(), &FitContext::seeded(1))
    .unwrap();
    assert!(out.report.iterations < 500);
}

#[test]
fn continued_training_starts_from_the_model() {
    let d = synthetic(500, 4, 0, 2);
    let spec = ModelSpec::from_json(r#"{"kind":"gbdt","n_estimators":10}"#).unwrap();
    let first = spec.fit(d.view(), &FitContext::seeded(1)).unwrap();
    let more = spec
        .fit_warm(d.view(), &FitContext::seeded(1), Some(&first.model))
        .unwrap();
    let twenty = ModelSpec::from_json(r#"{"kind":"gbdt","n_estimators":20}"#)
        .unwrap()
        .fit(d.view(), &FitContext::seeded(1))
        .unwrap();
    let FittedModel::Gbdt(m) = &more.model else {
        panic!("not gbdt")
    };
    assert_eq!(m.n_trees(), 20);
    // Continuing 10 + 10 rounds on the same rows is 20 rounds.
    let a = more.model.as_model().predict(d.x().view()).unwrap();
    let b = twenty.model.as_model().predict(d.x().view()).unwrap();
    for (x, y) in a.iter().zip(b.iter()) {
        assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()), "{x} vs {y}");
    }
    let e = spec
        .fit_warm(
            d.view(),
            &FitContext::seeded(1),
            Some(
                &ModelSpec::from_json(r#"{"kind":"decision_tree"}"#)
                    .unwrap()
                    .fit(d.view(), &FitContext::seeded(1))
                    .unwrap()
                    .model,
            ),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot warm-start"), "{e}");
}

#[test]
fn categorical_splits_group_levels() {
    // Levels 0, 2, 4 have target 1, levels 1, 3 target 0: one categorical split separates them.
    let n = 500;
    let x = Array2::from_shape_fn((n, 1), |(i, _)| (i % 5) as f64);
    let y: Array1<f64> = (0..n).map(|i| f64::from(i % 5 % 2 == 0)).collect();
    let d = Dataset::new(
        x,
        vec![FeatureInfo {
            name: "level".into(),
            kind: FeatureKind::Categorical { n_levels: 5 },
        }],
        Task::Regression,
    )
    .unwrap()
    .with_target(y)
    .unwrap();
    let m = ModelSpec::from_json(
        r#"{"kind":"gbdt","n_estimators":1,"learning_rate":1.0,"num_leaves":2}"#,
    )
    .unwrap()
    .fit(d.view(), &FitContext::seeded(1))
    .unwrap()
    .model;
    let p = m
        .as_model()
        .predict(array![[0.0], [1.0], [2.0], [3.0], [4.0], [f64::NAN], [9.0]].view())
        .unwrap();
    for (c, v) in p.iter().take(5).enumerate() {
        assert!((v - f64::from(c % 2 == 0)).abs() < 1e-9, "{p}");
    }
    let e = m.as_model().tree_ensemble().unwrap();
    assert!(matches!(
        &e.trees()[0].nodes[0].kind,
        mlship_core::tree::NodeKind::Split {
            rule: mlship_core::tree::SplitRule::Categories(_),
            ..
        }
    ));
}
