//! Attribution containers shared by every SHAP method.

use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};

/// SHAP values for a batch of rows: per row, per output, per feature.
///
/// For every row and output, the values plus `expected_value[output]` add up to the model's
/// output in the space that was explained (the raw margin for trees and linear models).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapValues {
    /// Number of rows explained.
    pub n_rows: usize,
    /// Number of model outputs explained.
    pub n_outputs: usize,
    /// Number of features attributed to.
    pub n_features: usize,
    /// The expected output (over the background or the training covers), per output.
    pub expected_value: Vec<f64>,
    /// Values `[row][output][feature]`, flattened row-major.
    pub values: Vec<f64>,
}

impl ShapValues {
    /// All zeros for `n_rows` rows.
    pub fn zeros(n_rows: usize, n_outputs: usize, n_features: usize, expected: Vec<f64>) -> Self {
        Self {
            n_rows,
            n_outputs,
            n_features,
            expected_value: expected,
            values: vec![0.0; n_rows * n_outputs * n_features],
        }
    }

    /// The value of `feature` for `output` in `row`.
    pub fn get(&self, row: usize, output: usize, feature: usize) -> f64 {
        self.values[(row * self.n_outputs + output) * self.n_features + feature]
    }

    /// The values of one row and output, one per feature.
    pub fn row(&self, row: usize, output: usize) -> &[f64] {
        let start = (row * self.n_outputs + output) * self.n_features;
        &self.values[start..start + self.n_features]
    }

    /// The sum of one row's values plus the expected value: the explained output.
    pub fn output(&self, row: usize, output: usize) -> f64 {
        self.expected_value[output] + self.row(row, output).iter().sum::<f64>()
    }

    /// Mean absolute value per output and feature (`[output][feature]`): the global importance
    /// shown in SHAP bar plots.
    pub fn mean_abs(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_outputs * self.n_features];
        for r in 0..self.n_rows {
            for o in 0..self.n_outputs {
                for (acc, v) in out[o * self.n_features..(o + 1) * self.n_features]
                    .iter_mut()
                    .zip(self.row(r, o))
                {
                    *acc += v.abs();
                }
            }
        }
        if self.n_rows > 0 {
            let n = self.n_rows as f64;
            for v in &mut out {
                *v /= n;
            }
        }
        out
    }

    /// Checks that the layout is consistent.
    pub fn check(&self) -> Result<()> {
        if self.expected_value.len() != self.n_outputs {
            return Err(ExplainError::shape(
                "expected values",
                self.n_outputs,
                self.expected_value.len(),
            ));
        }
        let n = self.n_rows * self.n_outputs * self.n_features;
        if self.values.len() != n {
            return Err(ExplainError::shape("shap values", n, self.values.len()));
        }
        Ok(())
    }
}

/// SHAP interaction values: per row, per output, a `features × features` matrix whose rows sum
/// to the SHAP values (main effects on the diagonal, each pairwise interaction split evenly
/// between `[i][j]` and `[j][i]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionValues {
    /// Number of rows explained.
    pub n_rows: usize,
    /// Number of model outputs explained.
    pub n_outputs: usize,
    /// Number of features.
    pub n_features: usize,
    /// The expected output, per output.
    pub expected_value: Vec<f64>,
    /// Values `[row][output][i][j]`, flattened row-major.
    pub values: Vec<f64>,
}

impl InteractionValues {
    /// The interaction of features `i` and `j` for `output` in `row`.
    pub fn get(&self, row: usize, output: usize, i: usize, j: usize) -> f64 {
        let m = self.n_features;
        self.values[((row * self.n_outputs + output) * m + i) * m + j]
    }
}
