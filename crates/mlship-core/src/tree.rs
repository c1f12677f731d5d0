//! The read-only view of tree ensembles.
//!
//! Every tree model (CART, random forest, gradient boosting) exposes its trees as a
//! [`TreeEnsemble`], so explanations (`TreeSHAP`) and exports work without knowing the model's
//! internal layout. An ensemble is validated when it is built — indices in range, every node
//! reached exactly once from the root (so no cycles), finite values — and is immutable after,
//! so a crafted bundle cannot make tree walkers loop or index out of bounds.
//!
//! Conventions: a numeric split sends `x <= threshold` left; a categorical split sends a
//! category code left when its bit is set; a missing value (`NaN`) follows the node's default
//! child; anything else (a code out of the bitset's range, negative or fractional) goes right.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a split decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitRule {
    /// Left when `x <= threshold`.
    Threshold(f64),
    /// Left when the category code's bit is set: code `c` is bit `c % 64` of word `c / 64`.
    Categories(Vec<u64>),
}

/// A node: a split or a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An internal node.
    Split {
        /// The feature tested.
        feature: u32,
        /// The test.
        rule: SplitRule,
        /// Where missing values go: left when `true`.
        default_left: bool,
        /// Index of the left child within the tree.
        left: u32,
        /// Index of the right child within the tree.
        right: u32,
    },
    /// A leaf; its values are `leaf_values[index * width .. (index + 1) * width]`.
    Leaf {
        /// The leaf's number within the tree.
        index: u32,
    },
}

/// A node and the (weighted) number of training samples that reached it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The training cover: sample count, weight or hessian sum, depending on the model.
    pub cover: f64,
    /// Split or leaf.
    pub kind: NodeKind,
}

/// One tree. Node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes; node 0 is the root.
    pub nodes: Vec<Node>,
    /// Leaf values, `width` per leaf.
    pub leaf_values: Vec<f64>,
    /// The single output this tree adds to (as in one-tree-per-class boosting), or `None` when
    /// each leaf holds a value for every output.
    pub output: Option<u32>,
}

/// How tree outputs combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Boosting: outputs add up.
    Sum,
    /// Forests: outputs are averaged over the trees.
    Mean,
}

/// The link from raw (summed) outputs to predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Predictions are the raw outputs.
    Identity,
    /// One output; the probability of the positive class is `1 / (1 + e^-raw)`.
    Logit,
    /// One output per class; probabilities are the softmax of the raw outputs.
    Softmax,
}

/// A validated, read-only tree ensemble.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeEnsemble {
    trees: Vec<Tree>,
    n_features: u32,
    n_outputs: u32,
    base_score: Vec<f64>,
    aggregation: Aggregation,
    link: Link,
}

#[derive(Deserialize)]
struct TreeEnsembleRepr {
    trees: Vec<Tree>,
    n_features: u32,
    n_outputs: u32,
    base_score: Vec<f64>,
    aggregation: Aggregation,
    link: Link,
}

impl<'de> Deserialize<'de> for TreeEnsemble {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = TreeEnsembleRepr::deserialize(d)?;
        Self::new(
            r.trees,
            r.n_features,
            r.n_outputs,
            r.base_score,
            r.aggregation,
            r.link,
        )
        .map_err(serde::de::Error::custom)
    }
}

/// Limits that keep a crafted ensemble from exhausting memory or time.
pub const MAX_NODES_PER_TREE: usize = 1 << 24;
/// The largest category bitset accepted, in 64-bit words (65,536 categories).
pub const MAX_BITSET_WORDS: usize = 1024;

