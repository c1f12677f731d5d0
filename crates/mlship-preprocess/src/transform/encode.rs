//! Categorical encoders: scikit-learn's `OneHotEncoder` and `OrdinalEncoder` for one column, and
//! the sorted category list they and the target encoder share.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::TransformError;
use super::{INFREQUENT_NAME, NULL_NAME, Result};

/// The categories of a column, sorted as scikit-learn sorts them: strings ascending, then the
/// missing value (`None`) last when it was seen at fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Categories {
    /// The present levels, sorted and distinct.
    pub levels: Vec<String>,
    /// Whether a missing value was seen at fit; it is then category number `levels.len()`.
    pub has_null: bool,
}

impl Categories {
    /// The categories of `values` with the number of rows of each, in category order.
    pub fn count(values: &[Option<&str>]) -> (Self, Vec<usize>) {
        let mut map: BTreeMap<&str, usize> = BTreeMap::new();
        let mut nulls = 0;
        for v in values {
            match v {
                Some(s) => *map.entry(s).or_default() += 1,
                None => nulls += 1,
            }
        }
        let mut counts: Vec<usize> = map.values().copied().collect();
        if nulls > 0 {
            counts.push(nulls);
        }
        let cats = Self {
            levels: map.into_keys().map(str::to_owned).collect(),
            has_null: nulls > 0,
        };
        (cats, counts)
    }

    /// Number of categories (the missing value included when seen).
    pub fn len(&self) -> usize {
        self.levels.len() + usize::from(self.has_null)
    }

    /// Whether there are no categories.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The category number of a level; `None` when it was not seen at fit.
    pub fn index(&self, level: Option<&str>) -> Option<usize> {
        match level {
            Some(s) => self.levels.binary_search_by(|l| l.as_str().cmp(s)).ok(),
            None => self.has_null.then_some(self.levels.len()),
        }
    }

    /// The name of category `i` in feature names: the level, or `null` for the missing value.
    pub fn name(&self, i: usize) -> &str {
        self.levels.get(i).map_or(NULL_NAME, String::as_str)
    }
}

/// scikit-learn's `min_frequency`: below it a category is infrequent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinFrequency {
    /// An absolute number of rows, at least 1.
    Count(usize),
    /// A share of the rows, in `(0, 1)`.
    Fraction(f64),
}

/// scikit-learn's `drop`: which output to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropPolicy {
    /// Keep every output (the default).
    #[default]
    None,
    /// Drop the first output (after grouping infrequent categories).
    First,
    /// Drop the first output of a column with exactly two outputs.
    IfBinary,
}

/// What the one-hot encoder does with a level not seen at fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OneHotUnknown {
    /// Fail, naming the column and the level (the default).
    #[default]
    Error,
    /// All zeros.
    Ignore,
    /// The infrequent output when there is one, else all zeros (`infrequent_if_exist`).
    Infrequent,
}

/// Options of [`OneHot`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OneHotParams {
    /// Which output to drop.
    pub drop: DropPolicy,
    /// Categories with fewer rows are grouped as infrequent.
    pub min_frequency: Option<MinFrequency>,
    /// At most this many outputs per column, the infrequent one included (at least 1).
    pub max_categories: Option<usize>,
    /// What to do with unknown levels.
    pub handle_unknown: OneHotUnknown,
}

impl OneHotParams {
    /// Checks the ranges scikit-learn enforces.
    pub fn validate(&self) -> Result<()> {
        match self.min_frequency {
            Some(MinFrequency::Count(0)) => {
                return Err(TransformError::invalid(
                    "min_frequency",
                    0,
                    "a count >= 1 or a fraction in (0, 1)",
                ));
            }
            Some(MinFrequency::Fraction(f)) if !(f > 0.0 && f < 1.0) => {
                return Err(TransformError::invalid(
                    "min_frequency",
                    f,
                    "a count >= 1 or a fraction in (0, 1)",
                ));
            }
            _ => {}
        }
        if self.max_categories == Some(0) {
            return Err(TransformError::invalid("max_categories", 0, "at least 1"));
        }
        Ok(())
    }
}

