//! The registry: every operation, written once against [`Store`] and [`ArtifactStore`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use mlship_core::bundle::Envelope;
use mlship_core::manifest::Manifest;
use mlship_core::time::{now_ms, rfc3339_ms};
use serde_json::Value;

use crate::artifact::{ArtifactStore, DbArtifacts, FsArtifacts, sha256_hex};
use crate::error::{RegistryError, Result};
use crate::names::{validate_alias, validate_model_name, validate_tag_key, validate_text};
use crate::postgres::{PostgresStore, split_schema};
use crate::search::Query;
use crate::sqlite::SqliteStore;
use crate::store::{Row, SqlValue, Store, finish, migrate};
use crate::types::{
    AliasMove, AuditEntry, Change, Diff, GcReport, MetricChange, ModelDetail, ModelSummary, Status,
    VerifyProblem, VerifyReport, VersionId, VersionRecord, action,
};
use crate::uri::ModelUri;

/// The environment variable naming the registry home (default `./.mlship`).
pub const HOME_ENV: &str = "MLSHIP_HOME";
/// The environment variable naming the registry (a PostgreSQL URL or an SQLite file).
pub const REGISTRY_ENV: &str = "MLSHIP_REGISTRY";
/// A test hook: when set to a step of `register`, the process stops there (printing
/// `mlship-registry: paused at STEP` on stderr) until it is killed. Steps: `verified`,
/// `numbered`, `artifact-written`, `inserted`, `committed`.
pub const PAUSE_ENV: &str = "MLSHIP_REGISTRY_TEST_PAUSE_AT";

/// Where a registry lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite database file with its artifacts folder.
    Sqlite {
        /// The database file (`registry.db`).
        db: PathBuf,
        /// The artifacts folder (`artifacts/`, beside the database).
        artifacts: PathBuf,
    },
    /// A PostgreSQL server (metadata and artifacts).
    Postgres {
        /// The connection URL, optionally with `?schema=NAME`.
        url: String,
    },
}

impl Location {
    /// A `postgres://` or `postgresql://` URL, or else the path of an SQLite file (whose
    /// artifacts are kept in `artifacts/` beside it).
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Self::Postgres {
                url: text.to_owned(),
            };
        }
        let db = PathBuf::from(text);
        let artifacts = match db.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join("artifacts"),
            _ => PathBuf::from("artifacts"),
        };
        Self::Sqlite { db, artifacts }
    }

    /// The SQLite registry in a home folder: `HOME/registry.db` and `HOME/artifacts/`.
    pub fn home(home: &Path) -> Self {
        Self::Sqlite {
            db: home.join("registry.db"),
            artifacts: home.join("artifacts"),
        }
    }

    /// The registry a command uses: `flag` (`--registry`), else `$MLSHIP_REGISTRY`, else the
    /// SQLite registry in `$MLSHIP_HOME` (default `./.mlship`).
    pub fn from_env(flag: Option<&str>) -> Self {
        if let Some(text) = flag.filter(|t| !t.is_empty()) {
            return Self::parse(text);
        }
        if let Some(text) = std::env::var(REGISTRY_ENV).ok().filter(|t| !t.is_empty()) {
            return Self::parse(&text);
        }
        let home = std::env::var_os(HOME_ENV)
            .filter(|h| !h.is_empty())
            .map_or_else(|| PathBuf::from(".mlship"), PathBuf::from);
        Self::home(&home)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { db, .. } => write!(f, "{}", db.display()),
            Self::Postgres { url } => {
                // Hide a password: postgres://user:secret@host → postgres://user@host.
                let (url, schema) = split_schema(url);
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(s), Some(at)) if at > s => {
                        let cred = &url[s + 3..at];
                        let user = cred.split(':').next().unwrap_or("");
                        format!("{}{user}{}", &url[..s + 3], &url[at..])
                    }
                    _ => url,
                };
                match schema {
                    Some(s) => write!(f, "{shown}?schema={s}"),
                    None => write!(f, "{shown}"),
                }
            }
        }
    }
}

/// What to register: the model's name, and labels and a note for the version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterOptions {
    /// The registered model's name (created on its first version).
    pub name: String,
    /// Tags for the version (added to the bundle's own).
    pub tags: BTreeMap<String, String>,
    /// A note for the version (and the model's description when it is created).
    pub description: Option<String>,
}

/// A model registry: a metadata [`Store`] and an [`ArtifactStore`].
///
/// Every method takes `&mut self`: one `Registry` is one database connection. Open one per
/// thread, or share one behind a mutex.
#[derive(Debug)]
pub struct Registry {
    db: Box<dyn Store>,
    artifacts: Box<dyn ArtifactStore>,
    actor: String,
}

fn pause_at(step: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var(PAUSE_ENV).ok());
    if at.as_deref() == Some(step) {
        eprintln!("mlship-registry: paused at {step}");
        loop {
            std::thread::sleep(std::time::Duration::from_hours(1));
        }
    }
}

/// The actor recorded in the audit log when none is given: `$USER`, else `unknown`.
pub fn default_actor() -> String {
    std::env::var("USER")
        .ok()
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

const VERSION_COLS: &str = "m.name, v.id, v.number, v.status, v.created_ms, v.artifact, v.size, \
     v.kind, v.task, v.run_id, v.experiment, v.parent_version, v.mlship_version, \
     v.data_fingerprint, v.description, v.params, v.metrics, v.schema_json, v.lineage";

fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        RegistryError::Invalid(format!("registry data: {what} is not valid JSON: {e}"))
    })
}

