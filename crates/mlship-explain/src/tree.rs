//! Exact TreeSHAP through core's read-only tree view.
//!
//! - Path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2): no background data; the part
//!   of a tree a feature outside the coalition does not decide is averaged with the training
//!   covers. O(leaves × depth²) per tree and row, with one preallocated path buffer per worker
//!   and no allocation in the walk.
//! - Interventional TreeSHAP (Lundberg et al. 2020): exact Shapley values of
//!   `v(S) = mean over background rows r of f(x_S, r_rest)`, walking each tree once per
//!   (row, background row) pair and splitting only where the two disagree.
//! - SHAP interaction values: the path-dependent algorithm with one feature held on or off.
//!
//! Splits follow the tree view's rules exactly (`x <= threshold` left, category bitsets,
//! missing values to the default child), so categorical splits and missing values are
//! explained as the model predicts them. A child's share of its parent is `cover(child) /
//! cover(parent)`, or one half when the parent's cover is zero. A forest's trees are averaged
//! and a boosted model's trees summed, per output; the ensemble's base score is part of the
//! expected value, so values plus expected value equal the raw output (the margin, before any
//! link).

use mlship_core::tree::{Aggregation, NodeKind, SplitRule, TreeEnsemble};
use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::{ExplainError, Result};
use crate::values::{InteractionValues, ShapValues};

/// No feature: the dummy element at the root of a path.
const NO_FEATURE: u32 = u32::MAX;

const LEAF: u8 = 0;
const THRESHOLD: u8 = 1;
const CATEGORIES: u8 = 2;

/// A node in a compact layout for the walks.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// Threshold of a numeric split.
    threshold: f64,
    /// This node's share of its parent.
    frac: f64,
    /// Left child, or for a leaf the offset of its values.
    left: u32,
    /// Right child.
    right: u32,
    /// The split feature.
    feature: u32,
    /// First word of a categorical split's bitset in the tree's pool.
    cat_start: u32,
    /// Words in the bitset.
    cat_len: u32,
    /// [`LEAF`], [`THRESHOLD`] or [`CATEGORIES`].
    kind: u8,
    /// Where missing values go.
    default_left: bool,
}

/// One tree, compiled.
#[derive(Debug, Clone)]
struct Compiled {
    nodes: Vec<Node>,
    bits: Vec<u64>,
    /// Leaf values, already scaled for averaging.
    values: Vec<f64>,
    /// Values per leaf.
    width: usize,
    /// The output a single-output tree adds to.
    output: Option<usize>,
    /// The most splits on any root-to-leaf path.
    depth: usize,
    /// The distinct features the tree splits on, ascending.
    features: Vec<u32>,
}

impl Compiled {
    fn new(tree: &mlship_core::tree::Tree, width: usize, scale: f64) -> Self {
        let n = tree.nodes.len();
        let mut nodes = Vec::with_capacity(n);
        let mut bits = Vec::new();
        let mut depth = vec![0usize; n];
        let mut fracs = vec![1.0f64; n];
        let mut features = Vec::new();
        for (i, node) in tree.nodes.iter().enumerate() {
            let compiled = match &node.kind {
                NodeKind::Leaf { index } => Node {
                    threshold: 0.0,
                    frac: 1.0,
                    left: *index * width as u32,
                    right: 0,
                    feature: NO_FEATURE,
                    cat_start: 0,
                    cat_len: 0,
                    kind: LEAF,
                    default_left: false,
                },
                NodeKind::Split {
                    feature,
                    rule,
                    default_left,
                    left,
                    right,
                } => {
                    features.push(*feature);
                    let (l, r) = (*left as usize, *right as usize);
                    depth[l] = depth[i] + 1;
                    depth[r] = depth[i] + 1;
                    let (fl, fr) = if node.cover > 0.0 {
                        (
                            tree.nodes[l].cover / node.cover,
                            tree.nodes[r].cover / node.cover,
                        )
                    } else {
                        (0.5, 0.5)
                    };
                    fracs[l] = fl;
                    fracs[r] = fr;
                    let (kind, threshold, cat_start, cat_len) = match rule {
                        SplitRule::Threshold(t) => (THRESHOLD, *t, 0, 0),
                        SplitRule::Categories(words) => {
                            let start = bits.len() as u32;
                            bits.extend_from_slice(words);
                            (CATEGORIES, 0.0, start, words.len() as u32)
                        }
                    };
                    Node {
                        threshold,
                        frac: 1.0,
                        left: *left,
                        right: *right,
                        feature: *feature,
                        cat_start,
                        cat_len,
                        kind,
                        default_left: *default_left,
                    }
                }
            };
            nodes.push(compiled);
        }
        for (node, f) in nodes.iter_mut().zip(&fracs) {
            node.frac = *f;
        }
        features.sort_unstable();
        features.dedup();
        Self {
            nodes,
            bits,
            values: tree.leaf_values.iter().map(|v| v * scale).collect(),
            width,
            output: tree.output.map(|o| o as usize),
            depth: depth.into_iter().max().unwrap_or(0),
            features,
        }
    }

