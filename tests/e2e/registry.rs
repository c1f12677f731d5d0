//! The registry from the command line: register, list, show, promote, roll back, history,
//! search, diff, archive, delete, verify, export, import and gc, as docs/registry.md walks
//! through them.

use std::path::Path;

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::Manifest;
use mlship_e2e::mlship;
use predicates::prelude::*;
use serde_json::{Value, json};

/// Writes a small model bundle to `path`.
fn write_bundle(path: &Path, seed: u64, auc: f64, depth: u64) {
    let mut m = Manifest::new("model");
    m.params = json!({"estimator": "gbm", "gbm": {"max_depth": depth}});
    m.metrics.insert("roc_auc".into(), auc);
    m.lineage.data_fingerprint = Some(format!("sha256:{seed:04}"));
    let envelope = Envelope {
        manifest: m.to_json(),
        sections: vec![Section::new("model", 1, seed.to_le_bytes().to_vec())],
    };
    envelope.write_atomic(path).unwrap();
}

/// `mlship` with its registry in `home`.
fn ml(home: &Path) -> assert_cmd::Command {
    let mut c = mlship();
    c.env("MLSHIP_HOME", home)
        .env_remove("MLSHIP_REGISTRY")
        .env("USER", "alice");
    c
}

fn json_of(home: &Path, args: &[&str]) -> Value {
    let out = ml(home)
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // the walk-through of docs/registry.md, in order
fn register_promote_roll_back_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for (n, auc, depth) in [(1, 0.86, 4), (2, 0.90, 6), (3, 0.92, 6)] {
        write_bundle(
            &dir.path().join(format!("churn-v{n}.mlship")),
            n,
            auc,
            depth,
        );
    }
    ml(&home)
        .arg("register")
        .arg(dir.path().join("churn-v1.mlship"))
        .args(["--name", "churn", "--tag", "team=risk"])
        .assert()
        .success()
        .stdout(predicate::str::contains("registered churn/1"));
    for n in [2, 3] {
        ml(&home)
            .arg("register")
            .arg(dir.path().join(format!("churn-v{n}.mlship")))
            .args(["--name", "churn"])
            .assert()
            .success();
    }
    assert!(home.join("registry.db").exists());
    assert!(home.join("artifacts/sha256").is_dir());

    let list = json_of(&home, &["registry", "list"]);
    assert_eq!(list[0]["name"], "churn");
    assert_eq!(list[0]["versions"], 3);
    let v1 = json_of(&home, &["registry", "show", "churn/1"]);
    assert_eq!(v1["tags"]["team"], "risk");
    assert_eq!(v1["metrics"]["roc_auc"], 0.86);

    ml(&home)
        .args(["registry", "alias", "churn", "production", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "churn@production: (none) → version 1 (set)",
        ));
    ml(&home)
        .args([
            "registry",
            "promote",
            "churn",
            "production",
            "3",
            "--reason",
            "better AUC",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "promoted churn@production: version 1 → version 3",
        ));
    let shown = json_of(&home, &["registry", "show", "churn@production"]);
    assert_eq!(shown["version"], 3);
    ml(&home)
        .args([
            "registry",
            "rollback",
            "churn",
            "production",
            "--reason",
            "latency",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "rolled back churn@production: version 3 → version 1",
        ));
    assert_eq!(
        json_of(&home, &["registry", "show", "churn@production"])["version"],
        1
    );

    let history = json_of(
        &home,
        &["registry", "history", "churn", "--alias", "production"],
    );
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["alias-set", "promote", "rollback"]);
    assert_eq!(history[1]["reason"], "better AUC");
    assert_eq!(history[2]["actor"], "alice");
    ml(&home)
        .args(["registry", "history", "churn", "--actor", "bob"])
        .assert()
        .success()
        .stdout(predicate::str::contains("rollback"));

    ml(&home)
        .args(["registry", "delete", "churn/1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot delete churn/1: alias production points at it",
        ));
    ml(&home)
        .args(["registry", "archive", "churn/2", "--reason", "superseded"])
        .assert()
        .success()
        .stdout(predicate::str::contains("archived churn/2"));
    assert_eq!(
        json_of(&home, &["registry", "show", "churn@latest"])["version"],
        3
    );

    let found = json_of(&home, &["registry", "search", "metrics.roc_auc > 0.88"]);
    let ids: Vec<u64> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    let diff = json_of(&home, &["registry", "diff", "churn/1", "churn/3"]);
    assert_eq!(diff["params"][0]["key"], "gbm.max_depth");
    ml(&home)
        .args(["registry", "diff", "churn/1", "churn@latest"])
        .assert()
        .success()
        .stdout(predicate::str::contains("roc_auc").and(predicate::str::contains("+0.06")));

    ml(&home)
        .args(["registry", "verify", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("all intact"));
    let export = dir.path().join("churn.export");
    ml(&home)
        .arg("registry")
        .arg("export")
        .arg("churn")
        .arg(&export)
        .assert()
        .success();
    let other = dir.path().join("other");
    ml(&other)
        .arg("registry")
        .arg("import")
        .arg(&export)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported churn: 3 versions"));
    assert_eq!(
        json_of(&other, &["registry", "show", "churn@production"])["version"],
        1
    );

    ml(&home)
        .args(["registry", "alias", "churn", "production", "3"])
        .assert()
        .success();
    ml(&home)
        .args(["registry", "delete", "churn/1"])
        .assert()
        .success();
    let gc = json_of(&home, &["registry", "gc"]);
    assert_eq!(gc["removed"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let bundle = dir.path().join("m.mlship");
    write_bundle(&bundle, 1, 0.9, 3);
    ml(&home)
        .arg("register")
        .arg(&bundle)
        .args(["--name", "../evil"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid model name \"../evil\""));
    ml(&home)
        .arg("register")
        .arg(dir.path().join("missing.mlship"))
        .args(["--name", "m"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bundle not found"));
    ml(&home)
        .args(["registry", "alias", "m", "production"])
        .assert()
        .code(2);
    ml(&home)
        .args(["registry", "promote", "m", "production", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--reason"));
    ml(&home)
        .args(["registry", "show", "nope@production"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("model \"nope\" is not registered"));
    ml(&home)
        .args(["registry", "search", "metrics.auc > high"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid search query"));
    ml(&home)
        .args(["registry", "archive", "m@latest"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected NAME/VERSION"));
    ml(&home)
        .arg("register")
        .arg(&bundle)
        .args(["--name", "m"])
        .assert()
        .success();
    // A tampered artifact is reported by verify, which then fails.
    let hash = json_of(&home, &["registry", "show", "m/1"])["artifact"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = home
        .join("artifacts/sha256")
        .join(&hash[..2])
        .join(&hash[2..]);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    ml(&home)
        .args(["registry", "verify", "m"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("DAMAGED"))
        .stderr(predicate::str::contains(
            "1 of 1 artifacts failed verification",
        ));
}

#[test]
fn postgres_registry_from_the_command_line() {
    let Some(url) = std::env::var("MLSHIP_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "notice: MLSHIP_TEST_POSTGRES is not set: skipping the PostgreSQL end-to-end test"
        );
        return;
    };
    let schema = format!("e2e_{}", std::process::id());
    let sep = if url.contains('?') { '&' } else { '?' };
    let registry = format!("{url}{sep}schema={schema}");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("m.mlship");
    write_bundle(&bundle, 7, 0.9, 3);
    let home = dir.path().join("unused");
    ml(&home)
        .arg("register")
        .arg(&bundle)
        .args(["--name", "pg-model", "--registry", &registry])
        .assert()
        .success()
        .stdout(predicate::str::contains("registered pg-model/1"));
    ml(&home)
        .env("MLSHIP_REGISTRY", &registry)
        .args([
            "registry",
            "promote",
            "pg-model",
            "production",
            "1",
            "--reason",
            "first",
        ])
        .assert()
        .success();
    let shown = json_of(
        &home,
        &[
            "registry",
            "show",
            "pg-model@production",
            "--registry",
            &registry,
        ],
    );
    assert_eq!(shown["version"], 1);
    assert!(
        !home.exists(),
        "a PostgreSQL registry writes nothing under MLSHIP_HOME"
    );
}
