//! Polynomial and interaction features: scikit-learn's `PolynomialFeatures` on a few columns.

use serde::{Deserialize, Serialize};

use super::Result;
use super::error::TransformError;

/// Options of [`Polynomial`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolynomialParams {
    /// The highest total degree, at least 1 (default 2).
    pub degree: usize,
    /// Only products of distinct inputs (no `a^2`) (default `false`).
    pub interaction_only: bool,
    /// Emit the constant term `1` first (default `true`).
    pub include_bias: bool,
}

impl Default for PolynomialParams {
    fn default() -> Self {
        Self {
            degree: 2,
            interaction_only: false,
            include_bias: true,
        }
    }
}

/// Fitted polynomial features: one term per output, in scikit-learn's order (the bias, then
/// degree 1, 2, … with the input indices of each degree in lexicographic order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Polynomial {
    /// Number of inputs.
    pub n_inputs: usize,
    /// Per output, the input indices multiplied (non-decreasing; empty for the bias).
    pub terms: Vec<Vec<usize>>,
}

impl Polynomial {
    /// The terms for `n_inputs` inputs.
    pub fn fit(n_inputs: usize, params: PolynomialParams) -> Result<Self> {
        if params.degree == 0 {
            return Err(TransformError::invalid("degree", 0, "at least 1"));
        }
        if n_inputs == 0 {
            return Err(TransformError::invalid(
                "n_inputs",
                0,
                "at least one input column",
            ));
        }
        let mut terms: Vec<Vec<usize>> = Vec::new();
        if params.include_bias {
            terms.push(Vec::new());
        }
        let mut previous: Vec<Vec<usize>> = vec![Vec::new()];
        for _ in 1..=params.degree {
            let mut next = Vec::new();
            for t in &previous {
                let start = match t.last() {
                    None => 0,
                    Some(&l) if params.interaction_only => l + 1,
                    Some(&l) => l,
                };
                for j in start..n_inputs {
                    let mut u = t.clone();
                    u.push(j);
                    next.push(u);
                }
            }
            if next.is_empty() {
                break;
            }
            terms.extend(next.iter().cloned());
            previous = next;
        }
        Ok(Self { n_inputs, terms })
    }

    /// Number of output columns.
    pub fn output_width(&self) -> usize {
        self.terms.len()
    }

    /// Output feature names from the inputs' names: `1`, `a`, `a^2`, `a*b`, `a^2*b`.
    pub fn names(&self, inputs: &[&str]) -> Result<Vec<String>> {
        TransformError::check_len("polynomial", "input names", self.n_inputs, inputs.len())?;
        Ok(self
            .terms
            .iter()
            .map(|t| {
                if t.is_empty() {
                    return "1".to_owned();
                }
                let mut parts: Vec<String> = Vec::new();
                let mut i = 0;
                while i < t.len() {
                    let mut j = i;
                    while j < t.len() && t[j] == t[i] {
                        j += 1;
                    }
                    let name = inputs[t[i]];
                    parts.push(if j - i == 1 {
                        name.to_owned()
                    } else {
                        format!("{name}^{}", j - i)
                    });
                    i = j;
                }
                parts.join("*")
            })
            .collect())
    }

    /// Computes the terms of one row: `out[k]` is the product of the inputs of term `k`,
    /// multiplied from the last factor to the first as scikit-learn does, so results are
    /// bit-identical.
    pub fn apply(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        TransformError::check_len("polynomial", "input row", self.n_inputs, row.len())?;
        TransformError::check_len("polynomial", "output row", self.output_width(), out.len())?;
        for (t, o) in self.terms.iter().zip(out.iter_mut()) {
            *o = match t.split_last() {
                None => 1.0,
                Some((&last, rest)) => rest.iter().rev().fold(row[last], |acc, &i| acc * row[i]),
            };
        }
        Ok(())
    }

    /// Computes the terms of many rows (row-major `rows`, `n_inputs` wide) into `out`
    /// (row-major, [`Polynomial::output_width`] wide) through [`Polynomial::apply`].
    pub fn transform(&self, rows: &[f64], out: &mut [f64]) -> Result<()> {
        let (k, w) = (self.n_inputs, self.output_width());
        if !rows.len().is_multiple_of(k) {
            return Err(TransformError::Length {
                column: "polynomial".to_owned(),
                what: "input rows",
                expected: rows.len() / k * k,
                got: rows.len(),
            });
        }
        TransformError::check_len("polynomial", "output", rows.len() / k * w, out.len())?;
        for (r, o) in rows.chunks_exact(k).zip(out.chunks_exact_mut(w)) {
            self.apply(r, o)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_match_scikit_learn() {
        let p = Polynomial::fit(2, PolynomialParams::default()).unwrap();
        assert_eq!(
            p.names(&["a", "b"]).unwrap(),
            vec!["1", "a", "b", "a^2", "a*b", "b^2"]
        );
        let p = Polynomial::fit(
            3,
            PolynomialParams {
                degree: 3,
                interaction_only: true,
                include_bias: false,
            },
        )
        .unwrap();
        assert_eq!(
            p.names(&["a", "b", "c"]).unwrap(),
            vec!["a", "b", "c", "a*b", "a*c", "b*c", "a*b*c"]
        );
        let mut out = vec![0.0; 7];
        p.apply(&[2.0, 3.0, 5.0], &mut out).unwrap();
        assert_eq!(out, vec![2.0, 3.0, 5.0, 6.0, 10.0, 15.0, 30.0]);
    }

    #[test]
    fn degree_zero_is_an_error() {
        let e = Polynomial::fit(
            2,
            PolynomialParams {
                degree: 0,
                ..PolynomialParams::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("degree"), "{e}");
    }
}
