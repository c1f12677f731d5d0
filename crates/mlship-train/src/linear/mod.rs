//! Least-squares regression: ordinary ([`ols`]), ridge ([`ridge`]), lasso and elastic net
//! ([`enet`]), all producing a [`LinearModel`].

pub mod enet;
pub mod ols;
pub mod ridge;

use mlship_core::traits::Model;
use mlship_core::{Error as CoreError, Task};
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::Rows;
use crate::error::{Result, TrainError};

/// A fitted linear regression: `ŷ = x · coef + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    coef: Vec<f64>,
    intercept: f64,
}

impl LinearModel {
    /// A model from its coefficients and intercept, which must be finite.
    pub fn new(coef: Vec<f64>, intercept: f64) -> Result<Self> {
        if coef.is_empty() {
            return Err(TrainError::Corrupt(
                "a linear model needs at least one coefficient".into(),
            ));
        }
        if let Some((j, v)) = coef.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(TrainError::Corrupt(format!("coefficient {j} is {v}")));
        }
        if !intercept.is_finite() {
            return Err(TrainError::Corrupt(format!("the intercept is {intercept}")));
        }
        Ok(Self { coef, intercept })
    }

    /// The coefficients, one per feature (scikit-learn's `coef_`).
    pub fn coef(&self) -> &[f64] {
        &self.coef
    }

    /// The intercept (`intercept_`; 0 without one).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Checks a stored model (finite values, at least one coefficient).
    pub(crate) fn validated(self) -> Result<Self> {
        Self::new(self.coef, self.intercept)
    }
}

/// Finds the first non-finite value of `x` after a prediction came out non-finite.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub(crate) fn locate_non_finite(x: ArrayView2<'_, f64>) -> CoreError {
    for (row, r) in x.outer_iter().enumerate() {
        if let Some((j, v)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return CoreError::invalid_data(format!(
                "feature column {j} row {row}: {v} is not a finite number\nhint: impute missing values before predicting"
            ));
        }
    }
    CoreError::invalid_data("the prediction overflowed: inputs are too large for the model")
}

static REGRESSION: Task = Task::Regression;

impl Model for LinearModel {
    fn task(&self) -> &Task {
        &REGRESSION
    }

    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> mlship_core::Result<Array1<f64>> {
        self.check_input(x)?;
        let mut out = crate::optim::mat_vec(x, &self.coef);
        out += self.intercept;
        if out.iter().all(|v| v.is_finite()) {
            Ok(out)
        } else {
            Err(locate_non_finite(x))
        }
    }
}

/// Rows centred on their weighted means and scaled by the square roots of the weights, so that
/// weighted least squares becomes ordinary least squares (scikit-learn's `_preprocess_data`
/// followed by `_rescale_data`).
#[derive(Debug, Clone)]
pub(crate) struct Centred {
    /// `sqrt(w) · (x − x̄)`, row-major (`n × p`), or its columns (`p × n`) from
    /// [`Centred::new_columns`].
    pub xs: Array2<f64>,
    /// `sqrt(w) · (y − ȳ)`.
    pub ys: Array1<f64>,
    /// Weighted feature means (zeros without an intercept).
    pub x_mean: Array1<f64>,
    /// Weighted target mean (0 without an intercept).
    pub y_mean: f64,
    /// Sum of the weights.
    pub w_sum: f64,
}

impl Centred {
    pub fn new(rows: &Rows<'_>, fit_intercept: bool) -> Self {
        let (n, p) = rows.x.dim();
        let w_sum = rows.w.sum();
        let w = rows
            .w
            .as_slice()
            .map_or_else(|| rows.w.to_vec(), <[f64]>::to_vec);
        let (x_mean, y_mean) = if fit_intercept {
            let xm = crate::optim::mat_t_vec(rows.x.view(), &w) / w_sum;
            (xm, rows.w.dot(&rows.y) / w_sum)
        } else {
            (Array1::zeros(p), 0.0)
        };
        let mut xs = vec![0.0; n * p];
        let xm = x_mean.to_vec();
        match rows.x.as_slice() {
            Some(src) if p > 0 => {
                for ((out, row), &wi) in xs.chunks_exact_mut(p).zip(src.chunks_exact(p)).zip(&w) {
                    let sw = if rows.weighted { wi.sqrt() } else { 1.0 };
                    for ((o, v), m) in out.iter_mut().zip(row).zip(&xm) {
                        *o = (v - m) * sw;
                    }
                }
            }
            _ => {
                for ((out, row), &wi) in xs.chunks_exact_mut(p.max(1)).zip(rows.x.rows()).zip(&w) {
                    let sw = if rows.weighted { wi.sqrt() } else { 1.0 };
                    for ((o, v), m) in out.iter_mut().zip(row).zip(&xm) {
                        *o = (v - m) * sw;
                    }
                }
            }
        }
        let xs = Array2::from_shape_vec((n, p), xs).unwrap_or_else(|_| Array2::zeros((n, p)));
        let mut ys = &rows.y - y_mean;
        if rows.weighted {
            let sw = rows.w.mapv(f64::sqrt);
            ys *= &sw;
        }
        Self {
            xs,
            ys,
            x_mean,
            y_mean,
            w_sum,
        }
    }

    /// Like [`Centred::new`], but `xs` holds the columns: `p × n`, row `j` being feature `j`
    /// (for coordinate descent), built in one pass without a row-major copy.
    pub fn new_columns(rows: &Rows<'_>, fit_intercept: bool) -> Self {
        let (n, p) = rows.x.dim();
        let w_sum = rows.w.sum();
        let w = rows.w.to_vec();
        let (x_mean, y_mean) = if fit_intercept {
            let xm = crate::optim::mat_t_vec(rows.x.view(), &w) / w_sum;
            (xm, rows.w.dot(&rows.y) / w_sum)
        } else {
            (Array1::zeros(p), 0.0)
        };
        let mut cols = vec![0.0; n * p];
        for (i, (row, &wi)) in rows.x.rows().into_iter().zip(&w).enumerate() {
            let sw = if rows.weighted { wi.sqrt() } else { 1.0 };
            for (j, (v, m)) in row.iter().zip(&x_mean).enumerate() {
                cols[j * n + i] = (v - m) * sw;
            }
        }
        let mut ys = &rows.y - y_mean;
        if rows.weighted {
            ys *= &rows.w.mapv(f64::sqrt);
        }
        Self {
            xs: Array2::from_shape_vec((p, n), cols).unwrap_or_else(|_| Array2::zeros((p, n))),
            ys,
            x_mean,
            y_mean,
            w_sum,
        }
    }

    /// The model for coefficients fitted on the centred rows.
    pub fn model(&self, coef: Array1<f64>) -> Result<LinearModel> {
        let intercept = self.y_mean - self.x_mean.dot(&coef);
        LinearModel::new(coef.into_raw_vec_and_offset().0, intercept).map_err(|e| {
            TrainError::data(format!(
                "the fit produced non-finite values ({e})\nhint: scale the features or raise the regularisation"
            ))
        })
    }
}
