//! LightGBM parity on the generated 200,000-row binary set: mlship's GBDT with LightGBM's
//! parameters reaches a test ROC AUC within 0.002 of LightGBM's (fixture from
//! `tests/fixtures/make_lightgbm_binary.py`).
//!
//! The rows are those of `binary_200k.csv` written by `cargo xtask datagen` (seed 20240601,
//! scale 1), regenerated here with the same seeded generator and the same draws in the same
//! order as `xtask/src/datagen.rs` (`make_classification` and `binary`), floats rounded to the
//! CSV's 6 decimals, categoricals as the ordinal codes the fixture script gives LightGBM.

use mlship_core::rng::{Rng, cumulative};
use mlship_core::traits::FitContext;
use mlship_core::{Dataset, FeatureInfo};
use mlship_train::ModelSpec;
use ndarray::{Array1, Array2};
use serde_json::Value;

use crate::binary as binary_task;

/// The seed of `binary_200k` (datagen's base seed plus its offset 0).
const SEED: u64 = 20_240_601;
const ROWS: usize = 200_000;

/// xtask's `make_classification` for the binary set: 32 columns (12 informative, 6
/// redundant, 14 noise), two clusters per class, weights 0.6 / 0.4, 3 % flipped labels,
/// class separation 0.8; rows shuffled, columns not.
fn make_classification(rng: &mut Rng, n: usize) -> (Vec<Vec<f64>>, Vec<i64>) {
    let (features, k_inf, redundant, classes, per_class) = (32, 12, 6, 2, 2);
    let weights = [0.6, 0.4];
    let clusters = classes * per_class;
    let mut counts: Vec<usize> = (0..clusters)
        .map(|k| (n as f64 * weights[k % classes] / per_class as f64) as usize)
        .collect();
    let mut i = 0;
    while counts.iter().sum::<usize>() < n {
        counts[i % clusters] += 1;
        i += 1;
    }
    let mut vertices: Vec<u64> = Vec::new();
    while vertices.len() < clusters {
        let v = rng.below(1u64 << k_inf);
        if !vertices.contains(&v) {
            vertices.push(v);
        }
    }
    let centroids: Vec<Vec<f64>> = vertices
        .iter()
        .map(|v| {
            (0..k_inf)
                .map(|j| if v >> j & 1 == 1 { 0.8 } else { -0.8 })
                .collect()
        })
        .collect();
    let mut uniform = |rows: usize, cols: usize| -> Vec<f64> {
        (0..rows * cols)
            .map(|_| rng.uniform_in(-1.0, 1.0))
            .collect()
    };
    let covariances: Vec<Vec<f64>> = (0..clusters).map(|_| uniform(k_inf, k_inf)).collect();
    let redundancy = uniform(k_inf, redundant);
    let mut columns = vec![vec![0.0; n]; features];
    let mut y = vec![0i64; n];
    let (mut z, mut x) = (vec![0.0; k_inf], vec![0.0; k_inf]);
    let mut row = 0;
    for (k, &count) in counts.iter().enumerate() {
        let a = &covariances[k];
        for _ in 0..count {
            for zi in &mut z {
                *zi = rng.normal();
            }
            for (j, xj) in x.iter_mut().enumerate() {
                *xj = centroids[k][j] + (0..k_inf).map(|i| z[i] * a[i * k_inf + j]).sum::<f64>();
                columns[j][row] = *xj;
            }
            for r in 0..redundant {
                columns[k_inf + r][row] = (0..k_inf)
                    .map(|i| x[i] * redundancy[i * redundant + r])
                    .sum();
            }
            for column in &mut columns[k_inf + redundant..] {
                column[row] = rng.normal();
            }
            y[row] = (k % classes) as i64;
            row += 1;
        }
    }
    for label in &mut y {
        if rng.bernoulli(0.03) {
            *label = rng.below(classes as u64) as i64;
        }
    }
    let order = rng.permutation(n);
    let columns = columns
        .iter()
        .map(|c| order.iter().map(|&i| c[i]).collect())
        .collect();
    let y = order.iter().map(|&i| y[i]).collect();
    (columns, y)
}

/// numpy's linear-interpolation quantiles: the `bins − 1` inner edges.
fn quantile_edges(values: &[f64], bins: usize) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let last = sorted.len() - 1;
    (1..bins)
        .map(|k| {
            let pos = k as f64 / bins as f64 * last as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(last);
            sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
        })
        .collect()
}

