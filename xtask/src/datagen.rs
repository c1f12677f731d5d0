//! `cargo xtask datagen`: the deterministic synthetic datasets used by tests and benchmarks,
//! modelled on `bench/README.md` (sections (a)–(e)) and named the same way.
//!
//! Every file comes from this module's own seeded generator ([`crate::rng`]), so the same seed
//! and scale give byte-identical CSV files on every machine and toolchain. Parquet copies are
//! made by the `mlship data convert` command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::csv::{Column, CsvWriter, MISSING, Table, Values};
use crate::rng::{Rng, cumulative};

/// The base seed of every dataset (each adds its own offset, 0..=4).
pub const DEFAULT_SEED: u64 = 20_240_601;
/// Share of rows, taken from the top, that benchmarks use for training.
pub const TRAIN_FRACTION: f64 = 0.8;
/// Fewest rows of any generated file, whatever the scale.
pub const MIN_ROWS: usize = 200;

/// A dataset (the drift pair counts as one: its two files share statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dataset {
    /// (a) `binary_200k`.
    Binary,
    /// (b) `regression_200k`.
    Regression,
    /// (c) `multiclass_100k`.
    Multiclass,
    /// (d) `throughput_1m`.
    Throughput,
    /// (e) `drift_reference` + `drift_current`.
    Drift,
}

impl Dataset {
    /// Every dataset, in generation order.
    pub const ALL: [Dataset; 5] = [
        Dataset::Binary,
        Dataset::Regression,
        Dataset::Multiclass,
        Dataset::Throughput,
        Dataset::Drift,
    ];

    fn seed_offset(self) -> u64 {
        match self {
            Dataset::Binary => 0,
            Dataset::Regression => 1,
            Dataset::Multiclass => 2,
            Dataset::Throughput => 3,
            Dataset::Drift => 4,
        }
    }

    /// Rows at scale 1.
    pub fn base_rows(self) -> usize {
        match self {
            Dataset::Binary | Dataset::Regression => 200_000,
            Dataset::Multiclass | Dataset::Drift => 100_000,
            Dataset::Throughput => 1_000_000,
        }
    }

    /// The names accepted by `--only`; the first is the short one.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Dataset::Binary => &["binary", "binary_200k"],
            Dataset::Regression => &["regression", "regression_200k"],
            Dataset::Multiclass => &["multiclass", "multiclass_100k"],
            Dataset::Throughput => &["throughput", "throughput_1m"],
            Dataset::Drift => &["drift", "drift_reference", "drift_current"],
        }
    }

    /// The dataset called `name` (see [`Dataset::names`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.names().contains(&name))
    }
}

/// Options of `cargo xtask datagen`.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Output folder (default `$MLSHIP_BENCH_DATA` or `bench-data` under the workspace root).
    pub out: Option<PathBuf>,
    /// Row-count multiplier.
    pub scale: f64,
    /// Datasets to write (all when empty).
    pub only: Vec<Dataset>,
    /// Convert every CSV to Parquet with `mlship data convert`.
    pub parquet: bool,
    /// Base seed.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            out: None,
            scale: 1.0,
            only: Vec::new(),
            parquet: true,
            seed: DEFAULT_SEED,
        }
    }
}

impl Options {
    /// Parses the arguments after `datagen` (`--flag VALUE` or `--flag=VALUE`).
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut options = Options::default();
        let mut flags = crate::Flags::new(args);
        while let Some(flag) = flags.next_flag() {
            match flag.as_str() {
                "--out" => options.out = Some(PathBuf::from(flags.value("a folder")?)),
                "--scale" => {
                    let text = flags.value("a number")?;
                    let scale: f64 = text
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .with_context(|| {
                            format!(
                                "invalid --scale {text}: expected a positive number such as 0.01"
                            )
                        })?;
                    options.scale = scale;
                }
                "--seed" => {
                    let text = flags.value("an integer")?;
                    options.seed = text.parse().with_context(|| {
                        format!("invalid --seed {text}: expected a non-negative integer")
                    })?;
                }
                "--only" => {
                    for name in flags
                        .value("a list of datasets")?
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                    {
                        let dataset = Dataset::from_name(name).with_context(|| {
                            let known: Vec<&str> = Dataset::ALL
                                .iter()
                                .flat_map(|d| d.names())
                                .copied()
                                .collect();
                            format!(
                                "unknown dataset `{name}` in --only: expected one of {}",
                                known.join(", ")
                            )
                        })?;
                        if !options.only.contains(&dataset) {
                            options.only.push(dataset);
                        }
                    }
                }
                "--no-parquet" if !flags.has_inline_value() => options.parquet = false,
                other => bail!("unknown option `{other}` for `datagen`\n\n{}", crate::USAGE),
            }
        }
        options.only.sort_unstable();
        Ok(options)
    }

    fn datasets(&self) -> Vec<Dataset> {
        if self.only.is_empty() {
            Dataset::ALL.to_vec()
        } else {
            self.only.clone()
        }
    }
}

