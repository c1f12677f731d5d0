//! Logistic regression, binary and multinomial (scikit-learn's `LogisticRegression`).
//!
//! Objective, with `sᵢ` = sample weight × class weight and `S = Σ sᵢ`:
//! `(1/S) Σ sᵢ ℓᵢ + 1/(C S) · ((1 − ρ)/2 ‖W‖² + ρ ‖W‖₁)`, `ρ = l1_ratio`; the intercepts are not
//! penalised. Multiplying by `C S` gives scikit-learn's documented form
//! `C Σ sᵢ ℓᵢ + (1 − ρ)/2 ‖W‖² + ρ ‖W‖₁`, so the minimiser is the same. Two classes fit one
//! coefficient row (the positive class's logit, `ℓ` the binary log-loss); three or more fit the
//! multinomial (softmax) model with one row per class, as scikit-learn does.
//!
//! Solvers: `lbfgs` (the default; for an L1 share it runs OWL-QN, L-BFGS's orthant-wise
//! proximal extension), `newton` (Cholesky on the full Hessian; for few features; L2 or none)
//! and `sgd` (mini-batch, momentum, learning-rate schedules, early stopping; L1 by a proximal
//! soft-threshold step).

mod loss;
mod newton;
mod sgd;

use std::collections::BTreeMap;

use mlship_core::traits::{Estimator, FitContext, Model, Progress};
use mlship_core::{DatasetView, Task};
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

pub use loss::{BLOCK, LogisticLoss, log1pexp, sigmoid};

use crate::data::{Rows, collect};
use crate::error::{Result, TrainError};
use crate::optim::{LbfgsOptions, minimize};
use crate::params::{at_least, in_range, positive};
use crate::report::FitReport;
use crate::schedule::Schedule;

/// The penalty (scikit-learn's deprecated `penalty`; `l1_ratio` and `C` alone say the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Penalty {
    /// `l1_ratio = 0`.
    L2,
    /// `l1_ratio = 1`.
    L1,
    /// The given `l1_ratio`.
    Elasticnet,
    /// No penalty (`C = ∞`).
    None,
}

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// L-BFGS (OWL-QN with an L1 share).
    #[default]
    Lbfgs,
    /// Newton's method with a Cholesky solve of the full Hessian and backtracking.
    Newton,
    /// Mini-batch stochastic gradient descent.
    Sgd,
}

/// `"balanced"` as a class-weight choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balanced {
    /// Weights `S / (K · S_k)`, `S_k` the (sample-weighted) size of class `k`.
    Balanced,
}

/// Per-class weights: `"balanced"` or a map from class label to weight (others 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassWeight {
    /// Inversely proportional to the (sample-weighted) class sizes.
    Balanced(Balanced),
    /// Explicit weights by class label.
    Explicit(BTreeMap<String, f64>),
}

/// Parameters of logistic regression. Defaults follow scikit-learn 1.9.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticParams {
    /// Inverse regularisation strength (> 0; `inf` for none).
    #[serde(rename = "C")]
    pub c: f64,
    /// The L1 share `ρ ∈ [0, 1]` of the penalty.
    pub l1_ratio: f64,
    /// Overrides `l1_ratio` (`l2` → 0, `l1` → 1, `none` → no penalty) when given.
    pub penalty: Option<Penalty>,
    /// Fit unpenalised intercepts.
    pub fit_intercept: bool,
    /// The optimiser.
    pub solver: Solver,
    /// Iteration limit (epochs for `sgd`).
    pub max_iter: usize,
    /// Tolerance: the largest gradient component for `lbfgs` and `newton`; the loss improvement
    /// for `sgd`.
    pub tol: f64,
    /// Class weights.
    pub class_weight: Option<ClassWeight>,
    /// L-BFGS correction pairs kept.
    pub memory: usize,
    /// SGD: the initial learning rate.
    pub learning_rate: f64,
    /// SGD: how the learning rate changes with the epoch.
    pub schedule: Schedule,
    /// SGD: rows per mini-batch.
    pub batch_size: usize,
    /// SGD: heavy-ball momentum in `[0, 1)`.
    pub momentum: f64,
    /// SGD: hold out `validation_fraction` of the rows (or use the fit context's eval set) and
    /// stop when the validation loss has not improved by `tol` for `n_iter_no_change` epochs,
    /// keeping the best weights.
    pub early_stopping: bool,
    /// SGD: the share of rows held out for early stopping.
    pub validation_fraction: f64,
    /// SGD: patience, in epochs.
    pub n_iter_no_change: usize,
    /// SGD: reshuffle rows every epoch.
    pub shuffle: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            l1_ratio: 0.0,
            penalty: None,
            fit_intercept: true,
            solver: Solver::Lbfgs,
            max_iter: 100,
            tol: 1e-4,
            class_weight: None,
            memory: 10,
            learning_rate: 0.1,
            schedule: Schedule::InverseTime { decay: 0.1 },
            batch_size: 64,
            momentum: 0.0,
            early_stopping: false,
            validation_fraction: 0.1,
            n_iter_no_change: 5,
            shuffle: true,
        }
    }
}

