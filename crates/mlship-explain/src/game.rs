//! A model seen as a cooperative game, for the model-agnostic explainers.
//!
//! The players are features (or groups of raw columns). The value of a coalition for an
//! explained row is the model's mean output over a background sample in which the players of
//! the coalition take the row's values — the interventional (independent-features) value
//! function of KernelSHAP, permutation SHAP and LinearSHAP.

use mlship_core::traits::RawPredictor;
use mlship_core::{RawBatch, Task};
use ndarray::{Array2, ArrayView2};

use crate::error::{ExplainError, Result};
use crate::raw;

/// A value function over coalitions of players, for a fixed set of explained rows.
pub trait Game: Sync {
    /// Number of players.
    fn n_players(&self) -> usize;
    /// Number of model outputs.
    fn n_outputs(&self) -> usize;
    /// Number of rows that can be explained.
    fn n_rows(&self) -> usize;
    /// The value of the empty coalition (the mean output over the background), per output.
    fn expected(&self) -> Result<Vec<f64>>;
    /// For explained row `row`, the values of the coalitions in `masks` (`n_masks × n_players`
    /// flags, row-major) into `out` (`n_masks × n_outputs`).
    fn values(&self, row: usize, masks: &[bool], out: &mut [f64]) -> Result<()>;
}

/// Checks that player groups are non-empty, in range and disjoint.
fn check_players(players: &[Vec<usize>], n_columns: usize) -> Result<Vec<Option<usize>>> {
    let mut owner = vec![None; n_columns];
    for (p, cols) in players.iter().enumerate() {
        if cols.is_empty() {
            return Err(ExplainError::invalid(
                "groups",
                format!("group {p} (empty)"),
                "at least one column per group",
            ));
        }
        for &c in cols {
            if c >= n_columns {
                return Err(ExplainError::invalid(
                    "groups",
                    format!("column {c} in group {p}"),
                    format!("a column index below {n_columns}"),
                ));
            }
            if owner[c].replace(p).is_some() {
                return Err(ExplainError::invalid(
                    "groups",
                    format!("column {c} in two groups"),
                    "disjoint groups",
                ));
            }
        }
    }
    Ok(owner)
}

/// A model over numeric feature matrices, with a numeric background.
pub struct MatrixGame<'a, F> {
    x: ArrayView2<'a, f64>,
    background: ArrayView2<'a, f64>,
    f: F,
    n_outputs: usize,
    owner: Vec<Option<usize>>,
    n_players: usize,
}

impl<F> std::fmt::Debug for MatrixGame<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixGame")
            .field("rows", &self.x.nrows())
            .field("background", &self.background.nrows())
            .field("players", &self.n_players)
            .finish_non_exhaustive()
    }
}

impl<'a, F> MatrixGame<'a, F>
where
    F: Fn(ArrayView2<'_, f64>) -> Result<Array2<f64>> + Sync,
{
    /// The game of `f` (rows in, `rows × n_outputs` out) explaining the rows of `x` against
    /// `background`, one player per column, or one per group of columns when `groups` is given
    /// (columns outside every group always take the background's values).
    pub fn new(
        x: ArrayView2<'a, f64>,
        background: ArrayView2<'a, f64>,
        f: F,
        groups: Option<Vec<Vec<usize>>>,
    ) -> Result<Self> {
        if background.ncols() != x.ncols() {
            return Err(ExplainError::shape(
                "columns of the background",
                x.ncols(),
                background.ncols(),
            ));
        }
        if background.nrows() == 0 {
            return Err(ExplainError::Data(
                "the background sample is empty\nhint: pass at least one background row".into(),
            ));
        }
        let groups = groups.unwrap_or_else(|| (0..x.ncols()).map(|j| vec![j]).collect());
        let owner = check_players(&groups, x.ncols())?;
        let probe = f(background.row(0).insert_axis(ndarray::Axis(0)))?;
        Ok(Self {
            x,
            background,
            n_outputs: probe.ncols(),
            f,
            owner,
            n_players: groups.len(),
        })
    }
}

impl<F> Game for MatrixGame<'_, F>
where
    F: Fn(ArrayView2<'_, f64>) -> Result<Array2<f64>> + Sync,
{
    fn n_players(&self) -> usize {
        self.n_players
    }
    fn n_outputs(&self) -> usize {
        self.n_outputs
    }
    fn n_rows(&self) -> usize {
        self.x.nrows()
    }
    fn expected(&self) -> Result<Vec<f64>> {
        let out = (self.f)(self.background)?;
        check_output(&out, self.background.nrows(), self.n_outputs)?;
        Ok(column_means(&out))
    }
    fn values(&self, row: usize, masks: &[bool], out: &mut [f64]) -> Result<()> {
        let m = self.n_players;
        let n_masks = masks.len().checked_div(m).unwrap_or(1);
        let nb = self.background.nrows();
        let p = self.x.ncols();
        let mut z = Array2::zeros((n_masks * nb, p));
        let xr = self.x.row(row);
        for k in 0..n_masks {
            let mask = &masks[k * m..(k + 1) * m];
            for b in 0..nb {
                let mut zr = z.row_mut(k * nb + b);
                for j in 0..p {
                    zr[j] = match self.owner[j] {
                        Some(pl) if mask[pl] => xr[j],
                        _ => self.background[[b, j]],
                    };
                }
            }
        }
        let y = (self.f)(z.view())?;
        check_output(&y, n_masks * nb, self.n_outputs)?;
        average_blocks(&y, n_masks, nb, out);
        Ok(())
    }
}

fn check_output(y: &Array2<f64>, rows: usize, k: usize) -> Result<()> {
    if y.nrows() != rows || y.ncols() != k {
        return Err(ExplainError::Data(format!(
            "the model returned {} × {} outputs for {rows} rows, expected {rows} × {k}",
            y.nrows(),
            y.ncols()
        )));
    }
    if let Some(v) = y.iter().find(|v| !v.is_finite()) {
        return Err(ExplainError::Data(format!(
            "the model returned a non-finite output {v}\nhint: explanations need finite predictions"
        )));
    }
    Ok(())
}

fn column_means(y: &Array2<f64>) -> Vec<f64> {
    let n = y.nrows().max(1) as f64;
    y.columns().into_iter().map(|c| c.sum() / n).collect()
}

/// Means over consecutive blocks of `nb` rows.
fn average_blocks(y: &Array2<f64>, n_blocks: usize, nb: usize, out: &mut [f64]) {
    let k = y.ncols();
    out[..n_blocks * k].fill(0.0);
    for blk in 0..n_blocks {
        for b in 0..nb {
            for o in 0..k {
                out[blk * k + o] += y[[blk * nb + b, o]];
            }
        }
        for o in 0..k {
            out[blk * k + o] /= nb as f64;
        }
    }
}

/// A [`RawPredictor`] on raw columns, with a raw background sample. Classifiers are explained
/// on their class probabilities, regressors on their value.
pub struct RawGame<'a> {
    predictor: &'a dyn RawPredictor,
    combined: RawBatch,
    n_x: usize,
    n_bg: usize,
    owner: Vec<Option<usize>>,
    n_players: usize,
    task: Task,
}

impl std::fmt::Debug for RawGame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawGame")
            .field("rows", &self.n_x)
            .field("background", &self.n_bg)
            .field("players", &self.n_players)
            .finish_non_exhaustive()
    }
}

