//! The pure parts of `cargo xtask bench`: statistics, the sections of `docs/benchmarks.md`,
//! what peers, criterion and example programs print, quality metrics, and how results are shown.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use serde_json::Value;

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
    /// Quality figures on the test rows (`roc_auc`, `r2`, …), sorted by name.
    pub quality: Vec<(String, f64)>,
    /// Threads the peer was allowed, when reported.
    pub threads: Option<u64>,
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

pub(crate) fn number(v: &Value, what: &str) -> Result<f64> {
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
        let mut quality: Vec<(String, f64)> = match task.get("quality") {
            Some(Value::Object(map)) => map
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect(),
            _ => Vec::new(),
        };
        quality.sort_by(|a, b| a.0.cmp(&b.0));
        timings.push(PeerTiming {
            tool,
            label,
            seconds,
            raw,
            shape,
            quality,
            threads: task.get("threads").and_then(Value::as_u64),
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

pub(crate) fn secs(x: f64) -> String {
    format!("{x:.3}")
}

pub(crate) fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|&v| secs(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n` with thousands separators: `1,000,000`.
pub fn thousands(n: u64) -> String {
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

/// A quality figure as shown: whole numbers as they are, others to 5 decimals (1 from 1,000 on).
pub fn figure(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.5}")
    }
}

/// `name=value; …` of quality figures.
pub fn quality_text(quality: &[(String, f64)]) -> String {
    quality
        .iter()
        .map(|(k, v)| format!("{k}={}", figure(*v)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A duration in the unit that suits it: `812 ns`, `3.21 µs`, `14.2 ms`, `2.345 s`.
pub fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else if seconds >= 1e-6 {
        format!("{:.2} µs", seconds * 1e6)
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

// ---------------------------------------------------------------------------------------------
// quality metrics
// ---------------------------------------------------------------------------------------------

/// The area under the ROC curve of scores `p` for 0/1 labels `y` (ties count one half), or
/// `None` when one class is absent or the lengths differ.
pub fn roc_auc(y: &[f64], p: &[f64]) -> Option<f64> {
    if y.len() != p.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Mann–Whitney: the sum of the positives' mid-ranks.
    let (mut rank_sum, mut positives) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && p[order[j + 1]] == p[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if y[k] > 0.5 {
                rank_sum += mid_rank;
                positives += 1.0;
            }
        }
        i = j + 1;
    }
    let negatives = y.len() as f64 - positives;
    (positives > 0.0 && negatives > 0.0)
        .then(|| (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

/// The mean log-loss of probabilities `p` of class 1 for 0/1 labels `y` (clipped to
/// `[1e-15, 1 − 1e-15]`), or `None` for no rows or different lengths.
pub fn log_loss(y: &[f64], p: &[f64]) -> Option<f64> {
    if y.len() != p.len() || y.is_empty() {
        return None;
    }
    let eps = 1e-15;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&y, &p)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y > 0.5 { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Some(total / y.len() as f64)
}

/// The coefficient of determination of predictions `p` for targets `y`, or `None` for fewer than
/// two rows, different lengths or a constant target.
pub fn r2(y: &[f64], p: &[f64]) -> Option<f64> {
    if y.len() != p.len() || y.len() < 2 {
        return None;
    }
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let residual: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
    (total > 0.0).then(|| 1.0 - residual / total)
}

/// The numbers of column `name` of a CSV text (header row, `,` separator, no quoting); an empty
/// field is NaN.
pub fn csv_column(text: &str, name: &str) -> Result<Vec<f64>> {
    let mut lines = text.lines();
    let header = lines.next().context("the CSV file is empty")?;
    let index = header
        .split(',')
        .position(|h| h.trim().trim_matches('"') == name)
        .with_context(|| format!("no column {name:?} in the header {header:?}"))?;
    lines
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, line)| {
            let field = line
                .split(',')
                .nth(index)
                .with_context(|| format!("row {}: no field for column {name:?}", i + 1))?;
            if field.is_empty() {
                return Ok(f64::NAN);
            }
            field.trim().parse::<f64>().with_context(|| {
                format!(
                    "row {}: {field:?} in column {name:?} is not a number",
                    i + 1
                )
            })
        })
        .collect()
}

/// The number at JSON pointer `pointer` of `json`.
pub fn json_number(json: &Value, pointer: &str) -> Result<f64> {
    number(
        json.pointer(pointer).unwrap_or(&Value::Null),
        &format!("`{pointer}` of mlship's JSON"),
    )
}

// ---------------------------------------------------------------------------------------------
// what criterion and example programs print
// ---------------------------------------------------------------------------------------------

/// `value unit` (`1.2345 µs`) in seconds.
fn seconds_of(value: &str, unit: &str) -> Option<f64> {
    let v: f64 = value.parse().ok()?;
    let scale = match unit {
        "ps" => 1e-12,
        "ns" => 1e-9,
        "µs" | "us" | "μs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => return None,
    };
    Some(v * scale)
}

/// criterion's point estimate, in seconds, of benchmark `id` in its terminal output
/// (`id  time:   [low estimate high]`, the `time:` on the same line or the next).
pub fn criterion_estimate(output: &str, id: &str) -> Option<f64> {
    let lines: Vec<&str> = output.lines().collect();
    let at = lines.iter().position(|l| l.trim_start().starts_with(id))?;
    let line = lines[at..].iter().take(2).find(|l| l.contains("time:"))?;
    let inside = line.split_once('[')?.1.split_once(']')?.0;
    let parts: Vec<&str> = inside.split_whitespace().collect();
    // low unit estimate unit high unit
    seconds_of(parts.get(2)?, parts.get(3)?)
}

/// The figures of a program that prints lines like `register: 1000 versions, median 3.21 ms,
/// p90 4.5 ms`: (the text before the first `:`, the line, the median in seconds).
pub fn median_lines(output: &str) -> Vec<(String, String, f64)> {
    output
        .lines()
        .filter_map(|line| {
            let (label, rest) = line.split_once(':')?;
            let after = rest.split_once("median ")?.1;
            let mut words = after.split_whitespace();
            let value = words.next()?;
            let unit = words.next()?.trim_end_matches(',');
            Some((
                label.trim().to_string(),
                line.trim().to_string(),
                seconds_of(value, unit)?,
            ))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// results and how they are shown
// ---------------------------------------------------------------------------------------------

/// One row of a task's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The case (`logistic`, `gbdt`, …).
    pub case: String,
    /// The tool and what it did.
    pub tool: String,
    /// The measured value with its unit (`1.234 s`, `3.2 µs`, `512 MiB`).
    pub value: String,
    /// mlship ÷ peer (or ÷ what the target is stated against).
    pub ratio: Option<f64>,
    /// Quality figures.
    pub quality: String,
    /// The target in short and in words.
    pub target: Option<(String, String)>,
    /// Whether the target is met (`None` without a target or a measurement).
    pub met: Option<bool>,
}

/// Where and with what the benchmark ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// CPU model, logical CPUs, memory.
    pub machine: String,
    /// `mlship --version` and how it was built.
    pub mlship: String,
    /// `rustc -V`.
    pub rustc: String,
    /// When, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// The command that reproduces the run.
    pub command: String,
}

/// Everything one task measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskResult {
    /// The task's name (its markers in `docs/benchmarks.md`).
    pub name: &'static str,
    /// The section's heading.
    pub title: &'static str,
    /// What was timed and how.
    pub about: String,
    /// The data files, as `` `name` (rows × columns, size) ``.
    pub data: Vec<String>,
    /// Timed runs per tool after one warm-up run (`None` when the task measures itself).
    pub repeats: Option<usize>,
    /// The table.
    pub rows: Vec<Row>,
    /// Notes under the table (raw times, mlship's own split, failures).
    pub notes: Vec<String>,
    /// The peers' Python version and library versions, when peers ran.
    pub python: Option<(String, Vec<(String, String)>)>,
    /// 1-minute load average before and after the measurements.
    pub load: (Option<f64>, Option<f64>),
    /// Share of all CPUs' time that other processes used during the measurements.
    pub others_cpu: Option<f64>,
    /// Whether the data had the sizes the targets are stated for.
    pub full_size: bool,
}

impl TaskResult {
    fn verdict(&self, met: bool) -> &'static str {
        match (self.full_size, met) {
            (false, _) => "n/a (smaller data than the target's)",
            (true, true) => "PASS",
            (true, false) => "MISS",
        }
    }

    fn busy(&self) -> bool {
        self.others_cpu
            .is_some_and(|share| share > super::BUSY_SHARE)
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
            "{} before, {} after the measurements{others}",
            f(self.load.0),
            f(self.load.1)
        )
    }

    /// The plain-text report printed on stdout.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n{}", self.title.replace('`', ""));
        for d in &self.data {
            let _ = writeln!(out, "  data: {}", d.replace('`', ""));
        }
        let _ = writeln!(
            out,
            "  {:<10} {:<58} {:>12} {:>12}  {:<8} result",
            "case", "tool", "median", "mlship÷peer", "target"
        );
        for row in &self.rows {
            let ratio = row.ratio.map_or_else(String::new, |r| format!("{r:.3}"));
            let target = row.target.as_ref().map_or("", |t| t.0.as_str());
            let verdict = row.met.map_or("", |m| self.verdict(m));
            let line = format!(
                "  {:<10} {:<58} {:>12} {:>12}  {:<8} {verdict}",
                row.case, row.tool, row.value, ratio, target
            );
            let _ = writeln!(out, "{}", line.trim_end());
            if !row.quality.is_empty() {
                let _ = writeln!(out, "  {:<10} {:<58} {}", "", "", row.quality);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  {note}");
        }
        let _ = writeln!(out, "  load average (1 min): {}", self.load_text());
        if self.busy() {
            let _ = writeln!(
                out,
                "  warning: the machine was busy; these timings are slower and noisier than on an idle one"
            );
        }
        out
    }

    /// The task's section of `docs/benchmarks.md`, markers included.
    pub fn markdown(&self, env: &Environment) -> String {
        let (start, end) = markers(self.name);
        let mut out = String::new();
        let _ = writeln!(out, "{start}");
        let _ = writeln!(
            out,
            "<!-- generated by `cargo xtask bench --only {}`; edits here are overwritten -->",
            self.name
        );
        let _ = writeln!(out, "## {}\n", self.title);
        let mut about = String::new();
        if !self.data.is_empty() {
            let _ = write!(
                about,
                "Data: {}, from `cargo xtask datagen`, in the page cache. ",
                self.data.join(", ")
            );
        }
        about.push_str(&self.about);
        if let Some(n) = self.repeats {
            let _ = write!(about, " Median of {n} runs after one warm-up run.");
        }
        let _ = writeln!(out, "{about}\n");
        let _ = writeln!(
            out,
            "| case | tool | median | mlship ÷ peer (< 1: mlship faster) | quality | target | result |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---|---|---|");
        for row in &self.rows {
            let ratio = row.ratio.map_or_else(|| "—".into(), |r| format!("{r:.3}"));
            let target = row
                .target
                .as_ref()
                .map_or_else(|| "—".into(), |(short, text)| format!("{short} ({text})"));
            let verdict = row
                .met
                .map_or_else(|| "—".into(), |m| format!("**{}**", self.verdict(m)));
            let quality = if row.quality.is_empty() {
                "—".to_string()
            } else {
                row.quality.clone()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {ratio} | {} | {} | {verdict} |",
                row.case,
                row.tool.replace('|', "\\|"),
                row.value,
                quality.replace('|', "\\|"),
                target.replace('|', "\\|"),
            );
        }
        out.push('\n');
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        let _ = writeln!(out, "- Machine: {}.", env.machine);
        let busy = if self.busy() {
            " The machine was not idle: expect slower, noisier times than on an idle one."
        } else {
            ""
        };
        let _ = writeln!(out, "- Load average (1 min): {}.{busy}", self.load_text());
        let mut versions = format!("- Versions: {}, {}", env.mlship, env.rustc);
        if let Some((python, libs)) = &self.python {
            let _ = write!(versions, ", Python {python}");
            for (name, v) in libs {
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
