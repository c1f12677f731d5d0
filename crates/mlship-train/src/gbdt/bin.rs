//! Quantile binning: each feature is mapped once to at most `max_bin` bins stored as `u8`
//! codes, column-major; missing values get their own bin ([`MISSING`]); a categorical feature
//! keeps one bin per level.

use mlship_core::FeatureKind;

use crate::error::{Result, TrainError};
use crate::tree::TreeData;

/// The bin code of a missing value.
pub const MISSING: u8 = 255;
/// Bins per feature in a histogram (codes `0..=254` plus [`MISSING`]).
pub const HIST_BINS: usize = 256;

/// How one feature is binned.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBins {
    /// Numeric: upper bounds; value `v` falls in the first bin `b` with `v <= edges[b]`, or in
    /// the last bin (`edges.len()`).
    pub edges: Vec<f64>,
    /// Categorical: the number of levels (one bin per level); `None` for numeric features.
    pub levels: Option<u32>,
}

impl FeatureBins {
    /// Number of non-missing bins.
    pub fn n_bins(&self) -> usize {
        match self.levels {
            Some(k) => k as usize,
            None => self.edges.len() + 1,
        }
    }

    /// The threshold of a numeric split that sends bins `0..=b` left.
    pub fn threshold(&self, b: usize) -> f64 {
        self.edges.get(b).copied().unwrap_or(f64::MAX)
    }
}

/// The binned training matrix.
#[derive(Debug, Clone)]
pub struct Binned {
    /// Codes, column-major: feature `j` of row `i` is `codes[j * n + i]`.
    pub codes: Vec<u8>,
    /// Per-feature binning.
    pub bins: Vec<FeatureBins>,
}

/// Fits the bins of every feature of `d` and codes its rows.
pub fn bin_data(d: &TreeData, names: &[String], max_bin: usize) -> Result<Binned> {
    let mut bins = Vec::with_capacity(d.p);
    let mut codes = vec![0u8; d.n * d.p];
    for j in 0..d.p {
        let col = d.col(j);
        let out = &mut codes[j * d.n..(j + 1) * d.n];
        match d.kinds[j] {
            FeatureKind::Categorical { n_levels } => {
                if n_levels as usize > max_bin {
                    return Err(TrainError::data(format!(
                        "feature {:?} has {n_levels} categories, more than max_bin = {max_bin}\nhint: group rare levels, encode the feature numerically, or raise max_bin (at most 255)",
                        names[j]
                    )));
                }
                for (i, (&v, o)) in col.iter().zip(out.iter_mut()).enumerate() {
                    if v.is_nan() {
                        *o = MISSING;
                    } else if v < 0.0 || v.fract() != 0.0 || v >= f64::from(n_levels) {
                        return Err(TrainError::data(format!(
                            "feature {:?} row {i}: {v} is not a category code in 0..{n_levels}",
                            names[j]
                        )));
                    } else {
                        *o = v as u8;
                    }
                }
                bins.push(FeatureBins {
                    edges: Vec::new(),
                    levels: Some(n_levels),
                });
            }
            FeatureKind::Numeric => {
                let edges = numeric_edges(col, max_bin);
                for (&v, o) in col.iter().zip(out.iter_mut()) {
                    *o = if v.is_nan() {
                        MISSING
                    } else {
                        edges.partition_point(|&t| t < v) as u8
                    };
                }
                bins.push(FeatureBins {
                    edges,
                    levels: None,
                });
            }
        }
    }
    Ok(Binned { codes, bins })
}

/// Bin upper bounds: midpoints between distinct values when there are at most `max_bin` of
/// them, otherwise values at evenly spaced quantiles (at most `max_bin − 1` edges).
fn numeric_edges(col: &[f64], max_bin: usize) -> Vec<f64> {
    let mut v: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_unstable_by(f64::total_cmp);
    let mut distinct = v.clone();
    distinct.dedup();
    if distinct.len() <= max_bin {
        return distinct
            .windows(2)
            .map(|w| {
                let m = f64::midpoint(w[0], w[1]);
                if m >= w[1] { w[0] } else { m }
            })
            .collect();
    }
    let n = v.len();
    let max = v[n - 1];
    let mut edges: Vec<f64> = (1..max_bin)
        .map(|k| v[(k * n / max_bin).min(n - 1)])
        .filter(|&e| e < max)
        .collect();
    edges.dedup();
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_values_get_midpoints_and_many_get_quantiles() {
        assert_eq!(
            numeric_edges(&[3.0, 1.0, 1.0, 2.0, f64::NAN], 255),
            vec![1.5, 2.5]
        );
        let col: Vec<f64> = (0..1000).map(f64::from).collect();
        let e = numeric_edges(&col, 10);
        assert_eq!(e.len(), 9);
        assert_eq!(e[0], 100.0);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        assert!(numeric_edges(&[f64::NAN], 4).is_empty());
    }
}