impl LogisticParams {
    /// Checks the values and returns the estimator.
    pub fn validate(&self) -> Result<Logistic> {
        if self.c.is_nan() || self.c <= 0.0 {
            return Err(TrainError::invalid(
                "C",
                self.c,
                "a number > 0 (or inf for no penalty)",
            ));
        }
        in_range("l1_ratio", self.l1_ratio, 0.0, 1.0)?;
        at_least("max_iter", self.max_iter, 1)?;
        positive("tol", self.tol, true)?;
        at_least("memory", self.memory, 1)?;
        if let Some(ClassWeight::Explicit(m)) = &self.class_weight {
            for (label, &v) in m {
                positive(&format!("class_weight[{label:?}]"), v, true)?;
            }
        }
        let (l1, l2) = self.penalty_split();
        if self.solver == Solver::Newton && l1 > 0.0 {
            return Err(TrainError::invalid(
                "solver",
                "newton",
                "lbfgs or sgd with an L1 share in the penalty (newton handles l2 or none)",
            ));
        }
        if self.solver == Solver::Sgd {
            positive("learning_rate", self.learning_rate, false)?;
            self.schedule.validate(self.learning_rate)?;
            at_least("batch_size", self.batch_size, 1)?;
            if !(0.0..1.0).contains(&self.momentum) {
                return Err(TrainError::invalid(
                    "momentum",
                    self.momentum,
                    "a value in [0, 1)",
                ));
            }
            if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
                return Err(TrainError::invalid(
                    "validation_fraction",
                    self.validation_fraction,
                    "a value in (0, 1)",
                ));
            }
            at_least("n_iter_no_change", self.n_iter_no_change, 1)?;
        }
        Ok(Logistic {
            params: self.clone(),
            l1_share: l1,
            l2_share: l2,
        })
    }

    /// The penalty's `(L1, L2)` shares, `(0, 0)` for none.
    fn penalty_split(&self) -> (f64, f64) {
        if self.c.is_infinite() {
            return (0.0, 0.0);
        }
        match self.penalty {
            Some(Penalty::L2) => (0.0, 1.0),
            Some(Penalty::L1) => (1.0, 0.0),
            Some(Penalty::None) => (0.0, 0.0),
            Some(Penalty::Elasticnet) | None => (self.l1_ratio, 1.0 - self.l1_ratio),
        }
    }
}

/// Validated logistic regression.
#[derive(Debug, Clone)]
pub struct Logistic {
    params: LogisticParams,
    l1_share: f64,
    l2_share: f64,
}

/// The rows of a logistic fit, after class weighting.
pub(crate) struct Prepared<'a> {
    pub rows: Rows<'a>,
    pub y: Vec<usize>,
    pub s: Vec<f64>,
    pub task: Task,
    pub k_out: usize,
}

impl Logistic {
    /// The parameters.
    pub fn params(&self) -> &LogisticParams {
        &self.params
    }