/// A version row (without tags and aliases) and its internal id.
fn version_from_row(r: &Row) -> Result<(i64, VersionRecord)> {
    let status = r.text(3)?;
    let metrics: BTreeMap<String, f64> =
        serde_json::from_value(parse_json(&r.text(16)?, "metrics")?)
            .map_err(|e| RegistryError::Invalid(format!("registry data: metrics: {e}")))?;
    Ok((
        r.int(1)?,
        VersionRecord {
            model: r.text(0)?,
            version: r.uint(2)?,
            status: Status::parse(&status).ok_or_else(|| {
                RegistryError::Invalid(format!("registry data: unknown status {status:?}"))
            })?,
            created_at: rfc3339_ms(r.int(4)?),
            artifact: r.text(5)?,
            size: r.uint(6)?,
            kind: r.text(7)?,
            task: r.opt_text(8)?,
            run_id: r.opt_text(9)?,
            experiment: r.opt_text(10)?,
            parent_version: r.opt_text(11)?,
            mlship_version: r.text(12)?,
            data_fingerprint: r.opt_text(13)?,
            description: r.opt_text(14)?,
            params: parse_json(&r.text(15)?, "params")?,
            metrics,
            schema: r
                .opt_text(17)?
                .map(|s| parse_json(&s, "schema"))
                .transpose()?,
            lineage: parse_json(&r.text(18)?, "lineage")?,
            tags: BTreeMap::new(),
            aliases: Vec::new(),
        },
    ))
}

/// Versions matching `cond` (over `v` and `m`), oldest first, with their tags and aliases;
/// without their input schema unless `with_schema` (lists stay fast on large registries).
fn load_versions(
    db: &mut dyn Store,
    cond: &str,
    params: &[SqlValue],
    with_schema: bool,
) -> Result<Vec<VersionRecord>> {
    let cols = if with_schema {
        VERSION_COLS.to_owned()
    } else {
        VERSION_COLS.replace("v.schema_json", "NULL")
    };
    let rows = db.query(
        &format!(
            "SELECT {cols} FROM versions v JOIN models m ON m.id = v.model_id \
             WHERE {cond} ORDER BY m.name, v.number"
        ),
        params,
    )?;
    let mut out = Vec::with_capacity(rows.len());
    let mut index = HashMap::with_capacity(rows.len());
    for r in &rows {
        let (id, rec) = version_from_row(r)?;
        index.insert(id, out.len());
        out.push(rec);
    }
    if out.is_empty() {
        return Ok(out);
    }
    for r in db.query(
        &format!(
            "SELECT t.version_id, t.key, t.value FROM version_tags t \
             JOIN versions v ON v.id = t.version_id JOIN models m ON m.id = v.model_id WHERE {cond}"
        ),
        params,
    )? {
        if let Some(&i) = index.get(&r.int(0)?) {
            out[i].tags.insert(r.text(1)?, r.text(2)?);
        }
    }
    for r in db.query(
        &format!(
            "SELECT a.version_id, a.alias FROM aliases a \
             JOIN versions v ON v.id = a.version_id JOIN models m ON m.id = v.model_id \
             WHERE {cond} ORDER BY a.alias"
        ),
        params,
    )? {
        if let Some(&i) = index.get(&r.int(0)?) {
            out[i].aliases.push(r.text(1)?);
        }
    }
    Ok(out)
}

fn model_id(db: &mut dyn Store, name: &str) -> Result<i64> {
    validate_model_name(name)?;
    db.query("SELECT id FROM models WHERE name = ?", &[name.into()])?
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .ok_or_else(|| RegistryError::ModelNotFound {
            name: name.to_owned(),
        })
}

/// The internal id and status of `model/version`.
fn version_row(db: &mut dyn Store, model_id: i64, id: &VersionId) -> Result<(i64, Status)> {
    let rows = db.query(
        "SELECT id, status FROM versions WHERE model_id = ? AND number = ?",
        &[SqlValue::Int(model_id), id.version.into()],
    )?;
    let r = rows.first().ok_or_else(|| RegistryError::VersionNotFound {
        model: id.model.clone(),
        version: id.version,
    })?;
    let status = r.text(1)?;
    Ok((
        r.int(0)?,
        Status::parse(&status).unwrap_or(Status::Archived),
    ))
}

/// Where `alias` points (a version number), if set.
fn alias_target(db: &mut dyn Store, model_id: i64, alias: &str) -> Result<Option<u64>> {
    db.query(
        "SELECT v.number FROM aliases a JOIN versions v ON v.id = a.version_id \
         WHERE a.model_id = ? AND a.alias = ?",
        &[SqlValue::Int(model_id), alias.into()],
    )?
    .first()
    .map(|r| r.uint(0))
    .transpose()
}

fn aliases_of(db: &mut dyn Store, version_id: i64) -> Result<Vec<String>> {
    db.query(
        "SELECT alias FROM aliases WHERE version_id = ? ORDER BY alias",
        &[SqlValue::Int(version_id)],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// One audit entry, as the registry appends it.
pub(crate) struct Event<'a> {
    pub model: &'a str,
    pub action: &'a str,
    pub alias: Option<&'a str>,
    pub version: Option<u64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<&'a str>,
}

pub(crate) fn append_audit(
    db: &mut dyn Store,
    at_ms: i64,
    actor: &str,
    e: &Event<'_>,
) -> Result<()> {
    db.execute(
        "INSERT INTO audit (at_ms, actor, model, action, alias, version, before_value, after_value, reason) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            SqlValue::Int(at_ms),
            actor.into(),
            e.model.into(),
            e.action.into(),
            e.alias.into(),
            e.version.into(),
            e.before.clone().into(),
            e.after.clone().into(),
            e.reason.into(),
        ],
    )?;
    Ok(())
}