/// Rows of a file with `base` rows at scale 1.
pub fn rows_for(base: usize, scale: f64) -> usize {
    ((base as f64 * scale).round() as usize).max(MIN_ROWS)
}

/// One written file, as recorded in `manifest.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// File name inside the output folder.
    pub file: String,
    /// Data rows (header excluded).
    pub rows: usize,
    /// Columns.
    pub columns: usize,
    /// Size in bytes.
    pub bytes: u64,
    /// One-line description.
    pub what: &'static str,
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(entry: &FileEntry, seconds: f64) {
    let mb = entry.bytes as f64 / 1e6;
    println!(
        "  {:<22} {:>9} rows x {:>2} cols {:>8.1} MB {:>6.2} s {:>6.0} MB/s",
        entry.file,
        thousands(entry.rows),
        entry.columns,
        mb,
        seconds,
        mb / seconds.max(1e-9)
    );
}

fn write_table(
    out: &Path,
    stem: &str,
    table: &Table,
    what: &'static str,
    start: Instant,
) -> Result<FileEntry> {
    let file = format!("{stem}.csv");
    let bytes = table.write_csv(&out.join(&file))?;
    let entry = FileEntry {
        file,
        rows: table.rows(),
        columns: table.columns.len(),
        bytes,
        what,
    };
    report(&entry, start.elapsed().as_secs_f64());
    Ok(entry)
}

/// Writes the CSV files of `datasets` into `out`; returns what was written.
pub fn generate_csv(
    out: &Path,
    seed: u64,
    scale: f64,
    datasets: &[Dataset],
) -> Result<Vec<FileEntry>> {
    let mut entries = Vec::new();
    for &dataset in datasets {
        let n = rows_for(dataset.base_rows(), scale);
        let seed = seed.wrapping_add(dataset.seed_offset());
        let start = Instant::now();
        match dataset {
            Dataset::Binary => entries.push(write_table(
                out,
                "binary_200k",
                &binary(n, seed),
                "binary classification, 30 numeric + 3 categorical, ~2% missing",
                start,
            )?),
            Dataset::Regression => entries.push(write_table(
                out,
                "regression_200k",
                &regression(n, seed),
                "regression, 20 numeric, linear + nonlinear terms + noise",
                start,
            )?),
            Dataset::Multiclass => entries.push(write_table(
                out,
                "multiclass_100k",
                &multiclass(n, seed),
                "multiclass (5 classes), 20 numeric",
                start,
            )?),
            Dataset::Throughput => {
                let file = "throughput_1m.csv".to_string();
                let bytes = write_throughput(&out.join(&file), n, seed)?;
                let entry = FileEntry {
                    file,
                    rows: n,
                    columns: THROUGHPUT_COLUMNS,
                    bytes,
                    what: "1M rows x 20 mixed columns for load/preprocess throughput",
                };
                report(&entry, start.elapsed().as_secs_f64());
                entries.push(entry);
            }
            Dataset::Drift => {
                let reference = drift_reference(n, seed);
                entries.push(write_table(
                    out,
                    "drift_reference",
                    &reference,
                    "drift pair: reference",
                    start,
                )?);
                let start = Instant::now();
                let current = drift_current(n, seed, &reference);
                entries.push(write_table(
                    out,
                    "drift_current",
                    &current,
                    "drift pair: current (x03, x07, x11 shifted)",
                    start,
                )?);
            }
        }
    }
    Ok(entries)
}

fn convert_to_parquet(root: &Path, csv: &Path, parquet: &Path) -> Result<()> {
    let args = [
        "run",
        "--quiet",
        "--profile",
        "ci",
        "-p",
        "mlship",
        "--",
        "data",
        "convert",
    ];
    let status = Command::new(crate::cargo())
        .args(args)
        .arg(csv)
        .arg(parquet)
        .current_dir(root)
        .status()
        .context("could not start `cargo run -p mlship`")?;
    if !status.success() {
        bail!(
            "`cargo {} {} {}` failed ({status})\nhint: pass --no-parquet to write the CSV files only",
            args.join(" "),
            csv.display(),
            parquet.display()
        );
    }
    Ok(())
}

