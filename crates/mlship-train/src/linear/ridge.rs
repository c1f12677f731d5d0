//! Ridge regression (scikit-learn's `Ridge`): closed form by Cholesky, or conjugate gradients.

use mlship_core::DatasetView;
use mlship_core::traits::{Estimator, FitContext, Model, Progress};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::{Centred, LinearModel};
use crate::data::{Rows, collect, require_regression};
use crate::error::{Result, TrainError};
use crate::params::{at_least, positive};
use crate::report::FitReport;

/// How ridge regression is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RidgeSolver {
    /// Cholesky, falling back to the minimum-norm least-squares solution when `alpha = 0` and
    /// the design is singular.
    #[default]
    Auto,
    /// The normal equations `(XᵀWX + αI) β = XᵀWy` by Cholesky.
    Cholesky,
    /// Conjugate gradients on the normal equations without forming `XᵀX` (scikit-learn's
    /// `sparse_cg`); honours `tol`, `max_iter` and warm starts.
    Cg,
}

/// Parameters of ridge regression: minimise `Σ wᵢ (yᵢ − xᵢ·β − b)² + α ‖β‖²` (scikit-learn's
/// scaling: the penalty is not divided by the number of rows; the intercept is not penalised).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RidgeParams {
    /// Penalty strength `α ≥ 0`.
    pub alpha: f64,
    /// Fit an unpenalised intercept.
    pub fit_intercept: bool,
    /// The solver.
    pub solver: RidgeSolver,
    /// Relative residual tolerance of the `cg` solver.
    pub tol: f64,
    /// Iteration limit of the `cg` solver.
    pub max_iter: usize,
}

impl Default for RidgeParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            fit_intercept: true,
            solver: RidgeSolver::Auto,
            tol: 1e-4,
            max_iter: 1000,
        }
    }
}

impl RidgeParams {
    /// Checks the values and returns the estimator.
    pub fn validate(&self) -> Result<Ridge> {
        positive("alpha", self.alpha, true)?;
        positive("tol", self.tol, false)?;
        at_least("max_iter", self.max_iter, 1)?;
        if self.solver == RidgeSolver::Cholesky && self.alpha == 0.0 {
            return Err(TrainError::invalid(
                "alpha",
                0,
                "a positive number with solver = \"cholesky\" (or solver = \"auto\")",
            ));
        }
        Ok(Ridge {
            params: self.clone(),
        })
    }
}

/// Validated ridge regression.
#[derive(Debug, Clone)]
pub struct Ridge {
    params: RidgeParams,
}

impl Ridge {
    /// The parameters.
    pub fn params(&self) -> &RidgeParams {
        &self.params
    }

    /// Fits, starting the `cg` solver from `init` when given (closed forms ignore it).
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        init: Option<&LinearModel>,
    ) -> Result<(LinearModel, FitReport)> {
        require_regression(data.task(), "ridge")?;
        let rows = collect(data)?;
        let p = rows.x.ncols();
        let alpha = self.params.alpha;
        match self.params.solver {
            RidgeSolver::Auto | RidgeSolver::Cholesky => {
                ctx.check_deadline("fitting ridge")?;
                let (mut a, b, x_mean, y_mean, yy) = gram(&rows, self.params.fit_intercept);
                for j in 0..p {
                    a[[j, j]] += alpha;
                }
                if let Some(coef) = crate::linalg::cholesky_solve(a.view(), b.view()) {
                    let mut report = FitReport::new("cholesky");
                    report.iterations = 1;
                    // ‖y − Xβ‖² + α‖β‖² = yᵀy − 2βᵀb + βᵀ(XᵀX + αI)β.
                    report.objective = Some(yy - 2.0 * coef.dot(&b) + coef.dot(&a.dot(&coef)));
                    let intercept = y_mean - x_mean.dot(&coef);
                    return Ok((
                        LinearModel::new(coef.to_vec(), intercept).map_err(|e| {
                            TrainError::data(format!(
                                "the fit produced non-finite values ({e})\nhint: scale the features or raise alpha"
                            ))
                        })?,
                        report,
                    ));
                }
                let c = Centred::new(&rows, self.params.fit_intercept);
                let b = crate::optim::mat_t_vec(c.xs.view(), c.ys.as_slice().unwrap_or(&[]));
                let mut a: Array2<f64> = c.xs.t().dot(&c.xs);
                for j in 0..p {
                    a[[j, j]] += alpha;
                }
                let mut report = FitReport::new("cholesky");
                report.iterations = 1;
                let coef = if let Some(coef) = crate::linalg::cholesky_solve(a.view(), b.view()) {
                    coef
                } else {
                    let (coef, rank) = crate::linalg::lstsq_min_norm(c.xs.view(), c.ys.view())
                        .ok_or_else(|| {
                            TrainError::data("the SVD of the design did not converge")
                        })?;
                    report.solver = "lstsq".into();
                    report.rank = Some(rank);
                    report.warnings.push(format!(
                        "the normal equations are singular (rank {rank} < {p}); the minimum-norm solution was returned\nhint: use alpha > 0"
                    ));
                    coef
                };
                // ‖y − Xβ‖² + α‖β‖² = yᵀy − 2βᵀb + βᵀ(XᵀX + αI)β, without another pass.
                report.objective = Some(if report.solver == "cholesky" {
                    c.ys.dot(&c.ys) - 2.0 * coef.dot(&b) + coef.dot(&a.dot(&coef))
                } else {
                    objective(&c, &coef, alpha)
                });
                Ok((c.model(coef)?, report))
            }
            RidgeSolver::Cg => {
                let c = Centred::new(&rows, self.params.fit_intercept);
                let b = crate::optim::mat_t_vec(c.xs.view(), c.ys.as_slice().unwrap_or(&[]));
                let start = init.map(|m| Array1::from(m.coef().to_vec()));
                if let Some(s) = start.as_ref().filter(|s| s.len() != p) {
                    return Err(TrainError::data(format!(
                        "the warm-start model has {} coefficients, the data {p} features",
                        s.len()
                    )));
                }
                let (coef, report) = self.cg(&c, &b, start, ctx)?;
                Ok((c.model(coef)?, report))
            }
        }
    }

    fn cg(
        &self,
        c: &Centred,
        b: &Array1<f64>,
        start: Option<Array1<f64>>,
        ctx: &FitContext<'_>,
    ) -> Result<(Array1<f64>, FitReport)> {
        let alpha = self.params.alpha;
        let apply = |v: &Array1<f64>| -> Array1<f64> {
            let xv = crate::optim::mat_vec(c.xs.view(), v.as_slice().unwrap_or(&[]));
            let mut out = crate::optim::mat_t_vec(c.xs.view(), xv.as_slice().unwrap_or(&[]));
            out.scaled_add(alpha, v);
            out
        };
        let mut x = start.unwrap_or_else(|| Array1::zeros(b.len()));
        let mut r = b - &apply(&x);
        let mut d = r.clone();
        let mut rr = r.dot(&r);
        let b_norm = b.dot(b).sqrt().max(f64::MIN_POSITIVE);
        let mut report = FitReport::new("cg");
        let mut converged = rr.sqrt() <= self.params.tol * b_norm;
        while !converged && report.iterations < self.params.max_iter {
            ctx.check_deadline("fitting ridge by conjugate gradients")?;
            let ad = apply(&d);
            let dad = d.dot(&ad);
            if dad <= 0.0 {
                break;
            }
            let step = rr / dad;
            x.scaled_add(step, &d);
            r.scaled_add(-step, &ad);
            let rr_new = r.dot(&r);
            d = &r + &(&d * (rr_new / rr));
            rr = rr_new;
            report.iterations += 1;
            converged = rr.sqrt() <= self.params.tol * b_norm;
            ctx.report(&Progress {
                stage: "cg".into(),
                done: report.iterations as u64,
                total: Some(self.params.max_iter as u64),
                loss: None,
            });
        }
        report.gradient_norm = Some(rr.sqrt());
        report.objective = Some(objective(c, &x, alpha));
        if !converged {
            report.not_converged(
                self.params.max_iter,
                "raise max_iter or use solver = \"cholesky\"",
            );
        }
        Ok((x, report))
    }
}

