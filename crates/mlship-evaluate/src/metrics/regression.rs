//! Regression metrics.

use super::check;
use crate::{EvaluateError, Result};

fn inputs(y_true: &[f64], y_pred: &[f64], sample_weight: Option<&[f64]>) -> Result<()> {
    check::non_empty("y_true", y_true)?;
    check::same_len("y_pred", y_pred, y_true.len(), "y_true")?;
    check::finite("y_true", y_true)?;
    check::finite("y_pred", y_pred)?;
    check::weights(sample_weight, y_true.len())
}

fn mean_of(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    f: impl Fn(f64, f64) -> f64,
) -> Result<f64> {
    inputs(y_true, y_pred, sample_weight)?;
    Ok(check::average(
        y_true.iter().zip(y_pred).map(|(&t, &p)| f(t, p)),
        sample_weight,
    ))
}

/// Mean squared error (scikit-learn's `mean_squared_error`).
pub fn mean_squared_error(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    mean_of(y_true, y_pred, sample_weight, |t, p| (t - p) * (t - p))
}

/// Root mean squared error (scikit-learn's `root_mean_squared_error`).
pub fn root_mean_squared_error(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    Ok(mean_squared_error(y_true, y_pred, sample_weight)?.sqrt())
}

/// Mean absolute error (scikit-learn's `mean_absolute_error`).
pub fn mean_absolute_error(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    mean_of(y_true, y_pred, sample_weight, |t, p| (t - p).abs())
}

/// Mean absolute percentage error (scikit-learn's `mean_absolute_percentage_error`):
/// `|y − ŷ| / max(|y|, ε)` with ε = `f64::EPSILON`, so a zero target gives a huge, finite
/// term. A fraction, not a percentage.
pub fn mean_absolute_percentage_error(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    mean_of(y_true, y_pred, sample_weight, |t, p| {
        (p - t).abs() / t.abs().max(f64::EPSILON)
    })
}

/// Maximum absolute error (scikit-learn's `max_error`, which takes no weights).
pub fn max_error(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    inputs(y_true, y_pred, None)?;
    Ok(y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).abs())
        .fold(0.0, f64::max))
}

/// Median absolute error (scikit-learn's `median_absolute_error`): the median, or with
/// weights scikit-learn's `_weighted_percentile(average=True)` (the averaged inverted CDF).
pub fn median_absolute_error(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    inputs(y_true, y_pred, sample_weight)?;
    let mut e: Vec<(f64, f64)> = y_true
        .iter()
        .zip(y_pred)
        .enumerate()
        .map(|(i, (t, p))| ((p - t).abs(), check::w_at(sample_weight, i)))
        .collect();
    e.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = e.len();
    if sample_weight.is_none() {
        return Ok(if n % 2 == 1 {
            e[n / 2].0
        } else {
            f64::midpoint(e[n / 2 - 1].0, e[n / 2].0)
        });
    }
    let mut cdf = Vec::with_capacity(n);
    let mut acc = 0.0;
    for &(_, w) in &e {
        acc += w;
        cdf.push(acc);
    }
    let target = 0.5 * acc;
    let idx = cdf.partition_point(|&c| c < target).min(n - 1);
    if cdf[idx] - target > f64::EPSILON {
        return Ok(e[idx].0);
    }
    let mut next = (idx + 1).min(n - 1);
    if e[next].1 == 0.0 {
        next = cdf.partition_point(|&c| c <= cdf[idx]);
        if next > n - 1 {
            next = idx;
        }
    }
    Ok(f64::midpoint(e[idx].0, e[next].0))
}

/// `1 − num/den` with scikit-learn's `force_finite=True`: a zero denominator gives 1.0 for a
/// zero numerator and 0.0 otherwise.
fn explained_fraction(num: f64, den: f64) -> f64 {
    if den != 0.0 {
        1.0 - num / den
    } else if num == 0.0 {
        1.0
    } else {
        0.0
    }
}

/// Coefficient of determination R² (scikit-learn's `r2_score`, `force_finite=True`):
/// constant `y_true` gives 1.0 when predicted exactly, else 0.0; fewer than two samples give
/// NaN, as scikit-learn (which warns).
pub fn r2_score(y_true: &[f64], y_pred: &[f64], sample_weight: Option<&[f64]>) -> Result<f64> {
    inputs(y_true, y_pred, sample_weight)?;
    if y_true.len() < 2 {
        return Ok(f64::NAN);
    }
    let mean = check::average(y_true.iter().copied(), sample_weight);
    let (mut num, mut den) = (0.0, 0.0);
    for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
        let w = check::w_at(sample_weight, i);
        num += w * (t - p) * (t - p);
        den += w * (t - mean) * (t - mean);
    }
    Ok(explained_fraction(num, den))
}

/// Explained variance (scikit-learn's `explained_variance_score`, `force_finite=True`).
pub fn explained_variance_score(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    inputs(y_true, y_pred, sample_weight)?;
    let diff = |(t, p): (&f64, &f64)| t - p;
    let diff_avg = check::average(y_true.iter().zip(y_pred).map(diff), sample_weight);
    let num = check::average(
        y_true
            .iter()
            .zip(y_pred)
            .map(|x| (diff(x) - diff_avg) * (diff(x) - diff_avg)),
        sample_weight,
    );
    let true_avg = check::average(y_true.iter().copied(), sample_weight);
    let den = check::average(
        y_true.iter().map(|t| (t - true_avg) * (t - true_avg)),
        sample_weight,
    );
    Ok(explained_fraction(num, den))
}

