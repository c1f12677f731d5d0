//! Fitted column transformers with scikit-learn 1.9 semantics: imputers, scalers, a bin
//! discretizer, polynomial features and the one-hot, ordinal and target encoders.
//!
//! Every transformer is split in two: `fit` looks at whole columns once and returns a small,
//! serde-serialisable fitted struct (no training data kept); per-value functions (`apply`,
//! `encode`, …) then map one value at a time. The column path (`transform`, `encode_column`,
//! `encode_codes`, …) only loops over the per-value function, so a whole frame at fit time and
//! one record at serving time give bit-identical numbers.
//!
//! Conventions shared by all transformers:
//! - numbers are `f64`; a missing numeric value is `NaN` (the pipeline turns validity masks into
//!   `NaN`); a missing categorical value is `None`;
//! - categories are sorted as scikit-learn sorts them: strings by code point (Rust's `str`
//!   order, which equals Python's), and a missing value, when seen at fit, as one more category
//!   named `null` placed last;
//! - output feature names are `column=level` for categorical outputs (`column=null` for the
//!   missing category, `column=infrequent` for the grouped rare levels), see each type.

mod encode;
mod error;
mod impute;
mod kbins;
mod poly;
mod scale;
mod target;

pub use encode::{
    Categories, DropPolicy, MinFrequency, OneHot, OneHotOutput, OneHotParams, OneHotUnknown,
    Ordinal, OrdinalParams, OrdinalUnknown,
};
pub use error::TransformError;
pub use impute::{
    CategoricalImputeStrategy, CategoricalImputer, NumericImputeStrategy, NumericImputer,
    had_missing,
};
pub use kbins::{BinEncode, BinStrategy, KBins, KBinsParams};
pub use poly::{Polynomial, PolynomialParams};
pub use scale::{
    MaxAbsScaler, MinMaxParams, MinMaxScaler, RobustParams, RobustScaler, Scaler, ScalerParams,
    StandardParams, StandardScaler,
};
pub use target::{Smooth, TargetEncoder, TargetParams, TargetType};

/// The result type of this module.
pub type Result<T, E = TransformError> = std::result::Result<T, E>;

/// Name of the category that stands for a missing value, in feature names.
pub const NULL_NAME: &str = "null";

/// Name of the output that groups infrequent categories, in feature names.
pub const INFREQUENT_NAME: &str = "infrequent";

/// The non-missing values of a column, sorted ascending (`NaN` dropped).
fn sorted_present(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Rejects infinite values, which scikit-learn refuses as input.
fn check_finite(column: &str, values: &[f64]) -> Result<()> {
    match values.iter().enumerate().find(|(_, x)| x.is_infinite()) {
        Some((row, &value)) => Err(TransformError::NonFinite {
            column: column.to_owned(),
            row,
            value,
        }),
        None => Ok(()),
    }
}

/// numpy's `_lerp`: `a + (b - a) t`, computed from `b` when `t >= 0.5`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// numpy's percentile of a sorted, non-empty slice at `q` in `[0, 1]` from a virtual index
/// and a gamma correction, as in `numpy.lib._function_base_impl._quantile`.
fn quantile_at(sorted: &[f64], virtual_index: f64, fix_gamma: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len();
    let last = n - 1;
    if virtual_index >= last as f64 {
        return sorted[last];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let prev = virtual_index.floor();
    let gamma = fix_gamma(virtual_index - prev);
    let i = prev as usize;
    lerp(sorted[i], sorted[i + 1], gamma)
}

/// `np.percentile(x, p)` with numpy's default `method="linear"`; `sorted` must be non-empty.
fn percentile_linear(sorted: &[f64], p: f64) -> f64 {
    let q = p / 100.0;
    quantile_at(sorted, (sorted.len() - 1) as f64 * q, |g| g)
}

/// `np.percentile(x, p, method="averaged_inverted_cdf")`; `sorted` must be non-empty.
fn percentile_averaged_inverted_cdf(sorted: &[f64], p: f64) -> f64 {
    let q = p / 100.0;
    quantile_at(sorted, sorted.len() as f64 * q - 1.0, |g| {
        if g == 0.0 { 0.5 } else { 1.0 }
    })
}

/// `np.linspace(start, stop, num)` with `num >= 2` (numpy's formula: `i * step + start`, the
/// last point set to `stop`).
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = (num - 1) as f64;
    let step = (stop - start) / div;
    let mut out: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    out[num - 1] = stop;
    out
}

/// The median as numpy computes it (mean of the two middle values for an even count); `sorted`
/// must be non-empty.
#[allow(clippy::manual_midpoint)] // numpy's `(a + b) / 2`, bit for bit
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Writes a number for a feature name: integers without a fraction, others in Rust's shortest
/// round-trip form.
fn fmt_num(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_numpy_hand_values() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // np.percentile([1,2,3,4], [0, 25, 50, 75, 100]) = [1, 1.75, 2.5, 3.25, 4]
        let got: Vec<f64> = [0.0, 25.0, 50.0, 75.0, 100.0]
            .iter()
            .map(|&p| percentile_linear(&v, p))
            .collect();
        assert_eq!(got, vec![1.0, 1.75, 2.5, 3.25, 4.0]);
        // method="averaged_inverted_cdf": [1, 1.5, 2.5, 3.5, 4]
        let got: Vec<f64> = [0.0, 25.0, 50.0, 75.0, 100.0]
            .iter()
            .map(|&p| percentile_averaged_inverted_cdf(&v, p))
            .collect();
        assert_eq!(got, vec![1.0, 1.5, 2.5, 3.5, 4.0]);
    }

    #[test]
    fn linspace_ends_exactly() {
        let v = linspace(0.1, 0.7, 4);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0], 0.1);
        assert_eq!(v[3], 0.7);
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(&[1.0, 2.0, 10.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), 3.0);
    }
}
