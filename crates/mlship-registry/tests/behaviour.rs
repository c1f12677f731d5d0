//! One behavioural suite, run against both stores: SQLite always, PostgreSQL when
//! `MLSHIP_TEST_POSTGRES` holds a connection URL (`.ci/run` starts a server and sets it;
//! without it the PostgreSQL half prints a notice and passes without running).
//!
//! Each PostgreSQL test uses its own schema, so the tests run in parallel. The concurrency and
//! crash tests run real processes: this test binary re-runs itself with `MLSHIP_REGISTRY_CHILD`
//! naming the child's role (see [`child_role`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::Manifest;
use mlship_core::schema::{ColumnKind, ColumnSpec, Schema};
use mlship_core::task::Task;
use mlship_registry::{
    Expect, Location, ModelUri, PAUSE_ENV, RegisterOptions, Registry, RegistryError, RunCandidate,
    RunRecord, SqliteStore, Status, Store, VersionId, action,
};
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir()
            .join("mlship-registry-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// One test's registry (and a second, empty one for imports).
struct Env {
    backend: Backend,
    dir: TempDir,
    location: String,
    second: String,
}

fn pg_url() -> Option<String> {
    std::env::var("MLSHIP_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
}

fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema={schema}")
}

fn drop_schema(url: &str, schema: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("PostgreSQL reachable");
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
}

impl Env {
    fn new(backend: Backend, name: &str) -> Option<Self> {
        let dir = TempDir::new(&format!("{backend:?}-{name}").to_lowercase());
        let (location, second) = match backend {
            Backend::Sqlite => (
                dir.0.join("home/registry.db").display().to_string(),
                dir.0.join("second/registry.db").display().to_string(),
            ),
            Backend::Postgres => {
                let Some(url) = pg_url() else {
                    eprintln!(
                        "notice: MLSHIP_TEST_POSTGRES is not set: skipping the PostgreSQL run of {name}"
                    );
                    return None;
                };
                let (a, b) = (format!("t_{name}"), format!("t_{name}_2"));
                drop_schema(&url, &a);
                drop_schema(&url, &b);
                (with_schema(&url, &a), with_schema(&url, &b))
            }
        };
        Some(Self {
            backend,
            dir,
            location,
            second,
        })
    }

    fn open(&self) -> Registry {
        Registry::open(&Location::parse(&self.location))
            .unwrap()
            .with_actor("tester")
    }

    fn open_second(&self) -> Registry {
        Registry::open(&Location::parse(&self.second))
            .unwrap()
            .with_actor("tester")
    }

    /// A raw connection to the metadata store.
    fn store(&self) -> Box<dyn Store> {
        match self.backend {
            Backend::Sqlite => Box::new(SqliteStore::open(Path::new(&self.location)).unwrap()),
            Backend::Postgres => {
                Box::new(mlship_registry::PostgresStore::connect(&self.location).unwrap())
            }
        }
    }
}

fn run(backend: Backend, name: &str, test: fn(&Env)) {
    if let Some(env) = Env::new(backend, name) {
        test(&env);
    }
}

/// A bundle whose manifest is shaped by `f`; `seed` makes its bytes unique.
fn bundle_with(seed: u64, f: impl FnOnce(&mut Manifest)) -> Vec<u8> {
    let mut m = Manifest::new("model");
    m.created_at = "2026-01-01T00:00:00.000Z".into();
    m.task = Some(Task::Binary {
        classes: vec!["no".into(), "yes".into()],
    });
    m.schema = Some(Schema::new(vec![
        ColumnSpec::new("age", ColumnKind::Numeric, false),
        ColumnSpec::new("income", ColumnKind::Numeric, true),
    ]));
    m.params = json!({"estimator": "gbm", "gbm": {"max_depth": 6, "learning_rate": 0.1}});
    m.metrics.insert("roc_auc".into(), 0.8);
    m.lineage.data_fingerprint = Some("sha256:aaaa".into());
    m.lineage.seed = Some(seed);
    f(&mut m);
    let envelope = Envelope {
        manifest: m.to_json(),
        sections: vec![Section::new("model", 1, seed.to_le_bytes().to_vec())],
    };
    envelope.to_bytes().unwrap()
}

fn bundle(seed: u64) -> Vec<u8> {
    bundle_with(seed, |_| {})
}

fn opts(name: &str) -> RegisterOptions {
    RegisterOptions {
        name: name.into(),
        ..RegisterOptions::default()
    }
}

fn vid(model: &str, version: u64) -> VersionId {
    VersionId {
        model: model.into(),
        version,
    }
}

fn uri(text: &str) -> ModelUri {
    ModelUri::parse(text).unwrap()
}

// ------------------------------------------------------------------------------------------
// Behaviours
// ------------------------------------------------------------------------------------------

fn register_list_show(env: &Env) {
    let mut r = env.open();
    let first = bundle_with(1, |m| {
        m.tags.insert("origin".into(), "notebook".into());
        m.lineage.run_id = Some("run-1".into());
        m.lineage.experiment = Some("churn.toml".into());
    });
    let mut o = opts("churn");
    o.tags.insert("team".into(), "risk".into());
    o.description = Some("first try".into());
    let v1 = r.register_bytes(&first, &o).unwrap();
    assert_eq!((v1.model.as_str(), v1.version), ("churn", 1));
    assert_eq!(v1.status, Status::Active);
    assert_eq!(v1.artifact, mlship_registry::sha256_hex(&first));
    assert_eq!(v1.size, first.len() as u64);
    assert_eq!(v1.metrics["roc_auc"], 0.8);
    assert_eq!(v1.params["gbm"]["max_depth"], 6);
    assert_eq!(v1.data_fingerprint.as_deref(), Some("sha256:aaaa"));
    assert_eq!(v1.run_id.as_deref(), Some("run-1"));
    assert_eq!(v1.experiment.as_deref(), Some("churn.toml"));
    assert_eq!(v1.task.as_deref(), Some("binary"));
    assert_eq!(v1.lineage["seed"], 1);
    assert_eq!(v1.schema.as_ref().unwrap()["columns"][1]["name"], "income");
    assert_eq!(v1.tags["team"], "risk");
    assert_eq!(v1.tags["origin"], "notebook");
    assert_eq!(v1.description.as_deref(), Some("first try"));
    assert!(v1.created_at.ends_with('Z'));

    let v2 = r.register_bytes(&bundle(2), &opts("churn")).unwrap();
    assert_eq!(v2.version, 2);
    // The same bytes again: a new version sharing the artifact.
    let v3 = r.register_bytes(&first, &opts("churn")).unwrap();
    assert_eq!((v3.version, &v3.artifact), (3, &v1.artifact));
    r.register_bytes(&bundle(4), &opts("fraud")).unwrap();

    let models = r.models().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["churn", "fraud"]);
    assert_eq!((models[0].versions, models[0].latest), (3, Some(3)));
    assert_eq!(models[0].description.as_deref(), Some("first try"));
    let versions = r.versions("churn").unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(r.model("churn").unwrap().version_list.len(), 3);
    assert_eq!(r.version(&vid("churn", 1)).unwrap(), v1);
    assert_eq!(r.resolve(&uri("churn@latest")).unwrap(), vid("churn", 3));
    assert_eq!(r.resolve(&uri("churn/2")).unwrap(), vid("churn", 2));
    assert_eq!(r.load(&vid("churn", 2)).unwrap(), bundle(2));
    let loaded = mlship_registry::load_model(&uri("churn/1"), || Ok(env.open())).unwrap();
    assert_eq!(loaded.bytes, first);
    assert_eq!(loaded.version, Some(vid("churn", 1)));

    assert!(matches!(
        r.resolve(&uri("nope@latest")),
        Err(RegistryError::ModelNotFound { .. })
    ));
    assert!(matches!(
        r.resolve(&uri("churn/9")),
        Err(RegistryError::VersionNotFound { version: 9, .. })
    ));
    assert!(matches!(
        r.resolve(&uri("churn@production")),
        Err(RegistryError::AliasNotFound { .. })
    ));
    // Reopening applies no migration twice.
    drop(r);
    let mut again = env.open();
    assert_eq!(again.versions("churn").unwrap().len(), 3);
    let rows = env
        .store()
        .query("SELECT COUNT(*), MAX(version) FROM schema_migrations", &[])
        .unwrap();
    assert_eq!(rows[0].int(0).unwrap(), rows[0].int(1).unwrap());
}

