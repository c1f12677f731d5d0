//! Conversion between polars frames and core's raw batches.
//!
//! Integer and float columns become numeric, strings become dictionary-encoded categoricals,
//! booleans stay booleans, and dates and datetimes become microseconds since the epoch (UTC).

use std::collections::HashMap;

use mlship_core::{ColumnData, RawBatch, RawColumn};
use polars::prelude::*;

use crate::error::{PreprocessError, Result};

fn column_error(name: &str, e: &PolarsError) -> PreprocessError {
    PreprocessError::Column {
        column: name.to_owned(),
        detail: e.to_string(),
    }
}

/// The raw kind a polars type maps to, or `None` for types mlship does not take as input.
pub(crate) fn raw_kind(dtype: &DataType) -> Option<&'static str> {
    match dtype {
        DataType::Float32 | DataType::Float64 => Some("numeric"),
        d if d.is_integer() => Some("numeric"),
        DataType::String => Some("categorical"),
        DataType::Boolean => Some("boolean"),
        DataType::Date | DataType::Datetime(_, _) => Some("datetime"),
        _ => None,
    }
}

/// Converts a frame into a raw batch, column by column.
pub fn frame_to_batch(df: &DataFrame) -> Result<RawBatch> {
    let mut columns = Vec::with_capacity(df.width());
    for column in df.columns() {
        let s = column.as_materialized_series();
        columns.push(series_to_column(s)?);
    }
    if columns.is_empty() {
        return Ok(RawBatch::empty(df.height()));
    }
    Ok(RawBatch::new(columns)?)
}

fn validity_of(nulls: usize, iter: impl Iterator<Item = bool>) -> Option<Vec<bool>> {
    if nulls == 0 {
        None
    } else {
        Some(iter.collect())
    }
}

/// The values and validity of a primitive column, copied chunk by chunk from polars' arrays;
/// null slots hold the type's default value.
fn primitive_parts<T>(ca: &ChunkedArray<T>, nulls: usize) -> (Vec<T::Native>, Option<Vec<bool>>)
where
    T: PolarsNumericType,
{
    let mut values: Vec<T::Native> = Vec::with_capacity(ca.len());
    let mut validity: Option<Vec<bool>> = (nulls > 0).then(|| Vec::with_capacity(ca.len()));
    for arr in ca.downcast_iter() {
        let start = values.len();
        values.extend_from_slice(arr.values().as_slice());
        if let Some(v) = &mut validity {
            match arr.validity() {
                Some(bits) => {
                    for (slot, valid) in values[start..].iter_mut().zip(bits.iter()) {
                        if !valid {
                            *slot = T::Native::default();
                        }
                        v.push(valid);
                    }
                }
                None => v.extend(std::iter::repeat_n(true, arr.len())),
            }
        }
    }
    (values, validity)
}

/// Converts one series into a raw column.
pub(crate) fn series_to_column(s: &Series) -> Result<RawColumn> {
    let name = s.name().to_string();
    let err = |e: PolarsError| column_error(&name, &e);
    let nulls = s.null_count();
    let column = match s.dtype() {
        DataType::String => {
            let ca = s.str().map_err(err)?;
            let mut index: HashMap<&str, u32> = HashMap::new();
            let mut dict: Vec<String> = Vec::new();
            let mut codes = Vec::with_capacity(ca.len());
            let mut validity = Vec::with_capacity(if nulls > 0 { ca.len() } else { 0 });
            for v in ca.iter() {
                let code = match v {
                    Some(v) => *index.entry(v).or_insert_with(|| {
                        dict.push(v.to_owned());
                        (dict.len() - 1) as u32
                    }),
                    None => 0,
                };
                codes.push(code);
                if nulls > 0 {
                    validity.push(v.is_some());
                }
            }
            if dict.is_empty() && !codes.is_empty() {
                dict.push(String::new());
            }
            RawColumn {
                name: name.clone(),
                data: ColumnData::Categorical { dict, codes },
                validity: (nulls > 0).then_some(validity),
            }
        }
        DataType::Boolean => {
            let ca = s.bool().map_err(err)?;
            RawColumn {
                name: name.clone(),
                data: ColumnData::Boolean(ca.iter().map(|v| v.unwrap_or(false)).collect()),
                validity: validity_of(nulls, ca.iter().map(|v| v.is_some())),
            }
        }
        DataType::Date | DataType::Datetime(_, _) => {
            let micros = s
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .and_then(|d| d.cast(&DataType::Int64))
                .map_err(err)?;
            let (values, validity) = primitive_parts(micros.i64().map_err(err)?, nulls);
            RawColumn {
                name: name.clone(),
                data: ColumnData::Datetime(values),
                validity,
            }
        }
        d if raw_kind(d) == Some("numeric") => {
            let floats = s.cast(&DataType::Float64).map_err(err)?;
            let (values, validity) = primitive_parts(floats.f64().map_err(err)?, nulls);
            RawColumn {
                name: name.clone(),
                data: ColumnData::Numeric(values),
                validity,
            }
        }
        other => {
            return Err(PreprocessError::Column {
                column: name,
                detail: format!(
                    "type {other} is not supported as model input\nhint: cast it to a number, string, boolean or date"
                ),
            });
        }
    };
    Ok(column)
}

