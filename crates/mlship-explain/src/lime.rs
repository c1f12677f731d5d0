//! LIME for tabular rows (Ribeiro et al. 2016), on raw columns.
//!
//! As in the `lime` package's tabular explainer with quartile discretisation: numeric columns
//! are cut at the quartiles of the background data, categorical and boolean columns keep their
//! levels, and a missing value is a bin of its own. Each perturbed sample draws, per column, a
//! bin with the background's bin frequencies and then a background value from that bin, so
//! samples stay on the data's support. A sample's interpretable representation says, per
//! column, whether it fell in the explained row's bin; samples are weighted by the exponential
//! kernel `sqrt(exp(−d² / width²))` of their distance `d` to the row in that representation
//! (`width = 0.75 · sqrt(columns)` by default), and a ridge regression (`alpha = 1`, with
//! intercept) fitted on them is the local surrogate. Its weighted R² on the samples is the
//! reported fidelity.

use mlship_core::batch::RawValue;
use mlship_core::rng::Rng;
use mlship_core::traits::RawPredictor;
use mlship_core::{ColumnData, RawBatch};
use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};
use crate::{linalg, raw};

/// LIME parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimeParams {
    /// Perturbed samples (the row itself is the first).
    pub n_samples: usize,
    /// Kernel width; `None`: `0.75 · sqrt(columns)`.
    pub kernel_width: Option<f64>,
    /// Ridge penalty of the surrogate.
    pub alpha: f64,
    /// Seed of the perturbations.
    pub seed: u64,
}

impl Default for LimeParams {
    fn default() -> Self {
        Self {
            n_samples: 5000,
            kernel_width: None,
            alpha: 1.0,
            seed: 0,
        }
    }
}

/// One column's part in a LIME explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimeTerm {
    /// The column.
    pub column: String,
    /// The condition the row satisfies (`0.31 < a <= 1.2`, `c = x`, `a is missing`).
    pub condition: String,
    /// The surrogate's weight per output.
    pub weights: Vec<f64>,
}

/// A LIME explanation of one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimeExplanation {
    /// The outputs explained.
    pub outputs: Vec<String>,
    /// The model's outputs for the row.
    pub prediction: Vec<f64>,
    /// The surrogate's intercept per output.
    pub intercept: Vec<f64>,
    /// The surrogate's prediction for the row per output (intercept plus every weight).
    pub local_prediction: Vec<f64>,
    /// The surrogate's weighted R² on the samples per output: how faithful it is locally.
    pub fidelity: Vec<f64>,
    /// One term per column.
    pub terms: Vec<LimeTerm>,
}

/// How one column is binned.
enum Bins {
    /// Quartile cut points; bin `i` is `(cut[i-1], cut[i]]`; the last bin is above all cuts.
    Numeric(Vec<f64>),
    /// One bin per distinct value, by its text.
    Levels(Vec<String>),
}

const MISSING: usize = usize::MAX;

fn value_key(v: RawValue<'_>) -> String {
    match v {
        RawValue::Str(s) => s.to_owned(),
        other => other.to_string(),
    }
}

impl Bins {
    fn of(column: &mlship_core::RawColumn) -> Result<Self> {
        match &column.data {
            ColumnData::Numeric(v) => {
                let mut xs: Vec<f64> = (0..v.len())
                    .filter(|&r| column.is_valid(r) && v[r].is_finite())
                    .map(|r| v[r])
                    .collect();
                xs.sort_by(f64::total_cmp);
                if xs.is_empty() {
                    return Ok(Self::Numeric(Vec::new()));
                }
                let q = |p: f64| {
                    // numpy's default (linear) percentile.
                    let h = (xs.len() - 1) as f64 * p;
                    let lo = h.floor() as usize;
                    let hi = (lo + 1).min(xs.len() - 1);
                    xs[lo] + (h - lo as f64) * (xs[hi] - xs[lo])
                };
                let mut cuts = vec![q(0.25), q(0.5), q(0.75)];
                cuts.dedup();
                Ok(Self::Numeric(cuts))
            }
            ColumnData::Datetime(_) => Err(ExplainError::Unsupported(format!(
                "LIME on datetime column {:?} is not supported",
                column.name
            ))),
            _ => {
                let mut levels: Vec<String> = (0..column.len())
                    .filter(|&r| column.is_valid(r))
                    .map(|r| value_key(column.value(r)))
                    .collect();
                levels.sort();
                levels.dedup();
                Ok(Self::Levels(levels))
            }
        }
    }

