//! Reports of `mlship run` and `mlship evaluate`: one [`Report`] value, written as JSON and as
//! one self-contained HTML page whose charts are inline SVG drawn here (no network fetches, no
//! outside scripts).
//!
//! The page carries one short inline script that checks the charts rendered and marks the
//! document (`data-report="ok"`), which the headless-browser test reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mlship_core::Task;
use mlship_evaluate::metrics as mx;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::experiment::Metric;

/// Points of a curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Horizontal coordinates.
    pub x: Vec<f64>,
    /// Vertical coordinates.
    pub y: Vec<f64>,
}

/// A confusion matrix with its class labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    /// Class labels, in model order (rows: true class, columns: predicted class).
    pub labels: Vec<String>,
    /// Counts, one row per true class.
    pub counts: Vec<Vec<f64>>,
}

/// Predicted values and residuals of a regression (at most [`MAX_POINTS`] rows, evenly spaced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Residuals {
    /// Predicted values.
    pub predicted: Vec<f64>,
    /// True minus predicted.
    pub residual: Vec<f64>,
    /// True values.
    pub actual: Vec<f64>,
}

/// The most points a scatter plot keeps.
pub const MAX_POINTS: usize = 1000;
/// The most features an importance chart lists.
pub const MAX_IMPORTANCES: usize = 25;

/// How a model did on labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rows scored.
    pub rows: usize,
    /// Every metric that fits the task and is defined on these rows.
    pub metrics: BTreeMap<String, f64>,
    /// The confusion matrix (classifiers).
    pub confusion: Option<Confusion>,
    /// The ROC curve of the positive class (binary).
    pub roc: Option<Curve>,
    /// The precision-recall curve, recall against precision (binary).
    pub pr: Option<Curve>,
    /// The calibration curve, mean predicted probability against the share of positives, in
    /// 10 uniform bins (binary).
    pub calibration: Option<Curve>,
    /// Residuals (regression).
    pub residuals: Option<Residuals>,
}

impl Evaluation {
    /// Scores predictions: `y` class indices or values, `pred` predicted indices or values,
    /// `proba` class probabilities for classifiers.
    pub fn compute(task: &Task, y: &[f64], pred: &[f64], proba: Option<&Array2<f64>>) -> Self {
        let metrics = Metric::all_for(task, y, pred, proba, None);
        let mut e = Self {
            rows: y.len(),
            metrics,
            confusion: None,
            roc: None,
            pr: None,
            calibration: None,
            residuals: None,
        };
        if task.is_classification() {
            let k = task.n_classes();
            if let Ok(cm) = mx::confusion_matrix(y, pred, None, k, None) {
                e.confusion = Some(Confusion {
                    labels: task.classes().to_vec(),
                    counts: (0..k)
                        .map(|t| (0..k).map(|p| cm.get(t, p)).collect())
                        .collect(),
                });
            }
            if let Some(p) = proba.filter(|p| p.ncols() == 2) {
                let pos = p.column(1).to_vec();
                if let Ok(c) = mx::roc_curve(y, &pos, None, true)
                    && c.fpr.iter().all(|v| v.is_finite())
                {
                    e.roc = Some(Curve { x: c.fpr, y: c.tpr });
                }
                if let Ok(c) = mx::precision_recall_curve(y, &pos, None) {
                    e.pr = Some(Curve {
                        x: c.recall,
                        y: c.precision,
                    });
                }
                let clipped: Vec<f64> = pos.iter().map(|v| v.clamp(0.0, 1.0)).collect();
                if let Ok(c) = mx::calibration_curve(y, &clipped, 10, mx::BinStrategy::Uniform) {
                    e.calibration = Some(Curve {
                        x: c.prob_pred,
                        y: c.prob_true,
                    });
                }
            }
        } else {
            let step = y.len().div_ceil(MAX_POINTS).max(1);
            let rows: Vec<usize> = (0..y.len()).step_by(step).collect();
            e.residuals = Some(Residuals {
                predicted: rows.iter().map(|&i| pred[i]).collect(),
                residual: rows.iter().map(|&i| y[i] - pred[i]).collect(),
                actual: rows.iter().map(|&i| y[i]).collect(),
            });
        }
        e
    }
}

