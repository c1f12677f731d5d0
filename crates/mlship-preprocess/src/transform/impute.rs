//! Imputers: scikit-learn's `SimpleImputer` for one numeric or one categorical column, with the
//! missing indicator of `add_indicator=True, features="missing-only"`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::TransformError;
use super::{Result, check_finite, median, sorted_present};

/// How a numeric imputer chooses its fill value (scikit-learn's `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "strategy", content = "value")]
pub enum NumericImputeStrategy {
    /// The mean of the present values.
    Mean,
    /// The median of the present values (the mean of the two middle ones for an even count).
    Median,
    /// The most frequent present value; ties go to the smallest value (as scipy's `mode`).
    MostFrequent,
    /// A fixed value (`fill_value`); fitting never fails, even on an all-missing column.
    Constant(f64),
}

/// A fitted numeric imputer: replaces `NaN` by [`NumericImputer::fill`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericImputer {
    /// The value that replaces a missing one.
    pub fill: f64,
    /// Whether the column had a missing value at fit: the missing indicator is emitted only then
    /// (scikit-learn's `features="missing-only"`).
    pub had_missing: bool,
}

/// Whether a numeric column has a missing (`NaN`) value: the test scikit-learn's
/// `MissingIndicator(features="missing-only")` applies at fit.
pub fn had_missing(values: &[f64]) -> bool {
    values.iter().any(|x| x.is_nan())
}

impl NumericImputer {
    /// Learns the fill value of `column` from `values` (`NaN` = missing).
    ///
    /// Fails when every value is missing (except for [`NumericImputeStrategy::Constant`]) and on
    /// infinite values.
    pub fn fit(column: &str, values: &[f64], strategy: NumericImputeStrategy) -> Result<Self> {
        check_finite(column, values)?;
        let had_missing = had_missing(values);
        if let NumericImputeStrategy::Constant(fill) = strategy {
            if fill.is_nan() {
                return Err(TransformError::invalid(
                    "fill_value",
                    fill,
                    "a number (NaN would leave values missing)",
                ));
            }
            return Ok(Self { fill, had_missing });
        }
        let sorted = sorted_present(values);
        if sorted.is_empty() {
            return Err(TransformError::AllMissing {
                column: column.to_owned(),
                n_rows: values.len(),
                what: "a fill value",
            });
        }
        let fill = match strategy {
            NumericImputeStrategy::Mean => sorted_mean(values, sorted.len()),
            NumericImputeStrategy::Median => median(&sorted),
            NumericImputeStrategy::MostFrequent => most_frequent_sorted(&sorted),
            NumericImputeStrategy::Constant(c) => c,
        };
        Ok(Self { fill, had_missing })
    }

    /// One value: itself when present, the fill value when `NaN`.
    pub fn apply(&self, x: f64) -> f64 {
        if x.is_nan() { self.fill } else { x }
    }

    /// The missing indicator of one value: 1 when missing, 0 otherwise.
    pub fn indicator(x: f64) -> f64 {
        if x.is_nan() { 1.0 } else { 0.0 }
    }

    /// A whole column through [`NumericImputer::apply`].
    pub fn transform(&self, values: &[f64]) -> Vec<f64> {
        values.iter().map(|&x| self.apply(x)).collect()
    }
}

/// The mean of the present values, summed in row order.
fn sorted_mean(values: &[f64], count: usize) -> f64 {
    let sum: f64 = values.iter().filter(|x| !x.is_nan()).sum();
    sum / count as f64
}

/// The most frequent value of a sorted slice; the first (smallest) of equally frequent ones.
fn most_frequent_sorted(sorted: &[f64]) -> f64 {
    let mut best = sorted[0];
    let mut best_count = 0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        if j - i > best_count {
            best_count = j - i;
            best = sorted[i];
        }
        i = j;
    }
    best
}

/// How a categorical imputer chooses its fill level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "strategy", content = "value")]
pub enum CategoricalImputeStrategy {
    /// The most frequent level; ties go to the lexicographically smallest (as scikit-learn).
    MostFrequent,
    /// A fixed level (`fill_value`, scikit-learn's default being `"missing_value"`).
    Constant(String),
}

