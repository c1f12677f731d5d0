//! Scalers: scikit-learn's `StandardScaler`, `MinMaxScaler`, `RobustScaler` and `MaxAbsScaler`
//! for one column. Fitting ignores `NaN`; applying maps `NaN` to `NaN`.

use serde::{Deserialize, Serialize};

use super::error::TransformError;
use super::{Result, check_finite, median, percentile_linear, sorted_present};

/// scikit-learn's `_handle_zeros_in_scale` for one scale: a scale below `10 * eps` (or flagged
/// constant) becomes 1.
fn handle_zero_scale(scale: f64, constant: bool) -> f64 {
    if constant || scale < 10.0 * f64::EPSILON {
        1.0
    } else {
        scale
    }
}

/// The present values, or an [`TransformError::AllMissing`] error.
fn present(column: &str, values: &[f64], what: &'static str) -> Result<Vec<f64>> {
    check_finite(column, values)?;
    let sorted = sorted_present(values);
    if sorted.is_empty() {
        return Err(TransformError::AllMissing {
            column: column.to_owned(),
            n_rows: values.len(),
            what,
        });
    }
    Ok(sorted)
}

/// Options of [`StandardScaler`] (scikit-learn's defaults: both `true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StandardParams {
    /// Subtract the mean.
    pub with_mean: bool,
    /// Divide by the population standard deviation.
    pub with_std: bool,
}

impl Default for StandardParams {
    fn default() -> Self {
        Self {
            with_mean: true,
            with_std: true,
        }
    }
}

/// A fitted standard scaler: `(x - center) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// The mean of the present values at fit (scikit-learn's `mean_`).
    pub mean: f64,
    /// Their population variance (`var_`).
    pub var: f64,
    /// What is subtracted: `mean`, or 0 without `with_mean`.
    pub center: f64,
    /// What is divided by: the standard deviation (1 for a constant column, as
    /// `_handle_zeros_in_scale`), or 1 without `with_std`.
    pub scale: f64,
}

impl StandardScaler {
    /// Learns mean and variance from the present values of `column`.
    pub fn fit(column: &str, values: &[f64], params: StandardParams) -> Result<Self> {
        let sorted = present(column, values, "a mean")?;
        let n = sorted.len() as f64;
        // scikit-learn's `_incremental_mean_and_var` on one batch: the two-pass variance with
        // its correction term, summed in row order.
        let sum: f64 = values.iter().filter(|x| !x.is_nan()).sum();
        let mean = sum / n;
        let t = sum / n;
        let (mut correction, mut sq) = (0.0, 0.0);
        for &x in values.iter().filter(|x| !x.is_nan()) {
            let d = x - t;
            correction += d;
            sq += d * d;
        }
        let var = (sq - correction * correction / n) / n;
        // `_is_constant_feature`: variance within the two-pass error bound.
        let eps = f64::EPSILON;
        let constant = var <= n * eps * var + (n * mean * eps).powi(2);
        let scale = if params.with_std {
            handle_zero_scale(var.sqrt(), constant)
        } else {
            1.0
        };
        let center = if params.with_mean { mean } else { 0.0 };
        Ok(Self {
            mean,
            var,
            center,
            scale,
        })
    }

    /// One value, scaled.
    pub fn apply(&self, x: f64) -> f64 {
        (x - self.center) / self.scale
    }

    /// One scaled value, back on the original scale.
    pub fn inverse(&self, z: f64) -> f64 {
        z * self.scale + self.center
    }
}

/// Options of [`MinMaxScaler`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinMaxParams {
    /// The target range `(min, max)`, `min < max` (default `(0, 1)`).
    pub feature_range: (f64, f64),
    /// Clip transformed values to `feature_range` (default `false`).
    pub clip: bool,
}

impl Default for MinMaxParams {
    fn default() -> Self {
        Self {
            feature_range: (0.0, 1.0),
            clip: false,
        }
    }
}

/// A fitted min-max scaler: `x * scale + min`, optionally clipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// The smallest present value at fit (`data_min_`).
    pub data_min: f64,
    /// The largest (`data_max_`).
    pub data_max: f64,
    /// The factor (`scale_`).
    pub scale: f64,
    /// The offset (`min_`).
    pub min: f64,
    /// The clip range, when clipping.
    pub clip: Option<(f64, f64)>,
}