fn manifest_json(options: &Options, entries: &[FileEntry], previous: Option<Value>) -> Value {
    let mut files = previous
        .and_then(|mut v| v.get_mut("files").map(Value::take))
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    // A regenerated CSV makes any older Parquet copy stale (it was deleted).
    for e in entries {
        files.remove(&e.file.replace(".csv", ".parquet"));
    }
    for e in entries {
        files.insert(
            e.file.clone(),
            json!({
                "rows": e.rows,
                "columns": e.columns,
                "bytes": e.bytes,
                "seed": options.seed,
                "scale": options.scale,
                "what": e.what,
            }),
        );
    }
    let mut sorted = Map::new();
    let mut names: Vec<String> = files.keys().cloned().collect();
    names.sort();
    for name in names {
        if let Some(v) = files.remove(&name) {
            sorted.insert(name, v);
        }
    }
    json!({
        "generator": "cargo xtask datagen",
        "seed": options.seed,
        "scale": options.scale,
        "train_fraction": TRAIN_FRACTION,
        "split_rule": "first 80% of rows = train, last 20% = test",
        "drift_shifted_features": {
            "x03": "mean shift: +0.5 standard deviations",
            "x07": "scale change: spread around the mean multiplied by 1.5",
            "x11": "shape change: 25% of rows drawn from N(mean + 2 sd, 0.5 sd)",
        },
        "files": sorted,
    })
}

/// The output folder: `--out`, else `$MLSHIP_BENCH_DATA`, else `bench-data` under `root`.
pub fn out_dir(root: &Path, options: &Options) -> PathBuf {
    options
        .out
        .clone()
        .or_else(|| {
            std::env::var_os("MLSHIP_BENCH_DATA")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| root.join("bench-data"))
}

/// `cargo xtask datagen`.
pub fn run(root: &Path, options: &Options) -> Result<()> {
    let out = out_dir(root, options);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let out = std::path::absolute(&out).with_context(|| format!("resolving {}", out.display()))?;
    let start = Instant::now();
    println!(
        "writing to {} (scale {}, seed {})",
        out.display(),
        options.scale,
        options.seed
    );
    let manifest_path = out.join("manifest.json");
    let previous: Option<Value> = if options.only.is_empty() {
        None
    } else {
        std::fs::read(&manifest_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    };
    let write_manifest = |entries: &[FileEntry]| -> Result<()> {
        let manifest = manifest_json(options, entries, previous.clone());
        let text =
            serde_json::to_string_pretty(&manifest).context("serialising manifest.json")? + "\n";
        std::fs::write(&manifest_path, text)
            .with_context(|| format!("writing {}", manifest_path.display()))
    };

    let mut entries = generate_csv(&out, options.seed, options.scale, &options.datasets())?;
    // A Parquet copy of an older CSV would no longer match it.
    for csv in &entries {
        let stale = out.join(csv.file.replace(".csv", ".parquet"));
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing the stale {}", stale.display()));
            }
            _ => {}
        }
    }
    write_manifest(&entries)?;
    if options.parquet {
        println!(
            "converting to Parquet with `cargo run --profile ci -p mlship -- data convert` \
             (the first run builds mlship)"
        );
        for csv in entries.clone() {
            let file = csv.file.replace(".csv", ".parquet");
            let t0 = Instant::now();
            let path = out.join(&file);
            convert_to_parquet(root, &out.join(&csv.file), &path)?;
            let bytes = std::fs::metadata(&path)
                .with_context(|| format!("`mlship data convert` did not write {}", path.display()))?
                .len();
            let entry = FileEntry { file, bytes, ..csv };
            report(&entry, t0.elapsed().as_secs_f64());
            entries.push(entry);
        }
        write_manifest(&entries)?;
    }
    println!(
        "done in {:.1} s; manifest: {}",
        start.elapsed().as_secs_f64(),
        manifest_path.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// generators
// ---------------------------------------------------------------------------------------------

fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i:02}")).collect()
}

fn levels(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

/// Sets about `rate` of the values to missing (NaN).
fn punch_floats(rng: &mut Rng, values: &mut [f64], rate: f64) {
    for v in values {
        if rng.bernoulli(rate) {
            *v = f64::NAN;
        }
    }
}

/// Sets about `rate` of the codes to missing.
fn punch_codes(rng: &mut Rng, codes: &mut [u32], rate: f64) {
    for c in codes {
        if rng.bernoulli(rate) {
            *c = MISSING;
        }
    }
}

fn permute<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
    order.iter().map(|&i| values[i]).collect()
}

/// The `bins - 1` inner quantile edges of `values` (linear interpolation, as numpy's default).
fn quantile_edges(values: &[f64], bins: usize) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let last = sorted.len() - 1;
    (1..bins)
        .map(|k| {
            let pos = k as f64 / bins as f64 * last as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(last);
            sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
        })
        .collect()
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Parameters of [`make_classification`] (scikit-learn's algorithm, this module's generator).
#[derive(Debug, Clone)]
struct ClassificationSpec {
    features: usize,
    informative: usize,
    redundant: usize,
    classes: usize,
    clusters_per_class: usize,
    /// Class proportions (equal when empty).
    weights: Vec<f64>,
    flip_y: f64,
    class_sep: f64,
    shuffle_columns: bool,
}

