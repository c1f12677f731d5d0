//! Leaf-wise growth of one regression tree on gradient/hessian histograms.
//!
//! Per node the rows are an index list. The histogram of a node accumulates (gradient,
//! hessian, count) per bin of every active feature, in parallel over features (each feature
//! sums its rows in order, so results do not depend on the thread count). Only the smaller
//! child of a split is built; the larger is its parent minus it. The leaf with the largest
//! gain is split next, until `num_leaves` leaves.

use mlship_core::tree::{Node, NodeKind, SplitRule, Tree};
use rayon::prelude::*;

use super::bin::{Binned, FeatureBins, HIST_BINS, MISSING};

/// One histogram bin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    /// Sum of gradients.
    pub g: f64,
    /// Sum of hessians.
    pub h: f64,
    /// Number of rows.
    pub c: f64,
}

/// Settings of one tree.
#[derive(Debug, Clone)]
pub struct TreeSettings {
    pub num_leaves: usize,
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    pub min_sum_hessian: f64,
    pub l2: f64,
    pub min_gain_to_split: f64,
    pub cat_smooth: f64,
    pub learning_rate: f64,
    /// Per feature: `1` increasing, `-1` decreasing, `0` free (empty: no constraints).
    pub monotone: Vec<i8>,
}

/// Bounds on a leaf's (unshrunk) output and the monotone direction of the feature tried.
#[derive(Debug, Clone, Copy)]
struct Cons {
    lo: f64,
    hi: f64,
    dir: i8,
}

/// A split found on a histogram.
#[derive(Debug, Clone)]
struct HSplit {
    feature: usize,
    gain: f64,
    /// Numeric: bins `0..=bin` go left.
    bin: usize,
    /// Categorical: the bins going left.
    cats: Option<[u64; 4]>,
    missing_left: bool,
}

/// A node of a tree under construction.
#[derive(Debug, Clone)]
pub struct GNode {
    pub feature: usize,
    pub bin: usize,
    pub cats: Option<[u64; 4]>,
    pub missing_left: bool,
    pub left: usize,
    pub right: usize,
    pub leaf: bool,
    pub value: f64,
    pub cover: f64,
}

impl GNode {
    /// Whether a binned code goes left.
    #[inline]
    pub fn goes_left(&self, code: u8) -> bool {
        if code == MISSING {
            self.missing_left
        } else if let Some(bits) = &self.cats {
            bits[code as usize / 64] >> (code % 64) & 1 == 1
        } else {
            code as usize <= self.bin
        }
    }
}

/// A grown tree: nodes (children after parents) and, per leaf node, its rows.
#[derive(Debug, Clone)]
pub struct GTree {
    pub nodes: Vec<GNode>,
    /// `(node, rows)` for every leaf.
    pub leaf_rows: Vec<(usize, Vec<u32>)>,
    /// `(feature, gain)` of every split.
    pub splits: Vec<(usize, f64)>,
}

impl GTree {
    /// The leaf value reached by row `i` of the binned matrix.
    pub fn predict_binned(&self, codes: &[u8], n: usize, i: usize) -> f64 {
        let mut k = 0;
        loop {
            let node = &self.nodes[k];
            if node.leaf {
                return node.value;
            }
            k = if node.goes_left(codes[node.feature * n + i]) {
                node.left
            } else {
                node.right
            };
        }
    }

    /// The core tree: thresholds from the bin edges, categories as bitsets.
    pub fn to_core(&self, bins: &[FeatureBins], output: Option<u32>) -> Tree {
        let mut nodes = Vec::with_capacity(self.nodes.len());
        let mut leaf_values = Vec::new();
        for n in &self.nodes {
            let kind = if n.leaf {
                leaf_values.push(n.value);
                NodeKind::Leaf {
                    index: (leaf_values.len() - 1) as u32,
                }
            } else {
                let rule = match &n.cats {
                    Some(bits) => {
                        let words = bins[n.feature].n_bins().div_ceil(64).max(1);
                        SplitRule::Categories(bits[..words].to_vec())
                    }
                    None => SplitRule::Threshold(bins[n.feature].threshold(n.bin)),
                };
                NodeKind::Split {
                    feature: n.feature as u32,
                    rule,
                    default_left: n.missing_left,
                    left: n.left as u32,
                    right: n.right as u32,
                }
            };
            nodes.push(Node {
                cover: n.cover,
                kind,
            });
        }
        Tree {
            nodes,
            leaf_values,
            output,
        }
    }
}