    fn prepare<'a>(&self, data: DatasetView<'a>) -> Result<Prepared<'a>> {
        let task = data.task().clone();
        if !task.is_classification() {
            return Err(TrainError::data(
                "logistic regression needs a classification target, but the task is regression\nhint: use kind = \"ridge\" or \"linear_regression\" for a real-valued target",
            ));
        }
        let rows = collect(data)?;
        let k = task.n_classes();
        let y: Vec<usize> = rows.y.iter().map(|&v| v as usize).collect();
        let mut counts = vec![0.0; k];
        for (&c, &w) in y.iter().zip(&rows.w) {
            if c >= k {
                return Err(TrainError::data(format!(
                    "class index {c} is out of range for {k} classes"
                )));
            }
            counts[c] += w;
        }
        let present: Vec<usize> = (0..k).filter(|&c| counts[c] > 0.0).collect();
        if present.len() < 2 {
            let label = present
                .first()
                .map(|&c| format!(" ({:?})", task.classes()[c]))
                .unwrap_or_default();
            return Err(TrainError::data(format!(
                "the target has only one class{label} among the rows given; logistic regression needs at least two\nhint: check the target column and the row filter"
            )));
        }
        let cw: Vec<f64> = match &self.params.class_weight {
            None => vec![1.0; k],
            Some(ClassWeight::Balanced(_)) => {
                let total: f64 = counts.iter().sum();
                counts
                    .iter()
                    .map(|&c| if c > 0.0 { total / (k as f64 * c) } else { 1.0 })
                    .collect()
            }
            Some(ClassWeight::Explicit(m)) => {
                for label in m.keys() {
                    if task.class_index(label).is_none() {
                        return Err(TrainError::invalid(
                            "class_weight",
                            label,
                            format!("one of the classes {:?}", task.classes()),
                        ));
                    }
                }
                task.classes()
                    .iter()
                    .map(|c| m.get(c).copied().unwrap_or(1.0))
                    .collect()
            }
        };
        let s: Vec<f64> = y.iter().zip(&rows.w).map(|(&c, &w)| w * cw[c]).collect();
        if s.iter().sum::<f64>() <= 0.0 {
            return Err(TrainError::data("the sample and class weights sum to zero"));
        }
        let k_out = if k == 2 { 1 } else { k };
        Ok(Prepared {
            rows,
            y,
            s,
            task,
            k_out,
        })
    }

    /// The starting point: zeros, or a warm-start model's parameters.
    fn start(&self, prep: &Prepared<'_>, init: Option<&LogisticModel>) -> Result<Vec<f64>> {
        let p = prep.rows.x.ncols();
        let p1 = p + usize::from(self.params.fit_intercept);
        let mut w = vec![0.0; prep.k_out * p1];
        if let Some(m) = init {
            if m.task != prep.task || m.coef.ncols() != p {
                return Err(TrainError::data(format!(
                    "the warm-start model was fitted for {} features and classes {:?}, the data has {p} features and classes {:?}",
                    m.coef.ncols(),
                    m.task.classes(),
                    prep.task.classes()
                )));
            }
            for k in 0..prep.k_out {
                for j in 0..p {
                    w[k * p1 + j] = m.coef[[k, j]];
                }
                if self.params.fit_intercept {
                    w[k * p1 + p] = m.intercept[k];
                }
            }
        }
        Ok(w)
    }

    /// Fits from zeros or, with `init`, continues from a fitted model's coefficients (a warm
    /// start: new rows, same features and classes).
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        init: Option<&LogisticModel>,
    ) -> Result<(LogisticModel, FitReport)> {
        let prep = self.prepare(data)?;
        let w0 = self.start(&prep, init)?;
        let pool = if ctx.threads > 1 {
            rayon::ThreadPoolBuilder::new()
                .num_threads(ctx.threads)
                .build()
                .ok()
        } else {
            None
        };
        let p = prep.rows.x.ncols();
        let s_sum: f64 = prep.s.iter().sum();
        let c = self.params.c;
        let l2 = if c.is_finite() {
            self.l2_share / (c * s_sum)
        } else {
            0.0
        };
        let l1 = if c.is_finite() {
            self.l1_share / (c * s_sum)
        } else {
            0.0
        };
        let x = prep
            .rows
            .x
            .as_slice()
            .ok_or_else(|| TrainError::data("the feature matrix is not contiguous"))?;
        let mut loss = LogisticLoss {
            x,
            p,
            y: &prep.y,
            s: &prep.s,
            inv_s: 1.0 / s_sum,
            k_out: prep.k_out,
            fit_intercept: self.params.fit_intercept,
            l2,
            pool: pool.as_ref(),
            evals: 0,
        };
        let p1 = loss.p1();
        let (w, report) = match self.params.solver {
            Solver::Lbfgs => {
                let mut l1w = Vec::new();
                if l1 > 0.0 {
                    l1w = vec![l1; loss.dim()];
                    if self.params.fit_intercept {
                        for k in 0..prep.k_out {
                            l1w[k * p1 + p] = 0.0;
                        }
                    }
                }
                let opts = LbfgsOptions {
                    memory: self.params.memory,
                    max_iter: self.params.max_iter,
                    gtol: self.params.tol,
                    // The pseudo-gradient test alone: a relative-decrease test at rounding level
                    // stops OWL-QN visibly short of the optimum on weakly curved directions.
                    ftol: if l1 > 0.0 { 0.0 } else { 64.0 * f64::EPSILON },
                    l1: l1w,
                    ..LbfgsOptions::default()
                };
                let solver = if l1 > 0.0 { "owlqn" } else { "lbfgs" };
                let max_iter = self.params.max_iter;
                let res = minimize(&mut loss, w0, &opts, |it, f, _| {
                    ctx.report(&Progress {
                        stage: solver.into(),
                        done: it as u64,
                        total: Some(max_iter as u64),
                        loss: Some(f),
                    });
                    ctx.check_deadline("fitting logistic regression")
                })?;
                let mut report = FitReport::new(solver);
                report.iterations = res.iterations;
                report.objective = Some(res.f);
                report.gradient_norm = Some(res.grad_max);
                if !res.converged {
                    report.converged = false;
                    report.warnings.push(format!(
                        "{solver} did not converge in {} iterations ({}; largest gradient component {:.3e}, tol {:.1e})\nhint: raise max_iter, standardise the features, or lower C",
                        res.iterations, res.message, res.grad_max, self.params.tol
                    ));
                }
                (res.x, report)
            }
            Solver::Newton => newton::solve(&mut loss, w0, &self.params, ctx)?,
            Solver::Sgd => sgd::solve(&mut loss, w0, l1, &self.params, ctx, &prep)?,
        };
        let mut report = report;
        report.evaluations = loss.evals;
        let model = LogisticModel::from_params(prep.task, p, &w, self.params.fit_intercept)?;
        Ok((model, report))
    }
}

