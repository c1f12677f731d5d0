//! Bad input: clear errors or documented behaviour, never a panic; crafted models are refused.

use mlship_core::traits::FitContext;
use mlship_core::tree::{Aggregation, Link, Node, NodeKind, SplitRule, Tree};
use mlship_core::{Dataset, FeatureInfo, FeatureKind, Task};
use mlship_train::{FittedModel, ModelSpec};
use ndarray::{Array1, Array2, array};
use serde::Serialize;

use crate::{binary, dataset};

const KINDS: [&str; 4] = ["decision_tree", "random_forest", "extra_trees", "gbdt"];

fn fit(spec: &str, d: &Dataset) -> mlship_train::Result<FittedModel> {
    Ok(ModelSpec::from_json(spec)?
        .fit(d.view(), &FitContext::seeded(1))?
        .model)
}

#[test]
fn a_nan_target_is_refused_by_the_dataset() {
    let e = Dataset::new(
        array![[1.0], [2.0]],
        vec![FeatureInfo::numeric("a")],
        Task::Regression,
    )
    .unwrap()
    .with_target(array![1.0, f64::NAN])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("target row 1: NaN is not a finite number"),
        "{e}"
    );
}

#[test]
fn a_constant_feature_gives_a_single_leaf_and_zero_importances() {
    let d = dataset(
        Array2::from_elem((30, 1), 4.0),
        (0..30).map(f64::from).collect(),
        Task::Regression,
        None,
    );
    for kind in KINDS {
        let m = fit(
            &format!(r#"{{"kind":"{kind}","n_estimators":3}}"#).replace(
                r#""kind":"decision_tree","n_estimators":3"#,
                r#""kind":"decision_tree""#,
            ),
            &d,
        )
        .unwrap();
        let p = m.as_model().predict(array![[4.0], [100.0]].view()).unwrap();
        // Every tree is one leaf: the (bootstrap) mean, 14.5 for the tree and boosting.
        assert!(p[0] == p[1] && (p[0] - 14.5).abs() < 5.0, "{kind}: {p}");
        let e = m.as_model().tree_ensemble().unwrap();
        assert!(e.trees().iter().all(|t| t.nodes.len() == 1), "{kind}");
    }
}

