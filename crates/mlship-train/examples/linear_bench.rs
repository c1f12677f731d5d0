//! Times L-BFGS logistic regression (C = 1) on 200,000 × 30 binary data, and ridge and the
//! lasso (alpha = 0.1, tol = 1e-4) on 200,000 × 20 regression data, single-threaded; prints
//! timings and final losses. `linear_bench.py` does the same with scikit-learn on the same data.
//!
//! ```text
//! cargo run --profile ci -p mlship-train --example linear_bench -- /tmp/linear-bench
//! OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
//!     python crates/mlship-train/examples/linear_bench.py /tmp/linear-bench
//! ```
//!
//! With a folder argument, the data is written there as `binary.csv` and `regression.csv`
//! (features, then the target) for the Python counterpart.

use std::io::Write;
use std::time::Instant;

use mlship_core::rng::Rng;
use mlship_core::traits::{FitContext, Model};
use mlship_core::{Dataset, FeatureInfo, Task};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::{Array1, Array2};

/// This thread's CPU time in seconds (`/proc/thread-self/schedstat`), so that timings on a
/// busy machine count only the time this thread ran; `None` where the file is missing.
fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// Runs `f` five times; the best wall-clock and CPU times in seconds, and the last result.
fn time<T>(mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    let mut last = None;
    for _ in 0..5 {
        let (t, c) = (Instant::now(), cpu_time());
        let out = f();
        wall = wall.min(t.elapsed().as_secs_f64());
        if let (Some(c0), Some(c1)) = (c, cpu_time()) {
            cpu = cpu.min(c1 - c0);
        }
        last = Some(out);
    }
    match last {
        Some(out) => (wall, cpu, out),
        None => unreachable!("five runs"),
    }
}

fn write_csv(path: &std::path::Path, x: &Array2<f64>, y: &Array1<f64>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let p = x.ncols();
    let header: Vec<String> = (0..p)
        .map(|j| format!("x{j}"))
        .chain(["y".into()])
        .collect();
    writeln!(f, "{}", header.join(","))?;
    for (row, t) in x.rows().into_iter().zip(y) {
        for v in row {
            write!(f, "{v:?},")?;
        }
        writeln!(f, "{t:?}")?;
    }
    f.flush()
}

fn data(seed: u64, n: usize, p: usize, binary: bool) -> (Array2<f64>, Array1<f64>) {
    let mut rng = Rng::new(seed);
    let beta: Vec<f64> = (0..p)
        .map(|j| if j % 3 == 0 { 0.0 } else { rng.normal() * 0.5 })
        .collect();
    let x = Array2::from_shape_fn((n, p), |_| rng.normal());
    let y = x
        .rows()
        .into_iter()
        .map(|r| {
            let z: f64 = r.iter().zip(&beta).map(|(a, b)| a * b).sum();
            if binary {
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (-z).exp()))))
            } else {
                z + rng.normal()
            }
        })
        .collect();
    (x, y)
}

fn dataset(x: Array2<f64>, y: Array1<f64>, task: Task) -> Dataset {
    let features = (0..x.ncols())
        .map(|j| FeatureInfo::numeric(format!("x{j}")))
        .collect();
    Dataset::new(x, features, task)
        .and_then(|d| d.with_target(y))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .filter(|s| !s.is_empty())
        .map(std::path::PathBuf::from);
    // An optional second argument runs only the fits whose name contains it.
    let only = std::env::args().nth(2).unwrap_or_default();
    let (xb, yb) = data(42, 200_000, 30, true);
    let (xr, yr) = data(43, 200_000, 20, false);
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        write_csv(&dir.join("binary.csv"), &xb, &yb).unwrap_or_else(|e| panic!("{e}"));
        write_csv(&dir.join("regression.csv"), &xr, &yr).unwrap_or_else(|e| panic!("{e}"));
    }
    let binary = dataset(
        xb,
        yb,
        Task::classification(["0", "1"]).unwrap_or_else(|e| panic!("{e}")),
    );
    let regression = dataset(xr, yr, Task::Regression);
    let ctx = FitContext::default();
    let runs: [(&str, &str, &Dataset); 3] = [
        (
            "logistic lbfgs C=1",
            r#"{"kind":"logistic","C":1.0}"#,
            &binary,
        ),
        (
            "ridge alpha=1",
            r#"{"kind":"ridge","alpha":1.0}"#,
            &regression,
        ),
        (
            "lasso alpha=0.1",
            r#"{"kind":"lasso","alpha":0.1,"tol":1e-4}"#,
            &regression,
        ),
    ];
    for (name, text, d) in runs {
        if !name.contains(&only) {
            continue;
        }
        let spec = ModelSpec::from_json(text).unwrap_or_else(|e| panic!("{e}"));
        let (wall, cpu, fit) = time(|| spec.fit(d.view(), &ctx).unwrap_or_else(|e| panic!("{e}")));
        let loss = match &fit.model {
            FittedModel::Logistic(m) => {
                let proba = m
                    .predict_proba(d.x().view())
                    .unwrap_or_else(|e| panic!("{e}"));
                let y = d.y().unwrap_or_else(|| panic!("target"));
                proba
                    .rows()
                    .into_iter()
                    .zip(y)
                    .map(|(r, &c)| -r[c as usize].max(1e-300).ln())
                    .sum::<f64>()
                    / y.len() as f64
            }
            FittedModel::Linear(m) => {
                let pred = m.predict(d.x().view()).unwrap_or_else(|e| panic!("{e}"));
                let y = d.y().unwrap_or_else(|| panic!("target"));
                pred.iter()
                    .zip(y)
                    .map(|(p, t)| (p - t) * (p - t))
                    .sum::<f64>()
                    / y.len() as f64
            }
            // This benchmark runs linear and logistic specifications only.
            _ => f64::NAN,
        };
        println!(
            "{name:<20} wall {:>7.1} ms  cpu {:>7.1} ms  loss {loss:.8}  objective {:.10}  iterations {} evaluations {}",
            wall * 1e3,
            cpu * 1e3,
            fit.report.objective.unwrap_or(f64::NAN),
            fit.report.iterations,
            fit.report.evaluations
        );
    }
    // Batch prediction throughput on 1,000,000 rows × 30 features.
    let (xp, _) = data(44, 1_000_000, 30, false);
    let model = match ModelSpec::from_json(r#"{"kind":"logistic"}"#)
        .and_then(|s| s.fit(binary.view(), &ctx))
    {
        Ok(f) => f.model,
        Err(e) => panic!("{e}"),
    };
    let (wall, cpu, p) = time(|| {
        model
            .as_model()
            .predict(xp.view())
            .unwrap_or_else(|e| panic!("{e}"))
    });
    std::hint::black_box(p);
    println!(
        "predict 1e6 x 30     wall {:>7.1} ms  cpu {:>7.1} ms  {:.2e} multiply-adds/s (cpu)",
        wall * 1e3,
        cpu * 1e3,
        3e7 / cpu
    );
}