fn invalid_input_is_refused_and_leaves_nothing(env: &Env) {
    let mut r = env.open();
    for name in [
        "",
        "../etc",
        "a/b",
        "a\\b",
        "..",
        "x\u{7}y",
        "new\nline",
        &"n".repeat(129),
    ] {
        let e = r.register_bytes(&bundle(1), &opts(name)).unwrap_err();
        assert!(
            matches!(e, RegistryError::InvalidName { .. }),
            "{name:?}: {e}"
        );
    }
    let mut bad_tag = opts("ok");
    bad_tag.tags.insert("a/b".into(), "x".into());
    assert!(r.register_bytes(&bundle(1), &bad_tag).is_err());
    let mut corrupt = bundle(1);
    let n = corrupt.len();
    corrupt[n / 2] ^= 0x40;
    let e = r.register_bytes(&corrupt, &opts("ok")).unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    let e = r
        .register_bytes(b"name,age\nx,1\n", &opts("ok"))
        .unwrap_err();
    assert!(e.to_string().contains("not an mlship bundle"), "{e}");
    assert!(r.models().unwrap().is_empty());
    r.register_bytes(&bundle(1), &opts("ok")).unwrap();
    for alias in ["latest", "12", "a/b", "", "x y"] {
        let e = r.set_alias("ok", alias, 1, Expect::Any).unwrap_err();
        assert!(
            matches!(e, RegistryError::InvalidName { .. }),
            "{alias:?}: {e}"
        );
    }
    assert!(
        r.history("ok", None)
            .unwrap()
            .iter()
            .all(|e| e.alias.is_none())
    );
}

