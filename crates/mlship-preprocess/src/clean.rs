//! Cleaning the training data: rows without a target, duplicate rows, constant columns, text
//! normalisation and range rules. Each step reports what it removed.
//!
//! Text normalisation and range rules also run at prediction time (the pipeline calls
//! [`normalise_text`] and [`RangeRule`]'s per-value function on every input), so a model never
//! sees text or values shaped differently from what it was fitted on.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use mlship_core::{ColumnData, RawBatch, RawColumn};
use serde::{Deserialize, Serialize};

use crate::error::{PreprocessError, Result};
use crate::spec::{CleanSpec, RangeAction, RangeRule};

/// What cleaning removed or changed, for the fit report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CleanReport {
    /// Rows read.
    pub rows_in: usize,
    /// Rows kept.
    pub rows_out: usize,
    /// Rows dropped because the target was missing.
    pub missing_target: usize,
    /// Rows dropped as exact duplicates of an earlier row.
    pub duplicates: usize,
    /// Rows dropped by `drop` range rules, per column.
    pub out_of_range_dropped: BTreeMap<String, usize>,
    /// Values clipped by `clip` range rules, per column.
    pub clipped: BTreeMap<String, usize>,
    /// Values made missing by `null` range rules, per column.
    pub nulled: BTreeMap<String, usize>,
    /// Columns dropped because they hold a single value (or none).
    pub constant_columns: Vec<String>,
    /// Distinct text values changed by trimming or lower-casing, per column.
    pub normalised_text: BTreeMap<String, usize>,
}

/// Trims and (optionally) lower-cases a text value, as at fit.
pub fn normalise_text(value: &str, trim: bool, lowercase: bool) -> Cow<'_, str> {
    let v = if trim { value.trim() } else { value };
    if lowercase && v.chars().any(char::is_uppercase) {
        Cow::Owned(v.to_lowercase())
    } else {
        Cow::Borrowed(v)
    }
}

/// Normalises a categorical column's dictionary in place: merges levels that become equal.
/// Returns how many distinct values changed.
pub fn normalise_column(column: &mut RawColumn, trim: bool, lowercase: bool) -> usize {
    let ColumnData::Categorical { dict, codes } = &mut column.data else {
        return 0;
    };
    if !trim && !lowercase {
        return 0;
    }
    let mut changed = 0;
    let mut new_dict: Vec<String> = Vec::with_capacity(dict.len());
    let mut index: HashMap<String, u32> = HashMap::with_capacity(dict.len());
    let mut remap: Vec<u32> = Vec::with_capacity(dict.len());
    for level in dict.iter() {
        let norm = normalise_text(level, trim, lowercase);
        if norm != level.as_str() {
            changed += 1;
        }
        let code = if let Some(&c) = index.get(norm.as_ref()) {
            c
        } else {
            let c = new_dict.len() as u32;
            index.insert(norm.clone().into_owned(), c);
            new_dict.push(norm.into_owned());
            c
        };
        remap.push(code);
    }
    if changed > 0 {
        if new_dict.len() != dict.len() {
            for c in codes.iter_mut() {
                *c = remap[*c as usize];
            }
        }
        *dict = new_dict;
    }
    changed
}

impl RangeRule {
    /// Checks the rule's bounds.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: f64| PreprocessError::Invalid {
            param: format!("clean.ranges {what} of {:?}", self.column),
            value: v.to_string(),
            expected: "a finite number".into(),
        };
        if let Some(m) = self.min
            && !m.is_finite()
        {
            return Err(bad("min", m));
        }
        if let Some(m) = self.max
            && !m.is_finite()
        {
            return Err(bad("max", m));
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max)
            && lo > hi
        {
            return Err(PreprocessError::Invalid {
                param: format!("clean.ranges of {:?}", self.column),
                value: format!("min {lo} > max {hi}"),
                expected: "min ≤ max".into(),
            });
        }
        if self.min.is_none() && self.max.is_none() {
            return Err(PreprocessError::Invalid {
                param: format!("clean.ranges of {:?}", self.column),
                value: "no bound".into(),
                expected: "a min, a max or both".into(),
            });
        }
        Ok(())
    }

    /// Whether `x` lies outside the bounds.
    pub fn outside(&self, x: f64) -> bool {
        self.min.is_some_and(|lo| x < lo) || self.max.is_some_and(|hi| x > hi)
    }

    /// The value as the rule leaves it at prediction time: clipped (for `clip` and `drop`) or
    /// missing (`None`, for `null`).
    pub fn apply(&self, x: f64) -> Option<f64> {
        if !self.outside(x) {
            return Some(x);
        }
        match self.action {
            RangeAction::Null => None,
            RangeAction::Clip | RangeAction::Drop => {
                let lo = self.min.unwrap_or(f64::NEG_INFINITY);
                let hi = self.max.unwrap_or(f64::INFINITY);
                Some(x.clamp(lo, hi))
            }
        }
    }
}

