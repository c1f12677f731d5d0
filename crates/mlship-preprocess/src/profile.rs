//! Profiling a frame: one mergeable sketch per column, computed in parallel over columns.
//!
//! Each column goes through the same conversion as model input ([`crate::frame_to_batch`])
//! and the same sketching as a bundle's reference profile
//! ([`mlship_core::profile::sketch_of`]), so `mlship data profile` prints exactly what a model
//! will later be monitored against.

use mlship_core::sketch::ColumnSketch;
use polars::prelude::*;
use rayon::prelude::*;

use crate::convert::{raw_kind, series_to_column};
use crate::error::{PreprocessError, Result};

/// One profiled column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnProfile {
    /// The column's name.
    pub name: String,
    /// The storage type polars read (`i64`, `f64`, `str`, `bool`, `date`, …).
    pub dtype: String,
    /// The raw kind it maps to as model input: `numeric`, `categorical`, `boolean`, `datetime`.
    pub kind: &'static str,
    /// Its sketch.
    pub sketch: ColumnSketch,
}

/// Every column of a frame, profiled.
#[derive(Debug, Clone, PartialEq)]
pub struct TableProfile {
    /// Rows in the frame.
    pub n_rows: usize,
    /// One profile per column, in frame order.
    pub columns: Vec<ColumnProfile>,
}

/// Profiles every column of `df`, in parallel over columns.
pub fn profile_frame(df: &DataFrame) -> Result<TableProfile> {
    let columns: Result<Vec<ColumnProfile>> = df
        .columns()
        .par_iter()
        .map(|c| {
            let s = c.as_materialized_series();
            let kind = raw_kind(s.dtype()).ok_or_else(|| PreprocessError::Column {
                column: s.name().to_string(),
                detail: format!("type {} cannot be profiled", s.dtype()),
            })?;
            let raw = series_to_column(s)?;
            let sketch = mlship_core::profile::sketch_of(&raw)?;
            Ok(ColumnProfile {
                name: s.name().to_string(),
                dtype: s.dtype().to_string(),
                kind,
                sketch,
            })
        })
        .collect();
    Ok(TableProfile {
        n_rows: df.height(),
        columns: columns?,
    })
}
