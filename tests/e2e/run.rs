//! `mlship run` and `mlship evaluate` on the bundled examples: the bundle, the reports, the run
//! in the registry, reproducibility, bad experiments, and the HTML report in a real browser.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mlship_core::bundle::Envelope;
use mlship_e2e::{mlship, root_file};
use predicates::prelude::*;

/// An example experiment with its relative paths made absolute, `max_candidates` lowered to
/// `n` and `extra` lines added at the top, written into `dir`.
fn example(dir: &Path, name: &str, n: usize, extra: &str) -> PathBuf {
    let text =
        std::fs::read_to_string(root_file(&format!("examples/experiments/{name}.toml"))).unwrap();
    let data = root_file("examples/data/");
    let pipelines = root_file("examples/pipelines/");
    let mut out = String::from(extra);
    out.push('\n');
    for line in text.lines() {
        let line = line
            .replace("\"../data/", &format!("\"{}/", data.display()))
            .replace("\"../pipelines/", &format!("\"{}/", pipelines.display()));
        if line.starts_with("max_candidates") {
            writeln!(out, "max_candidates = {n}").unwrap();
        } else {
            out.push_str(&line);
            out.push('\n');
        }
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, out).unwrap();
    path
}

fn run_json(experiment: &Path, out: &Path, registry: &Path, more: &[&str]) -> serde_json::Value {
    let stdout = mlship()
        .arg("run")
        .arg(experiment)
        .arg("--out")
        .arg(out)
        .arg("--registry")
        .arg(registry)
        .args(more)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&stdout).unwrap()
}

