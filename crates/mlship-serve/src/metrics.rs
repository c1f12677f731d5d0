//! Counters and histograms behind `GET /metrics`, in Prometheus' text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    total: u64,
    sum: f64,
}

/// The server's metrics. Updates take a short lock or an atomic add.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    rows: Mutex<BTreeMap<String, u64>>,
    /// Requests answered 503 because the server was at its concurrency limit.
    pub shed: AtomicU64,
    /// Requests being handled.
    pub in_flight: AtomicU64,
}

/// Per-model figures the server adds when it renders metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFigures {
    /// The served name.
    pub name: String,
    /// The version being served, if loaded.
    pub version: Option<String>,
    /// Whether it is ready.
    pub ready: bool,
    /// Successful reloads since start.
    pub reloads: u64,
    /// Failed loads since start.
    pub reload_failures: u64,
}

/// Prediction-log figures the server adds when it renders metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFigures {
    /// Records written.
    pub written: u64,
    /// Records dropped (queue full, disk full, unwritable name).
    pub dropped: u64,
    /// Files removed by retention.
    pub removed_files: u64,
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Counts a finished request on `route` (the route's pattern, not the raw path).
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_owned(), status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_owned()).or_default();
            for (i, &b) in LATENCY_BUCKETS.iter().enumerate() {
                if secs <= b {
                    h.counts[i] += 1;
                }
            }
            h.total += 1;
            h.sum += secs;
        }
    }

    /// Counts rows predicted by `model`.
    pub fn add_rows(&self, model: &str, rows: usize) {
        if let Ok(mut m) = self.rows.lock() {
            *m.entry(model.to_owned()).or_default() += rows as u64;
        }
    }

    /// The metrics in Prometheus' text exposition format.
    #[allow(clippy::too_many_lines)] // one block per metric family, in exposition order
    pub fn render(&self, models: &[ModelFigures], log: Option<LogFigures>) -> String {
        let mut out = String::new();
        out.push_str("# HELP mlship_requests_total HTTP requests by route and status.\n# TYPE mlship_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "mlship_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP mlship_request_duration_seconds Time from request to response.\n# TYPE mlship_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let route = escape(route);
                for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "mlship_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "mlship_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    out,
                    "mlship_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "mlship_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.total
                );
            }
        }
        out.push_str("# HELP mlship_rows_predicted_total Rows predicted, by model.\n# TYPE mlship_rows_predicted_total counter\n");
        if let Ok(m) = self.rows.lock() {
            for (model, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "mlship_rows_predicted_total{{model=\"{}\"}} {n}",
                    escape(model)
                );
            }
        }
        out.push_str("# HELP mlship_model_info The version each model serves (value 1).\n# TYPE mlship_model_info gauge\n");
        for f in models {
            if let Some(v) = &f.version {
                let _ = writeln!(
                    out,
                    "mlship_model_info{{model=\"{}\",version=\"{}\"}} 1",
                    escape(&f.name),
                    escape(v)
                );
            }
        }
        out.push_str("# HELP mlship_model_ready Whether each model is ready (1) or not (0).\n# TYPE mlship_model_ready gauge\n");
        for f in models {
            let _ = writeln!(
                out,
                "mlship_model_ready{{model=\"{}\"}} {}",
                escape(&f.name),
                u8::from(f.ready)
            );
        }
        out.push_str("# HELP mlship_model_reloads_total Model loads after start, by outcome.\n# TYPE mlship_model_reloads_total counter\n");
        for f in models {
            let name = escape(&f.name);
            let _ = writeln!(
                out,
                "mlship_model_reloads_total{{model=\"{name}\",outcome=\"success\"}} {}",
                f.reloads
            );
            let _ = writeln!(
                out,
                "mlship_model_reloads_total{{model=\"{name}\",outcome=\"failure\"}} {}",
                f.reload_failures
            );
        }
        out.push_str("# HELP mlship_requests_shed_total Requests refused with 503 at the concurrency limit.\n# TYPE mlship_requests_shed_total counter\n");
        let _ = writeln!(
            out,
            "mlship_requests_shed_total {}",
            self.shed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP mlship_requests_in_flight Requests being handled.\n# TYPE mlship_requests_in_flight gauge\n");
        let _ = writeln!(
            out,
            "mlship_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        if let Some(l) = log {
            out.push_str("# HELP mlship_prediction_log_records_total Prediction records written to the log.\n# TYPE mlship_prediction_log_records_total counter\n");
            let _ = writeln!(out, "mlship_prediction_log_records_total {}", l.written);
            out.push_str("# HELP mlship_prediction_log_dropped_total Prediction records dropped (writer behind, disk full).\n# TYPE mlship_prediction_log_dropped_total counter\n");
            let _ = writeln!(out, "mlship_prediction_log_dropped_total {}", l.dropped);
            out.push_str("# HELP mlship_prediction_log_removed_files_total Log files removed by retention.\n# TYPE mlship_prediction_log_removed_files_total counter\n");
            let _ = writeln!(
                out,
                "mlship_prediction_log_removed_files_total {}",
                l.removed_files
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("/invocations", 200, Duration::from_micros(300));
        m.observe("/invocations", 200, Duration::from_millis(30));
        m.observe("/invocations", 400, Duration::from_millis(2));
        m.add_rows("churn", 5);
        let text = m.render(
            &[ModelFigures {
                name: "churn".into(),
                version: Some("3".into()),
                ready: true,
                reloads: 1,
                reload_failures: 0,
            }],
            Some(LogFigures {
                written: 5,
                dropped: 2,
                removed_files: 0,
            }),
        );
        assert!(
            text.contains("mlship_requests_total{route=\"/invocations\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "mlship_request_duration_seconds_bucket{route=\"/invocations\",le=\"0.0005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "mlship_request_duration_seconds_bucket{route=\"/invocations\",le=\"0.05\"} 3"
            ),
            "{text}"
        );
        assert!(
            text.contains("mlship_request_duration_seconds_count{route=\"/invocations\"} 3"),
            "{text}"
        );
        assert!(text.contains("mlship_rows_predicted_total{model=\"churn\"} 5"));
        assert!(text.contains("mlship_model_info{model=\"churn\",version=\"3\"} 1"));
        assert!(text.contains("mlship_prediction_log_dropped_total 2"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
