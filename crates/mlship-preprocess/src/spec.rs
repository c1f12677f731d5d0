//! The pipeline specification: what a pipeline does, before it has seen data.
//!
//! Written as TOML (documented in `docs/pipeline.md`) or built in Rust; every field has a
//! default, so an empty spec is a working pipeline (median / most-frequent imputation, standard
//! scaling, one-hot encoding). `Default` is the one source of those defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{PreprocessError, Result};
use crate::split::SplitMethod;

/// A whole pipeline specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSpec {
    /// The target column (may also be given on the command line).
    pub target: Option<String>,
    /// What the target is: `auto` (text or boolean → classification, numbers → regression),
    /// `regression` or `classification`.
    pub task: TaskKind,
    /// How to read files.
    pub read: ReadSpec,
    /// Which raw columns the model uses.
    pub select: SelectSpec,
    /// Row and column cleaning at fit.
    pub clean: CleanSpec,
    /// Engineered features: output name → expression (see `docs/expressions.md`).
    pub features: BTreeMap<String, String>,
    /// Date parts taken from datetime columns.
    pub dates: Vec<DateSpec>,
    /// Missing-value imputation.
    pub impute: ImputeSpec,
    /// Binning of numeric columns.
    pub bins: Vec<BinSpec>,
    /// Polynomial and interaction terms.
    pub polynomial: Option<PolynomialSpec>,
    /// Scaling of numeric features.
    pub scale: ScaleSpec,
    /// Encoding of categorical features.
    pub encode: EncodeSpec,
    /// Limits on the transformed output.
    pub output: OutputSpec,
    /// Train / validation / test split used by commands that split.
    pub split: SplitSpec,
    /// Seed of everything random in fitting (target-encoding folds, the reference reservoir).
    pub seed: u64,
}

impl PipelineSpec {
    /// Parses a TOML specification; `origin` names it in errors (usually the file name).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| PreprocessError::Spec {
            origin: origin.to_owned(),
            detail: format!(
                "{}\nhint: docs/pipeline.md lists every section and option",
                e.to_string().trim_end()
            ),
        })
    }

    /// The specification as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// What the target column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Text or boolean targets are classes; numeric targets are regressed.
    #[default]
    Auto,
    /// A real-valued target.
    Regression,
    /// Class labels (numbers are read as labels too).
    Classification,
}

/// How to read data files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadSpec {
    /// Text meaning "missing" in CSV, besides an empty field.
    pub null_values: Vec<String>,
    /// CSV separator (one ASCII character).
    pub separator: Option<char>,
    /// Per-column type overrides: `numeric`, `categorical`, `boolean`, or `datetime:<format>`
    /// (such as `datetime:%Y-%m-%d`).
    pub types: BTreeMap<String, String>,
}

impl Default for ReadSpec {
    fn default() -> Self {
        Self {
            null_values: ["NA", "N/A", "NULL", "null"].map(String::from).to_vec(),
            separator: None,
            types: BTreeMap::new(),
        }
    }
}

/// Which raw columns become inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SelectSpec {
    /// Columns to use, by name or glob pattern (`bill_*`); empty means all but the target.
    pub include: Vec<String>,
    /// Columns to leave out, by name or glob pattern (identifiers, leaks).
    pub exclude: Vec<String>,
    /// Keep only columns of these kinds: `numeric`, `categorical`, `boolean`, `datetime`.
    pub types: Vec<String>,
    /// Columns passed through untouched by imputation, scaling and encoding (numeric only).
    pub passthrough: Vec<String>,
}

/// Cleaning applied to the training data.
#[allow(clippy::struct_excessive_bools)] // independent switches of a TOML section
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CleanSpec {
    /// Drop rows that repeat an earlier row exactly (target included).
    pub drop_duplicates: bool,
    /// Drop columns with a single value (or none) in the training data.
    pub drop_constant: bool,
    /// Trim whitespace around text values, at fit and at prediction alike.
    pub trim_strings: bool,
    /// Lower-case text values, at fit and at prediction alike.
    pub lowercase: bool,
    /// Range rules on numeric columns.
    pub ranges: Vec<RangeRule>,
}

