#![allow(clippy::needless_range_loop)]

use mlship_core::rng::Rng;
use mlship_core::tree::{Link, Node as CoreNode, Tree};
use ndarray::Array2;
use proptest::prelude::*;

use super::*;

/// Features 0 and 1 are numeric, the rest categorical with codes 0..5.
const NUMERIC: u32 = 2;

/// A random tree of at most `depth` levels over `m` features, with thresholds, category
/// bitsets, random default directions and covers (some zero, not always consistent).
fn random_tree(r: &mut Rng, m: u32, depth: usize, width: usize, output: Option<u32>) -> Tree {
    let mut nodes = Vec::new();
    let mut n_leaves = 0u32;
    grow(r, m, depth, &mut nodes, &mut n_leaves);
    Tree {
        nodes,
        leaf_values: (0..n_leaves as usize * width).map(|_| r.normal()).collect(),
        output,
    }
}

fn grow(r: &mut Rng, m: u32, depth: usize, nodes: &mut Vec<CoreNode>, leaves: &mut u32) -> f64 {
    let at = nodes.len();
    nodes.push(CoreNode {
        cover: 0.0,
        kind: NodeKind::Leaf { index: 0 },
    });
    if depth == 0 || r.below(5) == 0 {
        nodes[at].kind = NodeKind::Leaf { index: *leaves };
        *leaves += 1;
        let cover = if r.below(8) == 0 {
            0.0
        } else {
            1.0 + r.below(20) as f64
        };
        nodes[at].cover = cover;
        return cover;
    }
    let feature = r.below(u64::from(m)) as u32;
    let rule = if feature < NUMERIC {
        SplitRule::Threshold((r.normal() * 2.0).round() / 2.0)
    } else {
        SplitRule::Categories(vec![r.below(64)])
    };
    let default_left = r.below(2) == 0;
    let left = nodes.len() as u32;
    let cl = grow(r, m, depth - 1, nodes, leaves);
    let right = nodes.len() as u32;
    let cr = grow(r, m, depth - 1, nodes, leaves);
    nodes[at].cover = if r.below(10) == 0 {
        cl + cr + 3.0
    } else {
        cl + cr
    };
    nodes[at].kind = NodeKind::Split {
        feature,
        rule,
        default_left,
        left,
        right,
    };
    nodes[at].cover
}

fn random_row(r: &mut Rng, m: u32) -> Vec<f64> {
    (0..m)
        .map(|f| {
            if r.below(6) == 0 {
                f64::NAN
            } else if f < NUMERIC {
                (r.normal() * 2.0).round() / 2.0
            } else {
                // Codes 0..6 plus one out of range and one negative.
                r.below(8) as f64 - 1.0
            }
        })
        .collect()
}

/// A random ensemble: boosted (summed, some trees per output) or a forest (averaged).
fn random_ensemble(seed: u64, m: u32, n_outputs: u32, depth: usize) -> TreeEnsemble {
    let mut r = Rng::new(seed);
    let forest = r.below(2) == 0;
    let n_trees = 1 + r.below(4) as usize;
    let trees = (0..n_trees)
        .map(|t| {
            if !forest && n_outputs > 1 && r.below(2) == 0 {
                random_tree(&mut r, m, depth, 1, Some((t as u32) % n_outputs))
            } else {
                random_tree(&mut r, m, depth, n_outputs as usize, None)
            }
        })
        .collect();
    let base = (0..n_outputs).map(|_| r.normal()).collect();
    let link = if n_outputs == 1 {
        Link::Identity
    } else {
        Link::Softmax
    };
    let agg = if forest {
        Aggregation::Mean
    } else {
        Aggregation::Sum
    };
    TreeEnsemble::new(trees, m, n_outputs, base, agg, link).unwrap()
}

fn frac(tree: &Tree, parent: usize, child: usize) -> f64 {
    let c = tree.nodes[parent].cover;
    if c > 0.0 {
        tree.nodes[child].cover / c
    } else {
        0.5
    }
}

/// E[f(x) | x_S] under the covers, straight from the definition.
fn cond_value(
    tree: &Tree,
    node: usize,
    x: &[f64],
    in_s: &dyn Fn(usize) -> bool,
    out: &mut [f64],
    w: f64,
    width: usize,
) {
    match &tree.nodes[node].kind {
        NodeKind::Leaf { index } => {
            let vals = &tree.leaf_values[*index as usize * width..(*index as usize + 1) * width];
            match tree.output {
                Some(o) => out[o as usize] += w * vals[0],
                None => out.iter_mut().zip(vals).for_each(|(o, v)| *o += w * v),
            }
        }
        NodeKind::Split {
            feature,
            rule,
            default_left,
            left,
            right,
        } => {
            let (l, r) = (*left as usize, *right as usize);
            if in_s(*feature as usize) {
                let v = x[*feature as usize];
                let go_left = if v.is_nan() {
                    *default_left
                } else {
                    mlship_core::tree::rule_goes_left(rule, v)
                };
                cond_value(tree, if go_left { l } else { r }, x, in_s, out, w, width);
            } else {
                cond_value(tree, l, x, in_s, out, w * frac(tree, node, l), width);
                cond_value(tree, r, x, in_s, out, w * frac(tree, node, r), width);
            }
        }
    }
}

