//! `cargo xtask bench`: mlship side by side with its Python peers, on the datasets of
//! `cargo xtask datagen`, with the results written to `docs/benchmarks.md`.
//!
//! Tasks:
//! - `profile`: `mlship data profile --json throughput_1m.csv` (the whole process, release
//!   build) against polars `read_csv` + `describe()` and pandas `read_csv` +
//!   `describe(include="all")` (timed in-process by `xtask/peers/profile.py`).
//!
//! Every timing is the median of `--repeats` runs after one untimed warm-up run, with the file
//! in the page cache. Ratios are always "mlship time ÷ peer time": below 1 mlship is faster.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::datagen;

/// The file `bench` reads and writes its results into, relative to the workspace root.
pub const DOC_PATH: &str = "docs/benchmarks.md";
/// The peers' requirements, relative to the workspace root.
pub const PEER_REQUIREMENTS: &str = "xtask/peers/requirements.txt";
/// The folder, under the target dir, of the virtualenv `--install-peers` creates.
pub const PEERS_VENV: &str = "peers-venv";
/// The dataset the `profile` task reads (written by `cargo xtask datagen --only throughput`).
pub const PROFILE_FILE: &str = "throughput_1m.csv";
/// Rows of [`PROFILE_FILE`] at scale 1; the targets are stated for this size.
pub const PROFILE_ROWS: u64 = 1_000_000;
/// Above this share of the CPUs' time used by other processes, a run is flagged as busy.
pub const BUSY_SHARE: f64 = 0.1;

/// A benchmark task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Task {
    /// `mlship data profile` against polars / pandas `read_csv` + `describe`.
    Profile,
}

impl Task {
    /// Every task, in run order.
    pub const ALL: [Task; 1] = [Task::Profile];

    /// The name used by `--only` and in the markers of `docs/benchmarks.md`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Profile => "profile",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

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
    /// Rewrite this task's section of `docs/benchmarks.md`.
    pub write: bool,
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

// ---------------------------------------------------------------------------------------------
// pure helpers
// ---------------------------------------------------------------------------------------------

/// The median of `values` (the mean of the two middle values for an even count), or `None`
/// for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])),
    }
}

/// The start and end markers of task `name`'s section of `docs/benchmarks.md`.
pub fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- bench:{name}:start -->"),
        format!("<!-- bench:{name}:end -->"),
    )
}

/// `doc` with the section of task `name` (markers included) replaced by `section`, which
/// must itself start and end with the markers. Everything outside the markers is kept byte
/// for byte. Without markers the section is appended at the end.
pub fn replace_section(doc: &str, name: &str, section: &str) -> Result<String> {
    let (start, end) = markers(name);
    let section = section.trim_end_matches('\n');
    match (doc.find(&start), doc.find(&end)) {
        (Some(s), Some(e)) if s < e => {
            if doc[s + start.len()..].contains(&start) || doc[e + end.len()..].contains(&end) {
                bail!("the `{name}` markers appear more than once: keep one {start} … {end} pair");
            }
            let after = e + end.len();
            Ok(format!("{}{section}{}", &doc[..s], &doc[after..]))
        }
        (None, None) => {
            let mut out = doc.trim_end_matches('\n').to_string();
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(section);
            out.push('\n');
            Ok(out)
        }
        _ => bail!(
            "the `{name}` markers are unbalanced or out of order: expected {start} before {end}"
        ),
    }
}

/// One peer's timing, as `xtask/peers/*.py` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerTiming {
    /// The library (`polars`, `pandas`), the key the targets name.
    pub tool: String,
    /// What was timed, e.g. `polars read_csv + describe()`.
    pub label: String,
    /// Median seconds.
    pub seconds: f64,
    /// Every timed run, in seconds.
    pub raw: Vec<f64>,
    /// Rows and columns the peer read, when reported.
    pub shape: Option<(u64, u64)>,
}

/// What a peer script printed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeerReport {
    /// The Python version.
    pub python: String,
    /// Library versions, sorted by name.
    pub versions: Vec<(String, String)>,
    /// One timing per peer that ran.
    pub timings: Vec<PeerTiming>,
    /// Peers that failed: tool and message.
    pub errors: Vec<(String, String)>,
}

fn number(v: &Value, what: &str) -> Result<f64> {
    v.as_f64()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .with_context(|| format!("{what}: expected a non-negative number, found {v}"))
}

