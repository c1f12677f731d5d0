//! Output of the commands: readable reports for people, JSON for scripts.

use std::io::Write;

use serde::Serialize;

use crate::cli::Style;
use crate::data::{ColumnReport, ConvertSummary, ProfileReport};
use crate::error::Result;
use crate::inspect::InspectReport;

fn json<T: Serialize>(out: &mut impl Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)?;
    Ok(())
}

/// JSON when asked for, nothing when quiet, the report for people otherwise.
pub(crate) fn emit<T: Serialize, W: Write>(
    out: &mut W,
    value: &T,
    style: Style,
    human: impl FnOnce(&mut W) -> Result<()>,
) -> Result<()> {
    if style.json {
        json(out, value)
    } else if style.verbosity < 0 {
        Ok(())
    } else {
        human(out)
    }
}

pub(crate) fn bold(s: &str, style: Style) -> String {
    if style.color {
        format!("\x1b[1m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// A number in at most about seven characters, keeping four significant digits.
pub(crate) fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if !(1e-3..1e7).contains(&a) {
        return format!("{x:.3e}");
    }
    let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A byte count for people: `13.5 KiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// Writes rows as left-aligned (text) or right-aligned (numbers) columns.
pub(crate) fn table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
    right: &[bool],
    style: Style,
) -> Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let w = widths[i];
            let last = i + 1 == cells.len();
            let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&pad);
                s.push_str(cell);
            } else {
                s.push_str(cell);
                if !last {
                    s.push_str(&pad);
                }
            }
            if !last {
                s.push_str("  ");
            }
        }
        s.truncate(s.trim_end().len());
        s
    };
    let head: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    writeln!(out, "{}", bold(&line(&head), style))?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A quantile estimate; integer columns show the nearest integer, as the exact quantile is one.
fn quantile(c: &ColumnReport, q: f64) -> String {
    let integer = c.dtype.starts_with('i') || c.dtype.starts_with('u');
    c.summary
        .numeric
        .as_ref()
        .and_then(|n| n.quantiles.iter().find(|e| (e.q - q).abs() < 1e-12))
        .map_or_else(
            || "-".into(),
            |e| num(if integer { e.value.round() } else { e.value }),
        )
}

/// An integer with thousands separators: `1,000,000`.
pub(crate) fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), num)
}

/// `mlship data profile`.
pub fn profile(out: &mut impl Write, r: &ProfileReport, style: Style) -> Result<()> {
    emit(out, r, style, |out| profile_report(out, r, style))
}

fn profile_report(out: &mut impl Write, r: &ProfileReport, style: Style) -> Result<()> {
    writeln!(
        out,
        "{} — {}, {}, {} rows × {} columns (read {}, profiled {})",
        bold(&r.path.display().to_string(), style),
        r.format,
        bytes(r.bytes),
        count(r.rows),
        r.columns.len(),
        seconds(r.read_seconds),
        seconds(r.profile_seconds)
    )?;
    numeric_table(out, r, style)?;
    levels_table(out, r, style)?;
    nan_notes(out, r)
}

fn distinct(c: &ColumnReport) -> String {
    if c.summary.distinct_exact {
        c.summary.distinct.to_string()
    } else {
        format!("~{}", c.summary.distinct)
    }
}

fn numeric_table(out: &mut impl Write, r: &ProfileReport, style: Style) -> Result<()> {
    let numeric: Vec<&ColumnReport> = r
        .columns
        .iter()
        .filter(|c| c.summary.numeric.is_some())
        .collect();
    if !numeric.is_empty() {
        writeln!(out, "\n{}", bold("Numeric columns", style))?;
        let rows: Vec<Vec<String>> = numeric
            .iter()
            .map(|c| {
                let n = c.summary.numeric.as_ref();
                vec![
                    c.name.clone(),
                    c.dtype.clone(),
                    pct(c.summary.missing_fraction),
                    distinct(c),
                    opt(n.and_then(|n| n.min)),
                    opt(n.and_then(|n| n.mean)),
                    opt(n.and_then(|n| n.std)),
                    quantile(c, 0.25),
                    quantile(c, 0.5),
                    quantile(c, 0.75),
                    opt(n.and_then(|n| n.max)),
                ]
            })
            .collect();
        table(
            out,
            &[
                "column", "type", "missing", "distinct", "min", "mean", "std", "p25", "p50", "p75",
                "max",
            ],
            &rows,
            &[
                false, false, true, true, true, true, true, true, true, true, true,
            ],
            style,
        )?;
    }
    Ok(())
}

fn levels_table(out: &mut impl Write, r: &ProfileReport, style: Style) -> Result<()> {
    let other: Vec<&ColumnReport> = r
        .columns
        .iter()
        .filter(|c| c.summary.numeric.is_none())
        .collect();
    if !other.is_empty() {
        writeln!(out, "\n{}", bold("Categorical and boolean columns", style))?;
        let rows: Vec<Vec<String>> = other
            .iter()
            .map(|c| {
                let top = c.summary.levels.as_ref().map_or_else(String::new, |l| {
                    let mut parts: Vec<String> = l
                        .top
                        .iter()
                        .take(5)
                        .map(|t| format!("{} {:.1}%", t.level, t.share * 100.0))
                        .collect();
                    if l.top.len() > 5 || l.other_count > 0 {
                        parts.push("…".into());
                    }
                    parts.join(", ")
                });
                vec![
                    c.name.clone(),
                    c.dtype.clone(),
                    pct(c.summary.missing_fraction),
                    distinct(c),
                    top,
                ]
            })
            .collect();
        table(
            out,
            &["column", "type", "missing", "distinct", "top levels"],
            &rows,
            &[false, false, true, true, false],
            style,
        )?;
    }
    Ok(())
}

fn nan_notes(out: &mut impl Write, r: &ProfileReport) -> Result<()> {
    let mut notes = Vec::new();
    for c in &r.columns {
        if let Some(n) = &c.summary.numeric {
            let mut parts = Vec::new();
            if n.nan > 0 {
                parts.push(format!("{} NaN", n.nan));
            }
            if n.pos_inf > 0 {
                parts.push(format!("{} +inf", n.pos_inf));
            }
            if n.neg_inf > 0 {
                parts.push(format!("{} -inf", n.neg_inf));
            }
            if !parts.is_empty() {
                notes.push(format!(
                    "column {:?} holds {} (counted apart, left out of min, max, mean, std and quantiles)",
                    c.name,
                    parts.join(", ")
                ));
            }
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
        for n in notes {
            writeln!(out, "note: {n}")?;
        }
    }
    Ok(())
}

/// `mlship inspect`.
pub fn inspect(out: &mut impl Write, r: &InspectReport, style: Style) -> Result<()> {
    emit(out, r, style, |out| inspect_report(out, r, style))
}

fn inspect_report(out: &mut impl Write, r: &InspectReport, style: Style) -> Result<()> {
    writeln!(
        out,
        "{} — mlship bundle, {}, checksum verified",
        bold(&r.path.display().to_string(), style),
        bytes(r.bytes)
    )?;
    if let Some(m) = &r.typed {
        let mut kv: Vec<(String, String)> = vec![("kind".into(), m.kind.clone())];
        if let Some(n) = &m.name {
            kv.push(("name".into(), n.clone()));
        }
        kv.push(("created".into(), m.created_at.clone()));
        kv.push(("written by".into(), format!("mlship {}", m.mlship_version)));
        if let Some(t) = &m.task {
            let classes = t.classes();
            kv.push((
                "task".into(),
                if classes.is_empty() {
                    t.name().to_owned()
                } else {
                    format!("{} ({})", t.name(), classes.join(", "))
                },
            ));
        }
        if let Some(f) = &m.lineage.data_fingerprint {
            kv.push(("data".into(), f.clone()));
        }
        if let Some(s) = m.lineage.seed {
            kv.push(("seed".into(), s.to_string()));
        }
        for (k, v) in &m.metrics {
            kv.push((format!("metric {k}"), num(*v)));
        }
        writeln!(out)?;
        for (k, v) in kv {
            writeln!(out, "{k:>14}  {v}")?;
        }
        if let Some(schema) = &m.schema {
            writeln!(out, "\n{}", bold("Input schema", style))?;
            let rows: Vec<Vec<String>> = schema
                .columns
                .iter()
                .map(|c| {
                    let detail = match &c.kind {
                        mlship_core::ColumnKind::Categorical { levels, .. } => {
                            format!("{} levels", levels.len())
                        }
                        mlship_core::ColumnKind::Datetime { format } => format!("format {format}"),
                        _ => String::new(),
                    };
                    vec![
                        c.name.clone(),
                        c.kind.name().to_owned(),
                        if c.nullable { "yes" } else { "no" }.to_owned(),
                        detail,
                    ]
                })
                .collect();
            table(
                out,
                &["column", "kind", "nullable", "detail"],
                &rows,
                &[false; 4],
                style,
            )?;
        }
    }
    if r.typed.is_none() || style.verbosity >= 1 {
        writeln!(
            out,
            "\nmanifest:\n{}",
            serde_json::to_string_pretty(&r.manifest).unwrap_or_default()
        )?;
    }
    writeln!(out, "\n{}", bold("Sections", style))?;
    let rows: Vec<Vec<String>> = r
        .sections
        .iter()
        .map(|s| vec![s.name.clone(), s.version.to_string(), bytes(s.bytes as u64)])
        .collect();
    if rows.is_empty() {
        writeln!(out, "(none)")?;
    } else {
        table(
            out,
            &["section", "version", "size"],
            &rows,
            &[false, true, true],
            style,
        )?;
    }
    Ok(())
}

/// `mlship data convert`.
pub fn convert(out: &mut impl Write, s: &ConvertSummary, style: Style) -> Result<()> {
    emit(out, s, style, |out| {
        writeln!(
            out,
            "wrote {} ({} rows × {} columns, {})",
            s.output.display(),
            count(s.rows),
            s.columns,
            bytes(s.bytes)
        )?;
        Ok(())
    })
}

/// `mlship preprocess fit`.
pub fn pipeline_fit(
    out: &mut impl Write,
    s: &crate::preprocess::FitSummary,
    style: Style,
) -> Result<()> {
    emit(out, s, style, |out| {
        let c = &s.clean;
        writeln!(
            out,
            "fitted on {} rows of {} ({} read, {} kept) in {:.2} s",
            count(c.rows_out),
            s.data.display(),
            count(c.rows_in),
            count(c.rows_out),
            s.fit_seconds
        )?;
        if let (Some(t), Some(task)) = (&s.target, &s.task) {
            if s.classes.is_empty() {
                writeln!(out, "target {t}: {task}")?;
            } else {
                writeln!(out, "target {t}: {task}, classes {}", s.classes.join(", "))?;
            }
        }
        let mut removed = Vec::new();
        if c.missing_target > 0 {
            removed.push(format!("{} rows without a target", count(c.missing_target)));
        }
        if c.duplicates > 0 {
            removed.push(format!("{} duplicate rows", count(c.duplicates)));
        }
        for (col, n) in &c.out_of_range_dropped {
            removed.push(format!("{} rows out of range in {col}", count(*n)));
        }
        for (col, n) in &c.clipped {
            removed.push(format!("{} values clipped in {col}", count(*n)));
        }
        for (col, n) in &c.nulled {
            removed.push(format!("{} values made missing in {col}", count(*n)));
        }
        if !removed.is_empty() {
            writeln!(out, "cleaning: {}", removed.join("; "))?;
        }
        for (col, why) in &s.dropped_columns {
            writeln!(out, "left out {col}: {why}")?;
        }
        if !s.missing.is_empty() {
            let parts: Vec<String> = s
                .missing
                .iter()
                .map(|(c, n)| format!("{c} ({})", count(*n)))
                .collect();
            writeln!(out, "imputed missing values in {}", parts.join(", "))?;
        }
        writeln!(
            out,
            "{} inputs → {} features:",
            s.inputs.len(),
            s.features.len()
        )?;
        for f in &s.features {
            writeln!(out, "  {f}")?;
        }
        writeln!(out, "wrote {}", s.output.display())?;
        Ok(())
    })
}

/// `mlship preprocess apply`.
pub fn pipeline_apply(
    out: &mut impl Write,
    s: &crate::preprocess::ApplySummary,
    style: Style,
) -> Result<()> {
    emit(out, s, style, |out| {
        writeln!(
            out,
            "wrote {} ({} rows × {} features{})",
            s.output.display(),
            count(s.rows),
            s.features,
            if s.with_target {
                ", plus the encoded target"
            } else {
                ""
            }
        )?;
        Ok(())
    })
}

/// `mlship train`.
pub fn train(out: &mut impl Write, s: &crate::model::TrainSummary, style: Style) -> Result<()> {
    emit(out, s, style, |out| {
        let kind = s
            .model
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("model");
        writeln!(
            out,
            "trained {kind} ({}) on {} rows × {} features in {:.2} s",
            s.task,
            count(s.rows),
            s.features,
            s.fit_seconds
        )?;
        let f = &s.fit;
        writeln!(
            out,
            "solver {}: {} iterations{}",
            f.solver,
            f.iterations,
            if f.converged {
                ", converged"
            } else {
                ", NOT converged"
            }
        )?;
        for w in &f.warnings {
            writeln!(out, "warning: {w}")?;
        }
        let metrics: Vec<String> = s
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {}", num(*v)))
            .collect();
        writeln!(out, "training metrics: {}", metrics.join(", "))?;
        writeln!(out, "wrote {}", s.output.display())?;
        Ok(())
    })
}

/// `mlship predict`.
pub fn predict(out: &mut impl Write, s: &crate::model::PredictSummary, style: Style) -> Result<()> {
    emit(out, s, style, |out| {
        writeln!(
            out,
            "wrote {} ({} rows: {})",
            s.output.display(),
            count(s.rows),
            s.columns.join(", ")
        )?;
        Ok(())
    })
}

/// `mlship data split`.
pub fn split(
    out: &mut impl Write,
    s: &crate::preprocess::SplitSummary,
    style: Style,
) -> Result<()> {
    emit(out, s, style, |out| {
        for name in ["train", "validation", "test"] {
            if let Some((path, rows)) = s.files.get(name) {
                writeln!(
                    out,
                    "{name:<10} {:>9} rows  {}",
                    count(*rows),
                    path.display()
                )?;
            }
        }
        Ok(())
    })
}

fn params_cell(p: &std::collections::BTreeMap<String, serde_json::Value>) -> String {
    if p.is_empty() {
        return "defaults".into();
    }
    p.iter()
        .map(|(k, v)| match v {
            serde_json::Value::Number(n) => n
                .as_f64()
                .map_or_else(|| format!("{k}={n}"), |f| format!("{k}={}", num(f))),
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn metrics_table(
    out: &mut impl Write,
    metrics: &std::collections::BTreeMap<String, f64>,
    style: Style,
) -> Result<()> {
    let rows: Vec<Vec<String>> = metrics
        .iter()
        .map(|(k, v)| vec![k.clone(), num(*v)])
        .collect();
    table(out, &["metric", "value"], &rows, &[false, true], style)
}

/// `mlship run`.
pub fn run(out: &mut impl Write, s: &crate::run::RunSummary, style: Style) -> Result<()> {
    emit(out, s, style, |out| {
        writeln!(
            out,
            "{} ({} task) — leaderboard by cross-validated {}:",
            bold(&s.experiment, style),
            s.task,
            s.metric
        )?;
        let rows: Vec<Vec<String>> = s
            .leaderboard
            .iter()
            .map(|r| {
                vec![
                    r.rank.to_string(),
                    r.family.clone(),
                    num(r.mean_score),
                    num(r.std_score),
                    format!("{}/{}", r.completed, r.n_candidates),
                    params_cell(&r.params),
                ]
            })
            .collect();
        table(
            out,
            &[
                "rank",
                "family",
                "mean",
                "std",
                "candidates",
                "best parameters",
            ],
            &rows,
            &[true, false, true, true, true, false],
            style,
        )?;
        writeln!(out)?;
        writeln!(out, "held-out test metrics of the winner:")?;
        metrics_table(out, &s.test_metrics, style)?;
        writeln!(out)?;
        writeln!(out, "wrote {}", s.bundle.display())?;
        writeln!(out, "report {} (and report.json)", s.report_html.display())?;
        writeln!(out, "run {} {}", s.run_id, s.recorded)?;
        if let Some(v) = &s.registered {
            writeln!(out, "registered {v}")?;
        }
        writeln!(out, "done in {}", seconds(s.seconds))?;
        Ok(())
    })
}

/// `mlship evaluate`.
pub fn evaluate(out: &mut impl Write, s: &crate::run::EvaluateSummary, style: Style) -> Result<()> {
    emit(out, s, style, |out| {
        let r = &s.report;
        let e = &r.evaluation;
        writeln!(
            out,
            "{} ({} task) on {} rows of {}:",
            bold(&s.model, style),
            r.task,
            count(e.rows),
            r.data
        )?;
        metrics_table(out, &e.metrics, style)?;
        if let Some(c) = &e.confusion {
            writeln!(out)?;
            writeln!(
                out,
                "confusion matrix (rows: true class, columns: predicted):"
            )?;
            let mut header = vec![String::new()];
            header.extend(c.labels.iter().cloned());
            let rows: Vec<Vec<String>> = c
                .labels
                .iter()
                .zip(&c.counts)
                .map(|(l, row)| {
                    let mut cells = vec![l.clone()];
                    cells.extend(row.iter().map(|v| num(*v)));
                    cells
                })
                .collect();
            let head: Vec<&str> = header.iter().map(String::as_str).collect();
            let mut right = vec![false];
            right.extend(std::iter::repeat_n(true, c.labels.len()));
            table(out, &head, &rows, &right, style)?;
        }
        if let Some(f) = &s.report_file {
            writeln!(out)?;
            writeln!(out, "report {}", f.display())?;
        }
        Ok(())
    })
}

/// `mlship update`.
pub fn update(out: &mut impl Write, s: &crate::update::UpdateSummary, style: Style) -> Result<()> {
    emit(out, s, style, |out| {
        writeln!(
            out,
            "{} continued by {} on {} new rows ({} held out)",
            bold(&s.champion, style),
            s.method,
            s.rows.get("fitted").copied().unwrap_or(0),
            s.rows.get("held out").copied().unwrap_or(0)
        )?;
        writeln!(
            out,
            "{}: champion {}, challenger {} (improvement {})",
            s.metric,
            num(s.champion_score),
            num(s.challenger_score),
            num(s.improvement)
        )?;
        if let Some(p) = &s.output {
            writeln!(out, "wrote {}", p.display())?;
        }
        if let Some(v) = &s.registered {
            writeln!(out, "registered {v}")?;
        }
        writeln!(
            out,
            "{}{}",
            if s.promoted { "promoted: " } else { "" },
            s.decision
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sizes_read_well() {
        assert_eq!(num(43.921_929), "43.92");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(5000.0), "5000");
        assert_eq!(num(-1.234_56e-5), "-1.235e-5");
        assert_eq!(num(12_345_678.0), "1.235e7");
        assert_eq!(bytes(13_824), "13.5 KiB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(344), "344");
        assert_eq!(count(1000), "1,000");
    }
}
