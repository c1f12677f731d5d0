//! Newton's method for L2-penalised (or unpenalised) logistic regression: the full Hessian,
//! a Cholesky solve and backtracking. For few features: each iteration costs `O(n d²)` with
//! `d` parameters.

use mlship_core::traits::{FitContext, Progress};
use ndarray::Array2;

use super::LogisticParams;
use super::loss::{LogisticLoss, sigmoid};
use crate::error::{Result, TrainError};
use crate::optim::Objective;
use crate::report::FitReport;

/// The Hessian of the (scaled) objective at `w`, `d × d`.
fn hessian(loss: &LogisticLoss<'_>, w: &[f64]) -> Array2<f64> {
    let (p, p1, d, k_out) = (loss.p, loss.p1(), loss.dim(), loss.k_out);
    let mut h = vec![0.0; d * d];
    let mut xt = vec![0.0; p1];
    let mut prob = vec![0.0; k_out];
    let n = loss.y.len();
    for i in 0..n {
        let si = loss.s[i] * loss.inv_s;
        if si == 0.0 {
            continue;
        }
        xt[..p].copy_from_slice(&loss.x[i * p..(i + 1) * p]);
        if loss.fit_intercept {
            xt[p] = 1.0;
        }
        for k in 0..k_out {
            prob[k] = crate::optim::dot(&xt, &w[k * p1..(k + 1) * p1]);
        }
        if k_out == 1 {
            let q = sigmoid(prob[0]);
            prob[0] = q;
        } else {
            let m = prob.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let mut sum = 0.0;
            for v in &mut prob {
                *v = (*v - m).exp();
                sum += *v;
            }
            for v in &mut prob {
                *v /= sum;
            }
        }
        for k in 0..k_out {
            for l in 0..k_out {
                let c = if k_out == 1 {
                    si * prob[0] * (1.0 - prob[0])
                } else {
                    si * (if k == l { prob[k] } else { 0.0 } - prob[k] * prob[l])
                };
                if c == 0.0 {
                    continue;
                }
                for a in 0..p1 {
                    let ca = c * xt[a];
                    let off = (k * p1 + a) * d + l * p1;
                    crate::optim::axpy(ca, &xt, &mut h[off..off + p1]);
                }
            }
        }
    }
    for k in 0..k_out {
        for j in 0..p {
            let i = k * p1 + j;
            h[i * d + i] += loss.l2;
        }
    }
    Array2::from_shape_vec((d, d), h).unwrap_or_else(|_| Array2::zeros((d, d)))
}

pub(super) fn solve(
    loss: &mut LogisticLoss<'_>,
    mut w: Vec<f64>,
    params: &LogisticParams,
    ctx: &FitContext<'_>,
) -> Result<(Vec<f64>, FitReport)> {
    let d = loss.dim();
    let mut g = vec![0.0; d];
    let mut f = loss.value_grad(&w, &mut g);
    let mut report = FitReport::new("newton");
    let mut w_new = vec![0.0; d];
    let mut g_new = vec![0.0; d];
    let gmax = |g: &[f64]| g.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let mut converged = gmax(&g) <= params.tol;
    while !converged && report.iterations < params.max_iter {
        ctx.check_deadline("fitting logistic regression by Newton's method")?;
        let mut h = hessian(loss, &w);
        let neg_g = ndarray::Array1::from_iter(g.iter().map(|v| -v));
        let scale = (0..d).map(|i| h[[i, i]]).fold(0.0f64, f64::max).max(1e-300);
        let mut jitter = 0.0;
        let step = loop {
            if let Some(s) = crate::linalg::cholesky_solve(h.view(), neg_g.view()) {
                break s;
            }
            let add = if jitter == 0.0 {
                scale * 1e-10
            } else {
                jitter * 9.0
            };
            for i in 0..d {
                h[[i, i]] += add;
            }
            jitter += add;
            if jitter > scale {
                return Err(TrainError::data(
                    "the Hessian is not positive definite\nhint: use solver = \"lbfgs\"",
                ));
            }
        };
        let slope: f64 = step.iter().zip(&g).map(|(a, b)| a * b).sum();
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..50 {
            for i in 0..d {
                w_new[i] = w[i] + t * step[i];
            }
            let f_new = loss.value_grad(&w_new, &mut g_new);
            if f_new.is_finite() && f_new <= f + 1e-4 * t * slope {
                accepted = Some(f_new);
                break;
            }
            t *= 0.5;
        }
        let Some(f_new) = accepted else {
            report.warnings.push(
                "the Newton line search found no decrease; the objective is flat to rounding"
                    .into(),
            );
            break;
        };
        report.iterations += 1;
        std::mem::swap(&mut w, &mut w_new);
        std::mem::swap(&mut g, &mut g_new);
        f = f_new;
        converged = gmax(&g) <= params.tol;
        ctx.report(&Progress {
            stage: "newton".into(),
            done: report.iterations as u64,
            total: Some(params.max_iter as u64),
            loss: Some(f),
        });
    }
    report.objective = Some(f);
    report.gradient_norm = Some(gmax(&g));
    if !converged {
        report.not_converged(params.max_iter, "raise max_iter or use solver = \"lbfgs\"");
    }
    Ok((w, report))
}
