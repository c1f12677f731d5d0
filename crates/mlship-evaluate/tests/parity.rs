//! Parity of `mlship_evaluate::metrics` with scikit-learn, on fixtures written by
//! `tests/fixtures/make_metrics.py` (see its docstring for the version and how to regenerate).

use mlship_evaluate::metrics::{
    self as m, ApAverage, AucAverage, Average, BinStrategy, KappaWeights, MultiClass, Normalize,
    ZeroDivision,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

/// What a metric computed: a number, a list, or the error it refused with.
enum Got {
    One(f64),
    Many(Vec<f64>),
    Err(String),
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(float).collect())
        .unwrap_or_default()
}

fn float(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn close(want: f64, got: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return want == got;
    }
    (want - got).abs() <= TOL + TOL * want.abs()
}

struct Case {
    yt: Vec<f64>,
    yp: Vec<f64>,
    w: Option<Vec<f64>>,
    n_classes: usize,
    score: Option<Vec<f64>>,
    proba: Option<Vec<f64>>,
}

fn zd(name: &str) -> ZeroDivision {
    match name {
        "warn" => ZeroDivision::Warn,
        "one" => ZeroDivision::One,
        "nan" => ZeroDivision::Nan,
        _ => panic!("unknown zero_division {name}"),
    }
}

fn avg(name: &str) -> Average {
    match name {
        "binary" => Average::Binary { pos_label: 1 },
        "micro" => Average::Micro,
        "macro" => Average::Macro,
        "weighted" => Average::Weighted,
        _ => panic!("unknown average {name}"),
    }
}

fn one(r: mlship_evaluate::Result<f64>) -> Got {
    r.map_or_else(|e| Got::Err(e.to_string()), Got::One)
}

#[allow(clippy::too_many_lines)]
fn compute(c: &Case, metric: &str) -> Got {
    let (yt, yp, w) = (&c.yt[..], &c.yp[..], c.w.as_deref());
    let score = || c.score.as_deref().unwrap_or_default();
    let proba = || c.proba.as_deref().unwrap_or_default();
    let parts: Vec<&str> = metric.split('_').collect();
    match parts.as_slice() {
        ["accuracy"] => one(m::accuracy_score(yt, yp, w, true)),
        ["accuracy", "count"] => one(m::accuracy_score(yt, yp, w, false)),
        ["balanced", "accuracy"] => one(m::balanced_accuracy_score(yt, yp, w, false)),
        ["balanced", "accuracy", "adjusted"] => one(m::balanced_accuracy_score(yt, yp, w, true)),
        ["precision", a, z] => one(m::precision_score(yt, yp, w, avg(a), zd(z))),
        ["recall", a, z] => one(m::recall_score(yt, yp, w, avg(a), zd(z))),
        ["f1", a, z] => one(m::f1_score(yt, yp, w, avg(a), zd(z))),
        [fb, a, z] if fb.starts_with("fbeta") => {
            let beta: f64 = fb["fbeta".len()..].parse().unwrap();
            one(m::fbeta_score(yt, yp, w, beta, avg(a), zd(z)))
        }
        ["confusion", "matrix", rest @ ..] => {
            let norm = match rest {
                [] => None,
                ["true"] => Some(Normalize::True),
                ["pred"] => Some(Normalize::Pred),
                ["all"] => Some(Normalize::All),
                _ => panic!("unknown normalize {metric}"),
            };
            m::confusion_matrix(yt, yp, w, c.n_classes, norm)
                .map_or_else(|e| Got::Err(e.to_string()), |cm| Got::Many(cm.values))
        }
        ["mcc"] => one(m::matthews_corrcoef(yt, yp, w)),
        ["kappa", k] => {
            let k = match *k {
                "none" => KappaWeights::None,
                "linear" => KappaWeights::Linear,
                "quadratic" => KappaWeights::Quadratic,
                _ => panic!("unknown kappa weights {k}"),
            };
            one(m::cohen_kappa_score(yt, yp, w, k))
        }
        ["log", "loss"] => one(m::log_loss(yt, proba(), c.n_classes, w, true)),
        ["log", "loss", "sum"] => one(m::log_loss(yt, proba(), c.n_classes, w, false)),
        ["roc", "auc"] => one(m::roc_auc_score(yt, score(), w)),
        ["roc", "auc", mc, a] => {
            let mc = if *mc == "ovr" {
                MultiClass::Ovr
            } else {
                MultiClass::Ovo
            };
            let a = match *a {
                "micro" => AucAverage::Micro,
                "macro" => AucAverage::Macro,
                _ => AucAverage::Weighted,
            };
            one(m::roc_auc_score_multiclass(
                yt,
                proba(),
                c.n_classes,
                w,
                mc,
                a,
            ))
        }
        ["roc", "curve", drop] => m::roc_curve(yt, score(), w, *drop == "drop").map_or_else(
            |e| Got::Err(e.to_string()),
            |r| Got::Many([r.fpr, r.tpr, r.thresholds].concat()),
        ),
        ["pr", "curve"] => m::precision_recall_curve(yt, score(), w).map_or_else(
            |e| Got::Err(e.to_string()),
            |r| Got::Many([r.precision, r.recall, r.thresholds].concat()),
        ),
        ["calibration", strategy, bins] => {
            let strategy = if *strategy == "uniform" {
                BinStrategy::Uniform
            } else {
                BinStrategy::Quantile
            };
            m::calibration_curve(yt, score(), bins.parse().unwrap(), strategy).map_or_else(
                |e| Got::Err(e.to_string()),
                |r| Got::Many([r.prob_true, r.prob_pred].concat()),
            )
        }
        ["top", "k", k] => one(m::top_k_accuracy_score(
            yt,
            proba(),
            c.n_classes,
            k.parse().unwrap(),
            w,
            true,
        )),
        ["top", "k", k, "count"] => one(m::top_k_accuracy_score(
            yt,
            proba(),
            c.n_classes,
            k.parse().unwrap(),
            w,
            false,
        )),
        ["classification", "report"] => m::classification_report(yt, yp, w, ZeroDivision::Warn)
            .map_or_else(
                |e| Got::Err(e.to_string()),
                |r| {
                    let mut flat = Vec::new();
                    for (label, row) in &r.classes {
                        flat.extend([
                            *label as f64,
                            row.precision,
                            row.recall,
                            row.f1_score,
                            row.support,
                        ]);
                    }
                    flat.push(r.accuracy);
                    for row in [&r.macro_avg, &r.weighted_avg] {
                        flat.extend([row.precision, row.recall, row.f1_score, row.support]);
                    }
                    Got::Many(flat)
                },
            ),
        ["average", "precision"] => one(m::average_precision_score(yt, score(), w)),
        ["ap", a] => {
            let a = match *a {
                "micro" => ApAverage::Micro,
                "macro" => ApAverage::Macro,
                _ => ApAverage::Weighted,
            };
            one(m::average_precision_score_multiclass(
                yt,
                proba(),
                c.n_classes,
                w,
                a,
            ))
        }
        ["brier"] => one(m::brier_score_loss(yt, score(), w)),
        ["mse"] => one(m::mean_squared_error(yt, yp, w)),
        ["rmse"] => one(m::root_mean_squared_error(yt, yp, w)),
        ["mae"] => one(m::mean_absolute_error(yt, yp, w)),
        ["median", "ae"] => one(m::median_absolute_error(yt, yp, w)),
        ["r2"] => one(m::r2_score(yt, yp, w)),
        ["explained", "variance"] => one(m::explained_variance_score(yt, yp, w)),
        ["mape"] => one(m::mean_absolute_percentage_error(yt, yp, w)),
        ["max", "error"] => one(m::max_error(yt, yp)),
        ["poisson"] => one(m::mean_poisson_deviance(yt, yp, w)),
        ["tweedie", p] => one(m::mean_tweedie_deviance(yt, yp, w, p.parse().unwrap())),
        _ => panic!("no implementation mapped for metric {metric}"),
    }
}

