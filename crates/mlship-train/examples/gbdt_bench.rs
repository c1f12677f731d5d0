//! Histogram gradient boosting on a synthetic binary problem: 200,000 rows × 30 features drawn
//! with core's seeded generator, 100 rounds, 31 leaves, learning rate 0.1, 255 bins.
//!
//! Run with `cargo run --profile ci -p mlship-train --example gbdt_bench` (or `--release`);
//! prints the fit time and the training / holdout accuracy and AUC.

use std::time::Instant;

use mlship_core::rng::Rng;
use mlship_core::traits::{FitContext, Model};
use mlship_core::{Dataset, FeatureInfo, Task};
use mlship_train::ModelSpec;
use ndarray::{Array1, Array2};

fn make(n: usize, p: usize, seed: u64) -> Dataset {
    let mut r = Rng::new(seed);
    let x = Array2::from_shape_fn((n, p), |_| r.normal());
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|row| {
            let z = row[0] - 0.8 * row[1] + 0.6 * row[2] * row[3] + 0.5 * row[4].abs()
                - 0.4 * (row[5] > 0.5) as u8 as f64
                + 0.3 * row[6].sin() * 2.0
                + r.normal();
            f64::from(z > 0.3)
        })
        .collect();
    let features = (0..p)
        .map(|j| FeatureInfo::numeric(format!("x{j}")))
        .collect();
    Dataset::new(
        x,
        features,
        Task::classification(["0", "1"]).expect("two labels"),
    )
    .and_then(|d| d.with_target(y))
    .expect("a valid dataset")
}

/// Accuracy and the area under the ROC curve (by ranks; ties averaged).
fn scores(m: &dyn Model, d: &Dataset) -> (f64, f64) {
    let x = d.x();
    let proba = m.predict_proba(x.view()).expect("probabilities");
    let y = d.y().expect("a target");
    let p: Vec<f64> = proba.column(1).to_vec();
    let acc = p
        .iter()
        .zip(y.iter())
        .filter(|(p, y)| f64::from(**p > 0.5) == **y)
        .count() as f64
        / y.len() as f64;
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut ranks = vec![0.0; p.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = r;
        }
        i = j + 1;
    }
    let n_pos = y.iter().filter(|v| **v == 1.0).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    let rank_sum: f64 = ranks
        .iter()
        .zip(y.iter())
        .filter(|(_, y)| **y == 1.0)
        .map(|(r, _)| r)
        .sum();
    let auc = (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg);
    (acc, auc)
}

/// CPU seconds used by the whole process so far (all threads; `/proc/self/stat`, 100 ticks a
/// second), so that timings on a busy machine can be read beside the wall time.
fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let train = make(200_000, 30, 1);
    let holdout = make(50_000, 30, 2);
    let spec = ModelSpec::from_json(
        r#"{"kind":"gbdt","n_estimators":100,"num_leaves":31,"learning_rate":0.1,"max_bin":255}"#,
    )
    .expect("a valid spec");
    let threads = rayon::current_num_threads();
    let t = Instant::now();
    let c0 = cpu_time();
    let out = spec
        .fit(train.view(), &FitContext::seeded(7))
        .expect("the fit succeeds");
    let fit = t.elapsed();
    let cpu = c0.zip(cpu_time()).map(|(a, b)| b - a);
    let m = out.model.as_model();
    let (tr_acc, tr_auc) = scores(m, &train);
    let (ho_acc, ho_auc) = scores(m, &holdout);
    let t = Instant::now();
    let _ = m.predict_proba(holdout.x().view()).expect("probabilities");
    let pred = t.elapsed();
    println!("gbdt 200000 x 30, 100 rounds, 31 leaves, lr 0.1, 255 bins, {threads} threads");
    println!(
        "fit: {:.2} s wall, {} CPU; predict 50000 rows: {:.3} s",
        fit.as_secs_f64(),
        cpu.map_or_else(|| "unknown".into(), |c| format!("{c:.2} s")),
        pred.as_secs_f64()
    );
    println!("train: accuracy {tr_acc:.4}, AUC {tr_auc:.4}");
    println!("holdout: accuracy {ho_acc:.4}, AUC {ho_auc:.4}");
}
