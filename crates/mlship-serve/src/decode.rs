//! Request bodies into core's [`RawBatch`], guided by the model's [`Schema`].
//!
//! Every wire format (MLflow's four JSON shapes, CSV, V2 tensors in JSON or binary) ends in the
//! same column builders: a value is coerced to its column's kind (a number for a numeric column,
//! text for a categorical one, …) or rejected with an error that names the column and row.
//! Columns the schema does not know are ignored here and a column the request lacks is left
//! out, so that the predictor's schema check reports it.

use std::borrow::Cow;
use std::collections::HashMap;

use mlship_core::{ColumnData, ColumnKind, ColumnSpec, RawBatch, RawColumn, Schema};
use serde_json::{Map, Value};

use crate::error::{Result, ServeError};

/// One decoded value before it is coerced to its column's kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    /// Missing.
    Null,
    /// A real number.
    Num(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Str(Cow<'a, str>),
}

impl std::fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Num(x) => write!(f, "{x}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

fn bad(column: &str, row: usize, detail: impl std::fmt::Display) -> ServeError {
    ServeError::BadRequest(format!("column {column:?} row {row}: {detail}"))
}

/// The text of a number used as a category level: integers without a fraction.
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct Dict {
    levels: Vec<String>,
    index: HashMap<String, u32>,
    codes: Vec<u32>,
}

impl Dict {
    fn push(&mut self, s: &str) {
        let code = if let Some(&k) = self.index.get(s) {
            k
        } else {
            let k = self.levels.len() as u32;
            self.levels.push(s.to_owned());
            self.index.insert(s.to_owned(), k);
            k
        };
        self.codes.push(code);
    }

    fn push_null(&mut self) {
        if self.levels.is_empty() {
            self.levels.push(String::new());
            self.index.insert(String::new(), 0);
        }
        self.codes.push(0);
    }

    fn finish(self) -> ColumnData {
        ColumnData::Categorical {
            dict: self.levels,
            codes: self.codes,
        }
    }
}

#[derive(Debug)]
enum Values {
    Num(Vec<f64>),
    Bool(Vec<bool>),
    Cat(Dict),
    /// Datetimes as text (parsed by the predictor with the schema's format) or as integers of
    /// microseconds; the first value decides which.
    Dt {
        text: Dict,
        micros: Vec<i64>,
        as_text: Option<bool>,
    },
}

/// Builds one raw column of a schema's kind, value by value.
#[derive(Debug)]
pub(crate) struct ColumnBuilder<'s> {
    spec: &'s ColumnSpec,
    values: Values,
    validity: Vec<bool>,
}

impl<'s> ColumnBuilder<'s> {
    pub(crate) fn new(spec: &'s ColumnSpec, capacity: usize) -> Self {
        let values = match &spec.kind {
            ColumnKind::Numeric => Values::Num(Vec::with_capacity(capacity)),
            ColumnKind::Boolean => Values::Bool(Vec::with_capacity(capacity)),
            ColumnKind::Categorical { .. } => Values::Cat(Dict::default()),
            ColumnKind::Datetime { .. } => Values::Dt {
                text: Dict::default(),
                micros: Vec::new(),
                as_text: None,
            },
        };
        Self {
            spec,
            values,
            validity: Vec::with_capacity(capacity),
        }
    }

    /// Appends `cell` coerced to the column's kind; `row` names it in errors.
    #[allow(clippy::too_many_lines)] // one arm per (kind, value) pair reads best as one match
    pub(crate) fn push(&mut self, cell: &Cell<'_>, row: usize) -> Result<()> {
        let name = &self.spec.name;
        let valid = match (&mut self.values, cell) {
            (Values::Num(v), Cell::Null) => {
                v.push(0.0);
                false
            }
            (Values::Num(v), Cell::Num(x)) => {
                v.push(*x);
                !x.is_nan()
            }
            (Values::Num(v), Cell::Int(i)) => {
                v.push(*i as f64);
                true
            }
            (Values::Num(v), Cell::Str(s)) => {
                let t = s.trim();
                if t.is_empty() || t.eq_ignore_ascii_case("nan") {
                    v.push(0.0);
                    false
                } else {
                    let x = t.parse::<f64>().map_err(|_| {
                        bad(
                            name,
                            row,
                            format!("{cell} is not a number\nhint: send a number or null"),
                        )
                    })?;
                    v.push(x);
                    true
                }
            }
            (Values::Num(_), Cell::Bool(_)) => {
                return Err(bad(
                    name,
                    row,
                    format!("{cell} is not a number\nhint: send a number or null"),
                ));
            }
            (Values::Bool(v), Cell::Null) => {
                v.push(false);
                false
            }
            (Values::Bool(v), c) => {
                let b = match c {
                    Cell::Bool(b) => Some(*b),
                    Cell::Int(0) => Some(false),
                    Cell::Int(1) => Some(true),
                    Cell::Num(x) if *x == 0.0 || *x == 1.0 => Some(*x == 1.0),
                    Cell::Str(s) => parse_bool(s),
                    _ => None,
                };
                let b = b.ok_or_else(|| {
                    bad(
                        name,
                        row,
                        format!("{cell} is not a boolean\nhint: send true, false, 1 or 0"),
                    )
                })?;
                v.push(b);
                true
            }
            (Values::Cat(d), Cell::Null) => {
                d.push_null();
                false
            }
            (Values::Cat(d), c) => {
                match c {
                    Cell::Str(s) => d.push(s),
                    Cell::Int(i) => d.push(&i.to_string()),
                    Cell::Num(x) => d.push(&number_text(*x)),
                    Cell::Bool(b) => d.push(if *b { "true" } else { "false" }),
                    Cell::Null => d.push_null(),
                }
                true
            }
            (Values::Dt { text, micros, .. }, Cell::Null) => {
                text.push_null();
                micros.push(0);
                false
            }
            (
                Values::Dt {
                    text,
                    micros,
                    as_text,
                },
                c,
            ) => {
                let (is_text, us) = match c {
                    Cell::Str(s) => (true, s.as_ref()),
                    Cell::Int(i) => {
                        micros.push(*i);
                        (false, "")
                    }
                    Cell::Num(x) if x.fract() == 0.0 && x.abs() < 9e15 => {
                        micros.push(*x as i64);
                        (false, "")
                    }
                    _ => {
                        return Err(bad(
                            name,
                            row,
                            format!(
                                "{cell} is not a datetime\nhint: send text in the model's format or an integer of microseconds since 1970"
                            ),
                        ));
                    }
                };
                if is_text {
                    text.push(us);
                    micros.push(0);
                } else {
                    text.push_null();
                }
                match as_text {
                    None => *as_text = Some(is_text),
                    Some(t) if *t != is_text => {
                        return Err(bad(
                            name,
                            row,
                            "mixes text and integer datetimes\nhint: send every value of a column in one form",
                        ));
                    }
                    Some(_) => {}
                }
                true
            }
        };
        self.validity.push(valid);
        Ok(())
    }

    /// The finished column.
    pub(crate) fn finish(self) -> RawColumn {
        let data = match self.values {
            Values::Num(v) => ColumnData::Numeric(v),
            Values::Bool(v) => ColumnData::Boolean(v),
            Values::Cat(d) => d.finish(),
            Values::Dt {
                text,
                micros,
                as_text,
            } => {
                if as_text == Some(true) {
                    text.finish()
                } else {
                    ColumnData::Datetime(micros)
                }
            }
        };
        let all_valid = self.validity.iter().all(|&v| v);
        RawColumn {
            name: self.spec.name.clone(),
            data,
            validity: if all_valid { None } else { Some(self.validity) },
        }
    }
}

/// The batch of finished builders (in the order given, which callers keep as schema order).
pub(crate) fn finish(builders: Vec<ColumnBuilder<'_>>, n_rows: usize) -> Result<RawBatch> {
    if builders.is_empty() {
        return Ok(RawBatch::empty(n_rows));
    }
    RawBatch::new(builders.into_iter().map(ColumnBuilder::finish).collect())
        .map_err(|e| ServeError::BadRequest(e.to_string()))
}

/// A JSON scalar as a cell; arrays and objects are errors.
pub(crate) fn json_cell<'a>(v: &'a Value, column: &str, row: usize) -> Result<Cell<'a>> {
    Ok(match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Cell::Num(n.as_f64().unwrap_or(f64::NAN)), Cell::Int),
        Value::String(s) => Cell::Str(Cow::Borrowed(s)),
        Value::Array(_) | Value::Object(_) => {
            return Err(bad(
                column,
                row,
                "a list or object is not a single value\nhint: send one value per column per row",
            ));
        }
    })
}