/// One output column of a one-hot encoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OneHotOutput {
    /// Category number `i` of [`OneHot::categories`].
    Category(usize),
    /// The group of infrequent categories.
    Infrequent,
}

/// A fitted one-hot encoder for one column.
///
/// Outputs: the frequent categories in category order, then one output for all infrequent
/// categories, minus the dropped one. Feature names are `col=level`, `col=null` for the
/// missing value (a category of its own when seen at fit, unknown otherwise) and
/// `col=infrequent` for the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneHot {
    /// The column, for error messages.
    pub column: String,
    /// All categories seen at fit (scikit-learn's `categories_`).
    pub categories: Categories,
    /// Per category, the output it sets; `None` when it is the dropped output.
    pub slot: Vec<Option<usize>>,
    /// The output columns in order.
    pub outputs: Vec<OneHotOutput>,
    /// Whether some categories were grouped as infrequent.
    pub has_infrequent: bool,
    /// The unknown-level policy.
    pub handle_unknown: OneHotUnknown,
}

impl OneHot {
    /// Learns the categories of `column`, their grouping and the dropped output.
    pub fn fit(column: &str, values: &[Option<&str>], params: &OneHotParams) -> Result<Self> {
        params.validate()?;
        let (categories, counts) = Categories::count(values);
        if categories.is_empty() {
            return Err(TransformError::AllMissing {
                column: column.to_owned(),
                n_rows: values.len(),
                what: "categories",
            });
        }
        let infrequent = infrequent_mask(&counts, values.len(), params);
        let has_infrequent = infrequent.iter().any(|&b| b);
        // Outputs before dropping: frequent categories, then the infrequent group.
        let mut outputs: Vec<OneHotOutput> = (0..categories.len())
            .filter(|&i| !infrequent[i])
            .map(OneHotOutput::Category)
            .collect();
        if has_infrequent {
            outputs.push(OneHotOutput::Infrequent);
        }
        let drop_first = match params.drop {
            DropPolicy::None => false,
            DropPolicy::First => true,
            DropPolicy::IfBinary => outputs.len() == 2,
        };
        if drop_first {
            outputs.remove(0);
        }
        let position = |o: &OneHotOutput| outputs.iter().position(|x| x == o);
        let slot = (0..categories.len())
            .map(|i| {
                if infrequent[i] {
                    position(&OneHotOutput::Infrequent)
                } else {
                    position(&OneHotOutput::Category(i))
                }
            })
            .collect();
        Ok(Self {
            column: column.to_owned(),
            categories,
            slot,
            outputs,
            has_infrequent,
            handle_unknown: params.handle_unknown,
        })
    }

    /// Number of output columns.
    pub fn output_width(&self) -> usize {
        self.outputs.len()
    }

    /// Output feature names with `col` as prefix: `col=level`, `col=null`, `col=infrequent`.
    pub fn names(&self, col: &str) -> Vec<String> {
        self.outputs
            .iter()
            .map(|o| match o {
                OneHotOutput::Category(i) => format!("{col}={}", self.categories.name(*i)),
                OneHotOutput::Infrequent => format!("{col}={INFREQUENT_NAME}"),
            })
            .collect()
    }

    /// The output one level sets, or `None` for all zeros: the per-level mapping every encoding
    /// path goes through. Fails on an unknown level under [`OneHotUnknown::Error`].
    pub fn slot_of(&self, level: Option<&str>) -> Result<Option<usize>> {
        match self.categories.index(level) {
            Some(i) => Ok(self.slot[i]),
            None => match self.handle_unknown {
                OneHotUnknown::Error => Err(TransformError::UnknownLevel {
                    column: self.column.clone(),
                    level: level.unwrap_or(NULL_NAME).to_owned(),
                }),
                OneHotUnknown::Ignore => Ok(None),
                OneHotUnknown::Infrequent => Ok(self
                    .outputs
                    .iter()
                    .position(|o| *o == OneHotOutput::Infrequent)),
            },
        }
    }

