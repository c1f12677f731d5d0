//! Parity with scipy 1.17 (fixture written by `tests/fixtures/make_drift.py`).
//!
//! Tolerance is 1e-10, relative to `max(1, |expected|)` for statistics and relative to
//! `|expected|` for p-values and special-function values (so tiny p-values are checked to their
//! own precision). This holds for asymptotic KS p-values too: every branch of scipy's
//! `kstwo.sf` is ported (`numeric::kstwo_sf`), except that the Durbin matrix stands in for
//! Pomeranz's recursion (both exact; the fixture's `kstwo` cases with n <= 140 cover it).

use serde_json::Value;

use crate::drift::{categorical, numeric};

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/drift.json"
));

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("drift.json parses")
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is a number"))
}

fn floats(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is an array"))
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn name(v: &Value) -> String {
    v["name"].as_str().unwrap_or("?").to_owned()
}

#[track_caller]
fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-10 * want.abs().max(1.0),
        "{what}: got {got:e}, scipy {want:e}"
    );
}

#[track_caller]
fn close_rel(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs() || got == want,
        "{what}: got {got:e}, scipy {want:e} (relative tolerance {rel:e})"
    );
}

#[test]
fn versions_are_recorded() {
    let fx = fixture();
    assert_eq!(fx["versions"]["scipy"], "1.17.1");
}

#[test]
fn ks_matches_scipy() {
    for case in fixture()["numeric"].as_array().expect("cases") {
        let n = name(case);
        let (r, c) = (floats(case, "reference"), floats(case, "current"));
        let ks = numeric::ks_2samp(&r, &c).expect("ks");
        close(
            &format!("{n} ks statistic"),
            ks.statistic,
            f(case, "ks_statistic"),
        );
        close(
            &format!("{n} ks statistic (unrounded)"),
            numeric::ks_statistic(&r, &c).expect("ks"),
            f(case, "ks_statistic"),
        );
        let want_method = match case["ks_method"].as_str() {
            Some("exact") => numeric::KsMethod::Exact,
            _ => numeric::KsMethod::Asymptotic,
        };
        assert_eq!(ks.method, want_method, "{n}");
        close_rel(
            &format!("{n} ks p-value"),
            ks.p_value,
            f(case, "ks_pvalue"),
            1e-10,
        );
    }
}

#[test]
fn wasserstein_and_psi_match_scipy() {
    for case in fixture()["numeric"].as_array().expect("cases") {
        let n = name(case);
        let (r, c) = (floats(case, "reference"), floats(case, "current"));
        close(
            &format!("{n} wasserstein"),
            numeric::wasserstein(&r, &c).expect("w"),
            f(case, "wasserstein"),
        );
        close(
            &format!("{n} wasserstein normed"),
            numeric::wasserstein_normed(&r, &c).expect("w"),
            f(case, "wasserstein_normed"),
        );
        assert_eq!(
            numeric::psi_edges(&r).expect("edges"),
            floats(case, "psi_edges"),
            "{n}"
        );
        close(
            &format!("{n} psi"),
            numeric::psi(&r, &c).expect("psi"),
            f(case, "psi"),
        );
    }
}

#[test]
fn categorical_statistics_match_scipy() {
    for case in fixture()["categorical"].as_array().expect("cases") {
        let n = name(case);
        let (r, c) = (floats(case, "reference"), floats(case, "current"));
        let chi = categorical::chi_square(&r, &c).expect("chi2");
        close(
            &format!("{n} chi2"),
            chi.statistic,
            f(case, "chi2_statistic"),
        );
        close_rel(
            &format!("{n} chi2 p"),
            chi.p_value,
            f(case, "chi2_pvalue"),
            1e-10,
        );
        close(
            &format!("{n} js"),
            categorical::jensen_shannon(&r, &c, None).expect("js"),
            f(case, "js_e"),
        );
        close(
            &format!("{n} js2"),
            categorical::jensen_shannon(&r, &c, Some(2.0)).expect("js"),
            f(case, "js_2"),
        );
        let kl = categorical::kl_divergence(&r, &c).expect("kl");
        match case["kl"].as_f64() {
            Some(want) => close(&format!("{n} kl"), kl, want),
            None => assert!(kl.is_infinite(), "{n}"),
        }
        close(
            &format!("{n} hellinger"),
            categorical::hellinger(&r, &c).expect("h"),
            f(case, "hellinger"),
        );
    }
}

#[test]
fn z_test_matches_evidently_formula() {
    for case in fixture()["z_test"].as_array().expect("cases") {
        let (r, c) = (floats(case, "reference"), floats(case, "current"));
        let z = categorical::z_test([r[0], r[1]], [c[0], c[1]]).expect("z");
        close("z statistic", z.statistic, f(case, "statistic"));
        close_rel("z p-value", z.p_value, f(case, "pvalue"), 1e-10);
    }
}

#[test]
fn special_functions_match_scipy() {
    let fx = fixture();
    for case in fx["gammaincc"].as_array().expect("cases") {
        let (a, x) = (f(case, "a"), f(case, "x"));
        let want = f(case, "q");
        // Values below 1e-290 are at the edge of f64; compare absolutely there.
        if want < 1e-290 {
            assert!(crate::special::gammaincc(a, x) < 1e-280, "Q({a}, {x})");
        } else {
            close_rel(
                &format!("Q({a}, {x})"),
                crate::special::gammaincc(a, x),
                want,
                1e-10,
            );
        }
    }
    for case in fx["erfc"].as_array().expect("cases") {
        let x = f(case, "x");
        close_rel(
            &format!("erfc({x})"),
            crate::special::erfc(x),
            f(case, "erfc"),
            1e-10,
        );
    }
}

#[test]
fn smirnov_and_kstwo_match_scipy() {
    for case in fixture()["kstwo"].as_array().expect("cases") {
        let (n, d) = (case["n"].as_u64().expect("n"), f(case, "d"));
        close_rel(
            &format!("smirnov({n}, {d})"),
            numeric::smirnov(n, d),
            f(case, "smirnov"),
            1e-10,
        );
        close_rel(
            &format!("kstwo.sf({d}, {n})"),
            numeric::kstwo_sf(d, n),
            f(case, "kstwo_sf"),
            1e-10,
        );
    }
}

#[test]
fn corrections_match_statsmodels_definitions() {
    for case in fixture()["corrections"].as_array().expect("cases") {
        let p = floats(case, "pvalues");
        let bonf = crate::correction::bonferroni(&p).expect("bonferroni");
        let bh = crate::correction::benjamini_hochberg(&p).expect("bh");
        for (got, want) in bonf.iter().zip(floats(case, "bonferroni")) {
            close("bonferroni", *got, want);
        }
        for (got, want) in bh.iter().zip(floats(case, "fdr_bh")) {
            close("fdr_bh", *got, want);
        }
    }
}

#[test]
fn ks_p_values_match_scipy_over_many_sizes() {
    for case in fixture()["ks_pvalues"].as_array().expect("cases") {
        let (n1, n2) = (
            case["n1"].as_u64().expect("n1"),
            case["n2"].as_u64().expect("n2"),
        );
        let r = numeric::ks_p_value(f(case, "statistic"), n1, n2);
        close(
            &format!("ks statistic {n1}x{n2}"),
            r.statistic,
            f(case, "statistic"),
        );
        close_rel(
            &format!("ks p-value {n1}x{n2}"),
            r.p_value,
            f(case, "pvalue"),
            1e-10,
        );
    }
}