impl Default for CleanSpec {
    fn default() -> Self {
        Self {
            drop_duplicates: false,
            drop_constant: true,
            trim_strings: true,
            lowercase: false,
            ranges: Vec::new(),
        }
    }
}

/// A bound on a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeRule {
    /// The column.
    pub column: String,
    /// Smallest allowed value.
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest allowed value.
    #[serde(default)]
    pub max: Option<f64>,
    /// What to do with values outside: `clip` (at fit and prediction), `drop` (drop the row
    /// at fit; at prediction the value is clipped), or `null` (treat as missing).
    #[serde(default)]
    pub action: RangeAction,
}

/// What a range rule does with a value outside its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RangeAction {
    /// Replace by the nearest bound.
    #[default]
    Clip,
    /// Drop the training row (clip at prediction time).
    Drop,
    /// Treat as missing.
    Null,
}

/// Date parts to take from a datetime column (the column itself is then dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateSpec {
    /// The datetime column.
    pub column: String,
    /// Parts: `year`, `month`, `day`, `weekday` (Monday = 0), `hour`, `minute`, `dayofyear`,
    /// `epoch_days`.
    #[serde(default = "default_date_parts")]
    pub parts: Vec<String>,
}

fn default_date_parts() -> Vec<String> {
    ["year", "month", "day", "weekday"]
        .map(String::from)
        .to_vec()
}

/// Missing-value imputation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImputeSpec {
    /// Strategy for numeric features: `mean`, `median`, `most_frequent`, `constant`, `none`.
    pub numeric: String,
    /// Strategy for categorical features: `most_frequent`, `constant`, `none` (missing stays a
    /// level of its own, `null`).
    pub categorical: String,
    /// Fill value of the numeric `constant` strategy.
    pub numeric_fill: f64,
    /// Fill value of the categorical `constant` strategy.
    pub categorical_fill: String,
    /// Add a `<column>_missing` 0/1 feature for each column that had missing values at fit.
    pub add_indicator: bool,
    /// Per-column overrides: column → strategy (`mean`, …, or `constant:<value>`).
    pub columns: BTreeMap<String, String>,
}

impl Default for ImputeSpec {
    fn default() -> Self {
        Self {
            numeric: "median".into(),
            categorical: "most_frequent".into(),
            numeric_fill: 0.0,
            categorical_fill: "missing".into(),
            add_indicator: false,
            columns: BTreeMap::new(),
        }
    }
}

/// Binning of numeric columns (after imputation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinSpec {
    /// Columns to bin.
    pub columns: Vec<String>,
    /// Number of bins.
    #[serde(default = "default_bins")]
    pub n_bins: usize,
    /// `uniform` (equal width) or `quantile` (equal counts).
    #[serde(default = "default_bin_strategy")]
    pub strategy: String,
    /// `ordinal` (one feature holding the bin index) or `one_hot`.
    #[serde(default = "default_bin_encode")]
    pub encode: String,
}

fn default_bins() -> usize {
    5
}
fn default_bin_strategy() -> String {
    "quantile".into()
}
fn default_bin_encode() -> String {
    "ordinal".into()
}

/// Polynomial and interaction terms of chosen numeric columns (after imputation, before scaling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolynomialSpec {
    /// The columns combined.
    pub columns: Vec<String>,
    /// Highest total degree.
    #[serde(default = "default_degree")]
    pub degree: u32,
    /// Only products of distinct columns (no powers).
    #[serde(default)]
    pub interaction_only: bool,
}

fn default_degree() -> u32 {
    2
}

/// Scaling of numeric features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScaleSpec {
    /// `standard`, `min_max`, `robust`, `max_abs` or `none`.
    pub method: String,
    /// Target range of `min_max`.
    pub feature_range: (f64, f64),
    /// Quantile range of `robust`, in percent.
    pub quantile_range: (f64, f64),
    /// Per-column overrides: column → method.
    pub columns: BTreeMap<String, String>,
}

