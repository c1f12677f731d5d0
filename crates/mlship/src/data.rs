//! Reading, profiling and converting data files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mlship_core::sketch::ColumnSummary;
use mlship_preprocess::{FileFormat, ReadOptions};
use serde::Serialize;

use crate::error::Result;

/// The profile of a data file, as `mlship data profile` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    /// The file profiled.
    pub path: PathBuf,
    /// Its format (`CSV`, `Parquet`, `Arrow IPC`).
    pub format: &'static str,
    /// Its size in bytes.
    pub bytes: u64,
    /// Rows.
    pub rows: usize,
    /// One entry per column, in file order.
    pub columns: Vec<ColumnReport>,
    /// Seconds spent reading the file.
    pub read_seconds: f64,
    /// Seconds spent sketching the columns.
    pub profile_seconds: f64,
}

/// One column of a [`ProfileReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnReport {
    /// The column's name.
    pub name: String,
    /// The storage type read (`i64`, `f64`, `str`, …).
    pub dtype: String,
    /// How a model takes it: `numeric`, `categorical`, `boolean`, `datetime`.
    pub kind: &'static str,
    /// Count, missing share, distinct values and statistics or top levels.
    #[serde(flatten)]
    pub summary: ColumnSummary,
}

/// Reads and profiles a data file.
pub fn profile_file(path: &Path, options: &ReadOptions) -> Result<ProfileReport> {
    let start = Instant::now();
    let df = mlship_preprocess::read_table(path, options)?;
    let read_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let profile = mlship_preprocess::profile_frame(&df)?;
    let profile_seconds = start.elapsed().as_secs_f64();
    Ok(ProfileReport {
        path: path.to_owned(),
        format: FileFormat::from_path(path)?.name(),
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        rows: profile.n_rows,
        columns: profile
            .columns
            .into_iter()
            .map(|c| ColumnReport {
                summary: c.sketch.summary(),
                name: c.name,
                dtype: c.dtype,
                kind: c.kind,
            })
            .collect(),
        read_seconds,
        profile_seconds,
    })
}

/// What `mlship data convert` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvertSummary {
    /// The file read.
    pub input: PathBuf,
    /// The file written.
    pub output: PathBuf,
    /// Rows written.
    pub rows: usize,
    /// Columns written.
    pub columns: usize,
    /// Size of the written file in bytes.
    pub bytes: u64,
}

/// Reads `input` and writes it to `output` in the format `output`'s extension names.
pub fn convert_file(input: &Path, output: &Path, options: &ReadOptions) -> Result<ConvertSummary> {
    // Refuse an unknown output format before reading a possibly large input.
    FileFormat::from_path(output)?;
    let mut df = mlship_preprocess::read_table(input, options)?;
    mlship_preprocess::write_table(&mut df, output)?;
    Ok(ConvertSummary {
        input: input.to_owned(),
        output: output.to_owned(),
        rows: df.height(),
        columns: df.width(),
        bytes: std::fs::metadata(output).map_or(0, |m| m.len()),
    })
}