fn check_rows(n: usize, max_rows: usize) -> Result<()> {
    if n > max_rows {
        Err(ServeError::TooManyRows {
            rows: n,
            limit: max_rows,
        })
    } else {
        Ok(())
    }
}

fn builders(schema: &Schema, n: usize) -> Vec<ColumnBuilder<'_>> {
    schema
        .columns
        .iter()
        .map(|c| ColumnBuilder::new(c, n))
        .collect()
}

/// Rows as objects keyed by column; a key absent from a row is null, unknown keys are ignored.
pub(crate) fn records(schema: &Schema, rows: &[Value], max_rows: usize) -> Result<RawBatch> {
    check_rows(rows.len(), max_rows)?;
    let mut bs = builders(schema, rows.len());
    for (r, row) in rows.iter().enumerate() {
        let Value::Object(obj) = row else {
            return Err(ServeError::BadRequest(format!(
                "row {r} is not an object of column values\nhint: send [{{\"column\": value, …}}, …]"
            )));
        };
        for b in &mut bs {
            let v = obj.get(&b.spec.name).unwrap_or(&Value::Null);
            let cell = json_cell(v, &b.spec.name, r)?;
            b.push(&cell, r)?;
        }
    }
    finish(bs, rows.len())
}

/// Rows as lists of values in the order of `names` (schema order when `None`). Columns the
/// schema does not know are ignored; schema columns not named are left for the schema check.
pub(crate) fn positional(
    schema: &Schema,
    names: Option<&[String]>,
    rows: &[Value],
    max_rows: usize,
) -> Result<RawBatch> {
    check_rows(rows.len(), max_rows)?;
    let owned;
    let names: &[String] = if let Some(n) = names {
        n
    } else {
        owned = schema
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        &owned
    };
    let (slots, mut bs) = slots_for(schema, names, rows.len())?;
    for (r, row) in rows.iter().enumerate() {
        let values: &[Value] = match row {
            Value::Array(a) => a,
            scalar if names.len() == 1 => std::slice::from_ref(scalar),
            _ => {
                return Err(ServeError::BadRequest(format!(
                    "row {r} is not a list of {} values\nhint: send one list per row, in the order {}",
                    names.len(),
                    names.join(", ")
                )));
            }
        };
        if values.len() != names.len() {
            return Err(ServeError::BadRequest(format!(
                "row {r} has {} values for {} columns\nhint: send one value per column, in the order {}",
                values.len(),
                names.len(),
                names.join(", ")
            )));
        }
        for (v, slot) in values.iter().zip(&slots) {
            if let Some(k) = slot {
                let b = &mut bs[*k];
                let cell = json_cell(v, &b.spec.name, r)?;
                b.push(&cell, r)?;
            }
        }
    }
    finish(bs, rows.len())
}

