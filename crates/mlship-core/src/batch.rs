//! A few rows of raw input as typed columns.
//!
//! A [`RawBatch`] is what a decoded HTTP request, a monitoring window, a permuted explanation
//! sample or a reservoir of reference rows is: named columns of `f64`, dictionary-encoded
//! strings, booleans or datetimes, each with an optional validity mask (`false` = null).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The values of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "values", rename_all = "snake_case")]
pub enum ColumnData {
    /// Real numbers. `NaN` and infinities are values here; [`crate::Schema::validate`] rejects them.
    Numeric(Vec<f64>),
    /// Strings, dictionary-encoded: row `i` holds `dict[codes[i]]`.
    Categorical {
        /// The distinct strings.
        dict: Vec<String>,
        /// One index into `dict` per row.
        codes: Vec<u32>,
    },
    /// Booleans.
    Boolean(Vec<bool>),
    /// Instants as microseconds since the Unix epoch, UTC.
    Datetime(Vec<i64>),
}

impl ColumnData {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Numeric(v) => v.len(),
            Self::Categorical { codes, .. } => codes.len(),
            Self::Boolean(v) => v.len(),
            Self::Datetime(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short name of the value type: `numeric`, `categorical`, `boolean`, `datetime`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Numeric(_) => "numeric",
            Self::Categorical { .. } => "categorical",
            Self::Boolean(_) => "boolean",
            Self::Datetime(_) => "datetime",
        }
    }

    fn take(&self, rows: &[usize]) -> Self {
        match self {
            Self::Numeric(v) => Self::Numeric(rows.iter().map(|&r| v[r]).collect()),
            Self::Categorical { dict, codes } => Self::Categorical {
                dict: dict.clone(),
                codes: rows.iter().map(|&r| codes[r]).collect(),
            },
            Self::Boolean(v) => Self::Boolean(rows.iter().map(|&r| v[r]).collect()),
            Self::Datetime(v) => Self::Datetime(rows.iter().map(|&r| v[r]).collect()),
        }
    }
}

/// One value of a raw column, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue<'a> {
    /// Missing.
    Null,
    /// A real number.
    Number(f64),
    /// A category level.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
    /// Microseconds since the Unix epoch, UTC.
    Datetime(i64),
}

impl std::fmt::Display for RawValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Number(x) => write!(f, "{x}"),
            Self::Str(s) => write!(f, "{s:?}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Datetime(us) => write!(f, "{us}µs"),
        }
    }
}

/// A named column with an optional validity mask (`false` marks a null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawColumn {
    /// The column's name.
    pub name: String,
    /// The values; the value stored in a null row is arbitrary and never read.
    pub data: ColumnData,
    /// `None` when every row is valid; otherwise one flag per row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity: Option<Vec<bool>>,
}

impl RawColumn {
    /// A column with no nulls.
    pub fn new(name: impl Into<String>, data: ColumnData) -> Self {
        Self {
            name: name.into(),
            data,
            validity: None,
        }
    }

    /// A numeric column from optional values (`None` = null).
    pub fn numeric(name: impl Into<String>, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let (data, validity): (Vec<f64>, Vec<bool>) = values
            .into_iter()
            .map(|v| (v.unwrap_or(0.0), v.is_some()))
            .unzip();
        Self::with_validity(name, ColumnData::Numeric(data), validity)
    }