/// Parses the JSON object a peer script prints on stdout (its last line starting with `{`,
/// so a stray line printed by a library before it does no harm).
pub fn parse_peer_output(stdout: &str) -> Result<PeerReport> {
    let line = stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .context("the peer script printed no JSON object")?;
    let json: Value = serde_json::from_str(line).context("the peer script's JSON is invalid")?;
    let text = |v: &Value| v.as_str().map(str::to_string);
    let python = json.get("python").and_then(text).unwrap_or_default();
    let mut versions: Vec<(String, String)> = match json.get("versions") {
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
            .collect(),
        _ => Vec::new(),
    };
    versions.sort();
    let mut timings = Vec::new();
    let tasks = json
        .get("tasks")
        .and_then(Value::as_array)
        .context("the peer script's JSON has no `tasks` list")?;
    for (i, task) in tasks.iter().enumerate() {
        let label = task
            .get("peer")
            .and_then(text)
            .with_context(|| format!("peer task {i} has no `peer` label"))?;
        // Older scripts had no `tool`: it is the label's first word (`polars read_csv …`).
        let tool = task
            .get("tool")
            .and_then(text)
            .or_else(|| label.split_whitespace().next().map(str::to_string))
            .unwrap_or_default();
        let seconds = number(
            task.get("seconds").unwrap_or(&Value::Null),
            &format!("`seconds` of {label}"),
        )?;
        let raw = task
            .get("raw")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| number(v, &format!("`raw` of {label}")))
                    .collect::<Result<Vec<f64>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let shape = match (
            task.get("rows").and_then(Value::as_u64),
            task.get("columns").and_then(Value::as_u64),
        ) {
            (Some(r), Some(c)) => Some((r, c)),
            _ => None,
        };
        timings.push(PeerTiming {
            tool,
            label,
            seconds,
            raw,
            shape,
        });
    }
    let errors = json
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    let field = |k: &str| e.get(k).and_then(text).unwrap_or_default();
                    (field("tool"), field("error"))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PeerReport {
        python,
        versions,
        timings,
        errors,
    })
}

/// A performance target from the issue: mlship time ÷ `peer` time must stay below `limit`
/// (or at it, when `inclusive`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The peer's `tool` key.
    pub peer: &'static str,
    /// The largest acceptable ratio mlship ÷ peer.
    pub limit: f64,
    /// Whether the limit itself passes (`≤`) or not (`<`).
    pub inclusive: bool,
    /// The target in words.
    pub text: &'static str,
}

impl Target {
    /// Whether `ratio` (mlship ÷ peer) meets the target.
    pub fn met(&self, ratio: f64) -> bool {
        if self.inclusive {
            ratio <= self.limit
        } else {
            ratio < self.limit
        }
    }

    /// `≤ 1.2` or `< 1`.
    pub fn short(&self) -> String {
        format!("{} {}", if self.inclusive { "≤" } else { "<" }, self.limit)
    }
}

/// The targets of the `profile` task (the issue's acceptance criteria).
pub const PROFILE_TARGETS: [Target; 2] = [
    Target {
        peer: "polars",
        limit: 1.2,
        inclusive: true,
        text: "at most 1.2× the time of polars read_csv + describe()",
    },
    Target {
        peer: "pandas",
        limit: 1.0,
        inclusive: false,
        text: "faster than pandas read_csv + describe(include=\"all\")",
    },
];

/// The `model name` of the first processor in `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// `MemTotal` of `/proc/meminfo`, in KiB.
pub fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix("MemTotal:")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// CPU time counters in clock ticks: the machine's busy and total time (`/proc/stat`) and the
/// time used by this process and the children it waited for (`/proc/self/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// Busy time of all CPUs (user, nice, system, irq, softirq, steal).
    pub busy: u64,
    /// Busy plus idle and iowait time of all CPUs.
    pub total: u64,
    /// This process's user + system time and that of its waited-for children.
    pub ours: u64,
}

impl CpuTimes {
    /// Parses the `cpu` line of `/proc/stat` and the fields of `/proc/self/stat`.
    pub fn parse(proc_stat: &str, self_stat: &str) -> Option<Self> {
        let fields: Vec<u64> = proc_stat
            .lines()
            .find_map(|l| l.strip_prefix("cpu "))?
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
        let total = busy + field(3) + field(4);
        // After the `(comm)` field: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        let rest: Vec<&str> = self_stat.rsplit_once(')')?.1.split_whitespace().collect();
        let tick = |n: usize| rest.get(n - 3)?.parse::<u64>().ok();
        let ours = tick(14)? + tick(15)? + tick(16)? + tick(17)?;
        Some(Self { busy, total, ours })
    }

    /// The share of all CPUs' time between `self` and `later` that other processes used.
    pub fn others_share(&self, later: &Self) -> Option<f64> {
        let total = later.total.checked_sub(self.total).filter(|&t| t > 0)?;
        let busy = later.busy.saturating_sub(self.busy);
        let ours = later.ours.saturating_sub(self.ours);
        Some((busy.saturating_sub(ours) as f64 / total as f64).min(1.0))
    }
}