impl Estimator for Logistic {
    fn name(&self) -> &'static str {
        "logistic"
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx, None)?.0))
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "LogisticState", try_from = "LogisticState")]
pub struct LogisticModel {
    task: Task,
    /// `k_out × p`.
    coef: Array2<f64>,
    intercept: Array1<f64>,
}

/// The stored form of a [`LogisticModel`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogisticState {
    classes: Vec<String>,
    n_features: u64,
    coef: Vec<f64>,
    intercept: Vec<f64>,
}

impl From<LogisticModel> for LogisticState {
    fn from(m: LogisticModel) -> Self {
        Self {
            classes: m.task.classes().to_vec(),
            n_features: m.coef.ncols() as u64,
            coef: m.coef.iter().copied().collect(),
            intercept: m.intercept.to_vec(),
        }
    }
}

impl TryFrom<LogisticState> for LogisticModel {
    type Error = TrainError;

    fn try_from(s: LogisticState) -> Result<Self> {
        let task = Task::classification(&s.classes)?;
        if task.classes() != s.classes.as_slice() {
            return Err(TrainError::Corrupt(
                "class labels are not sorted and distinct".into(),
            ));
        }
        let k_out = if s.classes.len() == 2 {
            1
        } else {
            s.classes.len()
        };
        let p =
            usize::try_from(s.n_features).map_err(|_| TrainError::Corrupt("n_features".into()))?;
        if p == 0 || s.coef.len() != k_out.saturating_mul(p) || s.intercept.len() != k_out {
            return Err(TrainError::Corrupt(format!(
                "{} coefficients and {} intercepts for {k_out} outputs of {p} features",
                s.coef.len(),
                s.intercept.len()
            )));
        }
        Self::new(
            task,
            Array2::from_shape_vec((k_out, p), s.coef)
                .map_err(|e| TrainError::Corrupt(e.to_string()))?,
            Array1::from(s.intercept),
        )
    }
}

