//! Model bundles: training one from data and a pipeline, loading one, and predicting from raw
//! input through it.
//!
//! A model bundle (manifest kind `model`) holds the `pipeline` and `profile` sections of the
//! pipeline it was trained behind and a `model` section (the fitted estimator, encoded by
//! `mlship_train::FittedModel::to_bytes`). [`BundlePredictor`] joins the pipeline's row path and
//! the model into core's `RawPredictor`, which the server and the explainers use.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::{Lineage, Manifest};
use mlship_core::params::{ParamSet, ParamValue};
use mlship_core::traits::{FitContext, Predictions, Progress, RawPredictor};
use mlship_core::{Dataset, RawBatch, Schema, Task};
use mlship_preprocess::pipeline::{Fitted, Pipeline};
use mlship_train::{FitReport, FittedModel, ModelSpec};
use ndarray::Array2;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::preprocess::{
    load_pipeline, pipeline_from, pipeline_sections, read_batch, read_options, read_spec,
};

/// Version of the `model` section.
pub const MODEL_SECTION_VERSION: u32 = 1;

/// A bundle's pipeline and model, predicting from raw input.
#[derive(Debug)]
pub struct BundlePredictor {
    pipeline: Pipeline,
    model: FittedModel,
    task: Task,
    manifest: Manifest,
}

impl BundlePredictor {
    /// Loads and verifies a model bundle from a file.
    pub fn load(path: &Path) -> Result<Self> {
        let envelope = Envelope::read(path)?;
        Self::from_envelope(&envelope, &path.display().to_string())
    }

    /// Loads a model named by a URI: a bundle file, `NAME@ALIAS`, `NAME/VERSION` or
    /// `NAME@latest` from the registry `opts` names.
    pub fn load_uri(uri: &str, opts: &crate::registry::RegistryOpts) -> Result<Self> {
        let loaded = crate::registry::load_model(uri, opts)?;
        let envelope = Envelope::from_bytes(&loaded.bytes)?;
        Self::from_envelope(&envelope, &loaded.source)
    }

    /// The predictor of a verified envelope; `origin` names it in errors.
    pub fn from_envelope(envelope: &Envelope, origin: &str) -> Result<Self> {
        let manifest = Manifest::from_json(&envelope.manifest)?;
        if manifest.kind != "model" {
            return Err(Error::Usage(format!(
                "{origin} is a {} bundle, not a model\nhint: train one with `mlship train`",
                if manifest.kind.is_empty() {
                    "foreign"
                } else {
                    &manifest.kind
                }
            )));
        }
        let section = envelope.section_required("model")?;
        if section.version > MODEL_SECTION_VERSION {
            return Err(Error::Core(mlship_core::Error::Unsupported(format!(
                "{origin}: model section version {} is newer than this mlship reads ({MODEL_SECTION_VERSION})\nhint: upgrade mlship",
                section.version
            ))));
        }
        let model = FittedModel::from_bytes(&section.bytes).map_err(|e| {
            mlship_core::Error::invalid_data(format!("{origin}: the model section is invalid: {e}"))
        })?;
        let (pipeline, _) = pipeline_from(envelope, origin)?;
        let task = pipeline.target().map(|t| t.task.clone()).ok_or_else(|| {
            mlship_core::Error::invalid_data(format!("{origin}: the pipeline has no target"))
        })?;
        let n = pipeline.features().len();
        let m = model.as_model();
        if m.n_features() != n || m.task() != &task {
            return Err(Error::Core(mlship_core::Error::invalid_data(format!(
                "{origin}: the model expects {} features for a {} task, the pipeline gives {n} for {}",
                m.n_features(),
                m.task().name(),
                task.name()
            ))));
        }
        Ok(Self {
            pipeline,
            model,
            task,
            manifest,
        })
    }

    /// The bundle's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The fitted pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The fitted model.
    pub fn model(&self) -> &FittedModel {
        &self.model
    }

