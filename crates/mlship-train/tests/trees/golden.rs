//! Golden encodings of tree models (format version 1): each must load and predict exactly
//! what it predicted when it was written, so stored models keep working.
//!
//! Regenerate (only when the format changes on purpose, with a new version) with
//! `MLSHIP_BLESS=1 cargo test --profile ci -p mlship-train --test trees golden`.

use mlship_core::traits::FitContext;
use mlship_train::{FittedModel, ModelSpec};
use ndarray::Array2;
use serde_json::{Value, json};

use crate::synthetic;

const SPECS: [(&str, usize); 6] = [
    (r#"{"kind":"decision_tree","max_depth":4}"#, 3),
    (r#"{"kind":"decision_tree","max_depth":4}"#, 0),
    (
        r#"{"kind":"random_forest","n_estimators":3,"max_depth":3}"#,
        2,
    ),
    (
        r#"{"kind":"extra_trees","n_estimators":3,"max_depth":3}"#,
        0,
    ),
    (
        r#"{"kind":"gbdt","n_estimators":5,"num_leaves":4,"min_samples_leaf":5}"#,
        3,
    ),
    (
        r#"{"kind":"gbdt","n_estimators":5,"num_leaves":4,"min_samples_leaf":5}"#,
        2,
    ),
];

fn probe() -> Array2<f64> {
    Array2::from_shape_fn((12, 3), |(i, j)| {
        if (i + j) % 5 == 0 {
            f64::NAN
        } else {
            (i as f64 - 6.0) / 3.0 + j as f64 * 0.1
        }
    })
}

fn outputs(m: &FittedModel) -> Vec<f64> {
    let x = probe();
    let model = m.as_model();
    if model.task().is_classification() {
        model
            .predict_proba(x.view())
            .unwrap()
            .iter()
            .copied()
            .collect()
    } else {
        model.predict(x.view()).unwrap().to_vec()
    }
}

fn to_hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(2 * b.len()), |mut s, v| {
            let _ = write!(s, "{v:02x}");
            s
        })
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn golden_tree_models_load_and_predict_as_written() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trees_golden_v1.json"
    );
    if std::env::var_os("MLSHIP_BLESS").is_some() {
        let cases: Vec<Value> = SPECS
            .iter()
            .map(|(spec, classes)| {
                let d = synthetic(150, 3, *classes, 77);
                let m = ModelSpec::from_json(spec)
                    .unwrap()
                    .fit(d.view(), &FitContext::seeded(3))
                    .unwrap()
                    .model;
                json!({
                    "spec": spec,
                    "bytes": to_hex(&m.to_bytes().unwrap()),
                    "outputs": outputs(&m),
                })
            })
            .collect();
        let text =
            serde_json::to_string_pretty(&json!({ "format_version": 1, "cases": cases })).unwrap();
        std::fs::write(path, text + "\n").unwrap();
    }
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), SPECS.len());
    for case in cases {
        let m = FittedModel::from_bytes(&from_hex(case["bytes"].as_str().unwrap())).unwrap();
        let want: Vec<f64> = case["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let got = outputs(&m);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                "{}: {g} vs {w}",
                case["spec"]
            );
        }
        // The encoding is stable: re-encoding gives the same bytes.
        assert_eq!(
            to_hex(&m.to_bytes().unwrap()),
            case["bytes"].as_str().unwrap()
        );
    }
}
