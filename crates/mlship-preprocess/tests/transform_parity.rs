//! Parity of `mlship_preprocess::transform` with scikit-learn, on fixtures written by
//! `tests/fixtures/make_transform.py` (see its docstring for the versions and how to
//! regenerate). Numbers match to 1e-9, absolute plus relative.

use mlship_preprocess::transform::{
    BinEncode, BinStrategy, CategoricalImputeStrategy, CategoricalImputer, DropPolicy, KBins,
    KBinsParams, MinFrequency, MinMaxParams, NumericImputeStrategy, NumericImputer, OneHot,
    OneHotParams, OneHotUnknown, Ordinal, OrdinalParams, OrdinalUnknown, Polynomial,
    PolynomialParams, RobustParams, Scaler, ScalerParams, Smooth, StandardParams, TargetEncoder,
    TargetParams, TargetType,
};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/transform.json");
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn cases(name: &str) -> Vec<Value> {
    let doc = fixtures();
    let v = doc["cases"][name].as_array().unwrap().clone();
    assert!(!v.is_empty(), "no {name} cases");
    v
}

fn float(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(float).collect()
}

/// A matrix, flattened row-major.
fn matrix(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(floats).collect()
}

fn levels(v: &Value) -> Vec<Option<&str>> {
    v.as_array().unwrap().iter().map(Value::as_str).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn close(want: f64, got: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return want == got;
    }
    (want - got).abs() <= TOL + TOL * want.abs()
}

#[track_caller]
fn assert_all_close(want: &[f64], got: &[f64], what: &str) {
    assert_eq!(want.len(), got.len(), "{what}: lengths");
    for (i, (&w, &g)) in want.iter().zip(got).enumerate() {
        assert!(close(w, g), "{what}[{i}]: want {w}, got {g}");
    }
}

#[test]
fn numeric_imputer() {
    for c in cases("impute_numeric") {
        let what = format!("{} {}", c["data"], c["strategy"]);
        let strategy = match c["strategy"].as_str().unwrap() {
            "mean" => NumericImputeStrategy::Mean,
            "median" => NumericImputeStrategy::Median,
            "most_frequent" => NumericImputeStrategy::MostFrequent,
            "constant" => NumericImputeStrategy::Constant(float(&c["fill_value"])),
            s => panic!("unknown strategy {s}"),
        };
        let imp = NumericImputer::fit("x", &floats(&c["fit"]), strategy).unwrap();
        assert!(
            close(float(&c["fill"]), imp.fill),
            "{what}: fill {}",
            imp.fill
        );
        assert_eq!(
            imp.had_missing,
            c["had_missing"].as_bool().unwrap(),
            "{what}"
        );
        assert_all_close(
            &floats(&c["out"]),
            &imp.transform(&floats(&c["test"])),
            &what,
        );
    }
}

#[test]
fn categorical_imputer() {
    for c in cases("impute_categorical") {
        let strategy = match c["strategy"].as_str().unwrap() {
            "most_frequent" => CategoricalImputeStrategy::MostFrequent,
            _ => CategoricalImputeStrategy::Constant(c["fill_value"].as_str().unwrap().into()),
        };
        let imp = CategoricalImputer::fit("c", &levels(&c["fit"]), &strategy).unwrap();
        assert_eq!(imp.fill, c["fill"].as_str().unwrap());
        let out = imp.transform(&levels(&c["test"]));
        assert_eq!(out, strings(&c["out"]));
    }
}

fn pair(v: &Value) -> (f64, f64) {
    let f = floats(v);
    (f[0], f[1])
}

