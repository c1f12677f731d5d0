//! Target encoding: scikit-learn's `TargetEncoder` for one column, with cross fitting.
//!
//! [`TargetEncoder::fit`] learns from all rows and is what encodes new data (scikit-learn's
//! `fit(X, y).transform(X_new)`); [`TargetEncoder::fit_transform`] also encodes the training
//! rows themselves, each from the statistics of the *other* folds, exactly as scikit-learn's
//! `fit_transform` with `cv` set to the same folds. Differences from scikit-learn: the folds
//! are given explicitly (one fold id per row), and the classes of a classification target are
//! class indices `0..n_classes` given by the caller, so a class absent from `y` still gets its
//! (constant) output where scikit-learn would have one output fewer.

use serde::{Deserialize, Serialize};

use super::Result;
use super::encode::Categories;
use super::error::TransformError;

/// The kind of target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "n_classes")]
pub enum TargetType {
    /// A real-valued target: one output.
    Continuous,
    /// Class indices 0 and 1: one output, the encoding of class 1.
    Binary,
    /// Class indices `0..n` (`n >= 3`): one output per class (one-vs-rest), in class order.
    Multiclass(usize),
}

impl TargetType {
    fn n_outputs(self) -> usize {
        match self {
            Self::Continuous | Self::Binary => 1,
            Self::Multiclass(n) => n,
        }
    }
}

/// The amount of shrinkage towards the target mean (scikit-learn's `smooth`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Smooth {
    /// An empirical Bayes estimate per category (Micci-Barreca 2001, eq. 5–6; the default):
    /// `λ = n σ² / (n σ² + s²/n)` with `n` the category's count, `s²` its sum of squared
    /// deviations and `σ²` the target variance; encoding `λ ȳ_c + (1 − λ) ȳ`.
    #[default]
    Auto,
    /// A fixed `m >= 0`: encoding `(Σ y_c + m ȳ) / (n + m)`.
    Value(f64),
}

/// Options of [`TargetEncoder`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetParams {
    /// The kind of target.
    pub target_type: TargetType,
    /// The shrinkage.
    #[serde(default)]
    pub smooth: Smooth,
}

/// A fitted target encoder for one column.
///
/// Output names: `col` for a continuous or binary target, `col=class` per class otherwise (see
/// [`TargetEncoder::names`]). A missing value seen at fit is a category of its own; unknown
/// levels (and a missing value not seen at fit) encode as the target mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetEncoder {
    /// The column, for error messages.
    pub column: String,
    /// The categories seen at fit.
    pub categories: Categories,
    /// The kind of target.
    pub target_type: TargetType,
    /// Per output, per category, the encoding (`encodings_`).
    pub encodings: Vec<Vec<f64>>,
    /// Per output, the mean of the target (`target_mean_`); unknown levels get it.
    pub target_mean: Vec<f64>,
}

/// The target of output `o` for one row: the value itself, or a class indicator.
fn target_value(target_type: TargetType, y: f64, o: usize) -> f64 {
    match target_type {
        TargetType::Continuous => y,
        TargetType::Binary => f64::from(u8::from(y == 1.0)),
        TargetType::Multiclass(_) => f64::from(u8::from(y == o as f64)),
    }
}

/// Mean and population variance (numpy's `mean` and two-pass `var`) of `t` over `rows`.
fn mean_var(t: &[f64], rows: &[usize]) -> (f64, f64) {
    let n = rows.len() as f64;
    let mean = rows.iter().map(|&r| t[r]).sum::<f64>() / n;
    let var = rows
        .iter()
        .map(|&r| (t[r] - mean) * (t[r] - mean))
        .sum::<f64>()
        / n;
    (mean, var)
}

