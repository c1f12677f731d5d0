//! `mlship preprocess fit | apply` and `mlship data split` on the bundled examples, as the docs
//! show them.

use mlship_e2e::{mlship, root_file};
use predicates::prelude::*;
use serde_json::Value;

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

#[test]
fn fit_then_apply_on_the_penguins() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("penguins.pipeline.mlship");
    let out = mlship()
        .args(["preprocess", "fit", "--data"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/penguins.toml"))
        .arg("--out")
        .arg(&bundle)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary = json(&out);
    assert_eq!(summary["task"], "multiclass");
    assert_eq!(
        summary["classes"],
        serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
    );
    let features: Vec<&str> = summary["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for f in [
        "island=Biscoe",
        "island=Dream",
        "bill_length_mm",
        "sex=female",
        "year=2007",
        "bill_ratio",
        "log_mass",
    ] {
        assert!(features.contains(&f), "{f} not in {features:?}");
    }
    assert_eq!(summary["clean"]["rows_in"], 344);

    // The human report says the same.
    mlship()
        .args(["preprocess", "fit", "--data"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/penguins.toml"))
        .arg("--out")
        .arg(&bundle)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "target species: multiclass, classes Adelie, Chinstrap, Gentoo",
        ))
        .stdout(predicate::str::contains("island=Dream"));

    mlship()
        .arg("inspect")
        .arg(&bundle)
        .assert()
        .success()
        .stdout(predicate::str::contains("pipeline"));

    let features_csv = dir.path().join("features.csv");
    mlship()
        .args(["preprocess", "apply", "--pipeline"])
        .arg(&bundle)
        .arg("--data")
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--out")
        .arg(&features_csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("344 rows"));
    let text = std::fs::read_to_string(&features_csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("island=Biscoe,"), "{header}");
    assert!(header.ends_with(",species"), "{header}");
    assert_eq!(text.lines().count(), 345);
}

#[test]
fn apply_names_the_column_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("p.mlship");
    mlship()
        .args(["preprocess", "fit", "--target", "species", "--data"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--out")
        .arg(&bundle)
        .assert()
        .success();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "island,bill_length_mm,bill_depth_mm,flipper_length_mm,sex,year\nDream,40,18,190,male,2008\n").unwrap();
    mlship()
        .args(["preprocess", "apply", "--pipeline"])
        .arg(&bundle)
        .arg("--data")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("out.csv"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("body_mass_g"));
    let wrong = dir.path().join("wrong.csv");
    std::fs::write(
        &wrong,
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\nDream,40,18,190,heavy,male,2008\n",
    )
    .unwrap();
    mlship()
        .args(["preprocess", "apply", "--pipeline"])
        .arg(&bundle)
        .arg("--data")
        .arg(&wrong)
        .arg("--out")
        .arg(dir.path().join("out.csv"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("body_mass_g"));
    assert!(!dir.path().join("out.csv").exists());
}

#[test]
fn bad_specs_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.toml");
    for (text, expected) in [
        ("[scale]\nmethdo = \"robust\"\n", "methdo"),
        ("[features]\nx = \"bill_length_mm +* 2\"\n", "features.x"),
        ("[features]\nx = \"ln(wingspan)\"\n", "wingspan"),
        (
            "[select]\nexclude = [\"nothing_like_this\"]\n",
            "matches no column",
        ),
    ] {
        std::fs::write(&spec, text).unwrap();
        mlship()
            .args(["preprocess", "fit", "--target", "species", "--data"])
            .arg(root_file("examples/data/penguins.csv"))
            .arg("--spec")
            .arg(&spec)
            .arg("--out")
            .arg(dir.path().join("p.mlship"))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(expected));
    }
    assert!(!dir.path().join("p.mlship").exists());
}

#[test]
fn every_example_spec_fits() {
    let dir = tempfile::tempdir().unwrap();
    for (data, spec) in [
        ("penguins.csv", "penguins.toml"),
        ("breast_cancer.csv", "breast_cancer.toml"),
        ("diabetes.csv", "diabetes.toml"),
    ] {
        mlship()
            .args(["preprocess", "fit", "--data"])
            .arg(root_file(&format!("examples/data/{data}")))
            .arg("--spec")
            .arg(root_file(&format!("examples/pipelines/{spec}")))
            .arg("--out")
            .arg(dir.path().join(format!("{spec}.mlship")))
            .assert()
            .success();
    }
}

#[test]
fn split_writes_disjoint_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = mlship()
        .args(["data", "split"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--out-dir")
        .arg(dir.path())
        .args([
            "--method",
            "stratified",
            "--by",
            "species",
            "--validation",
            "0.1",
            "--seed",
            "7",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s = json(&out);
    let rows = |k: &str| s["files"][k][1].as_u64().unwrap();
    assert_eq!(rows("train") + rows("validation") + rows("test"), 344);
    assert_eq!(rows("test"), 69); // ceil(0.2 × 344)
    let test = std::fs::read_to_string(dir.path().join("test.csv")).unwrap();
    assert_eq!(test.lines().count(), 70);
    mlship()
        .args(["data", "split"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--out-dir")
        .arg(dir.path())
        .args(["--method", "group"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--by"));
}