struct Leaf {
    node: usize,
    rows: Vec<u32>,
    hist: Vec<Bin>,
    total: Bin,
    depth: usize,
    lo: f64,
    hi: f64,
    best: Option<HSplit>,
}

/// Histograms of the features of one node (`features × HIST_BINS`), recycled between nodes
/// so that growing a tree allocates a handful of them, not one per node.
#[derive(Debug, Default)]
struct HistPool {
    free: Vec<Vec<Bin>>,
}

impl HistPool {
    /// A histogram of `len` bins, not cleared.
    fn take(&mut self, len: usize) -> Vec<Bin> {
        match self.free.pop() {
            Some(h) if h.len() == len => h,
            _ => vec![Bin::default(); len],
        }
    }

    fn give(&mut self, h: Vec<Bin>) {
        self.free.push(h);
    }
}

/// Fills `hist` with the histogram of `rows` for the active features (inactive ones are left
/// as they are). `gh` is scratch space for the rows' gradient/hessian pairs.
#[allow(clippy::too_many_arguments)]
fn build_hist(
    b: &Binned,
    n: usize,
    rows: &[u32],
    grad: &[f64],
    hess: &[f64],
    active: &[bool],
    gh: &mut Vec<[f64; 2]>,
    hist: &mut [Bin],
) {
    // Every row in order (the root without bagging): no gather, no indirection.
    let all = rows.len() == n;
    gh.clear();
    if !all {
        gh.extend(rows.iter().map(|&r| [grad[r as usize], hess[r as usize]]));
    }
    let gh = &gh[..];
    hist.par_chunks_mut(HIST_BINS)
        .enumerate()
        .for_each(|(j, out)| {
            if !active[j] {
                return;
            }
            let Ok(out): std::result::Result<&mut [Bin; HIST_BINS], _> = out.try_into() else {
                return;
            };
            out.fill(Bin::default());
            let col = &b.codes[j * n..(j + 1) * n];
            // A `u8` code indexes a 256-bin array without a bounds check.
            if all {
                for ((&code, &gk), &hk) in col.iter().zip(grad).zip(hess) {
                    let bin = &mut out[code as usize];
                    bin.g += gk;
                    bin.h += hk;
                    bin.c += 1.0;
                }
                return;
            }
            for (&r, &[gk, hk]) in rows.iter().zip(gh) {
                let Some(&code) = col.get(r as usize) else {
                    continue;
                };
                let bin = &mut out[code as usize];
                bin.g += gk;
                bin.h += hk;
                bin.c += 1.0;
            }
        });
}

/// Splits `rows` (in order) by the split of `node` on the codes `col`: the left rows stay in
/// `rows`, the right ones are returned, both in their original order.
fn partition(node: &GNode, col: &[u8], rows: &mut Vec<u32>) -> Vec<u32> {
    // Where each code goes, looked up instead of branched on.
    let mut left = [0usize; HIST_BINS];
    for (code, l) in left.iter_mut().enumerate() {
        *l = usize::from(node.goes_left(code as u8));
    }
    let mut right = vec![0u32; rows.len()];
    let (mut nl, mut nr) = (0, 0);
    for k in 0..rows.len() {
        let r = rows[k];
        let go = left[col.get(r as usize).copied().unwrap_or(MISSING) as usize];
        rows[nl] = r;
        right[nr] = r;
        nl += go;
        nr += 1 - go;
    }
    rows.truncate(nl);
    right.truncate(nr);
    right
}

