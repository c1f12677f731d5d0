//! Mini-batch stochastic gradient descent for logistic regression, with learning-rate
//! schedules, heavy-ball momentum, a proximal L1 step and early stopping.
//!
//! Each mini-batch step uses the batch's weighted mean gradient plus the L2 term:
//! `v ← μ v − η_t g`, `w ← w + v`, then (with an L1 share) `wⱼ ← soft(wⱼ, η_t λ₁)` on the
//! coefficients. After each epoch the monitored loss — the validation log-loss with early
//! stopping, the training objective otherwise — is compared with its best value; after
//! `n_iter_no_change` epochs without an improvement of `tol`, the fit stops (converged). With
//! early stopping the best weights are kept.

use mlship_core::rng::Rng;
use mlship_core::traits::{FitContext, Progress};

use super::loss::LogisticLoss;
use super::{LogisticParams, Prepared};
use crate::data::check_finite;
use crate::error::{Result, TrainError};
use crate::optim::Objective;
use crate::report::FitReport;

/// Where the validation loss comes from.
enum Validation<'a> {
    /// Held-out rows of the training data.
    Rows(Vec<usize>),
    /// The fit context's eval set.
    Other(LogisticLoss<'a>),
}

fn soft(x: f64, t: f64) -> f64 {
    if x > t {
        x - t
    } else if x < -t {
        x + t
    } else {
        0.0
    }
}

#[allow(clippy::too_many_lines)]
pub(super) fn solve(
    loss: &mut LogisticLoss<'_>,
    mut w: Vec<f64>,
    l1: f64,
    params: &LogisticParams,
    ctx: &FitContext<'_>,
    prep: &Prepared<'_>,
) -> Result<(Vec<f64>, FitReport)> {
    let n = loss.y.len();
    let (p, p1, d) = (loss.p, loss.p1(), loss.dim());
    let mut rng = Rng::new(ctx.seed);
    // The eval set's rows, kept alive for the validation loss.
    let eval_rows;
    let eval_y: Vec<usize>;
    let mut train: Vec<usize> = (0..n).collect();
    let mut validation = None;
    if params.early_stopping {
        if let Some(eval) = ctx.eval_set {
            let x = eval.x().as_standard_layout().into_owned();
            check_finite(x.view(), eval.features())?;
            let y = eval
                .y()
                .ok_or_else(|| TrainError::data("the eval set has no target"))?;
            eval_y = y.iter().map(|&v| v as usize).collect();
            if eval_y.iter().any(|&c| c >= prep.task.n_classes()) || x.ncols() != p {
                return Err(TrainError::data(
                    "the eval set's classes or features do not match the training data",
                ));
            }
            let ew: Vec<f64> = (0..eval.n_rows()).map(|i| eval.weight(i)).collect();
            eval_rows = (x, ew);
            let s_sum: f64 = eval_rows.1.iter().sum();
            validation = Some(Validation::Other(LogisticLoss {
                x: eval_rows.0.as_slice().unwrap_or(&[]),
                p,
                y: &eval_y,
                s: &eval_rows.1,
                inv_s: 1.0 / s_sum.max(f64::MIN_POSITIVE),
                k_out: loss.k_out,
                fit_intercept: loss.fit_intercept,
                l2: 0.0,
                pool: None,
                evals: 0,
            }));
        } else {
            let mut perm = rng.permutation(n);
            let n_val = ((n as f64 * params.validation_fraction).ceil() as usize).clamp(1, n - 1);
            if n < 2 {
                return Err(TrainError::data("early stopping needs at least two rows"));
            }
            let val = perm.split_off(n - n_val);
            train = perm;
            validation = Some(Validation::Rows(val));
        }
    }
    let monitored = |loss: &mut LogisticLoss<'_>,
                     validation: &mut Option<Validation<'_>>,
                     w: &[f64],
                     g: &mut [f64],
                     z: &mut [f64]|
     -> f64 {
        match validation {
            None => {
                let mut f = loss.value_grad(w, g);
                if l1 > 0.0 {
                    for k in 0..loss.k_out {
                        f += l1 * w[k * p1..k * p1 + p].iter().map(|v| v.abs()).sum::<f64>();
                    }
                }
                f
            }
            Some(Validation::Rows(idx)) => {
                g.fill(0.0);
                let l = loss.accumulate(idx.iter().copied(), w, g, z);
                let s: f64 = idx.iter().map(|&i| loss.s[i]).sum();
                l / s.max(f64::MIN_POSITIVE)
            }
            Some(Validation::Other(v)) => {
                let mut gg = vec![0.0; g.len()];
                v.value_grad(w, &mut gg)
            }
        }
    };
    let mut velocity = vec![0.0; d];
    let mut g = vec![0.0; d];
    let mut z = vec![0.0; loss.k_out];
    let mut best = f64::INFINITY;
    let mut best_w = w.clone();
    let mut no_improve = 0;
    let mut report = FitReport::new("sgd");
    report.converged = false;
    let mut last = f64::NAN;
    for epoch in 0..params.max_iter {
        ctx.check_deadline("fitting logistic regression by SGD")?;
        let lr = params.schedule.rate(params.learning_rate, epoch);
        if params.shuffle {
            rng.shuffle(&mut train);
        }
        for batch in train.chunks(params.batch_size) {
            g.fill(0.0);
            loss.accumulate(batch.iter().copied(), &w, &mut g, &mut z);
            let sb: f64 = batch.iter().map(|&i| loss.s[i]).sum();
            if sb <= 0.0 {
                continue;
            }
            for v in &mut g {
                *v /= sb;
            }
            loss.add_penalty(&w, &mut g);
            for i in 0..d {
                velocity[i] = params.momentum * velocity[i] - lr * g[i];
                w[i] += velocity[i];
            }
            if l1 > 0.0 {
                for k in 0..loss.k_out {
                    for v in &mut w[k * p1..k * p1 + p] {
                        *v = soft(*v, lr * l1);
                    }
                }
            }
        }
        let m = monitored(loss, &mut validation, &w, &mut g, &mut z);
        if !m.is_finite() {
            return Err(TrainError::data(format!(
                "SGD diverged at epoch {epoch} (loss {m})\nhint: lower learning_rate or standardise the features"
            )));
        }
        last = m;
        report.iterations = epoch + 1;
        ctx.report(&Progress {
            stage: "epochs".into(),
            done: (epoch + 1) as u64,
            total: Some(params.max_iter as u64),
            loss: Some(m),
        });
        if m < best - params.tol {
            no_improve = 0;
        } else {
            no_improve += 1;
        }
        if m < best {
            best = m;
            best_w.clone_from(&w);
        }
        if no_improve >= params.n_iter_no_change {
            report.converged = true;
            break;
        }
    }
    if params.early_stopping {
        w = best_w;
        report.objective = Some(best);
    } else {
        report.objective = Some(last);
    }
    if !report.converged {
        let max_iter = params.max_iter;
        report.converged = true;
        report.not_converged(
            max_iter,
            "raise max_iter, or adjust learning_rate and schedule",
        );
    }
    Ok((w, report))
}