    /// Encodes one level into `out` (length [`OneHot::output_width`]), overwriting it.
    pub fn encode(&self, level: Option<&str>, out: &mut [f64]) -> Result<()> {
        TransformError::check_len(&self.column, "output row", self.output_width(), out.len())?;
        let slot = self.slot_of(level)?;
        write_slot(slot, out);
        Ok(())
    }

    /// Encodes a column of levels into `out`, row-major (`values.len()` rows of
    /// [`OneHot::output_width`]), through [`OneHot::encode`].
    pub fn encode_column(&self, values: &[Option<&str>], out: &mut [f64]) -> Result<()> {
        let w = self.output_width();
        TransformError::check_len(&self.column, "output", values.len() * w, out.len())?;
        if w == 0 {
            return Ok(());
        }
        for (v, row) in values.iter().zip(out.chunks_exact_mut(w)) {
            self.encode(*v, row)?;
        }
        Ok(())
    }

    /// Encodes a dictionary-encoded column into `out`, row-major: the mapping
    /// [`OneHot::slot_of`] is computed once per dictionary entry, then looked up per row.
    /// `valid[i] == false` marks a missing row; `None` means every row is present.
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
        let per_entry: Vec<Result<Option<usize>>> =
            dict.iter().map(|s| self.slot_of(Some(s))).collect();
        let null_slot = valid.map(|_| self.slot_of(None));
        if w == 0 {
            return Ok(());
        }
        for (row, (&code, chunk)) in codes.iter().zip(out.chunks_exact_mut(w)).enumerate() {
            let present = valid.is_none_or(|v| v[row]);
            let slot = if present {
                per_entry.get(code as usize).ok_or(TransformError::Length {
                    column: self.column.clone(),
                    what: "dictionary",
                    expected: code as usize + 1,
                    got: dict.len(),
                })?
            } else {
                null_slot.as_ref().unwrap_or(&Ok(None))
            };
            write_slot(slot.clone()?, chunk);
        }
        Ok(())
    }
}

fn write_slot(slot: Option<usize>, out: &mut [f64]) {
    out.fill(0.0);
    if let Some(s) = slot {
        out[s] = 1.0;
    }
}

/// scikit-learn's `_identify_infrequent`: categories below `min_frequency`, then the smallest
/// counts (stable in category order) until at most `max_categories` outputs remain.
fn infrequent_mask(counts: &[usize], n_rows: usize, params: &OneHotParams) -> Vec<bool> {
    let mut mask: Vec<bool> = match params.min_frequency {
        Some(MinFrequency::Count(m)) => counts.iter().map(|&c| c < m).collect(),
        Some(MinFrequency::Fraction(f)) => {
            let min_abs = n_rows as f64 * f;
            counts.iter().map(|&c| (c as f64) < min_abs).collect()
        }
        None => vec![false; counts.len()],
    };
    let n_infrequent = mask.iter().filter(|&&b| b).count();
    let n_current = counts.len() - n_infrequent + 1;
    if let Some(max) = params.max_categories
        && max < n_current
    {
        let keep = max - 1;
        if keep == 0 {
            mask.fill(true);
        } else {
            let mut order: Vec<usize> = (0..counts.len()).collect();
            order.sort_by_key(|&i| counts[i]); // stable, as numpy's mergesort
            for &i in &order[..counts.len() - keep] {
                mask[i] = true;
            }
        }
    }
    mask
}