fn score(g: f64, h: f64, l2: f64) -> f64 {
    g * g / (h + l2)
}

/// Grows one tree on `rows`.
#[allow(clippy::too_many_lines)] // one loop: pick a leaf, split it, build its children
pub fn grow(
    s: &TreeSettings,
    b: &Binned,
    n: usize,
    rows: Vec<u32>,
    grad: &[f64],
    hess: &[f64],
    active: &[bool],
) -> GTree {
    let len = active.len() * HIST_BINS;
    let mut pool = HistPool::default();
    let mut gh = Vec::with_capacity(rows.len());
    let mut hist = pool.take(len);
    build_hist(b, n, &rows, grad, hess, active, &mut gh, &mut hist);
    let total = rows.iter().fold(Bin::default(), |a, &r| Bin {
        g: a.g + grad[r as usize],
        h: a.h + hess[r as usize],
        c: a.c + 1.0,
    });
    let mut nodes = vec![leaf_node(s, total, f64::NEG_INFINITY, f64::INFINITY)];
    let mut root = Leaf {
        node: 0,
        rows,
        hist,
        total,
        depth: 0,
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
        best: None,
    };
    root.best = best_split(s, b, &root, active);
    let mut leaves = vec![root];
    let mut splits = Vec::new();
    let mut done: Vec<(usize, Vec<u32>)> = Vec::new();
    while leaves.len() + done.len() < s.num_leaves {
        let mut pick = None;
        for (k, l) in leaves.iter().enumerate() {
            if let Some(sp) = &l.best
                && pick.is_none_or(|(_, g)| sp.gain > g)
            {
                pick = Some((k, sp.gain));
            }
        }
        let Some((k, _)) = pick else { break };
        let leaf = leaves.swap_remove(k);
        let Some(sp) = leaf.best.clone() else { break };
        let tmp = GNode {
            feature: sp.feature,
            bin: sp.bin,
            cats: sp.cats,
            missing_left: sp.missing_left,
            left: 0,
            right: 0,
            leaf: false,
            value: 0.0,
            cover: leaf.total.h,
        };
        let col = &b.codes[sp.feature * n..(sp.feature + 1) * n];
        let mut lrows = leaf.rows;
        let rrows = partition(&tmp, col, &mut lrows);
        let small_left = lrows.len() <= rrows.len();
        let mut small_hist = pool.take(len);
        build_hist(
            b,
            n,
            if small_left { &lrows } else { &rrows },
            grad,
            hess,
            active,
            &mut gh,
            &mut small_hist,
        );
        let mut large_hist = leaf.hist;
        for (a, c) in large_hist.iter_mut().zip(&small_hist) {
            a.g -= c.g;
            a.h -= c.h;
            a.c -= c.c;
        }
        let (lh, rh) = if small_left {
            (small_hist, large_hist)
        } else {
            (large_hist, small_hist)
        };
        // Child totals from the split feature's histogram (every bin, missing included).
        let at = sp.feature * HIST_BINS;
        let lt = lh[at..at + HIST_BINS]
            .iter()
            .fold(Bin::default(), |a, b| add(a, *b));
        let rt = Bin {
            g: leaf.total.g - lt.g,
            h: leaf.total.h - lt.h,
            c: leaf.total.c - lt.c,
        };
        let (li, ri) = (nodes.len(), nodes.len() + 1);
        nodes[leaf.node] = GNode {
            left: li,
            right: ri,
            ..tmp
        };
        // Monotone splits bound their subtrees on either side of the children's midpoint.
        let (mut llo, mut lhi, mut rlo, mut rhi) = (leaf.lo, leaf.hi, leaf.lo, leaf.hi);
        let dir = s.monotone.get(sp.feature).copied().unwrap_or(0);
        if dir != 0 {
            let wl = output(s, lt, leaf.lo, leaf.hi);
            let wr = output(s, rt, leaf.lo, leaf.hi);
            let mid = f64::midpoint(wl, wr);
            if dir > 0 {
                lhi = lhi.min(mid);
                rlo = rlo.max(mid);
            } else {
                llo = llo.max(mid);
                rhi = rhi.min(mid);
            }
        }
        nodes.push(leaf_node(s, lt, llo, lhi));
        nodes.push(leaf_node(s, rt, rlo, rhi));
        splits.push((sp.feature, sp.gain));
        for (node, rows, hist, total, lo, hi) in
            [(li, lrows, lh, lt, llo, lhi), (ri, rrows, rh, rt, rlo, rhi)]
        {
            let mut l = Leaf {
                node,
                rows,
                hist,
                total,
                depth: leaf.depth + 1,
                lo,
                hi,
                best: None,
            };
            l.best = best_split(s, b, &l, active);
            leaves.push(l);
        }
        // Leaves that cannot split free their histograms early.
        let mut k = 0;
        while k < leaves.len() {
            if leaves[k].best.is_none() {
                let l = leaves.swap_remove(k);
                pool.give(l.hist);
                done.push((l.node, l.rows));
            } else {
                k += 1;
            }
        }
    }
    done.extend(leaves.into_iter().map(|l| (l.node, l.rows)));
    done.sort_by_key(|(node, _)| *node);
    GTree {
        nodes,
        leaf_rows: done,
        splits,
    }
}

