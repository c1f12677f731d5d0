//! Mergeable, serialisable summaries of raw columns.
//!
//! A [`ColumnSketch`] summarises one raw column in a single pass and in bounded memory:
//! row and missing counts, and by kind
//!
//! - **numeric** (`f64`): finite / NaN / ±inf counts, exact min and max, mean and sample
//!   standard deviation, quantiles with relative error at most [`RELATIVE_ACCURACY`], bins for
//!   histograms and drift tests, distinct values (exact up to [`EXACT_DISTINCT_LIMIT`], then a
//!   `HyperLogLog`);
//! - **categorical** (strings): exact counts per level up to a cap ([`DEFAULT_MAX_LEVELS`]),
//!   then the most frequent levels, an `other` count and a `HyperLogLog`;
//! - **boolean**: the counts of `true` and `false`.
//!
//! Sketches of parts of a column merge into the sketch of the whole: counts, extremes,
//! quantile buckets, distinct-count registers and (below the cap) level frequencies merge
//! exactly, associatively and commutatively; mean and variance merge with Chan's formulas to
//! within rounding. Serialisation is deterministic (`BTreeMap`/`Vec` only, floats bit-exact)
//! and every deserialised sketch is validated. The layout, the algorithms and the proofs of the
//! bounds are in `docs/formats/sketch.md`.
//!
//! ```
//! use mlship_core::sketch::ColumnSketch;
//!
//! let mut left = ColumnSketch::new_numeric();
//! left.update_f64(&[1.0, 2.0, f64::NAN], None)?;
//! let mut right = ColumnSketch::new_numeric();
//! right.update_f64(&[3.0, 4.0, 5.0], Some(&[true, false, true]))?;
//! left.merge(&right)?;
//! let summary = left.summary();
//! assert_eq!((summary.count, summary.missing), (6, 1));
//! assert_eq!(left.quantile(0.5), Some(2.0));
//! # Ok::<(), mlship_core::sketch::SketchError>(())
//! ```

mod buckets;
mod categorical;
mod exact_f64;
mod hash;
mod hll;
mod numeric;
mod summary;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use categorical::{BooleanSketch, CategoricalSketch};
pub use hash::{stable_hash_f64, stable_hash_str};
pub use numeric::{Bin, NumericSketch, ValueCount};
pub use summary::{ColumnSummary, LevelCount, LevelsSummary, NumericSummary, QuantileEstimate};

/// The version of the sketch serialisation described in `docs/formats/sketch.md`. Sections that
/// embed sketches record it; it changes whenever a stored field or algorithm changes.
pub const SKETCH_FORMAT_VERSION: u32 = 1;

/// Guaranteed relative accuracy of numeric quantiles: `2^-8 = 0.00390625`.
///
/// For the finite value `x` at rank `floor(q·(n−1))` the estimate `v` satisfies
/// `|v − x| <= RELATIVE_ACCURACY · |x|` — unless `x` is subnormal (absolute error at most
/// `2^-1030`) or was folded by collapsing (see [`MAX_BUCKETS_PER_SIGN`]).
pub const RELATIVE_ACCURACY: f64 = buckets::RELATIVE_ACCURACY;

/// Quantile buckets kept per sign: 4096 buckets of 128 per octave cover 32 octaves (about 9.6
/// decades) of magnitudes. Beyond that the lowest magnitudes of that sign are folded into the
/// lowest kept bucket — an absolute error of at most `2^-31 · max|x|` for them — and
/// [`NumericSketch::collapsed`] says so.
pub const MAX_BUCKETS_PER_SIGN: usize = buckets::MAX_BUCKETS;

/// Distinct counting uses `2^HLL_PRECISION = 4096` `HyperLogLog` registers: a relative standard
/// error of about 1.6 %.
pub const HLL_PRECISION: u32 = hll::PRECISION;

/// Numeric columns keep exact value counts — and so exact quantiles and distinct counts — while
/// they have at most this many distinct finite values.
pub const EXACT_DISTINCT_LIMIT: usize = 64;

