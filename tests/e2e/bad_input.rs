//! Bad input: every case gives a clear error naming what is at fault and exit status 1 —
//! never a panic — or, for NaN and infinities in a profile, a documented result.

use std::io::Write;
use std::path::Path;

use mlship_e2e::{mlship, root_file};
use predicates::prelude::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs `mlship data profile FILE` and checks it fails with status 1 and a message holding `needle`.
fn profile_fails(file: &Path, needle: &str) {
    let out = mlship()
        .args(["data", "profile"])
        .arg(file)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file() {
    profile_fails(
        Path::new("no/such/file.csv"),
        "no/such/file.csv: no such file",
    );
}

#[test]
fn directory_instead_of_file() {
    let dir = tempfile::tempdir().unwrap();
    profile_fails(dir.path(), "is a directory, not a data file");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "empty.csv", b"");
    profile_fails(&p, "empty.csv is empty (0 bytes)");
}

#[test]
fn header_only_csv() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "header.csv", b"a,b,c\n");
    profile_fails(&p, "has a header but no data rows");
}

#[test]
fn ragged_rows_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ragged.csv", b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n");
    profile_fails(&p, "line 3 has 4 fields but the header has 3");
}

#[test]
fn short_rows_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "short.csv", b"a,b,c\n1,2,3\n4,5\n7,8,\n");
    profile_fails(&p, "line 3 has 2 fields but the header has 3");
    // An empty last field is a missing value, not a short row.
    let p = write(
        dir.path(),
        "empty_last.csv",
        b"a,b,c\n1,2,3\n7,8,\n\"x,y\",9,\n",
    );
    mlship()
        .args(["data", "profile"])
        .arg(&p)
        .assert()
        .success();
}

#[test]
fn invalid_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "latin1.csv", b"name,x\nok,1\ncaf\xe9,2\n");
    profile_fails(&p, "line 3");
    profile_fails(&p, "invalid UTF-8");
}

#[test]
fn fifty_megabyte_single_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("line.csv");
    let mut f = std::fs::File::create(&p).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..50 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    let out = mlship()
        .args(["data", "profile"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("line.csv"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn parquet_that_is_really_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "fake.parquet", b"a,b\n1,2\n");
    profile_fails(&p, "is not a valid Parquet file: it looks like text");
}

#[test]
fn truncated_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    mlship()
        .args(["data", "convert"])
        .arg(root_file("examples/data/diabetes.csv"))
        .arg(&good)
        .assert()
        .success();
    let bytes = std::fs::read(&good).unwrap();
    let p = write(dir.path(), "cut.parquet", &bytes[..bytes.len() / 2]);
    profile_fails(&p, "is not a valid Parquet file");
}

#[test]
fn unknown_extension() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "data.xlsx", b"PK\x03\x04");
    profile_fails(&p, "cannot tell the file format");
}

#[test]
fn nan_and_infinity_are_counted_and_left_out_of_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "nan.csv",
        b"x,y\n1,a\nNaN,b\ninf,c\n-inf,d\n3,e\n,f\n",
    );
    let out = mlship()
        .args(["data", "profile", "--json"])
        .arg(&p)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let x = &v["columns"][0];
    assert_eq!(x["missing"], 1);
    assert_eq!(x["numeric"]["nan"], 1);
    assert_eq!(x["numeric"]["pos_inf"], 1);
    assert_eq!(x["numeric"]["neg_inf"], 1);
    assert_eq!(x["numeric"]["mean"], 2.0);
    assert_eq!(x["numeric"]["max"], 3.0);
    mlship()
        .args(["data", "profile"])
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "column \"x\" holds 1 NaN, 1 +inf, 1 -inf",
        ));
}

#[test]
fn tampered_and_truncated_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let golden = std::fs::read(root_file("tests/fixtures/bundle/envelope-v1.mlship")).unwrap();
    let mut flipped = golden.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let p = write(dir.path(), "tampered.mlship", &flipped);
    mlship()
        .arg("inspect")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tampered.mlship"))
        .stderr(predicate::str::contains("checksum"));
    let p = write(dir.path(), "cut.mlship", &golden[..golden.len() - 10]);
    mlship()
        .arg("inspect")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cut.mlship"))
        .stderr(predicate::str::contains("truncated"));
    let p = write(dir.path(), "text.mlship", b"hello, world\n");
    mlship()
        .arg("inspect")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not an mlship bundle"));
    mlship()
        .args(["inspect", "nope.mlship"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope.mlship"));
}