/// For each given name, the index of its builder (`None` for names the schema lacks), and the
/// builders of the named schema columns in schema order.
fn slots_for<'s>(
    schema: &'s Schema,
    names: &[String],
    n: usize,
) -> Result<(Vec<Option<usize>>, Vec<ColumnBuilder<'s>>)> {
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name.as_str()) {
            return Err(ServeError::BadRequest(format!(
                "column {name:?} appears twice\nhint: column names must be unique"
            )));
        }
    }
    let present: Vec<&ColumnSpec> = schema
        .columns
        .iter()
        .filter(|c| seen.contains(c.name.as_str()))
        .collect();
    let slots = names
        .iter()
        .map(|n| present.iter().position(|c| &c.name == n))
        .collect();
    let bs = present
        .into_iter()
        .map(|c| ColumnBuilder::new(c, n))
        .collect();
    Ok((slots, bs))
}

/// Columns as an object of lists (`{"a": [1, 2], "b": ["x", "y"]}`); a scalar is one row.
pub(crate) fn columnar(
    schema: &Schema,
    obj: &Map<String, Value>,
    max_rows: usize,
) -> Result<RawBatch> {
    let mut n: Option<(usize, &str)> = None;
    for (name, v) in obj {
        let len = match v {
            Value::Array(a) => a.len(),
            _ => 1,
        };
        match n {
            None => n = Some((len, name)),
            Some((m, first)) if m != len => {
                return Err(ServeError::BadRequest(format!(
                    "column {name:?} has {len} values but column {first:?} has {m}\nhint: every column needs one value per row"
                )));
            }
            Some(_) => {}
        }
    }
    let n = n.map_or(0, |(n, _)| n);
    check_rows(n, max_rows)?;
    let mut bs = Vec::new();
    for spec in &schema.columns {
        let Some(v) = obj.get(&spec.name) else {
            continue;
        };
        let mut b = ColumnBuilder::new(spec, n);
        match v {
            Value::Array(a) => {
                for (r, x) in a.iter().enumerate() {
                    let cell = json_cell(x, &spec.name, r)?;
                    b.push(&cell, r)?;
                }
            }
            scalar => {
                let cell = json_cell(scalar, &spec.name, 0)?;
                b.push(&cell, 0)?;
            }
        }
        bs.push(b);
    }
    finish(bs, n)
}