    /// A categorical column from optional strings (`None` = null); the dictionary lists levels
    /// in order of first appearance.
    pub fn categorical<S: AsRef<str>>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<S>>,
    ) -> Self {
        let mut index: BTreeMap<String, u32> = BTreeMap::new();
        let mut dict = Vec::new();
        let mut codes = Vec::new();
        let mut validity = Vec::new();
        for v in values {
            if let Some(s) = v {
                {
                    let s = s.as_ref();
                    let code = if let Some(&c) = index.get(s) {
                        c
                    } else {
                        let c = dict.len() as u32;
                        dict.push(s.to_owned());
                        index.insert(s.to_owned(), c);
                        c
                    };
                    codes.push(code);
                    validity.push(true);
                }
            } else {
                codes.push(0);
                validity.push(false);
            }
        }
        if dict.is_empty() && !codes.is_empty() {
            // All null: keep the codes pointing at a real (empty) entry so every code is in range.
            dict.push(String::new());
        }
        Self::with_validity(name, ColumnData::Categorical { dict, codes }, validity)
    }

    /// A boolean column from optional values (`None` = null).
    pub fn boolean(
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<bool>>,
    ) -> Self {
        let (data, validity): (Vec<bool>, Vec<bool>) = values
            .into_iter()
            .map(|v| (v.unwrap_or(false), v.is_some()))
            .unzip();
        Self::with_validity(name, ColumnData::Boolean(data), validity)
    }

    /// A datetime column (microseconds since the epoch, UTC) from optional values.
    pub fn datetime(
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<i64>>,
    ) -> Self {
        let (data, validity): (Vec<i64>, Vec<bool>) = values
            .into_iter()
            .map(|v| (v.unwrap_or(0), v.is_some()))
            .unzip();
        Self::with_validity(name, ColumnData::Datetime(data), validity)
    }

    fn with_validity(name: impl Into<String>, data: ColumnData, validity: Vec<bool>) -> Self {
        let all_valid = validity.iter().all(|&v| v);
        Self {
            name: name.into(),
            data,
            validity: if all_valid { None } else { Some(validity) },
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether row `row` holds a value (not null). Out-of-range rows are not valid.
    pub fn is_valid(&self, row: usize) -> bool {
        row < self.len() && self.validity.as_ref().is_none_or(|v| v[row])
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        self.validity
            .as_ref()
            .map_or(0, |v| v.iter().filter(|&&b| !b).count())
    }

    /// The value at `row`; [`RawValue::Null`] for nulls and rows out of range.
    pub fn value(&self, row: usize) -> RawValue<'_> {
        if !self.is_valid(row) {
            return RawValue::Null;
        }
        match &self.data {
            ColumnData::Numeric(v) => RawValue::Number(v[row]),
            ColumnData::Categorical { dict, codes } => dict
                .get(codes[row] as usize)
                .map_or(RawValue::Null, |s| RawValue::Str(s)),
            ColumnData::Boolean(v) => RawValue::Bool(v[row]),
            ColumnData::Datetime(v) => RawValue::Datetime(v[row]),
        }
    }

    /// The rows at `rows`, in that order (rows may repeat). Every index must be in range.
    fn take(&self, rows: &[usize]) -> Self {
        Self {
            name: self.name.clone(),
            data: self.data.take(rows),
            validity: self
                .validity
                .as_ref()
                .map(|v| rows.iter().map(|&r| v[r]).collect()),
        }
    }
}

/// Rows of raw input as named, typed columns of equal length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawBatchRepr", into = "RawBatchRepr")]
pub struct RawBatch {
    columns: Vec<RawColumn>,
    n_rows: usize,
}

#[derive(Serialize, Deserialize)]
struct RawBatchRepr {
    n_rows: usize,
    columns: Vec<RawColumn>,
}

impl TryFrom<RawBatchRepr> for RawBatch {
    type Error = Error;
    fn try_from(r: RawBatchRepr) -> Result<Self> {
        let batch = Self::new(r.columns)?;
        if !batch.columns.is_empty() && batch.n_rows != r.n_rows {
            return Err(Error::invalid_data(format!(
                "raw batch declares {} rows but its columns hold {}",
                r.n_rows, batch.n_rows
            )));
        }
        Ok(Self {
            n_rows: r.n_rows,
            ..batch
        })
    }
}

impl From<RawBatch> for RawBatchRepr {
    fn from(b: RawBatch) -> Self {
        Self {
            n_rows: b.n_rows,
            columns: b.columns,
        }
    }
}

impl RawBatch {
    /// A batch from columns. Columns must have distinct names and equal lengths, validity masks
    /// must match their column's length, and dictionary codes must be in range.
    pub fn new(columns: Vec<RawColumn>) -> Result<Self> {
        let n_rows = columns.first().map_or(0, RawColumn::len);
        let mut seen = std::collections::BTreeSet::new();
        for c in &columns {
            if !seen.insert(c.name.as_str()) {
                return Err(Error::invalid_data(format!(
                    "column {:?} appears twice\nhint: column names must be unique",
                    c.name
                )));
            }
            if c.len() != n_rows {
                return Err(Error::invalid_data(format!(
                    "column {:?} has {} rows but column {:?} has {n_rows}",
                    c.name,
                    c.len(),
                    columns[0].name
                )));
            }
            if let Some(v) = &c.validity
                && v.len() != n_rows
            {
                return Err(Error::invalid_data(format!(
                    "column {:?} has {} validity flags for {n_rows} rows",
                    c.name,
                    v.len()
                )));
            }
            if let ColumnData::Categorical { dict, codes } = &c.data
                && let Some(row) = codes.iter().position(|&k| k as usize >= dict.len())
            {
                return Err(Error::invalid_data(format!(
                    "column {:?} row {row}: dictionary code {} is out of range (dictionary has {} entries)",
                    c.name,
                    codes[row],
                    dict.len()
                )));
            }
        }
        Ok(Self { columns, n_rows })
    }

