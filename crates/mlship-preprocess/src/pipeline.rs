//! The fitted pipeline: raw columns in, the numeric design matrix out.
//!
//! [`Pipeline::fit`] reads a [`PipelineSpec`] and a training batch and learns every step; the
//! fitted pipeline then transforms any raw batch — a whole file at training time, one JSON record
//! at serving time — through the same code, so the two can never disagree.
//!
//! Order of the steps, at fit and at transform:
//! 1. the input columns are checked against the recorded [`Schema`] (names, types, levels) and
//!    type overrides from `read.types` are applied;
//! 2. text is trimmed / lower-cased, range rules clip or null values (rows are dropped only at
//!    fit, together with missing targets and duplicates);
//! 3. engineered features are evaluated from the raw columns (expressions, date parts);
//! 4. each numeric feature is imputed, then binned or scaled; each categorical feature is imputed,
//!    then one-hot, ordinal, target or natively encoded; polynomial terms are built from imputed
//!    values and scaled like any numeric feature.
//!
//! Output feature names are readable: `bill_length_mm`, `island=Dream`, `island=infrequent`,
//! `bill_length_mm*bill_depth_mm`, `body_mass_g=[3550, 4050)`, `sex_missing`.

use std::collections::{BTreeMap, HashSet};

use mlship_core::profile::ReferenceProfile;
use mlship_core::schema::{ColumnKind, ColumnSpec};
use mlship_core::{
    ColumnData, Dataset, FeatureInfo, FeatureKind, RawBatch, RawColumn, Schema, Task,
};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::clean::{self, CleanReport};
use crate::error::{PreprocessError, Result};
use crate::expr::{Expr, ValueType};
use crate::spec::{PipelineSpec, RangeAction, RangeRule, TaskKind};
use crate::transform::{
    BinEncode, BinStrategy, CategoricalImputeStrategy, CategoricalImputer, DropPolicy, KBins,
    KBinsParams, MinFrequency, MinMaxParams, NumericImputeStrategy, NumericImputer, OneHot,
    OneHotParams, OneHotUnknown, Ordinal, OrdinalParams, OrdinalUnknown, Polynomial,
    PolynomialParams, RobustParams, Scaler, ScalerParams, Smooth, StandardParams, TargetEncoder,
    TargetParams, TargetType, TransformError,
};
use crate::types::{self, ColumnType};

/// Version of the serialised [`Pipeline`] (the bundle's `pipeline` section).
pub const PIPELINE_SECTION_VERSION: u32 = 1;

/// The target column: its name and the task it defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The column's name.
    pub name: String,
    /// Regression, or classification with its class labels in scikit-learn's order.
    pub task: Task,
}

/// A feature computed from raw columns before imputation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Derived {
    /// An expression.
    Expr { name: String, expr: Expr },
    /// A part of a datetime column.
    DatePart {
        name: String,
        column: String,
        part: String,
    },
}

/// The fitted steps of one feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Plan {
    Numeric {
        column: String,
        impute: Option<NumericImputer>,
        indicator: bool,
        bins: Option<KBins>,
        scaler: Option<Scaler>,
    },
    Categorical {
        column: String,
        impute: Option<CategoricalImputer>,
        indicator: bool,
        encoder: Encoder,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Encoder {
    OneHot(OneHot),
    Ordinal(Ordinal),
    Target(TargetEncoder),
    /// Category codes for estimators with native categorical splits.
    Native(Ordinal),
}

/// Polynomial terms of degree two and more over imputed numeric columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PolyPlan {
    /// Indices into `plans` of the inputs (all numeric).
    inputs: Vec<usize>,
    poly: Polynomial,
    /// Which of `poly`'s outputs are kept (degree ≥ 2).
    kept: Vec<usize>,
    /// One scaler per kept term.
    scalers: Vec<Option<Scaler>>,
}

/// What fitting found and did, for people and the bundle manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FitReport {
    /// Row and column cleaning.
    pub clean: CleanReport,
    /// Raw columns left out, with the reason.
    pub dropped_columns: BTreeMap<String, String>,
    /// Raw input columns used.
    pub n_inputs: usize,
    /// Output features.
    pub n_features: usize,
    /// Training rows after cleaning.
    pub n_rows: usize,
    /// Columns that had missing values at fit, with their count.
    pub missing: BTreeMap<String, usize>,
}

/// A fitted preprocessing pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    spec: PipelineSpec,
    schema: Schema,
    overrides: BTreeMap<String, ColumnType>,
    target: Option<TargetInfo>,
    derived: Vec<Derived>,
    plans: Vec<Plan>,
    poly: Option<PolyPlan>,
    features: Vec<FeatureInfo>,
    report: FitReport,
}

/// A fitted pipeline with what fitting produced from the training data.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// The transformed training data (target-encoded columns cross-fitted, as scikit-learn's
    /// `fit_transform` gives them).
    pub train: Dataset,
    /// The reference profile of the raw training inputs (and the target).
    pub profile: ReferenceProfile,
}

/// Working values of one feature during a transform: numbers (`NaN` = missing) or dictionary
/// codes.
enum Work {
    Num(Vec<f64>),
    Cat {
        dict: Vec<String>,
        codes: Vec<u32>,
        valid: Option<Vec<bool>>,
    },
}

impl Work {
    /// Like [`Work::from_column`], moving the values out of `col` instead of copying them.
    fn from_owned(col: RawColumn) -> Option<Self> {
        match col.data {
            ColumnData::Numeric(mut v) => {
                if let Some(m) = &col.validity {
                    for (x, &ok) in v.iter_mut().zip(m) {
                        if !ok {
                            *x = f64::NAN;
                        }
                    }
                }
                Some(Self::Num(v))
            }
            ColumnData::Categorical { dict, codes } => Some(Self::Cat {
                dict,
                codes,
                valid: col.validity,
            }),
            ColumnData::Boolean(_) | ColumnData::Datetime(_) => Self::from_column(&col),
        }
    }

    fn from_column(col: &RawColumn) -> Option<Self> {
        let valid = |r: usize| col.is_valid(r);
        match &col.data {
            ColumnData::Numeric(v) => Some(Self::Num(match &col.validity {
                None => v.clone(),
                Some(m) => v
                    .iter()
                    .zip(m)
                    .map(|(&x, &ok)| if ok { x } else { f64::NAN })
                    .collect(),
            })),
            ColumnData::Boolean(v) => Some(Self::Num(
                v.iter()
                    .enumerate()
                    .map(|(r, &b)| {
                        if valid(r) {
                            f64::from(u8::from(b))
                        } else {
                            f64::NAN
                        }
                    })
                    .collect(),
            )),
            ColumnData::Categorical { dict, codes } => Some(Self::Cat {
                dict: dict.clone(),
                codes: codes.clone(),
                valid: col.validity.clone(),
            }),
            ColumnData::Datetime(_) => None,
        }
    }