/// Mean Tweedie deviance (scikit-learn's `mean_tweedie_deviance`): `power` ≤ 0 or ≥ 1;
/// 0 is the squared error, 1 Poisson, 2 Gamma. Domains as scikit-learn: `power < 0` needs
/// `y_pred > 0`; `1 ≤ power < 2` needs `y_true ≥ 0`, `y_pred > 0`; `power ≥ 2` needs both > 0.
pub fn mean_tweedie_deviance(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
    power: f64,
) -> Result<f64> {
    if !power.is_finite() || (power > 0.0 && power < 1.0) {
        return Err(EvaluateError::invalid_param(
            "power",
            power,
            "a finite number <= 0 or >= 1",
        ));
    }
    inputs(y_true, y_pred, sample_weight)?;
    let positive = |name: &str, v: &[f64], strict: bool| -> Result<()> {
        let bad = |x: &f64| if strict { *x <= 0.0 } else { *x < 0.0 };
        if let Some(i) = v.iter().position(bad) {
            let need = if strict { "> 0" } else { ">= 0" };
            return Err(EvaluateError::invalid_input(format!(
                "{name}[{i}] = {}: mean Tweedie deviance with power = {power} needs {name} {need}",
                v[i]
            )));
        }
        Ok(())
    };
    if power < 0.0 {
        positive("y_pred", y_pred, true)?;
    } else if (1.0..2.0).contains(&power) {
        positive("y_true", y_true, false)?;
        positive("y_pred", y_pred, true)?;
    } else if power >= 2.0 {
        positive("y_true", y_true, true)?;
        positive("y_pred", y_pred, true)?;
    }
    let p = power;
    let dev = |t: f64, m: f64| -> f64 {
        if p < 0.0 {
            2.0 * (t.max(0.0).powf(2.0 - p) / ((1.0 - p) * (2.0 - p))
                - t * m.powf(1.0 - p) / (1.0 - p)
                + m.powf(2.0 - p) / (2.0 - p))
        } else if p == 0.0 {
            (t - m) * (t - m)
        } else if p == 1.0 {
            let xlogy = if t == 0.0 { 0.0 } else { t * (t / m).ln() };
            2.0 * (xlogy - t + m)
        } else if p == 2.0 {
            2.0 * ((m / t).ln() + t / m - 1.0)
        } else {
            2.0 * (t.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) - t * m.powf(1.0 - p) / (1.0 - p)
                + m.powf(2.0 - p) / (2.0 - p))
        }
    };
    Ok(check::average(
        y_true.iter().zip(y_pred).map(|(&t, &m)| dev(t, m)),
        sample_weight,
    ))
}

/// Mean Poisson deviance (scikit-learn's `mean_poisson_deviance`): Tweedie with power 1.
pub fn mean_poisson_deviance(
    y_true: &[f64],
    y_pred: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<f64> {
    mean_tweedie_deviance(y_true, y_pred, sample_weight, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_force_finite_and_single_sample() {
        assert_eq!(r2_score(&[2.0, 2.0], &[2.0, 2.0], None).unwrap(), 1.0);
        assert_eq!(r2_score(&[2.0, 2.0], &[2.0, 3.0], None).unwrap(), 0.0);
        assert!(r2_score(&[2.0], &[2.0], None).unwrap().is_nan());
        assert_eq!(
            explained_variance_score(&[2.0, 2.0], &[3.0, 3.0], None).unwrap(),
            1.0
        );
    }

    #[test]
    fn tweedie_domains_name_the_offending_value() {
        let e = mean_tweedie_deviance(&[1.0, 2.0], &[1.0, 0.0], None, 1.5)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "y_pred[1] = 0: mean Tweedie deviance with power = 1.5 needs y_pred > 0"
        );
        let e = mean_poisson_deviance(&[-1.0], &[1.0], None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "y_true[0] = -1: mean Tweedie deviance with power = 1 needs y_true >= 0"
        );
        let e = mean_tweedie_deviance(&[0.0], &[1.0], None, 2.0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "y_true[0] = 0: mean Tweedie deviance with power = 2 needs y_true > 0"
        );
        let e = mean_tweedie_deviance(&[1.0], &[1.0], None, 0.5)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid power = 0.5: expected a finite number <= 0 or >= 1"
        );
        assert_eq!(
            mean_tweedie_deviance(&[1.0], &[3.0], None, 0.0).unwrap(),
            4.0
        );
    }

    #[test]
    fn weighted_median_averages_at_exact_half() {
        // Weights 1,1 on errors 1, 3: the cdf hits one half exactly at the first.
        let m = median_absolute_error(&[0.0, 0.0], &[1.0, 3.0], Some(&[1.0, 1.0])).unwrap();
        assert_eq!(m, 2.0);
        let m = median_absolute_error(&[0.0, 0.0, 0.0], &[1.0, 3.0, 5.0], Some(&[1.0, 0.0, 1.0]))
            .unwrap();
        assert_eq!(m, 3.0);
        assert_eq!(
            median_absolute_error(&[0.0; 3], &[1.0, 9.0, 2.0], None).unwrap(),
            2.0
        );
    }

    #[test]
    fn mape_uses_machine_epsilon() {
        let v = mean_absolute_percentage_error(&[0.0], &[1.0], None).unwrap();
        assert_eq!(v, 1.0 / f64::EPSILON);
    }
}