/// The rows of `binary_200k.csv` as read by the fixture script: `n × 33` (NaN missing) and
/// the 0/1 target.
fn binary_200k(n: usize, seed: u64) -> (Array2<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let (mut columns, y) = make_classification(&mut rng, n);
    let visible: Vec<Vec<f64>> = columns.drain(2..).collect();
    let order = rng.permutation(visible.len());
    let mut out: Vec<Vec<f64>> = Vec::new();
    for &c in order.iter().take(30) {
        let scale = rng.uniform_in(-1.5, 2.5).exp();
        let offset = rng.normal_with(0.0, 5.0);
        let mut values: Vec<f64> = visible[c].iter().map(|v| v * scale + offset).collect();
        for v in &mut values {
            if rng.bernoulli(0.02) {
                *v = f64::NAN;
            }
        }
        // The CSV's 6 decimals, read back as the nearest double.
        out.push(values.iter().map(|v| (v * 1e6).round() / 1e6).collect());
    }
    let p1 = cumulative(&[0.30, 0.25, 0.20, 0.15, 0.10]);
    let p0 = cumulative(&[0.10, 0.15, 0.20, 0.25, 0.30]);
    let mut color: Vec<f64> = y
        .iter()
        .map(|&t| rng.weighted(if t == 1 { &p1 } else { &p0 }) as f64)
        .collect();
    let mut binned = |hidden: &[f64], bins: usize, reassign: f64| -> Vec<f64> {
        let edges = quantile_edges(hidden, bins);
        hidden
            .iter()
            .map(|v| {
                let bin = edges.partition_point(|e| e < v) as u64;
                if rng.bernoulli(reassign) {
                    rng.below(bins as u64) as f64
                } else {
                    bin as f64
                }
            })
            .collect()
    };
    let mut region = binned(&columns[0], 12, 0.15);
    let mut segment = binned(&columns[1], 40, 0.35);
    for codes in [&mut color, &mut region, &mut segment] {
        for c in codes.iter_mut() {
            if rng.bernoulli(0.02) {
                *c = f64::NAN;
            }
        }
    }
    out.extend([color, region, segment]);
    let p = out.len();
    let x = Array2::from_shape_fn((n, p), |(i, j)| out[j][i]);
    (x, y.iter().map(|&t| t as f64).collect())
}

fn auc(p: &[f64], y: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += r * idx[i..=j].iter().filter(|&&k| y[k] == 1.0).count() as f64;
        i = j + 1;
    }
    let pos = y.iter().filter(|v| **v == 1.0).count() as f64;
    let neg = y.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn part(x: &Array2<f64>, y: &[f64], rows: std::ops::Range<usize>) -> Dataset {
    let features = (0..x.ncols())
        .map(|j| FeatureInfo::numeric(format!("c{j}")))
        .collect();
    let xs = Array2::from_shape_fn((rows.len(), x.ncols()), |(i, j)| x[[rows.start + i, j]]);
    Dataset::new(xs, features, binary_task())
        .unwrap()
        .with_target(Array1::from(y[rows].to_vec()))
        .unwrap()
}

#[test]
fn gbdt_roc_auc_is_within_0_002_of_lightgbm_on_the_200k_binary_set() {
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/lightgbm_binary.json")).unwrap();
    let want = fixture["roc_auc"].as_f64().unwrap();
    let tol = fixture["tolerance"].as_f64().unwrap();
    assert_eq!(fixture["rows"].as_u64(), Some(ROWS as u64));
    let (x, y) = binary_200k(ROWS, SEED);
    // The generator's class balance: 60 % zeros before the 3 % of redrawn labels.
    let ones = y.iter().sum::<f64>() / ROWS as f64;
    assert!((ones - 0.4).abs() < 0.01, "{ones}");
    let n_train = fixture["train_rows"].as_u64().unwrap() as usize;
    let (train, test) = (part(&x, &y, 0..n_train), part(&x, &y, n_train..ROWS));
    let params = &fixture["params"];
    let spec = format!(
        r#"{{"kind":"gbdt","n_estimators":{},"num_leaves":{},"learning_rate":{},"max_bin":{}}}"#,
        params["n_estimators"], params["num_leaves"], params["learning_rate"], params["max_bin"]
    );
    let ctx = FitContext {
        threads: 2,
        ..FitContext::seeded(0)
    };
    let m = ModelSpec::from_json(&spec)
        .unwrap()
        .fit(train.view(), &ctx)
        .unwrap()
        .model;
    let proba = m.as_model().predict_proba(test.x().view()).unwrap();
    let got = auc(&proba.column(1).to_vec(), &y[n_train..]);
    assert!(
        (got - want).abs() <= tol,
        "mlship ROC AUC {got:.6}, LightGBM {want:.6} (tolerance {tol})"
    );
}