impl<'a> RawGame<'a> {
    /// The game of `predictor` explaining the rows of `x` against `background`: one player per
    /// column of `x`, or one per group of column names when `groups` is given (columns outside
    /// every group always take the background's values).
    pub fn new(
        predictor: &'a dyn RawPredictor,
        x: &RawBatch,
        background: &RawBatch,
        groups: Option<&[Vec<String>]>,
    ) -> Result<Self> {
        if background.n_rows() == 0 {
            return Err(ExplainError::Data(
                "the background sample is empty\nhint: pass at least one background row".into(),
            ));
        }
        let combined = raw::stack(x, background)?;
        let players: Vec<Vec<usize>> = match groups {
            None => (0..x.n_columns()).map(|j| vec![j]).collect(),
            Some(gs) => gs
                .iter()
                .map(|g| g.iter().map(|name| raw::column_index(x, name)).collect())
                .collect::<Result<_>>()?,
        };
        let owner = check_players(&players, x.n_columns())?;
        Ok(Self {
            predictor,
            combined,
            n_x: x.n_rows(),
            n_bg: background.n_rows(),
            owner,
            n_players: players.len(),
            task: predictor.task().clone(),
        })
    }

    /// The names of the outputs explained.
    pub fn output_names(&self) -> Vec<String> {
        raw::output_names(&self.task)
    }

    fn predict(&self, batch: &RawBatch) -> Result<Array2<f64>> {
        let pred = self.predictor.predict(batch)?;
        let y = raw::outputs(&self.task, &pred)?;
        check_output(&y, batch.n_rows(), self.n_outputs())?;
        Ok(y)
    }
}

impl Game for RawGame<'_> {
    fn n_players(&self) -> usize {
        self.n_players
    }
    fn n_outputs(&self) -> usize {
        raw::output_names(&self.task).len()
    }
    fn n_rows(&self) -> usize {
        self.n_x
    }
    fn expected(&self) -> Result<Vec<f64>> {
        let rows: Vec<usize> = (self.n_x..self.n_x + self.n_bg).collect();
        let bg = self.combined.take(&rows)?;
        Ok(column_means(&self.predict(&bg)?))
    }
    fn values(&self, row: usize, masks: &[bool], out: &mut [f64]) -> Result<()> {
        let m = self.n_players;
        let n_masks = masks.len().checked_div(m).unwrap_or(1);
        let nb = self.n_bg;
        let batch = raw::gather(&self.combined, |j| {
            let mut idx = Vec::with_capacity(n_masks * nb);
            for k in 0..n_masks {
                let from_x = self.owner[j].is_some_and(|p| masks[k * m + p]);
                for b in 0..nb {
                    idx.push(if from_x { row } else { self.n_x + b });
                }
            }
            idx
        })?;
        let y = self.predict(&batch)?;
        average_blocks(&y, n_masks, nb, out);
        Ok(())
    }
}
