//! `mlship update`: continue a model on new data, compare challenger and champion on a
//! held-out part of that data, and (with the registry) register the challenger as a child version
//! and move the alias only when it wins by a margin.
//!
//! The pipeline is kept as fitted (the input schema and reference profile do not change); the
//! model continues from the champion: warm-started solver iterations for linear and logistic
//! models (from the champion's coefficients), further boosting rounds for gradient boosting, and
//! a refit with the same specification on the new rows for the other kinds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::Manifest;
use mlship_core::traits::FitContext;
use mlship_preprocess::split::{SplitKey, SplitOptions, split_rows};
use mlship_registry::{Expect, ModelUri, RegisterOptions, VersionId};
use mlship_train::ModelSpec;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::experiment::Metric;
use crate::model::{BundlePredictor, MODEL_SECTION_VERSION};
use crate::preprocess::{read_batch, read_options};
use crate::registry::RegistryOpts;
use crate::run::predict_dataset;

/// What `mlship update` was asked to do.
#[derive(Debug, Clone)]
pub struct UpdateRequest<'a> {
    /// The champion: a bundle file or `NAME@ALIAS`, `NAME/VERSION`, `NAME@latest`.
    pub model: &'a str,
    /// The new labelled data.
    pub data: &'a Path,
    /// Where to write the challenger bundle (default: beside a file champion as
    /// `<stem>.updated.mlship`; for a registry champion, only registered).
    pub out: Option<&'a Path>,
    /// Share of the new rows held out to compare the two models.
    pub holdout: f64,
    /// Move the alias to the challenger only when it beats the champion by this much.
    pub promote_if_better: Option<f64>,
    /// The metric to compare by (default: the run's metric, else the task's default).
    pub metric: Option<&'a str>,
    /// Seed of the held-out split and the fit.
    pub seed: u64,
    /// The registry.
    pub registry: &'a RegistryOpts,
}

/// What `mlship update` did.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateSummary {
    /// The champion it started from.
    pub champion: String,
    /// How the model continued: `warm_start`, `more_rounds` or `refit`.
    pub method: String,
    /// New rows fitted on / held out.
    pub rows: BTreeMap<String, usize>,
    /// The comparison metric.
    pub metric: String,
    /// The champion's score on the held-out new rows.
    pub champion_score: f64,
    /// The challenger's score on the same rows.
    pub challenger_score: f64,
    /// Challenger minus champion, signed so that positive is better.
    pub improvement: f64,
    /// The challenger bundle written, if any.
    pub output: Option<PathBuf>,
    /// The challenger's registered version, for a registry champion.
    pub registered: Option<VersionId>,
    /// Whether the alias was moved to the challenger.
    pub promoted: bool,
    /// Why it was or was not promoted.
    pub decision: String,
}

