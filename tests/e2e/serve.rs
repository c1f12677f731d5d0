//! `mlship serve` as a user runs it: a registered model that follows its alias, a bundle file
//! that follows its checksum, real clients (tritonclient, requests), limits on binding, and a
//! clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use mlship_e2e::{HttpReply, http, mlship, mlship_bin, root_file};
use serde_json::{Value, json};

/// The environment variable naming the Python that has tritonclient and requests.
const PYTHON_ENV: &str = "MLSHIP_SERVE_PYTHON";

/// Trains a penguins classifier into `out` with the given `C`.
fn train(out: &Path, c: &str) {
    mlship()
        .args(["train", "--data"])
        .arg(root_file("examples/data/penguins.csv"))
        .arg("--spec")
        .arg(root_file("examples/pipelines/penguins.toml"))
        .args([
            "--estimator",
            "logistic",
            "--set",
            &format!("C={c}"),
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

/// A running `mlship serve`, stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    addr: String,
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn start(home: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(mlship_bin())
            .arg("serve")
            .args(args)
            .args(["--port", "0", "--reload-interval", "0.1"])
            .env("MLSHIP_HOME", home)
            .env_remove("MLSHIP_REGISTRY")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split(' ').next().unwrap_or_default().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let Ok(addr) = rx.recv_timeout(Duration::from_mins(1)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start:\n{}",
                log.lock().unwrap().join("\n")
            );
        };
        Self { child, addr, log }
    }

    fn get(&self, path: &str, token: Option<&str>) -> HttpReply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        http(&self.addr, "GET", path, &headers, b"").unwrap()
    }

    fn post(&self, path: &str, token: Option<&str>, body: &Value) -> HttpReply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        http(
            &self.addr,
            "POST",
            path,
            &headers,
            body.to_string().as_bytes(),
        )
        .unwrap()
    }

    /// Sends SIGTERM and returns whether the process exited with success, and its log.
    fn terminate(mut self) -> (bool, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().join("\n");
        (status.is_some_and(|s| s.success()), log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn json_of(r: &HttpReply) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.text()))
}

fn penguin() -> Value {
    json!({"island": "Biscoe", "bill_length_mm": 48.7, "bill_depth_mm": 14.1, "flipper_length_mm": 210,
           "body_mass_g": 4450, "sex": "female", "year": 2007})
}

