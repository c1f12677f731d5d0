//! `mlship register`, `mlship registry …` and `mlship runs …`: the model registry from the
//! command line. Every command prints a report, or JSON with `--json`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use mlship_registry::{
    AuditEntry, Diff, Expect, LoadedModel, Location, ModelUri, RegisterOptions, Registry,
    RegistryError, RunRecord, VersionId, VersionRecord,
};
use serde::Serialize;

use crate::cli::Style;
use crate::error::Result;
use crate::render::{bold, bytes, emit, num, table};

/// Where the registry is and who acts on it.
#[derive(Debug, Clone, Args)]
pub struct RegistryOpts {
    /// The registry: a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DB[?schema=NAME]) or
    /// an SQLite file. Default: $MLSHIP_REGISTRY, else $MLSHIP_HOME/registry.db ($MLSHIP_HOME
    /// defaults to ./.mlship).
    #[arg(long, global = true, value_name = "URL")]
    pub registry: Option<String>,
    /// Who is recorded in the audit log (default: $USER).
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
}

impl RegistryOpts {
    /// Opens the registry these options name.
    pub fn open(&self) -> Result<Registry> {
        let location = Location::from_env(self.registry.as_deref());
        let registry = Registry::open(&location)?;
        Ok(match &self.actor {
            Some(actor) => registry.with_actor(actor.clone()),
            None => registry,
        })
    }
}

/// Reads the bundle a model URI names: a file, `NAME@ALIAS`, `NAME/VERSION` or `NAME@latest`
/// (the registry is opened only for the last three).
pub fn load_model(uri: &str, opts: &RegistryOpts) -> Result<LoadedModel> {
    let uri = ModelUri::parse(uri)?;
    Ok(mlship_registry::load_model(&uri, || {
        opts.open().map_err(|e| match e {
            crate::Error::Registry(r) => r,
            other => RegistryError::Invalid(other.to_string()),
        })
    })?)
}

/// `mlship register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The bundle file (`*.mlship`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The registered model's name (created with its first version).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// A tag for the version, as key=value (repeat for more).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// A note for the version (and the model's description when it is new).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    #[command(flatten)]
    pub opts: RegistryOpts,
}

/// `mlship registry …`
#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(flatten)]
    pub opts: RegistryOpts,
    #[command(subcommand)]
    pub command: RegistryCommand,
}

