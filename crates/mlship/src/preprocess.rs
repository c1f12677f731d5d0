//! Fitting and applying preprocessing pipelines, and splitting data files.
//!
//! A fitted pipeline is stored as a bundle of kind `pipeline`: the manifest (input schema,
//! task, the spec as given, lineage) plus the `pipeline` and `profile` sections. Model bundles
//! carry the same two sections, so `--pipeline` accepts either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::{Lineage, Manifest};
use mlship_core::profile::ReferenceProfile;
use mlship_core::{ColumnData, RawBatch};
use mlship_preprocess::clean::CleanReport;
use mlship_preprocess::pipeline::{Fitted, PIPELINE_SECTION_VERSION, Pipeline};
use mlship_preprocess::spec::PipelineSpec;
use mlship_preprocess::split::{SplitIndices, SplitKey, SplitMethod, SplitOptions, split_rows};
use mlship_preprocess::{FileFormat, ReadOptions};
use serde::Serialize;

use crate::error::{Error, Result};

/// Version of the `profile` section (the reference profile, as JSON).
pub const PROFILE_SECTION_VERSION: u32 = 1;

/// Reads a pipeline spec file, or the defaults when none is given.
pub fn read_spec(path: Option<&Path>) -> Result<PipelineSpec> {
    match path {
        None => Ok(PipelineSpec::default()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| mlship_core::Error::io("reading", p, e))?;
            Ok(PipelineSpec::from_toml(&text, &p.display().to_string())?)
        }
    }
}

/// How the spec's `[read]` section reads files.
pub fn read_options(spec: &PipelineSpec) -> Result<ReadOptions> {
    let separator = match spec.read.separator {
        None => None,
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => {
            return Err(Error::Usage(format!(
                "invalid read.separator {c:?}: expected one ASCII character"
            )));
        }
    };
    Ok(ReadOptions {
        separator,
        null_values: spec.read.null_values.clone(),
        ..ReadOptions::default()
    })
}

/// Reads a data file into a raw batch.
pub fn read_batch(path: &Path, options: &ReadOptions) -> Result<RawBatch> {
    let df = mlship_preprocess::read_table(path, options)?;
    Ok(mlship_preprocess::frame_to_batch(&df)?)
}

/// What `mlship preprocess fit` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitSummary {
    /// The bundle written.
    pub output: PathBuf,
    /// The training data.
    pub data: PathBuf,
    /// The target column, if any.
    pub target: Option<String>,
    /// `regression`, `binary` or `multiclass`, if there is a target.
    pub task: Option<String>,
    /// Class labels in model order.
    pub classes: Vec<String>,
    /// Raw input columns used.
    pub inputs: Vec<String>,
    /// Output feature names.
    pub features: Vec<String>,
    /// Row and column cleaning.
    pub clean: CleanReport,
    /// Raw columns left out, with the reason.
    pub dropped_columns: BTreeMap<String, String>,
    /// Missing values per column at fit.
    pub missing: BTreeMap<String, usize>,
    /// Seconds spent reading.
    pub read_seconds: f64,
    /// Seconds spent fitting and transforming.
    pub fit_seconds: f64,
}

/// The bundle sections and manifest of a fitted pipeline.
pub fn pipeline_sections(fitted: &Fitted) -> Result<Vec<Section>> {
    let profile = serde_json::to_vec(&fitted.profile).map_err(|e| {
        Error::Core(mlship_core::Error::Other(format!(
            "serialising the profile: {e}"
        )))
    })?;
    Ok(vec![
        Section::new(
            "pipeline",
            PIPELINE_SECTION_VERSION,
            fitted.pipeline.to_bytes()?,
        ),
        Section::new("profile", PROFILE_SECTION_VERSION, profile),
    ])
}

