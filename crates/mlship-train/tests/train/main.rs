//! Integration tests of mlship-train: scikit-learn parity, properties and bad input.

mod bad_input;
mod parity;
mod properties;

use mlship_core::{Dataset, FeatureInfo, Task};
use ndarray::{Array1, Array2};

/// A dataset from row-major values.
pub fn dataset(x: Vec<Vec<f64>>, y: Vec<f64>, task: Task, w: Option<Vec<f64>>) -> Dataset {
    let n = x.len();
    let p = x.first().map_or(0, Vec::len);
    let flat: Vec<f64> = x.into_iter().flatten().collect();
    let x = Array2::from_shape_vec((n, p), flat).unwrap();
    let features = (0..p)
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
