//! `cargo xtask bench`: mlship side by side with its Python peers, on the datasets of
//! `cargo xtask datagen`, with the results written to `docs/benchmarks.md`.
//!
//! A task is a small declarative thing ([`tasks`]): the data files it reads (datagen's, or
//! rows cut from them), the mlship command timed and which number of its JSON output is the
//! timed part (or the whole process), the peer script and function timed against it, and the
//! targets of the issues. Two tasks measure themselves instead: `row_path` runs a criterion
//! benchmark and `registry` an example program of the workspace.
//!
//! Every timing is the median of `--repeats` runs after one untimed warm-up run, with the files
//! in the page cache. Ratios are always "mlship time ÷ peer time": below 1 mlship is faster.

pub mod report;
pub mod tasks;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::datagen;
pub use report::*;
pub use tasks::Task;
use tasks::{Case, Input, Limit, PeerRef, Rows, Source, TaskDef, Timed, Work};

/// The file `bench` reads and writes its results into, relative to the workspace root.
pub const DOC_PATH: &str = "docs/benchmarks.md";
/// The peers' requirements, relative to the workspace root.
pub const PEER_REQUIREMENTS: &str = "xtask/peers/requirements.txt";
/// The peer scripts, relative to the workspace root.
pub const PEERS_DIR: &str = "xtask/peers";
/// The pipeline specs of the tasks, relative to the workspace root.
pub const SPECS_DIR: &str = "xtask/bench";
/// The folder, under the target dir, of the virtualenv `--install-peers` creates.
pub const PEERS_VENV: &str = "peers-venv";
/// Above this share of the CPUs' time used by other processes, a run is flagged as busy.
pub const BUSY_SHARE: f64 = 0.1;
/// The variables that size thread pools: rayon, polars, OpenMP and the BLAS libraries.
pub const THREAD_VARIABLES: [&str; 6] = [
    "RAYON_NUM_THREADS",
    "POLARS_MAX_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
];

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Tasks to run (all when empty).
    pub only: Vec<Task>,
    /// Timed runs per tool (after one warm-up run).
    pub repeats: usize,
    /// Data folder (default: datagen's, `$MLSHIP_BENCH_DATA` or `bench-data/`).
    pub data: Option<PathBuf>,
    /// The Python that runs the peers (default: `<target-dir>/peers-venv`, when it exists).
    pub peers: Option<PathBuf>,
    /// Create `<target-dir>/peers-venv` and install the pinned peers first.
    pub install_peers: bool,
    /// Rewrite the tasks' sections of `docs/benchmarks.md`.
    pub write: bool,
    /// Time this mlship binary instead of building the release one.
    pub mlship: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            repeats: 5,
            data: None,
            peers: None,
            install_peers: false,
            write: true,
            mlship: None,
        }
    }
}

impl Options {
    /// Parses the arguments after `bench` (`--flag VALUE` or `--flag=VALUE`).
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut options = Options::default();
        let mut flags = crate::Flags::new(args);
        while let Some(flag) = flags.next_flag() {
            match flag.as_str() {
                "--only" => {
                    for name in flags
                        .value("a list of tasks")?
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                    {
                        let task = Task::from_name(name).with_context(|| {
                            let known: Vec<&str> = Task::ALL.iter().map(|t| t.name()).collect();
                            format!(
                                "unknown task `{name}` in --only: expected one of {}",
                                known.join(", ")
                            )
                        })?;
                        if !options.only.contains(&task) {
                            options.only.push(task);
                        }
                    }
                }
                "--repeats" => {
                    let text = flags.value("a number")?;
                    options.repeats = text.parse().ok().filter(|&n| n >= 1).with_context(|| {
                        format!("invalid --repeats {text}: expected a whole number of at least 1")
                    })?;
                }
                "--data" => options.data = Some(PathBuf::from(flags.value("a folder")?)),
                "--peers" => {
                    options.peers = Some(PathBuf::from(flags.value("a Python interpreter")?));
                }
                "--mlship" => options.mlship = Some(PathBuf::from(flags.value("a binary")?)),
                "--install-peers" if !flags.has_inline_value() => options.install_peers = true,
                "--no-write" if !flags.has_inline_value() => options.write = false,
                other => bail!("unknown option `{other}` for `bench`\n\n{}", crate::USAGE),
            }
        }
        options.only.sort_unstable();
        Ok(options)
    }

    fn tasks(&self) -> Vec<Task> {
        if self.only.is_empty() {
            Task::ALL.to_vec()
        } else {
            self.only.clone()
        }
    }
}