    fn bin(&self, v: RawValue<'_>) -> usize {
        match (self, v) {
            (_, RawValue::Null) => MISSING,
            (Self::Numeric(cuts), RawValue::Number(x)) => {
                cuts.iter().take_while(|&&c| x > c).count()
            }
            (Self::Levels(levels), v) => {
                let key = value_key(v);
                levels
                    .iter()
                    .position(|l| *l == key)
                    .unwrap_or(levels.len())
            }
            _ => MISSING,
        }
    }

    fn describe(&self, name: &str, bin: usize, v: RawValue<'_>) -> String {
        match self {
            _ if bin == MISSING => format!("{name} is missing"),
            Self::Numeric(cuts) => {
                let fmt = |x: f64| format!("{}", (x * 1e4).round() / 1e4);
                match (bin.checked_sub(1).map(|i| cuts[i]), cuts.get(bin)) {
                    (None, Some(&hi)) => format!("{name} <= {}", fmt(hi)),
                    (Some(lo), Some(&hi)) => format!("{} < {name} <= {}", fmt(lo), fmt(hi)),
                    (Some(lo), None) => format!("{name} > {}", fmt(lo)),
                    (None, None) => format!("{name} = {v}"),
                }
            }
            Self::Levels(_) => format!("{name} = {}", value_key(v)),
        }
    }
}

