//! The flattened predictor: every node of every tree in one array of packed nodes, walked in
//! parallel over fixed blocks of rows.
//!
//! Within a block, rows go through the trees in groups of [`GROUP`]: per tree, every row of a
//! group takes one step per level, for as many levels as the tree is deep, without a branch
//! on the split's outcome (a leaf points to itself, so rows that arrive early stay put). The
//! rows of a group are independent chains of loads, so they overlap in the processor instead
//! of waiting on one another, and no mispredicted branch throws the work away. Each row still
//! adds the trees' values in tree order, so results are the bits of
//! [`mlship_core::tree::TreeEnsemble::predict_raw_row`].

use mlship_core::tree::{Aggregation, NodeKind, SplitRule, TreeEnsemble};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Rows per parallel block; fixed so results never depend on the thread count.
const BLOCK: usize = 256;
/// Rows walked together through one tree.
const GROUP: usize = 16;

/// [`FlatNode::info`]: missing values go left.
const DEFAULT_LEFT: u32 = 1;
/// [`FlatNode::info`]: the node is a leaf (its `right` is the offset of its values).
const LEAF: u32 = 2;
/// [`FlatNode::info`]: a categorical split; the bitset index is `info >> 8`.
const CATEGORICAL: u32 = 4;

/// One node, packed into 24 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct FlatNode {
    /// Numeric splits: rows with `x <= threshold` go left. Leaves: `+∞`, so every row "goes
    /// left" to the leaf itself.
    threshold: f64,
    feature: u32,
    /// Left child (global index); a leaf's own index.
    left: u32,
    /// Right child (global index); for a leaf, the offset of its values.
    right: u32,
    /// [`DEFAULT_LEFT`], [`LEAF`], [`CATEGORICAL`] and a bitset index.
    info: u32,
}

/// A tree ensemble laid out for fast prediction (global node indices).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatTrees {
    roots: Vec<u32>,
    /// Levels from the root to the deepest leaf, per tree.
    depth: Vec<u32>,
    /// Output per tree, or `u32::MAX` when a leaf holds every output.
    tree_output: Vec<u32>,
    nodes: Vec<FlatNode>,
    values: Vec<f64>,
    bitsets: Vec<Vec<u64>>,
    n_outputs: usize,
    mean: bool,
    base: Vec<f64>,
}

impl FlatTrees {
    /// Flattens a validated ensemble.
    pub fn new(e: &TreeEnsemble) -> Self {
        let mut f = Self {
            n_outputs: e.n_outputs(),
            mean: e.aggregation() == Aggregation::Mean,
            base: e.base_score().to_vec(),
            ..Self::default()
        };
        for tree in e.trees() {
            let offset = f.nodes.len() as u32;
            let width = e.width(tree);
            let value_offset = f.values.len() as u32;
            f.roots.push(offset);
            f.tree_output.push(tree.output.unwrap_or(u32::MAX));
            f.values.extend_from_slice(&tree.leaf_values);
            for (k, node) in tree.nodes.iter().enumerate() {
                let flat = match &node.kind {
                    NodeKind::Leaf { index } => FlatNode {
                        threshold: f64::INFINITY,
                        feature: 0,
                        left: offset + k as u32,
                        right: value_offset + index * width as u32,
                        info: LEAF | DEFAULT_LEFT,
                    },
                    NodeKind::Split {
                        feature,
                        rule,
                        default_left,
                        left,
                        right,
                    } => {
                        let (threshold, cat) = match rule {
                            SplitRule::Threshold(t) => (*t, 0),
                            SplitRule::Categories(bits) => {
                                f.bitsets.push(bits.clone());
                                (0.0, CATEGORICAL | ((f.bitsets.len() as u32 - 1) << 8))
                            }
                        };
                        FlatNode {
                            threshold,
                            feature: *feature,
                            left: offset + left,
                            right: offset + right,
                            info: cat | u32::from(*default_left),
                        }
                    }
                };
                f.nodes.push(flat);
            }
            f.depth.push(depth(&f.nodes, offset as usize));
        }
        f
    }

    /// Whether value `v` (NaN when missing) goes left at node `n`; a leaf sends everything
    /// left, to itself.
    #[inline]
    #[allow(clippy::needless_bitwise_bool)] // no branch: the outcome is unpredictable
    fn goes_left(&self, n: &FlatNode, v: f64) -> bool {
        if n.info & CATEGORICAL == 0 {
            (v <= n.threshold) | (v.is_nan() & (n.info & DEFAULT_LEFT != 0))
        } else if v.is_nan() {
            n.info & DEFAULT_LEFT != 0
        } else {
            self.bitsets
                .get((n.info >> 8) as usize)
                .is_some_and(|b| category_left(b, v))
        }
    }

    /// The next node of a row with features `x` at node `i` (a leaf's next node is itself).
    #[inline]
    fn step(&self, i: u32, x: &[f64]) -> u32 {
        let n = &self.nodes[i as usize];
        let v = x.get(n.feature as usize).copied().unwrap_or(f64::NAN);
        if self.goes_left(n, v) {
            n.left
        } else {
            n.right
        }
    }