/// The deepest nesting of arrays and objects in a JSON text, counted without parsing it, so
/// that a hostile body is refused before the parser recurses into it.
pub(crate) fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses a JSON body after checking its nesting depth.
pub(crate) fn parse_json(bytes: &[u8], max_depth: usize) -> Result<Value> {
    let depth = json_depth(bytes);
    if depth > max_depth {
        return Err(ServeError::BadRequest(format!(
            "the JSON body is nested {depth} levels deep, more than the limit of {max_depth}"
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ServeError::BadRequest(format!(
            "the body is not valid JSON: {e}\nhint: check the request body"
        ))
    })
}

/// MLflow's `/invocations` JSON: one of `dataframe_split`, `dataframe_records`, `instances` or
/// `inputs` (and optionally `params`, which is ignored).
pub(crate) fn mlflow_json(schema: &Schema, body: &Value, max_rows: usize) -> Result<RawBatch> {
    const KEYS: [&str; 4] = [
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs",
    ];
    let hint = "hint: send one of {\"dataframe_split\": {\"columns\": [...], \"data\": [[...]]}}, \
                {\"dataframe_records\": [{...}]}, {\"instances\": [...]} or {\"inputs\": ...}";
    let Value::Object(obj) = body else {
        return Err(ServeError::BadRequest(format!(
            "the body is not a JSON object\n{hint}"
        )));
    };
    let given: Vec<&str> = KEYS.into_iter().filter(|k| obj.contains_key(*k)).collect();
    let unknown: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !KEYS.contains(k) && *k != "params")
        .collect();
    if given.len() != 1 || !unknown.is_empty() {
        let found: Vec<&str> = obj.keys().map(String::as_str).collect();
        return Err(ServeError::BadRequest(format!(
            "the body must have exactly one of the keys {}; found {}\n{hint}",
            KEYS.join(", "),
            if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            }
        )));
    }
    let key = given[0];
    let v = &obj[key];
    match key {
        "dataframe_split" => {
            let Value::Object(split) = v else {
                return Err(ServeError::BadRequest(format!(
                    "dataframe_split is not an object\n{hint}"
                )));
            };
            let names = match split.get("columns") {
                None | Some(Value::Null) => None,
                Some(Value::Array(cols)) => Some(
                    cols.iter()
                        .map(|c| match c {
                            Value::String(s) => Ok(s.clone()),
                            other => Err(ServeError::BadRequest(format!(
                                "dataframe_split.columns holds {other}, not a column name"
                            ))),
                        })
                        .collect::<Result<Vec<_>>>()?,
                ),
                Some(_) => {
                    return Err(ServeError::BadRequest(
                        "dataframe_split.columns is not a list of column names".into(),
                    ));
                }
            };
            let rows = match split.get("data") {
                Some(Value::Array(rows)) => rows.as_slice(),
                _ => {
                    return Err(ServeError::BadRequest(format!(
                        "dataframe_split.data is missing or not a list of rows\n{hint}"
                    )));
                }
            };
            positional(schema, names.as_deref(), rows, max_rows)
        }
        "dataframe_records" => match v {
            Value::Array(rows) => records(schema, rows, max_rows),
            _ => Err(ServeError::BadRequest(format!(
                "dataframe_records is not a list of row objects\n{hint}"
            ))),
        },
        _ => match v {
            Value::Object(cols) => columnar(schema, cols, max_rows),
            Value::Array(rows) if rows.first().is_some_and(Value::is_object) => {
                records(schema, rows, max_rows)
            }
            Value::Array(rows) => positional(schema, None, rows, max_rows),
            _ => Err(ServeError::BadRequest(format!(
                "{key} is neither a list of rows nor an object of columns\n{hint}"
            ))),
        },
    }
}