/// Categorical sketches keep exact counts for at most this many levels unless told otherwise.
pub const DEFAULT_MAX_LEVELS: usize = 1000;

/// The quantile levels reported by [`ColumnSketch::summary`].
pub const SUMMARY_QUANTILES: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

/// The number of levels reported by [`ColumnSketch::summary`].
pub const SUMMARY_TOP_LEVELS: usize = 10;

/// Deserialised sketches declaring more values than this are refused as absurd; it keeps every
/// later count far from `u64` overflow.
pub(crate) const MAX_ROWS: u64 = 1 << 62;

/// The kind of column a sketch summarises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SketchKind {
    /// `f64` values.
    Numeric,
    /// String values (levels).
    Categorical,
    /// `true` / `false` values.
    Boolean,
}

impl fmt::Display for SketchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Numeric => "numeric",
            Self::Categorical => "categorical",
            Self::Boolean => "boolean",
        })
    }
}

/// What went wrong when updating, merging or querying a sketch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SketchError {
    /// An update or query for one kind of column was made on a sketch of another kind.
    #[error("cannot {operation} on a {found} sketch: expected a {expected} sketch")]
    KindMismatch {
        /// The method called (`"update_f64"`, `"push_str"`, …).
        operation: &'static str,
        /// The kind the method works on.
        expected: SketchKind,
        /// The kind of the sketch.
        found: SketchKind,
    },
    /// Two sketches of different kinds cannot be merged.
    #[error("cannot merge a {other} sketch into a {target} sketch: sketches must be of one kind")]
    MergeKindMismatch {
        /// The kind of the sketch merged into.
        target: SketchKind,
        /// The kind of the sketch merged from.
        other: SketchKind,
    },
    /// A validity mask does not have one entry per value.
    #[error("validity mask has {valid} entries but there are {values} values")]
    LengthMismatch {
        /// Number of values.
        values: usize,
        /// Number of validity entries.
        valid: usize,
    },
    /// A dictionary code does not index the dictionary.
    #[error(
        "dictionary code {code} at position {position} is out of range: the dictionary has {len} entries"
    )]
    CodeOutOfRange {
        /// Position of the code in the batch.
        position: usize,
        /// The offending code.
        code: u32,
        /// Dictionary length.
        len: usize,
    },
    /// Bin edges are not usable.
    #[error("invalid bin edges: {reason}")]
    InvalidEdges {
        /// What is wrong with them.
        reason: String,
    },
    /// A level cap of zero was asked for.
    #[error(
        "invalid max_levels = {value}: expected at least 1 (and at most {})",
        u32::MAX
    )]
    InvalidMaxLevels {
        /// The requested cap.
        value: usize,
    },
}

/// A distinct-value count and whether it is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DistinctCount {
    /// The number of distinct non-missing values (finite values for numeric columns).
    pub estimate: u64,
    /// `false` when the count is a `HyperLogLog` estimate.
    pub exact: bool,
}

/// A value that may be a missing string: lets [`ColumnSketch::update_str`] take slices and
/// iterators of `Option<&str>`, `&Option<&str>`, `&Option<String>`, `&str` or `&String`.
pub trait OptionalStr<'a> {
    /// The string, or `None` when missing.
    fn into_optional_str(self) -> Option<&'a str>;
}

impl<'a> OptionalStr<'a> for Option<&'a str> {
    fn into_optional_str(self) -> Option<&'a str> {
        self
    }
}

// Iterating a `&[Option<&str>]` yields exactly this type.
#[allow(clippy::ref_option_ref)]
impl<'a> OptionalStr<'a> for &Option<&'a str> {
    fn into_optional_str(self) -> Option<&'a str> {
        *self
    }
}

impl<'a> OptionalStr<'a> for &'a Option<String> {
    fn into_optional_str(self) -> Option<&'a str> {
        self.as_deref()
    }
}

