use mlship_core::RawColumn;
use mlship_core::rng::Rng;
use mlship_evaluate::cv::cross_validate;
use mlship_evaluate::split::{SplitSpec, StratifiedKFold};

use super::*;

/// `n` rows: a pure-noise categorical column with `levels` levels, a pure-noise number, and a
/// binary target independent of both.
fn noise_batch(n: usize, levels: usize, seed: u64) -> RawBatch {
    let mut rng = Rng::new(seed);
    let ids: Vec<String> = (0..n).map(|_| format!("id{}", rng.index(levels))).collect();
    let x: Vec<Option<f64>> = (0..n).map(|_| Some(rng.normal())).collect();
    let y: Vec<&str> = (0..n)
        .map(|_| if rng.bernoulli(0.5) { "yes" } else { "no" })
        .collect();
    RawBatch::new(vec![
        RawColumn::categorical("id", ids.iter().map(|s| Some(s.as_str()))),
        RawColumn::numeric("x", x),
        RawColumn::categorical("y", y.iter().map(|s| Some(*s))),
    ])
    .unwrap()
}

fn target_encoded() -> PipelineSpec {
    PipelineSpec::from_toml("target = \"y\"\n[encode]\nmethod = \"target\"\n", "test").unwrap()
}

fn stratified(n_splits: usize) -> Box<dyn mlship_evaluate::split::Splitter> {
    SplitSpec::StratifiedKFold(StratifiedKFold {
        n_splits,
        shuffle: true,
        seed: 1,
    })
    .build()
    .unwrap()
}

fn labels(batch: &RawBatch) -> Vec<f64> {
    let c = batch.column("y").unwrap();
    (0..c.len())
        .map(|r| f64::from(c.value(r).to_string().contains("yes")))
        .collect()
}

#[test]
fn target_encoding_of_noise_does_not_leak_into_cv_scores() {
    let batch = noise_batch(600, 250, 7);
    let spec = target_encoded();
    let task = Task::classification(["no", "yes"]).unwrap();
    let y = labels(&batch);
    let fixed = ParamSet::new().with("max_depth", 8i64);
    let fitter = FoldFitter::new(
        &batch,
        &spec,
        "y",
        &task,
        "decision_tree",
        fixed.clone(),
        Metric::RocAuc,
        0,
    );
    let closure = fitter.closure();
    let cv = cross_validate(
        stratified(5).as_ref(),
        batch.n_rows(),
        Some(&y),
        None,
        &ParamSet::new(),
        &closure,
        2,
    )
    .unwrap();
    assert!(
        cv.mean <= 0.55,
        "cross-validated ROC AUC {} on noise",
        cv.mean
    );

    // The same model scored on rows the encoder saw (the leak the closure prevents) looks
    // far better than chance, so the bound above can fail.
    let fitted = Pipeline::fit(batch.clone(), &spec, None).unwrap();
    let leaky = fitted.pipeline.transform(batch.clone()).unwrap();
    let splitter = stratified(5);
    let folds = splitter.split(batch.n_rows(), Some(&y), None).unwrap();
    let mut aucs = Vec::new();
    for fold in &folds {
        let model = ModelSpec::from_params("decision_tree", &fixed)
            .unwrap()
            .fit(leaky.rows(&fold.train).unwrap(), &FitContext::seeded(0))
            .unwrap()
            .model;
        let valid = leaky.rows(&fold.valid).unwrap();
        let proba = model.as_model().predict_proba(valid.x().view()).unwrap();
        let yv = valid.y().unwrap().to_vec();
        aucs.push(Metric::RocAuc.score(&yv, &yv, Some(&proba), None).unwrap());
    }
    let leaky_mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    assert!(leaky_mean > 0.6, "leaky ROC AUC {leaky_mean}");
}

#[test]
fn a_class_missing_from_a_fold_is_named() {
    // 12 rows, one of class "rare": unshuffled 3-fold KFold leaves it out of two folds' training.
    let batch = RawBatch::new(vec![
        RawColumn::numeric("x", (0..12).map(|i| Some(f64::from(i)))),
        RawColumn::categorical(
            "y",
            (0..12).map(|i| {
                Some(if i == 0 {
                    "rare"
                } else if i % 2 == 0 {
                    "a"
                } else {
                    "b"
                })
            }),
        ),
    ])
    .unwrap();
    let spec = PipelineSpec::from_toml("target = \"y\"", "t").unwrap();
    let task = Task::classification(["a", "b", "rare"]).unwrap();
    let fitter = FoldFitter::new(
        &batch,
        &spec,
        "y",
        &task,
        "logistic",
        ParamSet::new(),
        Metric::Accuracy,
        0,
    );
    let closure = fitter.closure();
    let kfold = SplitSpec::KFold(mlship_evaluate::split::KFold {
        n_splits: 3,
        ..Default::default()
    })
    .build()
    .unwrap();
    let e = cross_validate(
        kfold.as_ref(),
        12,
        None,
        None,
        &ParamSet::new(),
        &closure,
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("fold 0") && e.contains("class \"rare\"") && e.contains("stratified"),
        "{e}"
    );
}

