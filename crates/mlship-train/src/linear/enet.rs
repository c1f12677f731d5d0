//! Lasso and elastic net by cyclic coordinate descent (scikit-learn's `Lasso` and `ElasticNet`),
//! with warm starts and a regularisation path.
//!
//! Objective, with `W = Σ wᵢ` (`n` without sample weights), as in scikit-learn:
//! `1/(2W) Σ wᵢ (yᵢ − xᵢ·β − b)² + α ρ ‖β‖₁ + α (1 − ρ)/2 ‖β‖²`, `ρ = l1_ratio`.
//! The stopping rule is scikit-learn's: when the largest coefficient update is below
//! `tol · max|β|`, the duality gap is computed and the fit stops once it is below
//! `tol · Σ wᵢ (yᵢ − ȳ)²`.

use mlship_core::DatasetView;
use mlship_core::traits::{Estimator, FitContext, Model, Progress};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::{Centred, LinearModel};
use crate::data::{collect, require_regression};
use crate::error::{Result, TrainError};
use crate::optim::{axpy, dot};
use crate::params::{at_least, in_range, positive};
use crate::report::FitReport;

/// Parameters of the lasso: the elastic net with `l1_ratio = 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LassoParams {
    /// Penalty strength `α ≥ 0`.
    pub alpha: f64,
    /// Fit an unpenalised intercept.
    pub fit_intercept: bool,
    /// Iteration (full sweep) limit.
    pub max_iter: usize,
    /// Tolerance of the duality-gap stopping rule.
    pub tol: f64,
}

impl Default for LassoParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            fit_intercept: true,
            max_iter: 1000,
            tol: 1e-4,
        }
    }
}

impl LassoParams {
    /// Checks the values and returns the estimator.
    pub fn validate(&self) -> Result<ElasticNet> {
        ElasticNetParams {
            alpha: self.alpha,
            l1_ratio: 1.0,
            fit_intercept: self.fit_intercept,
            max_iter: self.max_iter,
            tol: self.tol,
        }
        .validate()
        .map(|mut e| {
            e.name = "lasso";
            e
        })
    }
}

/// Parameters of the elastic net.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticNetParams {
    /// Penalty strength `α ≥ 0`.
    pub alpha: f64,
    /// The L1 share `ρ ∈ [0, 1]` of the penalty (1 is the lasso, 0 ridge with `α/2` scaling).
    pub l1_ratio: f64,
    /// Fit an unpenalised intercept.
    pub fit_intercept: bool,
    /// Iteration (full sweep) limit.
    pub max_iter: usize,
    /// Tolerance of the duality-gap stopping rule.
    pub tol: f64,
}

impl Default for ElasticNetParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l1_ratio: 0.5,
            fit_intercept: true,
            max_iter: 1000,
            tol: 1e-4,
        }
    }
}

impl ElasticNetParams {
    /// Checks the values and returns the estimator.
    pub fn validate(&self) -> Result<ElasticNet> {
        positive("alpha", self.alpha, true)?;
        in_range("l1_ratio", self.l1_ratio, 0.0, 1.0)?;
        positive("tol", self.tol, false)?;
        at_least("max_iter", self.max_iter, 1)?;
        Ok(ElasticNet {
            params: self.clone(),
            name: "elastic_net",
        })
    }
}

/// Validated lasso or elastic net.
#[derive(Debug, Clone)]
pub struct ElasticNet {
    params: ElasticNetParams,
    name: &'static str,
}

/// One point of a regularisation path.
#[derive(Debug, Clone)]
pub struct PathPoint {
    /// The penalty strength.
    pub alpha: f64,
    /// The model fitted at it.
    pub model: LinearModel,
    /// Its diagnostics.
    pub report: FitReport,
}

/// The problem after centring: feature columns stored contiguously.
struct Problem {
    c: Centred,
    /// `p × n`: row `j` is feature `j` of every row.
    cols: Array2<f64>,
    norms: Array1<f64>,
}

