//! Limited-memory BFGS with a strong-Wolfe line search, and its orthant-wise extension OWL-QN
//! (Andrew & Gao, 2007) for objectives with an added weighted L1 term `Σ λⱼ |xⱼ|`.
//!
//! The search direction comes from the two-loop recursion over the last `m` pairs
//! `(s, y)`. Without an L1 term, steps satisfy the strong Wolfe conditions (`c1 = 1e-4`,
//! `c2 = 0.9`; bracketing and zoom with safeguarded quadratic/cubic interpolation, after
//! Nocedal & Wright, algorithms 3.5 and 3.6). With an L1 term, OWL-QN uses the pseudo-gradient,
//! restricts the direction to the current orthant and backtracks with projection.
//!
//! Stops when the largest component of the (pseudo-)gradient is at most `gtol`, or when the
//! objective's relative decrease `(f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)` is at most `ftol`
//! (the two tests of SciPy's L-BFGS-B, which scikit-learn calls with `gtol = tol`,
//! `ftol = 64 ε`).

/// A differentiable objective.
pub trait Objective {
    /// Writes the gradient at `x` into `grad` and returns the value.
    fn value_grad(&mut self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// Options of [`minimize`].
#[derive(Debug, Clone)]
pub struct LbfgsOptions {
    /// Number of correction pairs kept.
    pub memory: usize,
    /// Iteration limit.
    pub max_iter: usize,
    /// Gradient (max-abs) tolerance.
    pub gtol: f64,
    /// Relative-decrease tolerance.
    pub ftol: f64,
    /// Per-coordinate L1 weights (OWL-QN), or empty for plain L-BFGS.
    pub l1: Vec<f64>,
    /// Line-search evaluation limit per iteration.
    pub max_linesearch: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        Self {
            memory: 10,
            max_iter: 100,
            gtol: 1e-4,
            ftol: 64.0 * f64::EPSILON,
            l1: Vec::new(),
            max_linesearch: 50,
        }
    }
}

/// The outcome of [`minimize`].
#[derive(Debug, Clone)]
pub struct LbfgsResult {
    /// The minimiser found.
    pub x: Vec<f64>,
    /// The objective there (including the L1 term).
    pub f: f64,
    /// Iterations used.
    pub iterations: usize,
    /// The largest component of the (pseudo-)gradient there.
    pub grad_max: f64,
    /// Whether a stopping test was met (rather than the iteration limit or a failed line search).
    pub converged: bool,
    /// Why it stopped, for a person.
    pub message: String,
}

fn pseudo_gradient(x: &[f64], g: &[f64], l1: &[f64], out: &mut [f64]) {
    for j in 0..x.len() {
        let lam = l1.get(j).copied().unwrap_or(0.0);
        out[j] = if lam == 0.0 {
            g[j]
        } else if x[j] > 0.0 {
            g[j] + lam
        } else if x[j] < 0.0 {
            g[j] - lam
        } else if g[j] + lam < 0.0 {
            g[j] + lam
        } else if g[j] - lam > 0.0 {
            g[j] - lam
        } else {
            0.0
        };
    }
}

fn l1_term(x: &[f64], l1: &[f64]) -> f64 {
    x.iter().zip(l1).map(|(v, l)| v.abs() * l).sum()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, b| a.max(b.abs()))
}

