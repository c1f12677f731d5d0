//! Parity with shap 0.51, scikit-learn 1.9 and Fairlearn 0.15 on the numbers of
//! `tests/fixtures/parity.json` (made by `tests/fixtures/make_parity.py`, which says how).

use mlship_core::traits::{Predictions, RawPredictor};
use mlship_core::tree::TreeEnsemble;
use mlship_core::{ColumnKind, ColumnSpec, RawBatch, RawColumn, Schema, Task};
use mlship_explain::fairness::{FairnessParams, fairness_from_outcomes};
use mlship_explain::importance::permutation_importance_with;
use mlship_explain::{LinearExplainer, TreeExplainer};
use ndarray::Array2;
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("fixtures/parity.json");
    serde_json::from_str(text).expect("the parity fixture is valid JSON")
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().expect("rows").iter().map(vec_f64).collect();
    let m = rows.first().map_or(0, Vec::len);
    Array2::from_shape_vec((rows.len(), m), rows.concat()).expect("a rectangular matrix")
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: mlship {g} vs peer {w}"
        );
    }
}

#[test]
fn linear_shap_matches_shap_linear_explainer() {
    let f = &fixture()["linear"];
    let coef = matrix(&f["coef"]);
    let ex = LinearExplainer::with_background(
        coef.view(),
        &vec_f64(&f["intercept"]),
        matrix(&f["background"]).view(),
    )
    .unwrap();
    let x = matrix(&f["x"]);
    let v = ex.shap_values(x.view()).unwrap();
    assert_close(
        ex.expected_value(),
        &[f["expected_value"].as_f64().unwrap()],
        1e-10,
        "expected value",
    );
    assert_close(
        &v.values,
        matrix(&f["shap_values"]).as_slice().unwrap(),
        1e-10,
        "linear shap",
    );
}

#[test]
fn tree_shap_matches_shap_tree_explainer() {
    let f = &fixture()["tree"];
    let ensemble: TreeEnsemble = serde_json::from_value(f["ensemble"].clone()).unwrap();
    let ex = TreeExplainer::new(&ensemble);
    let x = matrix(&f["x"]);
    let v = ex.shap_values(x.view()).unwrap();
    // The export is faithful: values add up to LightGBM's own raw scores.
    let margin = vec_f64(&f["margin"]);
    for (r, m) in margin.iter().enumerate() {
        assert!((v.output(r, 0) - m).abs() < 1e-9, "row {r}");
    }
    assert_close(
        &v.expected_value,
        &[f["expected_value"].as_f64().unwrap()],
        1e-10,
        "expected value",
    );
    assert_close(
        &v.values,
        matrix(&f["shap_values"]).as_slice().unwrap(),
        1e-9,
        "path-dependent shap",
    );

    let iv = ex.interaction_values(x.view()).unwrap();
    let want: Vec<f64> = f["interaction_values"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| matrix(row).into_raw_vec_and_offset().0)
        .collect();
    assert_close(&iv.values, &want, 1e-9, "interaction values");

    let bg = matrix(&f["background"]);
    let inter = ex.interventional_shap_values(x.view(), bg.view()).unwrap();
    assert_close(
        &inter.expected_value,
        &[f["interventional_expected_value"].as_f64().unwrap()],
        1e-10,
        "interventional expected value",
    );
    // shap's interventional algorithm lands within about 3e-8 of ours; ours is the exact
    // Shapley value of the background-mean game, checked here by all subsets.
    assert_close(
        &inter.values,
        matrix(&f["interventional_values"]).as_slice().unwrap(),
        1e-6,
        "interventional shap",
    );
    let m = x.ncols();
    let game = |row: usize, s: usize| -> f64 {
        let mut out = [0.0];
        let mut total = 0.0;
        for b in bg.rows() {
            let z: Vec<f64> = (0..m)
                .map(|j| if s >> j & 1 == 1 { x[[row, j]] } else { b[j] })
                .collect();
            ensemble.predict_raw_row(&z, &mut out).unwrap();
            total += out[0];
        }
        total / bg.nrows() as f64
    };
    let fact = |n: usize| (1..=n).map(|i| i as f64).product::<f64>();
    for row in 0..x.nrows() {
        let exact: Vec<f64> = (0..m)
            .map(|i| {
                (0..1usize << m)
                    .filter(|s| s >> i & 1 == 0)
                    .map(|s| {
                        let k = s.count_ones() as usize;
                        fact(k) * fact(m - k - 1) / fact(m) * (game(row, s | 1 << i) - game(row, s))
                    })
                    .sum()
            })
            .collect();
        assert_close(
            inter.row(row, 0),
            &exact,
            1e-10,
            "interventional shap vs all subsets",
        );
    }
}

