//! Quality parity with scikit-learn 1.9.1 on fixtures written by
//! `tests/fixtures/make_trees.py` (see its docstring for the versions and how to regenerate).
//!
//! The same protocol as the script — 5× repeated 5-fold cross-validation of accuracy (breast
//! cancer) or R² (diabetes) — with folds drawn from core's seeded generator (so not the same
//! folds as scikit-learn's): our mean must lie within max(0.01, 2 × scikit-learn's standard
//! error) of scikit-learn's mean.

use mlship_core::rng::Rng;
use mlship_core::traits::FitContext;
use mlship_core::{Dataset, FeatureInfo, Task};
use mlship_train::ModelSpec;
use ndarray::{Array1, Array2};
use serde_json::Value;

fn read_csv(name: &str, target: &str, classification: bool) -> Dataset {
    let path = format!(
        "{}/../../examples/data/{name}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let t = header.iter().position(|h| *h == target).unwrap();
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut n = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        for (j, v) in line.split(',').enumerate() {
            let v: f64 = v.parse().unwrap();
            if j == t {
                y.push(v);
            } else {
                x.push(v);
            }
        }
        n += 1;
    }
    let p = header.len() - 1;
    let features = header
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != t)
        .map(|(_, h)| FeatureInfo::numeric(*h))
        .collect();
    let task = if classification {
        Task::classification(["0", "1"]).unwrap()
    } else {
        Task::Regression
    };
    Dataset::new(Array2::from_shape_vec((n, p), x).unwrap(), features, task)
        .unwrap()
        .with_target(Array1::from(y))
        .unwrap()
}

fn score(classification: bool, y: &[f64], p: &[f64]) -> f64 {
    if classification {
        y.iter().zip(p).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
    } else {
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let ss_tot: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
        let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
        1.0 - ss_res / ss_tot
    }
}

/// Mean and standard error of repeated k-fold scores.
fn cross_validate(
    spec: &ModelSpec,
    d: &Dataset,
    classification: bool,
    repeats: usize,
    folds: usize,
) -> (f64, f64) {
    let n = d.n_rows();
    let y = d.y().unwrap();
    let mut scores = Vec::new();
    for r in 0..repeats {
        let perm = Rng::derive(2024, r as u64).permutation(n);
        for f in 0..folds {
            let (lo, hi) = (f * n / folds, (f + 1) * n / folds);
            let mut train: Vec<usize> = perm[..lo].iter().chain(&perm[hi..]).copied().collect();
            train.sort_unstable();
            let test: Vec<usize> = perm[lo..hi].to_vec();
            let model = spec
                .fit(
                    d.rows(&train).unwrap(),
                    &FitContext::seeded((r * folds + f) as u64),
                )
                .unwrap()
                .model;
            let xt = d.rows(&test).unwrap().x().into_owned();
            let p = model.as_model().predict(xt.view()).unwrap();
            let yt: Vec<f64> = test.iter().map(|&i| y[i]).collect();
            scores.push(score(classification, &yt, p.as_slice().unwrap()));
        }
    }
    let m = scores.iter().sum::<f64>() / scores.len() as f64;
    let var = scores.iter().map(|s| (s - m).powi(2)).sum::<f64>() / (scores.len() - 1) as f64;
    (m, (var / scores.len() as f64).sqrt())
}

#[test]
fn cross_validated_quality_matches_scikit_learn() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trees.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let repeats = f["repeats"].as_u64().unwrap() as usize;
    let folds = f["folds"].as_u64().unwrap() as usize;
    let mut failures = Vec::new();
    for ds in f["datasets"].as_array().unwrap() {
        let classification = ds["classification"].as_bool().unwrap();
        let d = read_csv(
            ds["name"].as_str().unwrap(),
            ds["target"].as_str().unwrap(),
            classification,
        );
        for case in ds["cases"].as_array().unwrap() {
            let spec = ModelSpec::from_value(case["spec"].clone()).unwrap();
            let (want, se) = (case["mean"].as_f64().unwrap(), case["se"].as_f64().unwrap());
            let (got, our_se) = cross_validate(&spec, &d, classification, repeats, folds);
            let tol = (2.0 * se).max(0.01);
            let line = format!(
                "{} {}: ours {got:.4} ± {our_se:.4}, {} {want:.4} ± {se:.4} (tolerance {tol:.4})",
                ds["name"], case["spec"], case["peer"]
            );
            eprintln!("{line}");
            if (got - want).abs() > tol {
                failures.push(line);
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