/// A fitted categorical imputer: replaces a missing level by [`CategoricalImputer::fill`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalImputer {
    /// The level that replaces a missing one.
    pub fill: String,
    /// Whether the column had a missing value at fit.
    pub had_missing: bool,
}

impl CategoricalImputer {
    /// Learns the fill level of `column` from `values` (`None` = missing).
    pub fn fit(
        column: &str,
        values: &[Option<&str>],
        strategy: &CategoricalImputeStrategy,
    ) -> Result<Self> {
        let had_missing = values.iter().any(Option::is_none);
        let fill = match strategy {
            CategoricalImputeStrategy::Constant(s) => s.clone(),
            CategoricalImputeStrategy::MostFrequent => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for v in values.iter().flatten() {
                    *counts.entry(v).or_default() += 1;
                }
                // BTreeMap iterates in ascending order; `>` keeps the first of equal counts.
                let mut best: Option<(&str, usize)> = None;
                for (level, n) in counts {
                    if best.is_none_or(|(_, b)| n > b) {
                        best = Some((level, n));
                    }
                }
                match best {
                    Some((level, _)) => level.to_owned(),
                    None => {
                        return Err(TransformError::AllMissing {
                            column: column.to_owned(),
                            n_rows: values.len(),
                            what: "a most frequent level",
                        });
                    }
                }
            }
        };
        Ok(Self { fill, had_missing })
    }

    /// One level: itself when present, the fill level when missing.
    pub fn apply<'a>(&'a self, level: Option<&'a str>) -> &'a str {
        level.unwrap_or(&self.fill)
    }

    /// The missing indicator of one level: 1 when missing, 0 otherwise.
    pub fn indicator(level: Option<&str>) -> f64 {
        if level.is_none() { 1.0 } else { 0.0 }
    }

    /// A whole column through [`CategoricalImputer::apply`].
    pub fn transform<'a>(&'a self, values: &[Option<&'a str>]) -> Vec<&'a str> {
        values.iter().map(|&v| self.apply(v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_strategies() {
        let v = [1.0, f64::NAN, 3.0, 3.0, 1.0, 10.0];
        let fit = |s| NumericImputer::fit("x", &v, s).map(|i| i.fill);
        assert_eq!(fit(NumericImputeStrategy::Mean), Ok(3.6));
        assert_eq!(fit(NumericImputeStrategy::Median), Ok(3.0));
        assert_eq!(fit(NumericImputeStrategy::MostFrequent), Ok(1.0));
        assert_eq!(fit(NumericImputeStrategy::Constant(-1.0)), Ok(-1.0));
        let imp = NumericImputer::fit("x", &v, NumericImputeStrategy::Median).unwrap();
        assert!(imp.had_missing);
        assert_eq!(imp.transform(&v), vec![1.0, 3.0, 3.0, 3.0, 1.0, 10.0]);
    }

    #[test]
    fn all_missing_is_an_error_naming_the_column() {
        let v = [f64::NAN, f64::NAN];
        let e = NumericImputer::fit("age", &v, NumericImputeStrategy::Mean).unwrap_err();
        assert!(e.to_string().contains("\"age\""), "{e}");
        assert!(NumericImputer::fit("age", &v, NumericImputeStrategy::Constant(0.0)).is_ok());
        let e = CategoricalImputer::fit("city", &[None], &CategoricalImputeStrategy::MostFrequent)
            .unwrap_err();
        assert!(e.to_string().contains("\"city\""), "{e}");
    }

    #[test]
    fn categorical_ties_go_to_the_smallest_level() {
        let v = [Some("b"), Some("a"), None, Some("b"), Some("a")];
        let imp =
            CategoricalImputer::fit("c", &v, &CategoricalImputeStrategy::MostFrequent).unwrap();
        assert_eq!(imp.fill, "a");
        assert_eq!(imp.apply(None), "a");
        assert_eq!(imp.apply(Some("z")), "z");
    }
}
