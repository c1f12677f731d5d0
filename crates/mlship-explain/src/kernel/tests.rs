use mlship_core::rng::Rng;
use ndarray::{Array2, ArrayView2};

use super::*;
use crate::game::{MatrixGame, RawGame};
use crate::linear::LinearExplainer;
use crate::testutil::{Toy, toy_batch};

fn data(n: usize, m: usize, seed: u64) -> Array2<f64> {
    let mut r = Rng::new(seed);
    Array2::from_shape_fn((n, m), |_| r.normal())
}

fn weights(m: usize) -> Vec<f64> {
    (0..m).map(|j| (j as f64 - 2.0) * 0.7).collect()
}

fn linear(x: ArrayView2<'_, f64>, w: &[f64]) -> Array2<f64> {
    Array2::from_shape_fn((x.nrows(), 1), |(i, _)| {
        x.row(i).iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + 0.25
    })
}

fn logistic(x: ArrayView2<'_, f64>, w: &[f64]) -> Array2<f64> {
    let mut y = linear(x, w);
    // A pairwise product makes the game far from additive.
    for i in 0..x.nrows() {
        y[[i, 0]] = 1.0 / (1.0 + (-(y[[i, 0]] + 1.5 * x[[i, 0]] * x[[i, 1]])).exp());
    }
    y
}

/// Exact Shapley values of a game by all coalitions.
fn brute(game: &dyn Game, row: usize) -> Vec<f64> {
    let m = game.n_players();
    let masks: Vec<bool> = (0..1u32 << m)
        .flat_map(|s| (0..m).map(move |j| s >> j & 1 == 1))
        .collect();
    let mut v = vec![0.0; 1 << m];
    game.values(row, &masks, &mut v).unwrap();
    let fact = |n: usize| (1..=n).map(|i| i as f64).product::<f64>();
    (0..m)
        .map(|i| {
            (0..1usize << m)
                .filter(|s| s >> i & 1 == 0)
                .map(|s| {
                    let size = s.count_ones() as usize;
                    fact(size) * fact(m - size - 1) / fact(m) * (v[s | 1 << i] - v[s])
                })
                .sum()
        })
        .collect()
}

fn max_err(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn kernel_and_permutation_shap_are_exact_on_a_linear_model() {
    let m = 9;
    let w = weights(m);
    let x = data(5, m, 1);
    let bg = data(20, m, 2);
    let game = MatrixGame::new(x.view(), bg.view(), |z| Ok(linear(z, &w)), None).unwrap();
    let coef = Array2::from_shape_vec((1, m), w.clone()).unwrap();
    let exact = LinearExplainer::with_background(coef.view(), &[0.25], bg.view())
        .unwrap()
        .shap_values(x.view())
        .unwrap();
    for nsamples in [30, 100, 2000] {
        let params = KernelParams {
            nsamples: Some(nsamples),
            seed: 3,
        };
        let k = kernel_shap(&game, &params).unwrap();
        assert!((k.expected_value[0] - exact.expected_value[0]).abs() < 1e-12);
        assert!(
            max_err(&k.values, &exact.values) < 1e-9,
            "nsamples {nsamples}"
        );
    }
    let p = permutation_shap(&game, &PermutationParams::default()).unwrap();
    assert!(max_err(&p.values, &exact.values) < 1e-9);
}

#[test]
fn kernel_shap_converges_to_the_exact_values_as_nsamples_grows() {
    let m = 10;
    let w = weights(m);
    let x = data(6, m, 4);
    let bg = data(10, m, 5);
    let game = MatrixGame::new(x.view(), bg.view(), |z| Ok(logistic(z, &w)), None).unwrap();
    let exact: Vec<f64> = (0..x.nrows()).flat_map(|r| brute(&game, r)).collect();
    let err = |nsamples| {
        let v = kernel_shap(
            &game,
            &KernelParams {
                nsamples: Some(nsamples),
                seed: 9,
            },
        )
        .unwrap();
        // Every estimate adds up exactly.
        for r in 0..x.nrows() {
            let mut fx = [0.0];
            game.values(r, &[true; 10], &mut fx).unwrap();
            assert!((v.output(r, 0) - fx[0]).abs() < 1e-12);
        }
        max_err(&v.values, &exact)
    };
    let (e1, e2, e3, full) = (err(24), err(120), err(600), err(1022));
    assert!(full < 1e-10, "all coalitions: {full}");
    assert!(e3 < e1 && e2 < e1, "{e1} {e2} {e3}");
    assert!(e3 < 0.02, "{e3}");
    let perm_err = |n_permutations| {
        let p = permutation_shap(
            &game,
            &PermutationParams {
                n_permutations,
                seed: 1,
            },
        )
        .unwrap();
        max_err(&p.values, &exact)
    };
    let (few, many) = (perm_err(5), perm_err(200));
    assert!(many < few && many < 0.03, "permutation: {few} then {many}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let m = 12;
    let w = weights(m);
    let x = data(9, m, 6);
    let bg = data(5, m, 7);
    let game = MatrixGame::new(x.view(), bg.view(), |z| Ok(logistic(z, &w)), None).unwrap();
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                kernel_shap(
                    &game,
                    &KernelParams {
                        nsamples: Some(100),
                        seed: 5,
                    },
                )
                .unwrap(),
                permutation_shap(
                    &game,
                    &PermutationParams {
                        n_permutations: 3,
                        seed: 5,
                    },
                )
                .unwrap(),
            )
        })
    };
    assert_eq!(run(1), run(3));
    let other = kernel_shap(
        &game,
        &KernelParams {
            nsamples: Some(100),
            seed: 6,
        },
    )
    .unwrap();
    assert_ne!(other, run(1).0);
}