/// `YYYY-MM-DD HH:MM UTC` for `secs` seconds after the Unix epoch.
pub fn utc_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = mlship_core::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// `args` as one shell command line, quoting what needs it.
pub fn shell_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn secs(x: f64) -> String {
    format!("{x:.3}")
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|&v| secs(v))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// the profile task's results and how they are shown
// ---------------------------------------------------------------------------------------------

/// Where the peers came from, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Peers {
    /// No Python with the peers was given or found.
    Missing(String),
    /// The peer script failed.
    Failed(String),
    /// The peers ran.
    Ran(PeerReport),
}

/// Everything measured by the `profile` task.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileResult {
    /// The data file (its name is what the report shows).
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Rows and columns mlship read.
    pub shape: Option<(u64, u64)>,
    /// Wall time of each timed `mlship data profile` process, seconds.
    pub mlship_raw: Vec<f64>,
    /// mlship's own `read_seconds` of each timed run.
    pub read_seconds: Vec<f64>,
    /// mlship's own `profile_seconds` of each timed run.
    pub profile_seconds: Vec<f64>,
    /// The peers' timings.
    pub peers: Peers,
    /// 1-minute load average before and after the timed runs.
    pub load: (Option<f64>, Option<f64>),
    /// Share of all CPUs' time that other processes used during the timed runs.
    pub others_cpu: Option<f64>,
}

/// Where and with what the benchmark ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// CPU model, logical CPUs, memory.
    pub machine: String,
    /// `mlship --version`.
    pub mlship: String,
    /// `rustc -V`.
    pub rustc: String,
    /// When, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// The command that reproduces the run.
    pub command: String,
}

/// One row of the result table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    tool: String,
    seconds: f64,
    ratio: Option<f64>,
    target: Option<Target>,
}

impl ProfileResult {
    fn mlship_median(&self) -> f64 {
        median(&self.mlship_raw).unwrap_or(f64::NAN)
    }

    fn rows(&self) -> Vec<Row> {
        let mlship = self.mlship_median();
        let mut rows = vec![Row {
            tool: "mlship data profile --json (whole process)".into(),
            seconds: mlship,
            ratio: None,
            target: None,
        }];
        if let Peers::Ran(report) = &self.peers {
            for t in &report.timings {
                rows.push(Row {
                    tool: t.label.clone(),
                    seconds: t.seconds,
                    ratio: (t.seconds > 0.0).then(|| mlship / t.seconds),
                    target: PROFILE_TARGETS.iter().find(|x| x.peer == t.tool).copied(),
                });
            }
        }
        rows
    }

    /// Each target with its verdict: `Some(ratio)` when the peer ran.
    fn verdicts(&self) -> Vec<(Target, Option<f64>)> {
        let rows = self.rows();
        PROFILE_TARGETS
            .iter()
            .map(|t| {
                let ratio = rows
                    .iter()
                    .find(|r| r.target.is_some_and(|x| x.peer == t.peer))
                    .and_then(|r| r.ratio);
                (*t, ratio)
            })
            .collect()
    }

    fn full_size(&self) -> bool {
        self.shape.is_some_and(|(rows, _)| rows == PROFILE_ROWS)
    }