    /// Whether `x` goes left at split `node`.
    #[inline]
    fn goes_left(&self, node: &Node, x: &[f64]) -> bool {
        let v = x[node.feature as usize];
        if v.is_nan() {
            return node.default_left;
        }
        if node.kind == THRESHOLD {
            return v <= node.threshold;
        }
        let words = node.cat_len as usize;
        if v < 0.0 || v.fract() != 0.0 || v >= (words * 64) as f64 {
            return false;
        }
        let c = v as usize;
        self.bits[node.cat_start as usize + c / 64] >> (c % 64) & 1 == 1
    }

    /// The cover-weighted mean of the leaf values (the tree's expected value), added to `out`.
    fn add_expected(&self, out: &mut [f64]) {
        // Nodes come after their parents, so one forward pass carries each node's path weight.
        let mut weight = vec![0.0; self.nodes.len()];
        weight[0] = 1.0;
        for (i, node) in self.nodes.iter().enumerate() {
            if node.kind == LEAF {
                self.add_leaf(node, weight[i], out);
            } else {
                weight[node.left as usize] = weight[i] * self.nodes[node.left as usize].frac;
                weight[node.right as usize] = weight[i] * self.nodes[node.right as usize].frac;
            }
        }
    }

    /// Adds `scale ×` a leaf's values to `out` (one slot per output).
    #[inline]
    fn add_leaf(&self, leaf: &Node, scale: f64, out: &mut [f64]) {
        let at = leaf.left as usize;
        match self.output {
            Some(o) => out[o] += scale * self.values[at],
            None => {
                for (slot, v) in out.iter_mut().zip(&self.values[at..at + self.width]) {
                    *slot += scale * v;
                }
            }
        }
    }
}

/// Explains tree ensembles exactly; build it once per model and reuse it.
#[derive(Debug, Clone)]
pub struct TreeExplainer {
    trees: Vec<Compiled>,
    n_features: usize,
    n_outputs: usize,
    expected: Vec<f64>,
    base_score: Vec<f64>,
    max_depth: usize,
    /// `recip[k] = 1 / k` for the path walks (`recip[0]` unused).
    recip: Vec<f64>,
}

/// An element of the path of splits from the root to the current node.
#[derive(Debug, Clone, Copy, Default)]
struct PathElem {
    feature: u32,
    zero: f64,
    one: f64,
    weight: f64,
}