pub(crate) fn audit_from_row(r: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.uint(0)?,
        at: rfc3339_ms(r.int(1)?),
        actor: r.text(2)?,
        model: r.text(3)?,
        action: r.text(4)?,
        alias: r.opt_text(5)?,
        version: r.opt_int(6)?.map(|v| v as u64),
        before: r.opt_text(7)?,
        after: r.opt_text(8)?,
        reason: r.opt_text(9)?,
    })
}

pub(crate) const AUDIT_COLS: &str =
    "id, at_ms, actor, model, action, alias, version, before_value, after_value, reason";

fn num_text(v: Option<u64>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// What an alias must point at for a move to happen: compare-and-set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Move it wherever it points.
    Any,
    /// Move it only if it points here (`None`: only if it is unset).
    At(Option<u64>),
}

/// How an alias should move.
#[derive(Debug, Clone, Copy)]
enum Target {
    To(u64),
    Remove,
    Rollback,
}

impl Registry {
    /// Opens (creating and migrating if needed) the registry at `location`.
    pub fn open(location: &Location) -> Result<Self> {
        match location {
            Location::Sqlite { db, artifacts } => Self::new(
                Box::new(SqliteStore::open(db)?),
                Box::new(FsArtifacts::new(artifacts)),
            ),
            Location::Postgres { url } => Self::new(
                Box::new(PostgresStore::connect(url)?),
                Box::new(DbArtifacts),
            ),
        }
    }

    /// A registry over `db` and `artifacts`, after applying any missing schema migration.
    pub fn new(mut db: Box<dyn Store>, artifacts: Box<dyn ArtifactStore>) -> Result<Self> {
        migrate(db.as_mut())?;
        Ok(Self {
            db,
            artifacts,
            actor: default_actor(),
        })
    }

    /// Records `actor` (instead of `$USER`) in the audit log.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The metadata store's kind.
    pub fn kind(&self) -> crate::StoreKind {
        self.db.kind()
    }

    /// The database file or server, for messages.
    pub fn location(&self) -> String {
        self.db.location()
    }

    /// The artifact store's location, for messages.
    pub fn artifact_location(&self) -> String {
        self.artifacts.location()
    }