#[test]
fn pipeline_parameters_change_the_spec() {
    let spec = PipelineSpec::default();
    let changed = apply_pipeline_params(
        &spec,
        &[
            ("scale.method".into(), ParamValue::from("robust")),
            ("encode.method".into(), ParamValue::from("ordinal")),
        ],
    )
    .unwrap();
    assert_eq!(changed.scale.method, "robust");
    assert_eq!(changed.encode.method, "ordinal");
    let e = apply_pipeline_params(&spec, &[("scale.methdo".into(), ParamValue::from("x"))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("methdo"), "{e}");
    let (model, pipe) = split_params(
        &ParamSet::new()
            .with("C", 0.5)
            .with("pipeline.scale.method", "robust"),
    );
    assert_eq!(model.to_string(), "C=0.5");
    assert_eq!(pipe[0].0, "scale.method");
}

const MINIMAL: &str = r#"
data = "data.csv"
target = "y"
[[candidates]]
kind = "logistic"
space = { C = { kind = "log_uniform", low = 0.01, high = 100.0 } }
"#;

#[test]
fn defaults_come_from_default() {
    let spec = ExperimentSpec::from_toml(MINIMAL, "e.toml").unwrap();
    spec.validate("e.toml").unwrap();
    let d = ExperimentSpec::default();
    assert_eq!(spec.max_candidates, d.max_candidates);
    assert_eq!(spec.max_candidates, 20);
    assert_eq!(spec.search, SearchKind::Random);
    assert_eq!(spec.split, HoldoutSpec::default());
    assert_eq!(spec.pipeline, PipelineRef::default());
    assert_eq!(spec.candidates[0].label(), "logistic");
    let binary = Task::classification(["0", "1"]).unwrap();
    assert_eq!(spec.validate_for(&binary, "e").unwrap(), Metric::RocAuc);
    assert_eq!(spec.cv_for(&binary), SplitSpec::default());
    assert_eq!(
        spec.cv_for(&Task::Regression),
        SplitSpec::default_for_regression()
    );
}

#[test]
fn pipelines_read_inline_or_by_path() {
    let text = format!("pipeline = \"p.toml\"\n{MINIMAL}");
    let spec = ExperimentSpec::from_toml(&text, "e.toml").unwrap();
    assert_eq!(spec.pipeline, PipelineRef::Path("p.toml".into()));
    let text = format!("{MINIMAL}\n[pipeline]\nseed = 3\n[pipeline.scale]\nmethod = \"robust\"\n");
    let spec = ExperimentSpec::from_toml(&text, "e.toml").unwrap();
    let PipelineRef::Inline(p) = &spec.pipeline else {
        panic!("inline expected")
    };
    assert_eq!((p.seed, p.scale.method.as_str()), (3, "robust"));
    let text = format!("{MINIMAL}\n[pipeline.scale]\nmethdo = \"robust\"\n");
    let e = ExperimentSpec::from_toml(&text, "e.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("methdo") && e.starts_with("e.toml: "), "{e}");
}

#[test]
fn bad_experiments_say_what_is_valid() {
    let e = |text: &str| match ExperimentSpec::from_toml(text, "e.toml") {
        Err(e) => e.to_string(),
        Ok(s) => s.validate("e.toml").unwrap_err().to_string(),
    };
    let msg = e(&MINIMAL.replace("\"logistic\"", "\"svm\""));
    assert!(
        msg.contains("unknown model kind \"svm\"") && msg.contains("random_forest, "),
        "{msg}"
    );
    let msg = e(&format!("metric = \"auc\"\n{MINIMAL}"));
    assert!(
        msg.contains("unknown metric \"auc\"") && msg.contains("roc_auc,"),
        "{msg}"
    );
    let msg = e(&format!("metrc = \"r2\"\n{MINIMAL}"));
    assert!(msg.contains("metrc"), "{msg}");
    let msg = e(&MINIMAL.replace("log_uniform", "loguniform"));
    assert!(msg.contains("log_uniform"), "{msg}");
    let msg = e(&format!("search = \"grid\"\n{MINIMAL}"));
    assert!(msg.contains("grid search takes lists"), "{msg}");
    let msg = e("data = \"d.csv\"\n");
    assert!(msg.contains("no candidates"), "{msg}");
    let msg = e(&MINIMAL.replace("space =", "params = { C2 = 1.0 }\nspace ="));
    assert!(msg.contains("C2"), "{msg}");

    // A metric that does not fit the task lists those that do.
    let spec = ExperimentSpec::from_toml(&format!("metric = \"r2\"\n{MINIMAL}"), "e").unwrap();
    let binary = Task::classification(["0", "1"]).unwrap();
    let msg = spec
        .validate_for(&binary, "e.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("r2 does not fit a binary target") && msg.contains("roc_auc"),
        "{msg}"
    );
    let spec = ExperimentSpec::from_toml(MINIMAL, "e").unwrap();
    let msg = spec
        .validate_for(&Task::Regression, "e.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("logistic is a classifier"), "{msg}");
    let spec =
        ExperimentSpec::from_toml(&format!("calibration = \"isotonic\"\n{MINIMAL}"), "e").unwrap();
    let three = Task::classification(["a", "b", "c"]).unwrap();
    let msg = spec.validate_for(&three, "e.toml").unwrap_err().to_string();
    assert!(msg.contains("needs a binary target"), "{msg}");
}

#[test]
fn metrics_rank_in_the_right_direction() {
    assert!(Metric::RocAuc.greater_is_better());
    assert!(!Metric::Rmse.greater_is_better());
    assert!(!Metric::LogLoss.greater_is_better());
    let y = [0.0, 1.0, 1.0, 0.0];
    let pred = [0.0, 1.0, 0.0, 0.0];
    assert_eq!(Metric::Accuracy.score(&y, &pred, None, None).unwrap(), 0.75);
    let all = Metric::all_for(&Task::Regression, &y, &pred, None, None);
    assert_eq!(all["mae"], 0.25);
    assert!(!all.contains_key("accuracy"));
}
