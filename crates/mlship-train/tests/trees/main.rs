//! Integration tests of the tree models: CART, forests and histogram gradient boosting
//! (properties, scikit-learn parity, bad input).

mod bad_input;
mod cart;
mod forest;
mod gbdt;
mod golden;
mod lightgbm;
mod parity;

use mlship_core::rng::Rng;
use mlship_core::{Dataset, FeatureInfo, Task};
use ndarray::{Array1, Array2};

/// A dataset from a row-major matrix.
pub fn dataset(x: Array2<f64>, y: Vec<f64>, task: Task, w: Option<Vec<f64>>) -> Dataset {
    let features = (0..x.ncols())
        .map(|j| FeatureInfo::numeric(format!("f{j}")))
        .collect();
    let d = Dataset::new(x, features, task)
        .unwrap()
        .with_target(Array1::from(y))
        .unwrap();
    match w {
        Some(w) => d.with_weights(Array1::from(w)).unwrap(),
        None => d,
    }
}

/// A binary task with labels "0" and "1".
pub fn binary() -> Task {
    Task::classification(["0", "1"]).unwrap()
}

/// `n` rows of `p` standard normal features and a noisy nonlinear target: a class
/// (`classes > 0`) or a value.
pub fn synthetic(n: usize, p: usize, classes: usize, seed: u64) -> Dataset {
    let mut r = Rng::new(seed);
    let x = Array2::from_shape_fn((n, p), |_| r.normal());
    let y: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|row| {
            let s = row[0] + 0.5 * row[1 % p] * row[1 % p] - 0.7 * row[2 % p] + 0.3 * r.normal();
            if classes == 0 {
                s
            } else {
                let t = ((s + 2.0) / 4.0 * classes as f64).floor();
                t.clamp(0.0, (classes - 1) as f64)
            }
        })
        .collect();
    let task = match classes {
        0 => Task::Regression,
        k => Task::classification((0..k).map(|c| c.to_string())).unwrap(),
    };
    dataset(x, y, task, None)
}