impl TreeExplainer {
    /// Compiles `ensemble` for explaining.
    pub fn new(ensemble: &TreeEnsemble) -> Self {
        let n_outputs = ensemble.n_outputs();
        let scale = match ensemble.aggregation() {
            Aggregation::Mean if !ensemble.trees().is_empty() => {
                1.0 / ensemble.trees().len() as f64
            }
            _ => 1.0,
        };
        let trees: Vec<Compiled> = ensemble
            .trees()
            .iter()
            .map(|t| Compiled::new(t, ensemble.width(t), scale))
            .collect();
        let mut expected = ensemble.base_score().to_vec();
        for t in &trees {
            t.add_expected(&mut expected);
        }
        let max_depth = trees.iter().map(|t| t.depth).max().unwrap_or(0);
        Self {
            trees,
            n_features: ensemble.n_features(),
            n_outputs,
            expected,
            base_score: ensemble.base_score().to_vec(),
            max_depth,
            recip: std::iter::once(0.0)
                .chain((1..max_depth + 4).map(|k| 1.0 / k as f64))
                .collect(),
        }
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of raw outputs.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// The expected raw output under the training covers (base score included), per output.
    pub fn expected_value(&self) -> &[f64] {
        &self.expected
    }

    fn check_rows(&self, x: &ArrayView2<'_, f64>, what: &str) -> Result<()> {
        if x.ncols() == self.n_features {
            Ok(())
        } else {
            Err(ExplainError::shape(
                format!("columns of {what}"),
                self.n_features,
                x.ncols(),
            ))
        }
    }

    fn path_len(&self) -> usize {
        let d = self.max_depth + 2;
        d * (d + 1) / 2 + d + 2
    }

    /// Path-dependent SHAP values of the raw output for every row of `x`, in parallel over rows.
    pub fn shap_values(&self, x: ArrayView2<'_, f64>) -> Result<ShapValues> {
        self.check_rows(&x, "the rows to explain")?;
        let width = self.n_outputs * self.n_features;
        let mut out = ShapValues::zeros(
            x.nrows(),
            self.n_outputs,
            self.n_features,
            self.expected.clone(),
        );
        if width == 0 {
            return Ok(out);
        }
        let path_len = self.path_len();
        out.values.par_chunks_mut(width).enumerate().for_each_init(
            || (vec![PathElem::default(); path_len], Vec::new()),
            |(path, row), (r, phi)| {
                row.clear();
                row.extend(x.row(r).iter().copied());
                self.row_values(row, phi, path, NO_FEATURE, 0);
            },
        );
        Ok(out)
    }

    /// SHAP values of one row into `phi` (`[output][feature]`, added to), optionally with
    /// `condition_feature` held on (`condition > 0`) or off (`condition < 0`).
    fn row_values(
        &self,
        x: &[f64],
        phi: &mut [f64],
        path: &mut [PathElem],
        condition_feature: u32,
        condition: i8,
    ) {
        for tree in &self.trees {
            if tree.nodes[0].kind == LEAF {
                continue;
            }
            if condition != 0 && tree.features.binary_search(&condition_feature).is_err() {
                continue;
            }
            let mut walk = Walk {
                tree,
                recip: &self.recip,
                x,
                phi,
                n_features: self.n_features,
                condition,
                condition_feature,
            };
            walk.recurse(path, 0, 0, 1.0, 1.0, NO_FEATURE, 1.0);
        }
    }

    /// SHAP interaction values (path-dependent) for every row of `x`, in parallel over rows.
    pub fn interaction_values(&self, x: ArrayView2<'_, f64>) -> Result<InteractionValues> {
        self.check_rows(&x, "the rows to explain")?;
        let m = self.n_features;
        let k = self.n_outputs;
        let mut values = vec![0.0; x.nrows() * k * m * m];
        if m > 0 {
            let path_len = self.path_len();
            let used: Vec<bool> = {
                let mut used = vec![false; m];
                for t in &self.trees {
                    for &f in &t.features {
                        used[f as usize] = true;
                    }
                }
                used
            };
            values.par_chunks_mut(k * m * m).enumerate().for_each_init(
                || {
                    (
                        vec![PathElem::default(); path_len],
                        vec![0.0; k * m],
                        vec![0.0; k * m],
                        vec![0.0; k * m],
                        Vec::new(),
                    )
                },
                |(path, plain, on, off, row), (r, inter)| {
                    row.clear();
                    row.extend(x.row(r).iter().copied());
                    plain.fill(0.0);
                    self.row_values(row, plain, path, NO_FEATURE, 0);
                    for j in (0..m).filter(|&j| used[j]) {
                        on.fill(0.0);
                        off.fill(0.0);
                        self.row_values(row, on, path, j as u32, 1);
                        self.row_values(row, off, path, j as u32, -1);
                        for o in 0..k {
                            for i in 0..m {
                                if i != j {
                                    inter[(o * m + j) * m + i] =
                                        (on[o * m + i] - off[o * m + i]) / 2.0;
                                }
                            }
                        }
                    }
                    for o in 0..k {
                        for j in 0..m {
                            let off_diag: f64 = (0..m)
                                .filter(|&i| i != j)
                                .map(|i| inter[(o * m + j) * m + i])
                                .sum();
                            inter[(o * m + j) * m + j] = plain[o * m + j] - off_diag;
                        }
                    }
                },
            );
        }
        Ok(InteractionValues {
            n_rows: x.nrows(),
            n_outputs: k,
            n_features: m,
            expected_value: self.expected.clone(),
            values,
        })
    }

    /// Interventional SHAP values of the raw output for every row of `x` against the rows of
    /// `background` (each weighted equally), in parallel over rows. The expected value is the
    /// mean raw output over the background.
    pub fn interventional_shap_values(
        &self,
        x: ArrayView2<'_, f64>,
        background: ArrayView2<'_, f64>,
    ) -> Result<ShapValues> {
        self.check_rows(&x, "the rows to explain")?;
        self.check_rows(&background, "the background rows")?;
        let nb = background.nrows();
        if nb == 0 {
            return Err(ExplainError::Data(
                "the background sample is empty\nhint: pass at least one background row".into(),
            ));
        }
        let m = self.n_features;
        let k = self.n_outputs;
        let bg: Vec<Vec<f64>> = background.rows().into_iter().map(|r| r.to_vec()).collect();
        let mut expected = vec![0.0; k];
        for r in &bg {
            let mut leaf_out = vec![0.0; k];
            for t in &self.trees {
                let leaf = &t.nodes[walk_to_leaf(t, r)];
                t.add_leaf(leaf, 1.0, &mut leaf_out);
            }
            for (e, v) in expected.iter_mut().zip(&leaf_out) {
                *e += v / nb as f64;
            }
        }
        for (e, b) in expected.iter_mut().zip(&self.base_score) {
            *e += b;
        }
        let mut out = ShapValues::zeros(x.nrows(), k, m, expected);
        if m == 0 {
            return Ok(out);
        }
        // log(n!) for the Shapley weights of the leaf games.
        let log_fact: Vec<f64> = std::iter::once(0.0)
            .chain((1..=self.max_depth + 2).scan(0.0, |acc, i| {
                *acc += (i as f64).ln();
                Some(*acc)
            }))
            .collect();
        let inv_nb = 1.0 / nb as f64;
        out.values.par_chunks_mut(k * m).enumerate().for_each_init(
            || {
                (
                    vec![0u8; m],
                    Vec::with_capacity(self.max_depth + 1),
                    Vec::new(),
                )
            },
            |(who, stack, row), (i, phi)| {
                row.clear();
                row.extend(x.row(i).iter().copied());
                for r in &bg {
                    for t in &self.trees {
                        if t.nodes[0].kind == LEAF {
                            continue;
                        }
                        let mut walk = Interventional {
                            tree: t,
                            x: row,
                            r,
                            who,
                            stack,
                            phi,
                            m,
                            log_fact: &log_fact,
                            scale: inv_nb,
                        };
                        walk.recurse(0, 0, 0);
                    }
                }
            },
        );
        Ok(out)
    }
}

/// The node index of the leaf `x` reaches.
fn walk_to_leaf(tree: &Compiled, x: &[f64]) -> usize {
    let mut i = 0usize;
    loop {
        let node = &tree.nodes[i];
        if node.kind == LEAF {
            return i;
        }
        i = if tree.goes_left(node, x) {
            node.left
        } else {
            node.right
        } as usize;
    }
}

/// The state of one path-dependent walk of one tree for one row.
struct Walk<'a> {
    tree: &'a Compiled,
    recip: &'a [f64],
    x: &'a [f64],
    phi: &'a mut [f64],
    n_features: usize,
    condition: i8,
    condition_feature: u32,
}