/// Columns (each of `n` rows) and labels.
#[derive(Debug)]
struct Classification {
    columns: Vec<Vec<f64>>,
    y: Vec<i64>,
}

/// Gaussian clusters on distinct hypercube vertices (side `2 class_sep`) in the informative
/// subspace, each with its own random covariance; redundant columns are random linear
/// combinations of the informative ones; the rest is noise; `flip_y` of the labels are
/// redrawn at random; rows are shuffled. Column order: informative, redundant, noise
/// (shuffled when asked).
fn make_classification(rng: &mut Rng, n: usize, spec: &ClassificationSpec) -> Classification {
    let k_inf = spec.informative;
    let clusters = spec.classes * spec.clusters_per_class;
    let weights = if spec.weights.is_empty() {
        vec![1.0 / spec.classes as f64; spec.classes]
    } else {
        spec.weights.clone()
    };
    let mut per_cluster: Vec<usize> = (0..clusters)
        .map(|k| (n as f64 * weights[k % spec.classes] / spec.clusters_per_class as f64) as usize)
        .collect();
    let mut i = 0;
    while per_cluster.iter().sum::<usize>() < n {
        per_cluster[i % clusters] += 1;
        i += 1;
    }

    let mut vertices: Vec<u64> = Vec::with_capacity(clusters);
    while vertices.len() < clusters {
        let v = rng.below(1u64 << k_inf);
        if !vertices.contains(&v) {
            vertices.push(v);
        }
    }
    let centroids: Vec<Vec<f64>> = vertices
        .iter()
        .map(|v| {
            (0..k_inf)
                .map(|j| {
                    if v >> j & 1 == 1 {
                        spec.class_sep
                    } else {
                        -spec.class_sep
                    }
                })
                .collect()
        })
        .collect();
    let mut uniform_matrix = |rows: usize, cols: usize| -> Vec<f64> {
        (0..rows * cols)
            .map(|_| rng.uniform_in(-1.0, 1.0))
            .collect()
    };
    let covariances: Vec<Vec<f64>> = (0..clusters)
        .map(|_| uniform_matrix(k_inf, k_inf))
        .collect();
    let redundancy = uniform_matrix(k_inf, spec.redundant);

    let mut columns = vec![vec![0.0; n]; spec.features];
    let mut y = vec![0i64; n];
    let mut z = vec![0.0; k_inf];
    let mut x = vec![0.0; k_inf];
    let mut row = 0;
    for (k, &count) in per_cluster.iter().enumerate() {
        let a = &covariances[k];
        for _ in 0..count {
            for zi in &mut z {
                *zi = rng.normal();
            }
            for (j, xj) in x.iter_mut().enumerate() {
                *xj = centroids[k][j] + (0..k_inf).map(|i| z[i] * a[i * k_inf + j]).sum::<f64>();
                columns[j][row] = *xj;
            }
            for r in 0..spec.redundant {
                columns[k_inf + r][row] = (0..k_inf)
                    .map(|i| x[i] * redundancy[i * spec.redundant + r])
                    .sum();
            }
            for column in &mut columns[k_inf + spec.redundant..] {
                column[row] = rng.normal();
            }
            y[row] = (k % spec.classes) as i64;
            row += 1;
        }
    }
    for label in &mut y {
        if rng.bernoulli(spec.flip_y) {
            *label = rng.below(spec.classes as u64) as i64;
        }
    }
    let order = rng.permutation(n);
    let mut columns: Vec<Vec<f64>> = columns.iter().map(|c| permute(c, &order)).collect();
    let y = permute(&y, &order);
    if spec.shuffle_columns {
        let cols = rng.permutation(spec.features);
        columns = cols
            .iter()
            .map(|&c| std::mem::take(&mut columns[c]))
            .collect();
    }
    Classification { columns, y }
}