/// What the ordinal encoder does with a level not seen at fit.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "policy", content = "value")]
pub enum OrdinalUnknown {
    /// Fail, naming the column and the level (the default).
    #[default]
    Error,
    /// This value (`use_encoded_value` with `unknown_value`; may be `NaN`).
    Value(#[serde(deserialize_with = "nan_if_null")] f64),
}

/// Options of [`Ordinal`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdinalParams {
    /// What to do with unknown levels.
    pub handle_unknown: OrdinalUnknown,
    /// The code of a missing value seen at fit (default `NaN`).
    #[serde(deserialize_with = "nan_if_null")]
    pub encoded_missing_value: f64,
}

impl Default for OrdinalParams {
    fn default() -> Self {
        Self {
            handle_unknown: OrdinalUnknown::Error,
            encoded_missing_value: f64::NAN,
        }
    }
}

/// A fitted ordinal encoder: level → its rank among the sorted present levels.
///
/// As in scikit-learn, a missing value seen at fit becomes `encoded_missing_value`; a missing
/// value not seen at fit is an unknown level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ordinal {
    /// The column, for error messages.
    pub column: String,
    /// The categories seen at fit.
    pub categories: Categories,
    /// The unknown-level policy.
    pub handle_unknown: OrdinalUnknown,
    /// The code of a missing value seen at fit.
    #[serde(deserialize_with = "nan_if_null")]
    pub encoded_missing_value: f64,
}

/// Reads a code that may be `NaN`: JSON has no NaN, and serde_json writes it as `null`.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

impl Ordinal {
    /// Learns the categories of `column`.
    pub fn fit(column: &str, values: &[Option<&str>], params: OrdinalParams) -> Result<Self> {
        let (categories, _) = Categories::count(values);
        if categories.levels.is_empty() {
            return Err(TransformError::AllMissing {
                column: column.to_owned(),
                n_rows: values.len(),
                what: "categories",
            });
        }
        if let OrdinalUnknown::Value(v) = params.handle_unknown
            && !v.is_nan()
            && (v.fract() != 0.0 || (v >= 0.0 && v < categories.levels.len() as f64))
        {
            return Err(TransformError::invalid(
                "unknown_value",
                v,
                "NaN or a whole number that is not a category code (e.g. -1)",
            ));
        }
        Ok(Self {
            column: column.to_owned(),
            categories,
            handle_unknown: params.handle_unknown,
            encoded_missing_value: params.encoded_missing_value,
        })
    }

    /// The code of one level.
    pub fn encode(&self, level: Option<&str>) -> Result<f64> {
        match self.categories.index(level) {
            Some(i) if i == self.categories.levels.len() => Ok(self.encoded_missing_value),
            Some(i) => Ok(i as f64),
            None => match self.handle_unknown {
                OrdinalUnknown::Value(v) => Ok(v),
                OrdinalUnknown::Error => Err(TransformError::UnknownLevel {
                    column: self.column.clone(),
                    level: level.unwrap_or(NULL_NAME).to_owned(),
                }),
            },
        }
    }

    /// A whole column through [`Ordinal::encode`].
    pub fn encode_column(&self, values: &[Option<&str>]) -> Result<Vec<f64>> {
        values.iter().map(|&v| self.encode(v)).collect()
    }