fn path_dependent_game(e: &TreeEnsemble, x: &[f64], s: u32) -> Vec<f64> {
    let mut out = e.base_score().to_vec();
    let scale = if e.aggregation() == Aggregation::Mean {
        1.0 / e.trees().len() as f64
    } else {
        1.0
    };
    for t in e.trees() {
        let mut v = vec![0.0; e.n_outputs()];
        cond_value(t, 0, x, &|f| s >> f & 1 == 1, &mut v, 1.0, e.width(t));
        out.iter_mut().zip(&v).for_each(|(o, v)| *o += scale * v);
    }
    out
}

fn interventional_game(e: &TreeEnsemble, x: &[f64], bg: &Array2<f64>, s: u32) -> Vec<f64> {
    let mut out = vec![0.0; e.n_outputs()];
    let mut tmp = vec![0.0; e.n_outputs()];
    for r in bg.rows() {
        let z: Vec<f64> = (0..x.len())
            .map(|f| if s >> f & 1 == 1 { x[f] } else { r[f] })
            .collect();
        e.predict_raw_row(&z, &mut tmp).unwrap();
        out.iter_mut()
            .zip(&tmp)
            .for_each(|(o, v)| *o += v / bg.nrows() as f64);
    }
    out
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|i| i as f64).product()
}

/// Shapley values `[output][feature]` of a game over `m` players, by all subsets.
fn brute_shapley(m: usize, k: usize, game: &dyn Fn(u32) -> Vec<f64>) -> Vec<f64> {
    let values: Vec<Vec<f64>> = (0..1u32 << m).map(game).collect();
    let mut phi = vec![0.0; k * m];
    for i in 0..m {
        for s in 0..1u32 << m {
            if s >> i & 1 == 1 {
                continue;
            }
            let size = s.count_ones() as usize;
            let w = factorial(size) * factorial(m - size - 1) / factorial(m);
            for o in 0..k {
                phi[o * m + i] += w * (values[(s | 1 << i) as usize][o] - values[s as usize][o]);
            }
        }
    }
    phi
}

/// Shapley interaction values `[output][i][j]` by all subsets.
fn brute_interactions(m: usize, k: usize, game: &dyn Fn(u32) -> Vec<f64>) -> Vec<f64> {
    let values: Vec<Vec<f64>> = (0..1u32 << m).map(game).collect();
    let phi = brute_shapley(m, k, game);
    let mut out = vec![0.0; k * m * m];
    for i in 0..m {
        for j in 0..m {
            if i == j {
                continue;
            }
            for s in 0..1u32 << m {
                if s >> i & 1 == 1 || s >> j & 1 == 1 {
                    continue;
                }
                let size = s.count_ones() as usize;
                let w = factorial(size) * factorial(m - size - 2) / (2.0 * factorial(m - 1));
                for o in 0..k {
                    let d = values[(s | 1 << i | 1 << j) as usize][o]
                        - values[(s | 1 << i) as usize][o]
                        - values[(s | 1 << j) as usize][o]
                        + values[s as usize][o];
                    out[(o * m + i) * m + j] += w * d;
                }
            }
        }
        for o in 0..k {
            let off: f64 = (0..m)
                .filter(|&j| j != i)
                .map(|j| out[(o * m + i) * m + j])
                .sum();
            out[(o * m + i) * m + i] = phi[o * m + i] - off;
        }
    }
    out
}

fn rows(r: &mut Rng, n: usize, m: u32) -> Array2<f64> {
    let data: Vec<f64> = (0..n).flat_map(|_| random_row(r, m)).collect();
    Array2::from_shape_vec((n, m as usize), data).unwrap()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}\n{a:?}\n{b:?}"
        );
    }
}

