//! Histogram gradient boosting (LightGBM-style; scikit-learn's `HistGradientBoosting*`).
//!
//! Features are binned once ([`bin`]); each round grows a tree leaf-wise on gradient/hessian
//! histograms ([`grow`]) with Newton leaf values `−G / (H + l2)` scaled by the learning rate.
//! Losses: squared error (regression), binary log-loss (one logit output) and multiclass
//! softmax (one tree per class per round). Row subsampling (`bagging_fraction`, a new sample
//! each round) and column subsampling (`feature_fraction`, per tree) draw from
//! `Rng::derive(seed, round)`. Early stopping watches the fit context's eval set, or a
//! `validation_fraction` held out of the training rows, and keeps the best round. A fit may
//! continue from an existing boosted model: its raw predictions are the starting point and its
//! trees come first in the result.
//!
//! When the fit context's deadline passes, boosting stops and the model so far is returned
//! with a warning in the report.

pub(crate) mod bin;
pub(crate) mod grow;

use mlship_core::DatasetView;
use mlship_core::rng::Rng;
use mlship_core::traits::{Estimator, FitContext, Model, Progress};
use mlship_core::tree::{Aggregation, Link, Tree, TreeEnsemble};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::params::{at_least, in_range, positive};
use crate::report::FitReport;
use crate::tree::{TreeData, TreeModel, sigmoid};

use self::bin::bin_data;
use self::grow::{GTree, TreeSettings};

/// The loss boosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GbdtLoss {
    /// Half squared error (regression).
    SquaredError,
    /// Absolute error (regression); leaf values are the weighted medians of the residuals, as
    /// LightGBM's `l1` and scikit-learn's `absolute_error`.
    AbsoluteError,
    /// Huber loss with threshold `huber_delta` (regression; LightGBM's `huber`).
    Huber,
    /// Log-loss: binary with a logit link, multiclass with softmax.
    LogLoss,
}

/// Parameters of histogram gradient boosting (LightGBM's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GbdtParams {
    /// The loss; `None` picks squared error for regression and log-loss for classes.
    pub loss: Option<GbdtLoss>,
    /// Boosting rounds (at least 1).
    pub n_estimators: usize,
    /// Shrinkage of every leaf value, in `(0, 1]`.
    pub learning_rate: f64,
    /// Leaves per tree (at least 2).
    pub num_leaves: usize,
    /// The deepest a leaf may be; `None` for no limit.
    pub max_depth: Option<usize>,
    /// Rows each leaf must keep (LightGBM's `min_data_in_leaf`).
    pub min_samples_leaf: usize,
    /// Hessian sum each leaf must keep (LightGBM's `min_sum_hessian_in_leaf`).
    pub min_sum_hessian: f64,
    /// L2 penalty on leaf values (`lambda_l2`).
    pub l2: f64,
    /// The smallest gain a split must bring.
    pub min_gain_to_split: f64,
    /// Bins per feature, in `[2, 255]`; a categorical feature may have at most this many levels.
    pub max_bin: usize,
    /// Fraction of rows sampled (without replacement) for each round, in `(0, 1]`.
    pub bagging_fraction: f64,
    /// Fraction of features sampled for each tree, in `(0, 1]`.
    pub feature_fraction: f64,
    /// Smoothing of the gradient/hessian ratio that orders categories.
    pub cat_smooth: f64,
    /// Where the Huber loss turns from quadratic to linear (LightGBM's `alpha`).
    pub huber_delta: f64,
    /// Per feature `1` (increasing), `-1` (decreasing) or `0`; empty for none. Numeric
    /// features only; not with `absolute_error`.
    pub monotone_constraints: Vec<i8>,
    /// Hold out this fraction of the rows for early stopping when the fit context has no eval
    /// set; `None` holds out nothing.
    pub validation_fraction: Option<f64>,
    /// Stop after this many rounds without improvement on the validation rows.
    pub n_iter_no_change: usize,
    /// The smallest validation-loss decrease that counts as an improvement.
    pub tol: f64,
    /// Seed, XOR-ed with the fit context's seed.
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        Self {
            loss: None,
            n_estimators: 100,
            learning_rate: 0.1,
            num_leaves: 31,
            max_depth: None,
            min_samples_leaf: 20,
            min_sum_hessian: 1e-3,
            l2: 0.0,
            min_gain_to_split: 0.0,
            max_bin: 255,
            bagging_fraction: 1.0,
            feature_fraction: 1.0,
            cat_smooth: 10.0,
            huber_delta: 0.9,
            monotone_constraints: Vec::new(),
            validation_fraction: None,
            n_iter_no_change: 10,
            tol: 1e-7,
            seed: 0,
        }
    }
}