    /// A batch with no columns and `n_rows` rows.
    pub fn empty(n_rows: usize) -> Self {
        Self {
            columns: Vec::new(),
            n_rows,
        }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_columns(&self) -> usize {
        self.columns.len()
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[RawColumn] {
        &self.columns
    }

    /// Consumes the batch into its columns.
    pub fn into_columns(self) -> Vec<RawColumn> {
        self.columns
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&RawColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// The rows at `rows`, in that order; an index out of range is an error naming it.
    pub fn take(&self, rows: &[usize]) -> Result<Self> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.n_rows) {
            return Err(Error::invalid_data(format!(
                "row {bad} is out of range for a batch of {} rows",
                self.n_rows
            )));
        }
        Ok(Self {
            columns: self.columns.iter().map(|c| c.take(rows)).collect(),
            n_rows: rows.len(),
        })
    }

    /// Replaces column `index` (same name and length required).
    pub fn replace_column(&mut self, index: usize, column: RawColumn) -> Result<()> {
        let Some(old) = self.columns.get(index) else {
            return Err(Error::invalid_data(format!(
                "column index {index} is out of range for a batch of {} columns",
                self.columns.len()
            )));
        };
        if old.name != column.name || column.len() != self.n_rows {
            return Err(Error::invalid_data(format!(
                "replacement for column {:?} must keep its name and {} rows",
                old.name, self.n_rows
            )));
        }
        self.columns[index] = column;
        Ok(())
    }

    /// The columns reordered to `names`; a missing name is an error, extra columns are dropped.
    pub fn select(&self, names: &[&str]) -> Result<Self> {
        let mut columns = Vec::with_capacity(names.len());
        for name in names {
            let c = self.column(name).ok_or_else(|| {
                Error::invalid_data(format!(
                    "column {name:?} is missing\nhint: the input has columns {}",
                    self.names().collect::<Vec<_>>().join(", ")
                ))
            })?;
            columns.push(c.clone());
        }
        Ok(Self {
            columns,
            n_rows: self.n_rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RawBatch {
        RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.0), None, Some(3.0)]),
            RawColumn::categorical("c", [Some("a"), Some("b"), Some("a")]),
            RawColumn::boolean("b", [Some(true), Some(false), None]),
        ])
        .unwrap()
    }

    #[test]
    fn values_and_nulls() {
        let b = sample();
        assert_eq!(b.n_rows(), 3);
        assert_eq!(b.columns()[0].value(1), RawValue::Null);
        assert_eq!(b.columns()[1].value(2), RawValue::Str("a"));
        assert_eq!(b.columns()[2].value(2), RawValue::Null);
        assert_eq!(b.columns()[0].null_count(), 1);
        assert!(b.columns()[1].validity.is_none());
        assert_eq!(b.columns()[0].value(99), RawValue::Null);
    }

    #[test]
    fn take_and_select() {
        let b = sample();
        let t = b.take(&[2, 0, 2]).unwrap();
        assert_eq!(t.n_rows(), 3);
        assert_eq!(t.columns()[0].value(0), RawValue::Number(3.0));
        assert!(b.take(&[3]).unwrap_err().to_string().contains("row 3"));
        let s = b.select(&["c", "x"]).unwrap();
        assert_eq!(s.names().collect::<Vec<_>>(), ["c", "x"]);
        let e = b.select(&["nope"]).unwrap_err().to_string();
        assert!(e.contains("\"nope\" is missing"), "{e}");
    }

    #[test]
    fn construction_errors_name_the_column() {
        let e = RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.0)]),
            RawColumn::numeric("y", [Some(1.0), Some(2.0)]),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"y\" has 2 rows"), "{e}");
        let e = RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.0)]),
            RawColumn::numeric("x", [Some(1.0)]),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("appears twice"), "{e}");
        let bad = RawColumn::new(
            "c",
            ColumnData::Categorical {
                dict: vec!["a".into()],
                codes: vec![0, 5],
            },
        );
        let e = RawBatch::new(vec![bad]).unwrap_err().to_string();
        assert!(e.contains("row 1: dictionary code 5"), "{e}");
    }

    #[test]
    fn serde_round_trip_rechecks_invariants() {
        let b = sample();
        let json = serde_json::to_string(&b).unwrap();
        let back: RawBatch = serde_json::from_str(&json).unwrap();
        assert_eq!(b, back);
        let tampered = json.replace("\"n_rows\":3", "\"n_rows\":4");
        assert!(serde_json::from_str::<RawBatch>(&tampered).is_err());
    }
}
