//! Histogram gradient boosting on `binary_200k.csv` of `cargo xtask datagen` (30 numeric
//! columns with NaN left in, the 3 categoricals as ordinal codes; the first 80 % of the rows
//! train, the rest test): 100 rounds, 31 leaves, learning rate 0.1, 255 bins, 2 threads; then
//! batch prediction of 1,000,000 rows (the test rows repeated).
//!
//! ```text
//! cargo run --release -p mlship-train --example gbdt_bench -- bench-data
//! /work/venv-peers/bin/python crates/mlship-train/examples/gbdt_bench.py bench-data
//! ```
//!
//! The folder argument defaults to `$MLSHIP_BENCH_DATA`, else `bench-data` at the workspace
//! root; `MLSHIP_BENCH_THREADS` (default 2) sets the threads and `MLSHIP_BENCH_REPEATS`
//! (default 3) how many fits are timed. Prints one JSON object on stdout:
//!
//! - `task`: `"gbdt"`; `rows`: training rows; `features`; `threads`;
//! - `fit_seconds`: the best wall time of the fits; `fit_cpu_seconds`: the CPU time (all
//!   threads) of that fit;
//! - `roc_auc`: on the test rows;
//! - `predict_rows`: 1,000,000; `predict_seconds`: best wall time of three `predict_proba`
//!   calls on them; `predict_cpu_seconds`: the CPU time of that call;
//! - `input_bytes`: the training matrix as `f64`; `peak_rss_growth_bytes`: growth of the peak
//!   resident size (`VmHWM`) during the first fit, `null` where it cannot be read.

mod common;

use std::time::Instant;

use mlship_core::traits::FitContext;
use mlship_train::ModelSpec;
use ndarray::{Array2, Axis, Slice};

const SPEC: &str =
    r#"{"kind":"gbdt","n_estimators":100,"num_leaves":31,"learning_rate":0.1,"max_bin":255}"#;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let threads = env_usize("MLSHIP_BENCH_THREADS", 2);
    let repeats = env_usize("MLSHIP_BENCH_REPEATS", 3).max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("the global thread pool");
    let (x, y, names) = common::read_binary(&common::data_dir());
    let n = x.nrows();
    let n_train = (n as f64 * common::TRAIN_FRACTION).round() as usize;
    let train = common::dataset(&x, &y, &names, 0..n_train);
    let test = common::dataset(&x, &y, &names, n_train..n);
    let spec = ModelSpec::from_json(SPEC).expect("a valid spec");
    let ctx = FitContext {
        threads,
        ..FitContext::seeded(7)
    };

    let mut best = (f64::INFINITY, 0.0);
    let mut peak = None;
    let mut model = None;
    for k in 0..repeats {
        let before = (k == 0 && common::reset_peak())
            .then(|| common::status_bytes("VmHWM"))
            .flatten();
        let (t, c) = (Instant::now(), common::cpu_time());
        let out = spec.fit(train.view(), &ctx).expect("the fit succeeds");
        let wall = t.elapsed().as_secs_f64();
        let cpu = c.zip(common::cpu_time()).map_or(0.0, |(a, b)| b - a);
        if k == 0 {
            peak = before
                .zip(common::status_bytes("VmHWM"))
                .map(|(a, b)| b.saturating_sub(a));
        }
        if wall < best.0 {
            best = (wall, cpu);
        }
        model = Some(out.model);
    }
    let model = model.expect("at least one fit");
    let m = model.as_model();
    let proba = m.predict_proba(test.x().view()).expect("probabilities");
    let test_y = test.y().expect("a target").to_vec();
    let auc = common::roc_auc(&proba.column(1).to_vec(), &test_y);

    let test_x = test.x();
    let reps = 1_000_000usize.div_ceil(test_x.nrows());
    let views: Vec<_> = (0..reps).map(|_| test_x.view()).collect();
    let big: Array2<f64> = ndarray::concatenate(Axis(0), &views).expect("equal widths");
    let big = big.slice_axis(Axis(0), Slice::from(..1_000_000)).to_owned();
    let mut predict = (f64::INFINITY, 0.0);
    for _ in 0..3 {
        let (t, c) = (Instant::now(), common::cpu_time());
        let p = m.predict_proba(big.view()).expect("probabilities");
        let wall = t.elapsed().as_secs_f64();
        if wall < predict.0 {
            predict = (wall, c.zip(common::cpu_time()).map_or(0.0, |(a, b)| b - a));
        }
        assert_eq!(p.nrows(), 1_000_000);
    }
    let json = serde_json::json!({
        "task": "gbdt",
        "rows": n_train,
        "features": x.ncols(),
        "threads": threads,
        "fit_seconds": best.0,
        "fit_cpu_seconds": best.1,
        "roc_auc": auc,
        "predict_rows": 1_000_000,
        "predict_seconds": predict.0,
        "predict_cpu_seconds": predict.1,
        "input_bytes": n_train * x.ncols() * 8,
        "peak_rss_growth_bytes": peak,
    });
    println!("{json}");
}