fn check_values(case: &str, metric: &str, want: &[f64], got: &[f64], failures: &mut Vec<String>) {
    if want.len() != got.len() {
        failures.push(format!(
            "{case} / {metric}: expected {} values, got {}",
            want.len(),
            got.len()
        ));
        return;
    }
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        if !close(*w, *g) {
            failures.push(format!(
                "{case} / {metric}[{i}]: sklearn {w:?}, mlship {g:?}"
            ));
        }
    }
}

#[test]
fn metrics_match_scikit_learn() {
    let text = include_str!("fixtures/metrics.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "too few cases: {}", cases.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for raw in cases {
        let name = raw["name"].as_str().unwrap();
        let opt = |k: &str| (!raw[k].is_null()).then(|| floats(&raw[k]));
        let case = Case {
            yt: floats(&raw["y_true"]),
            yp: floats(&raw["y_pred"]),
            w: opt("sample_weight"),
            n_classes: raw["n_classes"].as_u64().unwrap_or(0) as usize,
            score: opt("y_score"),
            proba: opt("y_proba"),
        };
        for (metric, want) in raw["expected"].as_object().unwrap() {
            checked += 1;
            if metric == "prfs_none_warn" {
                match m::precision_recall_fscore_support(
                    &case.yt,
                    &case.yp,
                    case.w.as_deref(),
                    1.0,
                    ZeroDivision::Warn,
                ) {
                    Ok(s) => {
                        let labels: Vec<f64> = s.labels.iter().map(|&l| l as f64).collect();
                        check_values(
                            name,
                            "labels",
                            &floats(&want["labels"]),
                            &labels,
                            &mut failures,
                        );
                        for (k, got) in [
                            ("precision", &s.precision),
                            ("recall", &s.recall),
                            ("fscore", &s.fscore),
                            ("support", &s.support),
                        ] {
                            check_values(name, k, &floats(&want[k]), got, &mut failures);
                        }
                    }
                    Err(e) => failures.push(format!("{name} / {metric}: error {e}")),
                }
                continue;
            }
            match (want, compute(&case, metric)) {
                (Value::String(s), Got::Err(_)) if s == "error" => {}
                (Value::String(s), Got::One(g)) if s == "error" => {
                    failures.push(format!(
                        "{name} / {metric}: sklearn refused, mlship gave {g:?}"
                    ));
                }
                (_, Got::Err(e)) => failures.push(format!("{name} / {metric}: error {e}")),
                (Value::Array(_), Got::Many(g)) => {
                    check_values(name, metric, &floats(want), &g, &mut failures);
                }
                (_, Got::One(g)) => check_values(name, metric, &[float(want)], &[g], &mut failures),
                (_, Got::Many(_)) => failures.push(format!("{name} / {metric}: shape mismatch")),
            }
        }
    }
    assert!(checked > 500, "too few metrics checked: {checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} metric values differ from scikit-learn:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
