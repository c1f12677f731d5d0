//! `mlship train` and `mlship predict` on the bundled examples, as docs/estimators.md shows them.

use mlship_e2e::{mlship, root_file};
use predicates::prelude::*;

#[test]
fn train_then_predict_on_breast_cancer() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bc.mlship");
    let out = mlship()
        .args(["train", "--data"])
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/breast_cancer.toml"))
        .args(["--estimator", "logistic", "--set", "C=0.5", "--out"])
        .arg(&model)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(s["task"], "binary");
    assert_eq!(s["rows"], 569);
    assert!(s["metrics"]["accuracy"].as_f64().unwrap() > 0.95, "{s}");
    assert!(s["metrics"]["roc_auc"].as_f64().unwrap() > 0.99, "{s}");
    assert_eq!(s["model"]["C"], 0.5);

    let preds = dir.path().join("preds.csv");
    mlship()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--out")
        .arg(&preds)
        .arg("--proba")
        .assert()
        .success()
        .stdout(predicate::str::contains("569 rows"));
    let text = std::fs::read_to_string(&preds).unwrap();
    assert_eq!(text.lines().next().unwrap(), "prediction,proba_0,proba_1");
    assert_eq!(text.lines().count(), 570);

    // The manifest carries lineage and metrics.
    mlship()
        .arg("inspect")
        .arg(&model)
        .arg("--json")
        .assert()
        .success()
        .stdout(predicate::str::contains("data_fingerprint"))
        .stdout(predicate::str::contains("roc_auc"));
}

#[test]
fn train_behind_a_fitted_pipeline_on_penguins() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("p.mlship");
    mlship()
        .args(["preprocess", "fit", "--data"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/penguins.toml"))
        .arg("--out")
        .arg(&pipeline)
        .assert()
        .success();
    let model = dir.path().join("m.mlship");
    mlship()
        .args(["train", "--data"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--pipeline")
        .arg(&pipeline)
        .args(["--estimator", "logistic", "--out"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("multiclass"));
    let preds = dir.path().join("p.parquet");
    mlship()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--out")
        .arg(&preds)
        .assert()
        .success();
    // A pipeline bundle is not a model.
    mlship()
        .args(["predict", "--model"])
        .arg(&pipeline)
        .arg("--data")
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--out")
        .arg(dir.path().join("x.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a model"));
}

#[test]
fn invalid_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (set, expected) in [
        ("C=-1", "C"),
        ("penalty=l3", "l3"),
        ("nonsense=1", "nonsense"),
    ] {
        mlship()
            .args(["train", "--target", "target", "--data"])
            .arg(root_file("examples/data/breast_cancer.csv"))
            .args(["--estimator", "logistic", "--set", set, "--out"])
            .arg(dir.path().join("m.mlship"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    mlship()
        .args(["train", "--target", "target", "--data"])
        .arg(root_file("examples/data/breast_cancer.csv"))
        .args(["--estimator", "forest_of_doom", "--out"])
        .arg(dir.path().join("m.mlship"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("logistic"));
    assert!(!dir.path().join("m.mlship").exists());
}

#[test]
fn predict_through_a_registry_uri() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bc.mlship");
    mlship()
        .args(["train", "--data"])
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/breast_cancer.toml"))
        .args(["--estimator", "logistic", "--out"])
        .arg(&model)
        .assert()
        .success();
    let registry = dir.path().join("registry.db");
    mlship()
        .arg("register")
        .arg(&model)
        .args(["--name", "bc", "--registry"])
        .arg(&registry)
        .assert()
        .success();
    for uri in ["bc@latest", "bc/1"] {
        mlship()
            .args(["predict", "--model", uri, "--registry"])
            .arg(&registry)
            .arg("--data")
            .arg(root_file("examples/data/breast_cancer.csv"))
            .arg("--out")
            .arg(dir.path().join("p.csv"))
            .assert()
            .success()
            .stdout(predicate::str::contains("569 rows"));
    }
    mlship()
        .args(["predict", "--model", "bc@production", "--registry"])
        .arg(&registry)
        .arg("--data")
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--out")
        .arg(dir.path().join("p.csv"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("production"));
}
