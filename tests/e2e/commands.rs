//! The commands on good input: versions, help, profiles, conversions, bundles, completions.

use mlship_e2e::{mlship, root_file};
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn version_and_help() {
    mlship()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("mlship 0."));
    mlship()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Exit status: 0 success, 1 the work failed, 2 bad usage",
        ));
}

#[test]
fn usage_errors_exit_2() {
    mlship()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand"));
    mlship()
        .args(["data", "profile"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<FILE>"));
    mlship()
        .args(["data", "profile", "x.csv", "--separator", "é"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid --separator"));
}

#[test]
fn profile_of_the_penguins_reads_as_a_report() {
    let out = mlship()
        .args(["data", "profile"])
        .arg(root_file("examples/data/penguins.csv"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("344 rows × 8 columns"), "{text}");
    assert!(text.contains("Numeric columns"), "{text}");
    assert!(text.contains("bill_length_mm"), "{text}");
    // `NA` is read as missing: 2 of 344 bill lengths.
    assert!(text.contains("0.58%"), "{text}");
    assert!(text.contains("Adelie 44.2%"), "{text}");
}

#[test]
fn profile_json_matches_known_statistics() {
    let out = mlship()
        .args(["data", "profile", "--json"])
        .arg(root_file("examples/data/penguins.csv"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["rows"], 344);
    let cols = v["columns"].as_array().unwrap();
    let bill = cols.iter().find(|c| c["name"] == "bill_length_mm").unwrap();
    assert_eq!(bill["kind"], "numeric");
    assert_eq!(bill["missing"], 2);
    // pandas: df.bill_length_mm.describe() → mean 43.921930, std 5.459584, min 32.1, max 59.6
    let n = &bill["numeric"];
    assert!((n["mean"].as_f64().unwrap() - 43.921_93).abs() < 1e-4);
    assert!((n["std"].as_f64().unwrap() - 5.459_584).abs() < 1e-5);
    assert_eq!(n["min"], 32.1);
    assert_eq!(n["max"], 59.6);
    let species = cols.iter().find(|c| c["name"] == "species").unwrap();
    assert_eq!(species["kind"], "categorical");
    assert_eq!(species["distinct"], 3);
    assert_eq!(species["levels"]["top"][0]["level"], "Adelie");
    assert_eq!(species["levels"]["top"][0]["count"], 152);
}

#[test]
fn convert_then_profile_parquet_and_arrow_agree_with_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = root_file("examples/data/diabetes.csv");
    let mut stats = Vec::new();
    for ext in ["parquet", "arrow"] {
        let out = dir.path().join(format!("diabetes.{ext}"));
        mlship()
            .args(["data", "convert"])
            .arg(&csv)
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("442 rows × 11 columns"));
        let json = mlship()
            .args(["data", "profile", "--json"])
            .arg(&out)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let v: Value = serde_json::from_slice(&json).unwrap();
        stats.push(v["columns"].clone());
    }
    let json = mlship()
        .args(["data", "profile", "--json"])
        .arg(&csv)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&json).unwrap();
    for s in &stats {
        for (a, b) in s
            .as_array()
            .unwrap()
            .iter()
            .zip(v["columns"].as_array().unwrap())
        {
            assert_eq!(a["name"], b["name"]);
            assert_eq!(a["numeric"], b["numeric"]);
        }
    }
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn inspect_the_golden_envelope() {
    let golden = root_file("tests/fixtures/bundle/envelope-v1.mlship");
    mlship()
        .arg("inspect")
        .arg(&golden)
        .assert()
        .success()
        .stdout(predicate::str::contains("checksum verified"))
        .stdout(predicate::str::contains("Sections"));
    let out = mlship()
        .args(["inspect", "--json"])
        .arg(&golden)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["checksum_verified"], true);
    assert!(!v["sections"].as_array().unwrap().is_empty());
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_mlship()"),
        ("zsh", "#compdef mlship"),
        ("fish", "complete -c mlship"),
    ] {
        mlship()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker));
    }
}

#[test]
fn verbose_says_how_a_file_is_read_and_color_can_be_forced() {
    mlship()
        .args(["data", "profile", "-v"])
        .arg(root_file("examples/data/penguins.csv"))
        .assert()
        .success()
        .stderr(predicate::str::contains("as CSV"))
        .stderr(predicate::str::contains(
            "types inferred from the first 10000 rows",
        ));
    mlship()
        .args(["data", "profile", "--color", "always"])
        .arg(root_file("examples/data/penguins.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("\x1b[1m"));
    mlship()
        .args(["data", "profile", "-q"])
        .arg(root_file("examples/data/penguins.csv"))
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
}