/// One model family's best candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderRow {
    /// Rank among families by the mean cross-validation score, 1 the best.
    pub rank: usize,
    /// The family's name.
    pub family: String,
    /// The estimator kind.
    pub kind: String,
    /// The best candidate's parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Mean cross-validation score.
    pub mean_score: f64,
    /// Standard deviation of the fold scores.
    pub std_score: f64,
    /// Mean fit seconds per fold.
    pub mean_fit_seconds: f64,
    /// Candidates completed / offered.
    pub completed: usize,
    /// Candidates offered.
    pub n_candidates: usize,
}

/// One candidate of one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRow {
    /// The family's name.
    pub family: String,
    /// Parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Mean cross-validation score.
    pub mean_score: f64,
    /// Standard deviation of the fold scores.
    pub std_score: f64,
    /// Rank within its family (`rank_test_score`).
    pub rank: usize,
    /// Fold scores, in fold order.
    pub fold_scores: Vec<f64>,
    /// Mean fit seconds per fold.
    pub mean_fit_seconds: f64,
    /// Mean score seconds per fold.
    pub mean_score_seconds: f64,
    /// Successive halving: the iteration and the rows it used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halving: Option<(usize, usize)>,
}

/// The model selection part of a run's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The metric candidates were ranked by.
    pub metric: String,
    /// Whether higher is better.
    pub greater_is_better: bool,
    /// The cross-validation splitter.
    pub cv: serde_json::Value,
    /// The best candidate of each family, best first.
    pub leaderboard: Vec<LeaderRow>,
    /// Every candidate tried.
    pub candidates: Vec<CandidateRow>,
    /// Whether the time budget stopped any family's search early (the report then lists the
    /// candidates that were completed).
    pub stopped_by_time_budget: bool,
    /// Out-of-fold probability calibration of the winner, if any (`isotonic` or `sigmoid`).
    pub calibration: Option<String>,
    /// The tuned decision threshold of the winner, if any.
    pub threshold: Option<f64>,
}

/// A report of a run or an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// A title for people.
    pub title: String,
    /// `run` or `evaluate`.
    pub kind: String,
    /// When it was written (RFC 3339, UTC).
    pub created_at: String,
    /// The data scored.
    pub data: String,
    /// `regression`, `binary` or `multiclass`.
    pub task: String,
    /// Class labels (classifiers).
    pub classes: Vec<String>,
    /// Rows by part (`train`, `test`, or `evaluated`).
    pub rows: BTreeMap<String, usize>,
    /// The search and the leaderboard (runs).
    pub selection: Option<Selection>,
    /// The chosen model on the held-out or given rows.
    pub evaluation: Evaluation,
    /// Feature importances of the model, largest first (when it has them).
    pub importances: Vec<(String, f64)>,
    /// Where the model came from: data fingerprint, parameters, seed, run id, versions.
    pub lineage: BTreeMap<String, serde_json::Value>,
    /// Seconds per stage.
    pub timings: BTreeMap<String, f64>,
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn fmt_num(x: f64) -> String {
    crate::render::num(x)
}

