//! Parity with scikit-learn 1.9.1 on fixtures written by `tests/fixtures/make_linear.py` (see
//! its docstring for the versions and how to regenerate).
//!
//! Tolerances: coefficients 1e-4 relative (relative to the larger of the value and 1e-3 × the
//! largest coefficient), predictions 1e-6 (relative for regression, absolute for
//! probabilities); L1 / elastic-net logistic: objective within 1e-8 relative of saga's,
//! coefficients above 1e-3 in size to 1e-4, and the same zeros.

use mlship_core::traits::{FitContext, Model};
use mlship_core::{Dataset, FeatureInfo, Task};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::Array2;
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/linear.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vec1(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn mat(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(vec1).collect()
}

fn build(section: &Value, rows: usize, weighted: bool, task: Task) -> Dataset {
    let x = mat(&section["x"]);
    let p = x[0].len();
    let flat: Vec<f64> = x.into_iter().take(rows).flatten().collect();
    let names: Vec<FeatureInfo> = section["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| FeatureInfo::numeric(s.as_str().unwrap()))
        .collect();
    let d = Dataset::new(
        Array2::from_shape_vec((rows, p), flat).unwrap(),
        names,
        task,
    )
    .unwrap()
    .with_target(vec1(&section["y"]).into_iter().take(rows).collect())
    .unwrap();
    if weighted {
        d.with_weights(vec1(&section["w"]).into_iter().take(rows).collect())
            .unwrap()
    } else {
        d
    }
}

fn assert_coefs(what: &str, want: &[f64], got: &[f64], tol: f64) {
    assert_eq!(want.len(), got.len(), "{what}");
    let scale = want.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    for (j, (w, g)) in want.iter().zip(got).enumerate() {
        let denom = w.abs().max(1e-3 * scale).max(1e-12);
        assert!(
            (w - g).abs() <= tol * denom,
            "{what}: coefficient {j}: want {w}, got {g} (rel {:e})",
            (w - g).abs() / denom
        );
    }
}

#[test]
fn regression_matches_scikit_learn() {
    let f = fixtures();
    let sec = &f["regression"];
    let n_all = sec["y"].as_array().unwrap().len();
    for case in sec["cases"].as_array().unwrap() {
        let spec = ModelSpec::from_value(case["spec"].clone()).unwrap();
        let rows = case["rows"].as_u64().unwrap() as usize;
        let weighted = case["weighted"].as_bool().unwrap();
        let what = format!("{} weighted={weighted} rows={rows}", case["spec"]);
        let d = build(sec, rows.min(n_all), weighted, Task::Regression);
        let out = spec.fit(d.view(), &FitContext::default()).unwrap();
        let FittedModel::Linear(m) = &out.model else {
            panic!("{what}: not linear")
        };
        assert!(out.report.converged, "{what}: {:?}", out.report);
        assert_coefs(&what, &vec1(&case["coef"]), m.coef(), 1e-4);
        let b = case["intercept"].as_f64().unwrap();
        assert!(
            (m.intercept() - b).abs() <= 1e-4 * b.abs().max(1.0),
            "{what}: intercept {} vs {b}",
            m.intercept()
        );
        let pred = m.predict(d.x()).unwrap();
        for (i, (w, g)) in vec1(&case["pred"]).iter().zip(pred.iter()).enumerate() {
            assert!(
                (w - g).abs() <= 1e-6 * w.abs().max(1.0),
                "{what}: prediction {i}: {w} vs {g}"
            );
        }
        if rows < m.coef().len() && spec.kind() == "linear_regression" {
            assert!(
                out.report.rank.is_some_and(|r| r < m.coef().len()),
                "{what}"
            );
        }
    }
}

#[allow(clippy::too_many_lines, reason = "one walk over the fixture cases")]
fn check_logistic(section: &str) {
    let f = fixtures();
    let sec = &f[section];
    let classes: Vec<String> = sec["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let task = Task::classification(&classes).unwrap();
    let n = sec["y"].as_array().unwrap().len();
    for case in sec["cases"].as_array().unwrap() {
        let spec = ModelSpec::from_value(case["spec"].clone()).unwrap();
        let weighted = case["weighted"].as_bool().unwrap();
        let what = format!("{section} {} weighted={weighted}", case["spec"]);
        let d = build(sec, n, weighted, task.clone());
        let out = spec.fit(d.view(), &FitContext::default()).unwrap();
        let FittedModel::Logistic(m) = &out.model else {
            panic!("{what}: not logistic")
        };
        let want_obj = case["objective"].as_f64().unwrap();
        let got_obj = out.report.objective.unwrap();
        let sparse = case["spec"]
            .get("l1_ratio")
            .is_some_and(|v| v.as_f64().unwrap() > 0.0);
        let want_coef = mat(&case["coef"]);
        let mut want_b = vec1(&case["intercept"]);
        if want_b.len() > 1 {
            let mean = want_b.iter().sum::<f64>() / want_b.len() as f64;
            for b in &mut want_b {
                *b -= mean;
            }
        }
        if sparse {
            // Our objective may only be lower than saga's (it converges at least as far).
            assert!(
                got_obj <= want_obj * (1.0 + 1e-8),
                "{what}: objective {got_obj} vs {want_obj}"
            );
            assert!(
                (got_obj - want_obj).abs() <= 1e-8 * want_obj,
                "{what}: objective {got_obj} vs {want_obj}"
            );
            for (k, row) in want_coef.iter().enumerate() {
                for (j, &w) in row.iter().enumerate() {
                    let g = m.coef()[[k, j]];
                    assert_eq!(
                        w == 0.0,
                        g == 0.0,
                        "{what}: zero pattern at [{k}, {j}]: want {w}, got {g}"
                    );
                    if w.abs() > 1e-3 {
                        assert!(
                            (w - g).abs() <= 1e-4 * w.abs(),
                            "{what}: [{k}, {j}]: want {w}, got {g}; {:?}",
                            out.report
                        );
                    }
                }
            }
            for (k, (w, g)) in want_b.iter().zip(m.intercept()).enumerate() {
                assert!(
                    (w - g).abs() <= 1e-4 * w.abs().max(1e-2),
                    "{what}: intercept {k}: {w} vs {g}"
                );
            }
            continue;
        }
        assert!(out.report.converged, "{what}: {:?}", out.report);
        assert!(
            (got_obj - want_obj).abs() <= 1e-10 * want_obj.max(1.0),
            "{what}: objective {got_obj} vs {want_obj}"
        );
        for (k, row) in want_coef.iter().enumerate() {
            assert_coefs(
                &format!("{what} row {k}"),
                row,
                &m.coef().row(k).to_vec(),
                1e-4,
            );
        }
        assert_coefs(
            &format!("{what} intercepts"),
            &want_b,
            m.intercept().as_slice().unwrap(),
            1e-4,
        );
        let proba = m.predict_proba(d.x()).unwrap();
        let want_p = mat(&case["proba"]);
        for (i, row) in want_p.iter().enumerate() {
            for (k, &w) in row.iter().enumerate() {
                assert!(
                    (proba[[i, k]] - w).abs() <= 1e-6,
                    "{what}: proba [{i}, {k}]: {w} vs {}",
                    proba[[i, k]]
                );
            }
        }
        let pred = m.predict(d.x()).unwrap();
        assert_eq!(
            pred.to_vec(),
            vec1(&case["pred"]),
            "{what}: predicted classes"
        );
    }
}

#[test]
fn binary_logistic_matches_scikit_learn() {
    check_logistic("binary");
}

#[test]
fn multinomial_logistic_matches_scikit_learn() {
    check_logistic("multinomial");
}

#[test]
fn newton_agrees_with_lbfgs_and_threads_do_not_change_the_model() {
    let f = fixtures();
    for section in ["binary", "multinomial"] {
        let sec = &f[section];
        let classes: Vec<String> = sec["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let n = sec["y"].as_array().unwrap().len();
        let d = build(sec, n, true, Task::classification(&classes).unwrap());
        let base = ModelSpec::from_json(
            r#"{"kind": "logistic", "C": 0.3, "tol": 1e-10, "max_iter": 1000}"#,
        )
        .unwrap();
        let lbfgs = base.fit(d.view(), &FitContext::default()).unwrap();
        let newton = ModelSpec::from_json(
            r#"{"kind": "logistic", "C": 0.3, "tol": 1e-10, "solver": "newton"}"#,
        )
        .unwrap()
        .fit(d.view(), &FitContext::default())
        .unwrap();
        assert!(newton.report.converged, "{:?}", newton.report);
        let (FittedModel::Logistic(a), FittedModel::Logistic(b)) = (&lbfgs.model, &newton.model)
        else {
            panic!()
        };
        for (x, y) in a.coef().iter().zip(b.coef().iter()) {
            assert!(
                (x - y).abs() <= 1e-5 * x.abs().max(1e-2),
                "{section}: {x} vs {y}"
            );
        }
        let ctx2 = FitContext {
            threads: 2,
            ..FitContext::default()
        };
        let two = base.fit(d.view(), &ctx2).unwrap();
        assert_eq!(
            lbfgs.model.to_bytes().unwrap(),
            two.model.to_bytes().unwrap(),
            "{section}"
        );
    }
}

#[test]
fn lasso_path_matches_the_single_fits() {
    use mlship_train::linear::enet::LassoParams;
    let f = fixtures();
    let sec = &f["regression"];
    let n = sec["y"].as_array().unwrap().len();
    let d = build(sec, n, false, Task::Regression);
    let est = LassoParams {
        tol: 1e-12,
        max_iter: 1_000_000,
        ..LassoParams::default()
    }
    .validate()
    .unwrap();
    let ctx = FitContext::default();
    // The automatic grid starts where every coefficient is zero (up to rounding at the
    // threshold itself).
    let auto = est.path(d.view(), &ctx, None, 20, 1e-3).unwrap();
    assert_eq!(auto.len(), 20);
    assert!(
        auto[0].model.coef().iter().all(|&c| c.abs() < 1e-9),
        "{:?}",
        auto[0].model
    );
    assert!(auto.windows(2).all(|w| w[1].alpha < w[0].alpha));
    assert!(auto[19].model.coef().iter().filter(|&&c| c != 0.0).count() > 5);
    let path = est.path(d.view(), &ctx, Some(&[1.0, 0.1]), 0, 0.0).unwrap();
    for case in sec["cases"].as_array().unwrap() {
        let spec = &case["spec"];
        if spec["kind"] != "lasso" || case["weighted"].as_bool().unwrap() {
            continue;
        }
        let alpha = spec["alpha"].as_f64().unwrap();
        let point = path.iter().find(|p| p.alpha == alpha).unwrap();
        assert_coefs(
            &format!("path at {alpha}"),
            &vec1(&case["coef"]),
            point.model.coef(),
            1e-4,
        );
    }
}