    /// The offset in `values` of the leaf reached by `x` from `root`.
    #[inline]
    fn leaf(&self, root: u32, x: &[f64]) -> usize {
        let mut i = root;
        while self.nodes[i as usize].info & LEAF == 0 {
            i = self.step(i, x);
        }
        self.nodes[i as usize].right as usize
    }

    /// Adds tree `t`'s leaf values at `at` to the raw outputs `out`.
    #[inline]
    fn add_leaf(&self, t: usize, at: usize, out: &mut [f64]) {
        let o = self.tree_output[t];
        if o == u32::MAX {
            for (k, v) in out.iter_mut().enumerate() {
                *v += self.values[at + k];
            }
        } else {
            out[o as usize] += self.values[at];
        }
    }

    /// Mean aggregation and the base score, after every tree was added.
    #[inline]
    fn finish(&self, out: &mut [f64]) {
        if self.mean && !self.roots.is_empty() {
            let n = self.roots.len() as f64;
            for v in out.iter_mut() {
                *v /= n;
            }
        }
        for (v, b) in out.iter_mut().zip(&self.base) {
            *v += b;
        }
    }

    /// Raw outputs of one row into `out` (length `n_outputs`), in the same order of
    /// operations as [`TreeEnsemble::predict_raw_row`], so both give identical bits.
    pub fn predict_row(&self, x: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (t, &root) in self.roots.iter().enumerate() {
            let at = self.leaf(root, x);
            self.add_leaf(t, at, out);
        }
        self.finish(out);
    }

    /// Raw outputs of up to [`GROUP`] rows (`xs`: rows of width `p`, row-major) into `out`
    /// (`rows × n_outputs`), walking the rows through each tree together.
    fn predict_group(&self, xs: &[f64], p: usize, out: &mut [f64]) {
        let k = self.n_outputs;
        let m = (out.len() / k.max(1)).min(GROUP);
        out.fill(0.0);
        let mut at = [0u32; GROUP];
        for (t, (&root, &depth)) in self.roots.iter().zip(&self.depth).enumerate() {
            at.fill(root);
            for _ in 0..depth {
                let mut leaves = 0;
                for (r, i) in at[..m].iter_mut().enumerate() {
                    let n = &self.nodes[*i as usize];
                    let v = xs
                        .get(r * p + n.feature as usize)
                        .copied()
                        .unwrap_or(f64::NAN);
                    *i = if self.goes_left(n, v) {
                        n.left
                    } else {
                        n.right
                    };
                    leaves += n.info & LEAF;
                }
                if leaves == LEAF * m as u32 {
                    break;
                }
            }
            for (r, o) in out.chunks_mut(k).enumerate().take(m) {
                // Every row is at a leaf after `depth` steps; the loop only guards that.
                let a = self.leaf(at[r], xs.get(r * p..(r + 1) * p).unwrap_or(&[]));
                self.add_leaf(t, a, o);
            }
        }
        for o in out.chunks_mut(k) {
            self.finish(o);
        }
    }

    /// Raw outputs for every row of `x` (`rows × n_outputs`), in parallel over row blocks.
    #[allow(clippy::needless_pass_by_value)] // a view is a cheap copy, as in `Model::predict`
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let x = x.as_standard_layout();
        let (n, p) = x.dim();
        let k = self.n_outputs;
        let mut out = vec![0.0; n * k];
        let xs = x.as_slice().unwrap_or(&[]);
        if k > 0 {
            out.par_chunks_mut(BLOCK * k)
                .enumerate()
                .for_each(|(b, chunk)| {
                    for (g, o) in chunk.chunks_mut(GROUP * k).enumerate() {
                        let first = b * BLOCK + g * GROUP;
                        let rows = o.len() / k;
                        let xg = xs.get(first * p..(first + rows) * p).unwrap_or(&[]);
                        self.predict_group(xg, p, o);
                    }
                });
        }
        Array2::from_shape_vec((n, k), out).unwrap_or_else(|_| Array2::zeros((n, k)))
    }
}

/// Levels from node `root` to its deepest leaf (nodes of a validated, acyclic tree).
fn depth(nodes: &[FlatNode], root: usize) -> u32 {
    let mut deepest = 0;
    let mut stack = vec![(root, 0u32)];
    while let Some((i, d)) = stack.pop() {
        let Some(n) = nodes.get(i) else { continue };
        if n.info & LEAF != 0 {
            deepest = deepest.max(d);
        } else {
            stack.push((n.left as usize, d + 1));
            stack.push((n.right as usize, d + 1));
        }
    }
    deepest
}

#[inline]
fn category_left(bits: &[u64], v: f64) -> bool {
    if v < 0.0 || v.fract() != 0.0 || v >= (bits.len() * 64) as f64 {
        false
    } else {
        let c = v as usize;
        bits[c / 64] >> (c % 64) & 1 == 1
    }
}