fn params_text(p: &BTreeMap<String, serde_json::Value>) -> String {
    if p.is_empty() {
        return "defaults".into();
    }
    p.iter()
        .map(|(k, v)| match v {
            serde_json::Value::Number(n) => n
                .as_f64()
                .map_or_else(|| format!("{k}={n}"), |f| format!("{k}={}", fmt_num(f))),
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const W: f64 = 360.0;
const H: f64 = 280.0;
const PAD: f64 = 44.0;

/// Axes from `(x0, x1)` and `(y0, y1)` to the plot area.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        let span = if self.x1 > self.x0 {
            self.x1 - self.x0
        } else {
            1.0
        };
        PAD + (x - self.x0) / span * (W - 1.5 * PAD)
    }

    fn py(&self, y: f64) -> f64 {
        let span = if self.y1 > self.y0 {
            self.y1 - self.y0
        } else {
            1.0
        };
        H - PAD - (y - self.y0) / span * (H - 1.5 * PAD)
    }

    fn of(xs: &[f64], ys: &[f64]) -> Self {
        let lo_hi = |v: &[f64]| {
            let finite = v.iter().copied().filter(|x| x.is_finite());
            let lo = finite.clone().fold(f64::INFINITY, f64::min);
            let hi = finite.fold(f64::NEG_INFINITY, f64::max);
            if lo.is_finite() && hi.is_finite() {
                if hi > lo {
                    (lo, hi)
                } else {
                    (lo - 1.0, hi + 1.0)
                }
            } else {
                (0.0, 1.0)
            }
        };
        let (x0, x1) = lo_hi(xs);
        let (y0, y1) = lo_hi(ys);
        Self { x0, x1, y0, y1 }
    }

    fn unit() -> Self {
        Self {
            x0: 0.0,
            x1: 1.0,
            y0: 0.0,
            y1: 1.0,
        }
    }

    /// The frame, axis ticks and labels.
    fn axes(&self, s: &mut String, xlabel: &str, ylabel: &str) {
        let (l, r, t, b) = (PAD, W - 0.5 * PAD, 0.5 * PAD, H - PAD);
        let _ = write!(
            s,
            r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="#fff" stroke="#999"/>"##,
            r - l,
            b - t
        );
        for i in 0..=4 {
            let f = f64::from(i) / 4.0;
            let xv = self.x0 + f * (self.x1 - self.x0);
            let yv = self.y0 + f * (self.y1 - self.y0);
            let (x, y) = (self.px(xv), self.py(yv));
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{b}" x2="{x:.1}" y2="{:.1}" stroke="#999"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"##,
                b + 4.0,
                b + 15.0,
                esc(&fmt_num(xv))
            );
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{l}" y2="{y:.1}" stroke="#999"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10">{}</text>"##,
                l - 4.0,
                l - 6.0,
                y + 3.0,
                esc(&fmt_num(yv))
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text><text x="12" y="{:.1}" text-anchor="middle" font-size="11" transform="rotate(-90 12 {:.1})">{}</text>"#,
            f64::midpoint(l, r),
            H - 6.0,
            esc(xlabel),
            f64::midpoint(t, b),
            f64::midpoint(t, b),
            esc(ylabel)
        );
    }

    fn polyline(&self, s: &mut String, xs: &[f64], ys: &[f64], color: &str, dashed: bool) {
        let pts: Vec<String> = xs
            .iter()
            .zip(ys)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(&x, &y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        let dash = if dashed {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            pts.join(" ")
        );
    }
}

fn svg_open(title: &str) -> String {
    format!(
        r#"<figure><svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(title)
    )
}

fn svg_close(s: &mut String, caption: &str) {
    let _ = write!(
        s,
        "</svg><figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}

fn line_chart(title: &str, curve: &Curve, xl: &str, yl: &str, diagonal: bool) -> String {
    let mut s = svg_open(title);
    let f = Frame::unit();
    f.axes(&mut s, xl, yl);
    if diagonal {
        f.polyline(&mut s, &[0.0, 1.0], &[0.0, 1.0], "#aaa", true);
    }
    f.polyline(&mut s, &curve.x, &curve.y, "#1f6feb", false);
    svg_close(&mut s, title);
    s
}

fn scatter(title: &str, xs: &[f64], ys: &[f64], xl: &str, yl: &str, zero_line: bool) -> String {
    let mut s = svg_open(title);
    let mut f = Frame::of(xs, ys);
    if zero_line {
        let m = f.y0.abs().max(f.y1.abs());
        f.y0 = -m;
        f.y1 = m;
    }
    f.axes(&mut s, xl, yl);
    if zero_line {
        f.polyline(&mut s, &[f.x0, f.x1], &[0.0, 0.0], "#aaa", true);
    } else {
        let lo = f.x0.max(f.y0);
        let hi = f.x1.min(f.y1);
        if hi > lo {
            f.polyline(&mut s, &[lo, hi], &[lo, hi], "#aaa", true);
        }
    }
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && y.is_finite() {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="2.2" fill="#1f6feb" fill-opacity="0.55"/>"##,
                f.px(x),
                f.py(y)
            );
        }
    }
    svg_close(&mut s, title);
    s
}