impl GbdtParams {
    /// The validated estimator.
    pub fn validate(&self) -> Result<Gbdt> {
        at_least("n_estimators", self.n_estimators, 1)?;
        positive("learning_rate", self.learning_rate, false)?;
        in_range("learning_rate", self.learning_rate, 0.0, 1.0)?;
        if self.num_leaves < 2 {
            return Err(TrainError::invalid(
                "num_leaves",
                self.num_leaves,
                "an integer >= 2 (a tree of one leaf learns nothing)",
            ));
        }
        if let Some(d) = self.max_depth {
            at_least("max_depth", d, 1)?;
        }
        at_least("min_samples_leaf", self.min_samples_leaf, 1)?;
        positive("min_sum_hessian", self.min_sum_hessian, true)?;
        positive("l2", self.l2, true)?;
        positive("min_gain_to_split", self.min_gain_to_split, true)?;
        if !(2..=255).contains(&self.max_bin) {
            return Err(TrainError::invalid(
                "max_bin",
                self.max_bin,
                "an integer in [2, 255]",
            ));
        }
        positive("bagging_fraction", self.bagging_fraction, false)?;
        in_range("bagging_fraction", self.bagging_fraction, 0.0, 1.0)?;
        positive("feature_fraction", self.feature_fraction, false)?;
        in_range("feature_fraction", self.feature_fraction, 0.0, 1.0)?;
        positive("cat_smooth", self.cat_smooth, true)?;
        positive("huber_delta", self.huber_delta, false)?;
        if let Some(c) = self
            .monotone_constraints
            .iter()
            .find(|c| !(-1..=1).contains(*c))
        {
            return Err(TrainError::invalid(
                "monotone_constraints",
                c,
                "-1, 0 or 1 per feature",
            ));
        }
        if let Some(f) = self.validation_fraction
            && !(f > 0.0 && f < 1.0)
        {
            return Err(TrainError::invalid(
                "validation_fraction",
                f,
                "a value in (0, 1)",
            ));
        }
        at_least("n_iter_no_change", self.n_iter_no_change, 1)?;
        positive("tol", self.tol, true)?;
        Ok(Gbdt {
            params: self.clone(),
        })
    }
}

/// A validated gradient boosting estimator.
#[derive(Debug, Clone)]
pub struct Gbdt {
    params: GbdtParams,
}

/// Loss, gradients and link per task.
#[derive(Debug, Clone, Copy)]
enum Objective {
    Squared,
    Absolute,
    Huber(f64),
    Binary,
    Softmax(usize),
}

impl Objective {
    fn outputs(self) -> usize {
        match self {
            Self::Squared | Self::Absolute | Self::Huber(_) | Self::Binary => 1,
            Self::Softmax(k) => k,
        }
    }

    fn link(self) -> Link {
        match self {
            Self::Squared | Self::Absolute | Self::Huber(_) => Link::Identity,
            Self::Binary => Link::Logit,
            Self::Softmax(_) => Link::Softmax,
        }
    }