    fn levels(&self) -> Vec<Option<&str>> {
        match self {
            Self::Cat { dict, codes, valid } => codes
                .iter()
                .enumerate()
                .map(|(r, &c)| {
                    if valid.as_ref().is_some_and(|v| !v[r]) {
                        None
                    } else {
                        Some(dict[c as usize].as_str())
                    }
                })
                .collect(),
            Self::Num(_) => Vec::new(),
        }
    }
}

fn spec_err(origin: &str, detail: impl Into<String>) -> PreprocessError {
    PreprocessError::Spec {
        origin: origin.to_owned(),
        detail: detail.into(),
    }
}

fn transform_err(e: TransformError) -> PreprocessError {
    PreprocessError::Transform(e)
}

fn numeric_strategy(text: &str, fill: f64, origin: &str) -> Result<Option<NumericImputeStrategy>> {
    Ok(Some(match text {
        "mean" => NumericImputeStrategy::Mean,
        "median" => NumericImputeStrategy::Median,
        "most_frequent" => NumericImputeStrategy::MostFrequent,
        "constant" => NumericImputeStrategy::Constant(fill),
        "none" => return Ok(None),
        t if t.starts_with("constant:") => {
            let v = &t["constant:".len()..];
            NumericImputeStrategy::Constant(
                v.trim().parse().map_err(|_| {
                    spec_err(origin, format!("constant fill {v:?} is not a number"))
                })?,
            )
        }
        other => {
            return Err(spec_err(
                origin,
                format!(
                    "unknown imputation {other:?}\nhint: use mean, median, most_frequent, constant, constant:<value> or none"
                ),
            ));
        }
    }))
}

fn categorical_strategy(
    text: &str,
    fill: &str,
    origin: &str,
) -> Result<Option<CategoricalImputeStrategy>> {
    Ok(Some(match text {
        "most_frequent" => CategoricalImputeStrategy::MostFrequent,
        "constant" => CategoricalImputeStrategy::Constant(fill.to_owned()),
        "none" => return Ok(None),
        t if t.starts_with("constant:") => {
            CategoricalImputeStrategy::Constant(t["constant:".len()..].to_owned())
        }
        other => {
            return Err(spec_err(
                origin,
                format!(
                    "unknown categorical imputation {other:?}\nhint: use most_frequent, constant, constant:<level> or none"
                ),
            ));
        }
    }))
}

fn scaler_params(method: &str, spec: &PipelineSpec, origin: &str) -> Result<Option<ScalerParams>> {
    Ok(Some(match method {
        "standard" => ScalerParams::Standard(StandardParams::default()),
        "min_max" => ScalerParams::MinMax(MinMaxParams {
            feature_range: spec.scale.feature_range,
            ..MinMaxParams::default()
        }),
        "robust" => ScalerParams::Robust(RobustParams {
            quantile_range: spec.scale.quantile_range,
            ..RobustParams::default()
        }),
        "max_abs" => ScalerParams::MaxAbs,
        "none" => return Ok(None),
        other => {
            return Err(spec_err(
                origin,
                format!(
                    "unknown scaling {other:?}\nhint: use standard, min_max, robust, max_abs or none"
                ),
            ));
        }
    }))
}

/// The largest dense output fitting allows by default: a quarter of the machine's memory.
pub fn default_max_output_bytes() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kb| kb.parse::<u64>().ok())
                })
        })
        .map_or(16 << 30, |kb| kb * 1024);
    total / 4
}