    /// Runs `f` in a write transaction (holding the registry's write lock); commits if it
    /// succeeds, rolls back otherwise.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Store, &dyn ArtifactStore, &str) -> Result<T>,
    ) -> Result<T> {
        self.db.begin(true)?;
        let result = f(self.db.as_mut(), self.artifacts.as_ref(), &self.actor);
        finish(self.db.as_mut(), result)
    }

    /// Runs `f` in a read transaction on one snapshot.
    fn read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Store, &dyn ArtifactStore) -> Result<T>,
    ) -> Result<T> {
        self.db.begin(false)?;
        let result = f(self.db.as_mut(), self.artifacts.as_ref());
        finish(self.db.as_mut(), result)
    }

    /// Registers a bundle file as the next version of `options.name`.
    pub fn register_file(
        &mut self,
        path: &Path,
        options: &RegisterOptions,
    ) -> Result<VersionRecord> {
        let bytes = std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RegistryError::Bundle(mlship_core::bundle::BundleError::NotFound {
                    path: path.to_owned(),
                })
            } else {
                RegistryError::io("read", path, e)
            }
        })?;
        self.register_bytes(&bytes, options).map_err(|e| match e {
            RegistryError::Bundle(b) => RegistryError::Bundle(b.with_path(path)),
            e => e,
        })
    }

    #[allow(clippy::too_many_lines)] // one transaction, read top to bottom
    /// Registers bundle bytes as the next version of `options.name`: verifies the bundle's
    /// checksum, reads its manifest, stores the bytes by their SHA-256 and records the version
    /// with the parameters, metrics, data fingerprint, schema and lineage of its manifest.
    ///
    /// The version number is taken, the artifact written and the version recorded in one
    /// write transaction: concurrent registrations get distinct numbers, and a process that dies
    /// part-way leaves no version behind (at most an unreferenced artifact for [`Self::gc`]).
    pub fn register_bytes(
        &mut self,
        bytes: &[u8],
        options: &RegisterOptions,
    ) -> Result<VersionRecord> {
        validate_model_name(&options.name)?;
        for (k, v) in &options.tags {
            validate_tag_key(k)?;
            validate_text("tag value", v)?;
        }
        if let Some(d) = &options.description {
            validate_text("description", d)?;
        }
        let envelope = Envelope::from_bytes(bytes)?;
        let manifest = Manifest::from_json(&envelope.manifest)?;
        let mut tags = BTreeMap::new();
        for (k, v) in &manifest.tags {
            // The bundle's own tags are kept when they are valid registry tags.
            if validate_tag_key(k).is_ok() && validate_text("tag value", v).is_ok() {
                tags.insert(k.clone(), v.clone());
            }
        }
        tags.extend(options.tags.clone());
        let hash = sha256_hex(bytes);
        let lineage = serde_json::to_value(&manifest.lineage).unwrap_or(Value::Null);
        let schema = manifest
            .schema
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .map(|s| s.to_string());
        let params = manifest.params.to_string();
        let metrics = serde_json::to_string(&manifest.metrics).unwrap_or_else(|_| "{}".into());
        pause_at("verified");
        let name = options.name.as_str();
        let number = self.write(|db, artifacts, actor| {
            let now = now_ms();
            let existing = db
                .query("SELECT id, next_version FROM models WHERE name = ?", &[name.into()])?
                .first()
                .map(|r| Ok::<_, RegistryError>((r.int(0)?, r.uint(1)?)))
                .transpose()?;
            let (model_id, number) = if let Some(m) = existing { m } else {
                let id = db
                    .query(
                        "INSERT INTO models (name, description, created_ms, next_version) \
                         VALUES (?, ?, ?, 1) RETURNING id",
                        &[name.into(), options.description.clone().into(), SqlValue::Int(now)],
                    )?
                    .first()
                    .map(|r| r.int(0))
                    .transpose()?
                    .ok_or_else(|| RegistryError::Invalid("the model row was not created".into()))?;
                (id, 1)
            };
            db.execute(
                "UPDATE models SET next_version = ? WHERE id = ?",
                &[(number + 1).into(), SqlValue::Int(model_id)],
            )?;
            pause_at("numbered");
            artifacts.put(db, &hash, bytes)?;
            pause_at("artifact-written");
            let version_id = db
                .query(
                    "INSERT INTO versions (model_id, number, artifact, size, created_ms, status, kind, task, \
                     run_id, experiment, parent_version, mlship_version, data_fingerprint, description, \
                     params, metrics, schema_json, lineage) \
                     VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    &[
                        SqlValue::Int(model_id),
                        number.into(),
                        hash.as_str().into(),
                        (bytes.len() as u64).into(),
                        SqlValue::Int(now),
                        manifest.kind.as_str().into(),
                        manifest.task.as_ref().map(mlship_core::Task::name).into(),
                        manifest.lineage.run_id.clone().into(),
                        manifest.lineage.experiment.clone().into(),
                        manifest.lineage.parent_version.clone().into(),
                        manifest.mlship_version.as_str().into(),
                        manifest.lineage.data_fingerprint.clone().into(),
                        options.description.clone().into(),
                        params.as_str().into(),
                        metrics.as_str().into(),
                        schema.clone().into(),
                        lineage.to_string().into(),
                    ],
                )?
                .first()
                .map(|r| r.int(0))
                .transpose()?
                .ok_or_else(|| RegistryError::Invalid("the version row was not created".into()))?;
            for (k, v) in &tags {
                db.execute(
                    "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)",
                    &[SqlValue::Int(version_id), k.into(), v.into()],
                )?;
            }
            append_audit(
                db,
                now,
                actor,
                &Event {
                    model: name,
                    action: action::REGISTER,
                    alias: None,
                    version: Some(number),
                    before: None,
                    after: Some(Status::Active.name().to_owned()),
                    reason: options.description.as_deref(),
                },
            )?;
            pause_at("inserted");
            Ok(number)
        })?;
        pause_at("committed");
        self.version(&VersionId {
            model: options.name.clone(),
            version: number,
        })
    }

    /// Every registered model, by name.
    pub fn models(&mut self) -> Result<Vec<ModelSummary>> {
        self.read(|db, _| list_models(db, None))
    }

    /// One model with all its versions.
    pub fn model(&mut self, name: &str) -> Result<ModelDetail> {
        self.read(|db, _| {
            let id = model_id(db, name)?;
            let model =
                list_models(db, Some(id))?
                    .pop()
                    .ok_or_else(|| RegistryError::ModelNotFound {
                        name: name.to_owned(),
                    })?;
            let version_list = load_versions(db, "v.model_id = ?", &[SqlValue::Int(id)], false)?;
            Ok(ModelDetail {
                model,
                version_list,
            })
        })
    }

    /// A model's versions, oldest first.
    pub fn versions(&mut self, name: &str) -> Result<Vec<VersionRecord>> {
        self.read(|db, _| {
            let id = model_id(db, name)?;
            load_versions(db, "v.model_id = ?", &[SqlValue::Int(id)], false)
        })
    }

    /// One version.
    pub fn version(&mut self, id: &VersionId) -> Result<VersionRecord> {
        self.read(|db, _| {
            let mid = model_id(db, &id.model)?;
            load_versions(
                db,
                "v.model_id = ? AND v.number = ?",
                &[SqlValue::Int(mid), id.version.into()],
                true,
            )?
            .pop()
            .ok_or_else(|| RegistryError::VersionNotFound {
                model: id.model.clone(),
                version: id.version,
            })
        })
    }

    /// The version a registry URI names (`NAME@ALIAS`, `NAME/VERSION`, `NAME@latest`).
    /// A file URI is an error: it names no registered version.
    pub fn resolve(&mut self, uri: &ModelUri) -> Result<VersionId> {
        let db = self.db.as_mut();
        match uri {
            ModelUri::File(p) => Err(RegistryError::InvalidUri {
                uri: p.display().to_string(),
                reason: "a bundle file is not a registered version".into(),
            }),
            ModelUri::Alias { model, alias } => {
                validate_alias(alias)?;
                let rows = db.query(
                    "SELECT v.number FROM aliases a JOIN models m ON m.id = a.model_id \
                     JOIN versions v ON v.id = a.version_id WHERE m.name = ? AND a.alias = ?",
                    &[model.into(), alias.into()],
                )?;
                if let Some(r) = rows.first() {
                    Ok(VersionId {
                        model: model.clone(),
                        version: r.uint(0)?,
                    })
                } else {
                    model_id(db, model)?;
                    Err(RegistryError::AliasNotFound {
                        model: model.clone(),
                        alias: alias.clone(),
                    })
                }
            }
            ModelUri::Latest { model } => {
                let id = model_id(db, model)?;
                let latest = db
                    .query(
                        "SELECT MAX(number) FROM versions WHERE model_id = ? AND status = 'active'",
                        &[SqlValue::Int(id)],
                    )?
                    .first()
                    .map(|r| r.opt_int(0))
                    .transpose()?
                    .flatten();
                latest
                    .map(|v| VersionId {
                        model: model.clone(),
                        version: v as u64,
                    })
                    .ok_or_else(|| RegistryError::NoVersions {
                        model: model.clone(),
                    })
            }
            ModelUri::Version { model, version } => {
                let id = VersionId {
                    model: model.clone(),
                    version: *version,
                };
                let mid = model_id(db, model)?;
                version_row(db, mid, &id)?;
                Ok(id)
            }
        }
    }

    /// The record of the version a registry URI names.
    pub fn record(&mut self, uri: &ModelUri) -> Result<VersionRecord> {
        let id = self.resolve(uri)?;
        self.version(&id)
    }

    /// A version's bundle bytes, verified against their SHA-256.
    pub fn load(&mut self, id: &VersionId) -> Result<Vec<u8>> {
        self.read(|db, artifacts| {
            let mid = model_id(db, &id.model)?;
            let hash = db
                .query(
                    "SELECT artifact FROM versions WHERE model_id = ? AND number = ?",
                    &[SqlValue::Int(mid), id.version.into()],
                )?
                .first()
                .map(|r| r.text(0))
                .transpose()?
                .ok_or_else(|| RegistryError::VersionNotFound {
                    model: id.model.clone(),
                    version: id.version,
                })?;
            artifacts.get(db, &hash)
        })
    }

    /// Versions matching a search query (see [`Query`]), by model and number.
    pub fn search(&mut self, query: &str) -> Result<Vec<VersionRecord>> {
        let q = Query::parse(query)?;
        let kind = self.db.kind();
        let all = self.read(|db, _| {
            let (mut cond, mut params) = q.prefilter(kind);
            if q.has_name_terms() {
                // Model names are few: match them here, exactly, and read only their versions.
                let mut ids = Vec::new();
                for r in db.query("SELECT id, name FROM models", &[])? {
                    if q.matches_name(&r.text(1)?) {
                        ids.push(r.int(0)?);
                    }
                }
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let marks = vec!["?"; ids.len()].join(", ");
                cond = format!("v.model_id IN ({marks}) AND {cond}");
                params.splice(0..0, ids.into_iter().map(SqlValue::Int));
            }
            load_versions(db, &cond, &params, false)
        })?;
        Ok(all.into_iter().filter(|v| q.matches(v)).collect())
    }

    /// The differences between two versions: parameters, metrics, schema, data fingerprint.
    pub fn diff(&mut self, a: &VersionId, b: &VersionId) -> Result<Diff> {
        let x = self.version(a)?;
        let y = self.version(b)?;
        Ok(diff_records(&x, &y))
    }

    /// Where `alias` of `model` points.
    pub fn alias(&mut self, model: &str, alias: &str) -> Result<Option<u64>> {
        validate_alias(alias)?;
        self.read(|db, _| {
            let id = model_id(db, model)?;
            alias_target(db, id, alias)
        })
    }

    /// Points `alias` at `version` (creating it if needed). With `expected`, the move happens
    /// only if the alias still points there ([`Expect::At`]) — compare-and-set.
    pub fn set_alias(
        &mut self,
        model: &str,
        alias: &str,
        version: u64,
        expected: Expect,
    ) -> Result<AliasMove> {
        self.move_alias(
            model,
            alias,
            Target::To(version),
            expected,
            action::ALIAS_SET,
            None,
        )
    }

    /// Removes `alias` (compare-and-set with `expected`, as in [`Self::set_alias`]).
    pub fn remove_alias(
        &mut self,
        model: &str,
        alias: &str,
        expected: Expect,
    ) -> Result<AliasMove> {
        self.move_alias(
            model,
            alias,
            Target::Remove,
            expected,
            action::ALIAS_REMOVE,
            None,
        )
    }

    /// Moves `alias` to `version` with a reason, recorded as a promotion (compare-and-set with
    /// `expected`, as in [`Self::set_alias`]).
    pub fn promote(
        &mut self,
        model: &str,
        alias: &str,
        version: u64,
        reason: &str,
        expected: Expect,
    ) -> Result<AliasMove> {
        self.move_alias(
            model,
            alias,
            Target::To(version),
            expected,
            action::PROMOTE,
            Some(reason),
        )
    }

    /// Moves `alias` back to the version it held before its last move that has not been rolled
    /// back already (so repeated rollbacks walk back through the alias's history), recorded as
    /// a rollback.
    pub fn rollback(
        &mut self,
        model: &str,
        alias: &str,
        reason: Option<&str>,
    ) -> Result<AliasMove> {
        self.move_alias(
            model,
            alias,
            Target::Rollback,
            Expect::Any,
            action::ROLLBACK,
            reason,
        )
    }

    fn move_alias(
        &mut self,
        model: &str,
        alias: &str,
        target: Target,
        expected: Expect,
        act: &str,
        reason: Option<&str>,
    ) -> Result<AliasMove> {
        validate_model_name(model)?;
        validate_alias(alias)?;
        if let Some(r) = reason {
            validate_text("reason", r)?;
        }
        self.write(|db, _, actor| {
            let mid = model_id(db, model)?;
            let current = alias_target(db, mid, alias)?;
            if let Expect::At(exp) = expected
                && exp != current
            {
                let show = |v: Option<u64>| v.map_or_else(|| "none".to_owned(), |v| format!("version {v}"));
                return Err(RegistryError::Conflict {
                    model: model.to_owned(),
                    alias: alias.to_owned(),
                    expected: show(exp),
                    found: show(current),
                });
            }
            let to = match target {
                Target::To(v) => Some(v),
                Target::Remove => {
                    if current.is_none() {
                        return Err(RegistryError::AliasNotFound {
                            model: model.to_owned(),
                            alias: alias.to_owned(),
                        });
                    }
                    None
                }
                Target::Rollback => Some(rollback_target(db, model, alias, current)?),
            };
            let mut version_id = None;
            if let Some(v) = to {
                let id = VersionId {
                    model: model.to_owned(),
                    version: v,
                };
                let (vid, status) = version_row(db, mid, &id)?;
                if status == Status::Archived {
                    return Err(RegistryError::Archived {
                        model: model.to_owned(),
                        version: v,
                    });
                }
                version_id = Some(vid);
            }
            let changed = current != to;
            if changed {
                match version_id {
                    Some(vid) => db.execute(
                        "INSERT INTO aliases (model_id, alias, version_id) VALUES (?, ?, ?) \
                         ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id",
                        &[SqlValue::Int(mid), alias.into(), SqlValue::Int(vid)],
                    )?,
                    None => db.execute(
                        "DELETE FROM aliases WHERE model_id = ? AND alias = ?",
                        &[SqlValue::Int(mid), alias.into()],
                    )?,
                };
                append_audit(
                    db,
                    now_ms(),
                    actor,
                    &Event {
                        model,
                        action: act,
                        alias: Some(alias),
                        version: to,
                        before: num_text(current),
                        after: num_text(to),
                        reason,
                    },
                )?;
            }
            Ok(AliasMove {
                model: model.to_owned(),
                alias: alias.to_owned(),
                from: current,
                to,
                changed,
            })
        })
    }

    /// The audit log of a model (optionally of one alias), oldest first.
    pub fn history(&mut self, model: &str, alias: Option<&str>) -> Result<Vec<AuditEntry>> {
        validate_model_name(model)?;
        if let Some(a) = alias {
            validate_alias(a)?;
        }
        self.read(|db, _| {
            let rows = db.query(
                &format!("SELECT {AUDIT_COLS} FROM audit WHERE model = ? ORDER BY id"),
                &[model.into()],
            )?;
            if rows.is_empty() {
                model_id(db, model)?;
            }
            rows.iter()
                .map(audit_from_row)
                .filter(|e| match (e, alias) {
                    (Ok(e), Some(a)) => e.alias.as_deref() == Some(a),
                    _ => true,
                })
                .collect()
        })
    }

    /// Archives a version (refused while an alias points at it).
    pub fn archive(&mut self, id: &VersionId, reason: Option<&str>) -> Result<VersionRecord> {
        self.set_status(id, Status::Archived, reason)
    }

    /// Sets a version's status, recording the change; archiving is refused while an alias
    /// points at the version.
    pub fn set_status(
        &mut self,
        id: &VersionId,
        status: Status,
        reason: Option<&str>,
    ) -> Result<VersionRecord> {
        if let Some(r) = reason {
            validate_text("reason", r)?;
        }
        self.write(|db, _, actor| {
            let mid = model_id(db, &id.model)?;
            let (vid, before) = version_row(db, mid, id)?;
            if before == status {
                return Ok(());
            }
            let aliases = aliases_of(db, vid)?;
            if status == Status::Archived && !aliases.is_empty() {
                return Err(RegistryError::InUse {
                    op: "archive",
                    model: id.model.clone(),
                    version: id.version,
                    aliases: aliases.join(", "),
                });
            }
            db.execute(
                "UPDATE versions SET status = ? WHERE id = ?",
                &[status.name().into(), SqlValue::Int(vid)],
            )?;
            append_audit(
                db,
                now_ms(),
                actor,
                &Event {
                    model: &id.model,
                    action: action::STATUS,
                    alias: None,
                    version: Some(id.version),
                    before: Some(before.name().to_owned()),
                    after: Some(status.name().to_owned()),
                    reason,
                },
            )
        })?;
        self.version(id)
    }

    /// Deletes a version's record (refused while an alias points at it). Its number is never
    /// reused; its artifact stays until [`Self::gc`] finds it unreferenced.
    pub fn delete(&mut self, id: &VersionId, reason: Option<&str>) -> Result<()> {
        if let Some(r) = reason {
            validate_text("reason", r)?;
        }
        self.write(|db, _, actor| {
            let mid = model_id(db, &id.model)?;
            let (vid, status) = version_row(db, mid, id)?;
            let aliases = aliases_of(db, vid)?;
            if !aliases.is_empty() {
                return Err(RegistryError::InUse {
                    op: "delete",
                    model: id.model.clone(),
                    version: id.version,
                    aliases: aliases.join(", "),
                });
            }
            db.execute(
                "DELETE FROM version_tags WHERE version_id = ?",
                &[SqlValue::Int(vid)],
            )?;
            db.execute("DELETE FROM versions WHERE id = ?", &[SqlValue::Int(vid)])?;
            append_audit(
                db,
                now_ms(),
                actor,
                &Event {
                    model: &id.model,
                    action: action::DELETE,
                    alias: None,
                    version: Some(id.version),
                    before: Some(status.name().to_owned()),
                    after: None,
                    reason,
                },
            )
        })
    }

    /// Re-hashes the artifact of every version (of one model, or of all with `None`).
    pub fn verify(&mut self, model: Option<&str>) -> Result<VerifyReport> {
        let rows: Vec<(String, VersionId, u64)> = self.read(|db, _| {
            let (cond, params) = match model {
                Some(m) => ("v.model_id = ?", vec![SqlValue::Int(model_id(db, m)?)]),
                None => ("1 = 1", Vec::new()),
            };
            db.query(
                &format!(
                    "SELECT v.artifact, m.name, v.number, v.size FROM versions v \
                     JOIN models m ON m.id = v.model_id WHERE {cond} ORDER BY m.name, v.number"
                ),
                &params,
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.text(0)?,
                    VersionId {
                        model: r.text(1)?,
                        version: r.uint(2)?,
                    },
                    r.uint(3)?,
                ))
            })
            .collect()
        })?;
        let mut by_hash: BTreeMap<String, (Vec<VersionId>, u64)> = BTreeMap::new();
        for (hash, id, size) in rows.iter().cloned() {
            let e = by_hash.entry(hash).or_insert_with(|| (Vec::new(), size));
            e.0.push(id);
        }
        let mut report = VerifyReport {
            versions: rows.len() as u64,
            artifacts: 0,
            bytes: 0,
            problems: Vec::new(),
        };
        for (hash, (versions, size)) in by_hash {
            report.artifacts += 1;
            let got = self.read(|db, artifacts| artifacts.get(db, &hash));
            let problem = match got {
                Ok(bytes) if bytes.len() as u64 != size => Some(format!(
                    "artifact sha256:{hash} has {} bytes, the registry recorded {size}",
                    bytes.len()
                )),
                Ok(bytes) => {
                    report.bytes += bytes.len() as u64;
                    Envelope::from_bytes(&bytes).err().map(|e| e.to_string())
                }
                Err(e) => Some(e.to_string()),
            };
            if let Some(error) = problem {
                report.problems.push(VerifyProblem {
                    artifact: hash,
                    versions,
                    error,
                });
            }
        }
        Ok(report)
    }

    /// Removes artifacts no version refers to, and leftovers of interrupted writes.
    pub fn gc(&mut self) -> Result<GcReport> {
        self.write(|db, artifacts, _| {
            let referenced: BTreeSet<String> = db
                .query("SELECT DISTINCT artifact FROM versions", &[])?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_>>()?;
            let mut report = GcReport {
                kept: 0,
                removed: Vec::new(),
                bytes_freed: 0,
                leftovers: artifacts.clean_leftovers(db)? as u64,
            };
            for hash in artifacts.list(db)? {
                if referenced.contains(&hash) {
                    report.kept += 1;
                } else {
                    report.bytes_freed += artifacts.remove(db, &hash)?.unwrap_or(0);
                    report.removed.push(hash);
                }
            }
            Ok(report)
        })
    }

    /// Sets a model's description.
    pub fn set_description(&mut self, model: &str, description: Option<&str>) -> Result<()> {
        if let Some(d) = description {
            validate_text("description", d)?;
        }
        self.write(|db, _, _| {
            let id = model_id(db, model)?;
            db.execute(
                "UPDATE models SET description = ? WHERE id = ?",
                &[description.into(), SqlValue::Int(id)],
            )?;
            Ok(())
        })
    }

    /// Sets (`Some`) or removes (`None`) a tag on a model.
    pub fn set_model_tag(&mut self, model: &str, key: &str, value: Option<&str>) -> Result<()> {
        validate_tag_key(key)?;
        if let Some(v) = value {
            validate_text("tag value", v)?;
        }
        self.write(|db, _, _| {
            let id = model_id(db, model)?;
            db.execute(
                "DELETE FROM model_tags WHERE model_id = ? AND key = ?",
                &[SqlValue::Int(id), key.into()],
            )?;
            if let Some(v) = value {
                db.execute(
                    "INSERT INTO model_tags (model_id, key, value) VALUES (?, ?, ?)",
                    &[SqlValue::Int(id), key.into(), v.into()],
                )?;
            }
            Ok(())
        })
    }

    /// Sets (`Some`) or removes (`None`) a tag on a version.
    pub fn set_version_tag(
        &mut self,
        id: &VersionId,
        key: &str,
        value: Option<&str>,
    ) -> Result<()> {
        validate_tag_key(key)?;
        if let Some(v) = value {
            validate_text("tag value", v)?;
        }
        self.write(|db, _, _| {
            let mid = model_id(db, &id.model)?;
            let (vid, _) = version_row(db, mid, id)?;
            db.execute(
                "DELETE FROM version_tags WHERE version_id = ? AND key = ?",
                &[SqlValue::Int(vid), key.into()],
            )?;
            if let Some(v) = value {
                db.execute(
                    "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)",
                    &[SqlValue::Int(vid), key.into(), v.into()],
                )?;
            }
            Ok(())
        })
    }

    pub(crate) fn write_tx<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Store, &dyn ArtifactStore, &str) -> Result<T>,
    ) -> Result<T> {
        self.write(f)
    }

    pub(crate) fn read_tx<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Store, &dyn ArtifactStore) -> Result<T>,
    ) -> Result<T> {
        self.read(f)
    }
}