    /// The starting raw score: weighted mean, log-odds or log priors.
    fn base(self, y: &[f64], w: &[f64]) -> Vec<f64> {
        let sw: f64 = w.iter().sum();
        match self {
            Self::Squared | Self::Huber(_) => {
                vec![y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw]
            }
            Self::Absolute => {
                let mut v: Vec<(f64, f64)> = y.iter().copied().zip(w.iter().copied()).collect();
                vec![weighted_median(&mut v)]
            }
            Self::Binary => {
                let p = (y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw)
                    .clamp(1e-15, 1.0 - 1e-15);
                vec![(p / (1.0 - p)).ln()]
            }
            Self::Softmax(k) => {
                let mut c = vec![0.0; k];
                for (y, w) in y.iter().zip(w) {
                    c[*y as usize] += w;
                }
                c.iter().map(|c| (c / sw).max(1e-15).ln()).collect()
            }
        }
    }

    /// Weighted mean loss of raw scores `f` (`n × outputs`, row-major).
    fn loss(self, f: &[f64], y: &[f64], w: &[f64]) -> f64 {
        let sw: f64 = w.iter().sum();
        let k = self.outputs();
        let total: f64 = (0..y.len())
            .map(|i| {
                let l = match self {
                    Self::Squared => 0.5 * (f[i] - y[i]).powi(2),
                    Self::Absolute => (f[i] - y[i]).abs(),
                    Self::Huber(d) => {
                        let r = (f[i] - y[i]).abs();
                        if r <= d {
                            0.5 * r * r
                        } else {
                            d * (r - 0.5 * d)
                        }
                    }
                    Self::Binary => {
                        // log(1 + e^f) − y f, computed stably.
                        let z = f[i];
                        z.max(0.0) + (-z.abs()).exp().ln_1p() - y[i] * z
                    }
                    Self::Softmax(_) => {
                        let row = &f[i * k..(i + 1) * k];
                        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                        lse - row[y[i] as usize]
                    }
                };
                w[i] * l
            })
            .sum();
        total / sw
    }

    /// Gradients and hessians for output `out`.
    fn grad_hess(self, f: &[f64], y: &[f64], w: &[f64], out: usize, g: &mut [f64], h: &mut [f64]) {
        let k = self.outputs();
        for i in 0..y.len() {
            let (gi, hi) = match self {
                Self::Squared => (f[i] - y[i], 1.0),
                Self::Absolute => ((f[i] - y[i]).signum() * f64::from(f[i] != y[i]), 1.0),
                Self::Huber(d) => ((f[i] - y[i]).clamp(-d, d), 1.0),
                Self::Binary => {
                    let p = sigmoid(f[i]);
                    (p - y[i], (p * (1.0 - p)).max(1e-16))
                }
                Self::Softmax(_) => {
                    let row = &f[i * k..(i + 1) * k];
                    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
                    let p = (row[out] - m).exp() / s;
                    let t = f64::from(y[i] as usize == out);
                    let factor = k as f64 / (k as f64 - 1.0);
                    (p - t, (factor * p * (1.0 - p)).max(1e-16))
                }
            };
            g[i] = w[i] * gi;
            h[i] = w[i] * hi;
        }
    }
}

impl Gbdt {
    /// The parameters.
    pub fn params(&self) -> &GbdtParams {
        &self.params
    }

    fn objective(&self, data: DatasetView<'_>) -> Result<Objective> {
        let k = data.task().n_classes();
        let loss = self.params.loss.unwrap_or(if k > 0 {
            GbdtLoss::LogLoss
        } else {
            GbdtLoss::SquaredError
        });
        match (loss, k) {
            (GbdtLoss::SquaredError, 0) => Ok(Objective::Squared),
            (GbdtLoss::AbsoluteError, 0) => Ok(Objective::Absolute),
            (GbdtLoss::Huber, 0) => Ok(Objective::Huber(self.params.huber_delta)),
            (GbdtLoss::LogLoss, 2) => Ok(Objective::Binary),
            (GbdtLoss::LogLoss, k) if k > 2 => Ok(Objective::Softmax(k)),
            (l, _) => Err(TrainError::invalid(
                "loss",
                format!("{l:?}").to_lowercase(),
                if k > 0 {
                    "log_loss for classification"
                } else {
                    "squared_error, absolute_error or huber for regression"
                },
            )),
        }
    }