/// The encodings of every category from the rows `rows` (scikit-learn's
/// `_fit_encoding_fast` and `_fit_encoding_fast_auto_smooth`).
fn fit_encoding(
    cats: &[usize],
    t: &[f64],
    rows: &[usize],
    n_cats: usize,
    smooth: Smooth,
    mean: f64,
    var: f64,
) -> Vec<f64> {
    match smooth {
        Smooth::Value(m) => {
            let mut sums = vec![m * mean; n_cats];
            let mut counts = vec![m; n_cats];
            for &r in rows {
                sums[cats[r]] += t[r];
                counts[cats[r]] += 1.0;
            }
            sums.iter()
                .zip(&counts)
                .map(|(&s, &c)| if c == 0.0 { mean } else { s / c })
                .collect()
        }
        Smooth::Auto => {
            let mut means = vec![0.0; n_cats];
            let mut counts = vec![0_u64; n_cats];
            for &r in rows {
                counts[cats[r]] += 1;
                means[cats[r]] += t[r];
            }
            for (m, &c) in means.iter_mut().zip(&counts) {
                *m /= c as f64;
            }
            let mut ssd = vec![0.0; n_cats];
            for &r in rows {
                let d = t[r] - means[cats[r]];
                ssd[cats[r]] += d * d;
            }
            (0..n_cats)
                .map(|c| {
                    let n = counts[c] as f64;
                    let lambda = var * n / (var * n + ssd[c] / n);
                    if lambda.is_nan() {
                        mean
                    } else {
                        lambda * means[c] + (1.0 - lambda) * mean
                    }
                })
                .collect()
        }
    }
}