    /// Predictions (and probabilities, for classifiers) for a transformed design matrix.
    pub fn predict_matrix(&self, x: &Array2<f64>) -> Result<Predictions> {
        let m = self.model.as_model();
        let values = m.predict(x.view())?.to_vec();
        let (labels, probabilities) = if self.task.is_classification() {
            let classes = self.task.classes();
            let labels = values
                .iter()
                .map(|&v| classes.get(v as usize).cloned().unwrap_or_default())
                .collect();
            (Some(labels), Some(m.predict_proba(x.view())?))
        } else {
            (None, None)
        };
        Ok(Predictions {
            values,
            labels,
            probabilities,
        })
    }
}

impl RawPredictor for BundlePredictor {
    fn schema(&self) -> &Schema {
        self.pipeline.schema()
    }

    fn task(&self) -> &Task {
        &self.task
    }

    fn predict(&self, batch: &RawBatch) -> mlship_core::Result<Predictions> {
        let x = self
            .pipeline
            .transform_rows(batch.clone())
            .map_err(mlship_core::Error::from)?;
        self.predict_matrix(&x).map_err(|e| match e {
            Error::Core(e) => e,
            other => mlship_core::Error::Other(other.to_string()),
        })
    }
}

/// Parses `--set key=value` pairs: `true`/`false`, integers, floats, else strings.
pub fn parse_sets(sets: &[String]) -> Result<ParamSet> {
    let mut params = ParamSet::new();
    for s in sets {
        let Some((k, v)) = s.split_once('=') else {
            return Err(Error::Usage(format!(
                "invalid --set {s:?}: expected KEY=VALUE, such as C=0.5"
            )));
        };
        let (k, v) = (k.trim(), v.trim());
        let value = if v == "true" || v == "false" {
            ParamValue::Bool(v == "true")
        } else if let Ok(i) = v.parse::<i64>() {
            ParamValue::Int(i)
        } else if let Ok(f) = v.parse::<f64>() {
            ParamValue::Float(f)
        } else {
            ParamValue::String(v.trim_matches('"').to_owned())
        };
        params.insert(k.to_owned(), value);
    }
    Ok(params)
}

/// What `mlship train` was asked to do.
#[derive(Debug, Clone)]
pub struct TrainRequest<'a> {
    /// The training data.
    pub data: &'a Path,
    /// The target column (must match the pipeline's when one is given).
    pub target: Option<&'a str>,
    /// A fitted pipeline (or model) bundle to train behind.
    pub pipeline: Option<&'a Path>,
    /// A pipeline spec to fit on `data` when no fitted pipeline is given.
    pub spec: Option<&'a Path>,
    /// The estimator kind.
    pub estimator: &'a str,
    /// Parameters.
    pub sets: &'a [String],
    /// The seed.
    pub seed: u64,
    /// Where to write the model bundle.
    pub out: &'a Path,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// What `mlship train` did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// The bundle written.
    pub output: PathBuf,
    /// The estimator and its parameters, as validated.
    pub model: serde_json::Value,
    /// `regression`, `binary` or `multiclass`.
    pub task: String,
    /// Training rows.
    pub rows: usize,
    /// Features after the pipeline.
    pub features: usize,
    /// Metrics on the training data.
    pub metrics: BTreeMap<String, f64>,
    /// What the solver reported (iterations, convergence, warnings).
    pub fit: FitReport,
    /// Seconds spent fitting the model.
    pub fit_seconds: f64,
}