#[test]
fn scalers() {
    for c in cases("scale") {
        let p = &c["params"];
        let flag = |k: &str| p.get(k).and_then(Value::as_bool);
        let params = match c["kind"].as_str().unwrap() {
            "standard" => ScalerParams::Standard(StandardParams {
                with_mean: flag("with_mean").unwrap_or(true),
                with_std: flag("with_std").unwrap_or(true),
            }),
            "min_max" => ScalerParams::MinMax(MinMaxParams {
                feature_range: pair(&p["feature_range"]),
                clip: flag("clip").unwrap_or(false),
            }),
            "robust" => ScalerParams::Robust(RobustParams {
                with_centering: flag("with_centering").unwrap_or(true),
                with_scaling: true,
                quantile_range: p.get("quantile_range").map_or((25.0, 75.0), pair),
            }),
            "max_abs" => ScalerParams::MaxAbs,
            k => panic!("unknown scaler {k}"),
        };
        let what = format!("{} {} {p}", c["data"], c["kind"]);
        let s = Scaler::fit("x", &floats(&c["fit"]), params).unwrap();
        let test = floats(&c["test"]);
        assert_all_close(&floats(&c["out"]), &s.transform(&test), &what);
        assert_all_close(
            &floats(&c["inverse"]),
            &s.inverse_transform(&test),
            &format!("{what} inverse"),
        );
    }
}

fn one_hot_params(p: &Value) -> OneHotParams {
    OneHotParams {
        drop: match p.get("drop").and_then(Value::as_str) {
            None => DropPolicy::None,
            Some("first") => DropPolicy::First,
            Some("if_binary") => DropPolicy::IfBinary,
            Some(d) => panic!("unknown drop {d}"),
        },
        min_frequency: p.get("min_frequency").map(|m| match m.as_u64() {
            Some(n) => MinFrequency::Count(n as usize),
            None => MinFrequency::Fraction(float(m)),
        }),
        max_categories: p
            .get("max_categories")
            .and_then(Value::as_u64)
            .map(|n| n as usize),
        handle_unknown: match p.get("handle_unknown").and_then(Value::as_str) {
            None | Some("error") => OneHotUnknown::Error,
            Some("ignore") => OneHotUnknown::Ignore,
            Some("infrequent_if_exist") => OneHotUnknown::Infrequent,
            Some(h) => panic!("unknown handle_unknown {h}"),
        },
    }
}

fn category_names(c: &mlship_preprocess::transform::Categories) -> Vec<String> {
    (0..c.len()).map(|i| c.name(i).to_owned()).collect()
}

#[test]
fn one_hot_encoder() {
    for c in cases("onehot") {
        let what = c["params"].to_string();
        let enc = OneHot::fit("color", &levels(&c["fit"]), &one_hot_params(&c["params"])).unwrap();
        assert_eq!(
            category_names(&enc.categories),
            strings(&c["categories"]),
            "{what}"
        );
        assert_eq!(enc.names("color"), strings(&c["names"]), "{what}");
        let test = levels(&c["test"]);
        let mut out = vec![f64::NAN; test.len() * enc.output_width()];
        enc.encode_column(&test, &mut out).unwrap();
        assert_all_close(&matrix(&c["out"]), &out, &what);
    }
}

#[test]
fn ordinal_encoder() {
    for c in cases("ordinal") {
        let p = &c["params"];
        let params = OrdinalParams {
            handle_unknown: p
                .get("unknown_value")
                .map_or(OrdinalUnknown::Error, |v| OrdinalUnknown::Value(float(v))),
            encoded_missing_value: p.get("encoded_missing_value").map_or(f64::NAN, float),
        };
        let enc = Ordinal::fit("color", &levels(&c["fit"]), params).unwrap();
        assert_eq!(category_names(&enc.categories), strings(&c["categories"]));
        let out = enc.encode_column(&levels(&c["test"])).unwrap();
        assert_all_close(&floats(&c["out"]), &out, &p.to_string());
    }
}

