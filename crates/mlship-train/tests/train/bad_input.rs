//! Bad input: non-finite features, one class, wide data, invalid parameters, corrupt bytes;
//! warm starts and the parameter-set path.

use mlship_core::params::ParamSet;
use mlship_core::traits::{FitContext, Model};
use mlship_core::{Dataset, FeatureInfo, Task};
use mlship_train::{FittedModel, LinearModel, ModelSpec, TrainError};
use ndarray::{Array1, array};

use crate::dataset;

fn named(x: ndarray::Array2<f64>, y: Array1<f64>, task: Task) -> Dataset {
    let features = (0..x.ncols())
        .map(|j| FeatureInfo::numeric(["age", "bmi", "bp"][j]))
        .collect();
    Dataset::new(x, features, task)
        .unwrap()
        .with_target(y)
        .unwrap()
}

#[test]
fn non_finite_features_are_refused_naming_column_and_row() {
    for bad in [f64::NAN, f64::INFINITY] {
        let d = named(
            array![[1.0, 2.0], [3.0, bad], [5.0, 6.0]],
            array![0.0, 1.0, 1.0],
            Task::classification(["n", "y"]).unwrap(),
        );
        for text in [
            r#"{"kind":"logistic"}"#,
            r#"{"kind":"ridge"}"#,
            r#"{"kind":"lasso"}"#,
        ] {
            let mut d = d.clone();
            if text.contains("ridge") || text.contains("lasso") {
                d = named(d.x().to_owned(), array![0.0, 1.0, 1.0], Task::Regression);
            }
            let e = ModelSpec::from_json(text)
                .unwrap()
                .fit(d.view(), &FitContext::default())
                .unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, TrainError::NonFinite { row: 1, .. }), "{msg}");
            assert!(msg.contains("feature \"bmi\" row 1"), "{msg}");
            assert!(msg.contains("imputation is the pipeline's job"), "{msg}");
        }
    }
    // Through core's trait the error is core's InvalidData.
    let d = named(
        array![[1.0], [f64::NAN]],
        array![1.0, 2.0],
        Task::Regression,
    );
    let est = ModelSpec::from_json(r#"{"kind":"linear_regression"}"#)
        .unwrap()
        .estimator()
        .unwrap();
    let e = est.fit(d.view(), &FitContext::default()).unwrap_err();
    assert!(matches!(e, mlship_core::Error::InvalidData(_)), "{e}");
    // Prediction on non-finite input names the column and row.
    let m = LinearModel::new(vec![1.0, 2.0], 0.5).unwrap();
    let e = m
        .predict(array![[1.0, 2.0], [f64::NAN, 1.0]].view())
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 0 row 1"), "{e}");
}