/// The lines `cargo xtask help` shows for the tasks: `name  summary`, wrapped (the help text
/// holds them literally; a test keeps the two in step).
#[cfg(test)]
pub fn task_help() -> String {
    let mut out = String::new();
    for task in Task::ALL {
        let mut line = format!("                  {:<11}", task.name());
        let mut width = line.chars().count();
        for word in task.def().summary.split_whitespace() {
            if width + word.chars().count() > 96 && width > 29 {
                out.push_str(line.trim_end());
                out.push('\n');
                line = " ".repeat(29);
                width = 29;
            }
            line.push_str(word);
            line.push(' ');
            width += word.chars().count() + 1;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Fills the placeholders of a task's argument (see [`tasks`]).
pub fn fill(arg: &str, places: &[(&str, String)]) -> String {
    let mut out = arg.to_string();
    for (key, value) in places {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// The rows `rows` keeps of a file body with `n` rows: a range, or the whole body `k` times.
pub fn cut_range(rows: Rows, n: usize) -> (std::ops::Range<usize>, usize) {
    let train = (n as f64 * datagen::TRAIN_FRACTION).floor() as usize;
    match rows {
        Rows::Train => (0..train, 1),
        Rows::Test => (train..n, 1),
        Rows::First(k) => (0..k.min(n), 1),
        Rows::Repeat(k) => (0..n, k),
    }
}

/// A CSV text cut by `rows`: the header, then the rows kept.
pub fn cut_text(text: &[u8], rows: Rows) -> Vec<u8> {
    let header_end = text
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| i + 1);
    let (header, body) = text.split_at(header_end);
    let mut starts = vec![0];
    starts.extend(
        body.iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && i + 1 < body.len())
            .map(|(i, _)| i + 1),
    );
    let n = if body.is_empty() { 0 } else { starts.len() };
    let (range, times) = cut_range(rows, n);
    let from = starts.get(range.start).copied().unwrap_or(body.len());
    let to = starts.get(range.end).copied().unwrap_or(body.len());
    let mut chunk = body[from..to].to_vec();
    if !chunk.is_empty() && chunk.last() != Some(&b'\n') {
        chunk.push(b'\n');
    }
    let mut out = Vec::with_capacity(header.len() + chunk.len() * times);
    out.extend_from_slice(header);
    if out.last() != Some(&b'\n') && !out.is_empty() {
        out.push(b'\n');
    }
    for _ in 0..times {
        out.extend_from_slice(&chunk);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// running things
// ---------------------------------------------------------------------------------------------

/// What every task run shares.
struct Bench<'a> {
    root: &'a Path,
    mlship: PathBuf,
    data: PathBuf,
    work: PathBuf,
    python: Option<PathBuf>,
    why_no_peers: String,
    repeats: usize,
}

impl Bench<'_> {
    fn places(&self, threads: Option<usize>) -> Vec<(&'static str, String)> {
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        vec![
            ("data", self.data.display().to_string()),
            ("work", self.work.display().to_string()),
            ("specs", self.root.join(SPECS_DIR).display().to_string()),
            ("peers", self.root.join(PEERS_DIR).display().to_string()),
            ("repeats", self.repeats.to_string()),
            ("threads", threads.to_string()),
        ]
    }

    fn args(&self, args: &[&str], threads: Option<usize>) -> Vec<String> {
        let places = self.places(threads);
        args.iter().map(|a| fill(a, &places)).collect()
    }
}

fn with_threads(cmd: &mut Command, threads: Option<usize>) -> &mut Command {
    if let Some(n) = threads {
        for var in THREAD_VARIABLES {
            cmd.env(var, n.to_string());
        }
    }
    cmd
}

/// `VmHWM` of `/proc/<pid>/status`, in KiB.
pub fn vm_hwm_kib(status: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmHWM:")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// One run of an mlship command: wall time, stdout, peak resident memory (KiB, polled from
/// `/proc` while it runs).
struct Run {
    seconds: f64,
    stdout: String,
    peak_kib: Option<u64>,
}

fn run_mlship(ctx: &Bench<'_>, args: &[String], threads: Option<usize>) -> Result<Run> {
    let out_path = ctx.work.join("mlship-stdout.json");
    let stdout =
        File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let mut cmd = Command::new(&ctx.mlship);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit());
    with_threads(&mut cmd, threads);
    let shown = format!("mlship {}", shell_line(args));
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", ctx.mlship.display()))?;
    let status_path = PathBuf::from(format!("/proc/{}/status", child.id()));
    let done = AtomicBool::new(false);
    let (status, seconds, peak_kib) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let mut peak = None;
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = std::fs::read_to_string(&status_path)
                    .ok()
                    .as_deref()
                    .and_then(vm_hwm_kib)
                {
                    peak = Some(peak.map_or(kib, |p: u64| p.max(kib)));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        });
        let status = child.wait();
        let seconds = start.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        (status, seconds, poller.join().ok().flatten())
    });
    let status = status.with_context(|| format!("waiting for `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    let stdout = std::fs::read_to_string(&out_path)
        .with_context(|| format!("reading {}", out_path.display()))?;
    Ok(Run {
        seconds,
        stdout,
        peak_kib,
    })
}

fn run_status(cmd: &mut Command, shown: &str) -> Result<()> {
    println!("==> {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd`, echoing and returning its stdout.
fn run_output(cmd: &mut Command, shown: &str) -> Result<String> {
    println!("==> {shown}");
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{stdout}");
    if !output.status.success() {
        bail!("`{shown}` failed ({})", output.status);
    }
    Ok(stdout)
}

/// A file written whole: to `NAME.tmp`, synced, then renamed into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {}", tmp.display()))
}

/// Rows (lines after the header) and columns (header fields) of a CSV text.
#[allow(clippy::naive_bytecount)] // a few hundred MB once per task: no crate needed for that
fn csv_shape(text: &[u8]) -> (u64, u64) {
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u64
        + u64::from(text.last().is_some_and(|&b| b != b'\n'));
    let header_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let columns = text[..header_end].iter().filter(|&&b| b == b',').count() as u64 + 1;
    (lines.saturating_sub(1), columns)
}

/// Makes every input of `def` exist: datagen's files (generated when missing) and the cuts
/// (rewritten every run). Returns the data lines and whether every datagen file has its full
/// size.
fn prepare_inputs(ctx: &Bench<'_>, def: &TaskDef) -> Result<(Vec<String>, bool)> {
    let mut paths: BTreeMap<&str, PathBuf> = BTreeMap::new();
    let mut texts: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut full_size = true;
    for Input { name, source } in def.inputs {
        let (path, text) = match source {
            Source::Datagen(dataset) => {
                let path = ctx.data.join(name);
                if !path.exists() {
                    println!(
                        "{} is missing: generating it (`cargo xtask datagen --only {} --no-parquet`)",
                        path.display(),
                        dataset.names()[0]
                    );
                    datagen::run(
                        ctx.root,
                        &datagen::Options {
                            out: Some(ctx.data.clone()),
                            only: vec![*dataset],
                            parquet: false,
                            ..datagen::Options::default()
                        },
                    )?;
                }
                let text =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                if csv_shape(&text).0 != dataset.base_rows() as u64 {
                    full_size = false;
                }
                (path, text)
            }
            Source::Cut { from, rows } => {
                let source = texts
                    .get(from)
                    .with_context(|| format!("input {name} is cut from {from}, listed later"))?;
                let text = cut_text(source, *rows);
                let path = ctx.work.join(name);
                write_atomic(&path, &text)?;
                (path, text)
            }
        };
        let (rows, columns) = csv_shape(&text);
        lines.push(format!(
            "`{name}` ({} rows × {columns} columns, {:.1} MB)",
            thousands(rows),
            text.len() as f64 / 1e6
        ));
        paths.insert(name, path);
        texts.insert(name, text);
    }
    Ok((lines, full_size))
}

fn cpu_times() -> Option<CpuTimes> {
    CpuTimes::parse(
        &std::fs::read_to_string("/proc/stat").ok()?,
        &std::fs::read_to_string("/proc/self/stat").ok()?,
    )
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .as_deref()
        .and_then(cpu_model)
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .as_deref()
        .and_then(mem_total_kib)
        .map_or_else(String::new, |kib| {
            format!(", {:.1} GiB RAM", kib as f64 / (1024.0 * 1024.0))
        });
    format!("{cpu}, {cpus} logical CPUs{mem}, {}", std::env::consts::OS)
}

/// How the mlship command of a case is named in the table: the subcommand, the estimator and
/// what is timed.
fn mlship_label(case: &Case) -> String {
    let mut words: Vec<&str> = case
        .args
        .iter()
        .take_while(|a| !a.starts_with('-'))
        .copied()
        .collect();
    if let Some(i) = case.args.iter().position(|a| *a == "--estimator")
        && let Some(e) = case.args.get(i + 1)
    {
        words.extend(["--estimator", e]);
    }
    let timed = match case.timed {
        Timed::Process => "whole process".to_string(),
        Timed::Fields(fields) => fields
            .iter()
            .map(|f| f.trim_start_matches('/'))
            .collect::<Vec<_>>()
            .join(" + "),
    };
    format!("mlship {} ({timed})", words.join(" "))
}

/// mlship's quality on the case's test rows.
fn mlship_quality(ctx: &Bench<'_>, case: &Case) -> Result<Vec<(String, f64)>> {
    let Some(q) = case.quality else {
        return Ok(Vec::new());
    };
    let model = ctx.args(&[q.model], case.threads).remove(0);
    let test = ctx.args(&[q.test], case.threads).remove(0);
    let out = ctx.work.join(format!("{}-test-predictions.csv", case.name));
    let mut args = vec![
        "predict".to_string(),
        "--model".into(),
        model,
        "--data".into(),
        test.clone(),
        "--out".into(),
        out.display().to_string(),
    ];
    if q.binary {
        args.push("--proba".into());
    }
    println!("==> quality: mlship {}", shell_line(&args));
    run_mlship(ctx, &args, case.threads)?;
    let predictions =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    let truth = std::fs::read_to_string(&test).with_context(|| format!("reading {test}"))?;
    let y = csv_column(&truth, "target").with_context(|| format!("reading {test}"))?;
    let mut quality = Vec::new();
    if q.binary {
        let p = csv_column(&predictions, "proba_1")
            .with_context(|| format!("reading {}", out.display()))?;
        if let Some(v) = log_loss(&y, &p) {
            quality.push(("log_loss".to_string(), v));
        }
        if let Some(v) = roc_auc(&y, &p) {
            quality.push(("roc_auc".to_string(), v));
        }
    } else {
        let p = csv_column(&predictions, "prediction")
            .with_context(|| format!("reading {}", out.display()))?;
        if let Some(v) = r2(&y, &p) {
            quality.push(("r2".to_string(), v));
        }
    }
    Ok(quality)
}

/// What the peer script of a case reported, or why there is nothing.
fn run_peer(ctx: &Bench<'_>, case: &Case) -> std::result::Result<PeerReport, String> {
    let Some(call) = case.peer else {
        return Err("no peer".into());
    };
    let Some(python) = &ctx.python else {
        return Err(ctx.why_no_peers.clone());
    };
    let mut args = ctx.args(call.args, case.threads);
    args.extend(["--repeats".to_string(), ctx.repeats.to_string()]);
    let shown = format!("{} {}", python.display(), shell_line(&args));
    println!("==> {shown}");
    let mut cmd = Command::new(python);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    with_threads(&mut cmd, case.threads);
    match cmd.output() {
        Err(e) => Err(format!("could not start `{shown}`: {e}")),
        Ok(o) if !o.status.success() => Err(format!("`{shown}` failed ({})", o.status)),
        Ok(o) => {
            parse_peer_output(&String::from_utf8_lossy(&o.stdout)).map_err(|e| format!("{e:#}"))
        }
    }
}

/// Everything measured for one case.
#[derive(Debug, Default)]
struct Measured {
    timed: Vec<f64>,
    wall: Vec<f64>,
    also: Vec<(String, Vec<f64>)>,
    peak_kib: Option<u64>,
    output_bytes: Option<f64>,
    quality: Vec<(String, f64)>,
}

fn measure_mlship(ctx: &Bench<'_>, case: &Case) -> Result<Measured> {
    for setup in case.setup {
        let args = ctx.args(setup, case.threads);
        println!("==> setup: mlship {}", shell_line(&args));
        run_mlship(ctx, &args, case.threads)?;
    }
    let args = ctx.args(case.args, case.threads);
    println!(
        "==> timing `mlship {}`: 1 warm-up + {} runs",
        shell_line(&args),
        ctx.repeats
    );
    run_mlship(ctx, &args, case.threads)?;
    let mut m = Measured {
        also: case
            .also
            .iter()
            .map(|f| ((*f).to_string(), Vec::new()))
            .collect(),
        ..Measured::default()
    };
    for i in 0..ctx.repeats {
        let run = run_mlship(ctx, &args, case.threads)?;
        let json: Option<Value> = serde_json::from_str(run.stdout.trim()).ok();
        let timed = match case.timed {
            Timed::Process => run.seconds,
            Timed::Fields(fields) => {
                let json = json.as_ref().context("mlship printed no JSON")?;
                let mut sum = 0.0;
                for f in fields {
                    sum += json_number(json, f)?;
                }
                sum
            }
        };
        for (field, values) in &mut m.also {
            if let Some(v) = json.as_ref().and_then(|j| json_number(j, field).ok()) {
                values.push(v);
            }
        }
        if let (Some(target), Some(json)) = (case.memory, &json) {
            let rows = json_number(json, target.rows)?;
            let features = json
                .pointer(target.features)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            m.output_bytes = Some(rows * features as f64 * 8.0);
        }
        if let Some(kib) = run.peak_kib {
            m.peak_kib = Some(m.peak_kib.map_or(kib, |p| p.max(kib)));
        }
        println!(
            "  run {}: {} timed, {:.3} s wall{}",
            i + 1,
            duration(timed),
            run.seconds,
            run.peak_kib.map_or_else(String::new, |k| format!(
                ", peak {:.0} MiB",
                k as f64 / 1024.0
            ))
        );
        m.timed.push(timed);
        m.wall.push(run.seconds);
    }
    m.quality = mlship_quality(ctx, case)?;
    Ok(m)
}

/// The rows and notes of one case.
#[allow(clippy::too_many_lines)] // one block per kind of row, in table order
fn case_rows(
    case: &Case,
    m: &Measured,
    peers: &std::result::Result<PeerReport, String>,
) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let ours = median(&m.timed).unwrap_or(f64::NAN);
    rows.push(Row {
        case: case.name.into(),
        tool: mlship_label(case),
        value: duration(ours),
        ratio: None,
        quality: quality_text(&m.quality),
        target: None,
        met: None,
    });
    let timings: &[PeerTiming] = peers.as_ref().map_or(&[], |r| r.timings.as_slice());
    let fastest = timings
        .iter()
        .map(|t| t.seconds)
        .filter(|s| *s > 0.0)
        .min_by(f64::total_cmp);
    for t in timings {
        let ratio = (t.seconds > 0.0).then(|| ours / t.seconds);
        let target = case.targets.iter().find(|x| match x.peer {
            PeerRef::Tool(tool) => tool == t.tool,
            PeerRef::Fastest => Some(t.seconds) == fastest,
        });
        let label = match (target.map(|x| x.peer), timings.len() > 1) {
            (Some(PeerRef::Fastest), true) => format!("{} (the faster peer)", t.label),
            _ => t.label.clone(),
        };
        rows.push(Row {
            case: case.name.into(),
            tool: label,
            value: duration(t.seconds),
            ratio,
            quality: quality_text(&t.quality),
            target: target.map(|x| (x.short(), x.text.to_string())),
            met: target.zip(ratio).map(|(x, r)| x.met(r)),
        });
    }
    for q in case.quality_targets {
        let ours = m.quality.iter().find(|(k, _)| k == q.metric).map(|x| x.1);
        let theirs = timings
            .iter()
            .find(|t| t.tool == q.peer)
            .and_then(|t| t.quality.iter().find(|(k, _)| k == q.metric).map(|x| x.1));
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            let side = if q.higher_is_better {
                "higher"
            } else {
                "lower"
            };
            let within = if q.tolerance > 0.0 {
                format!("within {} of {}'s, or {side}", q.tolerance, q.peer)
            } else {
                format!("equal to {}'s or {side}", q.peer)
            };
            rows.push(Row {
                case: case.name.into(),
                tool: format!("quality: {} of mlship vs {}", q.metric, q.peer),
                value: format!("{} vs {}", figure(ours), figure(theirs)),
                ratio: None,
                quality: format!("difference {:+.5}", ours - theirs),
                target: Some((format!("±{}", q.tolerance), within)),
                met: Some(q.met(ours, theirs)),
            });
        }
    }
    if let (Some(target), Some(kib), Some(bytes)) = (case.memory, m.peak_kib, m.output_bytes) {
        let peak = kib as f64 * 1024.0;
        let ratio = peak / bytes;
        rows.push(Row {
            case: case.name.into(),
            tool: "mlship peak resident memory (VmHWM) ÷ numeric output".into(),
            value: format!("{:.0} MiB", peak / (1024.0 * 1024.0)),
            ratio: Some(ratio),
            quality: format!("output {:.0} MiB", bytes / (1024.0 * 1024.0)),
            target: Some((
                format!("≤ {}", target.factor),
                format!("peak memory at most {}× the numeric output", target.factor),
            )),
            met: Some(ratio <= target.factor),
        });
    }
    let mut raw = format!(
        "{}: raw mlship times (s) {}; whole process {}",
        case.name,
        list(&m.timed),
        list(&m.wall)
    );
    for t in timings {
        let _ = std::fmt::Write::write_fmt(&mut raw, format_args!("; {} {}", t.tool, list(&t.raw)));
    }
    notes.push(format!("{raw}."));
    let split: Vec<String> = m
        .also
        .iter()
        .filter_map(|(f, v)| {
            Some(format!(
                "`{}` {}",
                f.trim_start_matches('/'),
                figure(median(v)?)
            ))
        })
        .collect();
    if !split.is_empty() {
        notes.push(format!(
            "{}: mlship's own figures from its JSON (medians): {}.",
            case.name,
            split.join(", ")
        ));
    }
    match peers {
        Err(why) if case.peer.is_some() => {
            notes.push(format!("{}: no peer timings: {why}.", case.name));
        }
        Err(_) => {}
        Ok(report) => {
            for (tool, error) in &report.errors {
                notes.push(format!("{}: {tool} failed: {error}", case.name));
            }
            for target in case.targets {
                let ran = match target.peer {
                    PeerRef::Tool(tool) => timings.iter().any(|t| t.tool == tool),
                    PeerRef::Fastest => !timings.is_empty(),
                };
                if !ran {
                    notes.push(format!("{}: not measured: {}.", case.name, target.text));
                }
            }
        }
    }
    (rows, notes)
}

fn limit_short(limit: &Limit) -> String {
    format!(
        "{} {}",
        if limit.inclusive { "≤" } else { "<" },
        duration(limit.max)
    )
}

/// Runs a criterion benchmark of the workspace and reads its figures.
fn run_criterion(
    ctx: &Bench<'_>,
    def: &TaskDef,
    bench: &str,
    figures: &[(&str, &str, f64, Limit)],
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let mut cmd = Command::new(crate::cargo());
    cmd.args(["bench", "--locked", "--workspace", "--bench", bench])
        .current_dir(ctx.root);
    let output = run_output(
        &mut cmd,
        &format!("cargo bench --locked --workspace --bench {bench}"),
    )?;
    for (id, label, records, limit) in figures {
        match criterion_estimate(&output, id) {
            Some(seconds) => {
                let per = seconds / records;
                rows.push(Row {
                    case: def.name.into(),
                    tool: (*label).into(),
                    value: duration(per),
                    ratio: None,
                    quality: format!("criterion estimate {}", duration(seconds)),
                    target: Some((limit_short(limit), limit.text.into())),
                    met: Some(limit.met(per)),
                });
            }
            None => notes.push(format!("no figure for `{id}` in criterion's output.")),
        }
    }
    Ok(())
}

/// Builds an example program of the workspace in release, runs it once and reads its figures.
fn run_example(
    ctx: &Bench<'_>,
    def: &TaskDef,
    (package, example, args): (&str, &str, &[&str]),
    limits: &[(&str, Limit)],
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let mut cmd = Command::new(crate::cargo());
    cmd.args([
        "build",
        "--release",
        "--locked",
        "-p",
        package,
        "--example",
        example,
    ])
    .current_dir(ctx.root);
    run_status(
        &mut cmd,
        &format!("cargo build --release --locked -p {package} --example {example}"),
    )?;
    let program = target_dir(ctx.root)?
        .join("release")
        .join("examples")
        .join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
    let args = ctx.args(args, None);
    for a in &args {
        let p = Path::new(a);
        if p.starts_with(&ctx.work) && p.exists() {
            std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let output = run_output(
        Command::new(&program).args(&args),
        &format!("{} {}", program.display(), shell_line(&args)),
    )?;
    for (label, line, seconds) in median_lines(&output) {
        let limit = limits
            .iter()
            .find(|(start, _)| label.starts_with(start))
            .map(|x| x.1);
        rows.push(Row {
            case: def.name.into(),
            tool: line.replace(&ctx.work.display().to_string(), "…"),
            value: duration(seconds),
            ratio: None,
            quality: String::new(),
            target: limit.map(|l| (limit_short(&l), l.text.into())),
            met: limit.map(|l| l.met(seconds)),
        });
    }
    for line in output.lines().filter(|l| !l.contains("median ")) {
        notes.push(line.replace(&ctx.work.display().to_string(), "…"));
    }
    Ok(())
}

/// Runs one task and gathers its results.
fn run_task(ctx: &Bench<'_>, task: Task) -> Result<TaskResult> {
    let def = task.def();
    println!("\n==> task {}: {}", def.name, def.summary);
    let (data, full_size) = prepare_inputs(ctx, def)?;
    let load_before = load_average();
    let cpu_before = cpu_times();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut python = None;
    let mut repeats = None;
    match &def.work {
        Work::Compare(cases) => {
            repeats = Some(ctx.repeats);
            for case in *cases {
                let measured = match measure_mlship(ctx, case) {
                    Ok(m) => m,
                    Err(e) => {
                        println!("error: {e:#}");
                        notes.push(format!("{}: mlship failed: {e:#}.", case.name));
                        continue;
                    }
                };
                let peers = run_peer(ctx, case);
                if let Ok(report) = &peers {
                    python = Some((report.python.clone(), report.versions.clone()));
                }
                let (r, n) = case_rows(case, &measured, &peers);
                rows.extend(r);
                notes.extend(n);
            }
        }
        Work::Criterion { bench, figures } => {
            run_criterion(ctx, def, bench, figures, &mut rows, &mut notes)?;
        }
        Work::Example {
            package,
            example,
            args,
            limits,
        } => run_example(
            ctx,
            def,
            (package, example, args),
            limits,
            &mut rows,
            &mut notes,
        )?,
    }
    let load_after = load_average();
    let others_cpu = match (cpu_before, cpu_times()) {
        (Some(before), Some(after)) => before.others_share(&after),
        _ => None,
    };
    Ok(TaskResult {
        name: def.name,
        title: def.title,
        about: def.about.to_string(),
        data,
        repeats,
        rows,
        notes,
        python,
        load: (load_before, load_after),
        others_cpu,
        full_size,
    })
}

/// The target directory `cargo metadata` reports (honours `CARGO_TARGET_DIR` and config).
pub fn target_dir(root: &Path) -> Result<PathBuf> {
    let output = Command::new(crate::cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("could not start `cargo metadata`")?;
    if !output.status.success() {
        bail!("`cargo metadata` failed ({})", output.status);
    }
    let json: Value =
        serde_json::from_slice(&output.stdout).context("`cargo metadata` printed invalid JSON")?;
    json.get("target_directory")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .context("`cargo metadata` reported no target_directory")
}

/// The first line of `program args`' stdout, or `unknown`.
fn first_line(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn install_peers(root: &Path, venv: &Path) -> Result<()> {
    let python = venv_python(venv);
    if !python.exists() {
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "venv"]).arg(venv);
        run_status(&mut cmd, &format!("python3 -m venv {}", venv.display()))?;
    }
    let requirements = root.join(PEER_REQUIREMENTS);
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pip", "install", "-r"]).arg(&requirements);
    run_status(
        &mut cmd,
        &format!(
            "{} -m pip install -r {}",
            python.display(),
            requirements.display()
        ),
    )
}

fn write_doc(root: &Path, task: Task, section: &str) -> Result<PathBuf> {
    let path = root.join(DOC_PATH);
    let doc = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "# Benchmarks\n\nWritten by `cargo xtask bench`.\n".to_string()
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let updated = replace_section(&doc, task.name(), section)
        .with_context(|| format!("updating {}", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `cargo xtask bench`; `args` are the arguments after `bench`, recorded as the command that
/// reproduces the run.
pub fn run(root: &Path, options: &Options, args: &[String]) -> Result<()> {
    let target = target_dir(root)?;
    let venv = target.join(PEERS_VENV);
    if options.install_peers {
        install_peers(root, &venv)?;
    }
    let (python, why_no_peers) = match &options.peers {
        Some(p) => (Some(p.clone()), String::new()),
        None if venv_python(&venv).exists() => (Some(venv_python(&venv)), String::new()),
        None => (
            None,
            format!(
                "no --peers PYTHON given and no {} (create it with `cargo xtask bench --install-peers`)",
                venv.display()
            ),
        ),
    };

    let tasks = options.tasks();
    let release = target
        .join("release")
        .join(format!("mlship{}", std::env::consts::EXE_SUFFIX));
    let mlship = options.mlship.clone().unwrap_or(release);
    if options.mlship.is_none()
        && tasks
            .iter()
            .any(|t| matches!(t.def().work, Work::Compare(_)))
    {
        let build = ["build", "--release", "--locked", "-p", "mlship"];
        run_status(
            Command::new(crate::cargo()).args(build).current_dir(root),
            &format!("cargo {}", build.join(" ")),
        )?;
    }

    let data = datagen::out_dir(
        root,
        &datagen::Options {
            out: options.data.clone(),
            ..datagen::Options::default()
        },
    );
    let work = target.join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    let mut command = vec!["cargo".to_string(), "xtask".into(), "bench".into()];
    command.extend(args.iter().cloned());
    let env = Environment {
        machine: machine(),
        mlship: match &options.mlship {
            None => format!(
                "{} (release profile: thin LTO, codegen-units 1)",
                first_line(&mlship, &["--version"])
            ),
            Some(path) => format!(
                "{} (the binary {})",
                first_line(&mlship, &["--version"]),
                path.display()
            ),
        },
        rustc: first_line(Path::new("rustc"), &["-V"]),
        date: utc_timestamp(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
        command: shell_line(&command),
    };
    let ctx = Bench {
        root,
        mlship,
        data,
        work,
        python,
        why_no_peers,
        repeats: options.repeats,
    };

    let mut failed = Vec::new();
    for task in tasks {
        let result = match run_task(&ctx, task) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: task `{}`: {e:#}", task.name());
                failed.push(task.name());
                continue;
            }
        };
        print!("{}", result.table());
        if options.write {
            let path = write_doc(root, task, &result.markdown(&env))?;
            println!("wrote the `{}` section of {}", task.name(), path.display());
        }
    }
    if !failed.is_empty() {
        bail!("these tasks could not run: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