impl TargetEncoder {
    fn check(column: &str, values: &[Option<&str>], y: &[f64], params: TargetParams) -> Result<()> {
        TransformError::check_len(column, "target", values.len(), y.len())?;
        if let Smooth::Value(m) = params.smooth
            && !(m >= 0.0 && m.is_finite())
        {
            return Err(TransformError::invalid(
                "smooth",
                m,
                "\"auto\" or a number >= 0",
            ));
        }
        if let TargetType::Multiclass(n) = params.target_type
            && n < 3
        {
            return Err(TransformError::invalid(
                "n_classes",
                n,
                "at least 3 for a multiclass target (use binary for 2)",
            ));
        }
        if values.is_empty() {
            return Err(TransformError::AllMissing {
                column: column.to_owned(),
                n_rows: 0,
                what: "target statistics",
            });
        }
        for (row, &v) in y.iter().enumerate() {
            let bad = match params.target_type {
                TargetType::Continuous => (!v.is_finite()).then_some("expected a finite number"),
                TargetType::Binary => {
                    (v != 0.0 && v != 1.0).then_some("expected a class index 0 or 1")
                }
                TargetType::Multiclass(n) => (!(v >= 0.0 && v < n as f64 && v.fract() == 0.0))
                    .then_some("expected a class index in 0..n_classes"),
            };
            if let Some(expected) = bad {
                return Err(TransformError::BadTarget {
                    column: column.to_owned(),
                    row,
                    value: v,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// Learns the encodings of `column` from all rows: `values` are the levels, `y` the target
    /// (a number, or a class index for classification).
    pub fn fit(
        column: &str,
        values: &[Option<&str>],
        y: &[f64],
        params: TargetParams,
    ) -> Result<Self> {
        Self::check(column, values, y, params)?;
        let (categories, _) = Categories::count(values);
        let cats = Self::category_indices(&categories, values);
        let rows: Vec<usize> = (0..values.len()).collect();
        let (encodings, target_mean) = Self::fit_rows(&cats, y, &rows, categories.len(), params);
        Ok(Self {
            column: column.to_owned(),
            categories,
            target_type: params.target_type,
            encodings,
            target_mean,
        })
    }

    /// Like [`TargetEncoder::fit`], and also encodes the training rows by cross fitting: row `i`
    /// is encoded from the statistics of the rows whose fold differs from `folds[i]`. Returns
    /// the encoder (fitted on all rows, for new data) and the training encodings, row-major
    /// ([`TargetEncoder::output_width`] per row).
    pub fn fit_transform(
        column: &str,
        values: &[Option<&str>],
        y: &[f64],
        folds: &[usize],
        params: TargetParams,
    ) -> Result<(Self, Vec<f64>)> {
        TransformError::check_len(column, "folds", values.len(), folds.len())?;
        let enc = Self::fit(column, values, y, params)?;
        let k = folds.iter().copied().max().map_or(0, |m| m + 1);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (row, &f) in folds.iter().enumerate() {
            members[f].push(row);
        }
        if k < 2 {
            return Err(TransformError::Folds {
                column: column.to_owned(),
                fold: 0,
                detail: "holds every row, so no rows are left to learn from",
            });
        }
        if let Some(f) = members.iter().position(Vec::is_empty) {
            return Err(TransformError::Folds {
                column: column.to_owned(),
                fold: f,
                detail: "has no rows",
            });
        }
        let cats = Self::category_indices(&enc.categories, values);
        let w = enc.output_width();
        let mut out = vec![0.0; values.len() * w];
        for (f, test) in members.iter().enumerate() {
            let train: Vec<usize> = (0..values.len()).filter(|&r| folds[r] != f).collect();
            let (encodings, _) = Self::fit_rows(&cats, y, &train, enc.categories.len(), params);
            for &r in test {
                for (o, e) in encodings.iter().enumerate() {
                    out[r * w + o] = e[cats[r]];
                }
            }
        }
        Ok((enc, out))
    }

    fn category_indices(categories: &Categories, values: &[Option<&str>]) -> Vec<usize> {
        values
            .iter()
            .map(|&v| categories.index(v).unwrap_or(0))
            .collect()
    }

    fn fit_rows(
        cats: &[usize],
        y: &[f64],
        rows: &[usize],
        n_cats: usize,
        params: TargetParams,
    ) -> (Vec<Vec<f64>>, Vec<f64>) {
        let n_out = params.target_type.n_outputs();
        let mut encodings = Vec::with_capacity(n_out);
        let mut means = Vec::with_capacity(n_out);
        for o in 0..n_out {
            let t: Vec<f64> = y
                .iter()
                .map(|&v| target_value(params.target_type, v, o))
                .collect();
            let (mean, var) = mean_var(&t, rows);
            encodings.push(fit_encoding(
                cats,
                &t,
                rows,
                n_cats,
                params.smooth,
                mean,
                var,
            ));
            means.push(mean);
        }
        (encodings, means)
    }

    /// Number of output columns: 1, or the number of classes of a multiclass target.
    pub fn output_width(&self) -> usize {
        self.encodings.len()
    }

    /// Output feature names: `col` for one output, `col=class` with the class labels otherwise
    /// (`classes` in class-index order; `col=0`, `col=1`, … when it is shorter).
    pub fn names(&self, col: &str, classes: &[String]) -> Vec<String> {
        if self.output_width() == 1 {
            return vec![col.to_owned()];
        }
        (0..self.output_width())
            .map(|o| match classes.get(o) {
                Some(c) => format!("{col}={c}"),
                None => format!("{col}={o}"),
            })
            .collect()
    }

    /// Encodes one level into `out` (length [`TargetEncoder::output_width`]); an unknown level
    /// gets the target mean.
    pub fn encode(&self, level: Option<&str>, out: &mut [f64]) -> Result<()> {
        TransformError::check_len(&self.column, "output row", self.output_width(), out.len())?;
        let i = self.categories.index(level);
        for ((o, e), m) in out.iter_mut().zip(&self.encodings).zip(&self.target_mean) {
            *o = i.map_or(*m, |i| e[i]);
        }
        Ok(())
    }

    /// Encodes a column of levels into `out`, row-major, through [`TargetEncoder::encode`].
    pub fn encode_column(&self, values: &[Option<&str>], out: &mut [f64]) -> Result<()> {
        let w = self.output_width();
        TransformError::check_len(&self.column, "output", values.len() * w, out.len())?;
        for (&v, row) in values.iter().zip(out.chunks_exact_mut(w)) {
            self.encode(v, row)?;
        }
        Ok(())
    }
}

impl TargetEncoder {
    /// Encodes a dictionary-encoded column into `out`, row-major: [`TargetEncoder::encode`]
    /// once per dictionary entry, then copied per row. `valid[i] == false` marks a missing row;
    /// `None` means every row is present.
    pub fn encode_codes(
        &self,
        dict: &[String],
        codes: &[u32],
        valid: Option<&[bool]>,
        out: &mut [f64],
    ) -> Result<()> {
        let w = self.output_width();
        TransformError::check_len(&self.column, "output", codes.len() * w, out.len())?;
        if let Some(v) = valid {
            TransformError::check_len(&self.column, "validity", codes.len(), v.len())?;
        }
        let mut table = vec![0.0; (dict.len() + 1) * w];
        for (level, row) in dict
            .iter()
            .map(|s| Some(s.as_str()))
            .chain(std::iter::once(None))
            .zip(table.chunks_exact_mut(w))
        {
            self.encode(level, row)?;
        }
        for (row, (&code, chunk)) in codes.iter().zip(out.chunks_exact_mut(w)).enumerate() {
            let entry = if valid.is_none_or(|v| v[row]) {
                if code as usize >= dict.len() {
                    return Err(TransformError::Length {
                        column: self.column.clone(),
                        what: "dictionary",
                        expected: code as usize + 1,
                        got: dict.len(),
                    });
                }
                code as usize
            } else {
                dict.len() // the missing value's row of the table
            };
            chunk.copy_from_slice(&table[entry * w..(entry + 1) * w]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn code_path_equals_level_path(
            rows in prop::collection::vec((0u32..4, any::<bool>(), 0u8..3), 1..40),
        ) {
            let dict: Vec<String> = ["w", "x", "y", "z"].iter().map(|s| (*s).to_string()).collect();
            let codes: Vec<u32> = rows.iter().map(|r| r.0).collect();
            let valid: Vec<bool> = rows.iter().map(|r| !r.1).collect();
            let levels: Vec<Option<&str>> = rows
                .iter()
                .map(|r| (!r.1).then(|| dict[r.0 as usize].as_str()))
                .collect();
            let y: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            // Fit on the first half so the second may hold unknown levels.
            let half = levels.len().div_ceil(2);
            for target_type in [TargetType::Continuous, TargetType::Multiclass(3)] {
                let p = TargetParams { target_type, smooth: Smooth::Auto };
                let e = TargetEncoder::fit("c", &levels[..half], &y[..half], p).unwrap();
                let w = e.output_width();
                let mut a = vec![0.0; levels.len() * w];
                let mut b = vec![1.0; levels.len() * w];
                e.encode_column(&levels, &mut a).unwrap();
                e.encode_codes(&dict, &codes, Some(&valid), &mut b).unwrap();
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                prop_assert_eq!(bits(&a), bits(&b));
            }
        }
    }

    #[test]
    fn fixed_smoothing_by_hand() {
        let v = [Some("a"), Some("a"), Some("b"), None];
        let y = [1.0, 3.0, 10.0, 6.0];
        let p = TargetParams {
            target_type: TargetType::Continuous,
            smooth: Smooth::Value(1.0),
        };
        let e = TargetEncoder::fit("c", &v, &y, p).unwrap();
        // mean 5; a: (4 + 5) / 3 = 3; b: (10 + 5) / 2 = 7.5; null: (6 + 5) / 2 = 5.5
        assert_eq!(e.encodings[0], vec![3.0, 7.5, 5.5]);
        let mut out = [0.0];
        e.encode(Some("zz"), &mut out).unwrap();
        assert_eq!(out[0], 5.0);
        let dict = vec!["b".to_string(), "zz".to_string(), "a".to_string()];
        let mut fast = [0.0; 4];
        e.encode_codes(
            &dict,
            &[0, 1, 2, 0],
            Some(&[true, true, true, false]),
            &mut fast,
        )
        .unwrap();
        assert_eq!(fast, [7.5, 5.0, 3.0, 5.5]);
        assert!(e.encode_codes(&dict, &[3], None, &mut out).is_err());
    }

    #[test]
    fn bad_folds_and_targets_are_errors() {
        let v = [Some("a"), Some("b")];
        let p = TargetParams {
            target_type: TargetType::Binary,
            smooth: Smooth::Auto,
        };
        assert!(TargetEncoder::fit_transform("c", &v, &[0.0, 1.0], &[0, 0], p).is_err());
        assert!(TargetEncoder::fit_transform("c", &v, &[0.0, 1.0], &[0, 2], p).is_err());
        let e = TargetEncoder::fit("c", &v, &[0.0, 2.0], p).unwrap_err();
        assert!(matches!(e, TransformError::BadTarget { row: 1, .. }), "{e}");
    }
}