/// Applies a range rule to a numeric column at prediction time; returns the number of values
/// changed.
pub fn apply_range(column: &mut RawColumn, rule: &RangeRule) -> usize {
    let n = column.len();
    let ColumnData::Numeric(values) = &mut column.data else {
        return 0;
    };
    let mut changed = 0;
    let validity = &mut column.validity;
    for (i, x) in values.iter_mut().enumerate() {
        if validity.as_ref().is_some_and(|v| !v[i]) || !rule.outside(*x) {
            continue;
        }
        changed += 1;
        match rule.apply(*x) {
            Some(y) => *x = y,
            None => validity.get_or_insert_with(|| vec![true; n])[i] = false,
        }
    }
    changed
}

/// Cleans a training batch in place of a new one: drops rows and columns as `spec` says.
///
/// `target` names the target column (rows where it is missing are dropped). Returns the
/// cleaned batch and the report.
#[allow(clippy::too_many_lines)] // the cleaning steps, in order
pub fn clean(
    batch: RawBatch,
    target: Option<&str>,
    spec: &CleanSpec,
) -> Result<(RawBatch, CleanReport)> {
    let mut report = CleanReport {
        rows_in: batch.n_rows(),
        ..CleanReport::default()
    };
    for rule in &spec.ranges {
        rule.validate()?;
        match batch.column(&rule.column) {
            None => {
                return Err(PreprocessError::Spec {
                    origin: "clean.ranges".into(),
                    detail: format!(
                        "no column {:?} in the data\nhint: the columns are {}",
                        rule.column,
                        batch.names().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            Some(c) if !matches!(c.data, ColumnData::Numeric(_)) => {
                return Err(PreprocessError::Column {
                    column: rule.column.clone(),
                    detail: format!(
                        "a range rule needs a numeric column, but this one is {}",
                        c.data.type_name()
                    ),
                });
            }
            Some(_) => {}
        }
    }
    let mut columns = batch.into_columns();

    // Text normalisation first, so duplicates and constants are judged on normalised text.
    for col in &mut columns {
        let n = normalise_column(col, spec.trim_strings, spec.lowercase);
        if n > 0 {
            report.normalised_text.insert(col.name.clone(), n);
        }
    }

    let n_rows = columns.first().map_or(0, RawColumn::len);
    let mut keep = vec![true; n_rows];
    if let Some(t) = target
        && let Some(col) = columns.iter().find(|c| c.name == t)
    {
        for (row, k) in keep.iter_mut().enumerate() {
            if !col.is_valid(row) {
                *k = false;
                report.missing_target += 1;
            }
        }
    }
    for rule in &spec.ranges {
        let Some(col) = columns.iter_mut().find(|c| c.name == rule.column) else {
            continue;
        };
        let validity = col.validity.clone();
        let ColumnData::Numeric(values) = &mut col.data else {
            continue;
        };
        let mut nulls: Vec<usize> = Vec::new();
        for (row, x) in values.iter_mut().enumerate() {
            if !keep[row] || validity.as_ref().is_some_and(|v| !v[row]) || !rule.outside(*x) {
                continue;
            }
            match rule.action {
                RangeAction::Drop => {
                    keep[row] = false;
                    *report
                        .out_of_range_dropped
                        .entry(rule.column.clone())
                        .or_default() += 1;
                }
                RangeAction::Clip => {
                    if let Some(y) = rule.apply(*x) {
                        *x = y;
                    }
                    *report.clipped.entry(rule.column.clone()).or_default() += 1;
                }
                RangeAction::Null => {
                    nulls.push(row);
                    *report.nulled.entry(rule.column.clone()).or_default() += 1;
                }
            }
        }
        if !nulls.is_empty() {
            let v = col.validity.get_or_insert_with(|| vec![true; n_rows]);
            for row in nulls {
                v[row] = false;
            }
        }
    }
    if spec.drop_duplicates {
        report.duplicates = mark_duplicates(&columns, &mut keep);
    }

    let mut batch = RawBatch::new(columns)?;
    if keep.iter().any(|k| !k) {
        let rows: Vec<usize> = (0..n_rows).filter(|&r| keep[r]).collect();
        batch = batch.take(&rows)?;
    }

    if spec.drop_constant {
        let constant: Vec<String> = batch
            .columns()
            .iter()
            .filter(|c| Some(c.name.as_str()) != target && is_constant(c))
            .map(|c| c.name.clone())
            .collect();
        if !constant.is_empty() {
            let keep_names: Vec<&str> = batch
                .names()
                .filter(|n| !constant.iter().any(|c| c == n))
                .collect();
            batch = batch.select(&keep_names)?;
            report.constant_columns = constant;
        }
    }
    report.rows_out = batch.n_rows();
    Ok((batch, report))
}

/// Whether a column holds at most one distinct non-missing value.
pub fn is_constant(col: &RawColumn) -> bool {
    let valid = |r: usize| col.is_valid(r);
    let mut first: Option<usize> = None;
    for r in 0..col.len() {
        if !valid(r) {
            continue;
        }
        match first {
            None => first = Some(r),
            Some(f) => {
                let same = match &col.data {
                    ColumnData::Numeric(v) => v[f].to_bits() == v[r].to_bits(),
                    ColumnData::Categorical { dict, codes } => {
                        dict[codes[f] as usize] == dict[codes[r] as usize]
                    }
                    ColumnData::Boolean(v) => v[f] == v[r],
                    ColumnData::Datetime(v) => v[f] == v[r],
                };
                if !same {
                    return false;
                }
            }
        }
    }
    true
}

/// Marks rows that repeat an earlier kept row exactly; returns how many were marked.
fn mark_duplicates(columns: &[RawColumn], keep: &mut [bool]) -> usize {
    let state = std::hash::RandomState::new();
    let row_hash = |row: usize| {
        let mut h = state.build_hasher();
        for col in columns {
            hash_value(col, row, &mut h);
        }
        h.finish()
    };
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::with_capacity(keep.len());
    let mut dropped = 0;
    for row in 0..keep.len() {
        if !keep.get(row).copied().unwrap_or(false) {
            continue;
        }
        let bucket = seen.entry(row_hash(row)).or_default();
        if bucket.iter().any(|&other| rows_equal(columns, row, other)) {
            keep[row] = false;
            dropped += 1;
        } else {
            bucket.push(row);
        }
    }
    dropped
}

fn hash_value(col: &RawColumn, row: usize, h: &mut impl Hasher) {
    if !col.is_valid(row) {
        h.write_u8(0);
        return;
    }
    match &col.data {
        ColumnData::Numeric(v) => h.write_u64(canonical_bits(v[row])),
        ColumnData::Categorical { dict, codes } => h.write(dict[codes[row] as usize].as_bytes()),
        ColumnData::Boolean(v) => h.write_u8(u8::from(v[row]) + 1),
        ColumnData::Datetime(v) => h.write_i64(v[row]),
    }
    h.write_u8(0xff);
}

/// Bits of a float with `-0.0` folded onto `0.0` and every NaN onto one NaN.
fn canonical_bits(x: f64) -> u64 {
    if x == 0.0 {
        0
    } else if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}

fn rows_equal(columns: &[RawColumn], a: usize, b: usize) -> bool {
    columns
        .iter()
        .all(|col| match (col.is_valid(a), col.is_valid(b)) {
            (false, false) => true,
            (true, true) => match &col.data {
                ColumnData::Numeric(v) => canonical_bits(v[a]) == canonical_bits(v[b]),
                ColumnData::Categorical { dict, codes } => {
                    dict[codes[a] as usize] == dict[codes[b] as usize]
                }
                ColumnData::Boolean(v) => v[a] == v[b],
                ColumnData::Datetime(v) => v[a] == v[b],
            },
            _ => false,
        })
}

/// Column names matching any of `patterns` (exact names, or globs with `*` and `?`).
pub fn matching<'a>(
    names: impl IntoIterator<Item = &'a str>,
    patterns: &[String],
) -> HashSet<&'a str> {
    names
        .into_iter()
        .filter(|n| patterns.iter().any(|p| glob_match(p, n)))
        .collect()
}

/// Matches `name` against a glob with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> RawBatch {
        RawBatch::new(vec![
            RawColumn::numeric(
                "x",
                [Some(1.0), Some(1.0), Some(50.0), Some(-3.0), Some(2.0)],
            ),
            RawColumn::categorical("c", [Some(" a"), Some("a "), Some("B"), Some("b"), None]),
            RawColumn::numeric("k", [Some(7.0); 5]),
            RawColumn::categorical("y", [Some("p"), Some("p"), Some("q"), None, Some("q")]),
        ])
        .unwrap()
    }

    #[test]
    fn cleaning_reports_each_step() {
        let spec = CleanSpec {
            drop_duplicates: true,
            lowercase: true,
            ranges: vec![RangeRule {
                column: "x".into(),
                min: Some(0.0),
                max: Some(10.0),
                action: RangeAction::Drop,
            }],
            ..CleanSpec::default()
        };
        let (out, report) = clean(batch(), Some("y"), &spec).unwrap();
        assert_eq!(report.rows_in, 5);
        assert_eq!(report.missing_target, 1); // row 3
        assert_eq!(report.out_of_range_dropped["x"], 1); // row 2
        assert_eq!(report.duplicates, 1); // row 1 repeats row 0 once " a" and "a " are trimmed
        // Among the kept rows (0 and 4), `c` holds "a" and a null: constant too.
        assert_eq!(
            report.constant_columns,
            vec!["c".to_owned(), "k".to_owned()]
        );
        assert_eq!(report.normalised_text["c"], 3);
        assert_eq!(out.n_rows(), 2);
        assert_eq!(report.rows_out, 2);
        assert_eq!(out.names().collect::<Vec<_>>(), ["x", "y"]);
    }

    #[test]
    fn clip_and_null_rules() {
        let rule = RangeRule {
            column: "x".into(),
            min: None,
            max: Some(10.0),
            action: RangeAction::Clip,
        };
        assert_eq!(rule.apply(50.0), Some(10.0));
        assert_eq!(rule.apply(-50.0), Some(-50.0));
        let null = RangeRule {
            action: RangeAction::Null,
            ..rule.clone()
        };
        let spec = CleanSpec {
            ranges: vec![null],
            drop_constant: false,
            ..CleanSpec::default()
        };
        let (out, report) = clean(batch(), None, &spec).unwrap();
        assert_eq!(report.nulled["x"], 1);
        assert!(!out.column("x").unwrap().is_valid(2));
        let bad = RangeRule {
            min: Some(3.0),
            max: Some(1.0),
            ..rule
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("min 3 > max 1")
        );
    }

    #[test]
    fn rules_on_missing_or_text_columns_are_refused() {
        let spec = CleanSpec {
            ranges: vec![RangeRule {
                column: "nope".into(),
                min: Some(0.0),
                max: None,
                action: RangeAction::Clip,
            }],
            ..CleanSpec::default()
        };
        let e = clean(batch(), None, &spec).unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("x, c, k, y"), "{e}");
        let spec = CleanSpec {
            ranges: vec![RangeRule {
                column: "c".into(),
                min: Some(0.0),
                max: None,
                action: RangeAction::Clip,
            }],
            ..CleanSpec::default()
        };
        let e = clean(batch(), None, &spec).unwrap_err().to_string();
        assert!(e.contains("numeric column"), "{e}");
    }

    #[test]
    fn globs() {
        assert!(glob_match("bill_*", "bill_length_mm"));
        assert!(glob_match("*_mm", "bill_length_mm"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("island", "island"));
        assert!(!glob_match("island", "islands"));
    }
}