/// (a) `binary_200k`: `f00`..`f29`, `cat_color`, `cat_region`, `cat_segment`, `target`.
fn binary(n: usize, seed: u64) -> Table {
    let mut rng = Rng::new(seed);
    let spec = ClassificationSpec {
        features: 32,
        informative: 12,
        redundant: 6,
        classes: 2,
        clusters_per_class: 2,
        weights: vec![0.6, 0.4],
        flip_y: 0.03,
        class_sep: 0.8,
        shuffle_columns: false,
    };
    let Classification { mut columns, y } = make_classification(&mut rng, n, &spec);
    let visible: Vec<Vec<f64>> = columns.drain(2..).collect();
    let (hidden_a, hidden_b) = (&columns[0], &columns[1]);

    let order = rng.permutation(visible.len());
    let mut table = Table::default();
    for (name, &c) in names("f", 30).into_iter().zip(&order) {
        let scale = rng.uniform_in(-1.5, 2.5).exp();
        let offset = rng.normal_with(0.0, 5.0);
        let mut values: Vec<f64> = visible[c].iter().map(|v| v * scale + offset).collect();
        punch_floats(&mut rng, &mut values, 0.02);
        table.columns.push(Column::float(name, values));
    }

    let colors = levels(&["red", "green", "blue", "yellow", "purple"]);
    let p1 = cumulative(&[0.30, 0.25, 0.20, 0.15, 0.10]);
    let p0 = cumulative(&[0.10, 0.15, 0.20, 0.25, 0.30]);
    let mut color: Vec<u32> = y
        .iter()
        .map(|&t| rng.weighted(if t == 1 { &p1 } else { &p0 }) as u32)
        .collect();

    let mut binned = |hidden: &[f64], bins: usize, reassign: f64| -> Vec<u32> {
        let edges = quantile_edges(hidden, bins);
        hidden
            .iter()
            .map(|v| {
                let bin = edges.partition_point(|e| e < v) as u32;
                if rng.bernoulli(reassign) {
                    rng.below(bins as u64) as u32
                } else {
                    bin
                }
            })
            .collect()
    };
    let mut region = binned(hidden_a, 12, 0.15);
    let mut segment = binned(hidden_b, 40, 0.35);
    for codes in [&mut color, &mut region, &mut segment] {
        punch_codes(&mut rng, codes, 0.02);
    }
    table.columns.push(Column::cat("cat_color", colors, color));
    table
        .columns
        .push(Column::cat("cat_region", names("region_", 12), region));
    table
        .columns
        .push(Column::cat("cat_segment", names("seg_", 40), segment));
    table.columns.push(Column::int("target", y));
    table
}

/// (b) `regression_200k`: `x00`..`x19` standard normal, `target` = a linear combination of
/// 12 random columns (coefficients in [0, 100)) + 60 sin(2 x00) + 30 x01 x02 +
/// 25 (x03² − 1) + 40 [x04 > 0.5] + N(0, 10).
fn regression(n: usize, seed: u64) -> Table {
    let mut rng = Rng::new(seed);
    let mut columns = vec![vec![0.0; n]; 20];
    for row in 0..n {
        for column in &mut columns {
            column[row] = rng.normal();
        }
    }
    let informative: Vec<usize> = rng.permutation(20).into_iter().take(12).collect();
    let coef: Vec<f64> = informative.iter().map(|_| 100.0 * rng.next_f64()).collect();
    let target: Vec<f64> = (0..n)
        .map(|row| {
            let x = |c: usize| columns[c][row];
            let linear: f64 = informative.iter().zip(&coef).map(|(&c, w)| w * x(c)).sum();
            linear
                + rng.normal_with(0.0, 10.0)
                + 60.0 * (2.0 * x(0)).sin()
                + 30.0 * x(1) * x(2)
                + 25.0 * (x(3) * x(3) - 1.0)
                + if x(4) > 0.5 { 40.0 } else { 0.0 }
        })
        .collect();
    let mut table = Table::default();
    for (name, values) in names("x", 20).into_iter().zip(columns) {
        table.columns.push(Column::float(name, values));
    }
    table.columns.push(Column::float("target", target));
    table
}

/// (c) `multiclass_100k`: `x00`..`x19`, `target` 0..4 balanced.
fn multiclass(n: usize, seed: u64) -> Table {
    let mut rng = Rng::new(seed);
    let spec = ClassificationSpec {
        features: 20,
        informative: 10,
        redundant: 4,
        classes: 5,
        clusters_per_class: 2,
        weights: Vec::new(),
        flip_y: 0.02,
        class_sep: 1.0,
        shuffle_columns: true,
    };
    let Classification { columns, y } = make_classification(&mut rng, n, &spec);
    let mut table = Table::default();
    for (name, values) in names("x", 20).into_iter().zip(columns) {
        table.columns.push(Column::float(name, values));
    }
    table.columns.push(Column::int("target", y));
    table
}