/// Fits a pipeline on `data` and writes it as a bundle to `output`.
pub fn fit(
    data: &Path,
    spec_path: Option<&Path>,
    target: Option<&str>,
    output: &Path,
) -> Result<FitSummary> {
    let spec = read_spec(spec_path)?;
    let options = read_options(&spec)?;
    let start = Instant::now();
    let batch = read_batch(data, &options)?;
    let fingerprint = mlship_core::fingerprint::fingerprint(&batch);
    let read_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let fitted = Pipeline::fit(batch, &spec, target)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let p = &fitted.pipeline;

    let mut manifest = Manifest::new("pipeline");
    manifest.task = p.target().map(|t| t.task.clone());
    manifest.schema = Some(p.schema().clone());
    manifest.params = serde_json::json!({ "pipeline": spec });
    manifest.lineage = Lineage {
        data_fingerprint: Some(fingerprint),
        data_source: Some(data.display().to_string()),
        seed: Some(spec.seed),
        ..Lineage::default()
    };
    let mut envelope = Envelope::new(manifest.to_json());
    envelope.sections = pipeline_sections(&fitted)?;
    envelope.write_atomic(output)?;

    let report = p.report();
    Ok(FitSummary {
        output: output.to_owned(),
        data: data.to_owned(),
        target: p.target().map(|t| t.name.clone()),
        task: p.target().map(|t| t.task.name().to_owned()),
        classes: p
            .target()
            .map(|t| t.task.classes().to_vec())
            .unwrap_or_default(),
        inputs: p.schema().names().into_iter().map(str::to_owned).collect(),
        features: p.features().iter().map(|f| f.name.clone()).collect(),
        clean: report.clean.clone(),
        dropped_columns: report.dropped_columns.clone(),
        missing: report.missing.clone(),
        read_seconds,
        fit_seconds,
    })
}

/// Loads the pipeline (and its reference profile) from a pipeline or model bundle.
pub fn load_pipeline(path: &Path) -> Result<(Pipeline, Option<ReferenceProfile>)> {
    let envelope = Envelope::read(path)?;
    pipeline_from(&envelope, &path.display().to_string())
}

/// The pipeline (and reference profile) of a verified envelope; `origin` names it in errors.
pub fn pipeline_from(
    envelope: &Envelope,
    origin: &str,
) -> Result<(Pipeline, Option<ReferenceProfile>)> {
    let section = envelope.section_required("pipeline")?;
    if section.version > PIPELINE_SECTION_VERSION {
        return Err(Error::Core(mlship_core::Error::Unsupported(format!(
            "{origin}: pipeline section version {} is newer than this mlship reads ({PIPELINE_SECTION_VERSION})\nhint: upgrade mlship",
            section.version
        ))));
    }
    let pipeline = Pipeline::from_bytes(&section.bytes)
        .map_err(|e| Error::Core(mlship_core::Error::invalid_data(format!("{origin}: {e}"))))?;
    let profile = envelope
        .section("profile")
        .and_then(|s| serde_json::from_slice::<ReferenceProfile>(&s.bytes).ok());
    Ok((pipeline, profile))
}

/// What `mlship preprocess apply` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplySummary {
    /// The file written.
    pub output: PathBuf,
    /// Rows written.
    pub rows: usize,
    /// Feature columns written.
    pub features: usize,
    /// Whether the target column was present and written (encoded as class indices or values).
    pub with_target: bool,
}

/// Applies the pipeline in `pipeline_path` to `data`, writing the features (and the encoded
/// target, when the data has it) to `output`.
pub fn apply(pipeline_path: &Path, data: &Path, output: &Path) -> Result<ApplySummary> {
    FileFormat::from_path(output)?;
    let (pipeline, _) = load_pipeline(pipeline_path)?;
    let options = read_options(pipeline.spec())?;
    let batch = read_batch(data, &options)?;
    let ds = pipeline.transform(batch)?;
    let names: Vec<String> = ds.features().iter().map(|f| f.name.clone()).collect();
    let target = pipeline.target().map(|t| t.name.clone());
    let y = ds.y().map(|y| y.to_vec());
    let mut df =
        mlship_preprocess::matrix_to_frame(&ds.x(), &names, target.as_deref().zip(y.as_deref()))?;
    mlship_preprocess::write_table(&mut df, output)?;
    Ok(ApplySummary {
        output: output.to_owned(),
        rows: ds.n_rows(),
        features: names.len(),
        with_target: y.is_some(),
    })
}

/// What `mlship data split` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    /// The method used.
    pub method: SplitMethod,
    /// Files written with their row counts: `train`, `validation` (when asked for), `test`.
    pub files: BTreeMap<String, (PathBuf, usize)>,
    /// The seed.
    pub seed: u64,
}