/// Continues a model on new data and compares challenger and champion.
#[allow(clippy::too_many_lines)] // load, split, fit, compare, write, register, in order
pub fn update(req: &UpdateRequest<'_>) -> Result<UpdateSummary> {
    if !(req.holdout > 0.0 && req.holdout < 1.0) {
        return Err(Error::Usage(format!(
            "invalid --holdout {}: expected a share in (0, 1), such as 0.2",
            req.holdout
        )));
    }
    let loaded = crate::registry::load_model(req.model, req.registry)?;
    let envelope = Envelope::from_bytes(&loaded.bytes)?;
    let champion = BundlePredictor::from_envelope(&envelope, &loaded.source)?;
    let manifest = champion.manifest().clone();
    let pipeline = champion.pipeline();
    let task = champion.model().as_model().task().clone();
    let spec_value = manifest.params.get("model").cloned().ok_or_else(|| {
        Error::Usage(format!(
            "{}: the manifest has no model parameters to continue from",
            loaded.source
        ))
    })?;
    let spec = ModelSpec::from_value(spec_value)?;
    let metric = match req.metric {
        Some(m) => Metric::parse(m)?,
        None => manifest
            .params
            .pointer("/experiment/metric")
            .and_then(|v| v.as_str())
            .map_or_else(|| Ok(Metric::default_for(&task)), Metric::parse)?,
    };
    metric.check_task(&task)?;

    // New rows: those with a target, split into the part fitted on and the part compared on.
    let batch = read_batch(req.data, &read_options(pipeline.spec())?)?;
    let target = pipeline
        .target()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let Some(tcol) = batch.column(&target) else {
        return Err(Error::Usage(format!(
            "{} has no target column {target:?}\nhint: updating needs labelled rows",
            req.data.display()
        )));
    };
    let keep: Vec<usize> = (0..batch.n_rows()).filter(|&r| tcol.is_valid(r)).collect();
    let batch = batch.take(&keep)?;
    let fingerprint = mlship_core::fingerprint::fingerprint(&batch);
    let all = pipeline.transform(batch.clone())?;
    let y: Vec<f64> = all.y().map(|y| y.to_vec()).unwrap_or_default();
    let codes: Vec<u32> = y.iter().map(|&v| v as u32).collect();
    let key = if task.is_classification() {
        SplitKey::Stratified(&codes)
    } else {
        SplitKey::Random
    };
    let split = split_rows(
        all.n_rows(),
        key,
        &SplitOptions {
            test: req.holdout,
            validation: 0.0,
            seed: req.seed,
        },
    )?;
    let fit_rows = all.rows(&split.train)?;
    let ctx = FitContext::seeded(req.seed);
    let (outcome, method) = match champion.model() {
        m @ (mlship_train::FittedModel::Linear(_)
        | mlship_train::FittedModel::Logistic(_)
        | mlship_train::FittedModel::Gbdt(_)) => {
            let method = if matches!(m, mlship_train::FittedModel::Gbdt(_)) {
                "more_rounds"
            } else {
                "warm_start"
            };
            (spec.fit_warm(fit_rows, &ctx, Some(m))?, method)
        }
        _ => (spec.fit(fit_rows, &ctx)?, "refit"),
    };

    // Compare on the held-out new rows.
    let held = pipeline.transform(batch.take(&split.test)?)?;
    let score =
        |model: &mlship_train::FittedModel, cal: Option<&crate::run::Calibration>| -> Result<f64> {
            let p = predict_dataset(model, &held, cal)?;
            metric.score(&p.y, &p.pred, p.proba.as_ref(), None)
        };
    let champion_score = score(champion.model(), champion.calibration())?;
    let challenger_score = score(&outcome.model, None)?;
    let improvement = if metric.greater_is_better() {
        challenger_score - champion_score
    } else {
        champion_score - challenger_score
    };

    // The challenger bundle: the champion's pipeline and profile, the new model.
    let mut sections: Vec<Section> = envelope
        .sections
        .iter()
        .filter(|s| s.name != "model" && s.name != "calibration")
        .cloned()
        .collect();
    sections.push(Section::new(
        "model",
        MODEL_SECTION_VERSION,
        outcome.model.to_bytes()?,
    ));
    let mut m = Manifest::new("model");
    m.name.clone_from(&manifest.name);
    m.task.clone_from(&manifest.task);
    m.schema.clone_from(&manifest.schema);
    m.params = manifest.params.clone();
    if let serde_json::Value::Object(o) = &mut m.params {
        o.remove("calibration");
        o.insert(
            "update".into(),
            serde_json::json!({ "method": method, "data": req.data.display().to_string(), "holdout": req.holdout, "seed": req.seed }),
        );
    }
    m.metrics = BTreeMap::from([(format!("update_{}", metric.name()), challenger_score)]);
    m.lineage = manifest.lineage.clone();
    m.lineage.data_fingerprint = Some(fingerprint);
    m.lineage.data_source = Some(req.data.display().to_string());
    m.lineage.seed = Some(req.seed);
    m.lineage.run_id = None;
    m.lineage.parent_version = Some(
        loaded
            .version
            .as_ref()
            .map_or_else(|| loaded.source.clone(), ToString::to_string),
    );
    let mut out_env = Envelope::new(m.to_json());
    out_env.sections = sections;

    let output = match (req.out, &loaded.version) {
        (Some(p), _) => Some(p.to_owned()),
        (None, None) => {
            let p = PathBuf::from(&loaded.source);
            let stem = p
                .file_stem()
                .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
            Some(p.with_file_name(format!("{stem}.updated.mlship")))
        }
        (None, Some(_)) => None,
    };
    if let Some(p) = &output {
        out_env.write_atomic(p)?;
    }

    let beats = req.promote_if_better.map(|margin| improvement > margin);
    let (mut registered, mut promoted) = (None, false);
    let mut decision = match beats {
        None => "no --promote-if-better: nothing promoted".to_owned(),
        Some(true) => format!(
            "the challenger beats the champion by {improvement:.6} > {:.6}",
            req.promote_if_better.unwrap_or_default()
        ),
        Some(false) => format!(
            "the challenger does not beat the champion by more than {:.6} ({improvement:.6}): the alias stays",
            req.promote_if_better.unwrap_or_default()
        ),
    };
    if let Some(parent) = &loaded.version {
        let mut registry = req.registry.open()?;
        let bytes = out_env.to_bytes()?;
        let v = registry.register_bytes(
            &bytes,
            &RegisterOptions {
                name: parent.model.clone(),
                tags: BTreeMap::from([("parent".to_owned(), parent.to_string())]),
                description: Some(format!("{method} of {parent} on {}", req.data.display())),
            },
        )?;
        if beats == Some(true) {
            if let Ok(ModelUri::Alias { alias, .. }) = ModelUri::parse(req.model) {
                registry.promote(
                    &parent.model,
                    &alias,
                    v.version,
                    &format!("mlship update: {decision}"),
                    Expect::At(Some(parent.version)),
                )?;
                promoted = true;
            } else {
                decision.push_str("; the champion was not named by an alias, so none moved");
            }
        }
        registered = Some(v.id());
    }
    Ok(UpdateSummary {
        champion: loaded.source,
        method: method.to_owned(),
        rows: BTreeMap::from([
            ("fitted".to_owned(), split.train.len()),
            ("held out".to_owned(), split.test.len()),
        ]),
        metric: metric.name().to_owned(),
        champion_score,
        challenger_score,
        improvement,
        output,
        registered,
        promoted,
        decision,
    })
}
