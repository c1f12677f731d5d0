//! Binning a numeric column: scikit-learn's `KBinsDiscretizer` with the `uniform` and
//! `quantile` strategies.
//!
//! Quantile edges use `np.percentile(..., method="averaged_inverted_cdf")`, which is
//! scikit-learn 1.9's default `quantile_method` (1.7 introduced the option with numpy's
//! `"linear"` as a deprecated default; 1.9 switched the default). Differences from scikit-learn,
//! all deliberate: fitting ignores `NaN` and applying maps `NaN` to `NaN` (scikit-learn refuses
//! missing values); quantiles are computed on every row (scikit-learn subsamples 200,000 rows of
//! larger columns at random).

use serde::{Deserialize, Serialize};

use super::error::TransformError;
use super::{
    Result, check_finite, fmt_num, linspace, percentile_averaged_inverted_cdf, sorted_present,
};

/// How bin edges are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinStrategy {
    /// Equal widths between the smallest and largest value.
    Uniform,
    /// Equal counts: edges at the percentiles `0, 100/n, …, 100` (the default); edges closer than
    /// `1e-8` collapse and their bins are removed, as scikit-learn does (with a warning there).
    #[default]
    Quantile,
}

/// How a bin is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinEncode {
    /// One output: the bin index `0..n_bins` as a number.
    Ordinal,
    /// One output per bin, 1 in the value's bin (the default, scikit-learn's `onehot-dense`).
    #[default]
    OneHot,
}

/// Options of [`KBins`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KBinsParams {
    /// Number of bins, at least 2 (default 5).
    pub n_bins: usize,
    /// Edge placement.
    pub strategy: BinStrategy,
    /// Output form.
    pub encode: BinEncode,
}

impl Default for KBinsParams {
    fn default() -> Self {
        Self {
            n_bins: 5,
            strategy: BinStrategy::Quantile,
            encode: BinEncode::OneHot,
        }
    }
}

/// A fitted bin discretizer for one column.
///
/// Bin `i` holds `edges[i] <= x < edges[i + 1]`, except that the first bin reaches down to
/// `-inf` and the last up to `+inf` (`np.searchsorted(edges[1:-1], x, side="right")`).
/// One-hot feature names are readable intervals: `age=(-inf, 30)`, `age=[30, 45)`,
/// `age=[45, inf)`; the ordinal output is named after the column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KBins {
    /// The column, for error messages.
    pub column: String,
    /// The bin edges, ascending (`bin_edges_`); a constant column has `[-inf, inf]`.
    pub edges: Vec<f64>,
    /// Output form.
    pub encode: BinEncode,
}

impl KBins {
    /// Learns the bin edges of `column` from its present values.
    pub fn fit(column: &str, values: &[f64], params: KBinsParams) -> Result<Self> {
        if params.n_bins < 2 {
            return Err(TransformError::invalid(
                "n_bins",
                params.n_bins,
                "at least 2",
            ));
        }
        check_finite(column, values)?;
        let sorted = sorted_present(values);
        if sorted.is_empty() {
            return Err(TransformError::AllMissing {
                column: column.to_owned(),
                n_rows: values.len(),
                what: "bin edges",
            });
        }
        let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
        let n = params.n_bins;
        let edges = if lo == hi {
            vec![f64::NEG_INFINITY, f64::INFINITY]
        } else {
            match params.strategy {
                BinStrategy::Uniform => linspace(lo, hi, n + 1),
                BinStrategy::Quantile => {
                    let raw: Vec<f64> = linspace(0.0, 100.0, n + 1)
                        .into_iter()
                        .map(|p| percentile_averaged_inverted_cdf(&sorted, p))
                        .collect();
                    // np.ediff1d(edges, to_begin=inf) > 1e-8
                    let mut kept = Vec::with_capacity(raw.len());
                    for (i, &e) in raw.iter().enumerate() {
                        if i == 0 || e - raw[i - 1] > 1e-8 {
                            kept.push(e);
                        }
                    }
                    kept
                }
            }
        };
        Ok(Self {
            column: column.to_owned(),
            edges,
            encode: params.encode,
        })
    }

    /// Number of bins after collapsed ones were removed (`n_bins_`).
    pub fn n_bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// The bin of one value as a number, `NaN` for `NaN`.
    pub fn apply(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let inner = &self.edges[1..self.edges.len() - 1];
        inner.partition_point(|&e| e <= x) as f64
    }