impl<'a> OptionalStr<'a> for &'a str {
    fn into_optional_str(self) -> Option<&'a str> {
        Some(self)
    }
}

impl<'a> OptionalStr<'a> for &'a String {
    fn into_optional_str(self) -> Option<&'a str> {
        Some(self.as_str())
    }
}

/// The kind-specific part of a sketch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SketchData {
    Numeric(NumericSketch),
    Categorical(CategoricalSketch),
    Boolean(BooleanSketch),
}

/// A mergeable summary of one raw column (see the [module documentation](self)).
///
/// Build one with [`ColumnSketch::new`] (or `new_numeric` / `new_categorical` /
/// `new_boolean`), feed it batches with the `update_*` methods (or single values with
/// `push_*`), combine partial sketches with [`ColumnSketch::merge`], and read it with
/// [`ColumnSketch::summary`], [`ColumnSketch::quantile`], [`ColumnSketch::bins`],
/// [`ColumnSketch::counts_in`] and [`ColumnSketch::top_k`]. Methods for another kind of
/// column return [`SketchError::KindMismatch`]; queries for another kind return `None` or
/// nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ColumnSketchRepr")]
pub struct ColumnSketch {
    missing: u64,
    data: SketchData,
}

/// The serialised form of [`ColumnSketch`], validated on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnSketchRepr {
    missing: u64,
    data: SketchData,
}

impl TryFrom<ColumnSketchRepr> for ColumnSketch {
    type Error = String;

    fn try_from(r: ColumnSketchRepr) -> Result<Self, String> {
        let sketch = Self {
            missing: r.missing,
            data: r.data,
        };
        if let SketchData::Boolean(b) = &sketch.data {
            b.validate()?;
        }
        match sketch.missing.checked_add(sketch.non_missing()) {
            Some(n) if n <= MAX_ROWS => Ok(sketch),
            _ => Err(format!(
                "column sketch declares {} missing values: too many",
                sketch.missing
            )),
        }
    }
}

impl ColumnSketch {
    /// An empty sketch of the given kind (categorical sketches keep [`DEFAULT_MAX_LEVELS`]).
    pub fn new(kind: SketchKind) -> Self {
        let data = match kind {
            SketchKind::Numeric => SketchData::Numeric(NumericSketch::default()),
            SketchKind::Categorical => {
                SketchData::Categorical(CategoricalSketch::new(DEFAULT_MAX_LEVELS as u32))
            }
            SketchKind::Boolean => SketchData::Boolean(BooleanSketch::default()),
        };
        Self { missing: 0, data }
    }

    /// An empty numeric sketch.
    pub fn new_numeric() -> Self {
        Self::new(SketchKind::Numeric)
    }

    /// An empty categorical sketch keeping exact counts for up to [`DEFAULT_MAX_LEVELS`] levels.
    pub fn new_categorical() -> Self {
        Self::new(SketchKind::Categorical)
    }

