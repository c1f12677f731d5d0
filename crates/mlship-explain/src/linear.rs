//! Exact LinearSHAP for linear and logistic models, on the margin.
//!
//! With independent features and the interventional value function, the SHAP value of feature
//! `j` for output `o` is `coef[o][j] · (x_j − mean_j)`, where `mean` is the background mean; the
//! expected value is `coef[o] · mean + intercept[o]`. This is shap's `LinearExplainer` with an
//! independent masker.

use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::error::{ExplainError, Result};
use crate::values::ShapValues;

/// Explains `margin = coef · x + intercept` (one row of `coef` per output).
#[derive(Debug, Clone)]
pub struct LinearExplainer {
    coef: ndarray::Array2<f64>,
    intercept: Vec<f64>,
    mean: Array1<f64>,
    expected: Vec<f64>,
}

impl LinearExplainer {
    /// An explainer for `coef` (`outputs × features`) and `intercept` (per output) with the
    /// background mean `mean` (per feature).
    pub fn new(
        coef: ArrayView2<'_, f64>,
        intercept: &[f64],
        mean: ArrayView1<'_, f64>,
    ) -> Result<Self> {
        if intercept.len() != coef.nrows() {
            return Err(ExplainError::shape(
                "intercepts",
                coef.nrows(),
                intercept.len(),
            ));
        }
        if mean.len() != coef.ncols() {
            return Err(ExplainError::shape(
                "background means",
                coef.ncols(),
                mean.len(),
            ));
        }
        if let Some(v) = coef
            .iter()
            .chain(intercept)
            .chain(mean.iter())
            .find(|v| !v.is_finite())
        {
            return Err(ExplainError::Data(format!(
                "a coefficient, intercept or background mean is {v}\nhint: LinearSHAP needs finite values"
            )));
        }
        let expected = coef
            .rows()
            .into_iter()
            .zip(intercept)
            .map(|(c, b)| c.dot(&mean) + b)
            .collect();
        Ok(Self {
            coef: coef.to_owned(),
            intercept: intercept.to_vec(),
            mean: mean.to_owned(),
            expected,
        })
    }

    /// An explainer whose background mean is the column means of `background`.
    pub fn with_background(
        coef: ArrayView2<'_, f64>,
        intercept: &[f64],
        background: ArrayView2<'_, f64>,
    ) -> Result<Self> {
        if background.nrows() == 0 {
            return Err(ExplainError::Data(
                "the background sample is empty\nhint: pass at least one background row".into(),
            ));
        }
        let mean = background.sum_axis(ndarray::Axis(0)) / background.nrows() as f64;
        Self::new(coef, intercept, mean.view())
    }

    /// The expected margin, per output.
    pub fn expected_value(&self) -> &[f64] {
        &self.expected
    }

    /// The intercepts, per output.
    pub fn intercept(&self) -> &[f64] {
        &self.intercept
    }

    /// SHAP values of the margin for every row of `x`.
    pub fn shap_values(&self, x: ArrayView2<'_, f64>) -> Result<ShapValues> {
        let m = self.coef.ncols();
        let k = self.coef.nrows();
        if x.ncols() != m {
            return Err(ExplainError::shape(
                "columns of the rows to explain",
                m,
                x.ncols(),
            ));
        }
        let mut out = ShapValues::zeros(x.nrows(), k, m, self.expected.clone());
        if m * k > 0 {
            out.values
                .par_chunks_mut(k * m)
                .enumerate()
                .for_each(|(r, phi)| {
                    let xr = x.row(r);
                    for o in 0..k {
                        for j in 0..m {
                            phi[o * m + j] = self.coef[[o, j]] * (xr[j] - self.mean[j]);
                        }
                    }
                });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn values_are_coefficient_times_deviation_and_add_up() {
        let coef = array![[2.0, -1.0], [0.5, 0.0]];
        let bg = array![[0.0, 1.0], [2.0, 3.0]];
        let ex = LinearExplainer::with_background(coef.view(), &[1.0, -1.0], bg.view()).unwrap();
        assert_eq!(ex.expected_value(), &[1.0, -0.5]);
        let v = ex.shap_values(array![[3.0, 0.0]].view()).unwrap();
        assert_eq!(v.row(0, 0), &[4.0, 2.0]);
        assert_eq!(v.row(0, 1), &[1.0, 0.0]);
        assert_eq!(v.output(0, 0), 2.0 * 3.0 + 1.0);
        let e = LinearExplainer::new(coef.view(), &[1.0], array![0.0, 0.0].view()).unwrap_err();
        assert!(
            e.to_string().contains("intercepts: expected 2, found 1"),
            "{e}"
        );
    }
}
