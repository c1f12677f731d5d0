//! Decision trees (CART, [`cart`]) and the fitted model every tree estimator produces
//! ([`TreeModel`]): a validated core [`TreeEnsemble`] plus a flattened copy for fast batch
//! prediction ([`flat`]), feature importances and, for forests, the out-of-bag score.

pub mod cart;
pub mod flat;

use mlship_core::traits::{FitContext, Model};
use mlship_core::tree::{Link, TreeEnsemble};
use mlship_core::{DatasetView, FeatureKind, Task};
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

pub use cart::{Criterion, DecisionTree, DecisionTreeParams};
pub use flat::FlatTrees;

use crate::error::{Result, TrainError};

/// How many features a split considers (scikit-learn's `max_features`): a rule (`"sqrt"`,
/// `"log2"`, `"all"`), a count (`5`) or a fraction of the features (`0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxFeatures {
    /// A named rule.
    Rule(FeatureRule),
    /// This many features (at least 1).
    Count(usize),
    /// This fraction of the features, in `(0, 1]`.
    Fraction(f64),
}

/// A named [`MaxFeatures`] rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureRule {
    /// Every feature.
    All,
    /// `max(1, ⌊√p⌋)` features.
    Sqrt,
    /// `max(1, ⌊log₂ p⌋)` features.
    Log2,
}

impl MaxFeatures {
    /// Checks the value.
    pub fn validate(self) -> Result<()> {
        match self {
            Self::Count(0) => Err(TrainError::invalid(
                "max_features",
                0,
                "\"sqrt\", \"log2\", \"all\", an integer >= 1 or a fraction in (0, 1]",
            )),
            Self::Fraction(f) if !(f > 0.0 && f <= 1.0) => Err(TrainError::invalid(
                "max_features",
                f,
                "\"sqrt\", \"log2\", \"all\", an integer >= 1 or a fraction in (0, 1]",
            )),
            _ => Ok(()),
        }
    }

    /// The number of features out of `p` (between 1 and `p`).
    pub fn resolve(self, p: usize) -> usize {
        let k = match self {
            Self::Rule(FeatureRule::All) => p,
            Self::Rule(FeatureRule::Sqrt) => (p as f64).sqrt() as usize,
            Self::Rule(FeatureRule::Log2) => (p as f64).log2() as usize,
            Self::Count(k) => k,
            Self::Fraction(f) => (f * p as f64) as usize,
        };
        k.clamp(1, p.max(1))
    }
}

/// Class weights (scikit-learn's `class_weight`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// `n_samples / (n_classes · count(class))`, so every class weighs the same in all.
    Balanced,
    /// One weight per class, in the task's class order.
    Weights(Vec<f64>),
}

/// Training rows in the layout tree growers want.
#[derive(Debug, Clone)]
pub(crate) struct TreeData {
    /// Features, column-major: feature `j` of row `i` is `cols[j * n + i]`; `NaN` is missing.
    pub cols: Vec<f64>,
    pub n: usize,
    pub p: usize,
    /// Targets: values, or class indices for classification.
    pub y: Vec<f64>,
    /// Sample weights (ones without weights).
    pub w: Vec<f64>,
    /// Number of classes, 0 for regression.
    pub n_classes: usize,
    pub kinds: Vec<FeatureKind>,
}

impl TreeData {
    /// Copies a view, refusing infinities (`NaN` is a missing value) and a missing target.
    pub fn from_view(data: DatasetView<'_>) -> Result<Self> {
        let n = data.n_rows();
        let p = data.n_features();
        if n == 0 {
            return Err(TrainError::data("no rows to fit on"));
        }
        if p == 0 {
            return Err(TrainError::data("no features to fit on"));
        }
        let y = data.y().ok_or_else(|| {
            TrainError::data("the dataset has no target\nhint: choose a target column to train on")
        })?;
        let mut cols = vec![0.0; n * p];
        for i in 0..n {
            let row = data.row(i);
            for (j, &v) in row.iter().enumerate() {
                if v.is_infinite() {
                    return Err(TrainError::data(format!(
                        "feature {:?} row {i}: {v} is infinite; tree models take NaN as missing but need finite values otherwise\nhint: clip or impute the column",
                        data.features()[j].name
                    )));
                }
                cols[j * n + i] = v;
            }
        }
        let w: Vec<f64> = (0..n).map(|i| data.weight(i)).collect();
        if w.iter().sum::<f64>() <= 0.0 {
            return Err(TrainError::data(
                "the sample weights sum to zero; at least one row needs a positive weight",
            ));
        }
        Ok(Self {
            cols,
            n,
            p,
            y: y.to_vec(),
            w,
            n_classes: data.task().n_classes(),
            kinds: data.features().iter().map(|f| f.kind).collect(),
        })
    }