fn aliases_promote_rollback_history(env: &Env) {
    let mut r = env.open();
    for seed in 1..=3 {
        r.register_bytes(&bundle(seed), &opts("churn")).unwrap();
    }
    let set = r
        .set_alias("churn", "production", 1, Expect::At(None))
        .unwrap();
    assert_eq!((set.from, set.to, set.changed), (None, Some(1), true));
    r.promote("churn", "production", 2, "better auc", Expect::At(Some(1)))
        .unwrap();
    r.promote("churn", "production", 3, "new data", Expect::Any)
        .unwrap();
    assert_eq!(
        r.resolve(&uri("churn@production")).unwrap(),
        vid("churn", 3)
    );
    // Compare-and-set: a stale expectation moves nothing and records nothing.
    let before = r.history("churn", None).unwrap().len();
    let e = r
        .promote("churn", "production", 1, "stale", Expect::At(Some(2)))
        .unwrap_err();
    assert!(matches!(e, RegistryError::Conflict { .. }), "{e}");
    assert!(e.to_string().contains("found it at version 3"), "{e}");
    assert_eq!(r.history("churn", None).unwrap().len(), before);
    // Moving an alias where it already is changes and records nothing.
    let same = r.set_alias("churn", "production", 3, Expect::Any).unwrap();
    assert!(!same.changed);
    assert_eq!(r.history("churn", None).unwrap().len(), before);

    let back = r.rollback("churn", "production", Some("latency")).unwrap();
    assert_eq!((back.from, back.to), (Some(3), Some(2)));
    let back = r.rollback("churn", "production", None).unwrap();
    assert_eq!((back.from, back.to), (Some(2), Some(1)));
    let e = r.rollback("churn", "production", None).unwrap_err();
    assert!(matches!(e, RegistryError::NothingToRollBack { .. }), "{e}");
    assert_eq!(r.alias("churn", "production").unwrap(), Some(1));
    // A promotion after rollbacks is what the next rollback undoes.
    r.promote("churn", "production", 3, "retry", Expect::Any)
        .unwrap();
    assert_eq!(r.rollback("churn", "production", None).unwrap().to, Some(1));

    r.set_alias("churn", "staging", 3, Expect::Any).unwrap();
    let removed = r.remove_alias("churn", "staging", Expect::Any).unwrap();
    assert_eq!((removed.from, removed.to), (Some(3), None));
    assert!(matches!(
        r.remove_alias("churn", "staging", Expect::Any),
        Err(RegistryError::AliasNotFound { .. })
    ));
    // Rolling back a removal restores the alias.
    assert_eq!(r.rollback("churn", "staging", None).unwrap().to, Some(3));

    let history = r.history("churn", Some("production")).unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            action::ALIAS_SET,
            action::PROMOTE,
            action::PROMOTE,
            action::ROLLBACK,
            action::ROLLBACK,
            action::PROMOTE,
            action::ROLLBACK
        ]
    );
    assert_eq!(history[1].reason.as_deref(), Some("better auc"));
    assert_eq!(history[3].reason.as_deref(), Some("latency"));
    assert_eq!(
        (history[3].before.as_deref(), history[3].after.as_deref()),
        (Some("3"), Some("2"))
    );
    assert!(history.iter().all(|e| e.actor == "tester"));
    assert!(history.windows(2).all(|w| w[0].id < w[1].id));
    let everything = r.history("churn", None).unwrap();
    assert_eq!(
        everything
            .iter()
            .filter(|e| e.action == action::REGISTER)
            .count(),
        3
    );
    let model = &r.models().unwrap()[0];
    assert_eq!(model.aliases["production"], 1);
    assert_eq!(r.version(&vid("churn", 1)).unwrap().aliases, ["production"]);
}