fn bars(title: &str, items: &[(String, f64)]) -> String {
    let row = 18.0;
    let label_w = 190.0;
    let width = 560.0;
    let height = row * items.len() as f64 + 16.0;
    let max = items
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut s = format!(
        r#"<figure><svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{}">"#,
        esc(title)
    );
    for (i, (name, v)) in items.iter().enumerate() {
        let y = 8.0 + row * i as f64;
        let w = (v.abs() / max) * (width - label_w - 70.0);
        let short: String = name.chars().take(28).collect();
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text><rect x="{label_w}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="#1f6feb"/><text x="{:.1}" y="{:.1}" font-size="10">{}</text>"##,
            label_w - 6.0,
            y + 12.0,
            esc(&short),
            row - 4.0,
            label_w + w + 4.0,
            y + 12.0,
            esc(&fmt_num(*v))
        );
    }
    svg_close(&mut s, title);
    s
}

fn confusion_html(c: &Confusion) -> String {
    let max = c
        .counts
        .iter()
        .flatten()
        .copied()
        .fold(0.0, f64::max)
        .max(1.0);
    let mut s = String::from("<table class=\"confusion\"><tr><th>true \\ predicted</th>");
    for l in &c.labels {
        let _ = write!(s, "<th>{}</th>", esc(l));
    }
    s.push_str("</tr>");
    for (l, row) in c.labels.iter().zip(&c.counts) {
        let _ = write!(s, "<tr><th>{}</th>", esc(l));
        for &v in row {
            let shade = (v / max * 0.75 * 255.0) as u8;
            let _ = write!(
                s,
                r#"<td style="background: rgba(31, 111, 235, {:.2}); color: {}">{}</td>"#,
                f64::from(shade) / 255.0,
                if shade > 110 { "#fff" } else { "#000" },
                fmt_num(v)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

fn table_html(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            let _ = write!(s, "<td>{}</td>", esc(cell));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}\
td{font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}\
figcaption{font-size:.85rem;color:#555;text-align:center}.muted{color:#666}.best{font-weight:600}";

/// Marks the document once every chart has a size, and records script errors.
const CHECK_SCRIPT: &str = "window.addEventListener('error',function(e){document.documentElement.setAttribute('data-report','error: '+e.message)});\
document.addEventListener('DOMContentLoaded',function(){var c=document.querySelectorAll('svg.chart'),ok=true;\
for(var i=0;i<c.length;i++){var b=c[i].getBoundingClientRect();if(!(b.width>0&&b.height>0)){ok=false}}\
if(document.documentElement.getAttribute('data-report')===null){document.documentElement.setAttribute('data-report',ok?'ok':'empty chart')}\
document.documentElement.setAttribute('data-charts',String(c.length))});";

impl Report {
    /// The report as one self-contained HTML page.
    #[allow(clippy::too_many_lines)] // the page's sections, in order
    pub fn to_html(&self) -> String {
        let mut s = String::with_capacity(64 * 1024);
        let _ = write!(
            s,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style><script>{CHECK_SCRIPT}</script></head><body>",
            esc(&self.title)
        );
        let _ = write!(
            s,
            "<h1>{}</h1><p class=\"muted\">{} task on {} · written {}</p>",
            esc(&self.title),
            esc(&self.task),
            esc(&self.data),
            esc(&self.created_at)
        );
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|(k, v)| format!("{k}: {v} rows"))
            .collect();
        let _ = write!(s, "<p>{}</p>", esc(&rows.join(" · ")));

        if let Some(sel) = &self.selection {
            let _ = write!(
                s,
                "<h2>Leaderboard</h2><p>Ranked by the mean cross-validated {} ({} is better).</p>",
                esc(&sel.metric),
                if sel.greater_is_better {
                    "higher"
                } else {
                    "lower"
                }
            );
            let rows: Vec<Vec<String>> = sel
                .leaderboard
                .iter()
                .map(|r| {
                    vec![
                        r.rank.to_string(),
                        r.family.clone(),
                        fmt_num(r.mean_score),
                        fmt_num(r.std_score),
                        params_text(&r.params),
                        format!("{}/{}", r.completed, r.n_candidates),
                        format!("{:.3} s", r.mean_fit_seconds),
                    ]
                })
                .collect();
            s.push_str(&table_html(
                &[
                    "rank",
                    "family",
                    "mean",
                    "std",
                    "best parameters",
                    "candidates",
                    "fit / fold",
                ],
                &rows,
            ));
            if sel.stopped_by_time_budget {
                s.push_str("<p>The time budget stopped the search: the tables list the candidates that were completed.</p>");
            }
            if let Some(c) = &sel.calibration {
                let _ = write!(
                    s,
                    "<p>Probabilities calibrated ({}) on out-of-fold predictions.</p>",
                    esc(c)
                );
            }
            if let Some(t) = sel.threshold {
                let _ = write!(
                    s,
                    "<p>Decision threshold tuned on out-of-fold predictions: {}.</p>",
                    esc(&fmt_num(t))
                );
            }
            s.push_str("<details><summary>Every candidate</summary>");
            let rows: Vec<Vec<String>> = sel
                .candidates
                .iter()
                .map(|r| {
                    vec![
                        r.family.clone(),
                        r.rank.to_string(),
                        fmt_num(r.mean_score),
                        fmt_num(r.std_score),
                        params_text(&r.params),
                        r.halving
                            .map_or_else(String::new, |(i, n)| format!("iter {i}, {n} rows")),
                        format!("{:.3} s", r.mean_fit_seconds),
                    ]
                })
                .collect();
            s.push_str(&table_html(
                &[
                    "family",
                    "rank",
                    "mean",
                    "std",
                    "parameters",
                    "halving",
                    "fit / fold",
                ],
                &rows,
            ));
            s.push_str("</details>");
        }

        let e = &self.evaluation;
        let _ = write!(
            s,
            "<h2>{} ({} rows)</h2>",
            if self.kind == "run" {
                "Held-out test evaluation"
            } else {
                "Evaluation"
            },
            e.rows
        );
        let rows: Vec<Vec<String>> = e
            .metrics
            .iter()
            .map(|(k, v)| vec![k.clone(), fmt_num(*v)])
            .collect();
        s.push_str(&table_html(&["metric", "value"], &rows));
        s.push_str("<div class=\"charts\">");
        if let Some(c) = &e.roc {
            s.push_str(&line_chart(
                "ROC curve",
                c,
                "false positive rate",
                "true positive rate",
                true,
            ));
        }
        if let Some(c) = &e.pr {
            s.push_str(&line_chart(
                "Precision-recall curve",
                c,
                "recall",
                "precision",
                false,
            ));
        }
        if let Some(c) = &e.calibration {
            s.push_str(&line_chart(
                "Calibration curve",
                c,
                "mean predicted probability",
                "share of positives",
                true,
            ));
        }
        if let Some(r) = &e.residuals {
            s.push_str(&scatter(
                "Residuals",
                &r.predicted,
                &r.residual,
                "predicted",
                "residual",
                true,
            ));
            s.push_str(&scatter(
                "Predicted against actual",
                &r.actual,
                &r.predicted,
                "actual",
                "predicted",
                false,
            ));
        }
        s.push_str("</div>");
        if let Some(c) = &e.confusion {
            s.push_str("<h2>Confusion matrix</h2>");
            s.push_str(&confusion_html(c));
        }
        if !self.importances.is_empty() {
            s.push_str("<h2>Feature importances</h2>");
            s.push_str(&bars("Feature importances", &self.importances));
        }
        s.push_str("<h2>Lineage</h2>");
        let rows: Vec<Vec<String>> = self
            .lineage
            .iter()
            .map(|(k, v)| {
                vec![
                    k.clone(),
                    match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                ]
            })
            .collect();
        s.push_str(&table_html(&["item", "value"], &rows));
        if !self.timings.is_empty() {
            let rows: Vec<Vec<String>> = self
                .timings
                .iter()
                .map(|(k, v)| vec![k.clone(), format!("{v:.3} s")])
                .collect();
            s.push_str("<h2>Timings</h2>");
            s.push_str(&table_html(&["stage", "seconds"], &rows));
        }
        s.push_str("</body></html>\n");
        s
    }
}

/// Feature importances of a fitted model, largest first (at most [`MAX_IMPORTANCES`]): the
/// normalised impurity decrease of tree models, the normalised absolute coefficients of linear
/// and logistic models (on the pipeline's scaled features).
pub fn importances(model: &mlship_train::FittedModel, names: &[String]) -> Vec<(String, f64)> {
    use mlship_train::FittedModel as F;
    let raw: Vec<f64> = match model {
        F::DecisionTree(m) | F::RandomForest(m) | F::ExtraTrees(m) | F::Gbdt(m) => {
            m.feature_importances()
        }
        F::Linear(m) => m.coef().iter().map(|c| c.abs()).collect(),
        F::Logistic(m) => {
            let c = m.coef();
            (0..c.ncols())
                .map(|j| c.column(j).iter().map(|v| v.abs()).sum::<f64>() / c.nrows() as f64)
                .collect()
        }
    };
    let total: f64 = raw.iter().filter(|v| v.is_finite()).sum();
    if raw.len() != names.len() || total <= 0.0 {
        return Vec::new();
    }
    let mut out: Vec<(String, f64)> = names
        .iter()
        .cloned()
        .zip(raw.iter().map(|v| v / total))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(MAX_IMPORTANCES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(task: &Task) -> Report {
        let (y, pred, proba) = if task.is_classification() {
            let y = vec![0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
            let p1 = [0.2, 0.8, 0.6, 0.4, 0.9, 0.1];
            let proba =
                Array2::from_shape_fn((6, 2), |(i, j)| if j == 1 { p1[i] } else { 1.0 - p1[i] });
            let pred = p1.iter().map(|&p| f64::from(u8::from(p >= 0.5))).collect();
            (y, pred, Some(proba))
        } else {
            (vec![1.0, 2.0, 3.0, 4.0], vec![1.1, 1.9, 3.2, 3.7], None)
        };
        Report {
            title: "t <&> \"x\"".into(),
            kind: "evaluate".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            data: "d.csv".into(),
            task: task.name().into(),
            classes: task.classes().to_vec(),
            rows: BTreeMap::from([("evaluated".to_owned(), y.len())]),
            selection: None,
            evaluation: Evaluation::compute(task, &y, &pred, proba.as_ref()),
            importances: vec![("a<b".into(), 0.7), ("c".into(), 0.3)],
            lineage: BTreeMap::from([("seed".to_owned(), serde_json::json!(0))]),
            timings: BTreeMap::new(),
        }
    }

    #[test]
    fn binary_reports_draw_every_curve_and_escape_text() {
        let task = Task::classification(["0", "1"]).unwrap();
        let r = sample(&task);
        assert!(r.evaluation.roc.is_some() && r.evaluation.pr.is_some());
        assert!(r.evaluation.calibration.is_some() && r.evaluation.confusion.is_some());
        assert_eq!(r.evaluation.metrics["accuracy"], 1.0);
        let html = r.to_html();
        assert_eq!(
            html.matches("<svg").count(),
            4,
            "three curves and importances"
        );
        assert!(html.contains("t &lt;&amp;&gt; &quot;x&quot;") && html.contains("a&lt;b"));
        assert!(
            !html.contains("http://")
                || html.matches("http://").count()
                    == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn regression_reports_plot_residuals() {
        let r = sample(&Task::Regression);
        let res = r.evaluation.residuals.as_ref().unwrap();
        assert!((res.residual[3] - 0.3).abs() < 1e-12);
        assert!(r.evaluation.confusion.is_none() && r.evaluation.roc.is_none());
        let html = r.to_html();
        assert!(html.contains("Residuals") && html.contains("<circle"));
        let json = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