impl Problem {
    fn new(mut c: Centred) -> Self {
        let cols = std::mem::take(&mut c.xs);
        let mut prob = Self {
            c,
            cols,
            norms: Array1::zeros(0),
        };
        prob.norms = (0..prob.cols.nrows())
            .map(|j| {
                let x = prob.col(j);
                dot(x, x)
            })
            .collect();
        prob
    }

    /// Feature `j` over every row.
    fn col(&self, j: usize) -> &[f64] {
        let n = self.cols.ncols();
        self.cols
            .as_slice()
            .map_or(&[][..], |s| &s[j * n..(j + 1) * n])
    }

    /// `x̃ⱼ · v` for every feature `j`.
    fn xt(&self, v: &[f64]) -> Array1<f64> {
        (0..self.cols.nrows())
            .map(|j| dot(self.col(j), v))
            .collect()
    }
}

impl ElasticNet {
    /// The parameters (`l1_ratio = 1` for the lasso).
    pub fn params(&self) -> &ElasticNetParams {
        &self.params
    }

    /// Fits, starting from `init`'s coefficients when given (a warm start).
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        init: Option<&LinearModel>,
    ) -> Result<(LinearModel, FitReport)> {
        let prob = self.problem(data)?;
        let start = match init {
            Some(m) if m.coef().len() != prob.cols.nrows() => {
                return Err(TrainError::data(format!(
                    "the warm-start model has {} coefficients, the data {} features",
                    m.coef().len(),
                    prob.cols.nrows()
                )));
            }
            Some(m) => Array1::from(m.coef().to_vec()),
            None => Array1::zeros(prob.cols.nrows()),
        };
        let (coef, report) = self.descend(&prob, self.params.alpha, start, ctx)?;
        Ok((prob.c.model(coef)?, report))
    }

    fn problem(&self, data: DatasetView<'_>) -> Result<Problem> {
        require_regression(data.task(), self.name)?;
        let rows = collect(data)?;
        Ok(Problem::new(Centred::new_columns(
            &rows,
            self.params.fit_intercept,
        )))
    }

    /// The largest useful `α`, above which every coefficient is zero:
    /// `max_j |x̃ⱼ·ỹ| / (W ρ)` (infinite for `ρ = 0`).
    fn alpha_max(&self, prob: &Problem) -> f64 {
        let xty = prob.xt(prob.c.ys.as_slice().unwrap_or(&[]));
        let m = xty.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        m / (prob.c.w_sum * self.params.l1_ratio)
    }

    /// The regularisation path: fits at each `α` of `alphas` in the order given, each warm-started
    /// from the previous solution (scikit-learn's `enet_path`). Without `alphas`, `n_alphas`
    /// values from `α_max` down to `eps · α_max` on a log scale, as scikit-learn chooses them.
    pub fn path(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        alphas: Option<&[f64]>,
        n_alphas: usize,
        eps: f64,
    ) -> Result<Vec<PathPoint>> {
        let prob = self.problem(data)?;
        let grid: Vec<f64> = if let Some(a) = alphas {
            for &v in a {
                positive("alpha", v, true)?;
            }
            a.to_vec()
        } else {
            if self.params.l1_ratio == 0.0 {
                return Err(TrainError::invalid(
                    "l1_ratio",
                    0,
                    "a value > 0 for an automatic alpha grid; pass the alphas",
                ));
            }
            at_least("n_alphas", n_alphas, 1)?;
            in_range("eps", eps, f64::MIN_POSITIVE, 1.0)?;
            let top = self.alpha_max(&prob);
            if n_alphas == 1 {
                vec![top]
            } else {
                (0..n_alphas)
                    .map(|i| top * eps.powf(i as f64 / (n_alphas - 1) as f64))
                    .collect()
            }
        };
        let mut coef = Array1::zeros(prob.cols.nrows());
        let mut out = Vec::with_capacity(grid.len());
        for alpha in grid {
            let (c, report) = self.descend(&prob, alpha, coef, ctx)?;
            out.push(PathPoint {
                alpha,
                model: prob.c.model(c.clone())?,
                report,
            });
            coef = c;
        }
        Ok(out)
    }

    /// Coordinate descent from `beta` at penalty `alpha`.
    fn descend(
        &self,
        prob: &Problem,
        alpha: f64,
        mut beta: Array1<f64>,
        ctx: &FitContext<'_>,
    ) -> Result<(Array1<f64>, FitReport)> {
        let ys = &prob.c.ys;
        let w_sum = prob.c.w_sum;
        let l1 = alpha * self.params.l1_ratio * w_sum;
        let l2 = alpha * (1.0 - self.params.l1_ratio) * w_sum;
        let p = prob.cols.nrows();
        let mut r = ys.to_vec();
        for (j, &b) in beta.iter().enumerate() {
            if b != 0.0 {
                axpy(-b, prob.col(j), &mut r);
            }
        }
        let tol_gap = self.params.tol * ys.dot(ys);
        let mut report = FitReport::new("cd");
        let mut gap = f64::INFINITY;
        for iter in 0..self.params.max_iter {
            ctx.check_deadline("fitting by coordinate descent")?;
            let (mut max_dw, mut max_w) = (0.0f64, 0.0f64);
            for j in 0..p {
                let nj = prob.norms[j];
                if nj == 0.0 {
                    continue;
                }
                let xj = prob.col(j);
                let old = beta[j];
                let rho = dot(xj, &r) + nj * old;
                let new = soft_threshold(rho, l1) / (nj + l2);
                if new != old {
                    axpy(old - new, xj, &mut r);
                    beta[j] = new;
                }
                max_dw = max_dw.max((new - old).abs());
                max_w = max_w.max(new.abs());
            }
            report.iterations = iter + 1;
            if max_w == 0.0 || max_dw / max_w < self.params.tol || iter + 1 == self.params.max_iter
            {
                gap = duality_gap(prob, &beta, &r, l1, l2);
                if gap < tol_gap {
                    break;
                }
            }
            ctx.report(&Progress {
                stage: "coordinate descent".into(),
                done: (iter + 1) as u64,
                total: Some(self.params.max_iter as u64),
                loss: None,
            });
        }
        report.gradient_norm = Some(gap);
        let l1n: f64 = beta.iter().map(|v| v.abs()).sum();
        report.objective =
            Some((0.5 * dot(&r, &r) + l1 * l1n + 0.5 * l2 * beta.dot(&beta)) / w_sum);
        if gap >= tol_gap {
            report.converged = false;
            report.warnings.push(format!(
                "coordinate descent did not converge in {} iterations (duality gap {gap:.3e}, tolerance {tol_gap:.3e})\nhint: raise max_iter, scale the features, or raise alpha",
                self.params.max_iter
            ));
        }
        Ok((beta, report))
    }
}

fn soft_threshold(x: f64, t: f64) -> f64 {
    if x > t {
        x - t
    } else if x < -t {
        x + t
    } else {
        0.0
    }
}

/// The duality gap of `½‖r‖² + l1 ‖β‖₁ + ½ l2 ‖β‖²` (scikit-learn's `cd_fast` formula).
fn duality_gap(prob: &Problem, beta: &Array1<f64>, r: &[f64], l1: f64, l2: f64) -> f64 {
    let mut xta = prob.xt(r);
    xta.scaled_add(-l2, beta);
    let dual_norm = xta.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let r2 = dot(r, r);
    let w2 = beta.dot(beta);
    let (konst, mut gap) = if dual_norm > l1 {
        let k = l1 / dual_norm;
        (k, 0.5 * (r2 + r2 * k * k))
    } else {
        (1.0, r2)
    };
    let l1n: f64 = beta.iter().map(|v| v.abs()).sum();
    gap += l1 * l1n - konst * dot(r, prob.c.ys.as_slice().unwrap_or(&[]))
        + 0.5 * l2 * (1.0 + konst * konst) * w2;
    gap
}

impl Estimator for ElasticNet {
    fn name(&self) -> &str {
        self.name
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx, None)?.0))
    }
}
