//! `mlship run` — the main job — and `mlship evaluate`.
//!
//! A run reads the experiment, reads the data, holds out the test rows, searches every candidate
//! family with cross-validation on the training rows (each fold refitting the whole pipeline
//! through [`FoldFitter`]), ranks the families, refits the winner on the whole training split,
//! scores it on the held-out rows, writes the bundle with its lineage, `report.json` and
//! `report.html`, records the run in the registry and, when asked, registers the bundle.
//!
//! Same experiment, same data and same seed give the same bundle sections, byte for byte, and
//! the same metrics, whatever the thread count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::{Lineage, Manifest};
use mlship_core::params::ParamSet;
use mlship_core::traits::FitContext;
use mlship_core::{ColumnData, RawBatch, Task};
use mlship_evaluate::calibration::{Calibrator, tune_threshold};
use mlship_evaluate::search::{
    HalvingOptions, SearchOptions, SearchRow, grid_candidates, random_candidates, rank_min, search,
    successive_halving,
};
use mlship_preprocess::pipeline::Pipeline;
use mlship_preprocess::split::{SplitKey, SplitOptions, split_rows};
use mlship_registry::{RegisterOptions, RunCandidate, RunRecord, VersionId};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::experiment::{
    ExperimentSpec, FoldFitter, FoldPredictions, HoldoutMethod, PipelineRef, SearchKind,
    ThresholdChoice, apply_pipeline_params, relative_to,
};
use crate::model::{BundlePredictor, MODEL_SECTION_VERSION};
use crate::preprocess::{pipeline_sections, read_batch, read_options, read_spec};
use crate::registry::RegistryOpts;
use crate::report::{CandidateRow, Evaluation, LeaderRow, Report, Selection, importances};

/// Version of the `calibration` section (JSON of [`Calibration`]).
pub const CALIBRATION_SECTION_VERSION: u32 = 1;

/// What the bundle's `calibration` section holds: a probability calibrator and a decision
/// threshold for binary classifiers, both chosen on out-of-fold predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Maps the model's positive-class probability to a calibrated one.
    pub calibrator: Option<Calibrator>,
    /// Predict the positive class when its (calibrated) probability is at least this.
    pub threshold: Option<f64>,
}

impl Calibration {
    /// Applies the calibration to a binary classifier's probabilities and predictions.
    pub fn apply(&self, proba: &mut Array2<f64>, pred: &mut [f64]) {
        if proba.ncols() != 2 {
            return;
        }
        if let Some(c) = &self.calibrator {
            for mut row in proba.rows_mut() {
                let p = c.predict(row[1]);
                row[1] = p;
                row[0] = 1.0 - p;
            }
        }
        let cut = self.threshold;
        for (i, p) in pred.iter_mut().enumerate() {
            let p1 = proba[[i, 1]];
            *p = match cut {
                Some(t) => f64::from(u8::from(p1 >= t)),
                // The most probable class; a tie goes to the first, as argmax does.
                None => f64::from(u8::from(p1 > proba[[i, 0]])),
            };
        }
    }
}

/// What `mlship run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunRequest<'a> {
    /// The experiment file.
    pub experiment: &'a Path,
    /// The output folder (default `runs/<experiment>-<UTC time>/`).
    pub out: Option<&'a Path>,
    /// Register the bundle under this name.
    pub register: Option<&'a str>,
    /// The registry the run is recorded in.
    pub registry: &'a RegistryOpts,
    /// Draw progress bars on stderr.
    pub progress: bool,
}

/// What `mlship run` did.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The run's id (also the bundle's `lineage.run_id`).
    pub run_id: String,
    /// The experiment's name.
    pub experiment: String,
    /// `regression`, `binary` or `multiclass`.
    pub task: String,
    /// The output folder.
    pub out_dir: PathBuf,
    /// The bundle written.
    pub bundle: PathBuf,
    /// The JSON report.
    pub report_json: PathBuf,
    /// The HTML report.
    pub report_html: PathBuf,
    /// The ranking metric.
    pub metric: String,
    /// The best candidate of each family, best first.
    pub leaderboard: Vec<LeaderRow>,
    /// The chosen model's metrics on the held-out test rows.
    pub test_metrics: BTreeMap<String, f64>,
    /// The registered version, with `--register`.
    pub registered: Option<VersionId>,
    /// Where the run was recorded, or why it was not.
    pub recorded: String,
    /// Seconds the run took.
    pub seconds: f64,
}

