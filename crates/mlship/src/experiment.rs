//! Experiments: the TOML file `mlship run` reads, the metrics it ranks by, and the
//! fit-and-score closure that cross-validation and search call.
//!
//! The closure ([`FoldFitter`]) refits the **whole** pipeline and the model on each fold's raw
//! training rows and scores the fold's raw validation rows through that pipeline, so imputer,
//! scaler and target-encoder statistics never see validation rows (DESIGN.md, "Evaluation
//! without leakage"). Parameters named `pipeline.<path>` change the pipeline spec (for example
//! `pipeline.scale.method`), so preprocessing choices are searched like model parameters.
//!
//! Every key of the experiment file, with its default, is in `docs/experiments.md`;
//! [`ExperimentSpec`]'s `Default` is the one source of those defaults.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mlship_core::params::{Distribution, ParamSet, ParamValue, SearchSpace};
use mlship_core::traits::FitContext;
use mlship_core::{Dataset, RawBatch, Task};
use mlship_evaluate::calibration::{CalibrationMethod, ThresholdMetric};
use mlship_evaluate::cv::FoldResult;
use mlship_evaluate::metrics as mx;
use mlship_evaluate::split::SplitSpec;
use mlship_preprocess::pipeline::Pipeline;
use mlship_preprocess::spec::{PipelineSpec, TaskKind};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::Array2;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The prefix of search parameters that change the pipeline spec rather than the model.
pub const PIPELINE_PREFIX: &str = "pipeline.";

/// An experiment: data, target, split, pipeline, candidate model families with their search
/// spaces, how they are searched and scored, and what is done with the winner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExperimentSpec {
    /// The experiment's name (default: the file name without its extension).
    pub name: Option<String>,
    /// The data file, relative to the experiment file's folder.
    pub data: Option<PathBuf>,
    /// The target column (default: the pipeline spec's `target`).
    pub target: Option<String>,
    /// What the target is (default: the pipeline spec's `task`).
    pub task: Option<TaskKind>,
    /// The pipeline spec: a path relative to the experiment file, or an inline table.
    pub pipeline: PipelineRef,
    /// The held-out test split.
    pub split: HoldoutSpec,
    /// Cross-validation on the training split (default: stratified 5-fold for classifiers,
    /// 5-fold for regression, as scikit-learn's `cv=5`).
    pub cv: Option<SplitSpec>,
    /// The metric candidates are ranked by (default: `roc_auc` for binary targets, `accuracy`
    /// for multiclass, `r2` for regression).
    pub metric: Option<String>,
    /// How each family's space is searched (default `random`).
    pub search: SearchKind,
    /// Candidates per family (default 20): the random draws, the first of a grid, or the
    /// candidates successive halving starts from.
    pub max_candidates: usize,
    /// Seconds the whole search may take; families share what remains (default: no limit).
    pub time_budget: Option<f64>,
    /// Successive halving's factor (default 3).
    pub halving_factor: usize,
    /// Seed of the split, the folds, the draws and every model (default 0).
    pub seed: u64,
    /// Worker threads for folds (default: the machine's cores).
    pub threads: Option<usize>,
    /// Calibrate the winner's probabilities on out-of-fold predictions (binary targets).
    pub calibration: CalibrationChoice,
    /// `tuned` chooses the winner's decision threshold on out-of-fold predictions (binary).
    pub threshold: ThresholdChoice,
    /// The metric a tuned threshold maximises (default `f1`).
    pub threshold_metric: ThresholdMetric,
    /// The model families to search.
    pub candidates: Vec<CandidateSpec>,
}

impl Default for ExperimentSpec {
    fn default() -> Self {
        Self {
            name: None,
            data: None,
            target: None,
            task: None,
            pipeline: PipelineRef::default(),
            split: HoldoutSpec::default(),
            cv: None,
            metric: None,
            search: SearchKind::Random,
            max_candidates: 20,
            time_budget: None,
            halving_factor: 3,
            seed: 0,
            threads: None,
            calibration: CalibrationChoice::None,
            threshold: ThresholdChoice::Default,
            threshold_metric: ThresholdMetric::F1,
            candidates: Vec::new(),
        }
    }
}

/// Where the pipeline spec comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PipelineRef {
    /// A TOML file, relative to the experiment file.
    Path(PathBuf),
    /// The spec written inline (`[pipeline]`).
    Inline(Box<PipelineSpec>),
}