/// Converts a raw batch into a frame.
pub fn batch_to_frame(batch: &RawBatch) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(batch.n_columns());
    for c in batch.columns() {
        let name: PlSmallStr = c.name.as_str().into();
        let valid = |i: usize| c.is_valid(i);
        let series = match &c.data {
            ColumnData::Numeric(v) => Series::new(
                name,
                v.iter()
                    .enumerate()
                    .map(|(i, x)| valid(i).then_some(*x))
                    .collect::<Vec<_>>(),
            ),
            ColumnData::Categorical { dict, codes } => Series::new(
                name,
                codes
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| valid(i).then(|| dict[k as usize].as_str()))
                    .collect::<Vec<_>>(),
            ),
            ColumnData::Boolean(v) => Series::new(
                name,
                v.iter()
                    .enumerate()
                    .map(|(i, x)| valid(i).then_some(*x))
                    .collect::<Vec<_>>(),
            ),
            ColumnData::Datetime(v) => Series::new(
                name,
                v.iter()
                    .enumerate()
                    .map(|(i, x)| valid(i).then_some(*x))
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .map_err(|e| column_error(&c.name, &e))?,
        };
        columns.push(series.into());
    }
    DataFrame::new(batch.n_rows(), columns).map_err(|e| PreprocessError::Polars {
        path: "(raw batch)".into(),
        detail: e.to_string(),
    })
}

/// A frame of the design matrix `x` with the given column names, and optionally one more column
/// (such as the encoded target) at the end.
pub fn matrix_to_frame(
    x: &ndarray::ArrayView2<'_, f64>,
    names: &[String],
    extra: Option<(&str, &[f64])>,
) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(names.len() + 1);
    for (j, name) in names.iter().enumerate() {
        let values: Vec<f64> = x.column(j).to_vec();
        columns.push(Series::new(name.as_str().into(), values).into());
    }
    if let Some((name, values)) = extra {
        columns.push(Series::new(name.into(), values.to_vec()).into());
    }
    DataFrame::new(x.nrows(), columns).map_err(|e| PreprocessError::Polars {
        path: "(transformed data)".into(),
        detail: e.to_string(),
    })
}

/// The rows of `df` at `rows`, in that order.
pub fn take_rows(df: &DataFrame, rows: &[u32]) -> Result<DataFrame> {
    let idx = IdxCa::from_vec("rows".into(), rows.to_vec());
    df.take(&idx).map_err(|e| PreprocessError::Polars {
        path: "(split)".into(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlship_core::batch::RawValue;

    #[test]
    fn round_trip_through_a_frame() {
        let batch = RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.5), None, Some(-2.0)]),
            RawColumn::categorical("c", [Some("a"), None, Some("b")]),
            RawColumn::boolean("b", [Some(true), Some(false), None]),
            RawColumn::datetime("t", [Some(86_400_000_000), None, Some(0)]),
        ])
        .unwrap();
        let df = batch_to_frame(&batch).unwrap();
        assert_eq!(df.shape(), (3, 4));
        let back = frame_to_batch(&df).unwrap();
        assert_eq!(back, batch);
    }

    #[test]
    fn integers_become_numeric() {
        let df = DataFrame::new(2, vec![Series::new("i".into(), [1i64, 2]).into()]).unwrap();
        let b = frame_to_batch(&df).unwrap();
        assert_eq!(b.columns()[0].value(1), RawValue::Number(2.0));
    }
}