fn dotv(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `obj(x) + Σ l1ⱼ |xⱼ|` from `x0`. `on_iter(iteration, f, grad_max)` is called after
/// each iteration; an error from it stops the run and is returned.
#[allow(
    clippy::too_many_lines,
    reason = "one iteration of the two-loop recursion reads best as a whole"
)]
pub fn minimize<O: Objective, E>(
    obj: &mut O,
    x0: Vec<f64>,
    opts: &LbfgsOptions,
    mut on_iter: impl FnMut(usize, f64, f64) -> Result<(), E>,
) -> Result<LbfgsResult, E> {
    let n = x0.len();
    let owl = opts.l1.iter().any(|&l| l > 0.0);
    let l1: Vec<f64> = if owl { opts.l1.clone() } else { Vec::new() };
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut f = obj.value_grad(&x, &mut g) + l1_term(&x, &l1);
    let mut pg = vec![0.0; n];
    pseudo_gradient(&x, &g, &l1, &mut pg);
    let m = opts.memory.max(1);
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut rho_hist: Vec<f64> = Vec::with_capacity(m);
    let mut alpha_buf = vec![0.0; m];
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut iterations = 0;
    let mut gmax = max_abs(&pg);
    if !f.is_finite() {
        return Ok(LbfgsResult {
            x,
            f,
            iterations,
            grad_max: gmax,
            converged: false,
            message: "the objective is not finite at the starting point".into(),
        });
    }
    if gmax <= opts.gtol {
        return Ok(LbfgsResult {
            x,
            f,
            iterations,
            grad_max: gmax,
            converged: true,
            message: "the gradient is below gtol".into(),
        });
    }
    let mut converged = false;
    let mut message = String::from("reached the iteration limit");
    while iterations < opts.max_iter {
        // Two-loop recursion: d = -H pg.
        for j in 0..n {
            d[j] = -pg[j];
        }
        let k = s_hist.len();
        for i in (0..k).rev() {
            let a = rho_hist[i] * dotv(&s_hist[i], &d);
            alpha_buf[i] = a;
            for j in 0..n {
                d[j] -= a * y_hist[i][j];
            }
        }
        if k > 0 {
            let yy = dotv(&y_hist[k - 1], &y_hist[k - 1]);
            let gamma = 1.0 / (rho_hist[k - 1] * yy);
            for v in &mut d {
                *v *= gamma;
            }
        }
        for i in 0..k {
            let b = rho_hist[i] * dotv(&y_hist[i], &d);
            let c = alpha_buf[i] - b;
            for j in 0..n {
                d[j] += c * s_hist[i][j];
            }
        }
        if owl {
            for j in 0..n {
                if d[j] * pg[j] >= 0.0 {
                    d[j] = 0.0;
                }
            }
        }
        let mut dg = dotv(&d, &pg);
        if dg >= 0.0 || !dg.is_finite() {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            for j in 0..n {
                d[j] = -pg[j];
            }
            dg = dotv(&d, &pg);
        }
        let step0 = if k == 0 {
            (1.0 / max_abs(&pg).max(f64::MIN_POSITIVE)).min(1.0)
        } else {
            1.0
        };
        let found = if owl {
            backtrack_owl(
                obj,
                &x,
                f,
                &pg,
                &d,
                &l1,
                step0,
                opts.max_linesearch,
                &mut x_new,
                &mut g_new,
            )
        } else {
            strong_wolfe(
                obj,
                &x,
                f,
                dg,
                &d,
                step0,
                opts.max_linesearch,
                &mut x_new,
                &mut g_new,
            )
        };
        let Some(f_new) = found else {
            message =
                "the line search found no decrease (the objective is flat to rounding)".into();
            converged = gmax <= opts.gtol.max(1e-8) * 1e2;
            break;
        };
        iterations += 1;
        let mut s = vec![0.0; n];
        let mut y = vec![0.0; n];
        for j in 0..n {
            s[j] = x_new[j] - x[j];
            y[j] = g_new[j] - g[j];
        }
        let sy = dotv(&s, &y);
        if sy > 1e-10 * dotv(&y, &y).max(f64::MIN_POSITIVE).sqrt() * dotv(&s, &s).sqrt() {
            if s_hist.len() == m {
                s_hist.remove(0);
                y_hist.remove(0);
                rho_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho_hist.push(1.0 / sy);
        }
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        let f_old = f;
        f = f_new;
        pseudo_gradient(&x, &g, &l1, &mut pg);
        gmax = max_abs(&pg);
        on_iter(iterations, f, gmax)?;
        if gmax <= opts.gtol {
            converged = true;
            message = "the gradient is below gtol".into();
            break;
        }
        if (f_old - f) <= opts.ftol * f_old.abs().max(f.abs()).max(1.0) {
            converged = true;
            message = "the relative decrease of the objective is below ftol".into();
            break;
        }
    }
    Ok(LbfgsResult {
        x,
        f,
        iterations,
        grad_max: gmax,
        converged,
        message,
    })
}

/// OWL-QN's projected backtracking: `x⁺ = π(x + t d)` zeroing coordinates that leave the
/// orthant, accepted when `F(x⁺) ≤ F(x) + 1e-4 · pgᵀ(x⁺ − x)`.
#[allow(clippy::too_many_arguments)]
fn backtrack_owl<O: Objective>(
    obj: &mut O,
    x: &[f64],
    f: f64,
    pg: &[f64],
    d: &[f64],
    l1: &[f64],
    mut t: f64,
    max_ls: usize,
    x_new: &mut [f64],
    g_new: &mut [f64],
) -> Option<f64> {
    let n = x.len();
    for _ in 0..max_ls {
        for j in 0..n {
            let orthant = if x[j] == 0.0 {
                -pg[j].signum()
            } else {
                x[j].signum()
            };
            let v = x[j] + t * d[j];
            x_new[j] = if v * orthant > 0.0 { v } else { 0.0 };
        }
        let f_new = obj.value_grad(x_new, g_new) + l1_term(x_new, l1);
        let mut dec = 0.0;
        for j in 0..n {
            dec += pg[j] * (x_new[j] - x[j]);
        }
        if f_new.is_finite() && f_new <= f + 1e-4 * dec {
            return Some(f_new);
        }
        t *= 0.5;
    }
    None
}

/// A step satisfying the strong Wolfe conditions along `d`, written to `x_new`/`g_new`.
#[allow(clippy::too_many_arguments)]
fn strong_wolfe<O: Objective>(
    obj: &mut O,
    x: &[f64],
    f0: f64,
    dg0: f64,
    d: &[f64],
    step0: f64,
    max_ls: usize,
    x_new: &mut [f64],
    g_new: &mut [f64],
) -> Option<f64> {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    let mut eval = |t: f64, x_new: &mut [f64], g_new: &mut [f64]| -> (f64, f64) {
        for j in 0..x.len() {
            x_new[j] = x[j] + t * d[j];
        }
        let f = obj.value_grad(x_new, g_new);
        (f, dotv(g_new, d))
    };
    let (mut t_prev, mut f_prev, mut dg_prev) = (0.0, f0, dg0);
    let mut t = step0;
    let mut evals = 0;
    // Bracketing phase.
    let (mut lo, mut hi, mut f_lo, mut f_hi, mut dg_lo, mut dg_hi);
    loop {
        let (ft, dgt) = eval(t, x_new, g_new);
        evals += 1;
        if !ft.is_finite() {
            // Shrink into the finite region.
            t = 0.5 * (t_prev + t);
            if evals >= max_ls {
                return None;
            }
            continue;
        }
        if ft > f0 + C1 * t * dg0 || (evals > 1 && ft >= f_prev) {
            (lo, hi, f_lo, f_hi, dg_lo, dg_hi) = (t_prev, t, f_prev, ft, dg_prev, dgt);
            break;
        }
        if dgt.abs() <= -C2 * dg0 {
            return Some(ft);
        }
        if dgt >= 0.0 {
            (lo, hi, f_lo, f_hi, dg_lo, dg_hi) = (t, t_prev, ft, f_prev, dgt, dg_prev);
            break;
        }
        if evals >= max_ls {
            return Some(ft);
        }
        (t_prev, f_prev, dg_prev) = (t, ft, dgt);
        t *= 2.0;
    }
    // Zoom phase.
    let mut best: Option<(f64, f64)> = (f_lo < f0).then_some((lo, f_lo));
    while evals < max_ls {
        let t = interpolate(lo, f_lo, dg_lo, hi, f_hi, dg_hi);
        let (ft, dgt) = eval(t, x_new, g_new);
        evals += 1;
        if !ft.is_finite() || ft > f0 + C1 * t * dg0 || ft >= f_lo {
            (hi, f_hi, dg_hi) = (t, ft, dgt);
        } else {
            if dgt.abs() <= -C2 * dg0 {
                return Some(ft);
            }
            if dgt * (hi - lo) >= 0.0 {
                (hi, f_hi, dg_hi) = (lo, f_lo, dg_lo);
            }
            (lo, f_lo, dg_lo) = (t, ft, dgt);
            best = Some((t, ft));
        }
        if (hi - lo).abs() <= 1e-14 * lo.abs().max(1e-300) {
            break;
        }
    }
    // Accept the best sufficient-decrease point found, if any.
    let (t, _) = best?;
    let (ft, _) = eval(t, x_new, g_new);
    (ft < f0).then_some(ft)
}

/// A trial step inside `[lo, hi]` by cubic interpolation, safeguarded to the middle 80 %
/// (bisection when the cubic is unusable).
fn interpolate(lo: f64, f_lo: f64, dg_lo: f64, hi: f64, f_hi: f64, dg_hi: f64) -> f64 {
    let (a, b) = if lo < hi { (lo, hi) } else { (hi, lo) };
    let width = b - a;
    let mut t = f64::NAN;
    if f_hi.is_finite() && dg_hi.is_finite() {
        let d1 = dg_lo + dg_hi - 3.0 * (f_lo - f_hi) / (lo - hi);
        let disc = d1 * d1 - dg_lo * dg_hi;
        if disc >= 0.0 {
            let d2 = (hi - lo).signum() * disc.sqrt();
            t = hi - (hi - lo) * (dg_hi + d2 - d1) / (dg_hi - dg_lo + 2.0 * d2);
        }
    }
    if !t.is_finite() || t < a + 0.1 * width || t > b - 0.1 * width {
        t = 0.5 * (a + b);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rosenbrock function.
    struct Rosen;
    impl Objective for Rosen {
        fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        }
    }

    /// A quadratic `½ Σ cⱼ (xⱼ − tⱼ)²`.
    struct Quad(Vec<f64>, Vec<f64>);
    impl Objective for Quad {
        fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
            let mut f = 0.0;
            for j in 0..x.len() {
                let r = x[j] - self.1[j];
                g[j] = self.0[j] * r;
                f += 0.5 * self.0[j] * r * r;
            }
            f
        }
    }

    #[test]
    fn lbfgs_finds_the_rosenbrock_minimum() {
        let opts = LbfgsOptions {
            max_iter: 500,
            gtol: 1e-10,
            ftol: 0.0,
            ..LbfgsOptions::default()
        };
        let r = minimize(&mut Rosen, vec![-1.2, 1.0], &opts, |_, _, _| {
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(r.converged, "{}", r.message);
        assert!(
            (r.x[0] - 1.0).abs() < 1e-8 && (r.x[1] - 1.0).abs() < 1e-8,
            "{:?}",
            r.x
        );
    }

    #[test]
    fn owlqn_soft_thresholds_a_separable_quadratic() {
        // argmin ½ c (x − t)² + λ|x| = soft(t, λ/c).
        let c = vec![1.0, 2.0, 4.0, 1.0];
        let t = vec![3.0, -0.2, 1.0, -2.0];
        let lam = vec![1.0, 1.0, 1.0, 0.0];
        let opts = LbfgsOptions {
            max_iter: 200,
            gtol: 1e-12,
            ftol: 0.0,
            l1: lam.clone(),
            ..LbfgsOptions::default()
        };
        let r = minimize(
            &mut Quad(c.clone(), t.clone()),
            vec![0.0; 4],
            &opts,
            |_, _, _| Ok::<(), ()>(()),
        )
        .unwrap();
        for j in 0..4 {
            let th = lam[j] / c[j];
            let want = if t[j] > th {
                t[j] - th
            } else if t[j] < -th {
                t[j] + th
            } else {
                0.0
            };
            assert!((r.x[j] - want).abs() < 1e-9, "{j}: {} vs {want}", r.x[j]);
        }
    }
}
