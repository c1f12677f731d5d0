//! The flattened predictor: every node of every tree in one struct of arrays, walked row by row
//! in parallel over fixed blocks of rows.

use mlship_core::tree::{Aggregation, NodeKind, SplitRule, TreeEnsemble};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Marks a leaf in [`FlatTrees::left`].
const LEAF: u32 = u32::MAX;
/// Marks a numeric split in [`FlatTrees::bitset`].
const NUMERIC: u32 = u32::MAX;
/// Rows per parallel block; fixed so results never depend on the thread count.
const BLOCK: usize = 256;

/// A tree ensemble laid out for fast prediction (struct of arrays, global node indices).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatTrees {
    roots: Vec<u32>,
    /// Output per tree, or `u32::MAX` when a leaf holds every output.
    tree_output: Vec<u32>,
    feature: Vec<u32>,
    threshold: Vec<f64>,
    bitset: Vec<u32>,
    default_left: Vec<bool>,
    /// Left child, or [`LEAF`].
    left: Vec<u32>,
    /// Right child; for a leaf, the offset of its values in `values`.
    right: Vec<u32>,
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
            let offset = f.left.len() as u32;
            let width = e.width(tree);
            let value_offset = f.values.len() as u32;
            f.roots.push(offset);
            f.tree_output.push(tree.output.unwrap_or(u32::MAX));
            f.values.extend_from_slice(&tree.leaf_values);
            for node in &tree.nodes {
                match &node.kind {
                    NodeKind::Leaf { index } => {
                        f.feature.push(0);
                        f.threshold.push(0.0);
                        f.bitset.push(NUMERIC);
                        f.default_left.push(false);
                        f.left.push(LEAF);
                        f.right.push(value_offset + index * width as u32);
                    }
                    NodeKind::Split {
                        feature,
                        rule,
                        default_left,
                        left,
                        right,
                    } => {
                        f.feature.push(*feature);
                        match rule {
                            SplitRule::Threshold(t) => {
                                f.threshold.push(*t);
                                f.bitset.push(NUMERIC);
                            }
                            SplitRule::Categories(bits) => {
                                f.threshold.push(0.0);
                                f.bitset.push(f.bitsets.len() as u32);
                                f.bitsets.push(bits.clone());
                            }
                        }
                        f.default_left.push(*default_left);
                        f.left.push(offset + left);
                        f.right.push(offset + right);
                    }
                }
            }
        }
        f
    }

    /// The offset in `values` of the leaf reached by `x` from `root`.
    #[inline]
    fn leaf(&self, root: u32, x: &[f64]) -> usize {
        let mut i = root as usize;
        loop {
            let l = self.left[i];
            if l == LEAF {
                return self.right[i] as usize;
            }
            let v = x[self.feature[i] as usize];
            let go_left = if v.is_nan() {
                self.default_left[i]
            } else {
                let b = self.bitset[i];
                if b == NUMERIC {
                    v <= self.threshold[i]
                } else {
                    category_left(&self.bitsets[b as usize], v)
                }
            };
            i = if go_left { l } else { self.right[i] } as usize;
        }
    }

    /// Raw outputs of one row into `out` (length `n_outputs`), in the same order of
    /// operations as [`TreeEnsemble::predict_raw_row`], so both give identical bits.
    pub fn predict_row(&self, x: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (t, &root) in self.roots.iter().enumerate() {
            let at = self.leaf(root, x);
            let o = self.tree_output[t];
            if o == u32::MAX {
                for (k, v) in out.iter_mut().enumerate() {
                    *v += self.values[at + k];
                }
            } else {
                out[o as usize] += self.values[at];
            }
        }
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

    /// Raw outputs for every row of `x` (`rows × n_outputs`), in parallel over row blocks.
    #[allow(clippy::needless_pass_by_value)] // a view is a cheap copy, as in `Model::predict`
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let x = x.as_standard_layout();
        let (n, p) = x.dim();
        let k = self.n_outputs;
        let mut out = vec![0.0; n * k];
        let xs = x.as_slice().unwrap_or(&[]);
        out.par_chunks_mut(BLOCK * k.max(1))
            .enumerate()
            .for_each(|(b, chunk)| {
                for (r, o) in chunk.chunks_mut(k).enumerate() {
                    let i = b * BLOCK + r;
                    self.predict_row(&xs[i * p..(i + 1) * p], o);
                }
            });
        Array2::from_shape_vec((n, k), out).unwrap_or_else(|_| Array2::zeros((n, k)))
    }
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