fn archive_and_delete_rules(env: &Env) {
    let mut r = env.open();
    for seed in 1..=3 {
        r.register_bytes(&bundle(seed), &opts("m")).unwrap();
    }
    r.set_alias("m", "production", 3, Expect::Any).unwrap();
    let e = r.delete(&vid("m", 3), None).unwrap_err();
    assert!(matches!(e, RegistryError::InUse { .. }), "{e}");
    assert!(
        e.to_string().contains("alias production points at it"),
        "{e}"
    );
    assert!(r.archive(&vid("m", 3), None).is_err());
    r.promote("m", "production", 2, "revert", Expect::Any)
        .unwrap();
    let archived = r.archive(&vid("m", 3), Some("bad calibration")).unwrap();
    assert_eq!(archived.status, Status::Archived);
    assert_eq!(r.resolve(&uri("m@latest")).unwrap(), vid("m", 2));
    let e = r.set_alias("m", "staging", 3, Expect::Any).unwrap_err();
    assert!(matches!(e, RegistryError::Archived { .. }), "{e}");
    r.delete(&vid("m", 1), Some("never used")).unwrap();
    assert!(matches!(
        r.version(&vid("m", 1)),
        Err(RegistryError::VersionNotFound { .. })
    ));
    // Numbers are never reused.
    assert_eq!(r.register_bytes(&bundle(9), &opts("m")).unwrap().version, 4);
    r.set_status(&vid("m", 3), Status::Active, None).unwrap();
    assert_eq!(r.resolve(&uri("m@latest")).unwrap(), vid("m", 4));
    let h = r.history("m", None).unwrap();
    let tail: Vec<(&str, Option<&str>, Option<&str>)> = h
        .iter()
        .filter(|e| e.action == action::STATUS || e.action == action::DELETE)
        .map(|e| (e.action.as_str(), e.before.as_deref(), e.after.as_deref()))
        .collect();
    assert_eq!(
        tail,
        [
            (action::STATUS, Some("active"), Some("archived")),
            (action::DELETE, Some("active"), None),
            (action::STATUS, Some("archived"), Some("active")),
        ]
    );
    // The audit log is append-only, whoever writes to the database.
    let mut db = env.store();
    assert!(
        db.execute("UPDATE audit SET actor = 'mallory'", &[])
            .is_err()
    );
    assert!(db.execute("DELETE FROM audit", &[]).is_err());
    assert!(
        r.history("m", None)
            .unwrap()
            .iter()
            .all(|e| e.actor == "tester")
    );
}