#[test]
fn raw_columns_and_groups_are_players() {
    let toy = Toy::regressor();
    let x = toy_batch(4, 1);
    let bg = toy_batch(30, 2);
    let game = RawGame::new(&toy, &x, &bg, None).unwrap();
    assert_eq!(game.output_names(), ["value"]);
    let v = kernel_shap(&game, &KernelParams::default()).unwrap();
    let p = permutation_shap(
        &game,
        &PermutationParams {
            n_permutations: 50,
            seed: 0,
        },
    )
    .unwrap();
    for r in 0..4 {
        let exact = brute(&game, r);
        assert!(max_err(v.row(r, 0), &exact) < 1e-9);
        assert!(
            max_err(p.row(r, 0), &exact) < 1e-9,
            "3 players: 50 antithetic walks cover all orders"
        );
    }
    // b enters additively: its value is −(b − mean b).
    let b = |batch: &mlship_core::RawBatch, r| match batch.column("b").unwrap().value(r) {
        mlship_core::batch::RawValue::Number(v) => v,
        _ => unreachable!(),
    };
    let mean_b = (0..30).map(|r| b(&bg, r)).sum::<f64>() / 30.0;
    assert!((v.get(0, 0, 1) + (b(&x, 0) - mean_b)).abs() < 1e-9);

    let groups = vec![vec!["a".to_owned(), "c".to_owned()], vec!["b".to_owned()]];
    let grouped = RawGame::new(&toy, &x, &bg, Some(&groups)).unwrap();
    let g = kernel_shap(&grouped, &KernelParams::default()).unwrap();
    assert_eq!(g.n_features, 2);
    assert!((g.get(0, 0, 1) - v.get(0, 0, 1)).abs() < 1e-9);
    for r in 0..4 {
        assert!((g.output(r, 0) - v.output(r, 0)).abs() < 1e-9);
    }

    let bad = vec![vec!["a".to_owned()], vec!["a".to_owned()]];
    let e = RawGame::new(&toy, &x, &bg, Some(&bad))
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 0 in two groups"), "{e}");
    let bad = vec![vec!["nope".to_owned()]];
    let e = RawGame::new(&toy, &x, &bg, Some(&bad))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown column \"nope\""), "{e}");
}

#[test]
fn a_classifier_is_explained_on_its_probabilities() {
    let toy = Toy::classifier();
    let x = toy_batch(3, 1);
    let bg = toy_batch(10, 2);
    let game = RawGame::new(&toy, &x, &bg, None).unwrap();
    assert_eq!(game.output_names(), ["no", "yes"]);
    let v = kernel_shap(&game, &KernelParams::default()).unwrap();
    for r in 0..3 {
        let s: f64 = v.output(r, 0) + v.output(r, 1);
        assert!((s - 1.0).abs() < 1e-9);
    }
    let mut no_proba = Toy::classifier();
    no_proba.probabilities = false;
    let game = RawGame::new(&no_proba, &x, &bg, None).unwrap();
    let e = kernel_shap(&game, &KernelParams::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs class probabilities"), "{e}");
}