/// The registry's commands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List the registered models.
    List,
    /// Show a model (NAME) or one version (NAME/VERSION, NAME@ALIAS, NAME@latest).
    Show {
        /// NAME, NAME/VERSION, NAME@ALIAS or NAME@latest.
        #[arg(value_name = "MODEL")]
        target: String,
    },
    /// List a model's versions.
    Versions {
        /// The model.
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Find versions: words match model names; `name=`, `tag.KEY=`, `metrics.NAME > X`,
    /// `params.PATH=`, `status=`, `alias=`, `task=`, `version>=` filter (all must hold).
    #[command(
        after_help = "Quote queries with < or > for the shell.\n\nExamples:\n  \
                      mlship registry search churn\n  \
                      mlship registry search 'metrics.roc_auc > 0.9 tag.team=risk'\n  \
                      mlship registry search 'status=active alias=production' --json"
    )]
    Search {
        /// The query (several arguments are joined with spaces).
        #[arg(value_name = "QUERY", num_args = 0..)]
        query: Vec<String>,
    },
    /// Compare two versions: parameters, metrics, schema, data fingerprint.
    Diff {
        /// The first version (NAME/VERSION or NAME@ALIAS).
        #[arg(value_name = "A")]
        a: String,
        /// The second version.
        #[arg(value_name = "B")]
        b: String,
    },
    /// Point an alias at a version, or remove it with --remove.
    #[command(
        after_help = "Examples:\n  mlship registry alias churn staging 3\n  mlship registry alias churn staging --remove"
    )]
    Alias {
        /// The model.
        #[arg(value_name = "NAME")]
        name: String,
        /// The alias (any name: production, staging, champion, …).
        #[arg(value_name = "ALIAS")]
        alias: String,
        /// The version to point it at.
        #[arg(
            value_name = "VERSION",
            required_unless_present = "remove",
            conflicts_with = "remove"
        )]
        version: Option<u64>,
        /// Remove the alias instead.
        #[arg(long)]
        remove: bool,
    },
    /// Move an alias to a version, with a reason for the audit log.
    #[command(
        after_help = "The move is compare-and-set: if someone moves the alias at the same moment, \
                      this command fails instead of overwriting their move.\n\n\
                      Example:\n  mlship registry promote churn production 3 --reason \"better AUC on March data\""
    )]
    Promote {
        /// The model.
        #[arg(value_name = "NAME")]
        name: String,
        /// The alias.
        #[arg(value_name = "ALIAS")]
        alias: String,
        /// The version.
        #[arg(value_name = "VERSION")]
        version: u64,
        /// Why (recorded in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Move an alias back to the version it held before its last move.
    #[command(
        after_help = "Repeated rollbacks keep walking back through the alias's history.\n\n\
                      Example:\n  mlship registry rollback churn production --reason \"latency regression\""
    )]
    Rollback {
        /// The model.
        #[arg(value_name = "NAME")]
        name: String,
        /// The alias.
        #[arg(value_name = "ALIAS")]
        alias: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Show a model's audit log: registrations, alias moves, status changes, deletions.
    History {
        /// The model.
        #[arg(value_name = "NAME")]
        name: String,
        /// Only the moves of this alias.
        #[arg(long, value_name = "ALIAS")]
        alias: Option<String>,
    },
    /// Archive a version: it stays readable but takes no alias and is skipped by @latest.
    Archive {
        /// The version (NAME/VERSION).
        #[arg(value_name = "NAME/VERSION")]
        target: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Delete a version (refused while an alias points at it); its number is never reused.
    Delete {
        /// The version (NAME/VERSION).
        #[arg(value_name = "NAME/VERSION")]
        target: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Re-hash artifacts and check their bundles: one model's, or every one with --all.
    Verify {
        /// The model.
        #[arg(
            value_name = "NAME",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        name: Option<String>,
        /// Every version of every model.
        #[arg(long)]
        all: bool,
    },
    /// Write a model with all its versions, aliases, history and runs to a file.
    Export {
        /// The model.
        #[arg(value_name = "NAME")]
        name: String,
        /// The file to write (replaced atomically).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Bring in a model written by `registry export` (it must not exist here yet).
    Import {
        /// The export file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove artifacts no version refers to (after deletions or interrupted registrations).
    Gc,
}

/// `mlship runs …`
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub opts: RegistryOpts,
    #[command(subcommand)]
    pub command: RunsCommand,
}

/// The commands on recorded runs.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List the recorded runs, newest first.
    List,
    /// Show one run: its spec, data, every candidate's scores and timings, the chosen model.
    Show {
        /// The run id.
        #[arg(value_name = "RUN")]
        id: String,
    },
    /// Compare runs side by side.
    Compare {
        /// Two or more run ids.
        #[arg(value_name = "RUN", num_args = 2.., required = true)]
        ids: Vec<String>,
    },
}

fn parse_version(text: &str) -> Result<(ModelUri, Option<VersionId>)> {
    let uri = ModelUri::parse(text)?;
    let id = match &uri {
        ModelUri::Version { model, version } => Some(VersionId {
            model: model.clone(),
            version: *version,
        }),
        _ => None,
    };
    Ok((uri, id))
}

fn exact_version(text: &str) -> Result<VersionId> {
    match parse_version(text)? {
        (_, Some(id)) => Ok(id),
        _ => Err(crate::Error::Usage(format!(
            "invalid version {text:?}: expected NAME/VERSION, such as churn/3"
        ))),
    }
}

fn short(hash: &str) -> String {
    format!("sha256:{}", &hash[..hash.len().min(12)])
}

/// Runs `mlship register`.
pub fn register(out: &mut impl Write, args: &RegisterArgs, style: Style) -> Result<()> {
    let mut tags = std::collections::BTreeMap::new();
    for t in &args.tags {
        let (k, v) = mlship_registry::names::parse_tag(t)?;
        tags.insert(k, v);
    }
    let mut registry = args.opts.open()?;
    let options = RegisterOptions {
        name: args.name.clone(),
        tags,
        description: args.description.clone(),
    };
    let v = registry.register_file(&args.file, &options)?;
    let location = registry.location();
    emit(out, &v, style, |out| {
        writeln!(
            out,
            "registered {} ({}, {}) in {location}",
            bold(&v.id().to_string(), style),
            short(&v.artifact),
            bytes(v.size)
        )?;
        writeln!(
            out,
            "next: mlship registry alias {} staging {}   or   mlship registry promote {} production {} --reason TEXT",
            v.model, v.version, v.model, v.version
        )?;
        Ok(())
    })
}

/// Runs `mlship registry …`.
#[allow(clippy::too_many_lines)] // one short arm per command
pub fn registry(out: &mut impl Write, args: RegistryArgs, style: Style) -> Result<()> {
    let mut r = args.opts.open()?;
    match args.command {
        RegistryCommand::List => {
            let models = r.models()?;
            emit(out, &models, style, |out| {
                if models.is_empty() {
                    writeln!(
                        out,
                        "no models registered in {}\nhint: mlship register MODEL.mlship --name NAME",
                        r.location()
                    )?;
                    return Ok(());
                }
                let rows: Vec<Vec<String>> = models
                    .iter()
                    .map(|m| {
                        vec![
                            m.name.clone(),
                            m.versions.to_string(),
                            m.latest.map_or_else(|| "-".into(), |v| v.to_string()),
                            aliases_text(m.aliases.iter().map(|(a, v)| (a.as_str(), *v))),
                            m.description.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(
                    out,
                    &["model", "versions", "latest", "aliases", "description"],
                    &rows,
                    &[false, true, true, false, false],
                    style,
                )
            })
        }
        RegistryCommand::Show { target } => {
            if !target.contains(['@', '/']) {
                let detail = r.model(&target)?;
                return emit(out, &detail, style, |out| {
                    let m = &detail.model;
                    writeln!(out, "{} — registered model", bold(&m.name, style))?;
                    let mut kv = vec![
                        ("created".to_owned(), m.created_at.clone()),
                        ("versions".to_owned(), m.versions.to_string()),
                    ];
                    if let Some(d) = &m.description {
                        kv.push(("description".into(), d.clone()));
                    }
                    if !m.aliases.is_empty() {
                        kv.push((
                            "aliases".into(),
                            aliases_text(m.aliases.iter().map(|(a, v)| (a.as_str(), *v))),
                        ));
                    }
                    for (k, v) in &m.tags {
                        kv.push((format!("tag {k}"), v.clone()));
                    }
                    key_values(out, &kv)?;
                    writeln!(out)?;
                    versions_table(out, &detail.version_list, false, style)
                });
            }
            let v = r.record(&ModelUri::parse(&target)?)?;
            emit(out, &v, style, |out| show_version(out, &v, style))
        }
        RegistryCommand::Versions { name } => {
            let versions = r.versions(&name)?;
            emit(out, &versions, style, |out| {
                versions_table(out, &versions, false, style)
            })
        }
        RegistryCommand::Search { query } => {
            let versions = r.search(&query.join(" "))?;
            emit(out, &versions, style, |out| {
                if versions.is_empty() {
                    writeln!(out, "no version matches")?;
                    return Ok(());
                }
                versions_table(out, &versions, true, style)
            })
        }
        RegistryCommand::Diff { a, b } => {
            let a = r.resolve(&ModelUri::parse(&a)?)?;
            let b = r.resolve(&ModelUri::parse(&b)?)?;
            let d = r.diff(&a, &b)?;
            emit(out, &d, style, |out| show_diff(out, &d, style))
        }
        RegistryCommand::Alias {
            name,
            alias,
            version,
            remove,
        } => {
            let m = match version {
                Some(v) if !remove => r.set_alias(&name, &alias, v, Expect::Any)?,
                _ => r.remove_alias(&name, &alias, Expect::Any)?,
            };
            emit(out, &m, style, |out| {
                let what = match (m.changed, m.to) {
                    (false, _) => "unchanged",
                    (true, None) => "removed",
                    (true, Some(_)) => "set",
                };
                writeln!(
                    out,
                    "{}@{}: {} → {} ({what})",
                    m.model,
                    m.alias,
                    opt_version(m.from),
                    opt_version(m.to)
                )?;
                Ok(())
            })
        }
        RegistryCommand::Promote {
            name,
            alias,
            version,
            reason,
        } => {
            let current = r.alias(&name, &alias)?;
            let m = r.promote(&name, &alias, version, &reason, Expect::At(current))?;
            emit(out, &m, style, |out| {
                if m.changed {
                    writeln!(
                        out,
                        "promoted {}@{}: {} → {}",
                        m.model,
                        m.alias,
                        opt_version(m.from),
                        opt_version(m.to)
                    )?;
                } else {
                    writeln!(
                        out,
                        "{}@{} already points at {}: nothing recorded",
                        m.model,
                        m.alias,
                        opt_version(m.to)
                    )?;
                }
                Ok(())
            })
        }
        RegistryCommand::Rollback {
            name,
            alias,
            reason,
        } => {
            let m = r.rollback(&name, &alias, reason.as_deref())?;
            emit(out, &m, style, |out| {
                writeln!(
                    out,
                    "rolled back {}@{}: {} → {}",
                    m.model,
                    m.alias,
                    opt_version(m.from),
                    opt_version(m.to)
                )?;
                Ok(())
            })
        }
        RegistryCommand::History { name, alias } => {
            let h = r.history(&name, alias.as_deref())?;
            emit(out, &h, style, |out| history_table(out, &h, style))
        }
        RegistryCommand::Archive { target, reason } => {
            let id = exact_version(&target)?;
            let v = r.archive(&id, reason.as_deref())?;
            emit(out, &v, style, |out| {
                writeln!(out, "archived {}", v.id())?;
                Ok(())
            })
        }
        RegistryCommand::Delete { target, reason } => {
            let id = exact_version(&target)?;
            r.delete(&id, reason.as_deref())?;
            emit(out, &Deleted { deleted: &id }, style, |out| {
                writeln!(
                    out,
                    "deleted {id}; its artifact stays until `mlship registry gc`"
                )?;
                Ok(())
            })
        }
        RegistryCommand::Verify { name, all } => {
            let report = r.verify(if all { None } else { name.as_deref() })?;
            emit(out, &report, style, |out| {
                writeln!(
                    out,
                    "checked {} versions: {} artifacts, {}",
                    report.versions,
                    report.artifacts,
                    bytes(report.bytes)
                )?;
                for p in &report.problems {
                    let ids: Vec<String> = p.versions.iter().map(ToString::to_string).collect();
                    writeln!(
                        out,
                        "DAMAGED {} ({}): {}",
                        short(&p.artifact),
                        ids.join(", "),
                        p.error
                    )?;
                }
                if report.problems.is_empty() {
                    writeln!(out, "all intact")?;
                }
                Ok(())
            })?;
            if report.problems.is_empty() {
                Ok(())
            } else {
                Err(RegistryError::Invalid(format!(
                    "{} of {} artifacts failed verification\n\
                     hint: restore them from a backup or an export, or register the bundles again",
                    report.problems.len(),
                    report.artifacts
                ))
                .into())
            }
        }
        RegistryCommand::Export { name, file } => {
            let report = r.export(&name, &file)?;
            emit(out, &report, style, |out| {
                writeln!(
                    out,
                    "exported {} ({} versions, {} audit entries) to {} ({})",
                    report.model,
                    report.versions,
                    report.audit_entries,
                    report.path.display(),
                    bytes(report.bytes)
                )?;
                Ok(())
            })
        }
        RegistryCommand::Import { file } => {
            let report = r.import(&file)?;
            emit(out, &report, style, |out| {
                writeln!(
                    out,
                    "imported {}: {} versions, {} aliases, {} audit entries, {} runs",
                    report.model,
                    report.versions,
                    report.aliases,
                    report.audit_entries,
                    report.runs
                )?;
                Ok(())
            })
        }
        RegistryCommand::Gc => {
            let report = r.gc()?;
            emit(out, &report, style, |out| {
                writeln!(
                    out,
                    "removed {} unreferenced artifacts ({}); kept {}",
                    report.removed.len(),
                    bytes(report.bytes_freed),
                    report.kept
                )?;
                Ok(())
            })
        }
    }
}

/// Runs `mlship runs …`.
pub fn runs(out: &mut impl Write, args: RunsArgs, style: Style) -> Result<()> {
    let mut r = args.opts.open()?;
    match args.command {
        RunsCommand::List => {
            let runs = r.runs()?;
            emit(out, &runs, style, |out| {
                if runs.is_empty() {
                    writeln!(out, "no runs recorded in {}", r.location())?;
                    return Ok(());
                }
                let rows: Vec<Vec<String>> = runs
                    .iter()
                    .map(|run| {
                        vec![
                            run.id.clone(),
                            run.created_at.clone(),
                            run.command.clone(),
                            run.candidates.len().to_string(),
                            run.chosen.clone().unwrap_or_else(|| "-".into()),
                            metrics_text(&run.metrics),
                            run.versions
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", "),
                        ]
                    })
                    .collect();
                table(
                    out,
                    &[
                        "run",
                        "started",
                        "command",
                        "candidates",
                        "chosen",
                        "metrics",
                        "versions",
                    ],
                    &rows,
                    &[false, false, false, true, false, false, false],
                    style,
                )
            })
        }
        RunsCommand::Show { id } => {
            let run = r.run(&id)?;
            emit(out, &run, style, |out| show_run(out, &run, style))
        }
        RunsCommand::Compare { ids } => {
            let runs = ids
                .iter()
                .map(|id| r.run(id))
                .collect::<Result<Vec<_>, _>>()?;
            emit(out, &runs, style, |out| {
                let names: std::collections::BTreeSet<&String> =
                    runs.iter().flat_map(|r| r.metrics.keys()).collect();
                let mut header = vec!["run", "command", "data", "chosen", "candidates", "seconds"];
                header.extend(names.iter().map(|n| n.as_str()));
                let rows: Vec<Vec<String>> =
                    runs.iter()
                        .map(|run| {
                            let mut row = vec![
                                run.id.clone(),
                                run.command.clone(),
                                run.data_fingerprint
                                    .as_deref()
                                    .map_or_else(|| "-".into(), short_fp),
                                run.chosen.clone().unwrap_or_else(|| "-".into()),
                                run.candidates.len().to_string(),
                                num(run.seconds),
                            ];
                            row.extend(names.iter().map(|n| {
                                run.metrics.get(*n).map_or_else(|| "-".into(), |v| num(*v))
                            }));
                            row
                        })
                        .collect();
                let right: Vec<bool> = (0..header.len()).map(|i| i >= 4).collect();
                table(out, &header, &rows, &right, style)
            })
        }
    }
}

/// What `registry delete --json` prints.
#[derive(Serialize)]
struct Deleted<'a> {
    deleted: &'a VersionId,
}

fn short_fp(fp: &str) -> String {
    fp.chars().take(19).collect()
}

fn opt_version(v: Option<u64>) -> String {
    v.map_or_else(|| "(none)".into(), |v| format!("version {v}"))
}

fn aliases_text<'a>(aliases: impl Iterator<Item = (&'a str, u64)>) -> String {
    aliases
        .map(|(a, v)| format!("{a}→{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn metrics_text(metrics: &std::collections::BTreeMap<String, f64>) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{k}={}", num(*v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn key_values(out: &mut impl Write, kv: &[(String, String)]) -> Result<()> {
    let width = kv
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .max(14);
    for (k, v) in kv {
        writeln!(out, "{k:>width$}  {v}")?;
    }
    Ok(())
}

/// `value`'s leaves as `a.b.c = leaf` pairs, leaving out nulls and empty lists and tables.
fn flatten_params(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_params(&key, v, out);
            }
        }
        Value::Array(items) if items.is_empty() => {}
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            out.push((prefix.to_owned(), value.to_string()));
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_params(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn versions_table(
    out: &mut impl Write,
    versions: &[VersionRecord],
    with_model: bool,
    style: Style,
) -> Result<()> {
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            let mut row = Vec::new();
            if with_model {
                row.push(v.model.clone());
            }
            row.extend([
                v.version.to_string(),
                v.status.name().to_owned(),
                v.created_at[..19].replace('T', " "),
                v.aliases.join(", "),
                metrics_text(&v.metrics),
                v.tags
                    .iter()
                    .map(|(k, t)| format!("{k}={t}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]);
            row
        })
        .collect();
    let mut header = Vec::new();
    if with_model {
        header.push("model");
    }
    header.extend([
        "version",
        "status",
        "created (UTC)",
        "aliases",
        "metrics",
        "tags",
    ]);
    let mut right = vec![false; header.len()];
    right[usize::from(with_model)] = true;
    table(out, &header, &rows, &right, style)
}

fn show_version(out: &mut impl Write, v: &VersionRecord, style: Style) -> Result<()> {
    writeln!(
        out,
        "{} — {}",
        bold(&v.id().to_string(), style),
        v.status.name()
    )?;
    let mut kv: Vec<(String, String)> = vec![
        ("created".into(), v.created_at.clone()),
        (
            "artifact".into(),
            format!("sha256:{} ({})", v.artifact, bytes(v.size)),
        ),
        ("kind".into(), v.kind.clone()),
    ];
    let mut add = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            kv.push((k.to_owned(), v.clone()));
        }
    };
    add("task", &v.task);
    add("run", &v.run_id);
    add("experiment", &v.experiment);
    add("parent", &v.parent_version);
    add("data", &v.data_fingerprint);
    add("description", &v.description);
    kv.push(("written by".into(), format!("mlship {}", v.mlship_version)));
    if !v.aliases.is_empty() {
        kv.push(("aliases".into(), v.aliases.join(", ")));
    }
    for (k, t) in &v.tags {
        kv.push((format!("tag {k}"), t.clone()));
    }
    for (k, m) in &v.metrics {
        kv.push((format!("metric {k}"), num(*m)));
    }
    key_values(out, &kv)?;
    let mut params = Vec::new();
    flatten_params("", &v.params, &mut params);
    if !params.is_empty() {
        writeln!(out, "\n{}", bold("Parameters", style))?;
        let width = params
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, value) in &params {
            writeln!(out, "{k:<width$}  {value}")?;
        }
    }
    if let Some(cols) = v
        .schema
        .as_ref()
        .and_then(|s| s.get("columns"))
        .and_then(|c| c.as_array())
    {
        writeln!(out, "\n{}", bold("Input schema", style))?;
        let rows: Vec<Vec<String>> = cols
            .iter()
            .map(|c| {
                vec![
                    c["name"].as_str().unwrap_or("?").to_owned(),
                    c["kind"]["type"].as_str().unwrap_or("?").to_owned(),
                    if c["nullable"].as_bool().unwrap_or(false) {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_owned(),
                ]
            })
            .collect();
        table(
            out,
            &["column", "kind", "nullable"],
            &rows,
            &[false; 3],
            style,
        )?;
    }
    Ok(())
}

fn value_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn show_diff(out: &mut impl Write, d: &Diff, style: Style) -> Result<()> {
    writeln!(
        out,
        "{} → {}",
        bold(&d.from.to_string(), style),
        bold(&d.to.to_string(), style)
    )?;
    if d.same_artifact {
        writeln!(out, "(the same bundle bytes)")?;
    }
    writeln!(out, "\n{}", bold("Metrics", style))?;
    if d.metrics.is_empty() {
        writeln!(out, "(none)")?;
    } else {
        let opt = |x: Option<f64>| x.map_or_else(|| "-".into(), num);
        let rows: Vec<Vec<String>> = d
            .metrics
            .iter()
            .map(|m| {
                vec![
                    m.name.clone(),
                    opt(m.from),
                    opt(m.to),
                    m.delta.map_or_else(
                        || "-".into(),
                        |x| format!("{}{}", if x > 0.0 { "+" } else { "" }, num(x)),
                    ),
                ]
            })
            .collect();
        table(
            out,
            &["metric", &d.from.to_string(), &d.to.to_string(), "change"],
            &rows,
            &[false, true, true, true],
            style,
        )?;
    }
    for (title, changes) in [("Parameters", &d.params), ("Schema", &d.schema)] {
        writeln!(out, "\n{}", bold(title, style))?;
        if changes.is_empty() {
            writeln!(out, "(no change)")?;
            continue;
        }
        let rows: Vec<Vec<String>> = changes
            .iter()
            .map(|c| {
                vec![
                    c.key.clone(),
                    value_text(c.from.as_ref()),
                    value_text(c.to.as_ref()),
                ]
            })
            .collect();
        table(
            out,
            &["key", &d.from.to_string(), &d.to.to_string()],
            &rows,
            &[false; 3],
            style,
        )?;
    }
    writeln!(out, "\n{}", bold("Data", style))?;
    match &d.data_fingerprint {
        None => writeln!(out, "(same training data fingerprint)")?,
        Some(c) => writeln!(
            out,
            "{} → {}",
            value_text(c.from.as_ref()),
            value_text(c.to.as_ref())
        )?,
    }
    Ok(())
}

fn history_table(out: &mut impl Write, h: &[AuditEntry], style: Style) -> Result<()> {
    let rows: Vec<Vec<String>> = h
        .iter()
        .map(|e| {
            vec![
                e.at[..19].replace('T', " "),
                e.actor.clone(),
                e.action.clone(),
                match (&e.alias, e.version) {
                    (Some(a), _) => a.clone(),
                    (None, Some(v)) => format!("version {v}"),
                    (None, None) => String::new(),
                },
                format!(
                    "{} → {}",
                    e.before.as_deref().unwrap_or("-"),
                    e.after.as_deref().unwrap_or("-")
                ),
                e.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "time (UTC)",
            "actor",
            "action",
            "target",
            "change",
            "reason",
        ],
        &rows,
        &[false; 6],
        style,
    )
}

fn show_run(out: &mut impl Write, run: &RunRecord, style: Style) -> Result<()> {
    writeln!(out, "{} — mlship {}", bold(&run.id, style), run.command)?;
    let mut kv = vec![
        ("started".to_owned(), run.created_at.clone()),
        ("seconds".to_owned(), num(run.seconds)),
    ];
    if let Some(fp) = &run.data_fingerprint {
        kv.push(("data".into(), fp.clone()));
    }
    if let Some(c) = &run.chosen {
        kv.push(("chosen".into(), c.clone()));
    }
    for (k, v) in &run.metrics {
        kv.push((format!("metric {k}"), num(*v)));
    }
    if !run.versions.is_empty() {
        kv.push((
            "versions".into(),
            run.versions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    key_values(out, &kv)?;
    let metrics: std::collections::BTreeSet<&String> = run
        .candidates
        .iter()
        .flat_map(|c| c.cv_scores.keys())
        .collect();
    writeln!(out, "\n{}", bold("Candidates", style))?;
    if run.candidates.is_empty() {
        writeln!(out, "(none)")?;
        return Ok(());
    }
    let mut header = vec!["candidate"];
    let names: Vec<String> = metrics.iter().map(|m| format!("{m} (mean ± sd)")).collect();
    header.extend(names.iter().map(String::as_str));
    header.extend(["fit s", "score s", ""]);
    let rows: Vec<Vec<String>> = run
        .candidates
        .iter()
        .map(|c| {
            let mut row = vec![c.name.clone()];
            for m in &metrics {
                row.push(c.cv_scores.get(*m).filter(|s| !s.is_empty()).map_or_else(
                    || "-".into(),
                    |s| {
                        let mean = s.iter().sum::<f64>() / s.len() as f64;
                        let var =
                            s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / s.len() as f64;
                        format!("{} ± {}", num(mean), num(var.sqrt()))
                    },
                ));
            }
            row.push(num(c.fit_seconds));
            row.push(num(c.score_seconds));
            row.push(if run.chosen.as_deref() == Some(c.name.as_str()) {
                "chosen".into()
            } else {
                c.error.clone().unwrap_or_default()
            });
            row
        })
        .collect();
    let right: Vec<bool> = (0..header.len())
        .map(|i| i > 0 && i + 1 < header.len())
        .collect();
    table(out, &header, &rows, &right, style)
}