/// Where a rollback moves `alias`: the `before` of the newest move not undone by a rollback.
fn rollback_target(
    db: &mut dyn Store,
    model: &str,
    alias: &str,
    current: Option<u64>,
) -> Result<u64> {
    let rows = db.query(
        "SELECT action, before_value FROM audit WHERE model = ? AND alias = ? ORDER BY id DESC",
        &[model.into(), alias.into()],
    )?;
    let nothing = |reason: String| RegistryError::NothingToRollBack {
        model: model.to_owned(),
        alias: alias.to_owned(),
        reason,
    };
    let mut undone = 0usize;
    for r in &rows {
        let act = r.text(0)?;
        if !action::ALIAS_MOVES.contains(&act.as_str()) {
            continue;
        }
        if act == action::ROLLBACK {
            undone += 1;
        } else if undone > 0 {
            undone -= 1;
        } else {
            return match r.opt_text(1)? {
                Some(before) => before.parse::<u64>().map_err(|_| {
                    RegistryError::Invalid(format!(
                        "registry data: audit entry holds version {before:?}"
                    ))
                }),
                None => Err(nothing(format!(
                    "had no version before it was set{}",
                    current.map_or_else(String::new, |v| format!(" to version {v}"))
                ))),
            };
        }
    }
    Err(nothing(if rows.is_empty() {
        "was never set".to_owned()
    } else {
        "has no earlier version left to return to".to_owned()
    }))
}