/// Options of [`split_file`].
#[derive(Debug, Clone)]
pub struct SplitRequest<'a> {
    /// The data file.
    pub data: &'a Path,
    /// The folder to write `train.<ext>`, `validation.<ext>`, `test.<ext>` into.
    pub out_dir: &'a Path,
    /// How rows are assigned.
    pub method: SplitMethod,
    /// The class column (stratified), group column (group) or time column (time).
    pub by: Option<&'a str>,
    /// Sizes and seed.
    pub options: SplitOptions,
    /// How to read the file.
    pub read: ReadOptions,
}

/// Splits a data file into train / validation / test files of the same format.
pub fn split_file(req: &SplitRequest<'_>) -> Result<SplitSummary> {
    let df = mlship_preprocess::read_table(req.data, &req.read)?;
    let batch = mlship_preprocess::frame_to_batch(&df)?;
    let key_column = |what: &str| -> Result<&mlship_core::RawColumn> {
        let name = req
            .by
            .ok_or_else(|| Error::Usage(format!("a {what} split needs --by COLUMN")))?;
        batch.column(name).ok_or_else(|| {
            Error::Usage(format!(
                "no column {name:?} in {}; the columns are {}",
                req.data.display(),
                batch.names().collect::<Vec<_>>().join(", ")
            ))
        })
    };
    let no_nulls = |c: &mlship_core::RawColumn| -> Result<()> {
        match (0..c.len()).find(|&r| !c.is_valid(r)) {
            Some(r) => Err(Error::Data(mlship_preprocess::PreprocessError::Column {
                column: c.name.clone(),
                detail: format!("row {r} is missing; a split key needs a value on every row"),
            })),
            None => Ok(()),
        }
    };
    let codes: Vec<u32>;
    let groups: Vec<u64>;
    let times: Vec<i64>;
    let key = match req.method {
        SplitMethod::Random => SplitKey::Random,
        SplitMethod::Stratified => {
            let c = key_column("stratified")?;
            no_nulls(c)?;
            codes = class_codes(c);
            SplitKey::Stratified(&codes)
        }
        SplitMethod::Group => {
            let c = key_column("group")?;
            no_nulls(c)?;
            groups = class_codes(c).into_iter().map(u64::from).collect();
            SplitKey::Group(&groups)
        }
        SplitMethod::Time => {
            let c = key_column("time")?;
            no_nulls(c)?;
            times = match &c.data {
                ColumnData::Datetime(v) => v.clone(),
                ColumnData::Numeric(v) => v.iter().map(|&x| ordered_bits(x)).collect(),
                _ => {
                    return Err(Error::Usage(format!(
                        "the time column {:?} must hold dates or numbers, not {}",
                        c.name,
                        c.data.type_name()
                    )));
                }
            };
            SplitKey::Time(&times)
        }
    };
    let SplitIndices {
        train,
        validation,
        test,
    } = split_rows(batch.n_rows(), key, &req.options)?;
    std::fs::create_dir_all(req.out_dir)
        .map_err(|e| mlship_core::Error::io("creating", req.out_dir, e))?;
    let ext = req
        .data
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv");
    let mut files = BTreeMap::new();
    for (name, rows) in [
        ("train", &train),
        ("validation", &validation),
        ("test", &test),
    ] {
        if rows.is_empty() && name == "validation" {
            continue;
        }
        let idx = polars_indices(rows);
        let mut part = mlship_preprocess::take_rows(&df, &idx)?;
        let path = req.out_dir.join(format!("{name}.{ext}"));
        mlship_preprocess::write_table(&mut part, &path)?;
        files.insert(name.to_owned(), (path, rows.len()));
    }

    Ok(SplitSummary {
        method: req.method,
        files,
        seed: req.options.seed,
    })
}

/// An integer with the same order as the float `x` (IEEE 754 total order).
fn ordered_bits(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    if b < 0 { b ^ i64::MAX } else { b }
}

fn polars_indices(rows: &[usize]) -> Vec<u32> {
    rows.iter().map(|&r| r as u32).collect()
}

/// Dense codes of a key column's values, in order of first appearance.
fn class_codes(c: &mlship_core::RawColumn) -> Vec<u32> {
    let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    (0..c.len())
        .map(|r| {
            let key = c.value(r).to_string();
            let next = index.len() as u32;
            *index.entry(key).or_insert(next)
        })
        .collect()
}
