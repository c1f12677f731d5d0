//! A row-level anomaly score: an isolation forest (Liu, Ting and Zhou, 2008) fitted on the
//! reference profile's reservoir sample.
//!
//! Each tree is grown on a subsample of `ψ = min(sample_size, n)` reservoir rows drawn without
//! replacement: a node picks one of the features that are not constant on its rows uniformly
//! at random and splits at a value drawn uniformly between their minimum and maximum, until a
//! node holds one row (or only identical rows) or reaches the height limit `⌈log₂ ψ⌉`. A row's
//! path length in a tree is the depth of the leaf it reaches plus `c(size)` for the rows left
//! unseparated there, where
//!
//! `c(n) = 2·H(n − 1) − 2(n − 1)/n`, `H(i) = ln i + 0.5772156649` (Euler's constant), `c(2) = 1`,
//! `c(n ≤ 1) = 0`
//!
//! is the average path length of an unsuccessful search in a binary search tree of `n` keys.
//! The score is `s = 2^(−E[h] / c(ψ))`: near 1 for rows isolated quickly, at most about 0.5 for
//! ordinary rows. Everything is seeded: the same profile, configuration and seed give the same
//! scores.
//!
//! Raw columns become features as follows: numeric and datetime values as they are (missing →
//! the reference median), booleans as 0 / 1 (missing → 0.5), categorical levels as their share
//! in the reference (unseen or missing → 0, so rare and new levels stand out).
//!
//! A row is flagged when its score exceeds the threshold: the `1 − contamination` quantile of
//! the reference sample's own scores (default contamination 0.01), so on data like the
//! reference about 1 % of rows are flagged.

use std::collections::BTreeMap;

use mlship_core::batch::{RawBatch, RawColumn, RawValue};
use mlship_core::profile::ReferenceProfile;
use mlship_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{MonitorError, Result};

/// Euler's constant, as in the paper's harmonic-number approximation.
const EULER_GAMMA: f64 = 0.577_215_664_9;

/// `c(n)`, the average path length of an unsuccessful binary-search-tree search over `n` keys.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let m = (n - 1) as f64;
            2.0 * (m.ln() + EULER_GAMMA) - 2.0 * m / n as f64
        }
    }
}

/// The forest's settings. `Default` is the one source of defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IsolationConfig {
    /// Number of trees (default 100, as in the paper).
    pub n_trees: usize,
    /// Rows per tree, ψ (default 256, as in the paper).
    pub sample_size: usize,
    /// The seed of subsampling and splits.
    pub seed: u64,
    /// The share of reference rows expected above the threshold (default 0.01).
    pub contamination: f64,
}

