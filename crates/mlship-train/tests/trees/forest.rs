//! Forest properties.

use mlship_core::traits::FitContext;
use mlship_train::{FittedModel, ModelSpec};
use proptest::prelude::*;

use crate::synthetic;

fn fit_in_pool(spec: &str, d: &mlship_core::Dataset, threads: usize) -> FittedModel {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        ModelSpec::from_json(spec)
            .unwrap()
            .fit(d.view(), &FitContext::seeded(17))
            .unwrap()
            .model
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn same_seed_same_forest_with_one_and_two_threads(seed in any::<u64>(), classes in 0usize..3) {
        let classes = if classes == 1 { 3 } else { classes };
        let d = synthetic(200, 4, classes, seed);
        for kind in ["random_forest", "extra_trees"] {
            let spec = format!(r#"{{"kind":"{kind}","n_estimators":12,"seed":{}}}"#, seed % 1000);
            let a = fit_in_pool(&spec, &d, 1);
            let b = fit_in_pool(&spec, &d, 2);
            prop_assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
        }
        // Boosting with row and column subsampling too.
        let spec = r#"{"kind":"gbdt","n_estimators":10,"bagging_fraction":0.7,"feature_fraction":0.5,"min_samples_leaf":5}"#;
        let a = fit_in_pool(spec, &d, 1);
        let b = fit_in_pool(spec, &d, 2);
        prop_assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    }
}

#[test]
fn oob_score_is_reported_and_sensible() {
    let d = synthetic(400, 4, 2, 1);
    let m = fit_in_pool(
        r#"{"kind":"random_forest","n_estimators":30,"oob_score":true}"#,
        &d,
        2,
    );
    let FittedModel::RandomForest(m) = m else {
        panic!("not a forest")
    };
    let s = m.oob_score().unwrap();
    assert!(s > 0.7 && s <= 1.0, "{s}");
    let e = ModelSpec::from_json(r#"{"kind":"extra_trees","oob_score":true}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("oob_score"), "{e}");
}

#[test]
fn forest_probabilities_are_means_of_leaf_fractions() {
    let d = synthetic(200, 3, 3, 9);
    let m = fit_in_pool(r#"{"kind":"random_forest","n_estimators":10}"#, &d, 2);
    let p = m.as_model().predict_proba(d.x().view()).unwrap();
    for row in p.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    let fi: f64 = match &m {
        FittedModel::RandomForest(t) => t.feature_importances().iter().sum(),
        _ => panic!("not a forest"),
    };
    assert!((fi - 1.0).abs() < 1e-12);
}

#[test]
fn the_fit_context_thread_count_does_not_change_the_model() {
    let d = synthetic(300, 4, 2, 31);
    for spec in [
        r#"{"kind":"random_forest","n_estimators":8}"#,
        r#"{"kind":"gbdt","n_estimators":8,"bagging_fraction":0.8}"#,
    ] {
        let fit = |threads| {
            let ctx = FitContext {
                threads,
                ..FitContext::seeded(4)
            };
            ModelSpec::from_json(spec)
                .unwrap()
                .fit(d.view(), &ctx)
                .unwrap()
                .model
                .to_bytes()
                .unwrap()
        };
        assert_eq!(fit(1), fit(3), "{spec}");
    }
}