#[test]
fn run_breast_cancer_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let exp = example(dir.path(), "breast_cancer", 3, "");
    let out = dir.path().join("out");
    let registry = dir.path().join("registry.db");
    let s = run_json(&exp, &out, &registry, &["--register", "bc"]);
    assert_eq!(s["task"], "binary");
    assert_eq!(s["metric"], "roc_auc");
    let board = s["leaderboard"].as_array().unwrap();
    assert_eq!(board.len(), 4);
    assert_eq!(board[0]["rank"], 1);
    assert!(board[0]["mean_score"].as_f64().unwrap() > 0.97, "{s}");
    assert!(s["test_metrics"]["roc_auc"].as_f64().unwrap() > 0.95, "{s}");
    assert_eq!(s["registered"]["model"], "bc");
    let bundle = PathBuf::from(s["bundle"].as_str().unwrap());
    assert!(bundle.starts_with(&out) && bundle.exists());
    for f in ["report.html", "report.json"] {
        assert!(out.join(f).exists(), "{f}");
    }

    // The report's JSON holds the leaderboard, curves, confusion matrix and lineage.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let sel = &report["selection"];
    assert_eq!(sel["candidates"].as_array().unwrap().len(), 12);
    assert_eq!(sel["calibration"], "sigmoid");
    let e = &report["evaluation"];
    assert!(e["roc"]["x"].as_array().unwrap().len() > 2);
    assert!(e["pr"].is_object() && e["calibration"].is_object());
    assert_eq!(e["rows"], 114);
    assert_eq!(report["rows"]["train"], 455);
    assert_eq!(report["lineage"]["run_id"], s["run_id"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Leaderboard") && !html.contains("src="));

    // The bundle predicts, carries its calibration and lineage, and evaluates as reported.
    let ev = mlship()
        .args(["evaluate", "--model"])
        .arg(&bundle)
        .arg("--data")
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--report")
        .arg(dir.path().join("eval.html"))
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let ev: serde_json::Value = serde_json::from_slice(&ev).unwrap();
    assert_eq!(ev["evaluation"]["rows"], 569);
    assert!(ev["evaluation"]["metrics"]["roc_auc"].as_f64().unwrap() > 0.97);
    assert!(dir.path().join("eval.html").exists() && dir.path().join("eval.json").exists());
    let envelope = Envelope::read(&bundle).unwrap();
    assert!(envelope.section("calibration").is_some());

    // The run is recorded with every candidate; the version links to it.
    let runs = mlship()
        .args(["runs", "show"])
        .arg(s["run_id"].as_str().unwrap())
        .arg("--registry")
        .arg(&registry)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let run: serde_json::Value = serde_json::from_slice(&runs).unwrap();
    assert_eq!(run["command"], "run");
    assert_eq!(run["candidates"].as_array().unwrap().len(), 12);
    assert_eq!(
        run["candidates"][0]["cv_scores"]["roc_auc"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(run["versions"][0]["model"], "bc");
    mlship()
        .args(["evaluate", "--model", "bc@latest", "--registry"])
        .arg(&registry)
        .arg("--data")
        .arg(root_file("examples/data/breast_cancer.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("roc_auc"))
        .stdout(predicate::str::contains("confusion matrix"));
}

#[test]
fn the_same_experiment_gives_the_same_bundle_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.db");
    let one = example(dir.path(), "penguins", 4, "threads = 1");
    let two_dir = dir.path().join("again");
    std::fs::create_dir(&two_dir).unwrap();
    let two = example(&two_dir, "penguins", 4, "threads = 2");
    let a = run_json(&one, &dir.path().join("a"), &registry, &[]);
    let b = run_json(&two, &dir.path().join("b"), &registry, &[]);
    assert_ne!(a["run_id"], b["run_id"]);
    assert_eq!(a["test_metrics"], b["test_metrics"]);
    let scores = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["leaderboard"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::json!([r["family"], r["mean_score"], r["std_score"], r["params"]]))
            .collect()
    };
    assert_eq!(scores(&a), scores(&b));
    let sections = |v: &serde_json::Value| {
        Envelope::read(Path::new(v["bundle"].as_str().unwrap()))
            .unwrap()
            .sections
    };
    let (sa, sb) = (sections(&a), sections(&b));
    assert_eq!(sa.len(), sb.len());
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!((x.name.as_str(), x.version), (y.name.as_str(), y.version));
        assert!(x.bytes == y.bytes, "section {} differs", x.name);
    }
    // The report lists every candidate's fold scores; the multiclass report has a confusion
    // matrix with the species' names.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a").join("report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["evaluation"]["confusion"]["labels"],
        serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
    );
}

#[test]
fn diabetes_regression_with_successive_halving() {
    let dir = tempfile::tempdir().unwrap();
    let exp = example(dir.path(), "diabetes", 6, "");
    let out = dir.path().join("out");
    let s = run_json(&exp, &out, &dir.path().join("r.db"), &[]);
    assert_eq!(s["task"], "regression");
    assert_eq!(s["metric"], "rmse");
    let r2 = s["test_metrics"]["r2"].as_f64().unwrap();
    assert!(r2 > 0.3, "{s}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert!(
        report["evaluation"]["residuals"]["residual"]
            .as_array()
            .unwrap()
            .len()
            > 50
    );
    let cands = report["selection"]["candidates"].as_array().unwrap();
    assert!(
        cands.iter().any(|c| c["halving"][0] == 1),
        "a second halving iteration"
    );
    // The leaderboard is ranked with lower RMSE first.
    let board = s["leaderboard"].as_array().unwrap();
    assert!(board[0]["mean_score"].as_f64() <= board[1]["mean_score"].as_f64());
}

#[test]
fn train_records_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("r.db");
    let out = mlship()
        .args(["train", "--data"])
        .arg(root_file("examples/data/diabetes.csv"))
        .args(["--target", "target", "--estimator", "ridge", "--out"])
        .arg(dir.path().join("m.mlship"))
        .arg("--registry")
        .arg(&registry)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let id = s["run_id"].as_str().unwrap();
    mlship()
        .args(["runs", "list", "--registry"])
        .arg(&registry)
        .assert()
        .success()
        .stdout(predicate::str::contains(id));
}

fn write_experiment(dir: &Path, body: &str) -> PathBuf {
    let text = format!(
        "data = \"{}\"\ntarget = \"species\"\n{body}\n",
        root_file("examples/data/penguins.csv").display()
    );
    let p = dir.join("e.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_experiments_fail_with_the_valid_choices() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("r.db");
    let run = |body: &str| {
        let p = write_experiment(dir.path(), body);
        mlship()
            .arg("run")
            .arg(&p)
            .arg("--registry")
            .arg(&reg)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
    };
    run("metric = \"auc\"\n[[candidates]]\nkind = \"logistic\"")
        .code(2)
        .stderr(predicate::str::contains("unknown metric \"auc\""))
        .stderr(predicate::str::contains("roc_auc_ovr"));
    run("[[candidates]]\nkind = \"svm\"")
        .code(2)
        .stderr(predicate::str::contains("unknown model kind \"svm\""))
        .stderr(predicate::str::contains("random_forest"));
    run("metric = \"rmse\"\n[[candidates]]\nkind = \"logistic\"")
        .code(2)
        .stderr(predicate::str::contains(
            "rmse does not fit a multiclass target",
        ));
    run("cv = { kind = \"kfold\", n_splits = 400 }\n[[candidates]]\nkind = \"logistic\"")
        .code(2)
        .stderr(predicate::str::contains("n_splits"))
        .stderr(predicate::str::contains("training rows"));
    // Unshuffled k-fold on rows sorted by species leaves a class out of a fold's training rows.
    run("cv = { kind = \"kfold\", n_splits = 3 }\nsplit = { method = \"time\", by = \"year\", test = 0.1 }\n[[candidates]]\nkind = \"logistic\"")
        .code(1)
        .stderr(predicate::str::contains("has no training rows in this fold"));
    assert!(!dir.path().join("out").exists());
}

/// The browser named by `MLSHIP_CHROMIUM` (`.ci/run` sets it).
fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("MLSHIP_CHROMIUM").map(PathBuf::from);
    if p.is_none() {
        eprintln!(
            "notice: MLSHIP_CHROMIUM is not set; skipping the headless-browser check of report.html"
        );
    }
    p
}