impl Pipeline {
    /// Fits a pipeline on `batch` as `spec` describes; `target` overrides `spec.target`.
    ///
    /// # Errors
    /// A spec naming columns the data lacks, an expression that does not parse or type-check,
    /// an all-missing column, a target with one class, an output larger than the allowed size.
    #[allow(clippy::too_many_lines)] // the steps of fitting, in order, read best in one place
    pub fn fit(batch: RawBatch, spec: &PipelineSpec, target: Option<&str>) -> Result<Fitted> {
        let target_name = target.map(str::to_owned).or_else(|| spec.target.clone());
        if let Some(t) = &target_name
            && batch.column(t).is_none()
        {
            return Err(spec_err(
                "target",
                format!(
                    "no column {t:?} in the data\nhint: the columns are {}",
                    batch.names().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        // Type overrides.
        let mut overrides = BTreeMap::new();
        for (column, text) in &spec.read.types {
            if batch.column(column).is_none() {
                return Err(spec_err(
                    "read.types",
                    format!(
                        "no column {column:?} in the data\nhint: the columns are {}",
                        batch.names().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            overrides.insert(column.clone(), ColumnType::parse(column, text)?);
        }
        let mut columns = batch.into_columns();
        for col in &mut columns {
            if let Some(t) = overrides.get(&col.name) {
                let taken =
                    std::mem::replace(col, RawColumn::new("", ColumnData::Numeric(Vec::new())));
                *col = types::convert_column(taken, t)?;
            }
        }
        let batch = RawBatch::new(columns)?;

        // Column selection.
        let names: Vec<String> = batch.names().map(str::to_owned).collect();
        let mut dropped = BTreeMap::new();
        let included: HashSet<&str> = if spec.select.include.is_empty() {
            names.iter().map(String::as_str).collect()
        } else {
            clean::matching(names.iter().map(String::as_str), &spec.select.include)
        };
        let excluded = clean::matching(names.iter().map(String::as_str), &spec.select.exclude);
        for p in spec
            .select
            .include
            .iter()
            .chain(&spec.select.exclude)
            .chain(&spec.select.passthrough)
        {
            if !names.iter().any(|n| clean::glob_match(p, n)) {
                return Err(spec_err(
                    "select",
                    format!(
                        "{p:?} matches no column\nhint: the columns are {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        for t in &spec.select.types {
            if !["numeric", "categorical", "boolean", "datetime"].contains(&t.as_str()) {
                return Err(spec_err(
                    "select.types",
                    format!(
                        "unknown type {t:?}\nhint: use numeric, categorical, boolean or datetime"
                    ),
                ));
            }
        }
        let mut keep: Vec<&str> = Vec::new();
        for col in batch.columns() {
            let n = col.name.as_str();
            if Some(n) == target_name.as_deref() {
                keep.push(n);
                continue;
            }
            if !included.contains(n) {
                dropped.insert(n.to_owned(), "not in select.include".to_owned());
            } else if excluded.contains(n) {
                dropped.insert(n.to_owned(), "in select.exclude".to_owned());
            } else if !spec.select.types.is_empty()
                && !spec.select.types.iter().any(|t| t == col.data.type_name())
            {
                dropped.insert(
                    n.to_owned(),
                    format!("a {} column, not in select.types", col.data.type_name()),
                );
            } else {
                keep.push(n);
            }
        }
        let batch = batch.select(&keep)?;

        // Cleaning.
        let (batch, clean_report) = clean::clean(batch, target_name.as_deref(), &spec.clean)?;
        for c in &clean_report.constant_columns {
            dropped.insert(c.clone(), "constant in the training data".to_owned());
        }
        if batch.n_rows() == 0 {
            return Err(PreprocessError::Spec {
                origin: "clean".into(),
                detail: "no training rows remain after cleaning\nhint: check the target column and the range rules".into(),
            });
        }

        // Target.
        let target = match &target_name {
            None => None,
            Some(t) => {
                let col = batch.column(t).ok_or_else(|| {
                    spec_err("target", format!("column {t:?} was dropped by cleaning"))
                })?;
                Some(TargetInfo {
                    name: t.clone(),
                    task: infer_task(col, spec.task)?,
                })
            }
        };

        // Datetime columns without a date rule cannot be used directly.
        let dated: HashSet<&str> = spec.dates.iter().map(|d| d.column.as_str()).collect();
        let mut inputs: Vec<&RawColumn> = Vec::new();
        for col in batch.columns() {
            if Some(col.name.as_str()) == target_name.as_deref() {
                continue;
            }
            if matches!(col.data, ColumnData::Datetime(_)) && !dated.contains(col.name.as_str()) {
                dropped.insert(
                    col.name.clone(),
                    "a datetime column; add a [[dates]] rule to use its parts".to_owned(),
                );
                continue;
            }
            inputs.push(col);
        }
        let schema = Schema::new(
            inputs
                .iter()
                .map(|c| {
                    let kind = match &c.data {
                        ColumnData::Numeric(_) => ColumnKind::Numeric,
                        ColumnData::Boolean(_) => ColumnKind::Boolean,
                        ColumnData::Datetime(_) => ColumnKind::Datetime {
                            format: match overrides.get(&c.name) {
                                Some(ColumnType::Datetime(f)) => f.clone(),
                                _ => "%Y-%m-%d".to_owned(),
                            },
                        },
                        ColumnData::Categorical { dict, codes } => {
                            let mut levels: Vec<String> = {
                                let mut used = vec![false; dict.len()];
                                for (r, &k) in codes.iter().enumerate() {
                                    if c.is_valid(r) {
                                        used[k as usize] = true;
                                    }
                                }
                                dict.iter()
                                    .zip(used)
                                    .filter(|(_, u)| *u)
                                    .map(|(d, _)| d.clone())
                                    .collect()
                            };
                            levels.sort();
                            let method = spec
                                .encode
                                .columns
                                .get(&c.name)
                                .unwrap_or(&spec.encode.method);
                            let open = spec.encode.handle_unknown != "error"
                                || (method != "one_hot" && method != "ordinal");
                            ColumnKind::Categorical { levels, open }
                        }
                    };
                    ColumnSpec::new(c.name.clone(), kind, true)
                })
                .collect(),
        );
        let input_names: Vec<&str> = inputs.iter().map(|c| c.name.as_str()).collect();
        let mut profile_cols: Vec<&str> = input_names.clone();
        if let Some(t) = &target_name {
            profile_cols.push(t);
        }

        // Per-column overrides must name real inputs.
        for (section, map) in [
            (
                "impute.columns",
                spec.impute.columns.keys().collect::<Vec<_>>(),
            ),
            ("scale.columns", spec.scale.columns.keys().collect()),
            ("encode.columns", spec.encode.columns.keys().collect()),
        ] {
            for c in map {
                if !input_names.contains(&c.as_str()) && !spec.features.contains_key(c) {
                    return Err(spec_err(
                        section,
                        format!(
                            "no input column {c:?}\nhint: the inputs are {}",
                            input_names.join(", ")
                        ),
                    ));
                }
            }
        }

        // Engineered features.
        let mut derived = Vec::new();
        for (name, source) in &spec.features {
            if batch.column(name).is_some() {
                return Err(spec_err(
                    &format!("features.{name}"),
                    format!("{name:?} is already a column of the data\nhint: choose another name"),
                ));
            }
            let expr = Expr::parse(source)
                .map_err(|e| spec_err(&format!("features.{name}"), e.to_string()))?;
            for c in expr.columns() {
                if !input_names.contains(&c) {
                    return Err(spec_err(
                        &format!("features.{name}"),
                        format!(
                            "the expression refers to {c:?}, which is not an input column{}\nhint: the inputs are {}",
                            dropped
                                .get(c)
                                .map(|why| format!(" ({why})"))
                                .unwrap_or_default(),
                            input_names.join(", ")
                        ),
                    ));
                }
            }
            expr.check(&|n| batch.column(n).map(|c| ValueType::of(&c.data)))
                .map_err(|e| spec_err(&format!("features.{name}"), e.to_string()))?;
            derived.push(Derived::Expr {
                name: name.clone(),
                expr,
            });
        }
        for d in &spec.dates {
            match batch.column(&d.column) {
                Some(c) if matches!(c.data, ColumnData::Datetime(_)) => {}
                Some(c) => {
                    return Err(spec_err(
                        "dates",
                        format!(
                            "column {:?} is {}, not a datetime\nhint: read it as one with read.types.{} = \"datetime:%Y-%m-%d\"",
                            d.column,
                            c.data.type_name(),
                            d.column
                        ),
                    ));
                }
                None => {
                    return Err(spec_err(
                        "dates",
                        format!("no column {:?} in the data", d.column),
                    ));
                }
            }
            for part in &d.parts {
                if !types::DATE_PARTS.contains(&part.as_str()) {
                    return Err(spec_err(
                        "dates",
                        format!(
                            "unknown date part {part:?}\nhint: use one of {}",
                            types::DATE_PARTS.join(", ")
                        ),
                    ));
                }
                derived.push(Derived::DatePart {
                    name: format!("{}_{part}", d.column),
                    column: d.column.clone(),
                    part: part.clone(),
                });
            }
        }

        let mut pipeline = Self {
            spec: spec.clone(),
            schema,
            overrides,
            target,
            derived,
            plans: Vec::new(),
            poly: None,
            features: Vec::new(),
            report: FitReport {
                clean: clean_report,
                dropped_columns: dropped,
                n_inputs: input_names.len(),
                n_rows: batch.n_rows(),
                ..FitReport::default()
            },
        };
        let y = match &pipeline.target {
            Some(t) => Some(pipeline.encode_target(batch.column(&t.name).expect("checked above"))?),
            None => None,
        };
        let inputs_batch = batch.select(&input_names)?;
        // The reference profile is sketched while the steps are fitted.
        let (profile, fitted) = rayon::join(
            || -> Result<ReferenceProfile> {
                Ok(ReferenceProfile::of(
                    &batch.select(&profile_cols)?,
                    spec.seed,
                )?)
            },
            || -> Result<Array2<f64>> {
                let works = pipeline.work_columns(inputs_batch)?;
                pipeline.fit_plans(&works, y.as_ref())?;
                pipeline.assemble(&works, y.as_ref(), true)
            },
        );
        let (profile, x) = (profile?, fitted?);
        let task = pipeline
            .target
            .as_ref()
            .map_or(Task::Regression, |t| t.task.clone());
        let mut train = Dataset::new(x, pipeline.features.clone(), task)?;
        if let Some(y) = y {
            train = train.with_target(y)?;
        }
        pipeline.report.n_features = pipeline.features.len();
        Ok(Fitted {
            pipeline,
            train,
            profile,
        })
    }

    /// The raw input columns the pipeline accepts.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The specification it was fitted from.
    pub fn spec(&self) -> &PipelineSpec {
        &self.spec
    }

    /// The target column and task, when fitted with one.
    pub fn target(&self) -> Option<&TargetInfo> {
        self.target.as_ref()
    }

    /// The output features, in matrix column order.
    pub fn features(&self) -> &[FeatureInfo] {
        &self.features
    }

    /// What fitting found and did.
    pub fn report(&self) -> &FitReport {
        &self.report
    }

    /// The raw columns each output feature comes from (one-hot groups and expressions refer to
    /// their sources), in feature order; explanations fold attributions back with it.
    pub fn feature_sources(&self) -> Vec<Vec<String>> {
        let mut out = Vec::with_capacity(self.features.len());
        let sources_of = |column: &str| -> Vec<String> {
            for d in &self.derived {
                match d {
                    Derived::Expr { name, expr } if name == column => {
                        return expr.columns().into_iter().map(str::to_owned).collect();
                    }
                    Derived::DatePart {
                        name, column: c, ..
                    } if name == column => return vec![c.clone()],
                    _ => {}
                }
            }
            vec![column.to_owned()]
        };
        for plan in &self.plans {
            let (column, width) = match plan {
                Plan::Numeric {
                    column,
                    indicator,
                    bins,
                    ..
                } => (
                    column,
                    bins.as_ref().map_or(1, KBins::output_width) + usize::from(*indicator),
                ),
                Plan::Categorical {
                    column,
                    indicator,
                    encoder,
                    ..
                } => (column, encoder_width(encoder) + usize::from(*indicator)),
            };
            for _ in 0..width {
                out.push(sources_of(column));
            }
        }
        if let Some(p) = &self.poly {
            for &k in &p.kept {
                let mut s: Vec<String> = Vec::new();
                for &i in &p.poly.terms[k] {
                    let column = plan_column(&self.plans[p.inputs[i]]);
                    for c in sources_of(column) {
                        if !s.contains(&c) {
                            s.push(c);
                        }
                    }
                }
                out.push(s);
            }
        }
        out
    }

    /// Transforms raw input into the design matrix. The target column, when present in `batch`,
    /// becomes the dataset's target; other columns outside the schema are ignored.
    ///
    /// # Errors
    /// A missing column, a wrong type, a non-finite number, an unseen category under the
    /// `error` policy (each naming the column and the first offending row), an unknown class.
    pub fn transform(&self, batch: RawBatch) -> Result<Dataset> {
        let target_col = self
            .target
            .as_ref()
            .and_then(|t| batch.column(&t.name).cloned());
        let inputs = self.prepare(batch)?;
        let y = match (&target_col, &self.target) {
            (Some(col), Some(_)) => Some(self.encode_target(col)?),
            _ => None,
        };
        let works = self.work_columns(inputs)?;
        let x = self.assemble(&works, None, false)?;
        let task = self
            .target
            .as_ref()
            .map_or(Task::Regression, |t| t.task.clone());
        let mut ds = Dataset::new(x, self.features.clone(), task)?;
        if let Some(y) = y {
            ds = ds.with_target(y)?;
        }
        Ok(ds)
    }

    /// Transforms raw input rows (no target) into the design matrix: the row path used when
    /// serving. Gives the same numbers, bit for bit, as [`Pipeline::transform`].
    pub fn transform_rows(&self, batch: RawBatch) -> Result<Array2<f64>> {
        let inputs = self.prepare(batch)?;
        let works = self.work_columns(inputs)?;
        self.assemble(&works, None, false)
    }

    /// Keeps the schema's columns in schema order, applies type overrides and checks the result.
    fn prepare(&self, batch: RawBatch) -> Result<RawBatch> {
        let n_rows = batch.n_rows();
        let mut by_name: BTreeMap<String, RawColumn> = batch
            .into_columns()
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        let mut columns = Vec::with_capacity(self.schema.columns.len());
        for spec in &self.schema.columns {
            let Some(mut col) = by_name.remove(&spec.name) else {
                continue;
            };
            let wanted = match &spec.kind {
                ColumnKind::Datetime { format } => Some(ColumnType::Datetime(format.clone())),
                _ => self.overrides.get(&spec.name).cloned(),
            };
            if let Some(t) = wanted {
                col = types::convert_column(col, &t)?;
            }
            if let ColumnKind::Categorical { .. } = spec.kind {
                clean::normalise_column(
                    &mut col,
                    self.spec.clean.trim_strings,
                    self.spec.clean.lowercase,
                );
            }
            columns.push(col);
        }
        let batch = if columns.is_empty() {
            RawBatch::empty(n_rows)
        } else {
            RawBatch::new(columns)?
        };
        self.schema
            .validate(&batch)
            .map_err(mlship_core::Error::from)?;
        Ok(batch)
    }

    /// Range rules, derived features, and the conversion of every feature column to working
    /// values, in plan order (inputs, then derived features).
    fn work_columns(&self, inputs: RawBatch) -> Result<Vec<(String, Work)>> {
        let rules: BTreeMap<&str, &RangeRule> = self
            .spec
            .clean
            .ranges
            .iter()
            .map(|r| (r.column.as_str(), r))
            .collect();
        let n_rows = inputs.n_rows();
        let mut cols: Vec<RawColumn> = inputs.into_columns();
        for col in &mut cols {
            if let Some(rule) = rules.get(col.name.as_str()) {
                let predict_rule = RangeRule {
                    action: if rule.action == RangeAction::Null {
                        RangeAction::Null
                    } else {
                        RangeAction::Clip
                    },
                    ..(*rule).clone()
                };
                clean::apply_range(col, &predict_rule);
            }
        }
        let mut out: Vec<(String, Work)> = Vec::with_capacity(cols.len() + self.derived.len());
        for d in &self.derived {
            let col = match d {
                Derived::Expr { name, expr } => expr
                    .eval(name, n_rows, &|n: &str| cols.iter().find(|c| c.name == n))
                    .map_err(|e| spec_err(&format!("features.{name}"), e.to_string()))?,
                Derived::DatePart { name, column, part } => {
                    let src = cols
                        .iter()
                        .find(|c| &c.name == column)
                        .ok_or_else(|| spec_err("dates", format!("no column {column:?}")))?;
                    let ColumnData::Datetime(t) = &src.data else {
                        return Err(spec_err(
                            "dates",
                            format!("column {column:?} is not a datetime"),
                        ));
                    };
                    let values = t.iter().enumerate().map(|(r, &us)| {
                        if src.is_valid(r) {
                            types::date_part(part, us)
                        } else {
                            None
                        }
                    });
                    RawColumn::numeric(name.clone(), values)
                }
            };
            out.push((
                col.name.clone(),
                Work::from_column(&col)
                    .ok_or_else(|| spec_err("features", "a feature evaluated to a datetime"))?,
            ));
        }
        let mut inputs_work: Vec<(String, Work)> = Vec::with_capacity(cols.len());
        for col in cols {
            let name = col.name.clone();
            if let Some(w) = Work::from_owned(col) {
                inputs_work.push((name, w));
            }
        }
        inputs_work.extend(out);
        Ok(inputs_work)
    }

    /// Class indices (classification) or values (regression) of a target column.
    pub fn encode_target(&self, col: &RawColumn) -> Result<Array1<f64>> {
        let Some(target) = &self.target else {
            return Err(spec_err(
                "target",
                "the pipeline was fitted without a target",
            ));
        };
        let mut y = Vec::with_capacity(col.len());
        for r in 0..col.len() {
            if !col.is_valid(r) {
                return Err(PreprocessError::Column {
                    column: col.name.clone(),
                    detail: format!(
                        "row {r}: the target is missing\nhint: drop rows without a target before evaluating"
                    ),
                });
            }
            let v = match (&target.task, &col.data) {
                (Task::Regression, ColumnData::Numeric(v)) if v[r].is_finite() => v[r],
                (Task::Regression, ColumnData::Numeric(v)) => {
                    return Err(PreprocessError::Column {
                        column: col.name.clone(),
                        detail: format!("row {r}: the target is {}, not a finite number", v[r]),
                    });
                }
                (Task::Regression, other) => {
                    return Err(PreprocessError::Column {
                        column: col.name.clone(),
                        detail: format!(
                            "the regression target must be numeric, found {}",
                            other.type_name()
                        ),
                    });
                }
                (task, _) => {
                    let label = label_of(col, r);
                    task.class_index(&label)
                        .ok_or_else(|| PreprocessError::Column {
                            column: col.name.clone(),
                            detail: format!(
                                "row {r}: class {label:?} was not seen at fit (classes: {})",
                                task.classes().join(", ")
                            ),
                        })? as f64
                }
            };
            y.push(v);
        }
        Ok(Array1::from(y))
    }

    #[allow(clippy::too_many_lines)] // one branch per feature kind, then polynomial terms
    fn fit_plans(&mut self, works: &[(String, Work)], y: Option<&Array1<f64>>) -> Result<()> {
        let spec = self.spec.clone();
        let passthrough = &spec.select.passthrough;
        let binned: BTreeMap<&str, &crate::spec::BinSpec> = spec
            .bins
            .iter()
            .flat_map(|b| b.columns.iter().map(move |c| (c.as_str(), b)))
            .collect();
        for b in &spec.bins {
            for c in &b.columns {
                if !works.iter().any(|(n, _)| n == c) {
                    return Err(spec_err("bins", format!("no numeric feature {c:?}")));
                }
            }
        }
        let mut plans = Vec::with_capacity(works.len());
        let mut features = Vec::new();
        for (name, work) in works {
            let missing = match work {
                Work::Num(v) => v.iter().filter(|x| x.is_nan()).count(),
                Work::Cat { valid, .. } => valid
                    .as_ref()
                    .map_or(0, |v| v.iter().filter(|ok| !**ok).count()),
            };
            if missing > 0 {
                self.report.missing.insert(name.clone(), missing);
            }
            let impute_text = spec.impute.columns.get(name);
            match work {
                Work::Num(values) => {
                    let is_pass = passthrough.iter().any(|p| clean::glob_match(p, name));
                    let strategy = if is_pass {
                        None
                    } else {
                        numeric_strategy(
                            impute_text.unwrap_or(&spec.impute.numeric),
                            spec.impute.numeric_fill,
                            "impute",
                        )?
                    };
                    let impute = strategy
                        .map(|s| NumericImputer::fit(name, values, s))
                        .transpose()
                        .map_err(transform_err)?;
                    let indicator = spec.impute.add_indicator && missing > 0 && impute.is_some();
                    let imputed: Vec<f64> = match &impute {
                        Some(i) => values.iter().map(|&x| i.apply(x)).collect(),
                        None => values.clone(),
                    };
                    let (bins, scaler) = if let Some(b) = binned.get(name.as_str()) {
                        let params = KBinsParams {
                            n_bins: b.n_bins,
                            strategy: match b.strategy.as_str() {
                                "uniform" => BinStrategy::Uniform,
                                "quantile" => BinStrategy::Quantile,
                                o => {
                                    return Err(spec_err(
                                        "bins",
                                        format!(
                                            "unknown strategy {o:?}\nhint: use uniform or quantile"
                                        ),
                                    ));
                                }
                            },
                            encode: match b.encode.as_str() {
                                "ordinal" => BinEncode::Ordinal,
                                "one_hot" => BinEncode::OneHot,
                                o => {
                                    return Err(spec_err(
                                        "bins",
                                        format!(
                                            "unknown encoding {o:?}\nhint: use ordinal or one_hot"
                                        ),
                                    ));
                                }
                            },
                        };
                        (
                            Some(KBins::fit(name, &imputed, params).map_err(transform_err)?),
                            None,
                        )
                    } else if is_pass {
                        (None, None)
                    } else {
                        let method = spec.scale.columns.get(name).unwrap_or(&spec.scale.method);
                        let scaler = scaler_params(method, &spec, "scale")?
                            .map(|p| Scaler::fit(name, &imputed, p))
                            .transpose()
                            .map_err(transform_err)?;
                        (None, scaler)
                    };
                    match &bins {
                        Some(k) => {
                            for n in k.names(name) {
                                features.push(FeatureInfo::numeric(n));
                            }
                        }
                        None => features.push(FeatureInfo::numeric(name.clone())),
                    }
                    if indicator {
                        features.push(FeatureInfo::numeric(format!("{name}_missing")));
                    }
                    plans.push(Plan::Numeric {
                        column: name.clone(),
                        impute,
                        indicator,
                        bins,
                        scaler,
                    });
                }
                Work::Cat { .. } => {
                    let levels = work.levels();
                    let strategy = categorical_strategy(
                        impute_text.unwrap_or(&spec.impute.categorical),
                        &spec.impute.categorical_fill,
                        "impute",
                    )?;
                    let impute = strategy
                        .map(|s| CategoricalImputer::fit(name, &levels, &s))
                        .transpose()
                        .map_err(transform_err)?;
                    let indicator = spec.impute.add_indicator && missing > 0 && impute.is_some();
                    let imputed: Vec<Option<&str>> = match &impute {
                        Some(i) => levels.iter().map(|&l| Some(i.apply(l))).collect(),
                        None => levels.clone(),
                    };
                    let method = spec.encode.columns.get(name).unwrap_or(&spec.encode.method);
                    let encoder = self.fit_encoder(name, method, &imputed, y)?;
                    match &encoder {
                        Encoder::OneHot(e) => {
                            features.extend(e.names(name).into_iter().map(FeatureInfo::numeric));
                        }
                        Encoder::Ordinal(_) => features.push(FeatureInfo::numeric(name.clone())),
                        Encoder::Native(e) => features.push(FeatureInfo {
                            name: name.clone(),
                            kind: FeatureKind::Categorical {
                                n_levels: e.categories.len() as u32,
                            },
                        }),
                        Encoder::Target(e) => {
                            let classes = self
                                .target
                                .as_ref()
                                .map(|t| t.task.classes().to_vec())
                                .unwrap_or_default();
                            features.extend(
                                e.names(name, &classes)
                                    .into_iter()
                                    .map(FeatureInfo::numeric),
                            );
                        }
                    }
                    if indicator {
                        features.push(FeatureInfo::numeric(format!("{name}_missing")));
                    }
                    plans.push(Plan::Categorical {
                        column: name.clone(),
                        impute,
                        indicator,
                        encoder,
                    });
                }
            }
        }
        // Polynomial terms.
        let poly = match &spec.polynomial {
            None => None,
            Some(p) => {
                let mut inputs = Vec::new();
                for c in &p.columns {
                    let idx = plans
                        .iter()
                        .position(|pl| matches!(pl, Plan::Numeric { column, bins: None, .. } if column == c))
                        .ok_or_else(|| spec_err("polynomial", format!("{c:?} is not a numeric, unbinned feature")))?;
                    inputs.push(idx);
                }
                let poly = Polynomial::fit(
                    inputs.len(),
                    PolynomialParams {
                        degree: p.degree as usize,
                        interaction_only: p.interaction_only,
                        include_bias: false,
                    },
                )
                .map_err(transform_err)?;
                let kept: Vec<usize> = (0..poly.output_width())
                    .filter(|&k| poly.terms[k].len() >= 2)
                    .collect();
                let names = poly
                    .names(&p.columns.iter().map(String::as_str).collect::<Vec<_>>())
                    .map_err(transform_err)?;
                // Imputed inputs, row-major, to fit the term scalers.
                let n = works.first().map_or(0, |(_, w)| match w {
                    Work::Num(v) => v.len(),
                    Work::Cat { codes, .. } => codes.len(),
                });
                let cols: Vec<Vec<f64>> = inputs
                    .iter()
                    .map(|&i| {
                        let (_, w) = &works[i];
                        let Work::Num(v) = w else { return Vec::new() };
                        match &plans[i] {
                            Plan::Numeric {
                                impute: Some(imp), ..
                            } => v.iter().map(|&x| imp.apply(x)).collect(),
                            _ => v.clone(),
                        }
                    })
                    .collect();
                let mut row = vec![0.0; inputs.len()];
                let mut terms = vec![0.0; poly.output_width()];
                let mut term_cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); kept.len()];
                for r in 0..n {
                    for (j, c) in cols.iter().enumerate() {
                        row[j] = c[r];
                    }
                    poly.apply(&row, &mut terms).map_err(transform_err)?;
                    for (t, &k) in kept.iter().enumerate() {
                        term_cols[t].push(terms[k]);
                    }
                }
                let mut scalers = Vec::with_capacity(kept.len());
                for (t, &k) in kept.iter().enumerate() {
                    let params = scaler_params(&spec.scale.method, &spec, "scale")?;
                    scalers.push(
                        params
                            .map(|pp| Scaler::fit(&names[k], &term_cols[t], pp))
                            .transpose()
                            .map_err(transform_err)?,
                    );
                    features.push(FeatureInfo::numeric(names[k].clone()));
                }
                Some(PolyPlan {
                    inputs,
                    poly,
                    kept,
                    scalers,
                })
            }
        };
        self.plans = plans;
        self.poly = poly;
        self.features = features;
        self.check_output_size(works)?;
        Ok(())
    }

    fn fit_encoder(
        &self,
        name: &str,
        method: &str,
        levels: &[Option<&str>],
        y: Option<&Array1<f64>>,
    ) -> Result<Encoder> {
        let e = &self.spec.encode;
        match method {
            "one_hot" => {
                let params = OneHotParams {
                    drop: match e.drop.as_str() {
                        "none" => DropPolicy::None,
                        "first" => DropPolicy::First,
                        "if_binary" => DropPolicy::IfBinary,
                        o => {
                            return Err(spec_err(
                                "encode.drop",
                                format!("unknown value {o:?}\nhint: use none, first or if_binary"),
                            ));
                        }
                    },
                    min_frequency: e.min_frequency.map(|f| {
                        if f >= 1.0 {
                            MinFrequency::Count(f as usize)
                        } else {
                            MinFrequency::Fraction(f)
                        }
                    }),
                    max_categories: e.max_categories,
                    handle_unknown: match e.handle_unknown.as_str() {
                        "error" => OneHotUnknown::Error,
                        "ignore" => OneHotUnknown::Ignore,
                        "infrequent" => OneHotUnknown::Infrequent,
                        o => {
                            return Err(spec_err(
                                "encode.handle_unknown",
                                format!(
                                    "unknown value {o:?}\nhint: use error, ignore or infrequent"
                                ),
                            ));
                        }
                    },
                };
                Ok(Encoder::OneHot(
                    OneHot::fit(name, levels, &params).map_err(transform_err)?,
                ))
            }
            "ordinal" | "native" => {
                let params = OrdinalParams {
                    handle_unknown: if e.handle_unknown == "error" && method == "ordinal" {
                        OrdinalUnknown::Error
                    } else {
                        OrdinalUnknown::Value(e.unknown_value.unwrap_or(f64::NAN))
                    },
                    ..OrdinalParams::default()
                };
                let enc = Ordinal::fit(name, levels, params).map_err(transform_err)?;
                Ok(if method == "native" {
                    Encoder::Native(enc)
                } else {
                    Encoder::Ordinal(enc)
                })
            }
            "target" => {
                let (Some(y), Some(t)) = (y, &self.target) else {
                    return Err(spec_err(
                        "encode",
                        format!("target encoding of {name:?} needs a target column"),
                    ));
                };
                let target_type = match &t.task {
                    Task::Regression => TargetType::Continuous,
                    Task::Binary { .. } => TargetType::Binary,
                    Task::Multiclass { classes } => TargetType::Multiclass(classes.len()),
                };
                let params = TargetParams {
                    target_type,
                    smooth: e.smooth.map_or(Smooth::Auto, Smooth::Value),
                };
                let ys = y
                    .as_slice()
                    .ok_or_else(|| spec_err("target", "target not contiguous"))?;
                Ok(Encoder::Target(
                    TargetEncoder::fit(name, levels, ys, params).map_err(transform_err)?,
                ))
            }
            o => Err(spec_err(
                "encode",
                format!(
                    "unknown encoding {o:?} for {name:?}\nhint: use one_hot, ordinal, target or native"
                ),
            )),
        }
    }

    fn check_output_size(&self, works: &[(String, Work)]) -> Result<()> {
        let n = works.first().map_or(0, |(_, w)| match w {
            Work::Num(v) => v.len(),
            Work::Cat { codes, .. } => codes.len(),
        }) as u64;
        let bytes = n
            .saturating_mul(self.features.len() as u64)
            .saturating_mul(8);
        let limit = self
            .spec
            .output
            .max_output_bytes
            .unwrap_or_else(default_max_output_bytes);
        if bytes <= limit {
            return Ok(());
        }
        let widest = self
            .plans
            .iter()
            .filter_map(|p| match p {
                Plan::Categorical {
                    column, encoder, ..
                } => Some((encoder_width(encoder), column)),
                Plan::Numeric { .. } => None,
            })
            .max();
        let culprit = widest.map_or_else(String::new, |(w, c)| {
            format!("; the widest is {c:?} with {w} one-hot columns")
        });
        Err(PreprocessError::Spec {
            origin: "output".into(),
            detail: format!(
                "the transformed data would take {} bytes ({n} rows × {} features), over the limit of {limit} bytes{culprit}\n\
                 hint: set encode.max_categories, or encode that column with \"ordinal\" or \"target\", or raise output.max_output_bytes",
                bytes,
                self.features.len()
            ),
        })
    }

    /// Fills the design matrix. `y` is given only when fitting: target-encoded columns are then
    /// cross-fitted over seeded folds.
    #[allow(clippy::too_many_lines)] // one branch per feature kind, then polynomial terms
    fn assemble(
        &self,
        works: &[(String, Work)],
        y: Option<&Array1<f64>>,
        fitting: bool,
    ) -> Result<Array2<f64>> {
        let n = works.first().map_or(0, |(_, w)| match w {
            Work::Num(v) => v.len(),
            Work::Cat { codes, .. } => codes.len(),
        });
        let width = self.features.len();
        let mut x = Array2::<f64>::zeros((n, width));
        let data = x
            .as_slice_mut()
            .ok_or_else(|| spec_err("output", "matrix not contiguous"))?;
        let mut offset = 0;
        for (plan, (name, work)) in self.plans.iter().zip(works) {
            match (plan, work) {
                (
                    Plan::Numeric {
                        impute,
                        indicator,
                        bins,
                        scaler,
                        ..
                    },
                    Work::Num(values),
                ) => {
                    let w = bins.as_ref().map_or(1, KBins::output_width);
                    for (r, &raw) in values.iter().enumerate() {
                        let v = impute.as_ref().map_or(raw, |i| i.apply(raw));
                        let row = &mut data[r * width + offset..r * width + offset + w];
                        match (bins, scaler) {
                            (Some(b), _) => b.encode(v, row).map_err(|e| with_row(e, r))?,
                            (None, Some(s)) => row[0] = s.apply(v),
                            (None, None) => row[0] = v,
                        }
                        if *indicator {
                            data[r * width + offset + w] = NumericImputer::indicator(raw);
                        }
                    }
                    offset += w + usize::from(*indicator);
                }
                (
                    Plan::Categorical {
                        impute,
                        indicator,
                        encoder,
                        ..
                    },
                    Work::Cat { dict, codes, valid },
                ) => {
                    let w = encoder_width(encoder);
                    // Per dictionary entry (and for a missing value), the encoded outputs once.
                    let encode_level = |level: Option<&str>| -> Result<Vec<f64>, TransformError> {
                        let level = match impute {
                            Some(i) => Some(i.apply(level)),
                            None => level,
                        };
                        let mut out = vec![0.0; w];
                        match encoder {
                            Encoder::OneHot(e) => e.encode(level, &mut out)?,
                            Encoder::Ordinal(e) | Encoder::Native(e) => out[0] = e.encode(level)?,
                            Encoder::Target(e) => e.encode(level, &mut out)?,
                        }
                        Ok(out)
                    };
                    let per_entry: Vec<Result<Vec<f64>, TransformError>> =
                        dict.iter().map(|s| encode_level(Some(s))).collect();
                    let per_null = valid.as_ref().map(|_| encode_level(None));
                    let cross = match (encoder, y, fitting) {
                        (Encoder::Target(_), Some(y), true) => Some(self.cross_fit(name, work, y)?),
                        _ => None,
                    };
                    for r in 0..n {
                        let is_null = valid.as_ref().is_some_and(|v| !v[r]);
                        let row = &mut data[r * width + offset..r * width + offset + w];
                        if let Some(c) = &cross {
                            row.copy_from_slice(&c[r * w..(r + 1) * w]);
                        } else {
                            let enc = if is_null {
                                per_null.as_ref().expect("a mask exists")
                            } else {
                                &per_entry[codes[r] as usize]
                            };
                            match enc {
                                Ok(v) => row.copy_from_slice(v),
                                Err(e) => return Err(with_row(e.clone(), r)),
                            }
                        }
                        if *indicator {
                            data[r * width + offset + w] = if is_null { 1.0 } else { 0.0 };
                        }
                    }
                    offset += w + usize::from(*indicator);
                }
                _ => {
                    return Err(spec_err(
                        "pipeline",
                        format!("feature {name:?} changed kind since fit"),
                    ));
                }
            }
        }
        if let Some(p) = &self.poly {
            let mut row = vec![0.0; p.inputs.len()];
            let mut terms = vec![0.0; p.poly.output_width()];
            for r in 0..n {
                for (j, &i) in p.inputs.iter().enumerate() {
                    let (Plan::Numeric { impute, .. }, (_, Work::Num(v))) =
                        (&self.plans[i], &works[i])
                    else {
                        return Err(spec_err("polynomial", "input is not numeric"));
                    };
                    row[j] = impute.as_ref().map_or(v[r], |imp| imp.apply(v[r]));
                }
                p.poly.apply(&row, &mut terms).map_err(transform_err)?;
                for (t, &k) in p.kept.iter().enumerate() {
                    data[r * width + offset + t] = p.scalers[t]
                        .as_ref()
                        .map_or(terms[k], |s| s.apply(terms[k]));
                }
            }
        }
        Ok(x)
    }

    /// Cross-fitted target encodings of the training rows: seeded folds, stratified by class
    /// for classification (as scikit-learn's `TargetEncoder.fit_transform`).
    fn cross_fit(&self, name: &str, work: &Work, y: &Array1<f64>) -> Result<Vec<f64>> {
        let Some(Plan::Categorical {
            impute,
            encoder: Encoder::Target(enc),
            ..
        }) = self.plans.iter().find(|p| plan_column(p) == name)
        else {
            return Err(spec_err(
                "encode",
                format!("{name:?} is not target-encoded"),
            ));
        };
        let levels: Vec<Option<&str>> = work
            .levels()
            .into_iter()
            .map(|l| match impute {
                Some(i) => Some(i.apply(l)),
                None => l,
            })
            .collect();
        let n = levels.len();
        let k = self.spec.encode.folds.max(2).min(n.max(2));
        let mut rng = mlship_core::rng::Rng::derive(self.spec.seed, 0x7461_7267);
        let mut folds = vec![0usize; n];
        let ys = y
            .as_slice()
            .ok_or_else(|| spec_err("target", "target not contiguous"))?;
        if self
            .target
            .as_ref()
            .is_some_and(|t| t.task.is_classification())
        {
            let n_classes = self.target.as_ref().map_or(0, |t| t.task.n_classes());
            let mut next = 0usize;
            for c in 0..n_classes {
                let mut rows: Vec<usize> = (0..n).filter(|&r| ys[r] as usize == c).collect();
                rng.shuffle(&mut rows);
                for r in rows {
                    folds[r] = next % k;
                    next += 1;
                }
            }
        } else {
            for (pos, r) in rng.permutation(n).into_iter().enumerate() {
                folds[r] = pos % k;
            }
        }
        let params = TargetParams {
            target_type: enc.target_type,
            smooth: self.spec.encode.smooth.map_or(Smooth::Auto, Smooth::Value),
        };
        let (_, encoded) = TargetEncoder::fit_transform(name, &levels, ys, &folds, params)
            .map_err(transform_err)?;
        Ok(encoded)
    }

    /// Serialises the fitted pipeline (the bundle's `pipeline` section).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| spec_err("pipeline", format!("cannot serialise: {e}")))
    }

    /// Reads a pipeline written by [`Pipeline::to_bytes`], re-parsing every expression.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let p: Self = serde_json::from_slice(bytes).map_err(|e| {
            spec_err(
                "pipeline section",
                format!("unreadable: {e}\nhint: the bundle may be corrupt or from a newer mlship"),
            )
        })?;
        let width: usize = p
            .plans
            .iter()
            .map(|pl| match pl {
                Plan::Numeric {
                    indicator, bins, ..
                } => bins.as_ref().map_or(1, KBins::output_width) + usize::from(*indicator),
                Plan::Categorical {
                    indicator, encoder, ..
                } => encoder_width(encoder) + usize::from(*indicator),
            })
            .sum::<usize>()
            + p.poly.as_ref().map_or(0, |q| q.kept.len());
        if width != p.features.len() {
            return Err(spec_err(
                "pipeline section",
                format!(
                    "{} features declared but the steps produce {width}",
                    p.features.len()
                ),
            ));
        }
        Ok(p)
    }
}

fn encoder_width(encoder: &Encoder) -> usize {
    match encoder {
        Encoder::OneHot(e) => e.output_width(),
        Encoder::Ordinal(_) | Encoder::Native(_) => 1,
        Encoder::Target(e) => e.output_width(),
    }
}

fn plan_column(plan: &Plan) -> &str {
    match plan {
        Plan::Numeric { column, .. } | Plan::Categorical { column, .. } => column,
    }
}

fn with_row(e: TransformError, row: usize) -> PreprocessError {
    PreprocessError::Row { row, source: e }
}

fn label_of(col: &RawColumn, r: usize) -> String {
    match &col.data {
        ColumnData::Numeric(v) => types::format_number(v[r]),
        ColumnData::Categorical { dict, codes } => dict[codes[r] as usize].clone(),
        ColumnData::Boolean(v) => v[r].to_string(),
        ColumnData::Datetime(v) => v[r].to_string(),
    }
}

/// The task a target column defines.
fn infer_task(col: &RawColumn, kind: TaskKind) -> Result<Task> {
    let classification = match kind {
        TaskKind::Classification => true,
        TaskKind::Regression => false,
        TaskKind::Auto => !matches!(col.data, ColumnData::Numeric(_)),
    };
    if !classification {
        let ColumnData::Numeric(v) = &col.data else {
            return Err(PreprocessError::Column {
                column: col.name.clone(),
                detail: format!(
                    "a regression target must be numeric, but this column is {}\nhint: set task = \"classification\"",
                    col.data.type_name()
                ),
            });
        };
        if let Some(r) = (0..v.len()).find(|&r| col.is_valid(r) && !v[r].is_finite()) {
            return Err(PreprocessError::Column {
                column: col.name.clone(),
                detail: format!("row {r}: the target is {}, not a finite number", v[r]),
            });
        }
        return Ok(Task::Regression);
    }
    let mut labels: Vec<String> = (0..col.len())
        .filter(|&r| col.is_valid(r))
        .map(|r| label_of(col, r))
        .collect();
    labels.sort_unstable();
    labels.dedup();
    Task::classification(labels).map_err(|e| PreprocessError::Column {
        column: col.name.clone(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