impl TreeEnsemble {
    /// Builds and validates an ensemble.
    pub fn new(
        trees: Vec<Tree>,
        n_features: u32,
        n_outputs: u32,
        base_score: Vec<f64>,
        aggregation: Aggregation,
        link: Link,
    ) -> Result<Self> {
        let bad = |msg: String| Err(Error::invalid_data(format!("invalid tree ensemble: {msg}")));
        if n_outputs == 0 {
            return bad("it has no outputs".into());
        }
        if base_score.len() != n_outputs as usize {
            return bad(format!(
                "{} base scores for {n_outputs} outputs",
                base_score.len()
            ));
        }
        if let Some(b) = base_score.iter().find(|b| !b.is_finite()) {
            return bad(format!("base score {b} is not finite"));
        }
        match link {
            Link::Logit if n_outputs != 1 => {
                return bad(format!("a logit link needs 1 output, found {n_outputs}"));
            }
            Link::Softmax if n_outputs < 2 => {
                return bad(format!(
                    "a softmax link needs at least 2 outputs, found {n_outputs}"
                ));
            }
            _ => {}
        }
        for (t, tree) in trees.iter().enumerate() {
            if let Err(msg) = validate_tree(tree, n_features, n_outputs) {
                return bad(format!("tree {t}: {msg}"));
            }
        }
        Ok(Self {
            trees,
            n_features,
            n_outputs,
            base_score,
            aggregation,
            link,
        })
    }

    /// The trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features as usize
    }

    /// Number of raw outputs.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs as usize
    }

    /// The raw output before any tree, per output.
    pub fn base_score(&self) -> &[f64] {
        &self.base_score
    }

    /// How tree outputs combine.
    pub fn aggregation(&self) -> Aggregation {
        self.aggregation
    }

    /// The link from raw outputs to predictions.
    pub fn link(&self) -> Link {
        self.link
    }

    /// Leaf values per leaf in `tree`: 1 for single-output trees, `n_outputs` otherwise.
    pub fn width(&self, tree: &Tree) -> usize {
        if tree.output.is_some() {
            1
        } else {
            self.n_outputs as usize
        }
    }

    /// The raw outputs for one row of features, accumulated into `out` (length `n_outputs`).
    /// `x` must have `n_features` values.
    pub fn predict_raw_row(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        if x.len() != self.n_features() || out.len() != self.n_outputs() {
            return Err(Error::invalid_data(format!(
                "tree ensemble expects {} features and {} outputs, got {} and {}",
                self.n_features,
                self.n_outputs,
                x.len(),
                out.len()
            )));
        }
        out.fill(0.0);
        for tree in &self.trees {
            let leaf = leaf_for(tree, x);
            let w = self.width(tree);
            let values = &tree.leaf_values[leaf * w..(leaf + 1) * w];
            match tree.output {
                Some(o) => out[o as usize] += values[0],
                None => out.iter_mut().zip(values).for_each(|(o, v)| *o += v),
            }
        }
        if self.aggregation == Aggregation::Mean && !self.trees.is_empty() {
            let n = self.trees.len() as f64;
            for o in out.iter_mut() {
                *o /= n;
            }
        }
        out.iter_mut()
            .zip(&self.base_score)
            .for_each(|(o, b)| *o += b);
        Ok(())
    }
}

/// The leaf number reached by `x` in a validated tree.
pub fn leaf_for(tree: &Tree, x: &[f64]) -> usize {
    let mut i = 0usize;
    loop {
        match &tree.nodes[i].kind {
            NodeKind::Leaf { index } => return *index as usize,
            NodeKind::Split {
                feature,
                rule,
                default_left,
                left,
                right,
            } => {
                let v = x[*feature as usize];
                let go_left = if v.is_nan() {
                    *default_left
                } else {
                    rule_goes_left(rule, v)
                };
                i = if go_left { *left } else { *right } as usize;
            }
        }
    }
}

/// Whether a non-missing value `v` goes left under `rule`.
#[inline]
pub fn rule_goes_left(rule: &SplitRule, v: f64) -> bool {
    match rule {
        SplitRule::Threshold(t) => v <= *t,
        SplitRule::Categories(bits) => {
            if v < 0.0 || v.fract() != 0.0 || v >= (bits.len() * 64) as f64 {
                false
            } else {
                let c = v as usize;
                bits[c / 64] >> (c % 64) & 1 == 1
            }
        }
    }
}