fn search_and_diff(env: &Env) {
    let mut r = env.open();
    r.register_bytes(
        &bundle_with(1, |m| {
            m.metrics.insert("roc_auc".into(), 0.85);
        }),
        &opts("churn"),
    )
    .unwrap();
    let mut tagged = opts("churn");
    tagged.tags.insert("team".into(), "risk".into());
    r.register_bytes(
        &bundle_with(2, |m| {
            m.metrics.insert("roc_auc".into(), 0.93);
            m.metrics.insert("log_loss".into(), 0.2);
            m.params["gbm"]["max_depth"] = json!(8);
            m.lineage.data_fingerprint = Some("sha256:bbbb".into());
            m.schema = Some(Schema::new(vec![
                ColumnSpec::new("age", ColumnKind::Numeric, true),
                ColumnSpec::new("plan", ColumnKind::Boolean, false),
            ]));
        }),
        &tagged,
    )
    .unwrap();
    r.register_bytes(
        &bundle_with(3, |m| {
            m.metrics.insert("roc_auc".into(), 0.95);
        }),
        &opts("fraud"),
    )
    .unwrap();
    r.set_alias("churn", "production", 1, Expect::Any).unwrap();
    let ids = |q: &str, r: &mut Registry| -> Vec<String> {
        r.search(q)
            .unwrap()
            .iter()
            .map(|v| v.id().to_string())
            .collect()
    };
    assert_eq!(ids("metrics.roc_auc > 0.9", &mut r), ["churn/2", "fraud/1"]);
    assert_eq!(ids("churn metrics.roc_auc>0.9", &mut r), ["churn/2"]);
    assert_eq!(ids("tag.team=risk", &mut r), ["churn/2"]);
    assert_eq!(ids("name=fraud", &mut r), ["fraud/1"]);
    assert_eq!(ids("metrics.log_loss <= 0.2", &mut r), ["churn/2"]);
    assert_eq!(ids("params.gbm.max_depth >= 8", &mut r), ["churn/2"]);
    assert_eq!(ids("alias=production", &mut r), ["churn/1"]);
    assert_eq!(
        ids("status=active and version=1", &mut r),
        ["churn/1", "fraud/1"]
    );
    assert_eq!(ids("", &mut r).len(), 3);
    // Boundaries and operators the database pre-filter must not get wrong.
    assert_eq!(ids("metrics.roc_auc >= 0.95", &mut r), ["fraud/1"]);
    assert_eq!(ids("metrics.roc_auc = 0.93", &mut r), ["churn/2"]);
    assert_eq!(ids("metrics.roc_auc < 0.85", &mut r), Vec::<String>::new());
    assert_eq!(ids("metrics.roc_auc <= 0.85", &mut r), ["churn/1"]);
    assert_eq!(
        ids("metrics.roc_auc != 0.85", &mut r),
        ["churn/2", "fraud/1"]
    );
    assert_eq!(ids("metrics.missing > 0", &mut r), Vec::<String>::new());
    assert_eq!(ids("tag.team~RIS", &mut r), ["churn/2"]);
    assert_eq!(ids("tag.team!=risk", &mut r), Vec::<String>::new());
    assert_eq!(ids("data=sha256:bbbb", &mut r), ["churn/2"]);
    assert_eq!(ids("CHU", &mut r), ["churn/1", "churn/2"]);
    assert_eq!(
        ids("name~rau alias=production", &mut r),
        Vec::<String>::new()
    );
    assert_eq!(ids("nothing-like-this", &mut r), Vec::<String>::new());
    assert!(matches!(
        r.search("metrics.roc_auc > x"),
        Err(RegistryError::InvalidQuery { .. })
    ));

    let d = r.diff(&vid("churn", 1), &vid("churn", 2)).unwrap();
    assert_eq!(d.params.len(), 1);
    assert_eq!(d.params[0].key, "gbm.max_depth");
    assert_eq!(
        (d.params[0].from.clone(), d.params[0].to.clone()),
        (Some(json!(6)), Some(json!(8)))
    );
    let auc = d.metrics.iter().find(|m| m.name == "roc_auc").unwrap();
    assert!((auc.delta.unwrap() - 0.08).abs() < 1e-12);
    let ll = d.metrics.iter().find(|m| m.name == "log_loss").unwrap();
    assert_eq!((ll.from, ll.to, ll.delta), (None, Some(0.2), None));
    let schema_keys: Vec<&str> = d.schema.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(schema_keys, ["age", "income", "plan"]);
    assert!(d.data_fingerprint.is_some());
    assert!(!d.same_artifact);
    let same = r.diff(&vid("churn", 1), &vid("churn", 1)).unwrap();
    assert!(same.params.is_empty() && same.schema.is_empty() && same.same_artifact);
}

/// Changes one byte of an artifact behind the registry's back.
fn tamper(env: &Env, hash: &str) {
    match env.backend {
        Backend::Sqlite => {
            let path = Path::new(&env.location)
                .parent()
                .unwrap()
                .join("artifacts/sha256")
                .join(&hash[..2])
                .join(&hash[2..]);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[30] ^= 1;
            std::fs::write(&path, bytes).unwrap();
        }
        Backend::Postgres => {
            let mut db = env.store();
            let rows = db
                .query(
                    "SELECT bytes FROM artifact_chunks WHERE hash = ? AND seq = 0",
                    &[hash.into()],
                )
                .unwrap();
            let mut bytes = rows[0].blob(0).unwrap();
            bytes[30] ^= 1;
            db.execute(
                "UPDATE artifact_chunks SET bytes = ? WHERE hash = ? AND seq = 0",
                &[bytes.into(), hash.into()],
            )
            .unwrap();
        }
    }
}

fn tampered_artifact_is_detected(env: &Env) {
    let mut r = env.open();
    let v1 = r.register_bytes(&bundle(1), &opts("m")).unwrap();
    r.register_bytes(&bundle(2), &opts("m")).unwrap();
    assert!(r.verify(None).unwrap().problems.is_empty());
    tamper(env, &v1.artifact);
    let e = r.load(&vid("m", 1)).unwrap_err();
    assert!(matches!(e, RegistryError::Tampered { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("artifact sha256:{} is corrupted", v1.artifact)),
        "{e}"
    );
    assert_eq!(r.load(&vid("m", 2)).unwrap(), bundle(2));
    let report = r.verify(Some("m")).unwrap();
    assert_eq!((report.versions, report.artifacts), (2, 2));
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].versions, [vid("m", 1)]);
    // Registering the same bytes again repairs the artifact (write-once keeps only intact copies).
    r.register_bytes(&bundle(1), &opts("m")).unwrap();
    assert_eq!(r.load(&vid("m", 1)).unwrap(), bundle(1));
}