impl MinMaxScaler {
    /// Learns the range of the present values of `column`.
    pub fn fit(column: &str, values: &[f64], params: MinMaxParams) -> Result<Self> {
        let (lo, hi) = params.feature_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(TransformError::invalid(
                "feature_range",
                format!("({lo}, {hi})"),
                "finite (min, max) with min < max",
            ));
        }
        let sorted = present(column, values, "a range")?;
        let data_min = sorted[0];
        let data_max = sorted[sorted.len() - 1];
        let scale = (hi - lo) / handle_zero_scale(data_max - data_min, false);
        let min = lo - data_min * scale;
        Ok(Self {
            data_min,
            data_max,
            scale,
            min,
            clip: params.clip.then_some((lo, hi)),
        })
    }

    /// One value, scaled (and clipped when asked).
    pub fn apply(&self, x: f64) -> f64 {
        let z = x * self.scale + self.min;
        match self.clip {
            Some((lo, hi)) if !z.is_nan() => z.clamp(lo, hi),
            _ => z,
        }
    }

    /// One scaled value, back on the original scale (a clipped value stays clipped).
    pub fn inverse(&self, z: f64) -> f64 {
        (z - self.min) / self.scale
    }
}

/// Options of [`RobustScaler`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RobustParams {
    /// Subtract the median (default `true`).
    pub with_centering: bool,
    /// Divide by the interquantile range (default `true`).
    pub with_scaling: bool,
    /// The percentiles of the range, `0 <= low < high <= 100` (default `(25, 75)`).
    pub quantile_range: (f64, f64),
}

impl Default for RobustParams {
    fn default() -> Self {
        Self {
            with_centering: true,
            with_scaling: true,
            quantile_range: (25.0, 75.0),
        }
    }
}

/// A fitted robust scaler: `(x - center) / scale` with the median and the interquantile range
/// (numpy's default linear percentiles, as `np.nanpercentile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustScaler {
    /// What is subtracted: the median, or 0 without centering.
    pub center: f64,
    /// What is divided by: the range (1 when below `10 * eps`), or 1 without scaling.
    pub scale: f64,
}

impl RobustScaler {
    /// Learns median and interquantile range from the present values of `column`.
    pub fn fit(column: &str, values: &[f64], params: RobustParams) -> Result<Self> {
        let (lo, hi) = params.quantile_range;
        if !(0.0 <= lo && lo < hi && hi <= 100.0) {
            return Err(TransformError::invalid(
                "quantile_range",
                format!("({lo}, {hi})"),
                "percentiles with 0 <= low < high <= 100",
            ));
        }
        let sorted = present(column, values, "a median")?;
        let center = if params.with_centering {
            median(&sorted)
        } else {
            0.0
        };
        let scale = if params.with_scaling {
            let q = percentile_linear(&sorted, hi) - percentile_linear(&sorted, lo);
            handle_zero_scale(q, false)
        } else {
            1.0
        };
        Ok(Self { center, scale })
    }

    /// One value, scaled.
    pub fn apply(&self, x: f64) -> f64 {
        (x - self.center) / self.scale
    }

    /// One scaled value, back on the original scale.
    pub fn inverse(&self, z: f64) -> f64 {
        z * self.scale + self.center
    }
}

/// A fitted max-abs scaler: `x / scale` with the largest absolute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxAbsScaler {
    /// The largest absolute present value (1 when it is zero).
    pub scale: f64,
}

impl MaxAbsScaler {
    /// Learns the largest absolute present value of `column`.
    pub fn fit(column: &str, values: &[f64]) -> Result<Self> {
        let sorted = present(column, values, "a maximum")?;
        let max_abs = sorted.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        Ok(Self {
            scale: handle_zero_scale(max_abs, false),
        })
    }

    /// One value, scaled.
    pub fn apply(&self, x: f64) -> f64 {
        x / self.scale
    }

    /// One scaled value, back on the original scale.
    pub fn inverse(&self, z: f64) -> f64 {
        z * self.scale
    }
}

/// Which scaler to fit, with its options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ScalerParams {
    /// [`StandardScaler`].
    Standard(StandardParams),
    /// [`MinMaxScaler`].
    MinMax(MinMaxParams),
    /// [`RobustScaler`].
    Robust(RobustParams),
    /// [`MaxAbsScaler`].
    MaxAbs,
}

/// Any fitted scaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Scaler {
    /// A standard scaler.
    Standard(StandardScaler),
    /// A min-max scaler.
    MinMax(MinMaxScaler),
    /// A robust scaler.
    Robust(RobustScaler),
    /// A max-abs scaler.
    MaxAbs(MaxAbsScaler),
}

impl Scaler {
    /// Fits the scaler `params` names on `column`.
    pub fn fit(column: &str, values: &[f64], params: ScalerParams) -> Result<Self> {
        Ok(match params {
            ScalerParams::Standard(p) => Self::Standard(StandardScaler::fit(column, values, p)?),
            ScalerParams::MinMax(p) => Self::MinMax(MinMaxScaler::fit(column, values, p)?),
            ScalerParams::Robust(p) => Self::Robust(RobustScaler::fit(column, values, p)?),
            ScalerParams::MaxAbs => Self::MaxAbs(MaxAbsScaler::fit(column, values)?),
        })
    }