const THROUGHPUT_COLUMNS: usize = 20;
const DAYS_2022_TO_2024: u64 = 3 * 365;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// (d) `throughput_1m`, streamed row by row: `id`, `f00`..`f13` (normal(i, 1+i) /
/// lognormal(0, 1)·100 / uniform(−1000, 1000) in rotation, ~1% missing), `i00` uniform 0..99,
/// `i01` Poisson(3), `s00` 8 levels (~1% missing), `s01` 1000 users, `date` 2022-01-01 ..
/// 2024-12-30. Returns the bytes written.
fn write_throughput(path: &Path, n: usize, seed: u64) -> Result<u64> {
    let mut rng = Rng::new(seed);
    let mut header: Vec<String> = vec!["id".into()];
    header.extend(names("f", 14));
    header.extend(["i00", "i01", "s00", "s01", "date"].map(String::from));
    debug_assert_eq!(header.len(), THROUGHPUT_COLUMNS);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let greek = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    let users: Vec<String> = (0..1000).map(|i| format!("user_{i:04}")).collect();
    let start = days_from_civil(2022, 1, 1);
    let dates: Vec<String> = (0..DAYS_2022_TO_2024)
        .map(|d| civil_from_days(start + d as i64))
        .collect();

    let mut w = CsvWriter::create(path, &header)?;
    for id in 1..=n {
        w.int(id as i64);
        for i in 0..14 {
            let v = match i % 3 {
                0 => rng.normal_with(i as f64, 1.0 + i as f64),
                1 => rng.lognormal(0.0, 1.0) * 100.0,
                _ => rng.uniform_in(-1000.0, 1000.0),
            };
            if rng.bernoulli(0.01) {
                w.missing();
            } else {
                w.float(v);
            }
        }
        w.int(rng.below(100) as i64);
        w.int(rng.poisson(3.0) as i64);
        let level = greek[rng.index(greek.len())];
        if rng.bernoulli(0.01) {
            w.missing();
        } else {
            w.text(level);
        }
        w.text(&users[rng.index(users.len())]);
        w.text(&dates[rng.index(dates.len())]);
        w.end_row()?;
    }
    w.finish()
}

const CHANNELS: [&str; 4] = ["web", "mobile", "store", "partner"];
const CHANNEL_WEIGHTS: [f64; 4] = [0.45, 0.35, 0.15, 0.05];

/// `x00`..`x14`: normal(10 i, 1 + i) / lognormal(0.5, 0.6) / gamma(2 + i/5, 3) in rotation;
/// `channel`: web 45%, mobile 35%, store 15%, partner 5%.
fn drift_block(n: usize, rng: &mut Rng) -> Table {
    let mut table = Table::default();
    for (i, name) in names("x", 15).into_iter().enumerate() {
        let fi = i as f64;
        let values: Vec<f64> = (0..n)
            .map(|_| match i % 3 {
                0 => rng.normal_with(10.0 * fi, 1.0 + fi),
                1 => rng.lognormal(0.5, 0.6),
                _ => rng.gamma(2.0 + fi / 5.0, 3.0),
            })
            .collect();
        table.columns.push(Column::float(name, values));
    }
    let cum = cumulative(&CHANNEL_WEIGHTS);
    let codes: Vec<u32> = (0..n).map(|_| rng.weighted(&cum) as u32).collect();
    table
        .columns
        .push(Column::cat("channel", levels(&CHANNELS), codes));
    table
}

/// (e) `drift_reference`.
fn drift_reference(n: usize, seed: u64) -> Table {
    drift_block(n, &mut Rng::new(seed))
}

fn float_column_mut<'a>(table: &'a mut Table, name: &str) -> &'a mut Vec<f64> {
    match table
        .columns
        .iter_mut()
        .find(|c| c.name == name)
        .map(|c| &mut c.values)
    {
        Some(Values::Float(v)) => v,
        _ => unreachable!("the drift tables have float column {name}"),
    }
}

fn float_column<'a>(table: &'a Table, name: &str) -> &'a [f64] {
    match table.column(name) {
        Some(Values::Float(v)) => v,
        _ => unreachable!("the drift tables have float column {name}"),
    }
}