/// LIME explanation of row `row` of `data` for `predictor`, perturbing from `background`.
#[allow(clippy::too_many_lines)] // binning, sampling and the surrogate fit read best in order
pub fn lime(
    predictor: &dyn RawPredictor,
    data: &RawBatch,
    row: usize,
    background: &RawBatch,
    params: &LimeParams,
) -> Result<LimeExplanation> {
    if row >= data.n_rows() {
        return Err(ExplainError::Data(format!(
            "row {row} is out of range for {} rows",
            data.n_rows()
        )));
    }
    if params.n_samples < 10 {
        return Err(ExplainError::invalid(
            "n_samples",
            params.n_samples,
            "at least 10",
        ));
    }
    if !(params.alpha >= 0.0 && params.alpha.is_finite()) {
        return Err(ExplainError::invalid(
            "alpha",
            params.alpha,
            "a finite value >= 0",
        ));
    }
    let nb = background.n_rows();
    if nb == 0 {
        return Err(ExplainError::Data(
            "the background sample is empty\nhint: pass at least one background row".into(),
        ));
    }
    let x = data.take(&[row])?;
    // Row 0 is the explained row, rows 1.. the background.
    let pool = raw::stack(&x, background)?;
    let m = pool.n_columns();
    let width = params.kernel_width.unwrap_or(0.75 * (m as f64).sqrt());
    if !(width > 0.0 && width.is_finite()) {
        return Err(ExplainError::invalid(
            "kernel_width",
            width,
            "a finite value > 0",
        ));
    }
    let mut rng = Rng::new(params.seed);
    let n = params.n_samples;
    let mut picks: Vec<Vec<usize>> = Vec::with_capacity(m);
    let mut same = vec![1.0f64; n * m];
    let mut terms = Vec::with_capacity(m);
    for (j, col) in pool.columns().iter().enumerate() {
        let bins = Bins::of(col)?;
        let row_bin = bins.bin(col.value(0));
        terms.push(LimeTerm {
            column: col.name.clone(),
            condition: bins.describe(&col.name, row_bin, col.value(0)),
            weights: Vec::new(),
        });
        // Background rows by bin, bins in order of first appearance.
        let mut by_bin: Vec<(usize, Vec<usize>)> = Vec::new();
        for r in 1..=nb {
            let b = bins.bin(col.value(r));
            match by_bin.iter_mut().find(|(k, _)| *k == b) {
                Some((_, rows)) => rows.push(r),
                None => by_bin.push((b, vec![r])),
            }
        }
        let mut chosen = Vec::with_capacity(n);
        chosen.push(0);
        for s in 1..n {
            // A bin with the background's frequencies, then a value from it: one draw of a
            // background row does both.
            let r = 1 + rng.index(nb);
            let b = bins.bin(col.value(r));
            let in_bin = &by_bin
                .iter()
                .find(|(k, _)| *k == b)
                .map_or(&[][..], |(_, v)| v);
            let pick = if in_bin.is_empty() {
                r
            } else {
                in_bin[rng.index(in_bin.len())]
            };
            chosen.push(pick);
            same[s * m + j] = f64::from(u8::from(b == row_bin));
        }
        picks.push(chosen);
    }
    let samples = raw::gather(&pool, |j| picks[j].clone())?;
    let task = predictor.task();
    let outputs = raw::output_names(task);
    let k = outputs.len();
    let y = raw::outputs(task, &predictor.predict(&samples)?)?;
    if y.nrows() != n || y.ncols() != k {
        return Err(ExplainError::shape("predicted samples", n, y.nrows()));
    }
    let weights: Vec<f64> = (0..n)
        .map(|s| {
            let d2: f64 = same[s * m..(s + 1) * m]
                .iter()
                .map(|v| (1.0 - v).powi(2))
                .sum();
            (-d2 / (width * width)).exp().sqrt()
        })
        .collect();
    // Weighted centring gives the intercept; the ridge penalty leaves it alone.
    let wsum: f64 = weights.iter().sum();
    let xmean: Vec<f64> = (0..m)
        .map(|j| (0..n).map(|s| weights[s] * same[s * m + j]).sum::<f64>() / wsum)
        .collect();
    let ymean: Vec<f64> = (0..k)
        .map(|o| (0..n).map(|s| weights[s] * y[[s, o]]).sum::<f64>() / wsum)
        .collect();
    let xc: Vec<f64> = (0..n * m).map(|i| same[i] - xmean[i % m]).collect();
    let yc: Vec<f64> = (0..n * k)
        .map(|i| y[[i / k, i % k]] - ymean[i % k])
        .collect();
    let beta = linalg::weighted_least_squares(&xc, &yc, &weights, m, k, params.alpha.max(1e-12))
        .ok_or_else(|| ExplainError::Data("the LIME surrogate could not be fitted".into()))?;
    let mut intercept = vec![0.0; k];
    let mut fidelity = vec![0.0; k];
    let mut local = vec![0.0; k];
    for o in 0..k {
        intercept[o] = ymean[o] - (0..m).map(|j| beta[j * k + o] * xmean[j]).sum::<f64>();
        local[o] = intercept[o] + (0..m).map(|j| beta[j * k + o]).sum::<f64>();
        let (mut ss_res, mut ss_tot) = (0.0, 0.0);
        for s in 0..n {
            let fit = intercept[o]
                + (0..m)
                    .map(|j| beta[j * k + o] * same[s * m + j])
                    .sum::<f64>();
            ss_res += weights[s] * (y[[s, o]] - fit).powi(2);
            ss_tot += weights[s] * (y[[s, o]] - ymean[o]).powi(2);
        }
        fidelity[o] = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            1.0
        };
    }
    for (j, t) in terms.iter_mut().enumerate() {
        t.weights = (0..k).map(|o| beta[j * k + o]).collect();
    }
    Ok(LimeExplanation {
        outputs,
        prediction: y.row(0).to_vec(),
        intercept,
        local_prediction: local,
        fidelity,
        terms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Toy, toy_batch};

    #[test]
    fn the_surrogate_follows_the_model_locally() {
        let toy = Toy::regressor();
        // A row in the top bin of a, the bottom bin of b, and level x: all three raise the output.
        let data = mlship_core::RawBatch::new(vec![
            mlship_core::RawColumn::numeric("a", [Some(3.0)]),
            mlship_core::RawColumn::numeric("b", [Some(-5.0)]),
            mlship_core::RawColumn::categorical("c", [Some("x")]),
        ])
        .unwrap();
        let bg = toy_batch(400, 2);
        let params = LimeParams {
            n_samples: 2000,
            ..LimeParams::default()
        };
        let e = lime(&toy, &data, 0, &bg, &params).unwrap();
        assert_eq!(e.outputs, ["value"]);
        assert_eq!(e.prediction, vec![Toy::margin(3.0, -5.0, "x")]);
        assert!(
            e.fidelity[0] > 0.5 && e.fidelity[0] <= 1.0,
            "{:?}",
            e.fidelity
        );
        let again = lime(&toy, &data, 0, &bg, &params).unwrap();
        assert_eq!(e, again);
        let conditions: Vec<&str> = e.terms.iter().map(|t| t.condition.as_str()).collect();
        assert!(conditions[0].starts_with("a > "), "{conditions:?}");
        assert!(conditions[1].starts_with("b <= "), "{conditions:?}");
        assert_eq!(conditions[2], "c = x");
        assert!(e.terms.iter().all(|t| t.weights[0] > 0.0), "{e:?}");

        let e = lime(&toy, &data, 9, &bg, &params).unwrap_err();
        assert!(e.to_string().contains("row 9 is out of range"), "{e}");
    }
}
