//! The printable, serialisable summary of a column sketch (what `mlship data profile` shows).

use serde::Serialize;

use super::SketchKind;

/// A column at a glance: counts, missing rate, distinct values, and the numeric statistics or
/// the most frequent levels. Built by [`super::ColumnSketch::summary`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnSummary {
    /// What kind of column was sketched.
    pub kind: SketchKind,
    /// Rows seen, missing ones included.
    pub count: u64,
    /// Rows whose value was missing (null). NaN is not missing: see [`NumericSummary::nan`].
    pub missing: u64,
    /// `missing / count`, or `0` for a sketch that has seen no rows.
    pub missing_fraction: f64,
    /// Distinct non-missing values (finite values for numeric columns).
    pub distinct: u64,
    /// Whether [`Self::distinct`] is exact rather than a `HyperLogLog` estimate.
    pub distinct_exact: bool,
    /// Statistics of a numeric column; `None` for other kinds.
    pub numeric: Option<NumericSummary>,
    /// The most frequent levels of a categorical or boolean column; `None` for numeric ones.
    pub levels: Option<LevelsSummary>,
}

/// The statistics of a numeric column. All statistics describe the finite values only; each is
/// `None` when there is no finite value (and `std` also with fewer than two).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumericSummary {
    /// Finite values, zeros included.
    pub finite: u64,
    /// Values equal to zero.
    pub zeros: u64,
    /// NaN values.
    pub nan: u64,
    /// `+inf` values.
    pub pos_inf: u64,
    /// `-inf` values.
    pub neg_inf: u64,
    /// The smallest finite value (exact).
    pub min: Option<f64>,
    /// The largest finite value (exact).
    pub max: Option<f64>,
    /// The mean.
    pub mean: Option<f64>,
    /// The sample standard deviation (`ddof = 1`, as pandas' and polars' `describe`).
    pub std: Option<f64>,
    /// Estimates at [`super::SUMMARY_QUANTILES`]; empty without finite values.
    pub quantiles: Vec<QuantileEstimate>,
    /// Whether the quantiles are exact (the column has few distinct values).
    pub quantiles_exact: bool,
    /// Whether the magnitudes spanned so many octaves that the lowest buckets were folded,
    /// so quantiles among the smallest magnitudes may exceed the relative accuracy bound.
    pub collapsed: bool,
}

/// A quantile level and its estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct QuantileEstimate {
    /// The level in `[0, 1]`.
    pub q: f64,
    /// The estimated value at rank `floor(q·(n−1))`.
    pub value: f64,
}

/// The most frequent levels of a categorical or boolean column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelsSummary {
    /// Up to [`super::SUMMARY_TOP_LEVELS`] levels, most frequent first, ties by name.
    pub top: Vec<LevelCount>,
    /// Non-missing values whose level is not listed in `top`.
    pub other_count: u64,
    /// Whether the sketch dropped levels beyond its cap (counts then approximate).
    pub truncated: bool,
}

/// One level with its count and its share of the non-missing values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelCount {
    /// The level as text (`"true"` / `"false"` for boolean columns).
    pub level: String,
    /// How many non-missing values have this level.
    pub count: u64,
    /// `count` divided by the number of non-missing values.
    pub share: f64,
}