/// Waits until the model's metadata lists `version`.
fn wait_for_version(server: &Server, model: &str, token: Option<&str>, version: &str) {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let m = json_of(&server.get(&format!("/v2/models/{model}"), token));
        if m["versions"] == json!([version]) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still serving {} instead of {version}",
            m["versions"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn registry(home: &Path, args: &[&str]) {
    mlship()
        .env("MLSHIP_HOME", home)
        .env_remove("MLSHIP_REGISTRY")
        .args(args)
        .assert()
        .success();
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
#[allow(clippy::too_many_lines)] // one walk from start to SIGTERM
fn a_registered_model_follows_its_alias_without_failing_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let (a, b) = (dir.path().join("a.mlship"), dir.path().join("b.mlship"));
    train(&a, "1.0");
    train(&b, "0.01");
    for f in [&a, &b] {
        registry(
            &home,
            &["register", f.to_str().unwrap(), "--name", "penguins"],
        );
    }
    registry(&home, &["registry", "alias", "penguins", "production", "1"]);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t0ken\n").unwrap();
    let server = Server::start(
        &home,
        &[
            "--model",
            "penguins@production",
            "--auth-token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let t = Some("t0ken");

    assert_eq!(server.get("/v2/health/ready", None).status, 200);
    assert_eq!(server.get("/v2/models/penguins", None).status, 401);
    let meta = json_of(&server.get("/v2/models/penguins", t));
    assert_eq!(meta["versions"], json!(["1"]));
    assert_eq!(meta["outputs"][1]["shape"], json!([-1, 3]));
    let r = server.post(
        "/invocations",
        t,
        &json!({"dataframe_records": [penguin()]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json_of(&r)["predictions"], json!(["Gentoo"]));
    assert!(r.header("x-request-id").is_some());
    let mut bad = penguin();
    bad["bill_length_mm"] = json!("long");
    let r = server.post("/invocations", t, &json!({"instances": [penguin(), bad]}));
    assert_eq!(r.status, 400);
    let e = json_of(&r);
    assert_eq!(e["error_code"], "BAD_REQUEST");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("column \"bill_length_mm\" row 1: \"long\" is not a number"),
        "{e}"
    );
    let r = server.post(
        "/v2/models/penguins/versions/1/infer",
        t,
        &json!({"inputs": [{"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Biscoe"]}]}),
    );
    assert_eq!(r.status, 400);
    assert!(
        json_of(&r)["error"]
            .as_str()
            .unwrap()
            .contains("column \"bill_length_mm\" is missing"),
        "{}",
        r.text()
    );

    // Requests keep flowing while the alias moves to version 2 and back.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (stop, ok, failed, addr) = (
            Arc::clone(&stop),
            Arc::clone(&ok),
            Arc::clone(&failed),
            server.addr.clone(),
        );
        clients.push(std::thread::spawn(move || {
            let body = json!({"instances": [penguin(), penguin()]}).to_string();
            while !stop.load(Ordering::Relaxed) {
                let r = http(
                    &addr,
                    "POST",
                    "/invocations",
                    &[
                        ("content-type", "application/json"),
                        ("authorization", "Bearer t0ken"),
                    ],
                    body.as_bytes(),
                );
                match r {
                    Ok(r) if r.status == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    registry(
        &home,
        &[
            "registry",
            "promote",
            "penguins",
            "production",
            "2",
            "--reason",
            "smaller C",
        ],
    );
    wait_for_version(&server, "penguins", t, "2");
    std::thread::sleep(Duration::from_millis(300));
    registry(
        &home,
        &[
            "registry",
            "rollback",
            "penguins",
            "production",
            "--reason",
            "back",
        ],
    );
    wait_for_version(&server, "penguins", t, "1");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during the alias moves"
    );
    assert!(ok.load(Ordering::Relaxed) > 10);
    assert_eq!(server.get("/v2/models/penguins/versions/2", t).status, 404);

    let metrics = server.get("/metrics", t).text();
    assert!(
        metrics.contains("mlship_model_reloads_total{model=\"penguins\",outcome=\"success\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mlship_model_info{model=\"penguins\",version=\"1\"} 1"),
        "{metrics}"
    );

    let (clean, log) = server.terminate();
    assert!(clean, "the server did not exit cleanly on SIGTERM:\n{log}");
    assert!(
        log.contains("now serves version 2") && log.contains("shutting down"),
        "{log}"
    );
    for v in ["1", "2"] {
        let files = files_under(&home.join("predictions/penguins").join(v));
        assert!(!files.is_empty(), "no prediction log for version {v}");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["model"], "penguins");
        assert_eq!(first["inputs"]["island"], "Biscoe");
    }
}

#[test]
fn a_bundle_file_reloads_when_it_changes_and_real_clients_work() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let (model, other) = (
        dir.path().join("model.mlship"),
        dir.path().join("other.mlship"),
    );
    train(&model, "1.0");
    train(&other, "0.01");
    let server = Server::start(
        &home,
        &["--model", &format!("pen={}", model.display()), "--no-log"],
    );
    let first = json_of(&server.get("/v2/models/pen", None))["versions"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(first.len(), 12, "a file's version is a short checksum");

    match std::env::var_os(PYTHON_ENV) {
        Some(python) => {
            let out = Command::new(python)
                .arg(root_file("tests/e2e/clients/serve_clients.py"))
                .args([
                    "--url",
                    &format!("http://{}", server.addr),
                    "--model",
                    "pen",
                    "--data",
                ])
                .arg(root_file("examples/data/penguins.csv"))
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "the Python clients failed:\n{text}");
            println!("{text}");
        }
        None => eprintln!(
            "notice: {PYTHON_ENV} is not set; skipping the tritonclient and requests checks (.ci/run sets it)"
        ),
    }

    std::fs::copy(&other, dir.path().join("tmp.mlship")).unwrap();
    std::fs::rename(dir.path().join("tmp.mlship"), &model).unwrap();
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let v = json_of(&server.get("/v2/models/pen", None))["versions"][0]
            .as_str()
            .unwrap()
            .to_owned();
        if v != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the changed file was not reloaded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!home.join("predictions").exists(), "--no-log writes no log");
    let (clean, log) = server.terminate();
    assert!(clean, "{log}");
}

#[test]
fn binding_beyond_loopback_needs_a_token_or_insecure() {
    mlship()
        .args(["serve", "--model", "m.mlship", "--host", "0.0.0.0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "refusing to listen on 0.0.0.0:8080 without a bearer token",
        ))
        .stderr(predicates::str::contains("--auth-token-file"));
    mlship()
        .args(["serve", "--model", "missing.mlship", "--port", "0"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("missing.mlship"));
}