/// One family's search outcome.
struct FamilyOutcome {
    rows: Vec<SearchRow>,
    halving: Vec<Option<(usize, usize)>>,
    best: usize,
    completed: usize,
    n_candidates: usize,
    stopped: bool,
}

fn usage(origin: &str, e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{origin}: {e}"))
}

/// Dense codes of a column's values in order of first appearance (split keys and groups).
fn codes_of(c: &mlship_core::RawColumn) -> Vec<u32> {
    let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    (0..c.len())
        .map(|r| {
            let next = index.len() as u32;
            *index.entry(c.value(r).to_string()).or_insert(next)
        })
        .collect()
}

fn column<'b>(batch: &'b RawBatch, name: &str, what: &str) -> Result<&'b mlship_core::RawColumn> {
    batch.column(name).ok_or_else(|| {
        Error::Usage(format!(
            "no {what} column {name:?} in the data\nhint: the columns are {}",
            batch.names().collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The held-out split's row indices.
fn holdout(
    exp: &ExperimentSpec,
    batch: &RawBatch,
    target: &str,
    classification: bool,
) -> Result<mlship_preprocess::split::SplitIndices> {
    let method = match exp.split.method {
        HoldoutMethod::Auto if classification => HoldoutMethod::Stratified,
        HoldoutMethod::Auto => HoldoutMethod::Random,
        m => m,
    };
    let by = || -> Result<&mlship_core::RawColumn> {
        let name = exp.split.by.as_deref().ok_or_else(|| {
            Error::Usage(format!(
                "split.method = \"{}\" needs split.by = \"COLUMN\"",
                if method == HoldoutMethod::Group {
                    "group"
                } else {
                    "time"
                }
            ))
        })?;
        column(batch, name, "split.by")
    };
    let codes: Vec<u32>;
    let groups: Vec<u64>;
    let times: Vec<i64>;
    let key = match method {
        HoldoutMethod::Random | HoldoutMethod::Auto => SplitKey::Random,
        HoldoutMethod::Stratified => {
            codes = codes_of(column(batch, target, "target")?);
            SplitKey::Stratified(&codes)
        }
        HoldoutMethod::Group => {
            groups = codes_of(by()?).into_iter().map(u64::from).collect();
            SplitKey::Group(&groups)
        }
        HoldoutMethod::Time => {
            let c = by()?;
            times = match &c.data {
                ColumnData::Datetime(v) => v.clone(),
                ColumnData::Numeric(v) => v.iter().map(|&x| (x * 1e6) as i64).collect(),
                other => {
                    return Err(Error::Usage(format!(
                        "the time column {:?} must hold dates or numbers, not {}",
                        c.name,
                        other.type_name()
                    )));
                }
            };
            SplitKey::Time(&times)
        }
    };
    Ok(split_rows(
        batch.n_rows(),
        key,
        &SplitOptions {
            test: exp.split.test,
            validation: 0.0,
            seed: exp.seed,
        },
    )?)
}

fn params_json(p: &ParamSet) -> BTreeMap<String, serde_json::Value> {
    p.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// A name usable in a folder name: letters, digits, `-`, `_` and `.`, others as `_`.
fn folder_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "run".into() } else { s }
}

fn bar(progress: bool, families: usize) -> Option<indicatif::ProgressBar> {
    if !progress {
        return None;
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:24} [{bar:30}] {pos}/{len} folds {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b.set_message(format!("searching {families} families"));
    Some(b)
}

/// Runs an experiment end to end.
#[allow(clippy::too_many_lines)] // the main job's stages, in order
pub fn run(req: &RunRequest<'_>) -> Result<RunSummary> {
    let start = Instant::now();
    let mut timings = BTreeMap::new();
    let path = req.experiment;
    let origin = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| mlship_core::Error::io("reading", path, e))?;
    let exp = ExperimentSpec::from_toml(&text, &origin)?;
    exp.validate(&origin)?;
    let name = exp.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map_or_else(|| "experiment".into(), |s| s.to_string_lossy().into_owned())
    });

    // The pipeline spec, with the experiment's target and task.
    let mut spec = match &exp.pipeline {
        PipelineRef::Path(p) => read_spec(Some(&relative_to(path, p)))?,
        PipelineRef::Inline(s) => (**s).clone(),
    };
    if let Some(t) = &exp.target {
        spec.target = Some(t.clone());
    }
    if let Some(k) = exp.task {
        spec.task = k;
    }
    let target = spec.target.clone().ok_or_else(|| {
        usage(
            &origin,
            "no target column: set target = \"COLUMN\" in the experiment or its pipeline spec",
        )
    })?;

    // Data: rows without a target are left out.
    let t0 = Instant::now();
    let data_path = relative_to(path, exp.data.as_deref().unwrap_or(Path::new("")));
    let batch = read_batch(&data_path, &read_options(&spec)?)?;
    let tcol = column(&batch, &target, "target")?;
    let keep: Vec<usize> = (0..batch.n_rows()).filter(|&r| tcol.is_valid(r)).collect();
    let batch = if keep.len() < batch.n_rows() {
        batch.take(&keep)?
    } else {
        batch
    };
    let fingerprint = mlship_core::fingerprint::fingerprint(&batch);
    let classification = match spec.task {
        mlship_preprocess::spec::TaskKind::Classification => true,
        mlship_preprocess::spec::TaskKind::Regression => false,
        mlship_preprocess::spec::TaskKind::Auto => {
            !matches!(
                column(&batch, &target, "target")?.data,
                ColumnData::Numeric(_)
            ) || spec
                .read
                .types
                .get(&target)
                .is_some_and(|t| t == "categorical" || t == "boolean")
        }
    };
    let split = holdout(&exp, &batch, &target, classification)?;
    let train_raw = batch.take(&split.train)?;
    let test_raw = batch.take(&split.test)?;
    timings.insert("read and split".to_owned(), t0.elapsed().as_secs_f64());

    // The pipeline on the whole training split tells the task (and is the winner's pipeline
    // unless its candidate changes pipeline parameters).
    let t0 = Instant::now();
    let base = Pipeline::fit(train_raw.clone(), &spec, Some(&target))?;
    let task = base.train.task().clone();
    let metric = exp.validate_for(&task, &origin)?;
    let y_cv: Vec<f64> = base
        .pipeline
        .encode_target(column(&train_raw, &target, "target")?)?
        .to_vec();
    let cv_spec = exp.cv_for(&task);
    let splitter = cv_spec
        .build()
        .map_err(|e| usage(&origin, format!("cv: {e}")))?;
    let groups: Option<Vec<u64>> = match exp.split.by.as_deref() {
        Some(g) if matches!(cv_spec.build().map(|s| s.name()), Ok(n) if n.contains("group")) => {
            Some(
                codes_of(column(&train_raw, g, "group")?)
                    .into_iter()
                    .map(u64::from)
                    .collect(),
            )
        }
        _ => None,
    };
    let y_for_split = task.is_classification().then_some(y_cv.as_slice());
    let n_train = train_raw.n_rows();
    let folds = splitter
        .split(n_train, y_for_split, groups.as_deref())
        .map_err(|e| {
            usage(
                &origin,
                format!(
                    "cv: {e}\nhint: {n_train} training rows after holding out {} test rows; use fewer folds or more data",
                    split.test.len()
                ),
            )
        })?;
    timings.insert("pipeline".to_owned(), t0.elapsed().as_secs_f64());

    // Search every family.
    let t0 = Instant::now();
    let threads = exp
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let progress = bar(req.progress, exp.candidates.len());
    let tick = || {
        if let Some(b) = &progress {
            b.inc(1);
        }
    };
    let first = &exp.candidates[0];
    let mut fitter = FoldFitter::new(
        &train_raw,
        &spec,
        &target,
        &task,
        &first.kind,
        first.fixed(),
        metric,
        exp.seed,
    )
    .with_progress(&tick);
    let mut outcomes: Vec<FamilyOutcome> = Vec::with_capacity(exp.candidates.len());
    let budget = exp.time_budget.map(Duration::from_secs_f64);
    for (fi, family) in exp.candidates.iter().enumerate() {
        fitter.set_family(&family.kind, family.fixed());
        let kind = family.search.unwrap_or(exp.search);
        let space = family.search_space();
        let seed = exp.seed.wrapping_add(fi as u64);
        let candidates = match kind {
            SearchKind::Grid => {
                let grid = space.as_grid().unwrap_or_default();
                grid_candidates(&grid)
                    .map_err(|e| usage(&origin, format!("{}: {e}", family.label())))?
            }
            SearchKind::Random | SearchKind::Halving => {
                random_candidates(&space, exp.max_candidates, seed)
                    .map_err(|e| usage(&origin, format!("{}: {e}", family.label())))?
            }
        };
        let family_budget = budget.map(|b| {
            let left = b.saturating_sub(t0.elapsed());
            left / u32::try_from(exp.candidates.len() - fi).unwrap_or(1)
        });
        if let Some(b) = &progress {
            b.set_message(format!(
                "{} ({}/{})",
                family.label(),
                fi + 1,
                exp.candidates.len()
            ));
            let n = candidates.len().min(exp.max_candidates) * folds.len();
            b.inc_length(n as u64);
        }
        let closure = fitter.closure();
        let context = |e: mlship_evaluate::EvaluateError| {
            Error::Core(mlship_core::Error::Other(format!(
                "searching {}: {e}",
                family.label()
            )))
        };
        let outcome = match kind {
            SearchKind::Random | SearchKind::Grid => {
                let r = search(
                    &candidates,
                    splitter.as_ref(),
                    n_train,
                    y_for_split,
                    groups.as_deref(),
                    &closure,
                    &SearchOptions {
                        threads,
                        max_candidates: Some(exp.max_candidates),
                        time_budget: family_budget,
                        greater_is_better: metric.greater_is_better(),
                    },
                )
                .map_err(context)?;
                FamilyOutcome {
                    halving: vec![None; r.rows.len()],
                    best: r.best_index,
                    completed: r.completed,
                    n_candidates: r.n_candidates,
                    stopped: r.stopped_by_time_budget,
                    rows: r.rows,
                }
            }
            SearchKind::Halving => {
                let r = successive_halving(
                    &candidates,
                    splitter.as_ref(),
                    n_train,
                    y_for_split,
                    groups.as_deref(),
                    &closure,
                    &HalvingOptions {
                        factor: exp.halving_factor,
                        classification: task.is_classification(),
                        seed,
                        threads,
                        greater_is_better: metric.greater_is_better(),
                        ..HalvingOptions::default()
                    },
                )
                .map_err(context)?;
                FamilyOutcome {
                    halving: r
                        .rows
                        .iter()
                        .map(|h| Some((h.iter, h.n_resources)))
                        .collect(),
                    best: r.best_index,
                    completed: candidates.len(),
                    n_candidates: candidates.len(),
                    stopped: false,
                    rows: r.rows.into_iter().map(|h| h.row).collect(),
                }
            }
        };
        outcomes.push(outcome);
    }
    if let Some(b) = &progress {
        b.finish_and_clear();
    }
    timings.insert("search".to_owned(), t0.elapsed().as_secs_f64());

    // The leaderboard: each family's best, ranked.
    let bests: Vec<f64> = outcomes
        .iter()
        .map(|o| o.rows[o.best].mean_test_score)
        .collect();
    let ranks = rank_min(&bests, metric.greater_is_better());
    let mut leaderboard: Vec<LeaderRow> = exp
        .candidates
        .iter()
        .zip(&outcomes)
        .zip(&ranks)
        .map(|((family, o), &rank)| {
            let row = &o.rows[o.best];
            LeaderRow {
                rank,
                family: family.label().to_owned(),
                kind: family.kind.clone(),
                params: params_json(&row.params),
                mean_score: row.mean_test_score,
                std_score: row.std_test_score,
                mean_fit_seconds: row.mean_fit_time,
                completed: o.completed,
                n_candidates: o.n_candidates,
            }
        })
        .collect();
    let winner = ranks.iter().position(|&r| r == 1).unwrap_or(0);
    leaderboard.sort_by_key(|r| r.rank);
    let win_family = &exp.candidates[winner];
    let win_params = outcomes[winner].rows[outcomes[winner].best].params.clone();
    fitter.set_family(&win_family.kind, win_family.fixed());

    // Calibration and threshold on the winner's out-of-fold predictions.
    let t0 = Instant::now();
    let mut calibration = None;
    if exp.calibration.method().is_some() || exp.threshold == ThresholdChoice::Tuned {
        let mut scores = vec![f64::NAN; n_train];
        let mut labels = vec![f64::NAN; n_train];
        for fold in &folds {
            let (p, _, _, _) = fitter.fit_predict(&win_params, &fold.train, &fold.valid)?;
            if let Some(proba) = &p.proba {
                for (k, &row) in fold.valid.iter().enumerate() {
                    scores[row] = proba[[k, 1]];
                    labels[row] = p.y[k];
                }
            }
        }
        let rows: Vec<usize> = (0..n_train).filter(|&r| scores[r].is_finite()).collect();
        let s: Vec<f64> = rows.iter().map(|&r| scores[r]).collect();
        let l: Vec<f64> = rows.iter().map(|&r| labels[r]).collect();
        let ev = |e: mlship_evaluate::EvaluateError| usage(&origin, format!("calibration: {e}"));
        let calibrator = match exp.calibration.method() {
            Some(m) => Some(Calibrator::fit(m, &s, &l, None).map_err(ev)?),
            None => None,
        };
        let calibrated = calibrator
            .as_ref()
            .map_or_else(|| s.clone(), |c| c.predict_many(&s));
        let threshold = if exp.threshold == ThresholdChoice::Tuned {
            Some(
                tune_threshold(&calibrated, &l, None, exp.threshold_metric)
                    .map_err(ev)?
                    .0,
            )
        } else {
            None
        };
        calibration = Some(Calibration {
            calibrator,
            threshold,
        });
    }
    timings.insert("calibration".to_owned(), t0.elapsed().as_secs_f64());

    // Refit the winner on the whole training split.
    let t0 = Instant::now();
    let (model_spec, overrides) = fitter.model_spec(&win_params)?;
    let final_spec = apply_pipeline_params(&spec, &overrides)?;
    let fitted = if overrides.is_empty() {
        base
    } else {
        Pipeline::fit(train_raw, &final_spec, Some(&target))?
    };
    let outcome = model_spec.fit(fitted.train.view(), &FitContext::seeded(exp.seed))?;
    timings.insert("refit".to_owned(), t0.elapsed().as_secs_f64());

    // The held-out test rows.
    let t0 = Instant::now();
    let test = fitted.pipeline.transform(test_raw)?;
    let p = predict_dataset(&outcome.model, &test, calibration.as_ref())?;
    let evaluation = Evaluation::compute(&task, &p.y, &p.pred, p.proba.as_ref());
    let feature_names: Vec<String> = fitted
        .pipeline
        .features()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let imp = importances(&outcome.model, &feature_names);
    timings.insert("test evaluation".to_owned(), t0.elapsed().as_secs_f64());

    // The bundle.
    let run_id = mlship_registry::new_run_id();
    let created_ms = mlship_core::time::now_ms();
    let out_dir = if let Some(d) = req.out {
        d.to_owned()
    } else {
        // runs/<name>-YYYYMMDDTHHMMSSZ
        let t = mlship_core::time::rfc3339_ms(created_ms);
        let digits: String = t.chars().take(19).filter(char::is_ascii_digit).collect();
        let (day, time) = digits.split_at(digits.len().min(8));
        PathBuf::from("runs").join(format!("{}-{day}T{time}Z", folder_safe(&name)))
    };
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| mlship_core::Error::io("creating", &out_dir, e))?;
    let bundle_path = out_dir.join(format!("{}.mlship", folder_safe(&name)));
    let mut sections = pipeline_sections(&fitted)?;
    sections.push(Section::new(
        "model",
        MODEL_SECTION_VERSION,
        outcome.model.to_bytes()?,
    ));
    if let Some(c) = &calibration {
        sections.push(Section::new(
            "calibration",
            CALIBRATION_SECTION_VERSION,
            serde_json::to_vec(c).map_err(|e| mlship_core::Error::Other(e.to_string()))?,
        ));
    }
    let cv_best = leaderboard.first().map_or(f64::NAN, |r| r.mean_score);
    let mut metrics = evaluation.metrics.clone();
    metrics.insert(format!("cv_{}", metric.name()), cv_best);
    let model_json = serde_json::to_value(&model_spec).unwrap_or_default();
    let exp_json = serde_json::to_value(&exp).unwrap_or_default();
    let mut manifest = Manifest::new("model");
    manifest.name = Some(name.clone());
    manifest.task = Some(task.clone());
    manifest.schema = Some(fitted.pipeline.schema().clone());
    manifest.params = serde_json::json!({
        "model": model_json,
        "pipeline": final_spec,
        "experiment": exp_json,
        "calibration": calibration,
    });
    manifest.metrics = metrics.clone();
    manifest.lineage = Lineage {
        data_fingerprint: Some(fingerprint.clone()),
        data_source: Some(data_path.display().to_string()),
        experiment: Some(origin.clone()),
        run_id: Some(run_id.clone()),
        seed: Some(exp.seed),
        ..Lineage::default()
    };
    let mut envelope = Envelope::new(manifest.to_json());
    envelope.sections = sections;
    envelope.write_atomic(&bundle_path)?;

    // The report.
    let mut candidates = Vec::new();
    for (family, o) in exp.candidates.iter().zip(&outcomes) {
        for (row, halving) in o.rows.iter().zip(&o.halving) {
            candidates.push(CandidateRow {
                family: family.label().to_owned(),
                params: params_json(&row.params),
                mean_score: row.mean_test_score,
                std_score: row.std_test_score,
                rank: row.rank_test_score,
                fold_scores: row.split_test_scores.clone(),
                mean_fit_seconds: row.mean_fit_time,
                mean_score_seconds: row.mean_score_time,
                halving: *halving,
            });
        }
    }
    let lineage: BTreeMap<String, serde_json::Value> = [
        ("run_id", serde_json::json!(run_id)),
        ("experiment", serde_json::json!(origin)),
        ("data", serde_json::json!(data_path.display().to_string())),
        ("data_fingerprint", serde_json::json!(fingerprint)),
        ("seed", serde_json::json!(exp.seed)),
        ("model", model_json.clone()),
        (
            "bundle",
            serde_json::json!(bundle_path.display().to_string()),
        ),
        (
            "mlship_version",
            serde_json::json!(env!("CARGO_PKG_VERSION")),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    timings.insert("total".to_owned(), start.elapsed().as_secs_f64());
    let report = Report {
        title: format!("mlship run: {name}"),
        kind: "run".into(),
        created_at: mlship_core::time::rfc3339_ms(created_ms),
        data: data_path.display().to_string(),
        task: task.name().to_owned(),
        classes: task.classes().to_vec(),
        rows: BTreeMap::from([
            ("train".to_owned(), n_train),
            ("test".to_owned(), split.test.len()),
        ]),
        selection: Some(Selection {
            metric: metric.name().to_owned(),
            greater_is_better: metric.greater_is_better(),
            cv: serde_json::to_value(&cv_spec).unwrap_or_default(),
            leaderboard: leaderboard.clone(),
            candidates,
            stopped_by_time_budget: outcomes.iter().any(|o| o.stopped),
            calibration: calibration
                .as_ref()
                .and_then(|c| c.calibrator.as_ref())
                .map(|c| format!("{:?}", c.method()).to_lowercase()),
            threshold: calibration.as_ref().and_then(|c| c.threshold),
        }),
        evaluation,
        importances: imp,
        lineage,
        timings,
    };
    let report_json = out_dir.join("report.json");
    let report_html = out_dir.join("report.html");
    write_report(&report, &report_json, &report_html)?;

    // Record the run, then register.
    let record = RunRecord {
        id: run_id.clone(),
        created_at: mlship_core::time::rfc3339_ms(created_ms),
        command: "run".into(),
        spec: exp_json,
        data_fingerprint: Some(fingerprint),
        candidates: report
            .selection
            .as_ref()
            .map(|s| {
                s.candidates
                    .iter()
                    .map(|c| RunCandidate {
                        name: format!("{}: {}", c.family, params_text(&c.params)),
                        params: serde_json::to_value(&c.params).unwrap_or_default(),
                        cv_scores: BTreeMap::from([(
                            metric.name().to_owned(),
                            c.fold_scores.clone(),
                        )]),
                        fit_seconds: c.mean_fit_seconds * c.fold_scores.len() as f64,
                        score_seconds: c.mean_score_seconds * c.fold_scores.len() as f64,
                        error: None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        chosen: Some(format!(
            "{}: {}",
            win_family.label(),
            params_text(&params_json(&win_params))
        )),
        metrics: metrics.clone(),
        seconds: start.elapsed().as_secs_f64(),
        versions: Vec::new(),
    };
    let (recorded, registered) =
        record_and_register(req.registry, &record, req.register, &bundle_path)?;
    Ok(RunSummary {
        run_id,
        experiment: name,
        task: task.name().to_owned(),
        out_dir,
        bundle: bundle_path,
        report_json,
        report_html,
        metric: metric.name().to_owned(),
        leaderboard,
        test_metrics: report.evaluation.metrics,
        registered,
        recorded,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn params_text(p: &BTreeMap<String, serde_json::Value>) -> String {
    if p.is_empty() {
        return "defaults".into();
    }
    p.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records a run; registers `bundle` as `register` when given. Returns where the run was
/// recorded (or why not) and the registered version. A registry that cannot be opened fails
/// the command only when a registration was asked for.
pub fn record_and_register(
    opts: &RegistryOpts,
    record: &RunRecord,
    register: Option<&str>,
    bundle: &Path,
) -> Result<(String, Option<VersionId>)> {
    let mut registry = match opts.open() {
        Ok(r) => r,
        Err(e) if register.is_none() => return Ok((format!("not recorded: {e}"), None)),
        Err(e) => return Err(e),
    };
    let recorded = match registry.record_run(record) {
        Ok(()) => registry.location(),
        Err(e) if register.is_none() => format!("not recorded: {e}"),
        Err(e) => return Err(e.into()),
    };
    let version = match register {
        Some(name) => Some(
            registry
                .register_file(
                    bundle,
                    &RegisterOptions {
                        name: name.to_owned(),
                        tags: BTreeMap::new(),
                        description: None,
                    },
                )?
                .id(),
        ),
        None => None,
    };
    Ok((recorded, version))
}

/// Writes a report as JSON and HTML, each atomically.
pub fn write_report(report: &Report, json: &Path, html: &Path) -> Result<()> {
    let text = serde_json::to_vec_pretty(report)
        .map_err(|e| mlship_core::Error::Other(format!("encoding the report: {e}")))?;
    mlship_core::bundle::write_atomic(json, &text)?;
    mlship_core::bundle::write_atomic(html, report.to_html().as_bytes())?;
    Ok(())
}

/// Targets, predictions and probabilities of a model on a transformed dataset with a target,
/// with a bundle's calibration applied.
pub fn predict_dataset(
    model: &mlship_train::FittedModel,
    data: &mlship_core::Dataset,
    calibration: Option<&Calibration>,
) -> Result<FoldPredictions> {
    let y = data
        .y()
        .map(|y| y.to_vec())
        .ok_or_else(|| Error::Usage("the data has no target column to score against".into()))?;
    let m = model.as_model();
    let mut pred = m.predict(data.x())?.to_vec();
    let mut proba = if data.task().is_classification() {
        Some(m.predict_proba(data.x())?)
    } else {
        None
    };
    if let (Some(c), Some(p)) = (calibration, proba.as_mut()) {
        c.apply(p, &mut pred);
    }
    Ok(FoldPredictions { y, pred, proba })
}

/// What `mlship evaluate` did.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluateSummary {
    /// The model evaluated.
    pub model: String,
    /// The report (metrics, curves, confusion matrix, residuals, importances, lineage).
    #[serde(flatten)]
    pub report: Report,
    /// The HTML report written, with `--report`.
    pub report_file: Option<PathBuf>,
}

/// Scores a model on labelled data; with `report`, writes the HTML report there (and its JSON
/// beside it, with the extension `.json`).
pub fn evaluate(
    model: &str,
    registry: &RegistryOpts,
    data: &Path,
    report: Option<&Path>,
) -> Result<EvaluateSummary> {
    let start = Instant::now();
    if let Some(r) = report
        && r.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return Err(Error::Usage(format!(
            "--report {} names the HTML file; its JSON is written beside it\nhint: use --report {}",
            r.display(),
            r.with_extension("html").display()
        )));
    }
    let predictor = BundlePredictor::load_uri(model, registry)?;
    let pipeline = predictor.pipeline();
    let batch = read_batch(data, &read_options(pipeline.spec())?)?;
    let target = pipeline
        .target()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let tcol = column(&batch, &target, "target").map_err(|_| {
        Error::Usage(format!(
            "{} has no target column {target:?} to score against\nhint: evaluate needs labelled rows; use `mlship predict` for unlabelled ones",
            data.display()
        ))
    })?;
    let keep: Vec<usize> = (0..batch.n_rows()).filter(|&r| tcol.is_valid(r)).collect();
    let skipped = batch.n_rows() - keep.len();
    let batch = if skipped > 0 {
        batch.take(&keep)?
    } else {
        batch
    };
    let ds = pipeline.transform(batch)?;
    let p = predict_dataset(predictor.model(), &ds, predictor.calibration())?;
    let task: Task = ds.task().clone();
    let evaluation = Evaluation::compute(&task, &p.y, &p.pred, p.proba.as_ref());
    let names: Vec<String> = pipeline.features().iter().map(|f| f.name.clone()).collect();
    let m = predictor.manifest();
    let mut lineage: BTreeMap<String, serde_json::Value> = match serde_json::to_value(&m.lineage) {
        Ok(serde_json::Value::Object(o)) => o.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    lineage.insert("model".into(), serde_json::json!(model));
    if let Some(p) = m.params.get("model") {
        lineage.insert("parameters".into(), p.clone());
    }
    lineage.insert("created_at".into(), serde_json::json!(m.created_at));
    let mut rows = BTreeMap::from([("evaluated".to_owned(), p.y.len())]);
    if skipped > 0 {
        rows.insert("skipped (no target)".to_owned(), skipped);
    }
    let out = Report {
        title: format!("mlship evaluate: {model}"),
        kind: "evaluate".into(),
        created_at: mlship_core::time::rfc3339_ms(mlship_core::time::now_ms()),
        data: data.display().to_string(),
        task: task.name().to_owned(),
        classes: task.classes().to_vec(),
        rows,
        selection: None,
        evaluation,
        importances: importances(predictor.model(), &names),
        lineage,
        timings: BTreeMap::from([("total".to_owned(), start.elapsed().as_secs_f64())]),
    };
    if let Some(html) = report {
        write_report(&out, &html.with_extension("json"), html)?;
    }
    Ok(EvaluateSummary {
        model: model.to_owned(),
        report: out,
        report_file: report.map(Path::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_moves_probabilities_and_the_cut() {
        let mut proba = Array2::from_shape_vec((3, 2), vec![0.8, 0.2, 0.4, 0.6, 0.5, 0.5]).unwrap();
        let mut pred = vec![0.0, 1.0, 0.0];
        Calibration {
            calibrator: None,
            threshold: Some(0.3),
        }
        .apply(&mut proba, &mut pred);
        assert_eq!(pred, [0.0, 1.0, 1.0]);
        let mut pred = vec![9.0; 3];
        Calibration {
            calibrator: Some(Calibrator::Sigmoid { a: -1.0, b: 0.0 }),
            threshold: None,
        }
        .apply(&mut proba, &mut pred);
        // sigmoid(p) > 0.5 for every p > 0: all positive, rows still sum to one.
        assert_eq!(pred, [1.0, 1.0, 1.0]);
        for row in proba.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn folder_names_are_safe() {
        assert_eq!(folder_safe("a b/../c"), "a_b_.._c");
        assert_eq!(folder_safe(""), "run");
    }
}
