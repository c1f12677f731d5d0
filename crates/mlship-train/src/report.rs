//! What a fit reports besides the model: iterations, convergence and warnings.

use serde::{Deserialize, Serialize};

/// Diagnostics of one fit, for the caller to print or record.
///
/// A fit that stops at its iteration limit still returns its model, with `converged = false` and
/// a warning in `warnings`: not a silent result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// The solver that ran (`"lbfgs"`, `"owlqn"`, `"newton"`, `"sgd"`, `"cd"`, `"cholesky"`,
    /// `"cg"`, `"lstsq"`).
    pub solver: String,
    /// Iterations (or epochs, for SGD) used.
    pub iterations: usize,
    /// Whether the stopping criterion was met.
    pub converged: bool,
    /// Objective (loss and gradient) evaluations, for the iterative logistic solvers.
    pub evaluations: usize,
    /// The final objective value, in the estimator's documented scaling.
    pub objective: Option<f64>,
    /// The final gradient norm (max-abs of the projected gradient, or the duality gap for
    /// coordinate descent), when the solver has one.
    pub gradient_norm: Option<f64>,
    /// The numerical rank of the design matrix, for least squares.
    pub rank: Option<usize>,
    /// Problems the caller should show the user (not converged, rank deficient, …).
    pub warnings: Vec<String>,
}

impl FitReport {
    /// A report for a solver, with nothing measured yet.
    pub fn new(solver: &str) -> Self {
        Self {
            solver: solver.to_owned(),
            iterations: 0,
            evaluations: 0,
            converged: true,
            objective: None,
            gradient_norm: None,
            rank: None,
            warnings: Vec::new(),
        }
    }

    /// Records a failure to converge within `max_iter`, with a hint.
    pub fn not_converged(&mut self, max_iter: usize, hint: &str) {
        self.converged = false;
        self.warnings.push(format!(
            "{} did not converge in {max_iter} iterations\nhint: {hint}",
            self.solver
        ));
    }
}