impl Default for ScaleSpec {
    fn default() -> Self {
        Self {
            method: "standard".into(),
            feature_range: (0.0, 1.0),
            quantile_range: (25.0, 75.0),
            columns: BTreeMap::new(),
        }
    }
}

/// Encoding of categorical features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncodeSpec {
    /// `one_hot`, `ordinal`, `target` or `native` (category codes for estimators that split on
    /// categories natively).
    pub method: String,
    /// One-hot: `none`, `first` or `if_binary`.
    pub drop: String,
    /// One-hot: levels rarer than this (a count ≥ 1, or a fraction < 1) join the `infrequent`
    /// column.
    pub min_frequency: Option<f64>,
    /// One-hot: at most this many output columns per feature (the rest are infrequent).
    pub max_categories: Option<usize>,
    /// What to do with a level not seen at fit: `error`, `ignore` (all zeros / the unknown
    /// value) or `infrequent`.
    pub handle_unknown: String,
    /// Ordinal: the code of an unknown level (NaN when unset).
    pub unknown_value: Option<f64>,
    /// Target: smoothing, `auto` or a number.
    pub smooth: Option<f64>,
    /// Target: folds of the cross fitting.
    pub folds: usize,
    /// Per-column overrides: column → method.
    pub columns: BTreeMap<String, String>,
}

impl Default for EncodeSpec {
    fn default() -> Self {
        Self {
            method: "one_hot".into(),
            drop: "none".into(),
            min_frequency: None,
            max_categories: None,
            handle_unknown: "ignore".into(),
            unknown_value: None,
            smooth: None,
            folds: 5,
            columns: BTreeMap::new(),
        }
    }
}

/// Limits on the transformed output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSpec {
    /// The largest dense output, in bytes, before fitting refuses (default: a quarter of RAM).
    pub max_output_bytes: Option<u64>,
}

/// How `mlship data split` and experiments split rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitSpec {
    /// `random`, `stratified`, `group` or `time`.
    pub method: SplitMethod,
    /// Share of rows for the test set.
    pub test: f64,
    /// Share of rows for the validation set.
    pub validation: f64,
    /// The group column (`group`) or time column (`time`); stratified splits use the target.
    pub by: Option<String>,
}

impl Default for SplitSpec {
    fn default() -> Self {
        Self {
            method: SplitMethod::Random,
            test: 0.2,
            validation: 0.0,
            by: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_spec_is_the_default() {
        let spec = PipelineSpec::from_toml("", "p.toml").unwrap();
        assert_eq!(spec, PipelineSpec::default());
        assert_eq!(spec.impute.numeric, "median");
        assert_eq!(spec.encode.method, "one_hot");
    }

    #[test]
    fn round_trips_through_toml() {
        let text = r#"
target = "species"
seed = 3
[features]
bill_ratio = "bill_length_mm / bill_depth_mm"
[[bins]]
columns = ["body_mass_g"]
n_bins = 4
[clean]
drop_duplicates = true
ranges = [{ column = "body_mass_g", min = 2000, max = 7000, action = "drop" }]
[encode]
method = "one_hot"
min_frequency = 5
[encode.columns]
island = "target"
"#;
        let spec = PipelineSpec::from_toml(text, "p.toml").unwrap();
        assert_eq!(spec.target.as_deref(), Some("species"));
        assert_eq!(spec.bins[0].n_bins, 4);
        assert_eq!(spec.bins[0].strategy, "quantile");
        assert_eq!(spec.clean.ranges[0].action, RangeAction::Drop);
        let again = PipelineSpec::from_toml(&spec.to_toml(), "again").unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn unknown_fields_are_refused_with_a_hint() {
        let e = PipelineSpec::from_toml("[scale]\nmethdo = \"robust\"\n", "p.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("p.toml: "), "{msg}");
        assert!(msg.contains("methdo"), "{msg}");
        assert!(msg.contains("docs/pipeline.md"), "{msg}");
    }
}