    /// An empty categorical sketch keeping exact counts for up to `max_levels` levels.
    pub fn categorical_with_max_levels(max_levels: usize) -> Result<Self, SketchError> {
        let cap = u32::try_from(max_levels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or(SketchError::InvalidMaxLevels { value: max_levels })?;
        Ok(Self {
            missing: 0,
            data: SketchData::Categorical(CategoricalSketch::new(cap)),
        })
    }

    /// An empty boolean sketch.
    pub fn new_boolean() -> Self {
        Self::new(SketchKind::Boolean)
    }

    /// The kind of column this sketch summarises.
    pub fn kind(&self) -> SketchKind {
        match &self.data {
            SketchData::Numeric(_) => SketchKind::Numeric,
            SketchData::Categorical(_) => SketchKind::Categorical,
            SketchData::Boolean(_) => SketchKind::Boolean,
        }
    }

    /// Rows seen, missing ones included.
    pub fn count(&self) -> u64 {
        self.missing.saturating_add(self.non_missing())
    }

    /// Rows whose value was missing (null). NaN is a value, counted by [`NumericSketch::nan`].
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Rows with a value (NaN and infinities included).
    pub fn non_missing(&self) -> u64 {
        match &self.data {
            SketchData::Numeric(n) => n.non_missing(),
            SketchData::Categorical(c) => c.non_missing(),
            SketchData::Boolean(b) => b.non_missing(),
        }
    }

    /// The numeric part, if this is a numeric sketch.
    pub fn numeric(&self) -> Option<&NumericSketch> {
        match &self.data {
            SketchData::Numeric(n) => Some(n),
            _ => None,
        }
    }

    /// The categorical part, if this is a categorical sketch.
    pub fn categorical(&self) -> Option<&CategoricalSketch> {
        match &self.data {
            SketchData::Categorical(c) => Some(c),
            _ => None,
        }
    }

    /// The boolean part, if this is a boolean sketch.
    pub fn boolean(&self) -> Option<&BooleanSketch> {
        match &self.data {
            SketchData::Boolean(b) => Some(b),
            _ => None,
        }
    }

    fn mismatch(&self, operation: &'static str, expected: SketchKind) -> SketchError {
        SketchError::KindMismatch {
            operation,
            expected,
            found: self.kind(),
        }
    }

    fn check_valid(values: usize, valid: Option<&[bool]>) -> Result<(), SketchError> {
        match valid {
            Some(v) if v.len() != values => Err(SketchError::LengthMismatch {
                values,
                valid: v.len(),
            }),
            _ => Ok(()),
        }
    }

    /// Adds a batch of numeric values; `valid[i] == false` marks `values[i]` missing (its value
    /// is ignored). NaN and ±inf are counted separately and excluded from the statistics.
    pub fn update_f64(
        &mut self,
        values: &[f64],
        valid: Option<&[bool]>,
    ) -> Result<(), SketchError> {
        Self::check_valid(values.len(), valid)?;
        let SketchData::Numeric(n) = &mut self.data else {
            return Err(self.mismatch("update_f64", SketchKind::Numeric));
        };
        let missing = n.update(values, valid);
        self.missing += missing;
        Ok(())
    }

    /// Adds a batch of strings (`None` is missing): a slice or iterator of `Option<&str>`,
    /// `&Option<&str>`, `&Option<String>`, `&str` or `&String`.
    pub fn update_str<'a, I>(&mut self, values: I) -> Result<(), SketchError>
    where
        I: IntoIterator,
        I::Item: OptionalStr<'a>,
    {
        let SketchData::Categorical(c) = &mut self.data else {
            return Err(self.mismatch("update_str", SketchKind::Categorical));
        };
        let missing = c.update_strs(values.into_iter().map(OptionalStr::into_optional_str));
        self.missing += missing;
        Ok(())
    }

    /// Adds a batch of dictionary-encoded strings: value `i` is `dict[codes[i]]`, or missing
    /// when `valid[i] == false` (its code is then ignored). The fast path for categorical
    /// columns: codes are counted in a vector and each distinct code touches the level map
    /// once. On an out-of-range code nothing is added.
    pub fn update_dict<S: AsRef<str>>(
        &mut self,
        dict: &[S],
        codes: &[u32],
        valid: Option<&[bool]>,
    ) -> Result<(), SketchError> {
        Self::check_valid(codes.len(), valid)?;
        let SketchData::Categorical(c) = &mut self.data else {
            return Err(self.mismatch("update_dict", SketchKind::Categorical));
        };
        let missing = c.update_dict(dict, codes, valid)?;
        self.missing += missing;
        Ok(())
    }

    /// Adds a batch of booleans; `valid[i] == false` marks `values[i]` missing.
    pub fn update_bool(
        &mut self,
        values: &[bool],
        valid: Option<&[bool]>,
    ) -> Result<(), SketchError> {
        Self::check_valid(values.len(), valid)?;
        let SketchData::Boolean(b) = &mut self.data else {
            return Err(self.mismatch("update_bool", SketchKind::Boolean));
        };
        let missing = b.update(values, valid);
        self.missing += missing;
        Ok(())
    }

    /// Adds one numeric value (`None` is missing).
    pub fn push_f64(&mut self, value: Option<f64>) -> Result<(), SketchError> {
        let SketchData::Numeric(n) = &mut self.data else {
            return Err(self.mismatch("push_f64", SketchKind::Numeric));
        };
        match value {
            Some(x) => n.push(x),
            None => self.missing += 1,
        }
        Ok(())
    }

    /// Adds one string value (`None` is missing).
    pub fn push_str(&mut self, value: Option<&str>) -> Result<(), SketchError> {
        let SketchData::Categorical(c) = &mut self.data else {
            return Err(self.mismatch("push_str", SketchKind::Categorical));
        };
        match value {
            Some(s) => c.push(s),
            None => self.missing += 1,
        }
        Ok(())
    }

    /// Adds one boolean value (`None` is missing).
    pub fn push_bool(&mut self, value: Option<bool>) -> Result<(), SketchError> {
        let SketchData::Boolean(b) = &mut self.data else {
            return Err(self.mismatch("push_bool", SketchKind::Boolean));
        };
        match value {
            Some(v) => b.push(v),
            None => self.missing += 1,
        }
        Ok(())
    }

    /// Counts one missing value, whatever the kind.
    pub fn push_missing(&mut self) {
        self.missing += 1;
    }

    /// Adds everything `other` has seen, as if its rows had been fed to `self`.
    ///
    /// Exactly associative and commutative for counts, extremes, quantile buckets, exact
    /// values, distinct-count registers and untruncated level counts; mean and variance agree
    /// to rounding. Merging categorical sketches keeps the smaller level cap.
    pub fn merge(&mut self, other: &ColumnSketch) -> Result<(), SketchError> {
        match (&mut self.data, &other.data) {
            (SketchData::Numeric(a), SketchData::Numeric(b)) => a.merge(b),
            (SketchData::Categorical(a), SketchData::Categorical(b)) => a.merge(b),
            (SketchData::Boolean(a), SketchData::Boolean(b)) => a.merge(b),
            _ => {
                return Err(SketchError::MergeKindMismatch {
                    target: self.kind(),
                    other: other.kind(),
                });
            }
        }
        self.missing = self.missing.saturating_add(other.missing);
        Ok(())
    }

    /// The estimated `q`-quantile of a numeric column's finite values: the value `x` at rank
    /// `floor(q·(n−1))` of the sorted finite values (the "lower" quantile), within
    /// `RELATIVE_ACCURACY · |x|`; exact while the column has at most
    /// [`EXACT_DISTINCT_LIMIT`] distinct values, and for `q = 0` and `q = 1` (min and max).
    ///
    /// `None` for other kinds, without finite values, or when `q` is not in `[0, 1]`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.numeric().and_then(|n| n.quantile(q))
    }

