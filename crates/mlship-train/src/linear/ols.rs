//! Ordinary least squares (scikit-learn's `LinearRegression`).

use mlship_core::DatasetView;
use mlship_core::traits::{Estimator, FitContext, Model};
use serde::{Deserialize, Serialize};

use super::{Centred, LinearModel};
use crate::data::{collect, require_regression};
use crate::error::{Result, TrainError};
use crate::report::FitReport;

/// Parameters of ordinary least squares: minimise `Σ wᵢ (yᵢ − xᵢ·β − b)²`.
///
/// Solved by a thin SVD of the centred, weight-scaled design (scikit-learn uses LAPACK's
/// `gelsd`): a rank-deficient design, including one with more features than rows, gets the
/// minimum-norm solution, as in scikit-learn, and the report says so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearRegressionParams {
    /// Fit an intercept (on centred data); otherwise the model passes through the origin.
    pub fit_intercept: bool,
}

impl Default for LinearRegressionParams {
    fn default() -> Self {
        Self {
            fit_intercept: true,
        }
    }
}

impl LinearRegressionParams {
    /// The validated estimator (every value is valid).
    pub fn validate(&self) -> Result<LinearRegression> {
        Ok(LinearRegression {
            params: self.clone(),
        })
    }
}

/// Validated ordinary least squares.
#[derive(Debug, Clone)]
pub struct LinearRegression {
    params: LinearRegressionParams,
}

impl LinearRegression {
    /// The parameters.
    pub fn params(&self) -> &LinearRegressionParams {
        &self.params
    }

    /// Fits and reports the numerical rank.
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> Result<(LinearModel, FitReport)> {
        require_regression(data.task(), "linear_regression")?;
        ctx.check_deadline("fitting least squares")?;
        let rows = collect(data)?;
        let c = Centred::new(&rows, self.params.fit_intercept);
        let (coef, rank) = crate::linalg::lstsq_min_norm(c.xs.view(), c.ys.view())
            .ok_or_else(|| TrainError::data("the SVD of the design matrix did not converge"))?;
        let mut report = FitReport::new("lstsq");
        report.iterations = 1;
        report.rank = Some(rank);
        let p = rows.x.ncols();
        if rank < p {
            report.warnings.push(format!(
                "the design matrix has rank {rank} < {p} features (collinear columns{}); the minimum-norm solution was returned\nhint: ridge regression gives a unique, stable solution",
                if rows.x.nrows() <= p { ", or no more rows than features" } else { "" }
            ));
        }
        let resid = &c.ys - &crate::optim::mat_vec(c.xs.view(), coef.as_slice().unwrap_or(&[]));
        report.objective = Some(resid.dot(&resid));
        Ok((c.model(coef)?, report))
    }
}

impl Estimator for LinearRegression {
    fn name(&self) -> &'static str {
        "linear_regression"
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx)?.0))
    }
}