/// Rows per block of the Gram matrix accumulation.
const GRAM_BLOCK: usize = 1024;

/// The centred, weighted normal equations `(XᵀWX, XᵀWy)` over blocks of rows (no centred copy
/// of the whole matrix), with the means and `Σ wᵢ (yᵢ − ȳ)²`.
fn gram(rows: &Rows<'_>, fit_intercept: bool) -> (Array2<f64>, Array1<f64>, Array1<f64>, f64, f64) {
    let (n, p) = rows.x.dim();
    let w = rows.w.to_vec();
    let w_sum = rows.w.sum();
    let (x_mean, y_mean) = if fit_intercept {
        (
            crate::optim::mat_t_vec(rows.x.view(), &w) / w_sum,
            rows.w.dot(&rows.y) / w_sum,
        )
    } else {
        (Array1::zeros(p), 0.0)
    };
    let mut a = Array2::<f64>::zeros((p, p));
    let mut b = Array1::<f64>::zeros(p);
    let mut yy = 0.0;
    let mut buf = vec![0.0; GRAM_BLOCK.min(n) * p];
    let mut yb = vec![0.0; GRAM_BLOCK.min(n)];
    let xm = x_mean.to_vec();
    let y = rows.y.to_vec();
    let mut row_buf = vec![0.0; p];
    let mut start = 0;
    while start < n {
        let end = (start + GRAM_BLOCK).min(n);
        let m = end - start;
        for (k, out) in buf[..m * p].chunks_exact_mut(p).enumerate() {
            let i = start + k;
            let sw = if rows.weighted { w[i].sqrt() } else { 1.0 };
            let src: &[f64] = if let Some(s) = rows.x.as_slice() {
                &s[i * p..(i + 1) * p]
            } else {
                for (d, v) in row_buf.iter_mut().zip(rows.x.row(i)) {
                    *d = *v;
                }
                &row_buf
            };
            for ((o, v), mu) in out.iter_mut().zip(src).zip(&xm) {
                *o = (v - mu) * sw;
            }
            yb[k] = (y[i] - y_mean) * sw;
            yy += yb[k] * yb[k];
        }
        if let Ok(block) = ndarray::ArrayView2::from_shape((m, p), &buf[..m * p]) {
            ndarray::linalg::general_mat_mul(1.0, &block.t(), &block, 1.0, &mut a);
            b += &crate::optim::mat_t_vec(block, &yb[..m]);
        }
        start = end;
    }
    (a, b, x_mean, y_mean, yy)
}

fn objective(c: &Centred, coef: &Array1<f64>, alpha: f64) -> f64 {
    let r = &c.ys - &crate::optim::mat_vec(c.xs.view(), coef.as_slice().unwrap_or(&[]));
    r.dot(&r) + alpha * coef.dot(coef)
}

impl Estimator for Ridge {
    fn name(&self) -> &'static str {
        "ridge"
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx, None)?.0))
    }
}