impl Default for PipelineRef {
    fn default() -> Self {
        Self::Inline(Box::default())
    }
}

impl<'de> Deserialize<'de> for PipelineRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(Self::Path(PathBuf::from(s))),
            t @ toml::Value::Table(_) => PipelineSpec::deserialize(t)
                .map(|s| Self::Inline(Box::new(s)))
                .map_err(|e| D::Error::custom(format!("in [pipeline]: {e}"))),
            other => Err(D::Error::custom(format!(
                "pipeline is a {}: expected a path to a pipeline spec or a [pipeline] table",
                other.type_str()
            ))),
        }
    }
}

/// How the held-out test rows are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HoldoutSpec {
    /// `auto` (stratified for classifiers, random for regression), `random`, `stratified`,
    /// `group` or `time`.
    pub method: HoldoutMethod,
    /// Share of rows held out for the test, in `(0, 1)` (default 0.2).
    pub test: f64,
    /// The group column (`group`) or time column (`time`).
    pub by: Option<String>,
}

impl Default for HoldoutSpec {
    fn default() -> Self {
        Self {
            method: HoldoutMethod::Auto,
            test: 0.2,
            by: None,
        }
    }
}

/// How held-out rows are assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldoutMethod {
    /// Stratified for classifiers, random for regression.
    Auto,
    /// A seeded shuffle.
    Random,
    /// Each class keeps its share.
    Stratified,
    /// Whole groups (of the `by` column) go to one side.
    Group,
    /// The latest rows (by the `by` column) are held out.
    Time,
}

/// How a family's search space is explored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// `max_candidates` draws (scikit-learn's `RandomizedSearchCV`).
    Random,
    /// Every point of the grid, up to `max_candidates` (`GridSearchCV`); lists only.
    Grid,
    /// `max_candidates` draws raced by successive halving on growing row counts
    /// (`HalvingRandomSearchCV`).
    Halving,
}

/// Probability calibration of the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationChoice {
    /// The model's own probabilities.
    None,
    /// Isotonic regression on out-of-fold scores.
    Isotonic,
    /// Platt's sigmoid on out-of-fold scores.
    Sigmoid,
}

impl CalibrationChoice {
    /// The calibration method, if any.
    pub fn method(self) -> Option<CalibrationMethod> {
        match self {
            Self::None => None,
            Self::Isotonic => Some(CalibrationMethod::Isotonic),
            Self::Sigmoid => Some(CalibrationMethod::Sigmoid),
        }
    }
}

/// The winner's decision threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdChoice {
    /// The most probable class.
    Default,
    /// The cut maximising `threshold_metric` on out-of-fold predictions.
    Tuned,
}

/// One model family and its search space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateSpec {
    /// The estimator kind (`docs/estimators.md`).
    pub kind: String,
    /// A label for the leaderboard (default: the kind).
    #[serde(default)]
    pub name: Option<String>,
    /// Parameters every candidate of the family shares.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// Parameters searched: a list of values, or a distribution such as
    /// `{ kind = "log_uniform", low = 1e-3, high = 1e3 }`; `pipeline.<path>` keys change the
    /// pipeline spec.
    #[serde(default)]
    pub space: BTreeMap<String, Axis>,
    /// This family's search kind (default: the experiment's).
    #[serde(default)]
    pub search: Option<SearchKind>,
}

impl CandidateSpec {
    /// The family's label.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }

    /// The search space, lists read as uniform choices.
    pub fn search_space(&self) -> SearchSpace {
        SearchSpace(
            self.space
                .iter()
                .map(|(k, a)| (k.clone(), a.distribution()))
                .collect(),
        )
    }

    /// The fixed parameters as a set.
    pub fn fixed(&self) -> ParamSet {
        ParamSet(self.params.clone())
    }
}

/// One searched parameter: a list of values or a distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Axis {
    /// Values tried in turn (grid) or drawn uniformly (random).
    Values(Vec<ParamValue>),
    /// A distribution tagged by `kind`.
    Distribution(Distribution),
}