fn validate_tree(tree: &Tree, n_features: u32, n_outputs: u32) -> std::result::Result<(), String> {
    let n = tree.nodes.len();
    if n == 0 {
        return Err("it has no nodes".into());
    }
    if n > MAX_NODES_PER_TREE {
        return Err(format!(
            "{n} nodes exceed the limit of {MAX_NODES_PER_TREE}"
        ));
    }
    if let Some(o) = tree.output
        && o >= n_outputs
    {
        return Err(format!(
            "output {o} is out of range for {n_outputs} outputs"
        ));
    }
    let width = if tree.output.is_some() {
        1
    } else {
        n_outputs as usize
    };
    if !tree.leaf_values.len().is_multiple_of(width) {
        return Err(format!(
            "{} leaf values are not a multiple of {width}",
            tree.leaf_values.len()
        ));
    }
    if let Some(v) = tree.leaf_values.iter().find(|v| !v.is_finite()) {
        return Err(format!("leaf value {v} is not finite"));
    }
    let n_leaves = tree.leaf_values.len() / width;
    let mut parents = vec![0u8; n];
    let mut leaf_seen = vec![false; n_leaves];
    for (i, node) in tree.nodes.iter().enumerate() {
        if !node.cover.is_finite() || node.cover < 0.0 {
            return Err(format!(
                "node {i}: cover {} is not a finite non-negative number",
                node.cover
            ));
        }
        match &node.kind {
            NodeKind::Leaf { index } => {
                let k = *index as usize;
                if k >= n_leaves {
                    return Err(format!(
                        "node {i}: leaf {k} has no values ({n_leaves} leaves)"
                    ));
                }
                if std::mem::replace(&mut leaf_seen[k], true) {
                    return Err(format!("node {i}: leaf {k} is used twice"));
                }
            }
            NodeKind::Split {
                feature,
                rule,
                left,
                right,
                ..
            } => {
                if *feature >= n_features {
                    return Err(format!(
                        "node {i}: feature {feature} is out of range for {n_features} features"
                    ));
                }
                match rule {
                    SplitRule::Threshold(t) if t.is_nan() => {
                        return Err(format!("node {i}: threshold is NaN"));
                    }
                    SplitRule::Categories(bits) if bits.len() > MAX_BITSET_WORDS => {
                        return Err(format!(
                            "node {i}: category bitset of {} words exceeds {MAX_BITSET_WORDS}",
                            bits.len()
                        ));
                    }
                    _ => {}
                }
                for child in [*left as usize, *right as usize] {
                    // Children after their parent: the node order is topological, so walks end.
                    if child <= i || child >= n {
                        return Err(format!(
                            "node {i}: child {child} must come after it and be below {n}"
                        ));
                    }
                    parents[child] = parents[child].saturating_add(1);
                }
            }
        }
    }
    if let Some(i) = (1..n).find(|&i| parents[i] != 1) {
        return Err(format!(
            "node {i} has {} parents; every node but the root needs exactly one",
            parents[i]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// x0 <= 0.5 ? (x1 in {1, 3} ? 1 : 2) : 3; missing x0 goes right.
    fn stump() -> Tree {
        Tree {
            nodes: vec![
                Node {
                    cover: 10.0,
                    kind: NodeKind::Split {
                        feature: 0,
                        rule: SplitRule::Threshold(0.5),
                        default_left: false,
                        left: 1,
                        right: 2,
                    },
                },
                Node {
                    cover: 6.0,
                    kind: NodeKind::Split {
                        feature: 1,
                        rule: SplitRule::Categories(vec![0b1010]),
                        default_left: true,
                        left: 3,
                        right: 4,
                    },
                },
                Node {
                    cover: 4.0,
                    kind: NodeKind::Leaf { index: 2 },
                },
                Node {
                    cover: 3.0,
                    kind: NodeKind::Leaf { index: 0 },
                },
                Node {
                    cover: 3.0,
                    kind: NodeKind::Leaf { index: 1 },
                },
            ],
            leaf_values: vec![1.0, 2.0, 3.0],
            output: None,
        }
    }

    fn ensemble(trees: Vec<Tree>) -> Result<TreeEnsemble> {
        TreeEnsemble::new(trees, 2, 1, vec![0.5], Aggregation::Sum, Link::Identity)
    }

    #[test]
    fn walks_thresholds_categories_and_missing() {
        let e = ensemble(vec![stump()]).unwrap();
        let mut out = [0.0];
        let mut p = |x: [f64; 2]| {
            e.predict_raw_row(&x, &mut out).unwrap();
            out[0]
        };
        assert_eq!(p([0.0, 1.0]), 1.5);
        assert_eq!(p([0.5, 2.0]), 2.5);
        assert_eq!(p([0.0, f64::NAN]), 1.5);
        assert_eq!(p([0.0, 999.0]), 2.5);
        assert_eq!(p([0.0, -1.0]), 2.5);
        assert_eq!(p([f64::NAN, 1.0]), 3.5);
        assert_eq!(p([0.6, 1.0]), 3.5);
    }

    #[test]
    fn mean_aggregation_averages() {
        let e = TreeEnsemble::new(
            vec![stump(), stump()],
            2,
            1,
            vec![0.0],
            Aggregation::Mean,
            Link::Identity,
        )
        .unwrap();
        let mut out = [0.0];
        e.predict_raw_row(&[9.0, 0.0], &mut out).unwrap();
        assert_eq!(out[0], 3.0);
    }

    #[test]
    fn rejects_cycles_bad_indices_and_non_finite_values() {
        let mut t = stump();
        if let NodeKind::Split { left, .. } = &mut t.nodes[1].kind {
            *left = 0;
        }
        let e = ensemble(vec![t]).unwrap_err().to_string();
        assert!(
            e.contains("tree 0: node 1: child 0 must come after it"),
            "{e}"
        );

        let mut t = stump();
        if let NodeKind::Split { right, .. } = &mut t.nodes[1].kind {
            *right = 2;
        }
        let e = ensemble(vec![t]).unwrap_err().to_string();
        assert!(e.contains("parents"), "{e}");

        let mut t = stump();
        t.leaf_values[1] = f64::INFINITY;
        assert!(
            ensemble(vec![t])
                .unwrap_err()
                .to_string()
                .contains("not finite")
        );

        let mut t = stump();
        if let NodeKind::Split { feature, .. } = &mut t.nodes[0].kind {
            *feature = 7;
        }
        assert!(
            ensemble(vec![t])
                .unwrap_err()
                .to_string()
                .contains("feature 7 is out of range")
        );

        let e = TreeEnsemble::new(vec![], 2, 2, vec![0.0, 0.0], Aggregation::Sum, Link::Logit)
            .unwrap_err()
            .to_string();
        assert!(e.contains("logit link needs 1 output"), "{e}");
    }

    #[test]
    fn deserialising_validates() {
        let e = ensemble(vec![stump()]).unwrap();
        let json = serde_json::to_string(&e).unwrap();
        let back: TreeEnsemble = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        let tampered = json.replacen("\"left\":1", "\"left\":0", 1);
        assert!(serde_json::from_str::<TreeEnsemble>(&tampered).is_err());
    }

    fn arb_tree() -> impl Strategy<Value = Tree> {
        (1usize..8, any::<u64>()).prop_map(|(n, seed)| {
            let mut r = crate::rng::Rng::new(seed);
            let nodes = (0..n)
                .map(|_| {
                    let kind = if r.below(2) == 0 {
                        NodeKind::Leaf {
                            index: r.below(4) as u32,
                        }
                    } else {
                        NodeKind::Split {
                            feature: r.below(3) as u32,
                            rule: SplitRule::Threshold(r.normal()),
                            default_left: r.below(2) == 0,
                            left: r.below(n as u64 + 1) as u32,
                            right: r.below(n as u64 + 1) as u32,
                        }
                    };
                    Node { cover: 1.0, kind }
                })
                .collect();
            Tree {
                nodes,
                leaf_values: (0..r.below(5)).map(|_| r.normal()).collect(),
                output: None,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        // Validation is total, and a tree that passes can be walked for any input without panic.
        #[test]
        fn validated_trees_are_safe_to_walk(tree in arb_tree(), x0 in any::<f64>(), x1 in any::<f64>()) {
            if let Ok(e) = ensemble(vec![tree]) {
                let mut out = [0.0];
                prop_assert!(e.predict_raw_row(&[x0, x1], &mut out).is_ok());
            }
        }
    }
}