#[test]
fn stump_by_hand() {
    // x0 <= 0 ? 1 : 3, covers 1 and 3: expected value 2.5.
    let tree = Tree {
        nodes: vec![
            CoreNode {
                cover: 4.0,
                kind: NodeKind::Split {
                    feature: 0,
                    rule: SplitRule::Threshold(0.0),
                    default_left: true,
                    left: 1,
                    right: 2,
                },
            },
            CoreNode {
                cover: 1.0,
                kind: NodeKind::Leaf { index: 0 },
            },
            CoreNode {
                cover: 3.0,
                kind: NodeKind::Leaf { index: 1 },
            },
        ],
        leaf_values: vec![1.0, 3.0],
        output: None,
    };
    let e = TreeEnsemble::new(
        vec![tree],
        2,
        1,
        vec![0.5],
        Aggregation::Sum,
        Link::Identity,
    )
    .unwrap();
    let ex = TreeExplainer::new(&e);
    assert_eq!(ex.expected_value(), &[3.0]);
    let x = ndarray::array![[-1.0, 7.0], [f64::NAN, 0.0], [1.0, 0.0]];
    let v = ex.shap_values(x.view()).unwrap();
    assert_eq!(v.row(0, 0), &[-1.5, 0.0]);
    assert_eq!(v.row(1, 0), &[-1.5, 0.0]);
    assert_eq!(v.row(2, 0), &[0.5, 0.0]);
}

#[test]
fn wrong_width_is_an_error() {
    let e = random_ensemble(1, 3, 1, 3);
    let ex = TreeExplainer::new(&e);
    let err = ex
        .shap_values(Array2::zeros((2, 4)).view())
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected 3, found 4"), "{err}");
    let err = ex
        .interventional_shap_values(Array2::zeros((2, 3)).view(), Array2::zeros((0, 3)).view())
        .unwrap_err()
        .to_string();
    assert!(err.contains("background sample is empty"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Values plus expected value equal the raw output, for deep trees too.
    #[test]
    fn path_dependent_values_add_up(seed in any::<u64>(), k in 1u32..4) {
        let m = 6;
        let e = random_ensemble(seed, m, k, 7);
        let ex = TreeExplainer::new(&e);
        let mut r = Rng::new(seed ^ 7);
        let x = rows(&mut r, 8, m);
        let v = ex.shap_values(x.view()).unwrap();
        let mut raw = vec![0.0; k as usize];
        for (i, row) in x.rows().into_iter().enumerate() {
            e.predict_raw_row(row.as_slice().unwrap(), &mut raw).unwrap();
            for o in 0..k as usize {
                prop_assert!((v.output(i, o) - raw[o]).abs() <= 1e-9, "row {i} output {o}: {} vs {}", v.output(i, o), raw[o]);
            }
        }
    }

    /// Exactly the Shapley values of E[f | x_S], by all subsets.
    #[test]
    fn path_dependent_values_match_brute_force(seed in any::<u64>(), k in 1u32..3) {
        let m = 5;
        let e = random_ensemble(seed, m, k, 5);
        let ex = TreeExplainer::new(&e);
        let mut r = Rng::new(seed ^ 0xB);
        let x = rows(&mut r, 3, m);
        let v = ex.shap_values(x.view()).unwrap();
        for (i, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            let want = brute_shapley(m as usize, k as usize, &|s| path_dependent_game(&e, &row, s));
            let got: Vec<f64> = (0..k as usize).flat_map(|o| v.row(i, o).to_vec()).collect();
            assert_close(&got, &want, 1e-9, "phi");
            let e0 = path_dependent_game(&e, &row, 0);
            assert_close(&v.expected_value, &e0, 1e-12, "expected value");
        }
    }

    /// Interaction values match the Shapley interaction index, and their rows sum to the values.
    #[test]
    fn interaction_values_match_brute_force(seed in any::<u64>(), k in 1u32..3) {
        let m = 4;
        let e = random_ensemble(seed, m, k, 5);
        let ex = TreeExplainer::new(&e);
        let mut r = Rng::new(seed ^ 0xD);
        let x = rows(&mut r, 2, m);
        let iv = ex.interaction_values(x.view()).unwrap();
        for (i, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            let want = brute_interactions(m as usize, k as usize, &|s| path_dependent_game(&e, &row, s));
            let start = i * (k * m * m) as usize;
            assert_close(&iv.values[start..start + (k * m * m) as usize], &want, 1e-9, "interactions");
        }
    }

    /// Interventional values are the Shapley values of the mean over the background, and add up.
    #[test]
    fn interventional_values_match_brute_force(seed in any::<u64>(), k in 1u32..3) {
        let m = 5;
        let e = random_ensemble(seed, m, k, 5);
        let ex = TreeExplainer::new(&e);
        let mut r = Rng::new(seed ^ 0x11);
        let x = rows(&mut r, 3, m);
        let bg = rows(&mut r, 4, m);
        let v = ex.interventional_shap_values(x.view(), bg.view()).unwrap();
        for (i, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            let want = brute_shapley(m as usize, k as usize, &|s| interventional_game(&e, &row, &bg, s));
            let got: Vec<f64> = (0..k as usize).flat_map(|o| v.row(i, o).to_vec()).collect();
            assert_close(&got, &want, 1e-9, "phi");
            let full = interventional_game(&e, &row, &bg, (1u32 << m) - 1);
            for o in 0..k as usize {
                prop_assert!((v.output(i, o) - full[o]).abs() <= 1e-9);
            }
        }
    }
}