    /// The rows at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Self {
        let n = rows.len();
        let mut cols = vec![0.0; n * self.p];
        for j in 0..self.p {
            let c = self.col(j);
            for (k, &i) in rows.iter().enumerate() {
                cols[j * n + k] = c[i];
            }
        }
        Self {
            cols,
            n,
            p: self.p,
            y: rows.iter().map(|&i| self.y[i]).collect(),
            w: rows.iter().map(|&i| self.w[i]).collect(),
            n_classes: self.n_classes,
            kinds: self.kinds.clone(),
        }
    }

    /// Feature `j`'s column.
    #[inline]
    pub fn col(&self, j: usize) -> &[f64] {
        &self.cols[j * self.n..(j + 1) * self.n]
    }

    /// Multiplies the sample weights by class weights.
    pub fn apply_class_weight(&mut self, cw: Option<&ClassWeight>) -> Result<()> {
        let k = self.n_classes;
        let per_class: Vec<f64> = match cw {
            None => return Ok(()),
            Some(_) if k == 0 => {
                return Err(TrainError::invalid(
                    "class_weight",
                    "set",
                    "no class weights for a regression task",
                ));
            }
            Some(ClassWeight::Balanced) => {
                let mut counts = vec![0.0; k];
                for &c in &self.y {
                    counts[c as usize] += 1.0;
                }
                counts
                    .iter()
                    .map(|&c| {
                        if c > 0.0 {
                            self.n as f64 / (k as f64 * c)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
            Some(ClassWeight::Weights(v)) => {
                if v.len() != k || v.iter().any(|w| !w.is_finite() || *w < 0.0) {
                    return Err(TrainError::invalid(
                        "class_weight",
                        format!("{v:?}"),
                        format!("{k} finite non-negative weights, one per class"),
                    ));
                }
                v.clone()
            }
        };
        for (w, &c) in self.w.iter_mut().zip(&self.y) {
            *w *= per_class[c as usize];
        }
        if self.w.iter().sum::<f64>() <= 0.0 {
            return Err(TrainError::data(
                "the class weights leave no row with a positive weight",
            ));
        }
        Ok(())
    }
}

/// A fitted tree model: a decision tree, a forest or a boosted ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TreeModelState", try_from = "TreeModelState")]
pub struct TreeModel {
    task: Task,
    ensemble: TreeEnsemble,
    gain: Vec<f64>,
    splits: Vec<f64>,
    oob_score: Option<f64>,
    flat: FlatTrees,
}

/// The stored form of a [`TreeModel`] (the flattened copy is rebuilt on load).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TreeModelState {
    classes: Vec<String>,
    ensemble: TreeEnsemble,
    gain: Vec<f64>,
    splits: Vec<f64>,
    oob_score: Option<f64>,
}

impl From<TreeModel> for TreeModelState {
    fn from(m: TreeModel) -> Self {
        Self {
            classes: m.task.classes().to_vec(),
            ensemble: m.ensemble,
            gain: m.gain,
            splits: m.splits,
            oob_score: m.oob_score,
        }
    }
}

impl TryFrom<TreeModelState> for TreeModel {
    type Error = TrainError;

    fn try_from(s: TreeModelState) -> Result<Self> {
        let task = if s.classes.is_empty() {
            Task::Regression
        } else {
            let t = Task::classification(&s.classes)?;
            if t.classes() != s.classes.as_slice() {
                return Err(TrainError::Corrupt(
                    "class labels are not sorted and distinct".into(),
                ));
            }
            t
        };
        Self::new(task, s.ensemble, s.gain, s.splits, s.oob_score)
    }
}

/// The stored layout of an ensemble, read without validation to explain a refusal.
#[derive(Deserialize)]
struct RawEnsemble {
    trees: Vec<mlship_core::tree::Tree>,
    n_features: u32,
    n_outputs: u32,
    base_score: Vec<f64>,
    aggregation: mlship_core::tree::Aggregation,
    link: Link,
}

/// The stored layout of a [`TreeModel`], read without validation.
#[derive(Deserialize)]
struct RawState {
    classes: Vec<String>,
    ensemble: RawEnsemble,
    gain: Vec<f64>,
    splits: Vec<f64>,
    oob_score: Option<f64>,
}

/// Why stored tree-model bytes (those after the fitted-model variant tag) were refused: the
/// binary decoder drops validation messages, so the bytes are read again without validation
/// and validated here. `None` when they do not even have the layout of a tree model.
pub(crate) fn diagnose(bytes: &[u8]) -> Option<TrainError> {
    let (raw, _) = postcard::take_from_bytes::<RawState>(bytes).ok()?;
    let e = raw.ensemble;
    let ensemble = match TreeEnsemble::new(
        e.trees,
        e.n_features,
        e.n_outputs,
        e.base_score,
        e.aggregation,
        e.link,
    ) {
        Ok(e) => e,
        Err(e) => return Some(TrainError::Corrupt(e.to_string())),
    };
    TreeModel::try_from(TreeModelState {
        classes: raw.classes,
        ensemble,
        gain: raw.gain,
        splits: raw.splits,
        oob_score: raw.oob_score,
    })
    .err()
}

impl TreeModel {
    /// A model from a validated ensemble, checked against the task: regression has one
    /// identity output; classification has one output per class (class fractions, identity
    /// link, or softmax) or one logit output for two classes. `gain` and `splits` are the
    /// per-feature importance totals.
    pub fn new(
        task: Task,
        ensemble: TreeEnsemble,
        gain: Vec<f64>,
        splits: Vec<f64>,
        oob_score: Option<f64>,
    ) -> Result<Self> {
        let k = task.n_classes();
        let ok = match (ensemble.link(), k) {
            (Link::Identity, 0) | (Link::Logit, 2) => ensemble.n_outputs() == 1,
            (Link::Identity | Link::Softmax, k) if k > 0 => ensemble.n_outputs() == k,
            _ => false,
        };
        if !ok {
            return Err(TrainError::Corrupt(format!(
                "{} outputs with a {:?} link do not fit a {} task with {k} classes",
                ensemble.n_outputs(),
                ensemble.link(),
                task.name()
            )));
        }
        let p = ensemble.n_features();
        if p == 0 || ensemble.trees().is_empty() {
            return Err(TrainError::Corrupt(
                "a tree model needs at least one feature and one tree".into(),
            ));
        }
        if gain.len() != p || splits.len() != p {
            return Err(TrainError::Corrupt(format!(
                "{} gains and {} split counts for {p} features",
                gain.len(),
                splits.len()
            )));
        }
        if let Some(v) = gain
            .iter()
            .chain(&splits)
            .find(|v| !v.is_finite() || **v < 0.0)
        {
            return Err(TrainError::Corrupt(format!(
                "feature importance {v} is not a finite non-negative number"
            )));
        }
        if let Some(s) = oob_score.filter(|s| !s.is_finite()) {
            return Err(TrainError::Corrupt(format!("out-of-bag score {s}")));
        }
        let flat = FlatTrees::new(&ensemble);
        Ok(Self {
            task,
            ensemble,
            gain,
            splits,
            oob_score,
            flat,
        })
    }

    /// The core tree view.
    pub fn ensemble(&self) -> &TreeEnsemble {
        &self.ensemble
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.ensemble.trees().len()
    }

    /// Feature importances: the total (weighted impurity or gain) decrease per feature,
    /// normalised to sum to 1 (all zeros when no tree splits).
    pub fn feature_importances(&self) -> Vec<f64> {
        normalise(&self.gain)
    }

    /// The total gain (impurity decrease) per feature, not normalised.
    pub fn importance_gain(&self) -> &[f64] {
        &self.gain
    }

    /// The number of splits on each feature.
    pub fn importance_split(&self) -> &[f64] {
        &self.splits
    }

    /// The out-of-bag score (accuracy or R²) of a bootstrapped forest fitted with `oob_score`.
    pub fn oob_score(&self) -> Option<f64> {
        self.oob_score
    }

    /// Raw outputs (`rows × n_outputs`): class fractions, values, or margins before the link.
    #[allow(clippy::needless_pass_by_value)] // a view is a cheap copy, as in `Model::predict`
    pub fn predict_raw(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array2<f64>> {
        self.check_input(x)?;
        Ok(self.flat.predict(x))
    }

    fn proba_from_raw(&self, raw: Array2<f64>) -> Array2<f64> {
        match self.ensemble.link() {
            Link::Identity => raw,
            Link::Logit => {
                let n = raw.nrows();
                let mut out = Array2::zeros((n, 2));
                for i in 0..n {
                    let p = sigmoid(raw[[i, 0]]);
                    out[[i, 0]] = 1.0 - p;
                    out[[i, 1]] = p;
                }
                out
            }
            Link::Softmax => {
                let mut raw = raw;
                for mut row in raw.rows_mut() {
                    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    row.mapv_inplace(|v| (v - m).exp());
                    let s = row.sum();
                    row.mapv_inplace(|v| v / s);
                }
                raw
            }
        }
    }
}

/// Runs `f` in a pool of `ctx.threads` threads when more than one is asked for (otherwise in
/// the caller's pool), as the logistic estimators do. Results do not depend on it.
pub(crate) fn in_pool<T: Send>(ctx: &FitContext<'_>, f: impl FnOnce() -> T + Send) -> T {
    let pool = if ctx.threads > 1 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(ctx.threads)
            .build()
            .ok()
    } else {
        None
    };
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// `1 / (1 + e^-z)`.
#[inline]
pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `v / Σ v`, or zeros when the sum is zero.
pub(crate) fn normalise(v: &[f64]) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter().map(|x| x / s).collect()
    } else {
        vec![0.0; v.len()]
    }
}

/// The first index of the largest value.
pub(crate) fn argmax(row: impl IntoIterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in row.into_iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

impl Model for TreeModel {
    fn task(&self) -> &Task {
        &self.task
    }

    fn n_features(&self) -> usize {
        self.ensemble.n_features()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array1<f64>> {
        let raw = self.predict_raw(x)?;
        if self.task.is_classification() {
            let proba = self.proba_from_raw(raw);
            Ok(proba
                .rows()
                .into_iter()
                .map(|r| argmax(r.iter().copied()) as f64)
                .collect())
        } else {
            Ok(raw.column(0).to_owned())
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array2<f64>> {
        if !self.task.is_classification() {
            return Err(mlship_core::Error::Unsupported(
                "a regression model gives no class probabilities".into(),
            ));
        }
        Ok(self.proba_from_raw(self.predict_raw(x)?))
    }

    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        Some(&self.ensemble)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_features_reads_rules_counts_and_fractions() {
        let parse = |s: &str| serde_json::from_str::<MaxFeatures>(s).unwrap();
        assert_eq!(parse("\"sqrt\"").resolve(30), 5);
        assert_eq!(parse("\"log2\"").resolve(30), 4);
        assert_eq!(parse("\"all\"").resolve(30), 30);
        assert_eq!(parse("7").resolve(30), 7);
        assert_eq!(parse("40").resolve(30), 30);
        assert_eq!(parse("0.5").resolve(30), 15);
        assert_eq!(parse("1.0").resolve(30), 30);
        assert_eq!(parse("0.01").resolve(30), 1);
        assert!(parse("0").validate().is_err());
        assert!(parse("1.5").validate().is_err());
        assert!(serde_json::from_str::<MaxFeatures>("\"half\"").is_err());
    }

    #[test]
    fn helpers_normalise_and_pick_the_first_maximum() {
        assert_eq!(normalise(&[1.0, 3.0]), vec![0.25, 0.75]);
        assert_eq!(normalise(&[0.0, 0.0]), vec![0.0, 0.0]);
        assert_eq!(argmax([0.2, 0.4, 0.4]), 1);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
    }
}