    /// One value, scaled.
    pub fn apply(&self, x: f64) -> f64 {
        match self {
            Self::Standard(s) => s.apply(x),
            Self::MinMax(s) => s.apply(x),
            Self::Robust(s) => s.apply(x),
            Self::MaxAbs(s) => s.apply(x),
        }
    }

    /// One scaled value, back on the original scale.
    pub fn inverse(&self, z: f64) -> f64 {
        match self {
            Self::Standard(s) => s.inverse(z),
            Self::MinMax(s) => s.inverse(z),
            Self::Robust(s) => s.inverse(z),
            Self::MaxAbs(s) => s.inverse(z),
        }
    }

    /// A whole column through [`Scaler::apply`].
    pub fn transform(&self, values: &[f64]) -> Vec<f64> {
        values.iter().map(|&x| self.apply(x)).collect()
    }

    /// A whole scaled column through [`Scaler::inverse`].
    pub fn inverse_transform(&self, values: &[f64]) -> Vec<f64> {
        values.iter().map(|&z| self.inverse(z)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constant_column_scales_by_one() {
        let v = [2.5, 2.5, f64::NAN, 2.5];
        let s = StandardScaler::fit("c", &v, StandardParams::default()).unwrap();
        assert_eq!((s.center, s.scale), (2.5, 1.0));
        let m = MinMaxScaler::fit("c", &v, MinMaxParams::default()).unwrap();
        assert_eq!(m.apply(2.5), 0.0);
        let r = RobustScaler::fit("c", &v, RobustParams::default()).unwrap();
        assert_eq!(r.scale, 1.0);
        assert!(r.apply(f64::NAN).is_nan());
    }

    #[test]
    fn bad_parameters_and_all_missing_are_errors() {
        let v = [1.0, 2.0];
        let p = MinMaxParams {
            feature_range: (1.0, 1.0),
            clip: false,
        };
        assert!(MinMaxScaler::fit("c", &v, p).is_err());
        let p = RobustParams {
            quantile_range: (80.0, 20.0),
            ..RobustParams::default()
        };
        assert!(RobustScaler::fit("c", &v, p).is_err());
        let e = MaxAbsScaler::fit("c", &[f64::NAN]).unwrap_err();
        assert!(matches!(e, TransformError::AllMissing { .. }));
        let e = StandardScaler::fit("c", &[1.0, f64::INFINITY], StandardParams::default());
        assert!(matches!(e, Err(TransformError::NonFinite { row: 1, .. })));
    }

    #[test]
    fn clip_holds_values_in_range() {
        let p = MinMaxParams {
            feature_range: (-1.0, 1.0),
            clip: true,
        };
        let m = MinMaxScaler::fit("c", &[0.0, 10.0], p).unwrap();
        assert_eq!(m.apply(20.0), 1.0);
        assert_eq!(m.apply(-5.0), -1.0);
        assert_eq!(m.apply(5.0), 0.0);
    }

    fn all_params() -> Vec<ScalerParams> {
        vec![
            ScalerParams::Standard(StandardParams::default()),
            ScalerParams::Standard(StandardParams {
                with_mean: false,
                with_std: true,
            }),
            ScalerParams::MinMax(MinMaxParams {
                feature_range: (-2.0, 3.0),
                clip: false,
            }),
            ScalerParams::Robust(RobustParams::default()),
            ScalerParams::Robust(RobustParams {
                quantile_range: (10.0, 90.0),
                ..RobustParams::default()
            }),
            ScalerParams::MaxAbs,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn inverse_undoes_apply(
            train in prop::collection::vec(-1e6..1e6_f64, 1..40),
            probe in prop::collection::vec(-1e6..1e6_f64, 1..20),
        ) {
            for p in all_params() {
                let s = Scaler::fit("x", &train, p).unwrap();
                for &x in &probe {
                    let back = s.inverse(s.apply(x));
                    prop_assert!((back - x).abs() <= 1e-9 * (1.0 + x.abs()), "{p:?}: {x} -> {back}");
                }
            }
        }

        #[test]
        fn column_path_equals_value_path(
            train in prop::collection::vec(prop_oneof![Just(f64::NAN), -1e3..1e3_f64], 1..40),
        ) {
            prop_assume!(train.iter().any(|x| !x.is_nan()));
            for p in all_params() {
                let s = Scaler::fit("x", &train, p).unwrap();
                let col = s.transform(&train);
                for (c, &x) in col.iter().zip(&train) {
                    prop_assert_eq!(c.to_bits(), s.apply(x).to_bits());
                }
            }
        }
    }
}