    /// A dictionary-encoded column: [`Ordinal::encode`] once per dictionary entry, then looked
    /// up per row. `valid[i] == false` marks a missing row; `None` means every row is present.
    pub fn encode_codes(
        &self,
        dict: &[String],
        codes: &[u32],
        valid: Option<&[bool]>,
    ) -> Result<Vec<f64>> {
        if let Some(v) = valid {
            TransformError::check_len(&self.column, "validity", codes.len(), v.len())?;
        }
        let per_entry: Vec<Result<f64>> = dict.iter().map(|s| self.encode(Some(s))).collect();
        let null_code = valid.map(|_| self.encode(None));
        codes
            .iter()
            .enumerate()
            .map(|(row, &code)| {
                if valid.is_none_or(|v| v[row]) {
                    per_entry
                        .get(code as usize)
                        .cloned()
                        .unwrap_or(Err(TransformError::Length {
                            column: self.column.clone(),
                            what: "dictionary",
                            expected: code as usize + 1,
                            got: dict.len(),
                        }))
                } else {
                    null_code.clone().unwrap_or(Ok(self.encoded_missing_value))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn col(v: &[&str]) -> Vec<Option<&'static str>> {
        v.iter()
            .map(|s| {
                if *s == "-" {
                    None
                } else {
                    Some(&*Box::leak(s.to_string().into_boxed_str()))
                }
            })
            .collect()
    }

    #[test]
    fn ordinal_nan_codes_survive_a_json_round_trip() {
        let params = OrdinalParams {
            handle_unknown: OrdinalUnknown::Value(f64::NAN),
            encoded_missing_value: f64::NAN,
        };
        let fitted = Ordinal::fit("c", &col(&["b", "-", "a"]), params).expect("fits");
        let json = serde_json::to_string(&fitted).expect("serialises");
        let back: Ordinal = serde_json::from_str(&json).expect("reads its own JSON");
        assert!(back.encoded_missing_value.is_nan());
        assert!(matches!(back.handle_unknown, OrdinalUnknown::Value(v) if v.is_nan()));
        assert!(back.encode(None).expect("missing").is_nan());
        assert!(back.encode(Some("zzz")).expect("unknown").is_nan());
        assert_eq!(back.encode(Some("b")).expect("known"), 1.0);
        // Numbers still read as numbers.
        let params = OrdinalParams {
            handle_unknown: OrdinalUnknown::Value(-1.0),
            encoded_missing_value: -2.0,
        };
        let fitted = Ordinal::fit("c", &col(&["b", "-", "a"]), params).expect("fits");
        let back: Ordinal =
            serde_json::from_str(&serde_json::to_string(&fitted).expect("serialises"))
                .expect("reads");
        assert_eq!(back, fitted);
    }

    #[test]
    fn categories_sort_with_null_last() {
        let (c, counts) = Categories::count(&col(&["b", "-", "a", "b"]));
        assert_eq!(c.levels, vec!["a", "b"]);
        assert!(c.has_null);
        assert_eq!(counts, vec![1, 2, 1]);
        assert_eq!(c.index(None), Some(2));
        assert_eq!(c.index(Some("c")), None);
    }

    #[test]
    fn unknown_under_error_names_column_and_level() {
        let enc = OneHot::fit("city", &col(&["a", "b"]), &OneHotParams::default()).unwrap();
        let mut out = [0.0; 2];
        let e = enc.encode(Some("zurich"), &mut out).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("\"city\"") && msg.contains("\"zurich\""),
            "{msg}"
        );
        let ord = Ordinal::fit("city", &col(&["a"]), OrdinalParams::default()).unwrap();
        assert!(ord.encode(Some("q")).is_err());
        let dict = vec!["q".to_string(), "a".to_string()];
        assert_eq!(ord.encode_codes(&dict, &[1, 1], None), Ok(vec![0.0, 0.0]));
        assert!(ord.encode_codes(&dict, &[1, 0], None).is_err());
    }

    #[test]
    fn min_frequency_out_of_range_is_an_error() {
        for mf in [
            MinFrequency::Count(0),
            MinFrequency::Fraction(1.5),
            MinFrequency::Fraction(0.0),
        ] {
            let p = OneHotParams {
                min_frequency: Some(mf),
                ..OneHotParams::default()
            };
            let e = OneHot::fit("c", &col(&["a"]), &p).unwrap_err();
            assert!(e.to_string().contains("min_frequency"), "{e}");
        }
    }

    #[test]
    fn infrequent_grouping_and_drop() {
        let v = col(&["a", "a", "a", "b", "b", "c", "d", "-"]);
        let p = OneHotParams {
            min_frequency: Some(MinFrequency::Count(2)),
            handle_unknown: OneHotUnknown::Infrequent,
            ..OneHotParams::default()
        };
        let enc = OneHot::fit("x", &v, &p).unwrap();
        assert_eq!(enc.names("x"), vec!["x=a", "x=b", "x=infrequent"]);
        assert_eq!(enc.slot_of(Some("zz")).unwrap(), Some(2));
        assert_eq!(enc.slot_of(None).unwrap(), Some(2));
        let p = OneHotParams {
            drop: DropPolicy::First,
            ..p
        };
        let enc = OneHot::fit("x", &v, &p).unwrap();
        assert_eq!(enc.names("x"), vec!["x=b", "x=infrequent"]);
        assert_eq!(enc.slot_of(Some("a")).unwrap(), None);
    }

    #[test]
    fn encode_codes_matches_encode_column() {
        let enc = OneHot::fit("x", &col(&["a", "b", "-"]), &OneHotParams::default()).unwrap();
        let dict = vec!["b".to_string(), "a".to_string()];
        let codes = [0, 1, 0, 1];
        let valid = [true, true, false, true];
        let mut fast = vec![9.0; 12];
        enc.encode_codes(&dict, &codes, Some(&valid), &mut fast)
            .unwrap();
        let levels = [Some("b"), Some("a"), None, Some("a")];
        let mut slow = vec![7.0; 12];
        enc.encode_column(&levels, &mut slow).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(&fast[6..9], &[0.0, 0.0, 1.0]);
    }

    #[test]
    fn encode_codes_fails_only_on_rows_that_hold_an_unknown_level() {
        let enc = OneHot::fit("city", &col(&["a", "b"]), &OneHotParams::default()).unwrap();
        let dict = vec!["a".to_string(), "paris".to_string()];
        let mut out = vec![0.0; 4];
        // "paris" is in the dictionary but in no row: fine.
        enc.encode_codes(&dict, &[0, 0], None, &mut out).unwrap();
        let e = enc
            .encode_codes(&dict, &[0, 1], None, &mut out)
            .unwrap_err();
        assert_eq!(
            e,
            TransformError::UnknownLevel {
                column: "city".into(),
                level: "paris".into()
            }
        );
        // A missing value not seen at fit is unknown too.
        let e = enc
            .encode_codes(&dict, &[0, 0], Some(&[true, false]), &mut out)
            .unwrap_err();
        assert!(e.to_string().contains("\"null\""), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn known_rows_sum_to_one_and_paths_agree(
            codes in prop::collection::vec(0u32..6, 1..60),
            nulls in prop::collection::vec(any::<bool>(), 60),
            min_count in 1usize..4,
        ) {
            let dict: Vec<String> = ["p", "q", "r", "s", "t", "u"].iter().map(|s| (*s).to_string()).collect();
            let valid: Vec<bool> = codes.iter().zip(&nulls).map(|(_, &n)| !n).collect();
            let levels: Vec<Option<&str>> = codes
                .iter()
                .zip(&valid)
                .map(|(&c, &ok)| ok.then(|| dict[c as usize].as_str()))
                .collect();
            for min_frequency in [None, Some(MinFrequency::Count(min_count))] {
                let p = OneHotParams { min_frequency, ..OneHotParams::default() };
                let enc = OneHot::fit("x", &levels, &p).unwrap();
                let w = enc.output_width();
                let mut a = vec![0.0; levels.len() * w];
                let mut b = vec![0.0; levels.len() * w];
                enc.encode_column(&levels, &mut a).unwrap();
                enc.encode_codes(&dict, &codes, Some(&valid), &mut b).unwrap();
                prop_assert_eq!(&a, &b);
                for row in a.chunks_exact(w) {
                    prop_assert_eq!(row.iter().sum::<f64>(), 1.0);
                }
                for (lv, row) in levels.iter().zip(a.chunks_exact(w)) {
                    let mut one = vec![0.0; w];
                    enc.encode(*lv, &mut one).unwrap();
                    prop_assert_eq!(&one[..], row);
                }
            }
        }
    }
}