impl LogisticModel {
    /// A model from its parts: `coef` is `1 × p` for two classes, `K × p` for `K ≥ 3`; every
    /// value finite.
    pub fn new(task: Task, coef: Array2<f64>, intercept: Array1<f64>) -> Result<Self> {
        let k = task.n_classes();
        let k_out = if k == 2 { 1 } else { k };
        if k < 2 || coef.nrows() != k_out || intercept.len() != k_out || coef.ncols() == 0 {
            return Err(TrainError::Corrupt(format!(
                "coefficients of shape {:?} and {} intercepts do not fit {k} classes",
                coef.dim(),
                intercept.len()
            )));
        }
        if coef.iter().chain(intercept.iter()).any(|v| !v.is_finite()) {
            return Err(TrainError::Corrupt(
                "a coefficient or intercept is not finite".into(),
            ));
        }
        Ok(Self {
            task,
            coef,
            intercept,
        })
    }

    fn from_params(task: Task, p: usize, w: &[f64], fit_intercept: bool) -> Result<Self> {
        let k = task.n_classes();
        let k_out = if k == 2 { 1 } else { k };
        let p1 = p + usize::from(fit_intercept);
        let coef = Array2::from_shape_fn((k_out, p), |(r, j)| w[r * p1 + j]);
        let mut intercept: Array1<f64> = (0..k_out)
            .map(|r| if fit_intercept { w[r * p1 + p] } else { 0.0 })
            .collect();
        if k_out > 1 {
            // Softmax is unchanged by a shift common to all classes: centre the intercepts.
            let mean = intercept.mean().unwrap_or(0.0);
            intercept -= mean;
        }
        Self::new(task, coef, intercept).map_err(|_| {
            TrainError::data(
                "the fit diverged to non-finite coefficients\nhint: standardise the features or lower C / the learning rate",
            )
        })
    }

    /// The coefficients, `1 × p` for two classes (the positive class), `K × p` otherwise
    /// (scikit-learn's `coef_`).
    pub fn coef(&self) -> ArrayView2<'_, f64> {
        self.coef.view()
    }

    /// The intercepts, one per coefficient row (`intercept_`).
    pub fn intercept(&self) -> &Array1<f64> {
        &self.intercept
    }

    /// The class labels.
    pub fn classes(&self) -> &[String] {
        self.task.classes()
    }

    /// The decision values `x · coefᵀ + intercept`, `n × 1` for two classes, `n × K` otherwise
    /// (`decision_function`).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "ndarray views are passed by value, as in core's `Model`"
    )]
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array2<f64>> {
        self.check_input(x)?;
        let z = loss::decision(
            x,
            self.coef.view(),
            self.intercept.as_slice().unwrap_or(&[]),
        );
        if z.iter().all(|v| v.is_finite()) {
            Ok(z)
        } else {
            Err(crate::linear::locate_non_finite(x))
        }
    }
}

impl Model for LogisticModel {
    fn task(&self) -> &Task {
        &self.task
    }

    fn n_features(&self) -> usize {
        self.coef.ncols()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array1<f64>> {
        let z = self.decision_function(x)?;
        if z.ncols() == 1 {
            return Ok(z.column(0).mapv(|v| if v > 0.0 { 1.0 } else { 0.0 }));
        }
        Ok(z.rows()
            .into_iter()
            .map(|r| {
                if r.len() == 1 {
                    if r[0] > 0.0 { 1.0 } else { 0.0 }
                } else {
                    let mut best = 0;
                    for k in 1..r.len() {
                        if r[k] > r[best] {
                            best = k;
                        }
                    }
                    best as f64
                }
            })
            .collect())
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array2<f64>> {
        let mut z = self.decision_function(x)?;
        if z.ncols() == 1 {
            let mut out = Array2::zeros((z.nrows(), 2));
            for (i, v) in z.column(0).iter().enumerate() {
                let p = sigmoid(*v);
                out[[i, 0]] = 1.0 - p;
                out[[i, 1]] = p;
            }
            return Ok(out);
        }
        for mut row in z.rows_mut() {
            let m = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let mut sum = 0.0;
            for v in &mut row {
                *v = (*v - m).exp();
                sum += *v;
            }
            row /= sum;
        }
        Ok(z)
    }
}