/// Trains a model and writes the bundle.
#[allow(clippy::too_many_lines)] // pipeline, fit, metrics and bundle, in order
pub fn train(req: &TrainRequest<'_>) -> Result<TrainSummary> {
    let params = parse_sets(req.sets)?;
    let model_spec = ModelSpec::from_params(req.estimator, &params).map_err(|e| {
        Error::Usage(format!(
            "{e}\nhint: estimators are {}; docs/estimators.md lists their parameters",
            ModelSpec::KINDS.join(", ")
        ))
    })?;
    #[allow(clippy::single_match_else)] // two ways to get a fitted pipeline, side by side
    let (fitted, sections, pipeline_spec) = match req.pipeline {
        Some(path) => {
            let (pipeline, profile) = load_pipeline(path)?;
            let Some(target) = pipeline.target() else {
                return Err(Error::Usage(format!(
                    "the pipeline in {} was fitted without a target\nhint: refit it with `mlship preprocess fit --target COLUMN`",
                    path.display()
                )));
            };
            if let Some(t) = req.target
                && t != target.name
            {
                return Err(Error::Usage(format!(
                    "--target {t:?} differs from the pipeline's target {:?}",
                    target.name
                )));
            }
            let options = read_options(pipeline.spec())?;
            let batch = read_batch(req.data, &options)?;
            let fingerprint = mlship_core::fingerprint::fingerprint(&batch);
            let train = pipeline.transform(batch)?;
            let profile = profile.ok_or_else(|| {
                mlship_core::Error::invalid_data(format!(
                    "{}: the bundle has no profile section",
                    path.display()
                ))
            })?;
            let spec = pipeline.spec().clone();
            let fitted = Fitted {
                pipeline,
                train,
                profile,
            };
            let sections = pipeline_sections(&fitted)?;
            (fitted, (sections, fingerprint), spec)
        }
        None => {
            let spec = read_spec(req.spec)?;
            if req.target.is_none() && spec.target.is_none() {
                return Err(Error::Usage(
                    "name the target column with --target COLUMN".into(),
                ));
            }
            let options = read_options(&spec)?;
            let batch = read_batch(req.data, &options)?;
            let fingerprint = mlship_core::fingerprint::fingerprint(&batch);
            let fitted = Pipeline::fit(batch, &spec, req.target)?;
            let sections = pipeline_sections(&fitted)?;
            (fitted, (sections, fingerprint), spec)
        }
    };
    let (mut sections, fingerprint) = sections;
    let train = &fitted.train;
    if train.y().is_none() {
        return Err(Error::Usage(format!(
            "{} has no target column {:?}",
            req.data.display(),
            fitted.pipeline.target().map_or("", |t| t.name.as_str())
        )));
    }

    let bar = req.progress.then(progress_bar);
    let report_fn = |p: &Progress| {
        if let Some(b) = &bar {
            if let Some(t) = p.total {
                b.set_length(t);
            }
            b.set_position(p.done);
            b.set_message(p.loss.map_or_else(String::new, |l| format!("loss {l:.6}")));
        }
    };
    let mut ctx = FitContext::seeded(req.seed);
    ctx.progress = Some(&report_fn);
    let start = Instant::now();
    let outcome = model_spec.fit(train.view(), &ctx)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let metrics = training_metrics(&outcome.model, train)?;

    let task = train.task().clone();
    let mut manifest = Manifest::new("model");
    manifest.task = Some(task.clone());
    manifest.schema = Some(fitted.pipeline.schema().clone());
    let model_json = serde_json::to_value(&model_spec).unwrap_or_default();
    manifest.params = serde_json::json!({ "model": model_json, "pipeline": pipeline_spec });
    manifest.metrics = metrics.clone();
    manifest.lineage = Lineage {
        data_fingerprint: Some(fingerprint),
        data_source: Some(req.data.display().to_string()),
        seed: Some(req.seed),
        experiment: Some(format!("mlship train --estimator {}", req.estimator)),
        ..Lineage::default()
    };
    manifest
        .tags
        .insert("fit_seconds".into(), format!("{fit_seconds:.3}"));
    sections.push(Section::new(
        "model",
        MODEL_SECTION_VERSION,
        outcome.model.to_bytes()?,
    ));
    let mut envelope = Envelope::new(manifest.to_json());
    envelope.sections = sections;
    envelope.write_atomic(req.out)?;
    Ok(TrainSummary {
        output: req.out.to_owned(),
        model: model_json,
        task: task.name().to_owned(),
        rows: train.n_rows(),
        features: train.n_features(),
        metrics,
        fit: outcome.report,
        fit_seconds,
    })
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} fitting [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Whether stderr is a terminal a progress bar can be drawn on.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Metrics of a model on a dataset with a target.
pub fn training_metrics(model: &FittedModel, data: &Dataset) -> Result<BTreeMap<String, f64>> {
    use mlship_evaluate::metrics as mx;
    let mut out = BTreeMap::new();
    let Some(y) = data.y() else {
        return Ok(out);
    };
    let y = y.to_vec();
    let m = model.as_model();
    let pred = m.predict(data.x())?.to_vec();
    let w = data.weights().map(|w| w.to_vec());
    let w = w.as_deref();
    let ev =
        |e: mlship_evaluate::EvaluateError| Error::Core(mlship_core::Error::Other(e.to_string()));
    if data.task().is_classification() {
        let proba = m.predict_proba(data.x())?;
        let k = proba.ncols();
        let flat: Vec<f64> = proba.iter().copied().collect();
        out.insert(
            "accuracy".into(),
            mx::accuracy_score(&y, &pred, w, true).map_err(ev)?,
        );
        out.insert(
            "log_loss".into(),
            mx::log_loss(&y, &flat, k, w, true).map_err(ev)?,
        );
        if k == 2 {
            let pos: Vec<f64> = proba.column(1).to_vec();
            let auc = mx::roc_auc_score(&y, &pos, w).map_err(ev)?;
            if auc.is_finite() {
                out.insert("roc_auc".into(), auc);
            }
        }
    } else {
        out.insert("r2".into(), mx::r2_score(&y, &pred, w).map_err(ev)?);
        out.insert(
            "rmse".into(),
            mx::root_mean_squared_error(&y, &pred, w).map_err(ev)?,
        );
        out.insert(
            "mae".into(),
            mx::mean_absolute_error(&y, &pred, w).map_err(ev)?,
        );
    }
    Ok(out)
}

/// What `mlship predict` did.
#[derive(Debug, Clone, Serialize)]
pub struct PredictSummary {
    /// The file written.
    pub output: PathBuf,
    /// Rows predicted.
    pub rows: usize,
    /// Columns written.
    pub columns: Vec<String>,
    /// Seconds spent reading the data file.
    pub read_seconds: f64,
    /// Seconds spent in the pipeline (checking and transforming the rows).
    pub transform_seconds: f64,
    /// Seconds spent in the model (predictions and probabilities for the transformed rows).
    pub predict_seconds: f64,
}

/// Predicts for every row of `data` and writes the predictions (and, with `proba`, one
/// probability column per class, named `proba_<class>`).
pub fn predict(
    model: &str,
    registry: &crate::registry::RegistryOpts,
    data: &Path,
    out: &Path,
    proba: bool,
) -> Result<PredictSummary> {
    mlship_preprocess::FileFormat::from_path(out)?;
    let predictor = BundlePredictor::load_uri(model, registry)?;
    let options = read_options(predictor.pipeline().spec())?;
    let start = Instant::now();
    let batch = read_batch(data, &options)?;
    let read_seconds = start.elapsed().as_secs_f64();
    let rows = batch.n_rows();
    let start = Instant::now();
    let x = predictor.pipeline().transform_rows(batch)?;
    let transform_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let p = predictor.predict_matrix(&x)?;
    let predict_seconds = start.elapsed().as_secs_f64();
    let mut names = vec!["prediction".to_owned()];
    let mut columns: Vec<mlship_core::RawColumn> = Vec::new();
    match &p.labels {
        Some(labels) => columns.push(mlship_core::RawColumn::categorical(
            "prediction",
            labels.iter().map(|s| Some(s.as_str())),
        )),
        None => columns.push(mlship_core::RawColumn::numeric(
            "prediction",
            p.values.iter().map(|&v| Some(v)),
        )),
    }
    if proba {
        let Some(probs) = &p.probabilities else {
            return Err(Error::Usage(
                "--proba needs a classifier; this model is a regression".into(),
            ));
        };
        for (j, class) in predictor.task.classes().iter().enumerate() {
            let name = format!("proba_{class}");
            columns.push(mlship_core::RawColumn::numeric(
                name.clone(),
                probs.column(j).iter().map(|&v| Some(v)),
            ));
            names.push(name);
        }
    }
    let mut df = mlship_preprocess::batch_to_frame(&RawBatch::new(columns)?)?;
    mlship_preprocess::write_table(&mut df, out)?;
    Ok(PredictSummary {
        output: out.to_owned(),
        rows,
        columns: names,
        read_seconds,
        transform_seconds,
        predict_seconds,
    })
}
