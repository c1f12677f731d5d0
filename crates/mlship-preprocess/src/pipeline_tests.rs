use proptest::prelude::*;

use super::*;
use crate::spec::{BinSpec, PolynomialSpec};

fn penguins() -> RawBatch {
    RawBatch::new(vec![
        RawColumn::categorical(
            "species",
            [
                Some("Adelie"),
                Some("Gentoo"),
                Some("Adelie"),
                Some("Chinstrap"),
                Some("Gentoo"),
                None,
                Some("Adelie"),
            ],
        ),
        RawColumn::categorical(
            "island",
            [
                Some("Torgersen"),
                Some("Biscoe"),
                Some(" Dream"),
                Some("Dream"),
                Some("Biscoe"),
                Some("Dream"),
                None,
            ],
        ),
        RawColumn::numeric(
            "bill",
            [
                Some(39.1),
                Some(46.1),
                None,
                Some(46.5),
                Some(50.0),
                Some(40.0),
                Some(38.6),
            ],
        ),
        RawColumn::numeric(
            "mass",
            [
                Some(3750.0),
                Some(4500.0),
                Some(3800.0),
                None,
                Some(5700.0),
                Some(3900.0),
                Some(3650.0),
            ],
        ),
        RawColumn::boolean(
            "tagged",
            [
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                None,
                Some(true),
                Some(false),
            ],
        ),
        RawColumn::numeric("const", [Some(1.0); 7]),
    ])
    .unwrap()
}

fn spec() -> PipelineSpec {
    let mut s = PipelineSpec::default();
    s.features
        .insert("ratio".into(), "bill / mass * 1000".into());
    s.impute.add_indicator = true;
    s
}

#[test]
fn fit_names_features_and_reports_cleaning() {
    let f = Pipeline::fit(penguins(), &spec(), Some("species")).unwrap();
    let names: Vec<&str> = f
        .pipeline
        .features()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "island=Biscoe",
            "island=Dream",
            "island=Torgersen",
            "island_missing",
            "bill",
            "bill_missing",
            "mass",
            "mass_missing",
            "tagged",
            "tagged_missing",
            "ratio",
            "ratio_missing",
        ]
    );
    let r = f.pipeline.report();
    assert_eq!(r.clean.missing_target, 1);
    assert_eq!(r.clean.constant_columns, vec!["const".to_owned()]);
    assert_eq!(r.dropped_columns["const"], "constant in the training data");
    assert_eq!(r.n_rows, 6);
    assert_eq!(f.train.n_rows(), 6);
    let task = f.pipeline.target().unwrap().task.clone();
    assert_eq!(task.classes(), ["Adelie", "Chinstrap", "Gentoo"]);
    assert_eq!(
        f.train.y().unwrap().to_vec(),
        vec![0.0, 2.0, 0.0, 1.0, 2.0, 0.0]
    );
    // " Dream" was trimmed into "Dream".
    assert_eq!(f.train.x()[[2, 1]], 1.0);
    // Standard scaling: each scaled column has mean 0.
    let bill = f.train.x().column(4).to_vec();
    assert!(bill.iter().sum::<f64>().abs() < 1e-9);
    assert_eq!(f.profile.columns.len(), 5);
}

#[test]
fn transform_matches_fit_and_rows_match_frames() {
    let f = Pipeline::fit(penguins(), &spec(), Some("species")).unwrap();
    let clean_rows: Vec<usize> = vec![0, 1, 2, 3, 4, 6];
    let again = f
        .pipeline
        .transform(penguins().take(&clean_rows).unwrap())
        .unwrap();
    assert_eq!(again.x(), f.train.x());
    assert_eq!(again.y(), f.train.y());
    let whole = f.pipeline.transform_rows(penguins()).unwrap();
    for r in 0..7 {
        let one = f
            .pipeline
            .transform_rows(penguins().take(&[r]).unwrap())
            .unwrap();
        for (a, b) in one.row(0).iter().zip(whole.row(r)) {
            assert_eq!(a.to_bits(), b.to_bits(), "row {r}");
        }
    }
}

#[test]
fn bundle_round_trip_transforms_identically() {
    let mut s = spec();
    s.bins.push(BinSpec {
        columns: vec!["mass".into()],
        n_bins: 3,
        strategy: "uniform".into(),
        encode: "one_hot".into(),
    });
    s.polynomial = Some(PolynomialSpec {
        columns: vec!["bill".into(), "ratio".into()],
        degree: 2,
        interaction_only: false,
    });
    s.encode.columns.insert("island".into(), "target".into());
    let f = Pipeline::fit(penguins(), &s, Some("species")).unwrap();
    let bytes = f.pipeline.to_bytes().unwrap();
    let back = Pipeline::from_bytes(&bytes).unwrap();
    assert_eq!(back, f.pipeline);
    let a = f.pipeline.transform_rows(penguins()).unwrap();
    let b = back.transform_rows(penguins()).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = back.features().iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"bill*ratio"), "{names:?}");
    assert!(names.contains(&"bill^2"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("mass=")), "{names:?}");
    assert!(names.contains(&"island=Gentoo"), "{names:?}");
    assert_eq!(back.feature_sources().len(), names.len());
}