fn list_models(db: &mut dyn Store, only: Option<i64>) -> Result<Vec<ModelSummary>> {
    let (cond, params) = match only {
        Some(id) => ("m.id = ?", vec![SqlValue::Int(id)]),
        None => ("1 = 1", Vec::new()),
    };
    let mut models: Vec<(i64, ModelSummary)> = db
        .query(
            &format!(
                "SELECT m.id, m.name, m.description, m.created_ms, \
                 (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id), \
                 (SELECT MAX(number) FROM versions v WHERE v.model_id = m.id) \
                 FROM models m WHERE {cond} ORDER BY m.name"
            ),
            &params,
        )?
        .iter()
        .map(|r| {
            Ok((
                r.int(0)?,
                ModelSummary {
                    name: r.text(1)?,
                    description: r.opt_text(2)?,
                    tags: BTreeMap::new(),
                    created_at: rfc3339_ms(r.int(3)?),
                    versions: r.uint(4)?,
                    latest: r.opt_int(5)?.map(|v| v as u64),
                    aliases: BTreeMap::new(),
                },
            ))
        })
        .collect::<Result<_>>()?;
    let index: HashMap<i64, usize> = models
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    for r in db.query(
        &format!("SELECT m.id, t.key, t.value FROM model_tags t JOIN models m ON m.id = t.model_id WHERE {cond}"),
        &params,
    )? {
        if let Some(&i) = index.get(&r.int(0)?) {
            models[i].1.tags.insert(r.text(1)?, r.text(2)?);
        }
    }
    for r in db.query(
        &format!(
            "SELECT m.id, a.alias, v.number FROM aliases a JOIN models m ON m.id = a.model_id \
             JOIN versions v ON v.id = a.version_id WHERE {cond}"
        ),
        &params,
    )? {
        if let Some(&i) = index.get(&r.int(0)?) {
            models[i].1.aliases.insert(r.text(1)?, r.uint(2)?);
        }
    }
    Ok(models.into_iter().map(|(_, m)| m).collect())
}