/// Opens an HTML file in headless Chromium and returns the rendered DOM.
fn render(browser: &Path, html: &Path, profile: &Path) -> String {
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn reports_render_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, charts) in [("breast_cancer", 4), ("diabetes", 3)] {
        let exp = example(dir.path(), name, 2, "");
        let out = dir.path().join(name);
        run_json(&exp, &out, &dir.path().join("r.db"), &[]);
        let dom = render(
            &browser,
            &out.join("report.html"),
            &dir.path().join("profile"),
        );
        assert!(
            dom.contains("data-report=\"ok\""),
            "{name}: {}",
            &dom[..dom.len().min(400)]
        );
        assert!(dom.contains(&format!("data-charts=\"{charts}\"")), "{name}");
    }
    // A broken page is caught: a script error marks the document.
    let broken = dir.path().join("broken.html");
    let html = std::fs::read_to_string(dir.path().join("diabetes").join("report.html")).unwrap();
    std::fs::write(
        &broken,
        html.replace("</body>", "<script>nosuchfunction()</script></body>"),
    )
    .unwrap();
    let dom = render(&browser, &broken, &dir.path().join("profile"));
    assert!(
        dom.contains("data-report=\"error"),
        "{}",
        &dom[..dom.len().min(400)]
    );
}

#[test]
fn update_continues_a_model_and_promotes_only_past_the_margin() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("r.db");
    let exp = example(dir.path(), "diabetes", 2, "");
    run_json(
        &exp,
        &dir.path().join("out"),
        &registry,
        &["--register", "diab"],
    );
    mlship()
        .args(["registry", "alias", "diab", "production", "1", "--registry"])
        .arg(&registry)
        .assert()
        .success();
    let update = |margin: &str| -> serde_json::Value {
        let out = mlship()
            .args(["update", "--model", "diab@production", "--data"])
            .arg(root_file("examples/data/diabetes.csv"))
            .args(["--promote-if-better", margin, "--registry"])
            .arg(&registry)
            .arg("--json")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    // A margin no challenger can pass keeps the alias; one every challenger passes moves it.
    let kept = update("1e9");
    assert_eq!(kept["promoted"], false, "{kept}");
    assert_eq!(kept["registered"]["version"], 2);
    assert_eq!(kept["metric"], "rmse");
    let moved = update("-1e9");
    assert_eq!(moved["promoted"], true, "{moved}");
    assert_eq!(moved["registered"]["version"], 3);
    let show = mlship()
        .args(["registry", "show", "diab@production", "--registry"])
        .arg(&registry)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&show).unwrap();
    assert_eq!(v["version"], 3, "{v}");
    assert!(
        v.to_string().contains("diab/1"),
        "the parent is recorded: {v}"
    );

    // A bundle file: logistic regression continues from its coefficients.
    let model = dir.path().join("bc.mlship");
    mlship()
        .args(["train", "--data"])
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/breast_cancer.toml"))
        .args(["--estimator", "logistic", "--out"])
        .arg(&model)
        .arg("--registry")
        .arg(&registry)
        .assert()
        .success();
    let out = mlship()
        .args(["update", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(root_file("examples/data/breast_cancer.csv"))
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(s["method"], "warm_start");
    assert_eq!(s["metric"], "roc_auc");
    assert!(s["challenger_score"].as_f64().unwrap() > 0.95, "{s}");
    assert!(dir.path().join("bc.updated.mlship").exists());
}

#[test]
fn a_spent_time_budget_keeps_the_completed_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let exp = example(dir.path(), "penguins", 5, "time_budget = 0.000001");
    let out = dir.path().join("out");
    let s = run_json(&exp, &out, &dir.path().join("r.db"), &[]);
    for row in s["leaderboard"].as_array().unwrap() {
        assert_eq!(row["completed"], 1, "{row}");
        assert_eq!(row["n_candidates"], 5, "{row}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["selection"]["stopped_by_time_budget"], true);
    assert_eq!(
        report["selection"]["candidates"].as_array().unwrap().len(),
        3
    );
}
