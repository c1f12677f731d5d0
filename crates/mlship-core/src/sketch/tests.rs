//! Tests of [`ColumnSketch`] as a whole: merging, accuracy bounds, special values, serde.

use proptest::prelude::*;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn numeric(values: &[f64], valid: Option<&[bool]>) -> Result<ColumnSketch, SketchError> {
    let mut s = ColumnSketch::new_numeric();
    s.update_f64(values, valid)?;
    Ok(s)
}

fn categorical(values: &[Option<&str>], cap: usize) -> Result<ColumnSketch, SketchError> {
    let mut s = ColumnSketch::categorical_with_max_levels(cap)?;
    s.update_str(values)?;
    Ok(s)
}

/// The serialised state with the floating-point moments taken out: everything that must merge
/// exactly.
fn exact_state(s: &ColumnSketch) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or(serde_json::Value::Null);
    if let Some(n) = v
        .pointer_mut("/data/numeric")
        .and_then(|n| n.as_object_mut())
    {
        n.remove("mean");
        n.remove("m2");
    }
    v
}

fn close(a: Option<f64>, b: Option<f64>, rel: f64) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300),
        _ => false,
    }
}

/// Same exact state, and moments within `1e-9` relative.
fn assert_equivalent(a: &ColumnSketch, b: &ColumnSketch) -> Result<(), TestCaseError> {
    prop_assert_eq!(exact_state(a), exact_state(b));
    if let (Some(x), Some(y)) = (a.numeric(), b.numeric()) {
        prop_assert!(
            close(x.mean(), y.mean(), 1e-9),
            "{:?} vs {:?}",
            x.mean(),
            y.mean()
        );
        let scale = x.std().unwrap_or(0.0).max(x.mean().unwrap_or(0.0).abs());
        if let (Some(s), Some(t)) = (x.std(), y.std()) {
            prop_assert!((s - t).abs() <= 1e-9 * scale.max(1e-300), "{s} vs {t}");
        } else {
            prop_assert_eq!(x.std().is_some(), y.std().is_some());
        }
    }
    Ok(())
}

/// The exact lower quantile of the finite values.
fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * (sorted.len() - 1) as f64).floor() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn finite_sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

const LEVELS: [f64; 13] = [
    0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.333, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0,
];

/// Mixed data: ordinary values, duplicates, zeros of both signs, tiny and huge magnitudes,
/// NaN and infinities.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1e6..1e6f64,
        2 => (-20i32..20).prop_map(f64::from),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => 1e-300..1e-290f64,
        1 => -1e300..-1e290f64,
        1 => -1e-9..1e-9f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => any::<f64>(),
    ]
}

/// Finite values of both signs whose magnitudes span at most 30 octaves (no collapsing).
fn bounded_span_values() -> impl Strategy<Value = (i32, Vec<f64>)> {
    (-1000i32..990).prop_flat_map(|base| {
        let value = prop_oneof![
            8 => (1.0..2.0f64, 0..30i32, any::<bool>()).prop_map(move |(m, e, neg)| {
                let x = m * 2f64.powi(base + e);
                if neg { -x } else { x }
            }),
            1 => Just(0.0),
        ];
        (Just(base), prop::collection::vec(value, 1..400))
    })
}

fn with_validity() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    prop::collection::vec((any_value(), prop::bool::weighted(0.9)), 0..600)
        .prop_map(|pairs| pairs.into_iter().unzip())
}

fn words() -> impl Strategy<Value = Vec<Option<String>>> {
    prop::collection::vec(
        prop_oneof![
            8 => "[a-e]{1,2}".prop_map(Some),
            1 => "[a-z]{0,12}".prop_map(Some),
            1 => Just(None),
        ],
        0..400,
    )
}

fn split3<T>(v: &[T], a: usize, b: usize) -> (&[T], &[T], &[T]) {
    let i = a.min(v.len());
    let j = b.clamp(i, v.len());
    (&v[..i], &v[i..j], &v[j..])
}

