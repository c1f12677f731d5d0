//! Property tests: finite predictions, row-order invariance, SGD progress, encoding round trips.

use std::sync::Mutex;

use mlship_core::Task;
use mlship_core::rng::Rng;
use mlship_core::traits::{FitContext, Progress};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::Array2;
use proptest::prelude::*;

use crate::dataset;

/// `n × p` standard normal features from `seed`, and a target from a random linear model.
fn linear_data(seed: u64, n: usize, p: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let beta: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..p).map(|_| rng.normal()).collect())
        .collect();
    let y = x
        .iter()
        .map(|r| r.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>() + 0.1 * rng.normal())
        .collect();
    (x, y)
}

fn classes_from(y: &[f64]) -> Vec<f64> {
    y.iter().map(|&v| if v > 0.0 { 1.0 } else { 0.0 }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn predictions_are_finite_for_finite_input(seed in 0u64..1000, n in 5usize..60, p in 1usize..6,
                                               scale in 1e-3f64..1e3) {
        let (x, y) = linear_data(seed, n, p);
        let mut yc = classes_from(&y);
        yc[0] = 0.0;
        yc[1] = 1.0;
        let reg = dataset(x.clone(), y, Task::Regression, None);
        let clf = dataset(x, yc, Task::classification(["a", "b"]).unwrap(), None);
        let mut rng = Rng::new(seed ^ 7);
        let probe = Array2::from_shape_fn((17, p), |_| rng.normal() * scale);
        for text in [r#"{"kind":"linear_regression"}"#, r#"{"kind":"ridge","alpha":0.1}"#,
                     r#"{"kind":"lasso","alpha":0.01}"#, r#"{"kind":"elastic_net","alpha":0.01}"#] {
            let m = ModelSpec::from_json(text).unwrap().fit(reg.view(), &FitContext::default()).unwrap();
            let pred = m.model.as_model().predict(probe.view()).unwrap();
            prop_assert!(pred.iter().all(|v| v.is_finite()), "{}", text);
        }
        for text in [r#"{"kind":"logistic"}"#, r#"{"kind":"logistic","l1_ratio":0.5}"#,
                     r#"{"kind":"logistic","solver":"sgd","max_iter":5}"#] {
            let m = ModelSpec::from_json(text).unwrap().fit(clf.view(), &FitContext::default()).unwrap();
            let proba = m.model.as_model().predict_proba(probe.view()).unwrap();
            prop_assert!(proba.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)), "{}", text);
            for row in proba.rows() {
                prop_assert!((row.sum() - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn closed_form_fits_ignore_row_order(seed in 0u64..1000, n in 8usize..80, p in 1usize..6) {
        let (x, y) = linear_data(seed, n, p);
        let perm = Rng::new(seed + 1).permutation(n);
        let xp: Vec<Vec<f64>> = perm.iter().map(|&i| x[i].clone()).collect();
        let yp: Vec<f64> = perm.iter().map(|&i| y[i]).collect();
        let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let wp: Vec<f64> = perm.iter().map(|&i| w[i]).collect();
        let a = dataset(x, y, Task::Regression, Some(w));
        let b = dataset(xp, yp, Task::Regression, Some(wp));
        for text in [r#"{"kind":"linear_regression"}"#, r#"{"kind":"ridge","alpha":2.0}"#] {
            let spec = ModelSpec::from_json(text).unwrap();
            let (FittedModel::Linear(ma), FittedModel::Linear(mb)) = (
                spec.fit(a.view(), &FitContext::default()).unwrap().model,
                spec.fit(b.view(), &FitContext::default()).unwrap().model,
            ) else { panic!() };
            for (u, v) in ma.coef().iter().zip(mb.coef()) {
                prop_assert!((u - v).abs() <= 1e-9 * u.abs().max(1.0), "{}: {} vs {}", text, u, v);
            }
            prop_assert!((ma.intercept() - mb.intercept()).abs() <= 1e-9 * ma.intercept().abs().max(1.0));
        }
    }

    #[test]
    fn encoding_round_trips_to_identical_predictions(seed in 0u64..1000, n in 10usize..60, p in 1usize..5) {
        let (x, y) = linear_data(seed, n, p);
        let mut rng = Rng::new(seed);
        let yk: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
        let reg = dataset(x.clone(), y, Task::Regression, None);
        let clf = dataset(x, yk, Task::classification(["x", "y", "z"]).unwrap(), None);
        let probe = Array2::from_shape_fn((9, p), |_| rng.normal());
        for (text, d) in [(r#"{"kind":"ridge"}"#, &reg), (r#"{"kind":"logistic","C":0.5}"#, &clf)] {
            let m = ModelSpec::from_json(text).unwrap().fit(d.view(), &FitContext::default()).unwrap().model;
            let back = FittedModel::from_bytes(&m.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(&back, &m);
            prop_assert_eq!(back.as_model().predict(probe.view()).unwrap(), m.as_model().predict(probe.view()).unwrap());
            if d.task().is_classification() {
                prop_assert_eq!(back.as_model().predict_proba(probe.view()).unwrap(),
                                m.as_model().predict_proba(probe.view()).unwrap());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn sgd_loss_decreases_on_separable_data(seed in 0u64..1000, momentum in 0.0f64..0.9) {
        // Two well-separated clusters.
        let mut rng = Rng::new(seed);
        let n = 200;
        let x: Vec<Vec<f64>> = (0..n).map(|i| {
            let c = if i % 2 == 0 { 2.0 } else { -2.0 };
            vec![c + 0.5 * rng.normal(), c + 0.5 * rng.normal()]
        }).collect();
        let y: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let d = dataset(x, y, Task::classification(["0", "1"]).unwrap(), None);
        let losses = Mutex::new(Vec::new());
        let cb = |p: &Progress| losses.lock().unwrap().push(p.loss.unwrap());
        let ctx = FitContext { progress: Some(&cb), seed, ..FitContext::default() };
        let text = format!(r#"{{"kind":"logistic","solver":"sgd","max_iter":20,"momentum":{momentum},"learning_rate":0.05,"batch_size":16,"tol":0}}"#);
        let out = ModelSpec::from_json(&text).unwrap().fit(d.view(), &ctx).unwrap();
        let losses = losses.into_inner().unwrap();
        prop_assert!(!losses.is_empty());
        // The objective after every epoch is below the starting log(2), and the last epoch
        // ends below the worst one (momentum may overshoot for an epoch or two first).
        prop_assert!(losses.iter().all(|&l| l < std::f64::consts::LN_2), "{:?}", losses);
        let worst = losses.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(*losses.last().unwrap() < worst || losses.len() == 1, "{:?}", losses);
        let acc = out.model.as_model().predict(d.x().view()).unwrap().iter().zip(d.y().unwrap().iter()).filter(|(a, b)| a == b).count();
        prop_assert!(acc >= 195, "accuracy {acc}/200");
    }
}