impl Walk<'_> {
    /// Adds a leaf's contributions for every feature on the path.
    fn leaf(&mut self, path: &[PathElem], unique_depth: usize, n: &Node, condition_fraction: f64) {
        let tree = self.tree;
        let at = n.left as usize;
        // For an element the row does not follow (one fraction 0), the unwound sum is
        // `Σ_i w_i (d + 1) / (d − i)` divided by its zero fraction, and its contribution
        // `sum · (0 − zero)` is minus that sum whatever the element: computed once per leaf.
        let mut cold_sum = None;
        for i in 1..=unique_depth {
            let e = path[i];
            let s = if e.one == 0.0 {
                -*cold_sum.get_or_insert_with(|| cold_unwound_sum(path, unique_depth, self.recip))
                    * condition_fraction
            } else {
                unwound_path_sum(path, unique_depth, i, self.recip)
                    * (e.one - e.zero)
                    * condition_fraction
            };
            let f = e.feature as usize;
            match tree.output {
                Some(o) => self.phi[o * self.n_features + f] += s * tree.values[at],
                None => {
                    for (o, v) in tree.values[at..at + tree.width].iter().enumerate() {
                        self.phi[o * self.n_features + f] += s * v;
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn recurse(
        &mut self,
        buf: &mut [PathElem],
        node: usize,
        mut unique_depth: usize,
        parent_zero: f64,
        parent_one: f64,
        parent_feature: u32,
        condition_fraction: f64,
    ) {
        if condition_fraction == 0.0 || (parent_zero == 0.0 && parent_one == 0.0) {
            // Every leaf below is weighted by zero in every coalition.
            return;
        }
        let (parent, path) = buf.split_at_mut(unique_depth + 1);
        path[..=unique_depth].copy_from_slice(parent);
        if self.condition == 0 || self.condition_feature != parent_feature {
            extend_path(
                path,
                unique_depth,
                parent_zero,
                parent_one,
                parent_feature,
                self.recip,
            );
        }
        let tree = self.tree;
        let n = &tree.nodes[node];
        if n.kind == LEAF {
            self.leaf(path, unique_depth, n, condition_fraction);
            return;
        }
        let (hot, cold) = if tree.goes_left(n, self.x) {
            (n.left as usize, n.right as usize)
        } else {
            (n.right as usize, n.left as usize)
        };
        let hot_zero = tree.nodes[hot].frac;
        let cold_zero = tree.nodes[cold].frac;
        let mut incoming_zero = 1.0;
        let mut incoming_one = 1.0;
        if let Some(k) = (1..=unique_depth).find(|&k| path[k].feature == n.feature) {
            incoming_zero = path[k].zero;
            incoming_one = path[k].one;
            unwind_path(path, unique_depth, k, self.recip);
            unique_depth -= 1;
        }
        let mut hot_condition = condition_fraction;
        let mut cold_condition = condition_fraction;
        if self.condition != 0 && n.feature == self.condition_feature {
            if self.condition > 0 {
                cold_condition = 0.0;
            } else {
                hot_condition *= hot_zero;
                cold_condition *= cold_zero;
            }
            // The conditioned feature never enters the path: the children skip the extension
            // and keep this depth.
            self.recurse(
                path,
                hot,
                unique_depth,
                hot_zero * incoming_zero,
                incoming_one,
                n.feature,
                hot_condition,
            );
            self.recurse(
                path,
                cold,
                unique_depth,
                cold_zero * incoming_zero,
                0.0,
                n.feature,
                cold_condition,
            );
            return;
        }
        self.recurse(
            path,
            hot,
            unique_depth + 1,
            hot_zero * incoming_zero,
            incoming_one,
            n.feature,
            hot_condition,
        );
        self.recurse(
            path,
            cold,
            unique_depth + 1,
            cold_zero * incoming_zero,
            0.0,
            n.feature,
            cold_condition,
        );
    }
}

/// Adds a split to the path: every subset weight is updated for the new element. `recip[k]`
/// is `1 / k` (multiplications instead of divisions in the inner loops).
#[inline]
fn extend_path(
    path: &mut [PathElem],
    unique_depth: usize,
    zero: f64,
    one: f64,
    feature: u32,
    recip: &[f64],
) {
    path[unique_depth] = PathElem {
        feature,
        zero,
        one,
        weight: if unique_depth == 0 { 1.0 } else { 0.0 },
    };
    let inv_d1 = recip[unique_depth + 1];
    let (one, zero) = (one * inv_d1, zero * inv_d1);
    for i in (0..unique_depth).rev() {
        let w = path[i].weight;
        path[i + 1].weight += one * w * (i + 1) as f64;
        path[i].weight = zero * w * (unique_depth - i) as f64;
    }
}

/// Removes element `index` from the path, undoing its [`extend_path`].
#[inline]
fn unwind_path(path: &mut [PathElem], unique_depth: usize, index: usize, recip: &[f64]) {
    let one = path[index].one;
    let zero = path[index].zero;
    let d1 = (unique_depth + 1) as f64;
    let inv_d1 = recip[unique_depth + 1];
    let mut next_one = path[unique_depth].weight;
    if one == 0.0 {
        let f = d1 / zero;
        for i in (0..unique_depth).rev() {
            path[i].weight *= f * recip[unique_depth - i];
        }
    } else {
        let f = d1 / one;
        let z = zero * inv_d1;
        for i in (0..unique_depth).rev() {
            let tmp = path[i].weight;
            path[i].weight = next_one * f * recip[i + 1];
            next_one = tmp - path[i].weight * z * (unique_depth - i) as f64;
        }
    }
    for i in index..unique_depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

/// The total subset weight of the path with element `index` removed, without modifying it;
/// for an element whose one fraction is not 0 (see [`cold_unwound_sum`] for the others).
#[inline]
fn unwound_path_sum(path: &[PathElem], unique_depth: usize, index: usize, recip: &[f64]) -> f64 {
    let one = path[index].one;
    let zero = path[index].zero;
    if one == 0.0 {
        return cold_unwound_sum(path, unique_depth, recip) / zero;
    }
    let f = (unique_depth + 1) as f64 / one;
    let z = zero * recip[unique_depth + 1];
    let mut total = 0.0;
    let mut next_one = path[unique_depth].weight;
    for i in (0..unique_depth).rev() {
        let tmp = next_one * f * recip[i + 1];
        total += tmp;
        next_one = path[i].weight - tmp * z * (unique_depth - i) as f64;
    }
    total
}

/// `Σ_i w_i (d + 1) / (d − i)` over the path's weights: the unwound sum of any element whose
/// one fraction is 0, times its zero fraction.
#[inline]
fn cold_unwound_sum(path: &[PathElem], unique_depth: usize, recip: &[f64]) -> f64 {
    let d1 = (unique_depth + 1) as f64;
    d1 * (0..unique_depth)
        .map(|i| path[i].weight * recip[unique_depth - i])
        .sum::<f64>()
}

/// The state of one interventional walk of one tree for a (row, background row) pair.
struct Interventional<'a> {
    tree: &'a Compiled,
    x: &'a [f64],
    r: &'a [f64],
    /// Per feature: 0 undecided, 1 taken from `x`, 2 taken from `r`.
    who: &'a mut [u8],
    /// The decided features.
    stack: &'a mut Vec<u32>,
    phi: &'a mut [f64],
    m: usize,
    log_fact: &'a [f64],
    scale: f64,
}

impl Interventional<'_> {
    fn recurse(&mut self, node: usize, from_x: usize, from_r: usize) {
        let tree = self.tree;
        let n = &tree.nodes[node];
        if n.kind == LEAF {
            if from_x + from_r == 0 {
                return;
            }
            let lf = self.log_fact;
            // Shapley values of the game "this leaf is reached": features from x push towards
            // it, features from r push away.
            let w_x = if from_x > 0 {
                (lf[from_x - 1] + lf[from_r] - lf[from_x + from_r]).exp() * self.scale
            } else {
                0.0
            };
            let w_r = if from_r > 0 {
                -(lf[from_x] + lf[from_r - 1] - lf[from_x + from_r]).exp() * self.scale
            } else {
                0.0
            };
            let at = n.left as usize;
            for &f in self.stack.iter() {
                let w = if self.who[f as usize] == 1 { w_x } else { w_r };
                match tree.output {
                    Some(o) => self.phi[o * self.m + f as usize] += w * tree.values[at],
                    None => {
                        for (o, v) in tree.values[at..at + tree.width].iter().enumerate() {
                            self.phi[o * self.m + f as usize] += w * v;
                        }
                    }
                }
            }
            return;
        }
        let f = n.feature as usize;
        match self.who[f] {
            1 => {
                let next = if tree.goes_left(n, self.x) {
                    n.left
                } else {
                    n.right
                };
                self.recurse(next as usize, from_x, from_r);
            }
            2 => {
                let next = if tree.goes_left(n, self.r) {
                    n.left
                } else {
                    n.right
                };
                self.recurse(next as usize, from_x, from_r);
            }
            _ => {
                let lx = tree.goes_left(n, self.x);
                let lr = tree.goes_left(n, self.r);
                let (cx, cr) = (
                    if lx { n.left } else { n.right } as usize,
                    if lr { n.left } else { n.right } as usize,
                );
                if lx == lr {
                    self.recurse(cx, from_x, from_r);
                } else {
                    self.stack.push(n.feature);
                    self.who[f] = 1;
                    self.recurse(cx, from_x + 1, from_r);
                    self.who[f] = 2;
                    self.recurse(cr, from_x, from_r + 1);
                    self.who[f] = 0;
                    self.stack.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
