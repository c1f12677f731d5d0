//! Partial dependence (PDP) and individual conditional expectation (ICE) on raw columns.
//!
//! For one column or a pair, every row of the data is predicted with the column(s) set to each
//! point of a grid; ICE keeps each row's curve and PDP is their mean. Numeric grids follow
//! scikit-learn's `partial_dependence`: the distinct values when there are fewer than
//! `grid_resolution`, otherwise `grid_resolution` evenly spaced points between two percentiles
//! (scipy's `mquantiles` with `alphap = betap = 0.4`, as scikit-learn uses). Categorical
//! columns use their levels in the data (sorted), booleans `false` and `true`.

use mlship_core::batch::RawValue;
use mlship_core::traits::RawPredictor;
use mlship_core::{ColumnData, RawBatch};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};
use crate::raw;

/// PDP/ICE parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PdpParams {
    /// Points of a numeric grid.
    pub grid_resolution: usize,
    /// The percentiles bounding a numeric grid, each in `[0, 1]`.
    pub percentiles: (f64, f64),
    /// Whether to keep the per-row (ICE) curves.
    pub ice: bool,
}

impl Default for PdpParams {
    fn default() -> Self {
        Self {
            grid_resolution: 100,
            percentiles: (0.05, 0.95),
            ice: true,
        }
    }
}

/// One grid value of a raw column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GridValue {
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A category level.
    Level(String),
}

impl GridValue {
    fn as_raw(&self) -> RawValue<'_> {
        match self {
            Self::Number(x) => RawValue::Number(*x),
            Self::Bool(b) => RawValue::Bool(*b),
            Self::Level(s) => RawValue::Str(s),
        }
    }
}

/// Partial dependence of the outputs on one or two columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialDependence {
    /// The columns varied.
    pub columns: Vec<String>,
    /// The grid of each column.
    pub grids: Vec<Vec<GridValue>>,
    /// The outputs (`value`, or the class labels for probabilities).
    pub outputs: Vec<String>,
    /// Mean output per grid point and output, `[point][output]`; points run over the first
    /// column's grid slowest.
    pub average: Vec<f64>,
    /// Per-row curves `[row][point][output]`, when asked for.
    pub ice: Option<Vec<f64>>,
    /// Rows averaged.
    pub n_rows: usize,
}

/// scipy's `mquantiles(x, p, alphap=0.4, betap=0.4)` of sorted finite values.
pub fn mquantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let m = 0.4 + p * (1.0 - 0.4 - 0.4);
    let aleph = n as f64 * p + m;
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

/// The grid of column `name` in `data`.
pub fn grid(data: &RawBatch, name: &str, params: &PdpParams) -> Result<Vec<GridValue>> {
    let c = &data.columns()[raw::column_index(data, name)?];
    let (lo, hi) = params.percentiles;
    if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo >= hi {
        return Err(ExplainError::invalid(
            "percentiles",
            format!("({lo}, {hi})"),
            "0 <= low < high <= 1",
        ));
    }
    if params.grid_resolution < 2 {
        return Err(ExplainError::invalid(
            "grid_resolution",
            params.grid_resolution,
            "at least 2",
        ));
    }
    let values: Vec<GridValue> = match &c.data {
        ColumnData::Numeric(v) => {
            let mut xs: Vec<f64> = (0..v.len())
                .filter(|&r| c.is_valid(r) && v[r].is_finite())
                .map(|r| v[r])
                .collect();
            xs.sort_by(f64::total_cmp);
            let mut uniq = xs.clone();
            uniq.dedup();
            if uniq.is_empty() {
                Vec::new()
            } else if uniq.len() < params.grid_resolution {
                uniq.into_iter().map(GridValue::Number).collect()
            } else {
                let (a, b) = (mquantile(&xs, lo), mquantile(&xs, hi));
                if a == b {
                    return Err(ExplainError::Data(format!(
                        "column {name:?} has the same value at percentiles {lo} and {hi}\nhint: widen the percentiles"
                    )));
                }
                let k = params.grid_resolution;
                (0..k)
                    .map(|i| GridValue::Number(a + (b - a) * i as f64 / (k - 1) as f64))
                    .collect()
            }
        }
        ColumnData::Categorical { dict, codes } => {
            let mut levels: Vec<&String> = (0..codes.len())
                .filter(|&r| c.is_valid(r))
                .map(|r| &dict[codes[r] as usize])
                .collect();
            levels.sort();
            levels.dedup();
            levels
                .into_iter()
                .map(|s| GridValue::Level(s.clone()))
                .collect()
        }
        ColumnData::Boolean(_) => vec![GridValue::Bool(false), GridValue::Bool(true)],
        ColumnData::Datetime(_) => {
            return Err(ExplainError::Unsupported(format!(
                "partial dependence on datetime column {name:?} is not supported\nhint: explain a feature derived from it"
            )));
        }
    };
    if values.is_empty() {
        return Err(ExplainError::Data(format!(
            "column {name:?} has no values to build a grid from"
        )));
    }
    Ok(values)
}