#[test]
fn a_target_with_one_class_is_refused() {
    let d = named(
        array![[1.0], [2.0], [3.0]],
        array![1.0, 1.0, 1.0],
        Task::classification(["no", "yes"]).unwrap(),
    );
    let e = ModelSpec::from_json(r#"{"kind":"logistic"}"#)
        .unwrap()
        .fit(d.view(), &FitContext::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("only one class (\"yes\")"), "{e}");
    let e = ModelSpec::from_json(r#"{"kind":"ridge"}"#)
        .unwrap()
        .fit(d.view(), &FitContext::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("use kind = \"logistic\""), "{e}");
}

#[test]
fn more_features_than_rows() {
    let d = dataset(
        vec![
            vec![1.0, 2.0, 0.5, 1.0],
            vec![0.0, 1.0, 2.0, 3.0],
            vec![2.0, 0.0, 1.0, 1.0],
        ],
        vec![1.0, 2.0, 3.0],
        Task::Regression,
        None,
    );
    let ridge = ModelSpec::from_json(r#"{"kind":"ridge","alpha":0.1}"#)
        .unwrap()
        .fit(d.view(), &FitContext::default())
        .unwrap();
    assert!(ridge.report.warnings.is_empty() && ridge.report.converged);
    let ols = ModelSpec::from_json(r#"{"kind":"linear_regression"}"#)
        .unwrap()
        .fit(d.view(), &FitContext::default())
        .unwrap();
    assert_eq!(ols.report.rank, Some(2));
    assert!(
        ols.report.warnings[0].contains("minimum-norm solution"),
        "{:?}",
        ols.report
    );
    // The minimum-norm solution interpolates the rows.
    let pred = ols.model.as_model().predict(d.x().view()).unwrap();
    for (p, y) in pred.iter().zip([1.0, 2.0, 3.0]) {
        assert!((p - y).abs() < 1e-9);
    }
}

#[test]
fn invalid_parameters_from_text_are_named() {
    let e = ModelSpec::from_json(r#"{"kind":"elastic_net","l1_ratio":1.3}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid l1_ratio = 1.3: expected a value in [0, 1]"
    );
    let e = ModelSpec::from_json(r#"{"kind":"logistic","C":0}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid C = 0: expected a number > 0 (or inf for no penalty)"
    );
    let e = ModelSpec::from_json(r#"{"kind":"logistic","c":1}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `c`"), "{e}");
    let e = ModelSpec::from_json(r#"{"kind":"logistic","penalty":"l1","solver":"newton"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid solver = newton"), "{e}");
    let e = ModelSpec::from_json(r#"{"kind":"forest"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variant `forest`"), "{e}");
    let e = ModelSpec::from_json(
        r#"{"kind":"logistic","solver":"sgd","schedule":{"kind":"exponential","decay":2}}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid schedule.decay = 2: expected a value in [0, 1]"
    );
}

#[test]
fn param_sets_build_specs() {
    let set = ParamSet::new()
        .with("C", 0.5)
        .with("penalty", "l1")
        .with("max_iter", 50i64);
    let spec = ModelSpec::from_params("logistic", &set).unwrap();
    let ModelSpec::Logistic(p) = &spec else {
        panic!()
    };
    assert_eq!((p.c, p.max_iter), (0.5, 50));
    let base = ModelSpec::from_json(r#"{"kind":"ridge","alpha":3}"#).unwrap();
    let tuned = base
        .with_params(&ParamSet::new().with("fit_intercept", false))
        .unwrap();
    let ModelSpec::Ridge(r) = &tuned else {
        panic!()
    };
    assert_eq!((r.alpha, r.fit_intercept), (3.0, false));
    let e = ModelSpec::from_params("lasso", &ParamSet::new().with("alpha", -1.0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid alpha = -1: expected a finite number >= 0"
    );
    assert!(spec.estimator().is_ok());
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(ModelSpec::from_json(&json).unwrap(), spec);
}

#[test]
fn corrupt_bytes_are_refused() {
    let m = FittedModel::from(LinearModel::new(vec![1.0, -2.0], 0.5).unwrap());
    let bytes = m.to_bytes().unwrap();
    assert_eq!(FittedModel::from_bytes(&bytes).unwrap(), m);
    assert!(FittedModel::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(
        FittedModel::from_bytes(&extra)
            .unwrap_err()
            .to_string()
            .contains("trailing")
    );
    let mut future = bytes.clone();
    future[0] = 9;
    assert!(
        FittedModel::from_bytes(&future)
            .unwrap_err()
            .to_string()
            .contains("format version 9")
    );
    // A NaN coefficient written by hand is refused.
    let mut nan = bytes.clone();
    let pos = nan
        .windows(8)
        .position(|w| w == 1.0f64.to_le_bytes())
        .unwrap();
    nan[pos..pos + 8].copy_from_slice(&f64::NAN.to_le_bytes());
    assert!(
        FittedModel::from_bytes(&nan)
            .unwrap_err()
            .to_string()
            .contains("coefficient 0 is NaN")
    );
}

#[test]
fn warm_starts_continue_from_a_fitted_model() {
    let mut rng = mlship_core::rng::Rng::new(3);
    let n = 400;
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..3).map(|_| rng.normal()).collect())
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|r| {
            if r[0] - r[1] + 0.5 * rng.normal() > 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let d = dataset(
        x.clone(),
        y.clone(),
        Task::classification(["0", "1"]).unwrap(),
        None,
    );
    let first: Vec<usize> = (0..n / 2).collect();
    let ctx = FitContext::default();
    for text in [
        r#"{"kind":"logistic","tol":1e-8}"#,
        r#"{"kind":"logistic","tol":1e-8,"l1_ratio":0.5}"#,
        r#"{"kind":"logistic","tol":1e-8,"solver":"newton"}"#,
    ] {
        let spec = ModelSpec::from_json(text).unwrap();
        let half = spec.fit(d.rows(&first).unwrap(), &ctx).unwrap();
        let cold = spec.fit(d.view(), &ctx).unwrap();
        let warm = spec.fit_warm(d.view(), &ctx, Some(&half.model)).unwrap();
        assert!(
            warm.report.iterations <= cold.report.iterations,
            "{text}: {} vs {}",
            warm.report.iterations,
            cold.report.iterations
        );
        let (FittedModel::Logistic(a), FittedModel::Logistic(b)) = (&cold.model, &warm.model)
        else {
            panic!()
        };
        for (u, v) in a.coef().iter().zip(b.coef().iter()) {
            assert!((u - v).abs() < 1e-5, "{text}: {u} vs {v}");
        }
        // Restarting from the solution takes (almost) no iterations.
        let again = spec.fit_warm(d.view(), &ctx, Some(&cold.model)).unwrap();
        assert!(again.report.iterations <= 2, "{text}: {:?}", again.report);
    }
    let reg = dataset(x, y, Task::Regression, None);
    let lasso = ModelSpec::from_json(r#"{"kind":"lasso","alpha":0.01,"tol":1e-10}"#).unwrap();
    let cold = lasso.fit(reg.view(), &ctx).unwrap();
    let again = lasso.fit_warm(reg.view(), &ctx, Some(&cold.model)).unwrap();
    assert!(again.report.iterations < cold.report.iterations);
    // A model of the wrong family cannot warm-start.
    let e = ModelSpec::from_json(r#"{"kind":"logistic"}"#)
        .unwrap()
        .fit_warm(d.view(), &ctx, Some(&cold.model))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("a linear model cannot warm-start a logistic fit"),
        "{e}"
    );
}

#[test]
fn non_convergence_is_reported_not_silent() {
    let mut rng = mlship_core::rng::Rng::new(5);
    let x: Vec<Vec<f64>> = (0..100)
        .map(|_| (0..4).map(|_| rng.normal() * 10.0).collect())
        .collect();
    let y: Vec<f64> = (0..100).map(|i| (i % 2) as f64).collect();
    let d = dataset(x, y, Task::classification(["a", "b"]).unwrap(), None);
    let out = ModelSpec::from_json(r#"{"kind":"logistic","max_iter":1,"tol":1e-12}"#)
        .unwrap()
        .fit(d.view(), &FitContext::default())
        .unwrap();
    assert!(!out.report.converged);
    assert!(
        out.report.warnings[0].contains("did not converge in 1 iterations"),
        "{:?}",
        out.report
    );
    assert_eq!(out.report.iterations, 1);
}

#[test]
fn sgd_early_stopping_uses_held_out_rows_or_the_eval_set() {
    let mut rng = mlship_core::rng::Rng::new(11);
    let n = 600;
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..3).map(|_| rng.normal()).collect())
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|r| f64::from(u8::from(r[0] + r[2] + 0.3 * rng.normal() > 0.0)))
        .collect();
    let task = Task::classification(["0", "1"]).unwrap();
    let d = dataset(x.clone(), y.clone(), task.clone(), None);
    let text = r#"{"kind":"logistic","solver":"sgd","early_stopping":true,"max_iter":500,"n_iter_no_change":3,"tol":1e-4,"schedule":{"kind":"cosine","t_max":50,"lr_min":0.001},"momentum":0.5}"#;
    let spec = ModelSpec::from_json(text).unwrap();
    let ctx = FitContext::seeded(4);
    let held = spec.fit(d.view(), &ctx).unwrap();
    assert!(held.report.converged, "{:?}", held.report);
    assert!(held.report.iterations < 500);
    // Same seed, same model.
    assert_eq!(held.model, spec.fit(d.view(), &ctx).unwrap().model);
    let eval = dataset(x[..100].to_vec(), y[..100].to_vec(), task, None);
    let ctx = FitContext {
        eval_set: Some(eval.view()),
        ..FitContext::seeded(4)
    };
    let with_eval = spec.fit(d.view(), &ctx).unwrap();
    assert!(with_eval.report.converged, "{:?}", with_eval.report);
    let acc = with_eval
        .model
        .as_model()
        .predict(d.x().view())
        .unwrap()
        .iter()
        .zip(&y)
        .filter(|(a, b)| a == b)
        .count();
    assert!(acc > 540, "accuracy {acc}/600");
}

#[test]
fn thread_count_does_not_change_the_model_across_many_blocks() {
    // 5,000 rows span three blocks of the loss reduction.
    let mut rng = mlship_core::rng::Rng::new(21);
    let n = 5000;
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..4).map(|_| rng.normal()).collect())
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|r| (r[0] - r[1] + 0.5 * rng.normal()).round().clamp(-1.0, 1.0) + 1.0)
        .collect();
    let d = dataset(x, y, Task::classification(["a", "b", "c"]).unwrap(), None);
    for text in [
        r#"{"kind":"logistic","tol":1e-8}"#,
        r#"{"kind":"logistic","tol":1e-8,"l1_ratio":0.3,"C":0.2}"#,
    ] {
        let spec = ModelSpec::from_json(text).unwrap();
        let one = spec.fit(d.view(), &FitContext::default()).unwrap();
        for threads in [2, 3] {
            let ctx = FitContext {
                threads,
                ..FitContext::default()
            };
            let many = spec.fit(d.view(), &ctx).unwrap();
            assert_eq!(
                one.model.to_bytes().unwrap(),
                many.model.to_bytes().unwrap(),
                "{text} with {threads} threads"
            );
            assert_eq!(one.report.iterations, many.report.iterations);
        }
    }
}