impl Axis {
    /// The axis as a distribution (a list is a uniform choice).
    pub fn distribution(&self) -> Distribution {
        match self {
            Self::Values(values) => Distribution::Choice {
                values: values.clone(),
            },
            Self::Distribution(d) => d.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Axis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match toml::Value::deserialize(d)? {
            a @ toml::Value::Array(_) => Vec::<ParamValue>::deserialize(a)
                .map(Self::Values)
                .map_err(|e| D::Error::custom(format!("a list of values: {e}"))),
            t @ toml::Value::Table(_) => Distribution::deserialize(t)
                .map(Self::Distribution)
                .map_err(|e| {
                    D::Error::custom(format!(
                        "{e}\nhint: a distribution reads {{ kind = \"log_uniform\", low = 0.001, high = 1000.0 }}; \
                         kinds are choice, uniform, log_uniform, int_uniform"
                    ))
                }),
            other => Err(D::Error::custom(format!(
                "a searched parameter is a {}: expected a list of values or a distribution table",
                other.type_str()
            ))),
        }
    }
}

/// Model kinds that only regress.
const REGRESSION_ONLY: [&str; 4] = ["linear_regression", "ridge", "lasso", "elastic_net"];
/// Model kinds that only classify.
const CLASSIFICATION_ONLY: [&str; 1] = ["logistic"];

impl ExperimentSpec {
    /// Parses an experiment file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "{origin}: {}\nhint: docs/experiments.md lists every key and its default",
                e.to_string().trim_end()
            ))
        })
    }

    /// Checks what can be checked before the data is read.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |m: String| Error::Usage(format!("{origin}: {m}"));
        if self.data.is_none() {
            return Err(bad(
                "no data file: add data = \"path/to/data.csv\" (relative to the experiment file)"
                    .into(),
            ));
        }
        if self.candidates.is_empty() {
            return Err(bad(
                "no candidates: add at least one [[candidates]] table with a kind, such as kind = \"logistic\""
                    .into(),
            ));
        }
        if self.max_candidates == 0 {
            return Err(bad("invalid max_candidates = 0: expected at least 1".into()));
        }
        if self.halving_factor < 2 {
            return Err(bad(format!(
                "invalid halving_factor = {}: expected at least 2",
                self.halving_factor
            )));
        }
        if let Some(t) = self.time_budget
            && !(t.is_finite() && t > 0.0)
        {
            return Err(bad(format!(
                "invalid time_budget = {t}: expected a positive number of seconds"
            )));
        }
        if self.threads == Some(0) {
            return Err(bad("invalid threads = 0: expected at least 1".into()));
        }
        if !(self.split.test > 0.0 && self.split.test < 1.0) {
            return Err(bad(format!(
                "invalid split.test = {}: expected a share in (0, 1), such as 0.2",
                self.split.test
            )));
        }
        if let Some(m) = &self.metric {
            Metric::parse(m).map_err(|e| bad(e.to_string()))?;
        }
        let mut labels = BTreeSet::new();
        for (i, c) in self.candidates.iter().enumerate() {
            if !ModelSpec::KINDS.contains(&c.kind.as_str()) {
                return Err(bad(format!(
                    "candidates[{i}]: unknown model kind {:?}\nhint: the kinds are {}",
                    c.kind,
                    ModelSpec::KINDS.join(", ")
                )));
            }
            if !labels.insert(c.label().to_owned()) {
                return Err(bad(format!(
                    "candidates[{i}]: the name {:?} is used twice\nhint: give each family a distinct name = \"...\"",
                    c.label()
                )));
            }
            let space = c.search_space();
            space
                .validate()
                .map_err(|e| bad(format!("candidates[{i}] ({}): {e}", c.label())))?;
            if c.search.unwrap_or(self.search) == SearchKind::Grid && space.as_grid().is_none() {
                return Err(bad(format!(
                    "candidates[{i}] ({}): a grid search takes lists of values, not distributions\nhint: use search = \"random\"",
                    c.label()
                )));
            }
            // The model parameters alone must make a valid spec (a bad name fails here).
            let (model, _) = split_params(&c.fixed());
            ModelSpec::from_params(&c.kind, &model).map_err(|e| {
                bad(format!(
                    "candidates[{i}] ({}): {e}\nhint: docs/estimators.md lists each kind's parameters",
                    c.label()
                ))
            })?;
        }
        Ok(())
    }

    /// Checks the parts that depend on the task.
    pub fn validate_for(&self, task: &Task, origin: &str) -> Result<Metric> {
        let bad = |m: String| Error::Usage(format!("{origin}: {m}"));
        let metric = match &self.metric {
            Some(m) => Metric::parse(m)?,
            None => Metric::default_for(task),
        };
        metric.check_task(task).map_err(|e| bad(e.to_string()))?;
        for (i, c) in self.candidates.iter().enumerate() {
            let kind = c.kind.as_str();
            if task.is_classification() && REGRESSION_ONLY.contains(&kind) {
                return Err(bad(format!(
                    "candidates[{i}]: {kind} is a regression estimator, but the target is a {} task\nhint: use logistic, decision_tree, random_forest, extra_trees or gbdt",
                    task.name()
                )));
            }
            if !task.is_classification() && CLASSIFICATION_ONLY.contains(&kind) {
                return Err(bad(format!(
                    "candidates[{i}]: {kind} is a classifier, but the target is a regression task\nhint: use linear_regression, ridge, lasso, elastic_net, decision_tree, random_forest, extra_trees or gbdt"
                )));
            }
        }
        let binary = task.n_classes() == 2;
        if self.calibration != CalibrationChoice::None && !binary {
            return Err(bad(format!(
                "calibration = {:?} needs a binary target; this one is a {} task",
                self.calibration,
                task.name()
            )));
        }
        if self.threshold == ThresholdChoice::Tuned && !binary {
            return Err(bad(format!(
                "threshold = \"tuned\" needs a binary target; this one is a {} task",
                task.name()
            )));
        }
        Ok(metric)
    }

    /// The cross-validation splitter spec for `task`.
    pub fn cv_for(&self, task: &Task) -> SplitSpec {
        match &self.cv {
            Some(cv) => cv.clone(),
            None if task.is_classification() => SplitSpec::default(),
            None => SplitSpec::default_for_regression(),
        }
    }
}