    /// Fits, or continues boosting from `init` (a boosted model with the same task and
    /// features), and reports rounds, the final training loss and early stopping.
    /// Runs in a pool of `ctx.threads` threads when more than one is asked for.
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        init: Option<&TreeModel>,
    ) -> Result<(TreeModel, FitReport)> {
        crate::tree::in_pool(ctx, || self.fit_in_pool(data, ctx, init))
    }

    #[allow(clippy::too_many_lines)]
    fn fit_in_pool(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        init: Option<&TreeModel>,
    ) -> Result<(TreeModel, FitReport)> {
        let p = &self.params;
        ctx.check_deadline("boosting")?;
        let obj = self.objective(data)?;
        let k = obj.outputs();
        let full = TreeData::from_view(data)?;
        let names: Vec<String> = data.features().iter().map(|f| f.name.clone()).collect();
        let seed = p.seed ^ ctx.seed;
        let mut report = FitReport::new("gbdt");

        // Early-stopping rows: the context's eval set, or a held-out fraction.
        let (train, valid) = match (ctx.eval_set, p.validation_fraction) {
            (Some(ev), _) => {
                if ev.n_features() != full.p {
                    return Err(TrainError::data(format!(
                        "the eval set has {} features, the training data {}",
                        ev.n_features(),
                        full.p
                    )));
                }
                (full, Some(TreeData::from_view(ev)?))
            }
            (None, Some(f)) => {
                let mut perm = Rng::derive(seed, u64::MAX).permutation(full.n);
                let n_valid = ((f * full.n as f64).round() as usize)
                    .clamp(1, full.n.saturating_sub(1).max(1));
                if full.n < 2 {
                    return Err(TrainError::data(
                        "validation_fraction needs at least two rows\nhint: unset validation_fraction",
                    ));
                }
                let valid_rows: Vec<usize> = perm.drain(..n_valid).collect();
                perm.sort_unstable();
                let mut vr = valid_rows;
                vr.sort_unstable();
                (full.select(&perm), Some(full.select(&vr)))
            }
            (None, None) => (full, None),
        };
        let n = train.n;
        let binned = bin_data(&train, &names, p.max_bin)?;

        // Starting scores.
        let (base, mut f, mut fv, mut trees, mut gain, mut splits) = match init {
            None => {
                let base = obj.base(&train.y, &train.w);
                let f: Vec<f64> = (0..n).flat_map(|_| base.iter().copied()).collect();
                let fv = valid.as_ref().map(|v| {
                    (0..v.n)
                        .flat_map(|_| base.iter().copied())
                        .collect::<Vec<f64>>()
                });
                (
                    base,
                    f,
                    fv,
                    Vec::new(),
                    vec![0.0; train.p],
                    vec![0.0; train.p],
                )
            }
            Some(m) => {
                let e = m.ensemble();
                if e.aggregation() != Aggregation::Sum
                    || e.link() != obj.link()
                    || e.n_outputs() != k
                    || e.n_features() != train.p
                {
                    return Err(TrainError::data(format!(
                        "the model to continue from is not a boosted model of this task with {} features",
                        train.p
                    )));
                }
                let raw = |d: &TreeData| -> Vec<f64> {
                    let mut out = vec![0.0; d.n * k];
                    let mut row = vec![0.0; d.p];
                    for i in 0..d.n {
                        for (j, v) in row.iter_mut().enumerate() {
                            *v = d.cols[j * d.n + i];
                        }
                        let _ = e.predict_raw_row(&row, &mut out[i * k..(i + 1) * k]);
                    }
                    out
                };
                (
                    e.base_score().to_vec(),
                    raw(&train),
                    valid.as_ref().map(raw),
                    e.trees().to_vec(),
                    m.importance_gain().to_vec(),
                    m.importance_split().to_vec(),
                )
            }
        };
        let settings = TreeSettings {
            num_leaves: p.num_leaves,
            max_depth: p.max_depth,
            min_samples_leaf: p.min_samples_leaf,
            min_sum_hessian: p.min_sum_hessian,
            l2: p.l2,
            min_gain_to_split: p.min_gain_to_split,
            cat_smooth: p.cat_smooth,
            learning_rate: p.learning_rate,
            monotone: p.monotone_constraints.clone(),
        };
        if !p.monotone_constraints.is_empty() {
            if p.monotone_constraints.len() != train.p {
                return Err(TrainError::invalid(
                    "monotone_constraints",
                    format!("{} values", p.monotone_constraints.len()),
                    format!("one per feature ({})", train.p),
                ));
            }
            if matches!(obj, Objective::Absolute) {
                return Err(TrainError::invalid(
                    "monotone_constraints",
                    "set",
                    "none with loss = \"absolute_error\" (median leaves ignore the bounds)",
                ));
            }
            if let Some(j) = (0..train.p)
                .find(|&j| p.monotone_constraints[j] != 0 && binned.bins[j].levels.is_some())
            {
                return Err(TrainError::data(format!(
                    "feature {:?} is categorical and cannot take a monotone constraint",
                    names[j]
                )));
            }
        }
        let mut g = vec![0.0; n];
        let mut h = vec![0.0; n];
        let mut fk = vec![0.0; n];
        let n_init = trees.len();
        let mut best = (f64::INFINITY, 0usize, n_init);
        let mut rounds = 0;
        let mut stopped_early = false;
        let mut new_trees: Vec<Tree> = Vec::new();
        let mut round_gain: Vec<Vec<(usize, f64)>> = Vec::new();
        for round in 0..p.n_estimators {
            if ctx.check_deadline("boosting").is_err() {
                report.converged = false;
                report.warnings.push(format!(
                    "the time budget ran out after {round} of {} rounds; the model so far was kept",
                    p.n_estimators
                ));
                break;
            }
            let mut rng = Rng::derive(seed, round as u64);
            let rows: Vec<u32> = if p.bagging_fraction < 1.0 {
                let m = ((p.bagging_fraction * n as f64).round() as usize).max(1);
                let mut r: Vec<u32> = rng.permutation(n)[..m].iter().map(|&i| i as u32).collect();
                r.sort_unstable();
                r
            } else {
                (0..n as u32).collect()
            };
            let rows: Vec<u32> = rows
                .into_iter()
                .filter(|&r| train.w[r as usize] > 0.0)
                .collect();
            let active: Vec<bool> = if p.feature_fraction < 1.0 {
                let m = ((p.feature_fraction * train.p as f64).round() as usize).clamp(1, train.p);
                let mut a = vec![false; train.p];
                for j in rng.permutation(train.p).into_iter().take(m) {
                    a[j] = true;
                }
                a
            } else {
                vec![true; train.p]
            };
            let f_round = f.clone();
            let mut splits_round = Vec::new();
            for out in 0..k {
                obj.grad_hess(&f_round, &train.y, &train.w, out, &mut g, &mut h);
                let mut t: GTree = grow::grow(&settings, &binned, n, rows.clone(), &g, &h, &active);
                if matches!(obj, Objective::Absolute) {
                    // Leaf values: the weighted median of the residuals, shrunk.
                    for (node, leaf_rows) in &t.leaf_rows {
                        let mut r: Vec<(f64, f64)> = leaf_rows
                            .iter()
                            .map(|&i| {
                                (
                                    train.y[i as usize] - f_round[i as usize],
                                    train.w[i as usize],
                                )
                            })
                            .collect();
                        t.nodes[*node].value = weighted_median(&mut r) * p.learning_rate;
                    }
                }
                // Update the training scores.
                if rows.len() == n {
                    for (node, leaf_rows) in &t.leaf_rows {
                        let v = t.nodes[*node].value;
                        for &r in leaf_rows {
                            fk[r as usize] = v;
                        }
                    }
                } else {
                    for (i, v) in fk.iter_mut().enumerate() {
                        *v = t.predict_binned(&binned.codes, n, i);
                    }
                }
                for i in 0..n {
                    f[i * k + out] += fk[i];
                }
                let core = t.to_core(&binned.bins, (k > 1).then_some(out as u32));
                if let (Some(v), Some(fv)) = (&valid, fv.as_mut()) {
                    let mut row = vec![0.0; v.p];
                    for i in 0..v.n {
                        for (j, x) in row.iter_mut().enumerate() {
                            *x = v.cols[j * v.n + i];
                        }
                        let leaf = mlship_core::tree::leaf_for(&core, &row);
                        fv[i * k + out] += core.leaf_values[leaf];
                    }
                }
                splits_round.extend(t.splits.iter().copied());
                new_trees.push(core);
            }
            round_gain.push(splits_round);
            rounds = round + 1;
            // The training loss is only computed each round when someone watches it.
            let watched = match (&valid, &fv) {
                (Some(v), Some(fv)) => Some(obj.loss(fv, &v.y, &v.w)),
                _ if ctx.progress.is_some() => Some(obj.loss(&f, &train.y, &train.w)),
                _ => None,
            };
            if ctx.progress.is_some() {
                ctx.report(&Progress {
                    stage: "boosting".into(),
                    done: rounds as u64,
                    total: Some(p.n_estimators as u64),
                    loss: watched,
                });
            }
            let watched = watched.unwrap_or(f64::INFINITY);
            if valid.is_some() {
                if watched < best.0 - p.tol {
                    best = (watched, rounds, n_init + new_trees.len());
                } else if rounds - best.1 >= p.n_iter_no_change {
                    stopped_early = true;
                    break;
                }
            }
        }
        // Keep the best round when watching validation rows.
        let keep_rounds = if valid.is_some() && best.1 > 0 {
            best.1
        } else {
            rounds
        };
        new_trees.truncate(keep_rounds * k);
        for sp in round_gain.iter().take(keep_rounds) {
            for &(j, gn) in sp {
                gain[j] += gn;
                splits[j] += 1.0;
            }
        }
        trees.extend(new_trees);
        if trees.is_empty() {
            return Err(TrainError::data(
                "no boosting round finished before the deadline",
            ));
        }
        report.iterations = keep_rounds;
        report.objective = Some(obj.loss(&f, &train.y, &train.w));
        if stopped_early {
            report.warnings.push(format!(
                "early stopping: no improvement for {} rounds; kept {keep_rounds} of {rounds} rounds",
                p.n_iter_no_change
            ));
        }
        let e = TreeEnsemble::new(
            trees,
            train.p as u32,
            k as u32,
            base,
            Aggregation::Sum,
            obj.link(),
        )?;
        let model = TreeModel::new(data.task().clone(), e, gain, splits, None)?;
        Ok((model, report))
    }
}

impl Estimator for Gbdt {
    fn name(&self) -> &'static str {
        "gbdt"
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx, None)?.0))
    }
}

/// The weighted median: the smallest value whose cumulative weight reaches half the total
/// (the midpoint of two values when it is reached exactly).
fn weighted_median(v: &mut [(f64, f64)]) -> f64 {
    v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|p| p.1).sum();
    let mut acc = 0.0;
    for (k, &(y, w)) in v.iter().enumerate() {
        acc += w;
        if acc >= total / 2.0 {
            if (acc - total / 2.0).abs() <= 1e-12 * total
                && let Some(next) = v.get(k + 1)
            {
                return f64::midpoint(y, next.0);
            }
            return y;
        }
    }
    v.last().map_or(0.0, |p| p.0)
}