impl Default for IsolationConfig {
    fn default() -> Self {
        Self {
            n_trees: 100,
            sample_size: 256,
            seed: 0,
            contamination: 0.01,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Encoder {
    Number {
        column: String,
        fill: f64,
    },
    Boolean {
        column: String,
    },
    Level {
        column: String,
        shares: BTreeMap<String, f64>,
    },
}

impl Encoder {
    fn column(&self) -> &str {
        match self {
            Self::Number { column, .. } | Self::Boolean { column } | Self::Level { column, .. } => {
                column
            }
        }
    }

    fn encode(&self, column: Option<&RawColumn>, row: usize) -> f64 {
        let value = column.map_or(RawValue::Null, |c| c.value(row));
        match (self, value) {
            (Self::Number { fill, .. }, RawValue::Number(x)) => {
                if x.is_finite() {
                    x
                } else {
                    *fill
                }
            }
            (Self::Number { .. }, RawValue::Datetime(us)) => us as f64,
            (Self::Boolean { .. }, RawValue::Bool(b)) => f64::from(u8::from(b)),
            (Self::Level { shares, .. }, RawValue::Str(level)) => {
                shares.get(level).copied().unwrap_or(0.0)
            }
            (Self::Number { fill, .. }, _) => *fill,
            (Self::Boolean { .. }, _) => 0.5,
            (Self::Level { .. }, _) => 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Node {
    Split {
        feature: usize,
        value: f64,
        left: usize,
        right: usize,
    },
    Leaf {
        size: usize,
    },
}

/// An isolation forest over a profile's columns, with its flagging threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsolationScorer {
    encoders: Vec<Encoder>,
    trees: Vec<Vec<Node>>,
    psi: usize,
    threshold: f64,
}

fn encode_batch(encoders: &[Encoder], batch: &RawBatch) -> Vec<Vec<f64>> {
    let columns: Vec<Option<&RawColumn>> =
        encoders.iter().map(|e| batch.column(e.column())).collect();
    (0..batch.n_rows())
        .map(|row| {
            encoders
                .iter()
                .zip(&columns)
                .map(|(e, c)| e.encode(*c, row))
                .collect()
        })
        .collect()
}

fn grow(
    rows: &mut [usize],
    x: &[Vec<f64>],
    depth: usize,
    limit: usize,
    rng: &mut Rng,
    nodes: &mut Vec<Node>,
) -> usize {
    let id = nodes.len();
    nodes.push(Node::Leaf { size: rows.len() });
    if rows.len() <= 1 || depth >= limit {
        return id;
    }
    let n_features = x.first().map_or(0, Vec::len);
    let spans: Vec<(usize, f64, f64)> = (0..n_features)
        .filter_map(|f| {
            let (lo, hi) = rows
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                    (lo.min(x[r][f]), hi.max(x[r][f]))
                });
            (hi > lo).then_some((f, lo, hi))
        })
        .collect();
    if spans.is_empty() {
        return id;
    }
    let (feature, lo, hi) = spans[rng.index(spans.len())];
    let mut value = rng.uniform_in(lo, hi);
    if value <= lo {
        // Keep both sides non-empty: rows equal to `lo` go left, the rest right.
        value = lo;
    }
    let mut split = 0;
    for i in 0..rows.len() {
        if x[rows[i]][feature] <= value {
            rows.swap(i, split);
            split += 1;
        }
    }
    if split == 0 || split == rows.len() {
        return id;
    }
    let (left_rows, right_rows) = rows.split_at_mut(split);
    let left = grow(left_rows, x, depth + 1, limit, rng, nodes);
    let right = grow(right_rows, x, depth + 1, limit, rng, nodes);
    nodes[id] = Node::Split {
        feature,
        value,
        left,
        right,
    };
    id
}

fn path_length(tree: &[Node], row: &[f64]) -> f64 {
    let mut node = 0;
    let mut depth = 0.0;
    loop {
        match tree.get(node) {
            Some(Node::Split {
                feature,
                value,
                left,
                right,
            }) => {
                node = if row[*feature] <= *value {
                    *left
                } else {
                    *right
                };
                depth += 1.0;
            }
            Some(Node::Leaf { size }) => return depth + average_path_length(*size),
            None => return depth,
        }
    }
}

impl IsolationScorer {
    /// Fits the forest on the profile's reservoir sample.
    ///
    /// # Errors
    /// [`MonitorError::Invalid`] when `n_trees` or `sample_size` is 0 or `contamination` is not
    /// in `[0, 1)`; [`MonitorError::Empty`] when the reservoir holds fewer than 2 rows.
    pub fn fit(profile: &ReferenceProfile, config: &IsolationConfig) -> Result<Self> {
        let invalid = |param: &str, value: String, expected: &str| MonitorError::Invalid {
            param: param.into(),
            value,
            expected: expected.into(),
        };
        if config.n_trees == 0 {
            return Err(invalid("n_trees", "0".into(), "at least 1 tree"));
        }
        if config.sample_size < 2 {
            return Err(invalid(
                "sample_size",
                config.sample_size.to_string(),
                "at least 2 rows per tree",
            ));
        }
        if !(0.0..1.0).contains(&config.contamination) {
            return Err(invalid(
                "contamination",
                config.contamination.to_string(),
                "a share in [0, 1)",
            ));
        }
        let sample = &profile.reservoir;
        if sample.n_rows() < 2 {
            return Err(MonitorError::Empty {
                what: "reference reservoir (an isolation forest needs at least 2 rows)".into(),
            });
        }
        let encoders: Vec<Encoder> = profile
            .columns
            .iter()
            .map(|c| {
                let column = c.name.clone();
                if let Some(levels) = c.sketch.categorical() {
                    let total = levels.non_missing().max(1) as f64;
                    let shares = levels
                        .levels()
                        .iter()
                        .map(|(l, &n)| (l.clone(), n as f64 / total))
                        .collect();
                    Encoder::Level { column, shares }
                } else if c.sketch.boolean().is_some() {
                    Encoder::Boolean { column }
                } else {
                    let fill = c.sketch.quantile(0.5).unwrap_or(0.0);
                    Encoder::Number { column, fill }
                }
            })
            .collect();
        let x = encode_batch(&encoders, sample);
        let psi = config.sample_size.min(x.len());
        let limit = psi.next_power_of_two().trailing_zeros() as usize;
        let trees: Vec<Vec<Node>> = (0..config.n_trees)
            .map(|t| {
                let mut rng = Rng::derive(config.seed, t as u64);
                let mut rows = rng.permutation(x.len());
                rows.truncate(psi);
                let mut nodes = Vec::new();
                grow(&mut rows, &x, 0, limit, &mut rng, &mut nodes);
                nodes
            })
            .collect();
        let mut scorer = Self {
            encoders,
            trees,
            psi,
            threshold: 1.0,
        };
        let mut reference = scorer.score_rows(&x);
        reference.sort_by(f64::total_cmp);
        let rank = ((1.0 - config.contamination) * (reference.len() - 1) as f64).floor() as usize;
        scorer.threshold = reference[rank.min(reference.len() - 1)];
        Ok(scorer)
    }

    fn score_rows(&self, x: &[Vec<f64>]) -> Vec<f64> {
        let c = average_path_length(self.psi);
        let n_trees = self.trees.len() as f64;
        x.iter()
            .map(|row| {
                let mean = self.trees.iter().map(|t| path_length(t, row)).sum::<f64>() / n_trees;
                (-mean / c).exp2()
            })
            .collect()
    }

    /// The anomaly score of every row of `batch`, in `(0, 1]`; columns of the profile missing
    /// from the batch count as missing values.
    pub fn score(&self, batch: &RawBatch) -> Vec<f64> {
        self.score_rows(&encode_batch(&self.encoders, batch))
    }

    /// The score above which a row is flagged.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The share of rows of `batch` flagged (0 for an empty batch), the alert metric
    /// `anomaly.isolation_rate`.
    pub fn anomaly_rate(&self, batch: &RawBatch) -> f64 {
        let scores = self.score(batch);
        if scores.is_empty() {
            return 0.0;
        }
        scores.iter().filter(|&&s| s > self.threshold).count() as f64 / scores.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_path_length_follows_the_paper() {
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        let expected = 2.0 * (255f64.ln() + 0.577_215_664_9) - 2.0 * 255.0 / 256.0;
        assert!((average_path_length(256) - expected).abs() < 1e-12);
        assert!((average_path_length(256) - 10.244_770_920_2).abs() < 1e-6);
    }

    fn reference(seed: u64, n: usize) -> RawBatch {
        let mut rng = Rng::new(seed);
        let a: Vec<Option<f64>> = (0..n).map(|_| Some(rng.normal())).collect();
        let b: Vec<Option<f64>> = (0..n).map(|_| Some(rng.normal_with(5.0, 2.0))).collect();
        let c: Vec<Option<&str>> = (0..n)
            .map(|i| Some(if i % 4 == 0 { "x" } else { "y" }))
            .collect();
        RawBatch::new(vec![
            RawColumn::numeric("a", a),
            RawColumn::numeric("b", b),
            RawColumn::categorical("c", c),
        ])
        .unwrap()
    }

    #[test]
    fn outliers_score_high_and_ordinary_rows_do_not() {
        let profile = ReferenceProfile::of(&reference(1, 2000), 3).unwrap();
        let scorer = IsolationScorer::fit(&profile, &IsolationConfig::default()).unwrap();
        let probe = RawBatch::new(vec![
            RawColumn::numeric("a", [Some(0.0), Some(8.0)]),
            RawColumn::numeric("b", [Some(5.0), Some(-10.0)]),
            RawColumn::categorical("c", [Some("y"), Some("never")]),
        ])
        .unwrap();
        let scores = scorer.score(&probe);
        assert!(scores[0] < 0.5, "ordinary row scored {}", scores[0]);
        assert!(scores[1] > 0.7, "outlier scored {}", scores[1]);
        assert!(scores[1] > scorer.threshold());
        // Fresh data like the reference: about `contamination` of rows flagged.
        let rate = scorer.anomaly_rate(&reference(2, 2000));
        assert!(rate < 0.05, "rate {rate}");
    }

    #[test]
    fn the_same_seed_gives_the_same_scores() {
        let profile = ReferenceProfile::of(&reference(1, 600), 3).unwrap();
        let config = IsolationConfig {
            seed: 11,
            ..IsolationConfig::default()
        };
        let one = IsolationScorer::fit(&profile, &config).unwrap();
        let two = IsolationScorer::fit(&profile, &config).unwrap();
        let batch = reference(5, 50);
        assert_eq!(one.score(&batch), two.score(&batch));
        let other =
            IsolationScorer::fit(&profile, &IsolationConfig { seed: 12, ..config }).unwrap();
        assert_ne!(one.score(&batch), other.score(&batch));
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let profile = ReferenceProfile::of(&reference(1, 50), 3).unwrap();
        for (config, name) in [
            (
                IsolationConfig {
                    n_trees: 0,
                    ..IsolationConfig::default()
                },
                "n_trees",
            ),
            (
                IsolationConfig {
                    sample_size: 1,
                    ..IsolationConfig::default()
                },
                "sample_size",
            ),
            (
                IsolationConfig {
                    contamination: 1.0,
                    ..IsolationConfig::default()
                },
                "contamination",
            ),
        ] {
            let msg = IsolationScorer::fit(&profile, &config)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(name), "{msg}");
        }
    }
}
