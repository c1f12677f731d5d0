//! Export and import of one model with all its versions, aliases, audit history and runs, to
//! move it between registries (SQLite ↔ PostgreSQL).
//!
//! The export file is an mlship envelope (so it carries a SHA-256 checksum over everything):
//! its manifest (`kind: mlship.registry-export`) holds the records, and one section per
//! distinct artifact holds the bundle bytes.

use std::collections::BTreeMap;
use std::path::Path;

use mlship_core::bundle::{Envelope, MAX_SECTIONS, Section};
use mlship_core::time::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::sha256_hex;
use crate::error::{RegistryError, Result};
use crate::names::{validate_alias, validate_model_name, validate_tag_key, validate_text};
use crate::registry::{AUDIT_COLS, Event, Registry, append_audit};
use crate::runs::{RunRecord, insert_run, runs_with_ids};
use crate::store::{SqlValue, Store};
use crate::types::{ExportReport, ImportReport, Status, action};

/// The manifest kind of an export file.
pub const EXPORT_KIND: &str = "mlship.registry-export";
/// The export format this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct ExportFile {
    kind: String,
    export_version: u32,
    exported_ms: i64,
    model: ExportModel,
    versions: Vec<ExportVersion>,
    aliases: BTreeMap<String, u64>,
    audit: Vec<ExportAudit>,
    runs: Vec<RunRecord>,
    /// Artifact hash → section name.
    artifacts: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExportModel {
    name: String,
    description: Option<String>,
    created_ms: i64,
    next_version: u64,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExportVersion {
    number: u64,
    status: String,
    created_ms: i64,
    artifact: String,
    size: u64,
    kind: String,
    task: Option<String>,
    run_id: Option<String>,
    experiment: Option<String>,
    parent_version: Option<String>,
    mlship_version: String,
    data_fingerprint: Option<String>,
    description: Option<String>,
    params: String,
    metrics: String,
    schema: Option<String>,
    lineage: String,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExportAudit {
    at_ms: i64,
    actor: String,
    action: String,
    alias: Option<String>,
    version: Option<u64>,
    before: Option<String>,
    after: Option<String>,
    reason: Option<String>,
}

fn bad_file(path: &Path, reason: impl std::fmt::Display) -> RegistryError {
    RegistryError::Invalid(format!(
        "{}: not a usable registry export: {reason}\nhint: create one with `mlship registry export NAME FILE`",
        path.display()
    ))
}

impl Registry {
    /// Writes `model` with all its versions, aliases, audit history and runs to `path`
    /// (atomically).
    #[allow(clippy::too_many_lines)] // one snapshot, read top to bottom
    pub fn export(&mut self, model: &str, path: &Path) -> Result<ExportReport> {
        validate_model_name(model)?;
        let (file, sections) = self.read_tx(|db, artifacts| {
            let rows = db.query(
                "SELECT id, description, created_ms, next_version FROM models WHERE name = ?",
                &[model.into()],
            )?;
            let m = rows.first().ok_or_else(|| RegistryError::ModelNotFound {
                name: model.to_owned(),
            })?;
            let mid = m.int(0)?;
            let mut tags = BTreeMap::new();
            for r in db.query("SELECT key, value FROM model_tags WHERE model_id = ?", &[SqlValue::Int(mid)])? {
                tags.insert(r.text(0)?, r.text(1)?);
            }
            let export_model = ExportModel {
                name: model.to_owned(),
                description: m.opt_text(1)?,
                created_ms: m.int(2)?,
                next_version: m.uint(3)?,
                tags,
            };
            let mut versions = Vec::new();
            let mut ids = BTreeMap::new();
            for r in db.query(
                "SELECT id, number, status, created_ms, artifact, size, kind, task, run_id, experiment, \
                 parent_version, mlship_version, data_fingerprint, description, params, metrics, \
                 schema_json, lineage FROM versions WHERE model_id = ? ORDER BY number",
                &[SqlValue::Int(mid)],
            )? {
                ids.insert(r.int(0)?, versions.len());
                versions.push(ExportVersion {
                    number: r.uint(1)?,
                    status: r.text(2)?,
                    created_ms: r.int(3)?,
                    artifact: r.text(4)?,
                    size: r.uint(5)?,
                    kind: r.text(6)?,
                    task: r.opt_text(7)?,
                    run_id: r.opt_text(8)?,
                    experiment: r.opt_text(9)?,
                    parent_version: r.opt_text(10)?,
                    mlship_version: r.text(11)?,
                    data_fingerprint: r.opt_text(12)?,
                    description: r.opt_text(13)?,
                    params: r.text(14)?,
                    metrics: r.text(15)?,
                    schema: r.opt_text(16)?,
                    lineage: r.text(17)?,
                    tags: BTreeMap::new(),
                });
            }
            for r in db.query(
                "SELECT t.version_id, t.key, t.value FROM version_tags t JOIN versions v ON v.id = t.version_id \
                 WHERE v.model_id = ?",
                &[SqlValue::Int(mid)],
            )? {
                if let Some(&i) = ids.get(&r.int(0)?) {
                    versions[i].tags.insert(r.text(1)?, r.text(2)?);
                }
            }
            let mut aliases = BTreeMap::new();
            for r in db.query(
                "SELECT a.alias, v.number FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ?",
                &[SqlValue::Int(mid)],
            )? {
                aliases.insert(r.text(0)?, r.uint(1)?);
            }
            let audit = db
                .query(&format!("SELECT {AUDIT_COLS} FROM audit WHERE model = ? ORDER BY id"), &[model.into()])?
                .iter()
                .map(|r| {
                    Ok(ExportAudit {
                        at_ms: r.int(1)?,
                        actor: r.text(2)?,
                        action: r.text(4)?,
                        alias: r.opt_text(5)?,
                        version: r.opt_int(6)?.map(|v| v as u64),
                        before: r.opt_text(7)?,
                        after: r.opt_text(8)?,
                        reason: r.opt_text(9)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let run_ids: Vec<String> = {
                let mut s: Vec<String> = versions.iter().filter_map(|v| v.run_id.clone()).collect();
                s.sort();
                s.dedup();
                s
            };
            let runs = runs_with_ids(db, &run_ids)?;
            let mut artifact_sections = BTreeMap::new();
            let mut sections = Vec::new();
            for v in &versions {
                if artifact_sections.contains_key(&v.artifact) {
                    continue;
                }
                if sections.len() as u32 >= MAX_SECTIONS {
                    return Err(RegistryError::Invalid(format!(
                        "model {model:?} has more than {MAX_SECTIONS} distinct bundles: too many for one export file\n\
                         hint: delete old versions and run `mlship registry gc` first"
                    )));
                }
                let name = format!("artifact-{}", sections.len());
                let bytes = artifacts.get(db, &v.artifact)?;
                artifact_sections.insert(v.artifact.clone(), name.clone());
                sections.push(Section::new(name, 1, bytes));
            }
            Ok((
                ExportFile {
                    kind: EXPORT_KIND.into(),
                    export_version: EXPORT_VERSION,
                    exported_ms: now_ms(),
                    model: export_model,
                    versions,
                    aliases,
                    audit,
                    runs,
                    artifacts: artifact_sections,
                },
                sections,
            ))
        })?;
        let manifest = serde_json::to_value(&file)
            .map_err(|e| RegistryError::Invalid(format!("cannot encode the export: {e}")))?;
        let envelope = Envelope { manifest, sections };
        let bytes = envelope.to_bytes()?;
        mlship_core::bundle::write_atomic(path, &bytes)
            .map_err(|e| RegistryError::io("write", path, e))?;
        Ok(ExportReport {
            model: model.to_owned(),
            path: path.to_owned(),
            versions: file.versions.len() as u64,
            audit_entries: file.audit.len() as u64,
            bytes: bytes.len() as u64,
        })
    }

    /// Imports a model written by [`Self::export`]: versions keep their numbers, aliases and
    /// the audit history are copied, and an `import` entry is appended. The model must not
    /// exist in this registry.
    #[allow(clippy::too_many_lines)] // one transaction, read top to bottom
    pub fn import(&mut self, path: &Path) -> Result<ImportReport> {
        let envelope = Envelope::read(path)?;
        if envelope.manifest.get("kind").and_then(Value::as_str) != Some(EXPORT_KIND) {
            return Err(bad_file(
                path,
                format!("its manifest kind is not {EXPORT_KIND:?}"),
            ));
        }
        let file: ExportFile =
            serde_json::from_value(envelope.manifest.clone()).map_err(|e| bad_file(path, e))?;
        if file.export_version != EXPORT_VERSION {
            return Err(bad_file(
                path,
                format!(
                    "export version {} (this build reads {EXPORT_VERSION})",
                    file.export_version
                ),
            ));
        }
        let name = file.model.name.as_str();
        validate_model_name(name)?;
        for (k, v) in file
            .model
            .tags
            .iter()
            .chain(file.versions.iter().flat_map(|v| v.tags.iter()))
        {
            validate_tag_key(k)?;
            validate_text("tag value", v)?;
        }
        for a in file.aliases.keys() {
            validate_alias(a)?;
        }
        let mut blobs = BTreeMap::new();
        for (hash, section) in &file.artifacts {
            let bytes = &envelope.section_required(section)?.bytes;
            let computed = sha256_hex(bytes);
            if &computed != hash {
                return Err(RegistryError::Tampered {
                    hash: hash.clone(),
                    computed,
                    location: format!("{} section {section}", path.display()),
                });
            }
            blobs.insert(hash.clone(), bytes.as_slice());
        }
        for v in &file.versions {
            if Status::parse(&v.status).is_none() {
                return Err(bad_file(
                    path,
                    format!("version {} has status {:?}", v.number, v.status),
                ));
            }
            if !blobs.contains_key(&v.artifact) {
                return Err(bad_file(
                    path,
                    format!("version {} has no artifact section", v.number),
                ));
            }
        }
        self.write_tx(|db, artifacts, actor| {
            if !db.query("SELECT id FROM models WHERE name = ?", &[name.into()])?.is_empty() {
                return Err(RegistryError::AlreadyExists {
                    what: "model",
                    name: name.to_owned(),
                    hint: "an import brings a whole model; delete or rename the existing one first",
                });
            }
            let next = file.versions.iter().map(|v| v.number + 1).max().unwrap_or(1).max(file.model.next_version);
            let mid = insert_returning(
                db,
                "INSERT INTO models (name, description, created_ms, next_version) VALUES (?, ?, ?, ?) RETURNING id",
                &[
                    name.into(),
                    file.model.description.clone().into(),
                    SqlValue::Int(file.model.created_ms),
                    next.into(),
                ],
            )?;
            for (k, v) in &file.model.tags {
                db.execute(
                    "INSERT INTO model_tags (model_id, key, value) VALUES (?, ?, ?)",
                    &[SqlValue::Int(mid), k.into(), v.into()],
                )?;
            }
            let mut version_ids = BTreeMap::new();
            for v in &file.versions {
                artifacts.put(db, &v.artifact, blobs[&v.artifact])?;
                let vid = insert_returning(
                    db,
                    "INSERT INTO versions (model_id, number, artifact, size, created_ms, status, kind, task, \
                     run_id, experiment, parent_version, mlship_version, data_fingerprint, description, \
                     params, metrics, schema_json, lineage) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    &[
                        SqlValue::Int(mid),
                        v.number.into(),
                        v.artifact.as_str().into(),
                        v.size.into(),
                        SqlValue::Int(v.created_ms),
                        v.status.as_str().into(),
                        v.kind.as_str().into(),
                        v.task.clone().into(),
                        v.run_id.clone().into(),
                        v.experiment.clone().into(),
                        v.parent_version.clone().into(),
                        v.mlship_version.as_str().into(),
                        v.data_fingerprint.clone().into(),
                        v.description.clone().into(),
                        v.params.as_str().into(),
                        v.metrics.as_str().into(),
                        v.schema.clone().into(),
                        v.lineage.as_str().into(),
                    ],
                )?;
                for (k, val) in &v.tags {
                    db.execute(
                        "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)",
                        &[SqlValue::Int(vid), k.into(), val.into()],
                    )?;
                }
                version_ids.insert(v.number, vid);
            }
            for (alias, number) in &file.aliases {
                let vid = version_ids.get(number).ok_or_else(|| {
                    bad_file(path, format!("alias {alias} points at version {number}, which is not in the file"))
                })?;
                db.execute(
                    "INSERT INTO aliases (model_id, alias, version_id) VALUES (?, ?, ?)",
                    &[SqlValue::Int(mid), alias.into(), SqlValue::Int(*vid)],
                )?;
            }
            for a in &file.audit {
                append_audit(
                    db,
                    a.at_ms,
                    &a.actor,
                    &Event {
                        model: name,
                        action: &a.action,
                        alias: a.alias.as_deref(),
                        version: a.version,
                        before: a.before.clone(),
                        after: a.after.clone(),
                        reason: a.reason.as_deref(),
                    },
                )?;
            }
            let mut runs = 0;
            for run in &file.runs {
                if validate_model_name(&run.id).is_ok()
                    && db.query("SELECT id FROM runs WHERE id = ?", &[run.id.as_str().into()])?.is_empty()
                {
                    insert_run(db, run)?;
                    runs += 1;
                }
            }
            let reason = format!("imported from {}", path.display());
            append_audit(
                db,
                now_ms(),
                actor,
                &Event {
                    model: name,
                    action: action::IMPORT,
                    alias: None,
                    version: None,
                    before: None,
                    after: Some(format!("{} versions", file.versions.len())),
                    reason: Some(&reason),
                },
            )?;
            Ok(ImportReport {
                model: name.to_owned(),
                versions: file.versions.len() as u64,
                aliases: file.aliases.len() as u64,
                audit_entries: file.audit.len() as u64,
                runs,
            })
        })
    }
}

fn insert_returning(db: &mut dyn Store, sql: &str, params: &[SqlValue]) -> Result<i64> {
    db.query(sql, params)?
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .ok_or_else(|| RegistryError::Invalid("an insert returned no id".into()))
}