/// Flattens nested objects into dotted keys.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => {
            if !prefix.is_empty() || !v.is_object() {
                out.insert(prefix.to_owned(), v.clone());
            }
        }
    }
}

fn changes(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Vec<Change> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| Change {
            key: k.clone(),
            from: a.get(k).cloned(),
            to: b.get(k).cloned(),
        })
        .collect()
}

/// Schema columns by name (or the whole schema under `schema` when it has no column list).
fn schema_columns(s: Option<&Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Some(s) = s else { return out };
    match s.get("columns").and_then(Value::as_array) {
        Some(cols) => {
            for (i, c) in cols.iter().enumerate() {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("#{i}"), str::to_owned);
                let mut c = c.clone();
                if let Some(o) = c.as_object_mut() {
                    o.remove("name");
                }
                out.insert(name, c);
            }
        }
        None => {
            out.insert("schema".into(), s.clone());
        }
    }
    out
}

/// The differences between two version records.
pub fn diff_records(x: &VersionRecord, y: &VersionRecord) -> Diff {
    let (mut pa, mut pb) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &x.params, &mut pa);
    flatten("", &y.params, &mut pb);
    let names: BTreeSet<&String> = x.metrics.keys().chain(y.metrics.keys()).collect();
    let metrics = names
        .into_iter()
        .map(|n| {
            let (from, to) = (x.metrics.get(n).copied(), y.metrics.get(n).copied());
            MetricChange {
                name: n.clone(),
                from,
                to,
                delta: from.zip(to).map(|(a, b)| b - a),
            }
        })
        .collect();
    let data_fingerprint = (x.data_fingerprint != y.data_fingerprint).then(|| Change {
        key: "data_fingerprint".into(),
        from: x.data_fingerprint.clone().map(Value::from),
        to: y.data_fingerprint.clone().map(Value::from),
    });
    Diff {
        from: x.id(),
        to: y.id(),
        params: changes(&pa, &pb),
        metrics,
        schema: changes(
            &schema_columns(x.schema.as_ref()),
            &schema_columns(y.schema.as_ref()),
        ),
        data_fingerprint,
        same_artifact: x.artifact == y.artifact,
    }
}