fn export_import_round_trip(env: &Env) {
    let mut r = env.open();
    r.record_run(&RunRecord {
        id: "run-a".into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        command: "train".into(),
        spec: json!({"estimator": "gbm"}),
        data_fingerprint: Some("sha256:aaaa".into()),
        candidates: Vec::new(),
        chosen: Some("gbm".into()),
        metrics: BTreeMap::new(),
        seconds: 1.0,
        versions: Vec::new(),
    })
    .unwrap();
    for seed in 1..=3 {
        r.register_bytes(
            &bundle_with(seed, |m| m.lineage.run_id = Some("run-a".into())),
            &opts("churn"),
        )
        .unwrap();
    }
    r.set_model_tag("churn", "owner", Some("risk")).unwrap();
    r.set_alias("churn", "production", 1, Expect::Any).unwrap();
    r.promote("churn", "production", 2, "better", Expect::Any)
        .unwrap();
    r.delete(&vid("churn", 3), None).unwrap();
    let file = env.dir.0.join("churn.mlship-export");
    let report = r.export("churn", &file).unwrap();
    assert_eq!(report.versions, 2);

    let mut targets = vec![env.open_second()];
    let sqlite_home = env.dir.0.join("to-sqlite");
    if env.backend == Backend::Postgres {
        targets.push(Registry::open(&Location::home(&sqlite_home)).unwrap());
    }
    for mut other in targets {
        let imported = other.import(&file).unwrap();
        assert_eq!(
            (imported.versions, imported.aliases, imported.runs),
            (2, 1, 1)
        );
        assert_eq!(
            other.versions("churn").unwrap(),
            r.versions("churn").unwrap()
        );
        assert_eq!(other.models().unwrap(), r.models().unwrap());
        let (a, b) = (
            r.history("churn", None).unwrap(),
            other.history("churn", None).unwrap(),
        );
        assert_eq!(b.len(), a.len() + 1);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (&x.at, &x.actor, &x.action, &x.before, &x.after, &x.reason),
                (&y.at, &y.actor, &y.action, &y.before, &y.after, &y.reason)
            );
        }
        assert_eq!(b.last().unwrap().action, action::IMPORT);
        assert_eq!(
            other.load(&vid("churn", 2)).unwrap(),
            r.load(&vid("churn", 2)).unwrap()
        );
        assert_eq!(other.run("run-a").unwrap().versions.len(), 2);
        // Rollback works on the imported history, and numbers continue after the last one.
        assert_eq!(
            other.rollback("churn", "production", None).unwrap().to,
            Some(1)
        );
        assert_eq!(
            other
                .register_bytes(&bundle(7), &opts("churn"))
                .unwrap()
                .version,
            4
        );
        let e = other.import(&file).unwrap_err();
        assert!(matches!(e, RegistryError::AlreadyExists { .. }), "{e}");
    }
    // A corrupted export is refused by its checksum.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let e = env.open_second().import(&file).unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    let e = env
        .open()
        .import(Path::new(&env.dir.0.join("missing")))
        .unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
}

fn gc_removes_only_unreferenced_artifacts(env: &Env) {
    let mut r = env.open();
    for seed in 1..=3 {
        r.register_bytes(&bundle(seed), &opts("m")).unwrap();
    }
    r.register_bytes(&bundle(1), &opts("m")).unwrap(); // shares version 1's artifact
    r.delete(&vid("m", 1), None).unwrap();
    r.delete(&vid("m", 2), None).unwrap();
    let report = r.gc().unwrap();
    assert_eq!(report.removed, [mlship_registry::sha256_hex(&bundle(2))]);
    assert_eq!(report.kept, 2);
    assert_eq!(report.bytes_freed, bundle(2).len() as u64);
    assert_eq!(r.load(&vid("m", 4)).unwrap(), bundle(1));
    assert!(r.gc().unwrap().removed.is_empty());
    assert!(r.verify(None).unwrap().problems.is_empty());
}