#[test]
fn bin_discretizer() {
    for c in cases("kbins") {
        let strategy = match c["strategy"].as_str().unwrap() {
            "uniform" => BinStrategy::Uniform,
            _ => BinStrategy::Quantile,
        };
        let params = KBinsParams {
            n_bins: c["n_bins"].as_u64().unwrap() as usize,
            strategy,
            encode: BinEncode::Ordinal,
        };
        let what = format!("{} {} {}", c["data"], c["strategy"], c["n_bins"]);
        let k = KBins::fit("x", &floats(&c["fit"]), params).unwrap();
        assert_all_close(&floats(&c["edges"]), &k.edges, &format!("{what} edges"));
        let test = floats(&c["test"]);
        let mut out = vec![f64::NAN; test.len()];
        k.encode_column(&test, &mut out).unwrap();
        assert_eq!(floats(&c["out"]), out, "{what}");
    }
}

#[test]
fn polynomial_features() {
    for c in cases("poly") {
        let x = matrix(&c["x"]);
        let n_rows = c["x"].as_array().unwrap().len();
        let n_inputs = x.len() / n_rows;
        let params = PolynomialParams {
            degree: c["degree"].as_u64().unwrap() as usize,
            interaction_only: c["interaction_only"].as_bool().unwrap(),
            include_bias: c["include_bias"].as_bool().unwrap(),
        };
        let what = format!("{n_inputs} inputs {params:?}");
        let p = Polynomial::fit(n_inputs, params).unwrap();
        let names = p.names(&["a", "b", "c"][..n_inputs]).unwrap();
        assert_eq!(names, strings(&c["names"]), "{what}");
        let mut out = vec![f64::NAN; n_rows * p.output_width()];
        p.transform(&x, &mut out).unwrap();
        // Same multiplication order as scikit-learn: bit for bit.
        assert_eq!(matrix(&c["out"]), out, "{what}");
    }
}

#[test]
fn target_encoder() {
    for c in cases("target") {
        let y = floats(&c["y"]);
        let target_type = match c["target_type"].as_str().unwrap() {
            "continuous" => TargetType::Continuous,
            "binary" => TargetType::Binary,
            _ => TargetType::Multiclass(3),
        };
        let smooth = match &c["smooth"] {
            Value::String(s) if s == "auto" => Smooth::Auto,
            v => Smooth::Value(float(v)),
        };
        let params = TargetParams {
            target_type,
            smooth,
        };
        let what = format!("{} {}", c["target_type"], c["smooth"]);
        let folds: Vec<usize> = c["folds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap() as usize)
            .collect();
        let (enc, train) =
            TargetEncoder::fit_transform("color", &levels(&c["fit"]), &y, &folds, params).unwrap();
        assert_eq!(category_names(&enc.categories), strings(&c["categories"]));
        let want: Vec<f64> = c["encodings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(floats)
            .collect();
        let got: Vec<f64> = enc.encodings.iter().flatten().copied().collect();
        assert_all_close(&want, &got, &format!("{what} encodings"));
        assert_all_close(
            &floats(&c["target_mean"]),
            &enc.target_mean,
            &format!("{what} target mean"),
        );
        assert_all_close(&matrix(&c["train_out"]), &train, &format!("{what} train"));
        let test = levels(&c["test"]);
        let mut out = vec![f64::NAN; test.len() * enc.output_width()];
        enc.encode_column(&test, &mut out).unwrap();
        assert_all_close(&matrix(&c["test_out"]), &out, &format!("{what} test"));
        // fit alone gives the same encoder as fit_transform.
        let alone = TargetEncoder::fit("color", &levels(&c["fit"]), &y, params).unwrap();
        assert_eq!(alone, enc);
    }
}

#[test]
fn fitted_state_round_trips_through_json() {
    let v = [Some("a"), None, Some("b"), Some("a")];
    let enc = OneHot::fit("c", &v, &OneHotParams::default()).unwrap();
    let back: OneHot = serde_json::from_str(&serde_json::to_string(&enc).unwrap()).unwrap();
    assert_eq!(back, enc);
    let s = Scaler::fit(
        "x",
        &[1.0, 2.0, 4.0],
        ScalerParams::Robust(RobustParams::default()),
    )
    .unwrap();
    let back: Scaler = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}
