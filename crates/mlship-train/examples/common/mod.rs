//! Shared by the tree benchmarks: reading `binary_200k.csv` of `cargo xtask datagen`, the
//! area under the ROC curve, and CPU and peak-memory readings from `/proc`.

#![allow(dead_code)] // each example uses a part

use std::path::{Path, PathBuf};

use mlship_core::{Dataset, FeatureInfo, Task};
use ndarray::{Array1, Array2, Axis, Slice};

/// Rows of `binary_200k.csv` at scale 1, and the training share taken from the top.
pub const TRAIN_FRACTION: f64 = 0.8;

/// The folder of the generated files: the first argument, else `$MLSHIP_BENCH_DATA`, else
/// `bench-data` at the workspace root.
pub fn data_dir() -> PathBuf {
    std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("MLSHIP_BENCH_DATA").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench-data"))
}

/// The levels of `cat_color` in the generator's order (its codes).
const COLORS: [&str; 5] = ["red", "green", "blue", "yellow", "purple"];

/// A categorical field as its ordinal code, as the peers get it: `cat_color` by the
/// generator's level order, `region_NN` and `seg_NN` by their number; empty is missing.
fn code(field: &str) -> f64 {
    if field.is_empty() {
        return f64::NAN;
    }
    if let Some(k) = COLORS.iter().position(|c| *c == field) {
        return k as f64;
    }
    field
        .rsplit('_')
        .next()
        .and_then(|d| d.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// `binary_200k.csv` as a dense matrix: 30 numeric columns (NaN where missing) and the three
/// categoricals as ordinal codes, all numeric features, and the 0/1 target.
pub fn read_binary(dir: &Path) -> (Array2<f64>, Array1<f64>, Vec<String>) {
    let path = dir.join("binary_200k.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}\nhint: run `cargo xtask datagen --only binary` or pass the folder",
            path.display()
        )
    });
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    let p = header.len() - 1;
    assert_eq!(
        header[p],
        "target",
        "the last column of {} is the target",
        path.display()
    );
    let mut values = Vec::with_capacity(200_000 * p);
    let mut y = Vec::with_capacity(200_000);
    for line in lines.filter(|l| !l.is_empty()) {
        let mut k = 0;
        for field in line.split(',') {
            if k == p {
                y.push(field.parse::<f64>().expect("a 0/1 target"));
            } else if header[k].starts_with("cat_") {
                values.push(code(field));
            } else if field.is_empty() {
                values.push(f64::NAN);
            } else {
                values.push(field.parse::<f64>().expect("a number"));
            }
            k += 1;
        }
        assert_eq!(k, p + 1, "a row of {} has {k} fields", path.display());
    }
    let n = y.len();
    let x = Array2::from_shape_vec((n, p), values).expect("n × p values");
    (x, Array1::from(y), header[..p].to_vec())
}

/// A binary dataset of `x` rows `range` (all features numeric).
pub fn dataset(
    x: &Array2<f64>,
    y: &Array1<f64>,
    names: &[String],
    rows: std::ops::Range<usize>,
) -> Dataset {
    let features = names.iter().map(FeatureInfo::numeric).collect();
    Dataset::new(
        x.slice_axis(Axis(0), Slice::from(rows.clone())).to_owned(),
        features,
        Task::classification(["0", "1"]).expect("two labels"),
    )
    .and_then(|d| d.with_target(y.slice_axis(Axis(0), Slice::from(rows)).to_owned()))
    .expect("a valid dataset")
}

/// The area under the ROC curve of scores `p` for 0/1 labels `y` (by ranks; ties averaged).
pub fn roc_auc(p: &[f64], y: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += r * idx[i..=j].iter().filter(|&&k| y[k] == 1.0).count() as f64;
        i = j + 1;
    }
    let n_pos = y.iter().filter(|v| **v == 1.0).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// CPU seconds used by the whole process so far (all threads; `/proc/self/stat`, 100 ticks a
/// second), so that timings on a busy machine can be read beside the wall time.
pub fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// A `kB` field of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`).
pub fn status_bytes(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident size (`VmHWM`) to the current one, where the kernel allows it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