/// The Newton output `−G / (H + l2)` of a leaf, within its bounds (before shrinkage).
fn output(s: &TreeSettings, t: Bin, lo: f64, hi: f64) -> f64 {
    (-t.g / (t.h + s.l2)).clamp(lo, hi)
}

fn leaf_node(s: &TreeSettings, t: Bin, lo: f64, hi: f64) -> GNode {
    GNode {
        feature: 0,
        bin: 0,
        cats: None,
        missing_left: false,
        left: 0,
        right: 0,
        leaf: true,
        value: output(s, t, lo, hi) * s.learning_rate,
        cover: t.h,
    }
}

/// The best split of a leaf over the active features (the lowest feature index on ties).
fn best_split(s: &TreeSettings, b: &Binned, l: &Leaf, active: &[bool]) -> Option<HSplit> {
    if s.max_depth.is_some_and(|d| l.depth >= d)
        || (l.total.c as usize) < 2 * s.min_samples_leaf
        || l.total.h < 2.0 * s.min_sum_hessian
    {
        return None;
    }
    let found: Vec<Option<HSplit>> = (0..active.len())
        .into_par_iter()
        .map(|j| {
            if !active[j] {
                return None;
            }
            let h = &l.hist[j * HIST_BINS..(j + 1) * HIST_BINS];
            let c = Cons {
                lo: l.lo,
                hi: l.hi,
                dir: s.monotone.get(j).copied().unwrap_or(0),
            };
            if b.bins[j].levels.is_some() {
                categorical_split(s, j, h, l.total, b.bins[j].n_bins(), c)
            } else {
                numeric_split(s, j, h, l.total, b.bins[j].n_bins(), c)
            }
        })
        .collect();
    let mut best: Option<HSplit> = None;
    for f in found.into_iter().flatten() {
        if best.as_ref().is_none_or(|b| f.gain > b.gain) {
            best = Some(f);
        }
    }
    best.filter(|b| b.gain > s.min_gain_to_split)
}

/// Gain of a split into `left` and `total − left`, or `None` when a side is too small.
fn split_gain(s: &TreeSettings, left: Bin, total: Bin, c: Cons) -> Option<f64> {
    let right = Bin {
        g: total.g - left.g,
        h: total.h - left.h,
        c: total.c - left.c,
    };
    let min_c = s.min_samples_leaf as f64;
    if left.c < min_c
        || right.c < min_c
        || left.h < s.min_sum_hessian
        || right.h < s.min_sum_hessian
    {
        return None;
    }
    let parent = score(total.g, total.h, s.l2);
    if c.dir == 0 && c.lo == f64::NEG_INFINITY && c.hi == f64::INFINITY {
        return Some(score(left.g, left.h, s.l2) + score(right.g, right.h, s.l2) - parent);
    }
    // Constrained outputs: `score(w) = −(2 G w + (H + l2) w²)`, which is `G² / (H + l2)` at
    // the unconstrained optimum.
    let (wl, wr) = (output(s, left, c.lo, c.hi), output(s, right, c.lo, c.hi));
    if (c.dir > 0 && wl > wr) || (c.dir < 0 && wl < wr) {
        return None;
    }
    let sc = |b: Bin, w: f64| -(2.0 * b.g * w + (b.h + s.l2) * w * w);
    Some(sc(left, wl) + sc(right, wr) - parent)
}