/// Partial dependence (and ICE) of `predictor` on `columns` (one or two) over `data`.
pub fn partial_dependence(
    predictor: &dyn RawPredictor,
    data: &RawBatch,
    columns: &[&str],
    params: &PdpParams,
) -> Result<PartialDependence> {
    if columns.is_empty() || columns.len() > 2 || (columns.len() == 2 && columns[0] == columns[1]) {
        return Err(ExplainError::invalid(
            "columns",
            columns.join(", "),
            "one column or two different columns",
        ));
    }
    let n = data.n_rows();
    if n == 0 {
        return Err(ExplainError::Data(
            "partial dependence needs at least one row".into(),
        ));
    }
    let grids: Vec<Vec<GridValue>> = columns
        .iter()
        .map(|c| grid(data, c, params))
        .collect::<Result<_>>()?;
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| raw::column_index(data, c))
        .collect::<Result<_>>()?;
    let points: Vec<Vec<&GridValue>> = match grids.as_slice() {
        [g] => g.iter().map(|v| vec![v]).collect(),
        [g1, g2] => g1
            .iter()
            .flat_map(|a| g2.iter().map(move |b| vec![a, b]))
            .collect(),
        _ => Vec::new(),
    };
    let task = predictor.task();
    let outputs = raw::output_names(task);
    let k = outputs.len();
    let curves: Vec<Result<ndarray::Array2<f64>>> = points
        .par_iter()
        .map(|point| {
            let mut b = data.clone();
            for (&c, v) in idx.iter().zip(point) {
                let col = raw::constant_column(&data.columns()[c], v.as_raw(), n)?;
                b.replace_column(c, col)?;
            }
            let y = raw::outputs(task, &predictor.predict(&b)?)?;
            if y.nrows() != n || y.ncols() != k {
                return Err(ExplainError::shape("predicted rows", n, y.nrows()));
            }
            Ok(y)
        })
        .collect();
    let curves: Vec<ndarray::Array2<f64>> = curves.into_iter().collect::<Result<_>>()?;
    let np = points.len();
    let mut average = vec![0.0; np * k];
    for (p, y) in curves.iter().enumerate() {
        for o in 0..k {
            average[p * k + o] = y.column(o).sum() / n as f64;
        }
    }
    let ice = params.ice.then(|| {
        let mut ice = vec![0.0; n * np * k];
        for (p, y) in curves.iter().enumerate() {
            for r in 0..n {
                for o in 0..k {
                    ice[(r * np + p) * k + o] = y[[r, o]];
                }
            }
        }
        ice
    });
    Ok(PartialDependence {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        grids,
        outputs,
        average,
        ice,
        n_rows: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Toy, toy_batch};

    #[test]
    fn quantiles_match_scipy_mquantiles() {
        // scipy.stats.mstats.mquantiles([1, 2, 3, 4, 10], [0.05, 0.5, 0.95], 0.4, 0.4)
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((mquantile(&x, 0.05) - 1.0).abs() < 1e-12);
        assert!((mquantile(&x, 0.5) - 3.0).abs() < 1e-12);
        assert!((mquantile(&x, 0.95) - 10.0).abs() < 1e-12);
        // n p + m = 10 · 0.25 + 0.45 = 2.95: 0.05 x[1] + 0.95 x[2]
        let y: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((mquantile(&y, 0.25) - 2.95).abs() < 1e-12);
    }

    #[test]
    fn one_and_two_way_dependence() {
        let toy = Toy::regressor();
        let data = toy_batch(40, 5);
        let params = PdpParams {
            grid_resolution: 5,
            ..PdpParams::default()
        };
        let pd = partial_dependence(&toy, &data, &["b"], &params).unwrap();
        assert_eq!(pd.grids[0].len(), 5);
        // b enters with slope −1: the average falls by exactly the grid step.
        let g: Vec<f64> = pd.grids[0]
            .iter()
            .map(|v| {
                if let GridValue::Number(x) = v {
                    *x
                } else {
                    f64::NAN
                }
            })
            .collect();
        for i in 1..5 {
            let slope = (pd.average[i] - pd.average[i - 1]) / (g[i] - g[i - 1]);
            assert!((slope + 1.0).abs() < 1e-9);
        }
        let ice = pd.ice.as_ref().unwrap();
        assert_eq!(ice.len(), 40 * 5);
        let mean0: f64 = (0..40).map(|r| ice[r * 5]).sum::<f64>() / 40.0;
        assert!((mean0 - pd.average[0]).abs() < 1e-9);

        let two = partial_dependence(&toy, &data, &["c", "a"], &params).unwrap();
        assert_eq!(
            two.grids[0],
            vec![
                GridValue::Level("x".into()),
                GridValue::Level("y".into()),
                GridValue::Level("z".into())
            ]
        );
        assert_eq!(two.average.len(), 3 * 5);
        // At c = x the curve in a has slope 2; at c = y, 2.5.
        let ga: Vec<f64> = two.grids[1]
            .iter()
            .map(|v| {
                if let GridValue::Number(x) = v {
                    *x
                } else {
                    f64::NAN
                }
            })
            .collect();
        let slope = |ci: usize| (two.average[ci * 5 + 4] - two.average[ci * 5]) / (ga[4] - ga[0]);
        assert!((slope(0) - 2.0).abs() < 1e-9 && (slope(1) - 2.5).abs() < 1e-9);

        let e = partial_dependence(&toy, &data, &["nope"], &params).unwrap_err();
        assert!(e.to_string().contains("unknown column \"nope\""), "{e}");
        let e = partial_dependence(&toy, &data, &["a", "a"], &params).unwrap_err();
        assert!(e.to_string().contains("two different columns"), "{e}");
    }
}
