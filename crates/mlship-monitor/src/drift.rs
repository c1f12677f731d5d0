//! Per-column drift statistics on raw samples and category frequencies.

pub mod categorical;
pub mod numeric;
pub mod sketch;

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::{categorical, numeric};

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        // Rounded values so ties occur.
        prop::collection::vec((-1000i32..1000).prop_map(|v| f64::from(v) / 10.0), 1..60)
    }

    fn frequencies(len: usize) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(0u32..1000, len)
            .prop_filter("some mass", |v| v.iter().any(|&x| x > 0))
            .prop_map(|v| v.into_iter().map(f64::from).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn ks_statistic_in_unit_interval_and_symmetric(a in sample(), b in sample()) {
            let ab = numeric::ks_2samp(&a, &b).expect("ks");
            let ba = numeric::ks_2samp(&b, &a).expect("ks");
            prop_assert!((0.0..=1.0).contains(&ab.statistic));
            prop_assert!((0.0..=1.0).contains(&ab.p_value));
            prop_assert_eq!(ab.statistic, ba.statistic);
            prop_assert!((ab.p_value - ba.p_value).abs() <= 1e-12);
            let same = numeric::ks_2samp(&a, &a).expect("ks");
            prop_assert_eq!(same.statistic, 0.0);
            prop_assert_eq!(same.p_value, 1.0);
        }

        #[test]
        fn psi_is_non_negative(a in sample(), b in sample()) {
            prop_assert!(numeric::psi(&a, &b).expect("psi") >= 0.0);
            prop_assert!(numeric::wasserstein(&a, &b).expect("w") >= 0.0);
        }

        #[test]
        fn js_symmetric_and_bounded((p, q) in (1usize..12).prop_flat_map(|n| (frequencies(n), frequencies(n)))) {
            let pq = categorical::jensen_shannon(&p, &q, None).expect("js");
            let qp = categorical::jensen_shannon(&q, &p, None).expect("js");
            prop_assert!((pq - qp).abs() <= 1e-12);
            prop_assert!(pq <= std::f64::consts::LN_2.sqrt() + 1e-12);
            prop_assert!(categorical::jensen_shannon(&p, &q, Some(2.0)).expect("js") <= 1.0 + 1e-12);
            prop_assert!(numeric::psi_from_counts(&p, &q).expect("psi") >= 0.0);
            let h = categorical::hellinger(&p, &q).expect("h");
            prop_assert!((0.0..=1.0 + 1e-12).contains(&h));
        }
    }
}