    fn verdict_word(&self, target: &Target, ratio: f64) -> &'static str {
        match (self.full_size(), target.met(ratio)) {
            (false, _) => "n/a (not the 1M-row file)",
            (true, true) => "PASS",
            (true, false) => "MISS",
        }
    }

    fn data_line(&self) -> String {
        let name = self.file.file_name().map_or_else(
            || self.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let size = format!("{:.1} MB", self.bytes as f64 / 1e6);
        match self.shape {
            Some((rows, columns)) => format!(
                "`{name}` ({} rows × {columns} columns, {size})",
                thousands(rows)
            ),
            None => format!("`{name}` ({size})"),
        }
    }

    fn load_text(&self) -> String {
        let f = |x: Option<f64>| x.map_or_else(|| "?".to_string(), |v| format!("{v:.2}"));
        let others = self.others_cpu.map_or_else(String::new, |share| {
            format!(
                "; other processes used {:.0}% of the CPUs' time during them",
                share * 100.0
            )
        });
        format!(
            "{} before, {} after the timed runs{others}",
            f(self.load.0),
            f(self.load.1)
        )
    }

    /// The plain-text report printed on stdout.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\nprofile: {}", self.data_line().replace('`', ""));
        let _ = writeln!(
            out,
            "  {:<46} {:>9} {:>14}  {:<6}  result",
            "tool", "median s", "mlship÷peer", "target"
        );
        for row in self.rows() {
            let ratio = row.ratio.map_or_else(String::new, |r| format!("{r:.3}"));
            let (target, verdict) = match (row.target, row.ratio) {
                (Some(t), Some(r)) => (t.short(), self.verdict_word(&t, r).to_string()),
                _ => (String::new(), String::new()),
            };
            let line = format!(
                "  {:<46} {:>9} {:>14}  {:<6}  {verdict}",
                row.tool,
                secs(row.seconds),
                ratio,
                target
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(
            out,
            "  mlship's own split, last run: read {} s + profile {} s (medians {} + {})",
            self.read_seconds.last().map_or("?".into(), |&x| secs(x)),
            self.profile_seconds.last().map_or("?".into(), |&x| secs(x)),
            median(&self.read_seconds).map_or("?".into(), secs),
            median(&self.profile_seconds).map_or("?".into(), secs),
        );
        let _ = writeln!(out, "  raw mlship times: {}", list(&self.mlship_raw));
        match &self.peers {
            Peers::Missing(why) => {
                let _ = writeln!(out, "  no peers: {why}");
            }
            Peers::Failed(why) => {
                let _ = writeln!(out, "  the peers failed: {why}");
            }
            Peers::Ran(report) => {
                for t in &report.timings {
                    let _ = writeln!(out, "  raw {} times: {}", t.tool, list(&t.raw));
                }
                for (tool, error) in &report.errors {
                    let _ = writeln!(out, "  {tool} failed: {error}");
                }
            }
        }
        let _ = writeln!(out, "  load average (1 min): {}", self.load_text());
        if self.others_cpu.is_some_and(|share| share > BUSY_SHARE) {
            let _ = writeln!(
                out,
                "  warning: the machine was busy; these timings are slower and noisier than on an idle one"
            );
        }
        for (target, ratio) in self.verdicts() {
            let verdict = match ratio {
                Some(r) => format!(
                    "{}: mlship ÷ {} = {r:.3} (target {})",
                    self.verdict_word(&target, r),
                    target.peer,
                    target.short()
                ),
                None => format!("not measured: no {} timing", target.peer),
            };
            let _ = writeln!(out, "  target {}: {verdict}", target.text);
        }
        out
    }

    /// The `profile` section of `docs/benchmarks.md`, markers included.
    pub fn markdown(&self, env: &Environment) -> String {
        let (start, end) = markers(Task::Profile.name());
        let mut out = String::new();
        let _ = writeln!(out, "{start}");
        let _ = writeln!(
            out,
            "<!-- generated by `cargo xtask bench --only profile`; edits here are overwritten -->"
        );
        let _ = writeln!(
            out,
            "## profile: `mlship data profile` vs polars and pandas\n"
        );
        let _ = writeln!(
            out,
            "Data: {}, from `cargo xtask datagen --only throughput`, in the page cache. \
             mlship: wall time of the whole `mlship data profile --json FILE` process (start-up, \
             read, profile, JSON on stdout). Peers: the read and describe calls inside Python \
             (interpreter start-up and imports not timed). Median of {} runs after one warm-up run.\n",
            self.data_line(),
            self.mlship_raw.len()
        );
        let _ = writeln!(
            out,
            "| task | tool | median s | mlship time ÷ peer time (< 1: mlship faster) | target | result |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---|---|");
        for row in self.rows() {
            let ratio = row.ratio.map_or_else(|| "—".into(), |r| format!("{r:.3}"));
            let (target, verdict) = match (row.target, row.ratio) {
                (Some(t), Some(r)) => (
                    format!("{} ({})", t.short(), t.text),
                    format!("**{}**", self.verdict_word(&t, r)),
                ),
                _ => ("—".into(), "—".into()),
            };
            let _ = writeln!(
                out,
                "| profile | {} | {} | {ratio} | {target} | {verdict} |",
                row.tool.replace('|', "\\|"),
                secs(row.seconds),
            );
        }
        out.push('\n');
        match &self.peers {
            Peers::Missing(why) => {
                let _ = writeln!(out, "No peer timings: {why}.\n");
            }
            Peers::Failed(why) => {
                let _ = writeln!(out, "No peer timings: the peer script failed ({why}).\n");
            }
            Peers::Ran(report) => {
                for (tool, error) in &report.errors {
                    let _ = writeln!(out, "{tool} failed: {error}\n");
                }
            }
        }
        let _ = writeln!(
            out,
            "- mlship's own split (last run, from its JSON): `read_seconds` {}, \
             `profile_seconds` {} (medians over the runs: {} and {}).",
            self.read_seconds.last().map_or("?".into(), |&x| secs(x)),
            self.profile_seconds.last().map_or("?".into(), |&x| secs(x)),
            median(&self.read_seconds).map_or("?".into(), secs),
            median(&self.profile_seconds).map_or("?".into(), secs),
        );
        let mut raw = format!("- Raw times (s): mlship {}", list(&self.mlship_raw));
        if let Peers::Ran(report) = &self.peers {
            for t in &report.timings {
                let _ = write!(raw, "; {} {}", t.tool, list(&t.raw));
            }
        }
        let _ = writeln!(out, "{raw}.");
        let _ = writeln!(out, "- Machine: {}.", env.machine);
        let busy = if self.others_cpu.is_some_and(|share| share > BUSY_SHARE) {
            " The machine was not idle: expect slower, noisier times than on an idle one."
        } else {
            ""
        };
        let _ = writeln!(out, "- Load average (1 min): {}.{busy}", self.load_text());
        let mut versions = format!(
            "- Versions: {} (release profile: thin LTO, codegen-units 1), {}",
            env.mlship, env.rustc
        );
        if let Peers::Ran(report) = &self.peers {
            let _ = write!(versions, ", Python {}", report.python);
            for (name, v) in &report.versions {
                let _ = write!(versions, ", {name} {v}");
            }
        }
        let _ = writeln!(out, "{versions}.");
        let _ = writeln!(out, "- Date: {}.", env.date);
        let _ = writeln!(out, "- Reproduce: `{}`", env.command);
        let _ = writeln!(out, "{end}");
        out
    }
}

fn thousands(n: u64) -> String {
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

// ---------------------------------------------------------------------------------------------
// running things
// ---------------------------------------------------------------------------------------------

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

/// Makes sure `dir/throughput_1m.csv` exists, generating it in-process when missing.
fn ensure_data(root: &Path, dir: &Path) -> Result<PathBuf> {
    let file = dir.join(PROFILE_FILE);
    if !file.exists() {
        println!(
            "{} is missing: generating it (`cargo xtask datagen --only throughput --no-parquet`)",
            file.display()
        );
        datagen::run(
            root,
            &datagen::Options {
                out: Some(dir.to_path_buf()),
                only: vec![datagen::Dataset::Throughput],
                parquet: false,
                ..datagen::Options::default()
            },
        )?;
    }
    Ok(file)
}

/// Runs `mlship data profile --json file` once, stdout to `json_out`; returns the wall time.
fn time_mlship(mlship: &Path, file: &Path, json_out: &Path) -> Result<f64> {
    let stdout =
        File::create(json_out).with_context(|| format!("creating {}", json_out.display()))?;
    let start = Instant::now();
    let status = Command::new(mlship)
        .args(["data", "profile", "--json"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("could not start {}", mlship.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!(
            "`{} data profile --json {}` failed ({status})",
            mlship.display(),
            file.display()
        );
    }
    Ok(seconds)
}

/// mlship's report: rows, columns, `read_seconds`, `profile_seconds`.
fn parse_mlship_json(text: &str) -> Result<(u64, u64, f64, f64)> {
    let json: Value = serde_json::from_str(text).context("mlship printed invalid JSON")?;
    let get = |k: &str| -> Result<f64> {
        number(
            json.get(k).unwrap_or(&Value::Null),
            &format!("`{k}` of mlship's JSON"),
        )
    };
    let rows = json
        .get("rows")
        .and_then(Value::as_u64)
        .context("mlship's JSON has no `rows`")?;
    let columns = json
        .get("columns")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    Ok((rows, columns, get("read_seconds")?, get("profile_seconds")?))
}

fn run_profile(
    root: &Path,
    mlship: &Path,
    file: &Path,
    scratch: &Path,
    options: &Options,
    python: Option<&Path>,
    why_no_peers: &str,
) -> Result<ProfileResult> {
    let json_out = scratch.join("profile.json");
    println!(
        "==> timing `mlship data profile --json {}`: 1 warm-up + {} runs",
        file.display(),
        options.repeats
    );
    let load_before = load_average();
    let cpu_before = cpu_times();
    time_mlship(mlship, file, &json_out)?;
    let (mut mlship_raw, mut read_seconds, mut profile_seconds) = (vec![], vec![], vec![]);
    let mut shape = None;
    for i in 0..options.repeats {
        let t = time_mlship(mlship, file, &json_out)?;
        let text = std::fs::read_to_string(&json_out)
            .with_context(|| format!("reading {}", json_out.display()))?;
        let (rows, columns, read, profile) = parse_mlship_json(&text)?;
        println!(
            "  run {}: {t:.3} s (read {read:.3} s, profile {profile:.3} s)",
            i + 1
        );
        shape = Some((rows, columns));
        mlship_raw.push(t);
        read_seconds.push(read);
        profile_seconds.push(profile);
    }

    let peers = match python {
        None => {
            println!("no peers: {why_no_peers}");
            Peers::Missing(why_no_peers.to_string())
        }
        Some(python) => {
            let script = root.join("xtask/peers/profile.py");
            let repeats = options.repeats.to_string();
            let shown = format!(
                "{} {} {} --repeats {repeats}",
                python.display(),
                script.display(),
                file.display()
            );
            println!("==> {shown}");
            match Command::new(python)
                .arg(&script)
                .arg(file)
                .args(["--repeats", &repeats])
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
            {
                Err(e) => Peers::Failed(format!("could not start `{shown}`: {e}")),
                Ok(o) if !o.status.success() => {
                    Peers::Failed(format!("`{shown}` failed ({})", o.status))
                }
                Ok(o) => match parse_peer_output(&String::from_utf8_lossy(&o.stdout)) {
                    Ok(report) => Peers::Ran(report),
                    Err(e) => Peers::Failed(format!("{e:#}")),
                },
            }
        }
    };
    let load_after = load_average();
    let others_cpu = match (cpu_before, cpu_times()) {
        (Some(before), Some(after)) => before.others_share(&after),
        _ => None,
    };

    if let Peers::Ran(report) = &peers {
        for t in &report.timings {
            if let (Some(ours), Some(theirs)) = (shape, t.shape)
                && ours != theirs
            {
                println!(
                    "warning: {} read {} rows × {} columns, mlship {} × {}",
                    t.tool, theirs.0, theirs.1, ours.0, ours.1
                );
            }
        }
    }
    Ok(ProfileResult {
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file).map_or(0, |m| m.len()),
        shape,
        mlship_raw,
        read_seconds,
        profile_seconds,
        peers,
        load: (load_before, load_after),
        others_cpu,
    })
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

    let build = ["build", "--release", "--locked", "-p", "mlship"];
    run_status(
        Command::new(crate::cargo()).args(build).current_dir(root),
        &format!("cargo {}", build.join(" ")),
    )?;
    let mlship = target
        .join("release")
        .join(format!("mlship{}", std::env::consts::EXE_SUFFIX));

    let data = datagen::out_dir(
        root,
        &datagen::Options {
            out: options.data.clone(),
            ..datagen::Options::default()
        },
    );
    let scratch = target.join("bench");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;

    let mut command = vec!["cargo".to_string(), "xtask".into(), "bench".into()];
    command.extend(args.iter().cloned());
    let env = Environment {
        machine: machine(),
        mlship: first_line(&mlship, &["--version"]),
        rustc: first_line(Path::new("rustc"), &["-V"]),
        date: utc_timestamp(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
        command: shell_line(&command),
    };

    for task in options.tasks() {
        match task {
            Task::Profile => {
                let file = ensure_data(root, &data)?;
                let result = run_profile(
                    root,
                    &mlship,
                    &file,
                    &scratch,
                    options,
                    python.as_deref(),
                    &why_no_peers,
                )?;
                print!("{}", result.table());
                if options.write {
                    let path = write_doc(root, task, &result.markdown(&env))?;
                    println!("wrote the `profile` section of {}", path.display());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn options_parse() {
        assert_eq!(Options::parse(&[]).ok(), Some(Options::default()));
        let parsed = Options::parse(&args(&[
            "--only",
            "profile",
            "--repeats=3",
            "--data",
            "d",
            "--peers",
            "/usr/bin/python3",
            "--install-peers",
            "--no-write",
        ]))
        .expect("valid");
        assert_eq!(
            parsed,
            Options {
                only: vec![Task::Profile],
                repeats: 3,
                data: Some(PathBuf::from("d")),
                peers: Some(PathBuf::from("/usr/bin/python3")),
                install_peers: true,
                write: false,
            }
        );
        let err = |a: &[&str]| Options::parse(&args(a)).expect_err("invalid").to_string();
        assert_eq!(
            err(&["--repeats", "0"]),
            "invalid --repeats 0: expected a whole number of at least 1"
        );
        assert_eq!(
            err(&["--only", "train"]),
            "unknown task `train` in --only: expected one of profile"
        );
        assert_eq!(err(&["--peers"]), "`--peers` needs a Python interpreter");
        assert!(err(&["--fast"]).starts_with("unknown option `--fast` for `bench`"));
        assert!(err(&["--no-write=1"]).starts_with("unknown option `--no-write` for `bench`"));
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[2.0]), Some(2.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[0.9, 0.7, 5.0, 0.8, 0.75]), Some(0.8));
    }

    const DOC: &str = "# Benchmarks\n\nIntro.\n\n<!-- bench:profile:start -->\nold table\n\
                       <!-- bench:profile:end -->\n\n## Notes\n\nKept.\n";

    #[test]
    fn replacing_a_section_keeps_the_rest_of_the_file() {
        let section = "<!-- bench:profile:start -->\nnew\ntable\n<!-- bench:profile:end -->\n";
        let got = replace_section(DOC, "profile", section).expect("replaced");
        assert_eq!(
            got,
            "# Benchmarks\n\nIntro.\n\n<!-- bench:profile:start -->\nnew\ntable\n\
             <!-- bench:profile:end -->\n\n## Notes\n\nKept.\n"
        );
        // Idempotent, and other tasks' sections are left alone.
        assert_eq!(
            replace_section(&got, "profile", section).expect("again"),
            got
        );
        let other = "<!-- bench:train:start -->\nt\n<!-- bench:train:end -->";
        let both = replace_section(&got, "train", other).expect("appended");
        assert_eq!(both, format!("{got}\n{other}\n"));
        assert_eq!(
            replace_section(&both, "profile", section).expect("again"),
            both
        );
    }

    #[test]
    fn a_missing_section_is_appended_and_broken_markers_refused() {
        let section = "<!-- bench:profile:start -->\nx\n<!-- bench:profile:end -->";
        assert_eq!(
            replace_section("# B\n\nIntro.\n\n", "profile", section).expect("appended"),
            format!("# B\n\nIntro.\n\n{section}\n")
        );
        assert_eq!(
            replace_section("", "profile", section).expect("appended"),
            format!("{section}\n")
        );
        let broken = [
            "<!-- bench:profile:start -->\nno end\n",
            "<!-- bench:profile:end -->\n<!-- bench:profile:start -->\n",
            "<!-- bench:profile:start -->\n<!-- bench:profile:end -->\n\
             <!-- bench:profile:start -->\n<!-- bench:profile:end -->\n",
        ];
        for doc in broken {
            assert!(replace_section(doc, "profile", section).is_err(), "{doc}");
        }
    }

    #[test]
    fn peer_output_is_parsed() {
        let stdout = "some library chatter\n{\"python\": \"3.11.7\", \"versions\": {\"polars\": \
                      \"2.1.0\", \"numpy\": \"2.4.6\"}, \"tasks\": [{\"tool\": \"polars\", \
                      \"peer\": \"polars read_csv + describe()\", \"seconds\": 0.5, \"raw\": \
                      [0.6, 0.5, 0.4], \"rows\": 1000000, \"columns\": 20}, {\"peer\": \
                      \"pandas read_csv + describe(include=\\\"all\\\")\", \"seconds\": 2}], \
                      \"errors\": [{\"tool\": \"x\", \"error\": \"boom\"}]}\n";
        let report = parse_peer_output(stdout).expect("parsed");
        assert_eq!(report.python, "3.11.7");
        assert_eq!(
            report.versions,
            [
                ("numpy".to_string(), "2.4.6".to_string()),
                ("polars".to_string(), "2.1.0".to_string())
            ]
        );
        assert_eq!(
            report.timings,
            [
                PeerTiming {
                    tool: "polars".into(),
                    label: "polars read_csv + describe()".into(),
                    seconds: 0.5,
                    raw: vec![0.6, 0.5, 0.4],
                    shape: Some((1_000_000, 20)),
                },
                PeerTiming {
                    tool: "pandas".into(),
                    label: "pandas read_csv + describe(include=\"all\")".into(),
                    seconds: 2.0,
                    raw: vec![],
                    shape: None,
                }
            ]
        );
        assert_eq!(report.errors, [("x".to_string(), "boom".to_string())]);

        assert!(parse_peer_output("").is_err());
        assert!(parse_peer_output("{\"python\": \"3\"}").is_err());
        assert!(parse_peer_output("{\"tasks\": [{\"peer\": \"p\", \"seconds\": -1}]}").is_err());
        assert!(parse_peer_output("{\"tasks\": [{\"peer\": \"p\"}]}").is_err());
    }

    #[test]
    fn targets_and_verdicts() {
        let [polars, pandas] = PROFILE_TARGETS;
        assert!(polars.met(1.2) && polars.met(0.5) && !polars.met(1.2001));
        assert!(pandas.met(0.99) && !pandas.met(1.0));
        assert_eq!(
            (polars.short(), pandas.short()),
            ("≤ 1.2".into(), "< 1".into())
        );
    }

    fn result(peers: Peers, rows: u64) -> ProfileResult {
        ProfileResult {
            file: PathBuf::from("/data/throughput_1m.csv"),
            bytes: 181_234_567,
            shape: Some((rows, 20)),
            mlship_raw: vec![1.1, 0.9, 1.0],
            read_seconds: vec![0.7, 0.6, 0.65],
            profile_seconds: vec![0.3, 0.2, 0.25],
            peers,
            load: (Some(0.42), Some(1.5)),
            others_cpu: Some(0.25),
        }
    }

    fn env() -> Environment {
        Environment {
            machine: "CPU X, 2 logical CPUs, 8.0 GiB RAM, linux".into(),
            mlship: "mlship 0.1.0".into(),
            rustc: "rustc 1.95.0".into(),
            date: "2026-01-02 03:04 UTC".into(),
            command: "cargo xtask bench --repeats 3".into(),
        }
    }

    #[test]
    fn report_shows_ratios_as_mlship_over_peer_with_verdicts() {
        let report = PeerReport {
            python: "3.11.7".into(),
            versions: vec![("polars".into(), "2.1.0".into())],
            timings: vec![
                PeerTiming {
                    tool: "polars".into(),
                    label: "polars read_csv + describe()".into(),
                    seconds: 0.8,
                    raw: vec![0.8],
                    shape: Some((1_000_000, 20)),
                },
                PeerTiming {
                    tool: "pandas".into(),
                    label: "pandas read_csv + describe(include=\"all\")".into(),
                    seconds: 4.0,
                    raw: vec![4.0],
                    shape: Some((1_000_000, 20)),
                },
            ],
            errors: vec![],
        };
        let r = result(Peers::Ran(report), PROFILE_ROWS);
        let md = r.markdown(&env());
        assert!(md.starts_with("<!-- bench:profile:start -->\n"));
        assert!(md.ends_with("<!-- bench:profile:end -->\n"));
        // mlship median 1.0 s: 1.0 / 0.8 = 1.25 > 1.2 misses, 1.0 / 4.0 = 0.25 passes.
        assert!(md.contains("| profile | polars read_csv + describe() | 0.800 | 1.250 | ≤ 1.2"));
        assert!(md.contains("| **MISS** |"));
        assert!(md.contains("| 0.250 | < 1 (faster than pandas"));
        assert!(md.contains("| **PASS** |"));
        assert!(md.contains("`read_seconds` 0.650, `profile_seconds` 0.250"));
        assert!(md.contains("(1,000,000 rows × 20 columns, 181.2 MB)"));
        assert!(md.contains("Python 3.11.7, polars 2.1.0"));
        assert!(md.contains(
            "0.42 before, 1.50 after the timed runs; other processes used 25% of the CPUs' \
             time during them. The machine was not idle"
        ));
        assert!(md.contains("- Reproduce: `cargo xtask bench --repeats 3`"));
        let table = r.table();
        assert!(table.contains("MISS: mlship ÷ polars = 1.250 (target ≤ 1.2)"));
        assert!(table.contains("PASS: mlship ÷ pandas = 0.250 (target < 1)"));

        let small = result(Peers::Missing("no venv".into()), 20_000);
        let md = small.markdown(&env());
        assert!(md.contains("No peer timings: no venv."));
        assert!(!md.contains("PASS") && !md.contains("MISS"));
        assert!(small.table().contains("not measured: no polars timing"));
    }

    #[test]
    fn machine_facts_and_dates() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\
                       processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor : 0\n"), None);
        let meminfo = "MemTotal:       24641536 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total_kib(meminfo), Some(24_641_536));
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_timestamp(951_782_400 + 3_723), "2000-02-29 01:02 UTC");
        assert_eq!(utc_timestamp(1_767_225_599), "2025-12-31 23:59 UTC");
        assert_eq!(
            shell_line(&args(&["cargo", "xtask", "--data", "my dir", "it's"])),
            "cargo xtask --data 'my dir' 'it'\\''s'"
        );
        let parsed = parse_mlship_json(
            "{\"rows\": 5, \"columns\": [{}, {}], \"read_seconds\": 0.5, \"profile_seconds\": 0.25}",
        )
        .expect("parsed");
        assert_eq!(parsed, (5, 2, 0.5, 0.25));
        assert!(parse_mlship_json("{\"rows\": 5}").is_err());
    }

    #[test]
    fn cpu_share_of_other_processes() {
        let self_stat = |ticks: u64| {
            format!("42 (x t) S 1 1 1 0 -1 0 0 0 0 0 {ticks} 0 {ticks} 0 20 0 1 0 5 0 0")
        };
        let before = CpuTimes::parse(
            "cpu  100 10 20 500 5 1 2 3 0 0\ncpu0 1 2 3 4\n",
            &self_stat(10),
        )
        .expect("parsed");
        assert_eq!(
            before,
            CpuTimes {
                busy: 136,
                total: 641,
                ours: 20
            }
        );
        // 200 more ticks in all, 150 of them busy, 100 of those ours: others used 25%.
        let after = CpuTimes {
            busy: 286,
            total: 841,
            ours: 120,
        };
        assert_eq!(before.others_share(&after), Some(0.25));
        assert_eq!(before.others_share(&before), None);
        assert!(CpuTimes::parse("intr 1 2\n", &self_stat(1)).is_none());
        assert!(CpuTimes::parse("cpu  1 2 3 4\n", "garbage").is_none());
    }
}
