//! The logistic log-loss and its gradient over row blocks.
//!
//! Rows are processed in fixed-size blocks (`BLOCK` rows); each block's loss and gradient are
//! accumulated from zero and the blocks are added in block order, so the result is the same
//! bit for bit whether the blocks run on one thread or many.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::optim::{Objective, axpy, dot};

/// Rows per block of the loss and gradient reduction.
pub const BLOCK: usize = 2048;

/// `ln(1 + eᶻ)` without overflow.
#[inline]
pub fn log1pexp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// The logistic function without overflow.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The data and penalty of a logistic objective
/// `f(w) = (1/S) Σ sᵢ ℓᵢ(w) + ½ l2 ‖W‖²` (the intercepts are not penalised).
///
/// Parameters are laid out per output `k` as `p` coefficients followed by the intercept (when
/// fitted): `w[k·p1 + j]`, `p1 = p + fit_intercept`.
pub struct LogisticLoss<'a> {
    /// Row-major features, `n × p`, flattened.
    pub x: &'a [f64],
    /// Number of features.
    pub p: usize,
    /// Class index per row.
    pub y: &'a [usize],
    /// Weight per row (sample weight × class weight).
    pub s: &'a [f64],
    /// `1 / Σ sᵢ`.
    pub inv_s: f64,
    /// Outputs: 1 for binary (the positive class's logit), K for multinomial.
    pub k_out: usize,
    /// Whether each output has an intercept.
    pub fit_intercept: bool,
    /// L2 strength on the coefficients.
    pub l2: f64,
    /// A thread pool when the fit may use several threads.
    pub pool: Option<&'a rayon::ThreadPool>,
    /// Function evaluations so far.
    pub evals: usize,
}

impl std::fmt::Debug for LogisticLoss<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogisticLoss")
            .field("rows", &self.y.len())
            .field("p", &self.p)
            .field("k_out", &self.k_out)
            .finish_non_exhaustive()
    }
}

impl LogisticLoss<'_> {
    /// Parameters per output.
    pub fn p1(&self) -> usize {
        self.p + usize::from(self.fit_intercept)
    }

    /// Number of parameters.
    pub fn dim(&self) -> usize {
        self.k_out * self.p1()
    }

    /// Adds the weighted loss and gradient of `rows` (unscaled by `1/S`) into `grad` and
    /// returns the weighted loss.
    pub fn accumulate(
        &self,
        rows: impl Iterator<Item = usize>,
        w: &[f64],
        grad: &mut [f64],
        zbuf: &mut [f64],
    ) -> f64 {
        let (p, p1) = (self.p, self.p1());
        let mut loss = 0.0;
        for i in rows {
            let si = self.s[i];
            if si == 0.0 {
                continue;
            }
            let xi = &self.x[i * p..(i + 1) * p];
            let yi = self.y[i];
            if self.k_out == 1 {
                let mut z = dot(xi, &w[..p]);
                if self.fit_intercept {
                    z += w[p];
                }
                let yf = if yi == 1 { 1.0 } else { 0.0 };
                // One exponential for both ln(1 + eᶻ) and the logistic function.
                let e = (-z.abs()).exp();
                // ln(1 + e) for e in (0, 1]: `ln` is cheaper than `ln_1p`, and for e below
                // 2⁻⁵³, where it rounds to 0, the loss is off by less than 1.2e-16 per row.
                let l1pe = (1.0 + e).ln();
                let (lpe, sig) = if z > 0.0 {
                    (z + l1pe, 1.0 / (1.0 + e))
                } else {
                    (l1pe, e / (1.0 + e))
                };
                loss += si * (lpe - yf * z);
                let gz = si * (sig - yf);
                axpy(gz, xi, &mut grad[..p]);
                if self.fit_intercept {
                    grad[p] += gz;
                }
            } else {
                let mut zmax = f64::NEG_INFINITY;
                for k in 0..self.k_out {
                    let wk = &w[k * p1..k * p1 + p];
                    let mut z = dot(xi, wk);
                    if self.fit_intercept {
                        z += w[k * p1 + p];
                    }
                    zbuf[k] = z;
                    zmax = zmax.max(z);
                }
                let mut sum = 0.0;
                for z in &zbuf[..self.k_out] {
                    sum += (z - zmax).exp();
                }
                let lse = zmax + sum.ln();
                loss += si * (lse - zbuf[yi]);
                for k in 0..self.k_out {
                    let pk = (zbuf[k] - lse).exp();
                    let gk = si * (pk - if k == yi { 1.0 } else { 0.0 });
                    axpy(gk, xi, &mut grad[k * p1..k * p1 + p]);
                    if self.fit_intercept {
                        grad[k * p1 + p] += gk;
                    }
                }
            }
        }
        loss
    }

    fn block(&self, b: usize, w: &[f64]) -> (f64, Vec<f64>) {
        let n = self.y.len();
        let mut g = vec![0.0; self.dim()];
        let mut z = vec![0.0; self.k_out];
        let l = self.accumulate(b * BLOCK..((b + 1) * BLOCK).min(n), w, &mut g, &mut z);
        (l, g)
    }

    /// The penalty's value, added to `grad`.
    pub fn add_penalty(&self, w: &[f64], grad: &mut [f64]) -> f64 {
        if self.l2 == 0.0 {
            return 0.0;
        }
        let (p, p1) = (self.p, self.p1());
        let mut sq = 0.0;
        for k in 0..self.k_out {
            for j in 0..p {
                let v = w[k * p1 + j];
                sq += v * v;
                grad[k * p1 + j] += self.l2 * v;
            }
        }
        0.5 * self.l2 * sq
    }
}

impl Objective for LogisticLoss<'_> {
    fn value_grad(&mut self, w: &[f64], grad: &mut [f64]) -> f64 {
        self.evals += 1;
        let n = self.y.len();
        let n_blocks = n.div_ceil(BLOCK);
        grad.fill(0.0);
        let mut loss = 0.0;
        let this = &*self;
        if let Some(pool) = self.pool {
            let parts: Vec<(f64, Vec<f64>)> = pool.install(|| {
                (0..n_blocks)
                    .into_par_iter()
                    .map(|b| this.block(b, w))
                    .collect()
            });
            for (l, g) in parts {
                loss += l;
                for (a, b) in grad.iter_mut().zip(&g) {
                    *a += b;
                }
            }
        } else {
            let mut g = vec![0.0; self.dim()];
            let mut z = vec![0.0; self.k_out];
            for b in 0..n_blocks {
                g.fill(0.0);
                loss += this.accumulate(b * BLOCK..((b + 1) * BLOCK).min(n), w, &mut g, &mut z);
                for (a, b) in grad.iter_mut().zip(&g) {
                    *a += b;
                }
            }
        }
        loss *= self.inv_s;
        for v in grad.iter_mut() {
            *v *= self.inv_s;
        }
        loss + self.add_penalty(w, grad)
    }
}

/// The decision values `x · coefᵀ + intercept` of a model, `n × k_out`.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub fn decision(
    x: ArrayView2<'_, f64>,
    coef: ArrayView2<'_, f64>,
    intercept: &[f64],
) -> ndarray::Array2<f64> {
    if coef.nrows() == 1 {
        let c: Vec<f64> = coef.row(0).to_vec();
        let mut z = crate::optim::mat_vec(x, &c);
        z += intercept.first().copied().unwrap_or(0.0);
        return z.insert_axis(ndarray::Axis(1));
    }
    let mut z = x.dot(&coef.t());
    for mut row in z.rows_mut() {
        for (v, b) in row.iter_mut().zip(intercept) {
            *v += b;
        }
    }
    z
}