fn add(a: Bin, b: Bin) -> Bin {
    Bin {
        g: a.g + b.g,
        h: a.h + b.h,
        c: a.c + b.c,
    }
}

fn numeric_split(
    s: &TreeSettings,
    j: usize,
    h: &[Bin],
    total: Bin,
    n_bins: usize,
    c: Cons,
) -> Option<HSplit> {
    let miss = h[MISSING as usize];
    let mut left = Bin::default();
    let mut best: Option<HSplit> = None;
    for (bin, hb) in h.iter().enumerate().take(n_bins) {
        // An empty bin moves no row across: the split after it is the one before it.
        if hb.c == 0.0 {
            continue;
        }
        left = add(left, *hb);
        let last = bin + 1 == n_bins;
        if last && miss.c == 0.0 {
            break;
        }
        let sides: &[bool] = if miss.c > 0.0 && !last {
            &[false, true]
        } else {
            &[false]
        };
        for &ml in sides {
            let l = if ml { add(left, miss) } else { left };
            if let Some(gain) = split_gain(s, l, total, c)
                && best.as_ref().is_none_or(|b| gain > b.gain)
            {
                let missing_left = if miss.c > 0.0 {
                    ml
                } else {
                    left.h >= total.h - left.h
                };
                best = Some(HSplit {
                    feature: j,
                    gain,
                    bin,
                    cats: None,
                    missing_left,
                });
            }
        }
    }
    best
}

/// LightGBM's many-vs-many categorical split: categories sorted by `g / (h + cat_smooth)`,
/// every prefix tried as the left side (with missing values on either side).
fn categorical_split(
    s: &TreeSettings,
    j: usize,
    h: &[Bin],
    total: Bin,
    n_bins: usize,
    c: Cons,
) -> Option<HSplit> {
    let miss = h[MISSING as usize];
    let mut cats: Vec<usize> = (0..n_bins).filter(|&c| h[c].c > 0.0).collect();
    if cats.len() + usize::from(miss.c > 0.0) < 2 {
        return None;
    }
    cats.sort_by(|&a, &b| {
        let ra = h[a].g / (h[a].h + s.cat_smooth);
        let rb = h[b].g / (h[b].h + s.cat_smooth);
        ra.total_cmp(&rb).then(a.cmp(&b))
    });
    let mut left = Bin::default();
    let mut best: Option<(f64, usize, bool)> = None;
    for k in 0..cats.len() {
        left = add(left, h[cats[k]]);
        let last = k + 1 == cats.len();
        if last && miss.c == 0.0 {
            break;
        }
        let sides: &[bool] = if miss.c > 0.0 && !last {
            &[false, true]
        } else {
            &[false]
        };
        for &ml in sides {
            let l = if ml { add(left, miss) } else { left };
            if let Some(gain) = split_gain(s, l, total, c)
                && best.is_none_or(|b| gain > b.0)
            {
                best = Some((gain, k, ml));
            }
        }
    }
    let (gain, k, ml) = best?;
    let mut bits = [0u64; 4];
    let mut wl = 0.0;
    for &c in &cats[..=k] {
        bits[c / 64] |= 1 << (c % 64);
        wl += h[c].h;
    }
    Some(HSplit {
        feature: j,
        gain,
        bin: 0,
        cats: Some(bits),
        missing_left: if miss.c > 0.0 { ml } else { wl >= total.h - wl },
    })
}