/// A CSV body with a header row. Empty unquoted fields are null.
pub(crate) fn csv(schema: &Schema, text: &str, max_rows: usize) -> Result<RawBatch> {
    let mut rows = parse_csv(text)?;
    if rows.is_empty() {
        return Err(ServeError::BadRequest(
            "the CSV body is empty\nhint: send a header row, then one line per row".into(),
        ));
    }
    let header: Vec<String> = rows
        .remove(0)
        .into_iter()
        .map(|f| f.unwrap_or_default().trim().to_owned())
        .collect();
    check_rows(rows.len(), max_rows)?;
    let (slots, mut bs) = slots_for(schema, &header, rows.len())?;
    for (r, row) in rows.iter().enumerate() {
        if row.len() != header.len() {
            return Err(ServeError::BadRequest(format!(
                "CSV line {} has {} fields for {} columns\nhint: every line needs one field per header column",
                r + 2,
                row.len(),
                header.len()
            )));
        }
        for (field, slot) in row.iter().zip(&slots) {
            if let Some(k) = slot {
                let cell = field
                    .as_deref()
                    .map_or(Cell::Null, |s| Cell::Str(Cow::Borrowed(s)));
                bs[*k].push(&cell, r)?;
            }
        }
    }
    finish(bs, rows.len())
}