/// The fixture's linear regression on raw numeric columns `x0`, `x1`, `x2`.
#[derive(Debug)]
struct Linear {
    schema: Schema,
    task: Task,
    coef: Vec<f64>,
    intercept: f64,
}

impl RawPredictor for Linear {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn task(&self) -> &Task {
        &self.task
    }
    fn predict(&self, batch: &RawBatch) -> mlship_core::Result<Predictions> {
        let cols: Vec<&[f64]> = batch
            .columns()
            .iter()
            .map(|c| match &c.data {
                mlship_core::ColumnData::Numeric(v) => v.as_slice(),
                _ => &[],
            })
            .collect();
        let values = (0..batch.n_rows())
            .map(|r| {
                self.intercept
                    + self
                        .coef
                        .iter()
                        .zip(&cols)
                        .map(|(w, c)| w * c[r])
                        .sum::<f64>()
            })
            .collect();
        Ok(Predictions {
            values,
            labels: None,
            probabilities: None,
        })
    }
}

#[test]
fn permutation_importance_matches_scikit_learn() {
    let f = &fixture()["permutation"];
    let x = matrix(&f["x"]);
    let y = vec_f64(&f["y"]);
    let names = ["x0", "x1", "x2"];
    let batch = RawBatch::new(
        names
            .iter()
            .enumerate()
            .map(|(j, n)| {
                RawColumn::new(*n, mlship_core::ColumnData::Numeric(x.column(j).to_vec()))
            })
            .collect(),
    )
    .unwrap();
    let model = Linear {
        schema: Schema::new(
            names
                .iter()
                .map(|n| ColumnSpec::new(*n, ColumnKind::Numeric, false))
                .collect(),
        ),
        task: Task::Regression,
        coef: vec_f64(&f["coef"]),
        intercept: f["intercept"].as_f64().unwrap(),
    };
    let mean_y = y.iter().sum::<f64>() / y.len() as f64;
    let ss_tot: f64 = y.iter().map(|v| (v - mean_y).powi(2)).sum();
    let r2 = |p: &Predictions| -> mlship_explain::Result<f64> {
        let ss_res: f64 = p.values.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum();
        Ok(1.0 - ss_res / ss_tot)
    };
    let perms: Vec<Vec<usize>> = f["permutations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect()
        })
        .collect();
    let report =
        permutation_importance_with(&model, &batch, &r2, None, 5, &|_, r| perms[r].clone())
            .unwrap();
    assert_close(
        &[report.baseline],
        &[f["baseline"].as_f64().unwrap()],
        1e-12,
        "baseline",
    );
    let want = matrix(&f["importances"]);
    for (j, imp) in report.importances.iter().enumerate() {
        assert_close(
            &imp.drops,
            want.row(j).as_slice().unwrap(),
            1e-10,
            "importances",
        );
    }
    let means: Vec<f64> = report.importances.iter().map(|i| i.mean).collect();
    let stds: Vec<f64> = report.importances.iter().map(|i| i.std).collect();
    assert_close(&means, &vec_f64(&f["importances_mean"]), 1e-10, "mean");
    assert_close(&stds, &vec_f64(&f["importances_std"]), 1e-10, "std");
}

#[test]
fn fairness_matches_fairlearn() {
    let f = &fixture()["fairness"];
    let truth: Vec<bool> = vec_f64(&f["y_true"]).iter().map(|&v| v == 1.0).collect();
    let pred: Vec<bool> = vec_f64(&f["y_pred"]).iter().map(|&v| v == 1.0).collect();
    let groups: Vec<String> = f["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect();
    let params = FairnessParams {
        n_bootstrap: 50,
        ..FairnessParams::default()
    };
    let r = fairness_from_outcomes("group", &truth, &pred, None, &groups, &params).unwrap();
    for g in &r.groups {
        let want = &f["by_group"][&g.group];
        for (k, v) in &g.metrics {
            assert_close(
                &[*v],
                &[want[k].as_f64().unwrap()],
                1e-12,
                &format!("{} {k}", g.group),
            );
        }
        assert_eq!(g.metrics.len(), 4);
    }
    for (k, v) in &r.overall.metrics {
        assert_close(&[*v], &[f["overall"][k].as_f64().unwrap()], 1e-12, k);
    }
    for k in [
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
    ] {
        let e = &r.gaps[k];
        let value = e.value.unwrap();
        assert_close(&[value], &[f[k].as_f64().unwrap()], 1e-12, k);
        let (lo, hi) = (e.low.unwrap(), e.high.unwrap());
        assert!(lo <= hi, "{k}: interval [{lo}, {hi}]");
    }
}