    /// [`Self::quantile`] at several levels.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<f64>> {
        qs.iter().map(|&q| self.quantile(q)).collect()
    }

    /// The estimated fraction of a numeric column's finite values that are `<= x`, spreading
    /// each bin's count evenly over its range. `None` for other kinds, without finite values,
    /// or for NaN `x`.
    pub fn cdf(&self, x: f64) -> Option<f64> {
        self.numeric().and_then(|n| n.cdf(x))
    }

    /// The bins of a numeric column in ascending order (see [`NumericSketch::bins`]); nothing
    /// for other kinds.
    pub fn bins(&self) -> impl Iterator<Item = Bin> + '_ {
        self.numeric().into_iter().flat_map(NumericSketch::bins)
    }

    /// A histogram of a numeric column's finite values over the intervals
    /// `[edges[i], edges[i+1])` (the last one closed), for drift tests.
    ///
    /// Bins entirely inside an interval are counted exactly; a bin straddling edges is split in
    /// proportion to its overlap (values assumed evenly spread within it, and narrowed to the
    /// exact `[min, max]`); point bins (zeros, exact values) go whole to their interval. Counts
    /// outside `[edges[0], edges[last]]` are left out. Edges must be increasing and not NaN
    /// (infinite ends are fine).
    pub fn counts_in(&self, edges: &[f64]) -> Result<Vec<f64>, SketchError> {
        match &self.data {
            SketchData::Numeric(n) => n.counts_in(edges),
            _ => Err(self.mismatch("counts_in", SketchKind::Numeric)),
        }
    }

    /// Distinct non-missing values (finite values for numeric columns), exact when possible.
    pub fn distinct(&self) -> DistinctCount {
        let (estimate, exact) = match &self.data {
            SketchData::Numeric(n) => n.distinct(),
            SketchData::Categorical(c) => c.distinct(),
            SketchData::Boolean(b) => (
                u64::from(b.true_count() > 0) + u64::from(b.false_count() > 0),
                true,
            ),
        };
        DistinctCount { estimate, exact }
    }

    /// The `k` most frequent levels of a categorical or boolean column, by count descending
    /// then level ascending, each with its share of the non-missing values; empty for numeric
    /// columns.
    pub fn top_k(&self, k: usize) -> Vec<LevelCount> {
        let (levels, total) = match &self.data {
            SketchData::Numeric(_) => return Vec::new(),
            SketchData::Categorical(c) => (
                c.levels()
                    .iter()
                    .map(|(l, &n)| (l.as_str(), n))
                    .collect::<Vec<_>>(),
                c.non_missing(),
            ),
            SketchData::Boolean(b) => (
                [("false", b.false_count()), ("true", b.true_count())]
                    .into_iter()
                    .filter(|&(_, n)| n > 0)
                    .collect(),
                b.non_missing(),
            ),
        };
        let mut levels = levels;
        let by_rank = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        if k < levels.len() {
            levels.select_nth_unstable_by(k, by_rank);
            levels.truncate(k);
        }
        levels.sort_unstable_by(by_rank);
        levels
            .into_iter()
            .map(|(level, count)| LevelCount {
                level: level.to_owned(),
                count,
                share: if total > 0 {
                    count as f64 / total as f64
                } else {
                    0.0
                },
            })
            .collect()
    }

    /// The column at a glance: what `mlship data profile` prints.
    pub fn summary(&self) -> ColumnSummary {
        let count = self.count();
        let distinct = self.distinct();
        let numeric = self.numeric().map(|n| NumericSummary {
            finite: n.finite(),
            zeros: n.zeros(),
            nan: n.nan(),
            pos_inf: n.pos_inf(),
            neg_inf: n.neg_inf(),
            min: n.min(),
            max: n.max(),
            mean: n.mean(),
            std: n.std(),
            quantiles: SUMMARY_QUANTILES
                .iter()
                .filter_map(|&q| n.quantile(q).map(|value| QuantileEstimate { q, value }))
                .collect(),
            quantiles_exact: n.exact_values().is_some(),
            collapsed: n.collapsed(),
        });
        let levels = match &self.data {
            SketchData::Numeric(_) => None,
            SketchData::Categorical(_) | SketchData::Boolean(_) => {
                let top = self.top_k(SUMMARY_TOP_LEVELS);
                let shown = top.iter().fold(0u64, |a, l| a.saturating_add(l.count));
                Some(LevelsSummary {
                    other_count: self.non_missing().saturating_sub(shown),
                    truncated: self.categorical().is_some_and(CategoricalSketch::truncated),
                    top,
                })
            }
        };
        ColumnSummary {
            kind: self.kind(),
            count,
            missing: self.missing,
            missing_fraction: if count > 0 {
                self.missing as f64 / count as f64
            } else {
                0.0
            },
            distinct: distinct.estimate,
            distinct_exact: distinct.exact,
            numeric,
            levels,
        }
    }
}

#[cfg(test)]
mod tests;