    /// Number of output columns: 1 for ordinal, [`KBins::n_bins`] for one-hot.
    pub fn output_width(&self) -> usize {
        match self.encode {
            BinEncode::Ordinal => 1,
            BinEncode::OneHot => self.n_bins(),
        }
    }

    /// Output feature names with `col` as prefix.
    pub fn names(&self, col: &str) -> Vec<String> {
        match self.encode {
            BinEncode::Ordinal => vec![col.to_owned()],
            BinEncode::OneHot => {
                let n = self.n_bins();
                (0..n)
                    .map(|i| {
                        let lo = if i == 0 {
                            "(-inf".to_owned()
                        } else {
                            format!("[{}", fmt_num(self.edges[i]))
                        };
                        let hi = if i + 1 == n {
                            "inf".to_owned()
                        } else {
                            fmt_num(self.edges[i + 1])
                        };
                        format!("{col}={lo}, {hi})")
                    })
                    .collect()
            }
        }
    }

    /// Encodes one value into `out` (length [`KBins::output_width`]): its bin index, or a one-hot
    /// row (all zeros for `NaN`).
    pub fn encode(&self, x: f64, out: &mut [f64]) -> Result<()> {
        TransformError::check_len(&self.column, "output row", self.output_width(), out.len())?;
        let bin = self.apply(x);
        match self.encode {
            BinEncode::Ordinal => out[0] = bin,
            BinEncode::OneHot => {
                out.fill(0.0);
                if !bin.is_nan() {
                    out[bin as usize] = 1.0;
                }
            }
        }
        Ok(())
    }

    /// Encodes a column into `out`, row-major, through [`KBins::encode`].
    pub fn encode_column(&self, values: &[f64], out: &mut [f64]) -> Result<()> {
        let w = self.output_width();
        TransformError::check_len(&self.column, "output", values.len() * w, out.len())?;
        for (&x, row) in values.iter().zip(out.chunks_exact_mut(w)) {
            self.encode(x, row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uniform_bins_and_names() {
        let p = KBinsParams {
            n_bins: 3,
            strategy: BinStrategy::Uniform,
            encode: BinEncode::OneHot,
        };
        let k = KBins::fit("age", &[0.0, 30.0, f64::NAN, 90.0], p).unwrap();
        assert_eq!(k.edges, vec![0.0, 30.0, 60.0, 90.0]);
        assert_eq!(
            k.names("age"),
            vec!["age=(-inf, 30)", "age=[30, 60)", "age=[60, inf)"]
        );
        assert_eq!(k.apply(-5.0), 0.0);
        assert_eq!(k.apply(30.0), 1.0);
        assert_eq!(k.apply(1000.0), 2.0);
        assert!(k.apply(f64::NAN).is_nan());
    }

    #[test]
    fn collapsed_quantile_edges_are_removed() {
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0];
        let p = KBinsParams {
            n_bins: 4,
            strategy: BinStrategy::Quantile,
            encode: BinEncode::Ordinal,
        };
        let k = KBins::fit("x", &v, p).unwrap();
        assert!(k.n_bins() < 4);
        assert!(k.edges.windows(2).all(|w| w[1] - w[0] > 1e-8));
    }

    #[test]
    fn too_few_bins_is_an_error() {
        let p = KBinsParams {
            n_bins: 1,
            ..KBinsParams::default()
        };
        let e = KBins::fit("x", &[1.0, 2.0], p).unwrap_err();
        assert!(e.to_string().contains("n_bins"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn column_path_equals_value_path(
            v in prop::collection::vec(prop_oneof![Just(f64::NAN), -50.0..50.0_f64], 2..50),
            n_bins in 2usize..7,
        ) {
            prop_assume!(v.iter().any(|x| !x.is_nan()));
            for strategy in [BinStrategy::Uniform, BinStrategy::Quantile] {
                let k = KBins::fit("x", &v, KBinsParams { n_bins, strategy, encode: BinEncode::OneHot }).unwrap();
                let w = k.output_width();
                let mut col = vec![0.0; v.len() * w];
                k.encode_column(&v, &mut col).unwrap();
                for (&x, row) in v.iter().zip(col.chunks_exact(w)) {
                    let mut one = vec![0.0; w];
                    k.encode(x, &mut one).unwrap();
                    prop_assert_eq!(&one[..], row);
                    prop_assert_eq!(row.iter().sum::<f64>(), if x.is_nan() { 0.0 } else { 1.0 });
                }
            }
        }
    }
}