/// (e) `drift_current`: the reference's distributions drawn with another seed, except `x03`
/// (+0.5 reference sd), `x07` (spread around the reference mean × 1.5) and `x11` (25% of rows
/// from N(mean + 2 sd, 0.5 sd) of the reference).
fn drift_current(n: usize, seed: u64, reference: &Table) -> Table {
    let mut current = drift_block(n, &mut Rng::new(seed.wrapping_add(7)));
    let mut rng = Rng::new(seed.wrapping_add(99));

    let (_, sd3) = mean_sd(float_column(reference, "x03"));
    for v in float_column_mut(&mut current, "x03") {
        *v += 0.5 * sd3;
    }
    let (m7, _) = mean_sd(float_column(reference, "x07"));
    for v in float_column_mut(&mut current, "x07") {
        *v = m7 + 1.5 * (*v - m7);
    }
    let (m11, sd11) = mean_sd(float_column(reference, "x11"));
    for v in float_column_mut(&mut current, "x11") {
        if rng.bernoulli(0.25) {
            *v = rng.normal_with(m11 + 2.0 * sd11, 0.5 * sd11);
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// Header and rows of a CSV written by this module (no quoted fields in the datasets).
    fn parse(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
        let text = String::from_utf8(read(path)).expect("utf-8");
        assert!(text.ends_with('\n') && !text.contains('\r'));
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .expect("header")
            .split(',')
            .map(String::from)
            .collect();
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(String::from).collect())
            .collect();
        (header, rows)
    }

    fn missing_rate(rows: &[Vec<String>], columns: &[usize]) -> f64 {
        let missing = rows
            .iter()
            .flat_map(|r| columns.iter().map(move |&c| r[c].is_empty()))
            .filter(|&m| m)
            .count();
        missing as f64 / (rows.len() * columns.len()) as f64
    }

    fn options(seed: u64, scale: f64) -> Options {
        Options {
            out: None,
            scale,
            only: Vec::new(),
            parquet: false,
            seed,
        }
    }

    fn generate(dir: &Path, seed: u64, scale: f64) -> Options {
        let opts = Options {
            out: Some(dir.to_path_buf()),
            ..options(seed, scale)
        };
        run(Path::new("/nonexistent-root"), &opts).expect("datagen runs");
        opts
    }

    const FILES: [&str; 6] = [
        "binary_200k.csv",
        "regression_200k.csv",
        "multiclass_100k.csv",
        "throughput_1m.csv",
        "drift_reference.csv",
        "drift_current.csv",
    ];

    #[test]
    fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let c = tempfile::tempdir().expect("tempdir");
        generate(a.path(), 7, 0.005);
        generate(b.path(), 7, 0.005);
        generate(c.path(), 8, 0.005);
        for file in FILES.iter().chain(&["manifest.json"]) {
            assert_eq!(
                read(&a.path().join(file)),
                read(&b.path().join(file)),
                "{file}"
            );
        }
        for file in FILES {
            assert_ne!(
                read(&a.path().join(file)),
                read(&c.path().join(file)),
                "{file}"
            );
        }
    }

    #[test]
    fn files_have_the_documented_shape_and_missing_rates() {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(dir.path(), DEFAULT_SEED, 0.02);
        let manifest: Value =
            serde_json::from_slice(&read(&dir.path().join("manifest.json"))).expect("json");
        let expect = [
            ("binary_200k.csv", 4000, 34),
            ("regression_200k.csv", 4000, 21),
            ("multiclass_100k.csv", 2000, 21),
            ("throughput_1m.csv", 20_000, 20),
            ("drift_reference.csv", 2000, 16),
            ("drift_current.csv", 2000, 16),
        ];
        for (file, rows, columns) in expect {
            let path = dir.path().join(file);
            let (header, body) = parse(&path);
            assert_eq!((body.len(), header.len()), (rows, columns), "{file}");
            assert!(
                body.iter().all(|r| r.len() == columns),
                "{file}: ragged rows"
            );
            let entry = &manifest["files"][file];
            assert_eq!(entry["rows"], rows, "{file}");
            assert_eq!(entry["columns"], columns, "{file}");
            assert_eq!(entry["bytes"], read(&path).len(), "{file}");
            assert_eq!(entry["seed"], DEFAULT_SEED, "{file}");
        }
        assert_eq!(manifest["scale"], 0.02);

        let (header, rows) = parse(&dir.path().join("binary_200k.csv"));
        let mut want: Vec<String> = names("f", 30);
        want.extend(["cat_color", "cat_region", "cat_segment", "target"].map(String::from));
        assert_eq!(header, want);
        let rate = missing_rate(&rows, &(0..30).collect::<Vec<_>>());
        assert!(
            (0.016..0.024).contains(&rate),
            "numeric missing rate {rate}"
        );
        for (c, name) in header.iter().enumerate().skip(30).take(3) {
            let rate = missing_rate(&rows, &[c]);
            assert!((0.01..0.03).contains(&rate), "{name} missing rate {rate}");
        }
        assert_eq!(missing_rate(&rows, &[33]), 0.0);
        let ones = rows.iter().filter(|r| r[33] == "1").count() as f64 / rows.len() as f64;
        assert!((0.36..0.44).contains(&ones), "share of class 1: {ones}");
        assert!(rows.iter().all(|r| r[33] == "0" || r[33] == "1"));

        let (header, rows) = parse(&dir.path().join("throughput_1m.csv"));
        assert_eq!(header[0], "id");
        assert_eq!(header[19], "date");
        assert_eq!(rows[0][0], "1");
        assert_eq!(rows[rows.len() - 1][0], "20000");
        let rate = missing_rate(&rows, &(1..15).collect::<Vec<_>>());
        assert!(
            (0.008..0.012).contains(&rate),
            "throughput missing rate {rate}"
        );
        let s00 = missing_rate(&rows, &[17]);
        assert!((0.005..0.015).contains(&s00), "s00 missing rate {s00}");
        assert_eq!(missing_rate(&rows, &[0, 15, 16, 18, 19]), 0.0);
        let dates: Vec<&str> = rows.iter().map(|r| r[19].as_str()).collect();
        assert!(
            dates
                .iter()
                .all(|d| ("2022-01-01"..="2024-12-30").contains(d)),
            "dates"
        );

        for file in [
            "drift_reference.csv",
            "drift_current.csv",
            "regression_200k.csv",
        ] {
            let (header, rows) = parse(&dir.path().join(file));
            assert_eq!(
                missing_rate(&rows, &(0..header.len()).collect::<Vec<_>>()),
                0.0,
                "{file}"
            );
        }
    }

    #[test]
    fn drift_pair_shifts_exactly_x03_x07_x11() {
        let n = 20_000;
        let reference = drift_reference(n, 1);
        let current = drift_current(n, 1, &reference);
        for i in 0..15 {
            let name = format!("x{i:02}");
            let (m0, s0) = mean_sd(float_column(&reference, &name));
            let (m1, s1) = mean_sd(float_column(&current, &name));
            let shift = (m1 - m0) / s0;
            let spread = s1 / s0;
            match i {
                3 => assert!(
                    (shift - 0.5).abs() < 0.05 && (spread - 1.0).abs() < 0.05,
                    "x03"
                ),
                7 => assert!(
                    shift.abs() < 0.05 && (spread - 1.5).abs() < 0.08,
                    "x07 {spread}"
                ),
                11 => assert!((shift - 0.5).abs() < 0.06, "x11 shift {shift}"),
                _ => assert!(shift.abs() < 0.05 && (spread - 1.0).abs() < 0.05, "{name}"),
            }
        }
    }

    #[test]
    fn classification_sets_are_balanced_as_documented() {
        let table = multiclass(10_000, 3);
        let Some(Values::Int(y)) = table.column("target") else {
            panic!("target column")
        };
        for class in 0..5 {
            let share = y.iter().filter(|&&t| t == class).count() as f64 / y.len() as f64;
            assert!((share - 0.2).abs() < 0.02, "class {class}: {share}");
        }
    }

    #[test]
    fn manifest_merges_with_the_previous_one_and_drops_stale_parquet() {
        let previous = json!({"seed": 1, "files": {
            "binary_200k.csv": {"rows": 1},
            "binary_200k.parquet": {"rows": 1},
            "regression_200k.csv": {"rows": 2},
        }});
        let entry = FileEntry {
            file: "binary_200k.csv".into(),
            rows: 200,
            columns: 34,
            bytes: 10,
            what: "w",
        };
        let got = manifest_json(&options(9, 0.5), &[entry], Some(previous));
        let files: Vec<&String> = got["files"].as_object().expect("map").keys().collect();
        assert_eq!(files, ["binary_200k.csv", "regression_200k.csv"]);
        assert_eq!(got["files"]["binary_200k.csv"]["rows"], 200);
        assert_eq!(got["files"]["binary_200k.csv"]["seed"], 9);
        assert_eq!(got["files"]["regression_200k.csv"]["rows"], 2);
        assert_eq!(got["seed"], 9);
    }

    #[test]
    fn dates_and_row_counts() {
        let start = days_from_civil(2022, 1, 1);
        assert_eq!(civil_from_days(start), "2022-01-01");
        assert_eq!(civil_from_days(start + 59), "2022-03-01");
        assert_eq!(
            civil_from_days(start + DAYS_2022_TO_2024 as i64 - 1),
            "2024-12-30"
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(rows_for(1_000_000, 1.0), 1_000_000);
        assert_eq!(rows_for(200_000, 0.01), 2000);
        assert_eq!(rows_for(100_000, 0.0001), MIN_ROWS);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn options_parse() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let parsed = Options::parse(&args(&[
            "--scale",
            "0.01",
            "--only",
            "drift_current,binary",
            "--no-parquet",
            "--seed=5",
            "--out",
            "d",
        ]))
        .expect("valid");
        assert_eq!(
            parsed,
            Options {
                out: Some(PathBuf::from("d")),
                scale: 0.01,
                only: vec![Dataset::Binary, Dataset::Drift],
                parquet: false,
                seed: 5,
            }
        );
        let err = |a: &[&str]| Options::parse(&args(a)).expect_err("invalid").to_string();
        assert_eq!(
            err(&["--scale", "-1"]),
            "invalid --scale -1: expected a positive number such as 0.01"
        );
        assert!(err(&["--only", "iris"]).starts_with("unknown dataset `iris` in --only"));
        assert_eq!(err(&["--seed"]), "`--seed` needs an integer");
        assert!(err(&["--bogus"]).starts_with("unknown option `--bogus` for `datagen`"));
    }
}