fn merged(parts: &[&ColumnSketch]) -> Result<ColumnSketch, SketchError> {
    let mut iter = parts.iter();
    let mut out = iter
        .next()
        .map_or_else(ColumnSketch::new_numeric, |s| (*s).clone());
    for s in iter {
        out.merge(s)?;
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn numeric_merge_is_associative_commutative_and_matches_whole(
        (values, valid) in with_validity(), a in 0usize..600, b in 0usize..600
    ) {
        let whole = numeric(&values, Some(&valid))?;
        let (v1, v2, v3) = split3(&values, a, b);
        let (m1, m2, m3) = split3(&valid, a, b);
        let s1 = numeric(v1, Some(m1))?;
        let s2 = numeric(v2, Some(m2))?;
        let s3 = numeric(v3, Some(m3))?;
        let left = merged(&[&merged(&[&s1, &s2])?, &s3])?;
        let right = merged(&[&s1, &merged(&[&s2, &s3])?])?;
        let reversed = merged(&[&s3, &s2, &s1])?;
        assert_equivalent(&left, &whole)?;
        assert_equivalent(&right, &whole)?;
        assert_equivalent(&reversed, &whole)?;
        // Commutativity of a single merge is bitwise, moments included.
        prop_assert_eq!(merged(&[&s1, &s2])?, merged(&[&s2, &s1])?);
        prop_assert_eq!(left.count(), values.len() as u64);
    }

    #[test]
    fn pushes_match_bulk_updates((values, valid) in with_validity()) {
        let bulk = numeric(&values, Some(&valid))?;
        let mut one_by_one = ColumnSketch::new_numeric();
        for (&x, &ok) in values.iter().zip(&valid) {
            one_by_one.push_f64(ok.then_some(x))?;
        }
        assert_equivalent(&bulk, &one_by_one)?;
    }

    #[test]
    fn quantiles_within_relative_bound((_base, values) in bounded_span_values()) {
        let s = numeric(&values, None)?;
        let sorted = finite_sorted(&values);
        let n = s.numeric().ok_or_else(|| TestCaseError::fail("not numeric"))?;
        prop_assert!(!n.collapsed());
        for q in LEVELS {
            let x = exact_quantile(&sorted, q);
            let v = s.quantile(q).ok_or_else(|| TestCaseError::fail("no quantile"))?;
            prop_assert!((v - x).abs() <= RELATIVE_ACCURACY * x.abs(), "q = {q}: {v} vs {x}");
        }
        prop_assert_eq!(s.quantile(0.0), sorted.first().copied());
        prop_assert_eq!(s.quantile(1.0), sorted.last().copied());
    }

    #[test]
    fn quantiles_within_bound_on_any_data(values in prop::collection::vec(any_value(), 1..500)) {
        let s = numeric(&values, None)?;
        let sorted = finite_sorted(&values);
        if sorted.is_empty() {
            prop_assert_eq!(s.quantile(0.5), None);
            return Ok(());
        }
        let n = s.numeric().ok_or_else(|| TestCaseError::fail("not numeric"))?;
        let max_pos = sorted.iter().copied().fold(0.0f64, f64::max);
        let max_neg = sorted.iter().map(|x| -x).fold(0.0f64, f64::max);
        for q in LEVELS {
            let x = exact_quantile(&sorted, q);
            let v = s.quantile(q).ok_or_else(|| TestCaseError::fail("no quantile"))?;
            let mut bound = RELATIVE_ACCURACY * x.abs() + f64::from_bits(1 << 44); // + 2^-1030
            if n.collapsed() {
                bound += 2f64.powi(-31) * if x < 0.0 { max_neg } else { max_pos };
            }
            prop_assert!((v - x).abs() <= bound, "q = {q}: {v} vs {x}");
            prop_assert!(v >= sorted[0] && v <= sorted[sorted.len() - 1]);
        }
        if n.exact_values().is_some() {
            for q in LEVELS {
                prop_assert_eq!(s.quantile(q), Some(exact_quantile(&sorted, q)));
            }
        }
        // Bins hold every finite value, in order.
        let bins: Vec<Bin> = s.bins().collect();
        prop_assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), sorted.len() as u64);
        for w in bins.windows(2) {
            prop_assert!(w[0].lower <= w[1].lower && w[0].upper <= w[1].upper);
        }
        let total: f64 = s.counts_in(&[f64::NEG_INFINITY, 0.0, f64::INFINITY])?.iter().sum();
        prop_assert!((total - sorted.len() as f64).abs() <= 1e-9 * sorted.len() as f64);
    }

    #[test]
    fn serde_round_trip_is_exact((values, valid) in with_validity(), texts in words()) {
        let n = numeric(&values, Some(&valid))?;
        let refs: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        let c = categorical(&refs, 3)?;
        let mut b = ColumnSketch::new_boolean();
        let bools: Vec<bool> = values.iter().map(|x| *x > 0.0).collect();
        b.update_bool(&bools, Some(&valid))?;
        for s in [n, c, b] {
            let json = serde_json::to_string(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: ColumnSketch =
                serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let again = serde_json::to_string(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&json, &again);
            prop_assert_eq!(exact_state(&back), exact_state(&s));
            prop_assert_eq!(back.summary().count, s.summary().count);
        }
    }

    #[test]
    fn categorical_merge_exact_below_cap(texts in words(), a in 0usize..400, b in 0usize..400) {
        let refs: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        let whole = categorical(&refs, DEFAULT_MAX_LEVELS)?;
        let (t1, t2, t3) = split3(&refs, a, b);
        let s1 = categorical(t1, DEFAULT_MAX_LEVELS)?;
        let s2 = categorical(t2, DEFAULT_MAX_LEVELS)?;
        let s3 = categorical(t3, DEFAULT_MAX_LEVELS)?;
        prop_assert_eq!(&merged(&[&merged(&[&s1, &s2])?, &s3])?, &whole);
        prop_assert_eq!(&merged(&[&s1, &merged(&[&s2, &s3])?])?, &whole);
        prop_assert_eq!(&merged(&[&s3, &s1, &s2])?, &whole);
        // Exact counts.
        let c = whole.categorical().ok_or_else(|| TestCaseError::fail("not categorical"))?;
        for level in refs.iter().flatten() {
            let expected = refs.iter().filter(|r| **r == Some(*level)).count() as u64;
            prop_assert_eq!(c.count_of(level), Some(expected));
        }
        prop_assert_eq!(whole.missing(), refs.iter().filter(|r| r.is_none()).count() as u64);
        prop_assert!(whole.distinct().exact);
        // The dictionary path agrees with the string path.
        let mut dict: Vec<&str> = refs.iter().flatten().copied().collect();
        dict.sort_unstable();
        dict.dedup();
        let codes: Vec<u32> = refs
            .iter()
            .map(|r| r.and_then(|s| dict.iter().position(|d| *d == s)).unwrap_or(0) as u32)
            .collect();
        let valid: Vec<bool> = refs.iter().map(Option::is_some).collect();
        let mut via_dict = ColumnSketch::new_categorical();
        if !dict.is_empty() || codes.is_empty() {
            via_dict.update_dict(&dict, &codes, Some(&valid))?;
            prop_assert_eq!(&via_dict, &whole);
        }
    }

    #[test]
    fn truncated_categorical_merges_distinct_exactly(texts in words(), a in 0usize..400) {
        let refs: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        let whole = categorical(&refs, 4)?;
        let (t1, t2, _) = split3(&refs, a, refs.len());
        let mut parts = categorical(t1, 4)?;
        parts.merge(&categorical(t2, 4)?)?;
        // Counts of values stay exact in total; the distinct registers merge exactly.
        prop_assert_eq!(parts.count(), whole.count());
        prop_assert_eq!(parts.non_missing(), whole.non_missing());
        prop_assert_eq!(parts.distinct(), whole.distinct());
        let c = parts.categorical().ok_or_else(|| TestCaseError::fail("not categorical"))?;
        prop_assert!(c.levels().len() <= 4);
    }

    #[test]
    fn categorical_pushes_match_single_value_batches(texts in words()) {
        let mut pushed = ColumnSketch::categorical_with_max_levels(3)?;
        let mut batched = ColumnSketch::categorical_with_max_levels(3)?;
        for t in &texts {
            pushed.push_str(t.as_deref())?;
            batched.update_str([t.as_deref()])?;
        }
        prop_assert_eq!(&pushed, &batched);
        prop_assert_eq!(pushed.count(), texts.len() as u64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn chunked_updates_match_one_update(values in prop::collection::vec(any_value(), 0..4000), chunk in 1usize..3000) {
        let whole = numeric(&values, None)?;
        let mut chunked = ColumnSketch::new_numeric();
        let mut merged_parts = ColumnSketch::new_numeric();
        for part in values.chunks(chunk) {
            chunked.update_f64(part, None)?;
            merged_parts.merge(&numeric(part, None)?)?;
        }
        assert_equivalent(&chunked, &whole)?;
        assert_equivalent(&merged_parts, &whole)?;
    }
}

#[test]
fn hll_distinct_within_three_standard_errors() -> TestResult {
    let se = 1.04 / f64::from(1u32 << HLL_PRECISION).sqrt();
    let values: Vec<f64> = (0..100_000u32)
        .map(|i| f64::from(i) * 0.5 - 7_777.25)
        .collect();
    let mut n = numeric(&values, None)?;
    n.update_f64(&values[..50_000], None)?; // duplicates do not count
    let d = n.distinct();
    assert!(!d.exact);
    assert!(
        (d.estimate as f64 - 100_000.0).abs() <= 3.0 * se * 100_000.0,
        "{d:?}"
    );

    let texts: Vec<String> = (0..100_000u32)
        .map(|i| format!("customer-{i:06}"))
        .collect();
    let mut c = ColumnSketch::new_categorical();
    c.update_str(&texts)?;
    let d = c.distinct();
    assert!(!d.exact);
    assert!(
        (d.estimate as f64 - 100_000.0).abs() <= 3.0 * se * 100_000.0,
        "{d:?}"
    );
    let cat = c.categorical().ok_or("not categorical")?;
    assert!(cat.truncated());
    assert_eq!(cat.levels().len(), DEFAULT_MAX_LEVELS);
    assert_eq!(c.non_missing(), 100_000);
    // All counts tie at 1: the levels that sort first are kept.
    assert_eq!(
        cat.levels().keys().next().map(String::as_str),
        Some("customer-000000")
    );
    assert_eq!(cat.other_count(), 99_000);
    Ok(())
}

#[test]
fn exact_distinct_and_quantiles_for_few_values() -> TestResult {
    let values: Vec<f64> = (0..10_000).map(|i| f64::from(i % 7) - 3.0).collect();
    let s = numeric(&values, None)?;
    assert_eq!(
        s.distinct(),
        DistinctCount {
            estimate: 7,
            exact: true
        }
    );
    let n = s.numeric().ok_or("not numeric")?;
    let exact = n.exact_values().ok_or("no exact values")?;
    assert_eq!(exact.len(), 7);
    assert_eq!(
        exact[0],
        ValueCount {
            value: -3.0,
            count: 1429
        }
    );
    assert_eq!(s.quantile(0.5), Some(0.0));
    assert_eq!(s.counts_in(&[-3.0, 0.0, 3.0])?, vec![4287.0, 5713.0]);
    let summary = s.summary();
    assert!(summary.distinct_exact);
    assert!(summary.numeric.as_ref().is_some_and(|n| n.quantiles_exact));
    Ok(())
}

#[test]
fn special_values_are_counted_not_summarised() -> TestResult {
    let values = [
        1.0,
        f64::NAN,
        f64::INFINITY,
        -0.0,
        f64::NEG_INFINITY,
        3.0,
        99.0,
        0.0,
    ];
    let valid = [true, true, true, true, true, true, false, true];
    let s = numeric(&values, Some(&valid))?;
    let n = s.numeric().ok_or("not numeric")?;
    assert_eq!((s.count(), s.missing(), s.non_missing()), (8, 1, 7));
    assert_eq!(
        (n.nan(), n.pos_inf(), n.neg_inf(), n.zeros(), n.finite()),
        (1, 1, 1, 2, 4)
    );
    assert_eq!((n.min(), n.max()), (Some(0.0), Some(3.0)));
    assert_eq!(n.mean(), Some(1.0));
    assert!(close(n.std(), Some(2.0f64.sqrt()), 1e-12));
    assert_eq!(
        s.distinct(),
        DistinctCount {
            estimate: 3,
            exact: true
        }
    );
    let summary = s.summary();
    assert_eq!(summary.missing_fraction, 0.125);
    let ns = summary.numeric.ok_or("no numeric summary")?;
    assert_eq!(ns.quantiles.len(), SUMMARY_QUANTILES.len());
    assert_eq!(ns.quantiles[3], QuantileEstimate { q: 0.5, value: 0.0 });

    let only_special = numeric(&[f64::NAN, f64::INFINITY], None)?;
    let ns = only_special.summary().numeric.ok_or("no numeric summary")?;
    assert_eq!((ns.min, ns.mean, ns.std), (None, None, None));
    assert!(ns.quantiles.is_empty());
    assert_eq!(only_special.cdf(0.0), None);
    Ok(())
}

#[test]
fn std_is_the_sample_standard_deviation() -> TestResult {
    let values: Vec<f64> = (1..=2500).map(f64::from).collect();
    let s = numeric(&values, None)?;
    let n = s.numeric().ok_or("not numeric")?;
    // Var(1..=N) with ddof = 1 is N(N+1)/12.
    assert!(close(n.variance(), Some(2500.0 * 2501.0 / 12.0), 1e-12));
    assert_eq!(n.mean(), Some(1250.5));
    assert_eq!(
        numeric(&[5.0], None)?
            .numeric()
            .and_then(NumericSketch::std),
        None
    );
    Ok(())
}

#[test]
fn huge_values_do_not_panic() -> TestResult {
    let values = [
        f64::MAX,
        f64::MAX,
        -f64::MAX,
        1e300,
        f64::MIN_POSITIVE,
        5e-324,
    ];
    let s = numeric(&values, None)?;
    let summary = s.summary();
    let n = summary.numeric.ok_or("no numeric summary")?;
    assert_eq!((n.min, n.max), (Some(-f64::MAX), Some(f64::MAX)));
    assert!(n.mean.is_none_or(f64::is_finite));
    assert!(n.std.is_none_or(f64::is_finite));
    let many: Vec<f64> = (0..3000)
        .map(|i| if i % 2 == 0 { f64::MAX } else { 1e308 })
        .collect();
    let big = numeric(&many, None)?;
    let mean = big
        .numeric()
        .and_then(NumericSketch::mean)
        .ok_or("mean overflowed")?;
    assert!(close(
        Some(mean),
        Some(f64::midpoint(f64::MAX, 1e308)),
        1e-12
    ));
    let json = serde_json::to_string(&s)?;
    let back: ColumnSketch = serde_json::from_str(&json)?;
    assert_eq!(serde_json::to_string(&back)?, json);
    Ok(())
}

#[test]
fn empty_sketches_summarise_sensibly() -> TestResult {
    for kind in [
        SketchKind::Numeric,
        SketchKind::Categorical,
        SketchKind::Boolean,
    ] {
        let s = ColumnSketch::new(kind);
        let summary = s.summary();
        assert_eq!(
            (summary.count, summary.missing, summary.distinct),
            (0, 0, 0)
        );
        assert_eq!(summary.missing_fraction, 0.0);
        assert!(summary.distinct_exact);
        assert_eq!(s.quantile(0.5), None);
        assert_eq!(s.bins().count(), 0);
        if let Some(n) = summary.numeric {
            assert_eq!((n.min, n.max, n.mean, n.std), (None, None, None, None));
            assert!(n.quantiles.is_empty());
        }
        if let Some(l) = summary.levels {
            assert!(l.top.is_empty());
            assert_eq!(l.other_count, 0);
        }
        let json = serde_json::to_string(&s)?;
        let back: ColumnSketch = serde_json::from_str(&json)?;
        assert_eq!(back, s);
        // All-missing columns too.
        let mut m = ColumnSketch::new(kind);
        m.push_missing();
        assert_eq!(m.summary().missing_fraction, 1.0);
    }
    Ok(())
}

#[test]
fn kinds_and_lengths_are_checked() {
    let mut n = ColumnSketch::new_numeric();
    assert!(matches!(
        n.update_str([Some("a")]),
        Err(SketchError::KindMismatch {
            expected: SketchKind::Categorical,
            found: SketchKind::Numeric,
            ..
        })
    ));
    assert!(n.update_bool(&[true], None).is_err());
    assert!(n.push_str(Some("a")).is_err());
    assert_eq!(
        n.update_f64(&[1.0, 2.0], Some(&[true])),
        Err(SketchError::LengthMismatch {
            values: 2,
            valid: 1
        })
    );
    let c = ColumnSketch::new_categorical();
    assert_eq!(
        n.merge(&c),
        Err(SketchError::MergeKindMismatch {
            target: SketchKind::Numeric,
            other: SketchKind::Categorical
        })
    );
    assert!(n.counts_in(&[1.0]).is_err());
    assert!(n.counts_in(&[1.0, f64::NAN]).is_err());
    assert!(n.counts_in(&[2.0, 1.0]).is_err());
    assert!(c.counts_in(&[1.0, 2.0]).is_err());
    assert_eq!(n.count(), 0);
    assert!(ColumnSketch::categorical_with_max_levels(0).is_err());
    let message = SketchError::CodeOutOfRange {
        position: 3,
        code: 9,
        len: 2,
    }
    .to_string();
    assert_eq!(
        message,
        "dictionary code 9 at position 3 is out of range: the dictionary has 2 entries"
    );
}

#[test]
fn dictionary_updates() -> TestResult {
    let dict = ["red", "green", "blue", "unused"];
    let codes = [0, 1, 0, 2, 7, 0];
    let valid = [true, true, true, true, false, true];
    let mut s = ColumnSketch::new_categorical();
    s.update_dict(&dict, &codes, Some(&valid))?;
    assert_eq!((s.count(), s.missing()), (6, 1));
    let top = s.top_k(2);
    assert_eq!(
        top[0],
        LevelCount {
            level: "red".into(),
            count: 3,
            share: 0.6
        }
    );
    assert_eq!(top[1].level, "blue"); // ties by name: blue before green
    // An out-of-range code changes nothing.
    let before = s.clone();
    assert_eq!(
        s.update_dict(&dict, &[1, 9], None),
        Err(SketchError::CodeOutOfRange {
            position: 1,
            code: 9,
            len: 4
        })
    );
    assert_eq!(s, before);
    // Duplicate dictionary entries add up.
    s.update_dict(&["red", "red"], &[0, 1], None)?;
    assert_eq!(s.categorical().and_then(|c| c.count_of("red")), Some(5));
    Ok(())
}

#[test]
fn truncation_keeps_the_most_frequent_levels() -> TestResult {
    let mut s = ColumnSketch::categorical_with_max_levels(3)?;
    let mut batch: Vec<Option<&str>> = Vec::new();
    for (level, n) in [("a", 5), ("b", 1), ("c", 7), ("d", 3), ("e", 3), ("f", 1)] {
        batch.extend(std::iter::repeat_n(Some(level), n));
    }
    batch.push(None);
    s.update_str(&batch)?;
    let c = s.categorical().ok_or("not categorical")?;
    assert!(c.truncated());
    let kept: Vec<(&str, u64)> = c.levels().iter().map(|(k, &v)| (k.as_str(), v)).collect();
    assert_eq!(kept, vec![("a", 5), ("c", 7), ("d", 3)]);
    assert_eq!(c.other_count(), 5);
    assert_eq!((s.count(), s.missing()), (21, 1));
    let summary = s.summary();
    let levels = summary.levels.ok_or("no levels")?;
    assert!(levels.truncated);
    assert_eq!(levels.top.len(), 3);
    assert_eq!(levels.other_count, 5);
    assert!(!summary.distinct_exact);
    assert!(summary.distinct >= 4 && summary.distinct <= 20);
    // A new level pushed later competes with the least frequent kept one.
    s.push_str(Some("zz"))?;
    let c = s.categorical().ok_or("not categorical")?;
    assert_eq!(c.count_of("zz"), None);
    assert_eq!(c.other_count(), 6);
    Ok(())
}

#[test]
fn booleans() -> TestResult {
    let mut s = ColumnSketch::new_boolean();
    s.update_bool(&[true, false, true, true], Some(&[true, true, false, true]))?;
    s.push_bool(None)?;
    s.push_bool(Some(false))?;
    let b = s.boolean().ok_or("not boolean")?;
    assert_eq!((b.true_count(), b.false_count(), s.missing()), (2, 2, 2));
    let top = s.top_k(10);
    assert_eq!(
        top.iter().map(|l| l.level.as_str()).collect::<Vec<_>>(),
        vec!["false", "true"]
    );
    assert_eq!(
        s.distinct(),
        DistinctCount {
            estimate: 2,
            exact: true
        }
    );
    let mut other = ColumnSketch::new_boolean();
    other.update_bool(&[true; 5], None)?;
    s.merge(&other)?;
    assert_eq!(
        s.top_k(1)[0],
        LevelCount {
            level: "true".into(),
            count: 7,
            share: 7.0 / 9.0
        }
    );
    assert_eq!(s.summary().levels.map(|l| l.other_count), Some(0));
    Ok(())
}

#[test]
fn histogram_and_cdf_track_the_data() -> TestResult {
    let values: Vec<f64> = (0..20_000)
        .map(|i| (f64::from(i) * 0.618_033_988_7).fract() * 200.0 - 50.0)
        .collect();
    let s = numeric(&values, None)?;
    let edges = [-50.0, -10.0, 0.0, 10.0, 100.0, 150.0];
    let got = s.counts_in(&edges)?;
    for (i, w) in edges.windows(2).enumerate() {
        let exact = values.iter().filter(|&&x| x >= w[0] && x < w[1]).count() as f64;
        assert!(
            (got[i] - exact).abs() <= 0.01 * 20_000.0,
            "bin {i}: {} vs {exact}",
            got[i]
        );
    }
    for x in [-40.0, 0.0, 25.0, 149.0] {
        let exact = values.iter().filter(|&&v| v <= x).count() as f64 / 20_000.0;
        let cdf = s.cdf(x).ok_or("no cdf")?;
        assert!((cdf - exact).abs() <= 0.01, "cdf({x}) = {cdf} vs {exact}");
    }
    assert_eq!(s.cdf(-1e9), Some(0.0));
    assert_eq!(s.cdf(1e9), Some(1.0));
    Ok(())
}

#[test]
fn corrupt_sketches_are_refused() -> TestResult {
    let good = numeric(&[1.0, 2.0, 3.0], None)?;
    let mut v = serde_json::to_value(&good)?;
    if let Some(f) = v.pointer_mut("/data/numeric/finite") {
        *f = serde_json::json!(4);
    }
    assert!(serde_json::from_value::<ColumnSketch>(v).is_err());
    let mut v = serde_json::to_value(&good)?;
    if let Some(f) = v.pointer_mut("/missing") {
        *f = serde_json::json!(u64::MAX);
    }
    assert!(serde_json::from_value::<ColumnSketch>(v).is_err());
    let mut v = serde_json::to_value(&good)?;
    if let Some(f) = v.pointer_mut("/data/numeric/min") {
        *f = serde_json::json!("5");
    }
    assert!(serde_json::from_value::<ColumnSketch>(v).is_err());
    let c = categorical(&[Some("a"), Some("b")], 2)?;
    let mut v = serde_json::to_value(&c)?;
    if let Some(f) = v.pointer_mut("/data/categorical/max_levels") {
        *f = serde_json::json!(1);
    }
    assert!(serde_json::from_value::<ColumnSketch>(v).is_err());
    let mut v = serde_json::to_value(&c)?;
    if let Some(f) = v.pointer_mut("/data/categorical/other_count") {
        *f = serde_json::json!(3);
    }
    assert!(serde_json::from_value::<ColumnSketch>(v).is_err());
    Ok(())
}

#[test]
fn serialised_form_is_readable_and_stable() -> TestResult {
    let s = numeric(&[0.5, -2.0], None)?;
    let json = serde_json::to_string(&s)?;
    assert_eq!(
        json,
        concat!(
            r#"{"missing":0,"data":{"numeric":{"finite":2,"zeros":0,"nan":0,"pos_inf":0,"neg_inf":0,"#,
            r#""min":"-2.0","max":"0.5","mean":"-0.75","m2":"3.125","#,
            r#""negative":{"offset":131072,"counts":[1],"collapsed":false},"#,
            r#""positive":{"offset":130816,"counts":[1],"collapsed":false},"#,
            r#""distinct":{"exact":[{"value":"-2.0","count":1},{"value":"0.5","count":1}]}}}}"#
        )
    );
    Ok(())
}

#[test]
fn high_cardinality_batches_keep_heavy_hitters() -> TestResult {
    let mut values: Vec<String> = Vec::new();
    for i in 0..60_000u32 {
        values.push(format!("id-{i}"));
        if i % 10 == 0 {
            values.push("hot".to_owned());
        }
        if i % 25 == 0 {
            values.push("warm".to_owned());
        }
    }
    let mut by_str = ColumnSketch::categorical_with_max_levels(50)?;
    by_str.update_str(&values)?;
    let mut dict: Vec<&str> = values.iter().map(String::as_str).collect();
    dict.sort_unstable();
    dict.dedup();
    let codes: Vec<u32> = values
        .iter()
        .map(|v| dict.binary_search(&v.as_str()).unwrap_or(0) as u32)
        .collect();
    let mut by_dict = ColumnSketch::categorical_with_max_levels(50)?;
    by_dict.update_dict(&dict, &codes, None)?;
    for s in [&by_str, &by_dict] {
        let c = s.categorical().ok_or("not categorical")?;
        assert!(c.truncated());
        assert_eq!(c.levels().len(), 50);
        assert_eq!(c.count_of("hot"), Some(6000));
        assert_eq!(c.count_of("warm"), Some(2400));
        assert_eq!(s.non_missing(), values.len() as u64);
        let kept: u64 = c.levels().values().sum();
        assert_eq!(kept + c.other_count(), values.len() as u64);
        let d = s.distinct();
        assert!(
            (d.estimate as f64 - 60_002.0).abs() < 0.05 * 60_002.0,
            "{d:?}"
        );
        assert_eq!(
            s.top_k(2)
                .iter()
                .map(|l| l.level.as_str())
                .collect::<Vec<_>>(),
            ["hot", "warm"]
        );
    }
    assert_eq!(by_str.distinct(), by_dict.distinct());
    Ok(())
}

#[test]
fn merging_a_smaller_cap_truncates() -> TestResult {
    let values = ["a", "a", "a", "b", "b", "c", "d", "d", "d", "d"].map(Some);
    let mut big = categorical(&values, 10)?;
    assert!(big.distinct().exact);
    big.merge(&ColumnSketch::categorical_with_max_levels(2)?)?;
    let c = big.categorical().ok_or("not categorical")?;
    assert_eq!(c.max_levels(), 2);
    assert!(c.truncated());
    let kept: Vec<(&str, u64)> = c.levels().iter().map(|(k, &v)| (k.as_str(), v)).collect();
    assert_eq!(kept, vec![("a", 3), ("d", 4)]);
    assert_eq!(c.other_count(), 3);
    assert_eq!(big.count(), 10);
    assert_eq!(
        big.distinct(),
        DistinctCount {
            estimate: 4,
            exact: false
        }
    );
    Ok(())
}

#[test]
fn signed_zeros_are_one_value() -> TestResult {
    let a = numeric(&[-0.0], None)?;
    let b = numeric(&[0.0], None)?;
    let mut ab = a.clone();
    ab.merge(&b)?;
    let mut ba = b.clone();
    ba.merge(&a)?;
    assert_eq!(serde_json::to_string(&ab)?, serde_json::to_string(&ba)?);
    let n = ab.numeric().ok_or("not numeric")?;
    assert_eq!(n.min().map(f64::to_bits), Some(0.0f64.to_bits()));
    assert_eq!(n.zeros(), 2);
    assert_eq!(
        ab.distinct(),
        DistinctCount {
            estimate: 1,
            exact: true
        }
    );
    assert_eq!(
        ab.bins().collect::<Vec<_>>(),
        vec![Bin {
            lower: 0.0,
            upper: 0.0,
            count: 2
        }]
    );
    Ok(())
}

#[test]
fn updates_are_deterministic() -> TestResult {
    let values: Vec<f64> = (0..50_000)
        .map(|i| (f64::from(i) * 1.618).sin() * 1e4)
        .collect();
    let one = serde_json::to_string(&numeric(&values, None)?)?;
    let two = serde_json::to_string(&numeric(&values, None)?)?;
    assert_eq!(one, two);
    let texts: Vec<String> = (0..20_000)
        .map(|i| format!("v{}", (i * 7) % 3000))
        .collect();
    let mut a = ColumnSketch::new_categorical();
    a.update_str(&texts)?;
    let mut b = ColumnSketch::new_categorical();
    b.update_str(&texts)?;
    assert_eq!(serde_json::to_string(&a)?, serde_json::to_string(&b)?);
    Ok(())
}