/// Splits a parameter set into model parameters and `pipeline.` overrides (prefix removed).
pub fn split_params(params: &ParamSet) -> (ParamSet, Vec<(String, ParamValue)>) {
    let mut model = ParamSet::new();
    let mut pipeline = Vec::new();
    for (k, v) in params.iter() {
        match k.strip_prefix(PIPELINE_PREFIX) {
            Some(path) => pipeline.push((path.to_owned(), v.clone())),
            None => model.insert(k.clone(), v.clone()),
        }
    }
    (model, pipeline)
}

/// `spec` with the values of `overrides` set at their dotted paths (`scale.method`).
pub fn apply_pipeline_params(
    spec: &PipelineSpec,
    overrides: &[(String, ParamValue)],
) -> Result<PipelineSpec> {
    if overrides.is_empty() {
        return Ok(spec.clone());
    }
    let mut value = serde_json::to_value(spec).map_err(|e| {
        Error::Core(mlship_core::Error::Other(format!(
            "encoding the pipeline spec: {e}"
        )))
    })?;
    for (path, v) in overrides {
        let mut at = &mut value;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let serde_json::Value::Object(map) = at else {
                return Err(Error::Usage(format!(
                    "pipeline.{path}: {} is not a section of the pipeline spec\nhint: docs/pipeline.md lists the sections",
                    parts[..i].join(".")
                )));
            };
            if i + 1 == parts.len() {
                map.insert(
                    (*part).to_owned(),
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                );
                break;
            }
            at = map
                .entry((*part).to_owned())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        }
    }
    serde_json::from_value(value).map_err(|e| {
        let paths: Vec<String> = overrides
            .iter()
            .map(|(p, v)| format!("pipeline.{p} = {v}"))
            .collect();
        Error::Usage(format!(
            "{}: {e}\nhint: docs/pipeline.md lists every option",
            paths.join(", ")
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// A metric an experiment ranks candidates by, with scikit-learn's definition (mlship-evaluate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `accuracy_score`.
    Accuracy,
    /// `balanced_accuracy_score`.
    BalancedAccuracy,
    /// `f1_score` of the positive class (binary).
    F1,
    /// `f1_score(average="macro")`.
    F1Macro,
    /// `f1_score(average="weighted")`.
    F1Weighted,
    /// `precision_score` of the positive class (binary).
    Precision,
    /// `recall_score` of the positive class (binary).
    Recall,
    /// `roc_auc_score` (binary).
    RocAuc,
    /// `roc_auc_score(multi_class="ovr")`, macro average.
    RocAucOvr,
    /// `roc_auc_score(multi_class="ovo")`, macro average.
    RocAucOvo,
    /// `average_precision_score` (binary).
    AveragePrecision,
    /// `log_loss` (lower is better).
    LogLoss,
    /// `brier_score_loss` (binary; lower is better).
    BrierScore,
    /// `matthews_corrcoef`.
    MatthewsCorrcoef,
    /// `cohen_kappa_score`.
    CohenKappa,
    /// `r2_score`.
    R2,
    /// `root_mean_squared_error` (lower is better).
    Rmse,
    /// `mean_squared_error` (lower is better).
    Mse,
    /// `mean_absolute_error` (lower is better).
    Mae,
    /// `median_absolute_error` (lower is better).
    MedianAbsoluteError,
    /// `explained_variance_score`.
    ExplainedVariance,
    /// `mean_absolute_percentage_error` (lower is better).
    Mape,
    /// `max_error` (lower is better).
    MaxError,
}

/// Where a metric applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    Binary,
    Classification,
    Regression,
}

impl Metric {
    /// Every metric, in the order reports list them.
    pub const ALL: [Self; 23] = [
        Self::Accuracy,
        Self::BalancedAccuracy,
        Self::F1,
        Self::F1Macro,
        Self::F1Weighted,
        Self::Precision,
        Self::Recall,
        Self::RocAuc,
        Self::RocAucOvr,
        Self::RocAucOvo,
        Self::AveragePrecision,
        Self::LogLoss,
        Self::BrierScore,
        Self::MatthewsCorrcoef,
        Self::CohenKappa,
        Self::R2,
        Self::Rmse,
        Self::Mse,
        Self::Mae,
        Self::MedianAbsoluteError,
        Self::ExplainedVariance,
        Self::Mape,
        Self::MaxError,
    ];

    /// The metric's name as written in an experiment.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::BalancedAccuracy => "balanced_accuracy",
            Self::F1 => "f1",
            Self::F1Macro => "f1_macro",
            Self::F1Weighted => "f1_weighted",
            Self::Precision => "precision",
            Self::Recall => "recall",
            Self::RocAuc => "roc_auc",
            Self::RocAucOvr => "roc_auc_ovr",
            Self::RocAucOvo => "roc_auc_ovo",
            Self::AveragePrecision => "average_precision",
            Self::LogLoss => "log_loss",
            Self::BrierScore => "brier_score",
            Self::MatthewsCorrcoef => "matthews_corrcoef",
            Self::CohenKappa => "cohen_kappa",
            Self::R2 => "r2",
            Self::Rmse => "rmse",
            Self::Mse => "mse",
            Self::Mae => "mae",
            Self::MedianAbsoluteError => "median_absolute_error",
            Self::ExplainedVariance => "explained_variance",
            Self::Mape => "mape",
            Self::MaxError => "max_error",
        }
    }

    /// Reads a metric name; an unknown one is an error listing the valid names.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown metric {name:?}\nhint: the metrics are {}",
                    Self::ALL.map(Self::name).join(", ")
                ))
            })
    }

    /// The default metric for a task: ROC AUC (binary), accuracy (multiclass), R² (regression).
    pub fn default_for(task: &Task) -> Self {
        match task {
            Task::Regression => Self::R2,
            t if t.n_classes() == 2 => Self::RocAuc,
            _ => Self::Accuracy,
        }
    }

    /// Whether a higher value is better (false for losses and errors).
    pub fn greater_is_better(self) -> bool {
        !matches!(
            self,
            Self::LogLoss
                | Self::BrierScore
                | Self::Rmse
                | Self::Mse
                | Self::Mae
                | Self::MedianAbsoluteError
                | Self::Mape
                | Self::MaxError
        )
    }

    fn applies(self) -> Applies {
        match self {
            Self::F1
            | Self::Precision
            | Self::Recall
            | Self::RocAuc
            | Self::AveragePrecision
            | Self::BrierScore => Applies::Binary,
            Self::Accuracy
            | Self::BalancedAccuracy
            | Self::F1Macro
            | Self::F1Weighted
            | Self::RocAucOvr
            | Self::RocAucOvo
            | Self::LogLoss
            | Self::MatthewsCorrcoef
            | Self::CohenKappa => Applies::Classification,
            _ => Applies::Regression,
        }
    }

    /// Whether the metric fits `task`.
    pub fn fits(self, task: &Task) -> bool {
        match self.applies() {
            Applies::Binary => task.n_classes() == 2,
            Applies::Classification => task.is_classification(),
            Applies::Regression => !task.is_classification(),
        }
    }

    /// An error naming the metrics that fit when this one does not.
    pub fn check_task(self, task: &Task) -> Result<()> {
        if self.fits(task) {
            return Ok(());
        }
        let valid: Vec<&str> = Self::ALL
            .into_iter()
            .filter(|m| m.fits(task))
            .map(Self::name)
            .collect();
        Err(Error::Usage(format!(
            "the metric {} does not fit a {} target\nhint: for this task use one of {}",
            self.name(),
            task.name(),
            valid.join(", ")
        )))
    }

    /// The metric of predictions: `y` class indices (classification) or values, `pred` the
    /// predicted class indices or values, `proba` the class probabilities (classifiers).
    pub fn score(
        self,
        y: &[f64],
        pred: &[f64],
        proba: Option<&Array2<f64>>,
        w: Option<&[f64]>,
    ) -> Result<f64> {
        use mx::{AucAverage, Average, MultiClass, ZeroDivision};
        let ev = |e: mlship_evaluate::EvaluateError| {
            Error::Core(mlship_core::Error::Other(e.to_string()))
        };
        let need_proba = || {
            proba.ok_or_else(|| {
                Error::Usage(format!(
                    "the metric {} needs class probabilities",
                    self.name()
                ))
            })
        };
        let positive = || -> Result<Vec<f64>> {
            let p = need_proba()?;
            Ok(if p.ncols() == 2 {
                p.column(1).to_vec()
            } else {
                vec![f64::NAN; p.nrows()]
            })
        };
        let flat = || -> Result<(Vec<f64>, usize)> {
            let p = need_proba()?;
            Ok((p.iter().copied().collect(), p.ncols()))
        };
        let zd = ZeroDivision::Zero;
        let binary = Average::Binary { pos_label: 1 };
        Ok(match self {
            Self::Accuracy => mx::accuracy_score(y, pred, w, true).map_err(ev)?,
            Self::BalancedAccuracy => mx::balanced_accuracy_score(y, pred, w, false).map_err(ev)?,
            Self::F1 => mx::f1_score(y, pred, w, binary, zd).map_err(ev)?,
            Self::F1Macro => mx::f1_score(y, pred, w, Average::Macro, zd).map_err(ev)?,
            Self::F1Weighted => mx::f1_score(y, pred, w, Average::Weighted, zd).map_err(ev)?,
            Self::Precision => mx::precision_score(y, pred, w, binary, zd).map_err(ev)?,
            Self::Recall => mx::recall_score(y, pred, w, binary, zd).map_err(ev)?,
            Self::RocAuc => mx::roc_auc_score(y, &positive()?, w).map_err(ev)?,
            Self::RocAucOvr | Self::RocAucOvo => {
                let (p, k) = flat()?;
                let mc = if self == Self::RocAucOvr {
                    MultiClass::Ovr
                } else {
                    MultiClass::Ovo
                };
                mx::roc_auc_score_multiclass(y, &p, k, w, mc, AucAverage::Macro).map_err(ev)?
            }
            Self::AveragePrecision => {
                mx::average_precision_score(y, &positive()?, w).map_err(ev)?
            }
            Self::LogLoss => {
                let (p, k) = flat()?;
                mx::log_loss(y, &p, k, w, true).map_err(ev)?
            }
            Self::BrierScore => mx::brier_score_loss(y, &positive()?, w).map_err(ev)?,
            Self::MatthewsCorrcoef => mx::matthews_corrcoef(y, pred, w).map_err(ev)?,
            Self::CohenKappa => {
                mx::cohen_kappa_score(y, pred, w, mx::KappaWeights::None).map_err(ev)?
            }
            Self::R2 => mx::r2_score(y, pred, w).map_err(ev)?,
            Self::Rmse => mx::root_mean_squared_error(y, pred, w).map_err(ev)?,
            Self::Mse => mx::mean_squared_error(y, pred, w).map_err(ev)?,
            Self::Mae => mx::mean_absolute_error(y, pred, w).map_err(ev)?,
            Self::MedianAbsoluteError => mx::median_absolute_error(y, pred, w).map_err(ev)?,
            Self::ExplainedVariance => mx::explained_variance_score(y, pred, w).map_err(ev)?,
            Self::Mape => mx::mean_absolute_percentage_error(y, pred, w).map_err(ev)?,
            Self::MaxError => mx::max_error(y, pred).map_err(ev)?,
        })
    }

    /// Every metric that fits `task`, computed where defined (a metric that fails or is NaN
    /// on these predictions, such as ROC AUC with one class present, is left out).
    pub fn all_for(
        task: &Task,
        y: &[f64],
        pred: &[f64],
        proba: Option<&Array2<f64>>,
        w: Option<&[f64]>,
    ) -> BTreeMap<String, f64> {
        Self::ALL
            .into_iter()
            .filter(|m| m.fits(task))
            .filter_map(|m| {
                let v = m.score(y, pred, proba, w).ok()?;
                v.is_finite().then(|| (m.name().to_owned(), v))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The fit-and-score closure
// ---------------------------------------------------------------------------------------------

/// A fold's data after its own pipeline: the transformed training rows and validation rows.
#[derive(Debug)]
pub struct FoldData {
    /// The pipeline fitted on the fold's training rows only.
    pub pipeline: Pipeline,
    /// The transformed training rows.
    pub train: Dataset,
    /// The transformed validation rows, with their target.
    pub valid: Dataset,
}

/// Predictions of one fold's validation rows.
#[derive(Debug, Clone)]
pub struct FoldPredictions {
    /// The validation rows' targets (class indices or values).
    pub y: Vec<f64>,
    /// Predicted class indices or values.
    pub pred: Vec<f64>,
    /// Class probabilities, for classifiers.
    pub proba: Option<Array2<f64>>,
}

type CacheKey = (Vec<usize>, Vec<usize>, String);

/// The facade's fit-and-score closure for one model family: on each fold's **raw** rows it
/// refits the whole pipeline and the model, and scores the validation rows with the metric.
///
/// Fitted fold pipelines are kept per (training rows, validation rows, pipeline overrides), so
/// the candidates of a family that share a pipeline fit it once per fold; each one is still fitted
/// on the fold's training rows only.
pub struct FoldFitter<'a> {
    batch: &'a RawBatch,
    spec: &'a PipelineSpec,
    target: &'a str,
    labels: Option<BTreeSet<String>>,
    kind: String,
    fixed: ParamSet,
    metric: Metric,
    seed: u64,
    cache: Mutex<HashMap<CacheKey, Arc<FoldData>>>,
    on_fold: Option<&'a (dyn Fn() + Sync)>,
}

impl std::fmt::Debug for FoldFitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoldFitter")
            .field("target", &self.target)
            .field("kind", &self.kind)
            .field("fixed", &self.fixed)
            .field("metric", &self.metric)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl<'a> FoldFitter<'a> {
    /// A closure over the training split `batch` (raw rows, target included) for the family
    /// `kind` with fixed parameters `fixed`, scoring by `metric`.
    #[allow(clippy::too_many_arguments)] // the closure's context, each borrowed once
    pub fn new(
        batch: &'a RawBatch,
        spec: &'a PipelineSpec,
        target: &'a str,
        task: &Task,
        kind: &str,
        fixed: ParamSet,
        metric: Metric,
        seed: u64,
    ) -> Self {
        let labels = task
            .is_classification()
            .then(|| batch.column(target).map(|c| labels_of(c, None)))
            .flatten();
        Self {
            batch,
            spec,
            target,
            labels,
            kind: kind.to_owned(),
            fixed,
            metric,
            seed,
            cache: Mutex::new(HashMap::new()),
            on_fold: None,
        }
    }

    /// Calls `f` after every fold (for progress bars).
    pub fn with_progress(mut self, f: &'a (dyn Fn() + Sync)) -> Self {
        self.on_fold = Some(f);
        self
    }

    /// Switches to another family, keeping the fitted fold pipelines.
    pub fn set_family(&mut self, kind: &str, fixed: ParamSet) {
        kind.clone_into(&mut self.kind);
        self.fixed = fixed;
    }

    /// The model spec of a candidate (fixed parameters, then the candidate's).
    pub fn model_spec(&self, params: &ParamSet) -> Result<(ModelSpec, Vec<(String, ParamValue)>)> {
        let mut all = self.fixed.clone();
        for (k, v) in params.iter() {
            all.insert(k.clone(), v.clone());
        }
        let (model, pipeline) = split_params(&all);
        let spec = ModelSpec::from_params(&self.kind, &model)?;
        Ok((spec, pipeline))
    }

    /// The fold's pipeline and transformed rows, fitted on `train` rows only.
    pub fn fold_data(
        &self,
        overrides: &[(String, ParamValue)],
        train: &[usize],
        valid: &[usize],
    ) -> Result<Arc<FoldData>> {
        let key: CacheKey = (
            train.to_vec(),
            valid.to_vec(),
            serde_json::to_string(overrides).unwrap_or_default(),
        );
        if let Ok(cache) = self.cache.lock()
            && let Some(d) = cache.get(&key)
        {
            return Ok(Arc::clone(d));
        }
        let raw_train = self.batch.take(train)?;
        if let (Some(all), Some(col)) = (&self.labels, raw_train.column(self.target)) {
            let here = labels_of(col, None);
            if let Some(missing) = all.iter().find(|l| !here.contains(*l)) {
                return Err(Error::Core(mlship_core::Error::invalid_data(format!(
                    "class {missing:?} of {:?} has no training rows in this fold\n\
                     hint: use a stratified cv (kind = \"stratified_kfold\"), fewer folds or more data",
                    self.target
                ))));
            }
        }
        let spec = apply_pipeline_params(self.spec, overrides)?;
        let fitted = Pipeline::fit(raw_train, &spec, Some(self.target))?;
        let valid_ds = fitted.pipeline.transform(self.batch.take(valid)?)?;
        if valid_ds.y().is_none() {
            return Err(Error::Core(mlship_core::Error::invalid_data(format!(
                "the validation rows have no target column {:?}",
                self.target
            ))));
        }
        let data = Arc::new(FoldData {
            pipeline: fitted.pipeline,
            train: fitted.train,
            valid: valid_ds,
        });
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, Arc::clone(&data));
        }
        Ok(data)
    }

    /// Fits a candidate on the fold's training rows and predicts its validation rows; returns
    /// the predictions and the fit and predict seconds.
    pub fn fit_predict(
        &self,
        params: &ParamSet,
        train: &[usize],
        valid: &[usize],
    ) -> Result<(FoldPredictions, FittedModel, f64, f64)> {
        let start = Instant::now();
        let (spec, overrides) = self.model_spec(params)?;
        let data = self.fold_data(&overrides, train, valid)?;
        let outcome = spec.fit(data.train.view(), &FitContext::seeded(self.seed))?;
        let fit_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let m = outcome.model.as_model();
        let x = data.valid.x();
        let pred = m.predict(x)?.to_vec();
        let proba = if data.valid.task().is_classification() {
            Some(m.predict_proba(x)?)
        } else {
            None
        };
        let y = data.valid.y().map(|y| y.to_vec()).unwrap_or_default();
        Ok((
            FoldPredictions { y, pred, proba },
            outcome.model,
            fit_seconds,
            start.elapsed().as_secs_f64(),
        ))
    }

    /// The fit-and-score closure's body: scores one candidate on one fold.
    pub fn fit_and_score(
        &self,
        params: &ParamSet,
        train: &[usize],
        valid: &[usize],
    ) -> Result<FoldResult> {
        let (p, _, fit_seconds, predict_seconds) = self.fit_predict(params, train, valid)?;
        let start = Instant::now();
        let score = self.metric.score(&p.y, &p.pred, p.proba.as_ref(), None)?;
        if let Some(f) = self.on_fold {
            f();
        }
        Ok(FoldResult {
            score,
            fit_seconds,
            score_seconds: predict_seconds + start.elapsed().as_secs_f64(),
            metrics: BTreeMap::new(),
        })
    }

    /// The closure in mlship-evaluate's shape, errors converted to core's seam error.
    pub fn closure(
        &self,
    ) -> impl Fn(&ParamSet, &[usize], &[usize]) -> mlship_core::Result<FoldResult> + Sync + '_ {
        move |params, train, valid| self.fit_and_score(params, train, valid).map_err(to_core)
    }
}

/// A facade error as core's seam error (keeping core's own categories).
pub fn to_core(e: Error) -> mlship_core::Error {
    match e {
        Error::Core(e) => e,
        other => mlship_core::Error::Other(other.to_string()),
    }
}

/// The distinct non-missing values of a column, as text, optionally over `rows` only.
pub fn labels_of(col: &mlship_core::RawColumn, rows: Option<&[usize]>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |r: usize| match col.value(r) {
        mlship_core::batch::RawValue::Null => {}
        mlship_core::batch::RawValue::Str(s) => {
            out.insert(s.to_owned());
        }
        v => {
            out.insert(v.to_string());
        }
    };
    match rows {
        Some(rows) => rows.iter().copied().for_each(&mut add),
        None => (0..col.len()).for_each(&mut add),
    }
    out
}

/// Resolves `path` against the folder of the experiment file `base`.
pub fn relative_to(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.parent().unwrap_or_else(|| Path::new(".")).join(path)
    }
}

#[cfg(test)]
mod tests;