#[test]
fn bad_input_names_the_column_and_row() {
    let mut s = spec();
    s.encode.handle_unknown = "error".into();
    let f = Pipeline::fit(penguins(), &s, Some("species")).unwrap();
    let unseen = RawBatch::new(vec![
        RawColumn::categorical("island", [Some("Dream"), Some("Atlantis")]),
        RawColumn::numeric("bill", [Some(40.0), Some(41.0)]),
        RawColumn::numeric("mass", [Some(4000.0), Some(4100.0)]),
        RawColumn::boolean("tagged", [Some(true), Some(true)]),
    ])
    .unwrap();
    let e = f.pipeline.transform_rows(unseen).unwrap_err().to_string();
    assert!(
        e.contains("island") && e.contains("row 1") && e.contains("Atlantis"),
        "{e}"
    );

    let missing = penguins().select(&["island", "bill", "tagged"]).unwrap();
    let e = f.pipeline.transform_rows(missing).unwrap_err().to_string();
    assert!(e.contains("mass"), "{e}");

    let wrong_type = RawBatch::new(vec![
        RawColumn::categorical("island", [Some("Dream")]),
        RawColumn::numeric("bill", [Some(40.0)]),
        RawColumn::categorical("mass", [Some("heavy")]),
        RawColumn::boolean("tagged", [Some(true)]),
    ])
    .unwrap();
    let e = f
        .pipeline
        .transform_rows(wrong_type)
        .unwrap_err()
        .to_string();
    assert!(e.contains("mass") && e.contains("numeric"), "{e}");

    let nan = RawBatch::new(vec![
        RawColumn::categorical("island", [Some("Dream")]),
        RawColumn::numeric("bill", [Some(f64::NAN)]),
        RawColumn::numeric("mass", [Some(4000.0)]),
        RawColumn::boolean("tagged", [Some(true)]),
    ])
    .unwrap();
    let e = f.pipeline.transform_rows(nan).unwrap_err().to_string();
    assert!(e.contains("bill"), "{e}");

    let unknown_class =
        RawBatch::new(vec![RawColumn::categorical("species", [Some("Emperor")])]).unwrap();
    let e = f
        .pipeline
        .encode_target(&unknown_class.columns()[0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("Emperor") && e.contains("row 0"), "{e}");
}

#[test]
fn bad_specs_are_refused_at_fit() {
    let fit = |s: &PipelineSpec| {
        Pipeline::fit(penguins(), s, Some("species"))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let mut s = PipelineSpec::default();
    s.features.insert("x".into(), "bill +* 2".into());
    let e = fit(&s);
    assert!(e.contains("features.x"), "{e}");
    let mut s = PipelineSpec::default();
    s.features.insert("x".into(), "ln(wingspan)".into());
    let e = fit(&s);
    assert!(e.contains("wingspan") && e.contains("inputs are"), "{e}");
    let mut s = PipelineSpec::default();
    s.select.exclude.push("nope*".into());
    assert!(fit(&s).contains("matches no column"));
    let mut s = PipelineSpec::default();
    s.scale.method = "zscore".into();
    assert!(fit(&s).contains("unknown scaling"));
    let e = Pipeline::fit(penguins(), &PipelineSpec::default(), Some("target"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"target\"") && e.contains("species"), "{e}");
    // An all-missing column that is not dropped as constant cannot be imputed.
    let mut s = PipelineSpec::default();
    s.clean.drop_constant = false;
    let mut b = penguins().into_columns();
    b.push(RawColumn::numeric("empty", [None; 7]));
    let e = Pipeline::fit(RawBatch::new(b).unwrap(), &s, Some("species"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty") && e.contains("missing"), "{e}");
}

#[test]
fn oversized_output_is_refused_before_allocating() {
    let mut s = PipelineSpec::default();
    s.output.max_output_bytes = Some(100);
    let e = Pipeline::fit(penguins(), &s, Some("species"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("island") && e.contains("max_categories"), "{e}");
}

#[test]
fn one_class_target_is_refused() {
    let b = RawBatch::new(vec![
        RawColumn::categorical("y", [Some("a"), Some("a")]),
        RawColumn::numeric("x", [Some(1.0), Some(2.0)]),
    ])
    .unwrap();
    let e = Pipeline::fit(b, &PipelineSpec::default(), Some("y"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("two classes"), "{e}");
}

fn arb_row() -> impl Strategy<Value = (Option<String>, Option<f64>, Option<f64>, Option<bool>)> {
    (
        prop::option::of(prop::sample::select(vec![
            "Biscoe".to_owned(),
            "Dream".to_owned(),
            "Torgersen".to_owned(),
            "Mars".to_owned(),
        ])),
        prop::option::of(-1e6f64..1e6),
        prop::option::of(0.0f64..1e4),
        prop::option::of(any::<bool>()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn frame_path_equals_row_path(rows in prop::collection::vec(arb_row(), 1..30)) {
        let mut s = spec();
        s.polynomial = Some(PolynomialSpec { columns: vec!["bill".into(), "mass".into()], degree: 2, interaction_only: false });
        let f = Pipeline::fit(penguins(), &s, Some("species")).unwrap();
        let batch = RawBatch::new(vec![
            RawColumn::categorical("island", rows.iter().map(|r| r.0.as_deref())),
            RawColumn::numeric("bill", rows.iter().map(|r| r.1)),
            RawColumn::numeric("mass", rows.iter().map(|r| r.2)),
            RawColumn::boolean("tagged", rows.iter().map(|r| r.3)),
        ]).unwrap();
        let whole = f.pipeline.transform_rows(batch.clone()).unwrap();
        for r in 0..rows.len() {
            let one = f.pipeline.transform_rows(batch.take(&[r]).unwrap()).unwrap();
            for (a, b) in one.row(0).iter().zip(whole.row(r)) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
}