#[test]
fn a_single_row_fits_a_leaf() {
    let d = dataset(array![[1.0, 2.0]], vec![7.0], Task::Regression, None);
    for kind in KINDS {
        let spec = if kind == "decision_tree" {
            format!(r#"{{"kind":"{kind}"}}"#)
        } else {
            format!(r#"{{"kind":"{kind}","n_estimators":2}}"#)
        };
        let m = fit(&spec, &d).unwrap();
        let p = m.as_model().predict(array![[0.0, 0.0]].view()).unwrap();
        assert!((p[0] - 7.0).abs() < 1e-12, "{kind}: {p}");
    }
    let e = fit(r#"{"kind":"gbdt","validation_fraction":0.2}"#, &d)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("validation_fraction needs at least two rows"),
        "{e}"
    );
}

#[test]
fn invalid_parameters_name_the_parameter() {
    for (spec, want) in [
        (
            r#"{"kind":"gbdt","num_leaves":1}"#,
            "invalid num_leaves = 1: expected an integer >= 2",
        ),
        (r#"{"kind":"gbdt","max_bin":256}"#, "invalid max_bin = 256"),
        (
            r#"{"kind":"gbdt","learning_rate":0}"#,
            "invalid learning_rate = 0",
        ),
        (
            r#"{"kind":"gbdt","bagging_fraction":1.5}"#,
            "invalid bagging_fraction = 1.5",
        ),
        (
            r#"{"kind":"decision_tree","max_features":0}"#,
            "invalid max_features = 0",
        ),
        (
            r#"{"kind":"decision_tree","max_features":1.5}"#,
            "invalid max_features = 1.5",
        ),
        (
            r#"{"kind":"decision_tree","min_samples_split":1}"#,
            "invalid min_samples_split = 1",
        ),
        (
            r#"{"kind":"decision_tree","max_leaf_nodes":1}"#,
            "invalid max_leaf_nodes = 1",
        ),
        (
            r#"{"kind":"random_forest","n_estimators":0}"#,
            "invalid n_estimators = 0",
        ),
        (
            r#"{"kind":"random_forest","max_samples":0.0}"#,
            "invalid max_samples = 0",
        ),
        (
            r#"{"kind":"decision_tree","depth":3}"#,
            "unknown field `depth`",
        ),
    ] {
        let e = ModelSpec::from_json(spec).unwrap_err().to_string();
        assert!(e.contains(want), "{spec}: {e}");
    }
    // A criterion of the wrong task is refused at fit time.
    let d = dataset(array![[1.0], [2.0]], vec![0.0, 1.0], binary(), None);
    let e = fit(
        r#"{"kind":"decision_tree","criterion":"squared_error"}"#,
        &d,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("invalid criterion = squarederror"), "{e}");
    let e = fit(r#"{"kind":"gbdt","loss":"squared_error"}"#, &d)
        .unwrap_err()
        .to_string();
    assert!(e.contains("log_loss for classification"), "{e}");
}

#[test]
fn too_many_categories_and_bad_codes_are_refused() {
    let n = 300;
    let x = Array2::from_shape_fn((n, 1), |(i, _)| (i % 300) as f64);
    let cat = |levels| {
        vec![FeatureInfo {
            name: "zip".into(),
            kind: FeatureKind::Categorical { n_levels: levels },
        }]
    };
    let d = Dataset::new(x.clone(), cat(300), Task::Regression)
        .unwrap()
        .with_target(Array1::zeros(n))
        .unwrap();
    let e = fit(r#"{"kind":"gbdt"}"#, &d).unwrap_err().to_string();
    assert!(
        e.contains("feature \"zip\" has 300 categories, more than max_bin = 255"),
        "{e}"
    );
    let d = Dataset::new(x.mapv(|v| v / 2.0), cat(200), Task::Regression)
        .unwrap()
        .with_target(Array1::zeros(n))
        .unwrap();
    let e = fit(r#"{"kind":"gbdt"}"#, &d).unwrap_err().to_string();
    assert!(
        e.contains("row 1: 0.5 is not a category code in 0..200"),
        "{e}"
    );
}

#[test]
fn infinite_features_are_refused() {
    let d = dataset(
        array![[1.0], [f64::INFINITY]],
        vec![0.0, 1.0],
        Task::Regression,
        None,
    );
    for kind in KINDS {
        let e = fit(&format!(r#"{{"kind":"{kind}"}}"#), &d)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("feature \"f0\" row 1: inf is infinite"),
            "{kind}: {e}"
        );
    }
}

/// The stored layout of a tree model, mirrored to craft bundles.
#[derive(Serialize)]
struct State {
    classes: Vec<String>,
    ensemble: Ensemble,
    gain: Vec<f64>,
    splits: Vec<f64>,
    oob_score: Option<f64>,
}

#[derive(Serialize)]
struct Ensemble {
    trees: Vec<Tree>,
    n_features: u32,
    n_outputs: u32,
    base_score: Vec<f64>,
    aggregation: Aggregation,
    link: Link,
}

fn stump(feature: u32, threshold: f64, left: u32, leaf: f64) -> Tree {
    Tree {
        nodes: vec![
            Node {
                cover: 2.0,
                kind: NodeKind::Split {
                    feature,
                    rule: SplitRule::Threshold(threshold),
                    default_left: true,
                    left,
                    right: 2,
                },
            },
            Node {
                cover: 1.0,
                kind: NodeKind::Leaf { index: 0 },
            },
            Node {
                cover: 1.0,
                kind: NodeKind::Leaf { index: 1 },
            },
        ],
        leaf_values: vec![leaf, 2.0],
        output: None,
    }
}

/// Bytes of a decision-tree model (format version 1, variant 2) holding `tree`.
fn crafted(tree: Tree, gain: Vec<f64>) -> Vec<u8> {
    let state = State {
        classes: vec![],
        ensemble: Ensemble {
            trees: vec![tree],
            n_features: 2,
            n_outputs: 1,
            base_score: vec![0.0],
            aggregation: Aggregation::Sum,
            link: Link::Identity,
        },
        splits: vec![0.0; gain.len()],
        gain,
        oob_score: None,
    };
    let mut bytes = vec![1u8, 2u8];
    bytes.extend(postcard::to_stdvec(&state).unwrap());
    bytes
}

#[test]
fn crafted_models_are_refused_on_load() {
    let ok = FittedModel::from_bytes(&crafted(stump(1, 0.5, 1, 1.0), vec![1.0, 0.0])).unwrap();
    assert_eq!(ok.kind(), "decision_tree");
    assert_eq!(
        ok.as_model()
            .predict(array![[0.0, 0.0], [0.0, 9.0], [0.0, f64::NAN]].view())
            .unwrap()
            .to_vec(),
        vec![1.0, 2.0, 1.0]
    );
    for (bytes, want) in [
        (
            crafted(stump(1, 0.5, 0, 1.0), vec![1.0, 0.0]),
            "child 0 must come after it",
        ),
        (
            crafted(stump(1, 0.5, 7, 1.0), vec![1.0, 0.0]),
            "child 7 must come after it and be below 3",
        ),
        (
            crafted(stump(2, 0.5, 1, 1.0), vec![1.0, 0.0]),
            "feature 2 is out of range for 2 features",
        ),
        (
            crafted(stump(1, f64::NAN, 1, 1.0), vec![1.0, 0.0]),
            "threshold is NaN",
        ),
        (
            crafted(stump(1, 0.5, 1, f64::INFINITY), vec![1.0, 0.0]),
            "leaf value inf is not finite",
        ),
        (
            crafted(stump(1, 0.5, 1, 1.0), vec![1.0]),
            "1 gains and 1 split counts for 2 features",
        ),
        (
            crafted(stump(1, 0.5, 1, 1.0), vec![f64::NAN, 0.0]),
            "importance NaN",
        ),
    ] {
        let e = FittedModel::from_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    let good = crafted(stump(1, 0.5, 1, 1.0), vec![1.0, 0.0]);
    assert!(FittedModel::from_bytes(&good[..good.len() - 3]).is_err());
}

#[test]
fn tree_variant_tags_are_the_ones_the_loader_explains() {
    let d = dataset(
        Array2::from_shape_fn((40, 2), |(i, j)| (i * (j + 1)) as f64),
        (0..40).map(f64::from).collect(),
        Task::Regression,
        None,
    );
    for (tag, kind) in KINDS.iter().enumerate() {
        let m = fit(
            &format!(r#"{{"kind":"{kind}","n_estimators":2}}"#).replace(
                r#""kind":"decision_tree","n_estimators":2"#,
                r#""kind":"decision_tree""#,
            ),
            &d,
        )
        .unwrap();
        assert_eq!(m.to_bytes().unwrap()[1] as usize, tag + 2, "{kind}");
    }
}