/// Splits CSV text into records of fields (RFC 4180 quoting; `None` for an empty unquoted
/// field). Blank lines are skipped.
fn parse_csv(text: &str) -> Result<Vec<Vec<Option<String>>>> {
    let mut out = Vec::new();
    let mut record: Vec<Option<String>> = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut in_quotes, mut line) = (false, false, 1usize);
    let mut chars = text.chars().peekable();
    let end_field = |record: &mut Vec<Option<String>>, field: &mut String, quoted: &mut bool| {
        let f = std::mem::take(field);
        record.push(if f.is_empty() && !*quoted {
            None
        } else {
            Some(f)
        });
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                in_quotes = true;
                quoted = true;
            }
            ',' => end_field(&mut record, &mut field, &mut quoted),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                if !(record.is_empty() && field.is_empty() && !quoted) {
                    end_field(&mut record, &mut field, &mut quoted);
                    out.push(std::mem::take(&mut record));
                }
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(ServeError::BadRequest(format!(
            "the CSV body ends inside a quoted field (line {line})\nhint: close the quote"
        )));
    }
    if !(record.is_empty() && field.is_empty() && !quoted) {
        end_field(&mut record, &mut field, &mut quoted);
        out.push(record);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlship_core::batch::RawValue;
    use serde_json::json;

    pub(crate) fn schema() -> Schema {
        Schema::new(vec![
            ColumnSpec::new("x", ColumnKind::Numeric, true),
            ColumnSpec::new(
                "c",
                ColumnKind::Categorical {
                    levels: vec!["a".into(), "b".into()],
                    open: false,
                },
                false,
            ),
            ColumnSpec::new("flag", ColumnKind::Boolean, true),
        ])
    }

    #[test]
    fn the_four_mlflow_shapes_agree() {
        let s = schema();
        let bodies = [
            json!({"dataframe_split": {"columns": ["x", "c", "flag"], "data": [[1.5, "a", true], [null, "b", false]]}}),
            json!({"dataframe_split": {"index": [0, 1], "columns": ["flag", "c", "x", "extra"], "data": [[true, "a", 1.5, 9], [false, "b", null, 9]]}}),
            json!({"dataframe_records": [{"x": 1.5, "c": "a", "flag": true}, {"c": "b", "flag": false}]}),
            json!({"instances": [{"x": 1.5, "c": "a", "flag": true}, {"x": null, "c": "b", "flag": 0}]}),
            json!({"instances": [[1.5, "a", true], [null, "b", false]]}),
            json!({"inputs": {"x": [1.5, null], "c": ["a", "b"], "flag": [true, false]}}),
            json!({"inputs": [{"x": "1.5", "c": "a", "flag": "true"}, {"x": "", "c": "b", "flag": "no"}], "params": {}}),
        ];
        let first = mlflow_json(&s, &bodies[0], 10).unwrap();
        assert_eq!(first.n_rows(), 2);
        assert_eq!(first.columns()[0].value(0), RawValue::Number(1.5));
        assert_eq!(first.columns()[0].value(1), RawValue::Null);
        assert_eq!(first.columns()[1].value(1), RawValue::Str("b"));
        for body in &bodies[1..] {
            let b = mlflow_json(&s, body, 10).unwrap();
            assert_eq!(b, first, "{body}");
        }
        let text = "flag,x,c\ntrue,1.5,a\r\nfalse,,\"b\"\n";
        assert_eq!(csv(&s, text, 10).unwrap(), first);
    }

    #[test]
    fn errors_name_the_column_and_row() {
        let s = schema();
        let e = mlflow_json(
            &s,
            &json!({"dataframe_records": [{"x": 1, "c": "a"}, {"x": "abc", "c": "a"}]}),
            10,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column \"x\" row 1: \"abc\" is not a number"),
            "{e}"
        );
        let e = mlflow_json(&s, &json!({"instances": [[1, "a", "maybe"]]}), 10)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column \"flag\" row 0: \"maybe\" is not a boolean"),
            "{e}"
        );
        let e = mlflow_json(&s, &json!({"instances": [[1, "a"]]}), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 0 has 2 values for 3 columns"), "{e}");
        let e = mlflow_json(&s, &json!({"records": []}), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly one of the keys"), "{e}");
        let e = mlflow_json(&s, &json!({"instances": [[1, [2], true]]}), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("column \"c\" row 0: a list or object"), "{e}");
        let e = mlflow_json(&s, &json!({"inputs": {"x": [1, 2], "c": ["a"]}}), 10)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column \"x\" has 2 values but column \"c\" has 1"),
            "{e}"
        );
        let e = mlflow_json(
            &s,
            &json!({"instances": [[1, "a", true], [1, "a", true]]}),
            1,
        )
        .unwrap_err();
        assert!(
            matches!(e, ServeError::TooManyRows { rows: 2, limit: 1 }),
            "{e}"
        );
        let e = csv(&s, "x,c\n1,\"a", 10).unwrap_err().to_string();
        assert!(e.contains("ends inside a quoted field"), "{e}");
        let e = csv(&s, "x,c\n1,a,3\n", 10).unwrap_err().to_string();
        assert!(e.contains("CSV line 2 has 3 fields for 2 columns"), "{e}");
    }

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"{"a": [[1], "[[[["]}"#), 3);
        assert_eq!(json_depth(br#""\"[""#), 0);
        let deep = "[".repeat(1000);
        assert!(
            parse_json(deep.as_bytes(), 64)
                .unwrap_err()
                .to_string()
                .contains("1000 levels")
        );
    }

    #[test]
    fn datetimes_and_categories_take_several_forms() {
        let s = Schema::new(vec![
            ColumnSpec::new(
                "d",
                ColumnKind::Datetime {
                    format: "%Y-%m-%d".into(),
                },
                true,
            ),
            ColumnSpec::new(
                "c",
                ColumnKind::Categorical {
                    levels: vec!["1".into()],
                    open: false,
                },
                true,
            ),
        ]);
        let b = mlflow_json(
            &s,
            &json!({"instances": [["2024-01-02", 1], [null, 1.0]]}),
            10,
        )
        .unwrap();
        assert_eq!(b.columns()[0].value(0), RawValue::Str("2024-01-02"));
        assert_eq!(b.columns()[0].value(1), RawValue::Null);
        assert_eq!(b.columns()[1].value(1), RawValue::Str("1"));
        let b = mlflow_json(
            &s,
            &json!({"instances": [[1_700_000_000_000_000_i64, "1"]]}),
            10,
        )
        .unwrap();
        assert_eq!(
            b.columns()[0].value(0),
            RawValue::Datetime(1_700_000_000_000_000)
        );
        let e = mlflow_json(&s, &json!({"instances": [["2024-01-02", 1], [5, 1]]}), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1: mixes text and integer datetimes"), "{e}");
    }
}