fn runs_are_recorded_and_linked(env: &Env) {
    let mut r = env.open();
    let id = mlship_registry::new_run_id();
    assert!(id.starts_with("run-"), "{id}");
    let run = RunRecord {
        id: id.clone(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        command: "run".into(),
        spec: json!({"task": "binary", "candidates": ["logreg", "gbm"]}),
        data_fingerprint: Some("sha256:aaaa".into()),
        candidates: vec![
            RunCandidate {
                name: "logreg".into(),
                params: json!({"c": 1.0}),
                cv_scores: BTreeMap::from([("roc_auc".into(), vec![0.8, 0.82, 0.84])]),
                fit_seconds: 0.5,
                score_seconds: 0.1,
                error: None,
            },
            RunCandidate {
                name: "gbm".into(),
                params: json!({"max_depth": 6}),
                cv_scores: BTreeMap::from([("roc_auc".into(), vec![0.9, 0.91, 0.92])]),
                fit_seconds: 2.0,
                score_seconds: 0.2,
                error: None,
            },
        ],
        chosen: Some("gbm".into()),
        metrics: BTreeMap::from([("roc_auc".into(), 0.91)]),
        seconds: 3.0,
        versions: Vec::new(),
    };
    r.record_run(&run).unwrap();
    assert!(matches!(
        r.record_run(&run),
        Err(RegistryError::AlreadyExists { .. })
    ));
    assert!(
        r.record_run(&RunRecord {
            id: "../x".into(),
            ..run.clone()
        })
        .is_err()
    );
    r.register_bytes(
        &bundle_with(1, |m| m.lineage.run_id = Some(id.clone())),
        &opts("churn"),
    )
    .unwrap();
    let got = r.run(&id).unwrap();
    assert_eq!(got.versions, [vid("churn", 1)]);
    assert_eq!(got.candidates, run.candidates);
    assert!((got.candidates[1].mean("roc_auc").unwrap() - 0.91).abs() < 1e-12);
    assert_eq!(r.runs().unwrap().len(), 1);
    assert!(r.run("run-missing").is_err());
}

// ------------------------------------------------------------------------------------------
// Real processes
// ------------------------------------------------------------------------------------------

const CHILD_ENV: &str = "MLSHIP_REGISTRY_CHILD";
const LOCATION_ENV: &str = "MLSHIP_REGISTRY_CHILD_LOCATION";

/// Starts this test binary as a child in `role` against `env`'s registry.
fn spawn(env: &Env, role: &str, extra: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .env(LOCATION_ENV, &env.location)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits for a child (at most two minutes) and returns its `RESULT` lines.
fn finish(child: Child) -> Vec<String> {
    let start = Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_mins(2) {
            let _ = child.kill();
            panic!("a child process did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        // The harness prints `test child_role ... ` before the child's first line.
        .filter_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_owned()))
        .collect()
}

/// The child side: does nothing unless started by [`spawn`].
#[test]
fn child_role() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let location = Location::parse(&std::env::var(LOCATION_ENV).unwrap());
    let seed: u64 = std::env::var("SEED").map_or(0, |s| s.parse().unwrap());
    let mut r = Registry::open(&location)
        .unwrap()
        .with_actor(format!("child-{seed}"));
    match role.as_str() {
        "register" => {
            let n: u64 = std::env::var("COUNT").map_or(1, |s| s.parse().unwrap());
            for i in 0..n {
                let v = r
                    .register_bytes(&bundle(seed * 1000 + i), &opts("shared"))
                    .unwrap();
                println!("RESULT {}", v.version);
            }
        }
        "promote" => {
            let n: u64 = std::env::var("COUNT").map_or(1, |s| s.parse().unwrap());
            let mut moves = 0;
            for i in 0..n {
                let target = (seed + i) % 3 + 1;
                loop {
                    let current = r.alias("shared", "production").unwrap();
                    match r.promote("shared", "production", target, "race", Expect::At(current)) {
                        Ok(m) => {
                            moves += u64::from(m.changed);
                            break;
                        }
                        Err(RegistryError::Conflict { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            println!("RESULT {moves}");
        }
        other => panic!("unknown child role {other}"),
    }
}

fn concurrent_registers_get_distinct_numbers(env: &Env) {
    env.open(); // migrate once, before the race
    let children: Vec<Child> = (1..=4)
        .map(|seed| {
            spawn(
                env,
                "register",
                &[("SEED", seed.to_string()), ("COUNT", "5".into())],
            )
        })
        .collect();
    let mut numbers = BTreeSet::new();
    for c in children {
        for line in finish(c) {
            assert!(
                numbers.insert(line.parse::<u64>().unwrap()),
                "number {line} given twice"
            );
        }
    }
    assert_eq!(numbers, (1..=20).collect());
    let mut r = env.open();
    assert_eq!(r.versions("shared").unwrap().len(), 20);
    assert!(r.verify(None).unwrap().problems.is_empty());
}

fn racing_promotions_lose_no_audit_entry(env: &Env) {
    let mut r = env.open();
    for seed in 1..=3 {
        r.register_bytes(&bundle(seed), &opts("shared")).unwrap();
    }
    let children: Vec<Child> = (1..=4)
        .map(|seed| {
            spawn(
                env,
                "promote",
                &[("SEED", seed.to_string()), ("COUNT", "8".into())],
            )
        })
        .collect();
    let moves: u64 = children
        .into_iter()
        .map(|c| finish(c)[0].parse::<u64>().unwrap())
        .sum();
    let history = r.history("shared", Some("production")).unwrap();
    assert_eq!(history.len() as u64, moves);
    // Every move starts where the one before it ended.
    let mut at: Option<String> = None;
    for e in &history {
        assert_eq!(
            e.before, at,
            "audit entry {} does not follow its predecessor",
            e.id
        );
        at.clone_from(&e.after);
    }
    assert_eq!(
        r.alias("shared", "production")
            .unwrap()
            .map(|v| v.to_string()),
        at
    );
}

fn killed_register_leaves_no_half_version(env: &Env) {
    let mut r = env.open();
    r.register_bytes(&bundle(1), &opts("shared")).unwrap();
    let steps = [
        "verified",
        "numbered",
        "artifact-written",
        "inserted",
        "committed",
    ];
    let mut expected = 1;
    for (i, step) in steps.iter().enumerate() {
        let mut child = spawn(
            env,
            "register",
            &[
                (PAUSE_ENV, (*step).to_owned()),
                ("SEED", (100 + i).to_string()),
            ],
        );
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let marker = format!("paused at {step}");
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains(&marker) => break,
                Some(Ok(_)) => {}
                _ => panic!("the child ended before pausing at {step}"),
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if *step == "committed" {
            expected += 1;
        }
        let mut after = env.open();
        let versions = after.versions("shared").unwrap();
        assert_eq!(versions.len(), expected, "after a kill at {step}");
        assert!(
            after.verify(None).unwrap().problems.is_empty(),
            "after a kill at {step}"
        );
        let registers = after
            .history("shared", None)
            .unwrap()
            .iter()
            .filter(|e| e.action == action::REGISTER)
            .count();
        assert_eq!(registers, expected, "after a kill at {step}");
    }
    // Kills at arbitrary moments of a busy writer.
    for round in 0..6u64 {
        let mut child = spawn(
            env,
            "register",
            &[
                ("SEED", (200 + round).to_string()),
                ("COUNT", "1000".into()),
            ],
        );
        std::thread::sleep(Duration::from_millis(150 + 37 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        let mut after = env.open();
        let versions = after.versions("shared").unwrap();
        let numbers: Vec<u64> = versions.iter().map(|v| v.version).collect();
        assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
        assert!(after.verify(None).unwrap().problems.is_empty());
    }
    // Later commands work, and gc clears what interrupted writes left.
    let v = r.register_bytes(&bundle(999), &opts("shared")).unwrap();
    r.set_alias("shared", "production", v.version, Expect::Any)
        .unwrap();
    r.gc().unwrap();
    assert!(r.gc().unwrap().removed.is_empty());
    assert_eq!(r.verify(None).unwrap().problems.len(), 0);
    assert_eq!(r.load(&v.id()).unwrap(), bundle(999));
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::run(super::Backend::Sqlite, stringify!($name), super::$name);
                }
            )*
        }
        mod postgresql {
            $(
                #[test]
                fn $name() {
                    super::run(super::Backend::Postgres, stringify!($name), super::$name);
                }
            )*
        }
    };
}

both_stores!(
    register_list_show,
    invalid_input_is_refused_and_leaves_nothing,
    aliases_promote_rollback_history,
    archive_and_delete_rules,
    search_and_diff,
    tampered_artifact_is_detected,
    export_import_round_trip,
    gc_removes_only_unreferenced_artifacts,
    runs_are_recorded_and_linked,
    concurrent_registers_get_distinct_numbers,
    racing_promotions_lose_no_audit_entry,
    killed_register_leaves_no_half_version,
);

#[test]
fn model_uris_name_files_or_versions() {
    let dir = TempDir::new("uris");
    let file = dir.0.join("m.mlship");
    std::fs::write(&file, bundle(1)).unwrap();
    let loaded = mlship_registry::load_model(&ModelUri::File(file.clone()), || {
        panic!("a file needs no registry")
    })
    .unwrap();
    assert_eq!((loaded.bytes, loaded.version), (bundle(1), None));
    let _: Value = json!(null);
}
