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

/// A file of more rows than one slice of `mlship predict` (65,536): the predictions cover every
/// row in order, equal those of the same rows predicted alone, and an error deep in the file
/// names its row counted from the start.
#[test]
fn predict_streams_a_file_larger_than_one_slice() {
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
    let source = std::fs::read_to_string(root_file("examples/data/breast_cancer.csv")).unwrap();
    let mut lines = source.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let n = 140_000;
    let mut big = String::with_capacity(n * 220);
    big.push_str(header);
    big.push('\n');
    for i in 0..n {
        big.push_str(rows[i % rows.len()]);
        big.push('\n');
    }
    let data = dir.path().join("big.csv");
    std::fs::write(&data, &big).unwrap();
    let preds = dir.path().join("big.parquet");
    mlship()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&preds)
        .arg("--proba")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("140000 rows").or(predicate::str::contains("140,000 rows")),
        );
    let csv_out = dir.path().join("big.csv.out.csv");
    mlship()
        .args(["data", "convert"])
        .arg(&preds)
        .arg(&csv_out)
        .assert()
        .success();
    let small = dir.path().join("small.csv");
    mlship()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--out")
        .arg(&small)
        .arg("--proba")
        .assert()
        .success();
    let small = std::fs::read_to_string(&small).unwrap();
    let small: Vec<&str> = small.lines().skip(1).collect();
    let out = std::fs::read_to_string(&csv_out).unwrap();
    let out: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(out.len(), n);
    for i in [0, 1, 65_535, 65_536, 65_537, 131_072, n - 1] {
        assert_eq!(out[i], small[i % small.len()], "row {i}");
    }

    // A value that is not a number, deep in the third slice.
    let bad_row = 135_000;
    let mut fields: Vec<String> = rows[bad_row % rows.len()]
        .split(',')
        .map(str::to_owned)
        .collect();
    fields[0] = "inf".into();
    let mut broken: Vec<String> = big.lines().map(str::to_owned).collect();
    broken[bad_row + 1] = fields.join(",");
    std::fs::write(&data, broken.join("\n") + "\n").unwrap();
    let failed = dir.path().join("failed.csv");
    mlship()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&failed)
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!("row {bad_row}")))
        .stderr(predicate::str::contains("mean radius"));
    assert!(!failed.exists(), "no partial output is left behind");
}
