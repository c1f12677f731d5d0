//! Helpers on raw batches: stacking, gathering rows per column, constant columns, and reading
//! the explained outputs from a predictor's answer.

use std::collections::BTreeMap;

use mlship_core::batch::RawValue;
use mlship_core::traits::Predictions;
use mlship_core::{ColumnData, RawBatch, RawColumn, Task};
use ndarray::Array2;

use crate::error::{ExplainError, Result};

/// Rows of `column` at `rows`, in that order (indices must be in range).
pub fn take_column(column: &RawColumn, rows: &[usize]) -> RawColumn {
    let data = match &column.data {
        ColumnData::Numeric(v) => ColumnData::Numeric(rows.iter().map(|&r| v[r]).collect()),
        ColumnData::Categorical { dict, codes } => ColumnData::Categorical {
            dict: dict.clone(),
            codes: rows.iter().map(|&r| codes[r]).collect(),
        },
        ColumnData::Boolean(v) => ColumnData::Boolean(rows.iter().map(|&r| v[r]).collect()),
        ColumnData::Datetime(v) => ColumnData::Datetime(rows.iter().map(|&r| v[r]).collect()),
    };
    let validity = column
        .validity
        .as_ref()
        .map(|v| rows.iter().map(|&r| v[r]).collect::<Vec<bool>>())
        .filter(|v| v.iter().any(|&ok| !ok));
    RawColumn {
        name: column.name.clone(),
        data,
        validity,
    }
}

/// A batch whose column `j` holds rows `rows(j)` of `batch`'s column `j`.
pub fn gather(batch: &RawBatch, rows: impl Fn(usize) -> Vec<usize>) -> Result<RawBatch> {
    let columns = batch
        .columns()
        .iter()
        .enumerate()
        .map(|(j, c)| take_column(c, &rows(j)))
        .collect();
    Ok(RawBatch::new(columns)?)
}

/// `a`'s rows followed by `b`'s, with `b`'s columns matched to `a`'s by name; categorical
/// dictionaries are merged.
pub fn stack(a: &RawBatch, b: &RawBatch) -> Result<RawBatch> {
    let mut columns = Vec::with_capacity(a.n_columns());
    for ca in a.columns() {
        let cb = b
            .column(&ca.name)
            .ok_or_else(|| ExplainError::UnknownColumn {
                column: ca.name.clone(),
                available: b.names().collect::<Vec<_>>().join(", "),
            })?;
        let data = match (&ca.data, &cb.data) {
            (ColumnData::Numeric(x), ColumnData::Numeric(y)) => {
                ColumnData::Numeric(x.iter().chain(y).copied().collect())
            }
            (ColumnData::Boolean(x), ColumnData::Boolean(y)) => {
                ColumnData::Boolean(x.iter().chain(y).copied().collect())
            }
            (ColumnData::Datetime(x), ColumnData::Datetime(y)) => {
                ColumnData::Datetime(x.iter().chain(y).copied().collect())
            }
            (
                ColumnData::Categorical {
                    dict: da,
                    codes: xa,
                },
                ColumnData::Categorical {
                    dict: db,
                    codes: xb,
                },
            ) => {
                let mut dict = da.clone();
                let mut index: BTreeMap<&str, u32> = da
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.as_str(), i as u32))
                    .collect();
                let mut remap = Vec::with_capacity(db.len());
                for s in db {
                    let code = *index.entry(s.as_str()).or_insert_with(|| {
                        dict.push(s.clone());
                        (dict.len() - 1) as u32
                    });
                    remap.push(code);
                }
                let codes = xa
                    .iter()
                    .copied()
                    .chain(
                        xb.iter()
                            .map(|&c| remap.get(c as usize).copied().unwrap_or(0)),
                    )
                    .collect();
                ColumnData::Categorical { dict, codes }
            }
            (x, y) => {
                return Err(ExplainError::Data(format!(
                    "column {:?} is {} in one batch and {} in the other\nhint: explain rows and background must share the model's schema",
                    ca.name,
                    x.type_name(),
                    y.type_name()
                )));
            }
        };
        let validity = if ca.validity.is_none() && cb.validity.is_none() {
            None
        } else {
            Some(
                (0..ca.len())
                    .map(|r| ca.is_valid(r))
                    .chain((0..cb.len()).map(|r| cb.is_valid(r)))
                    .collect(),
            )
        };
        columns.push(RawColumn {
            name: ca.name.clone(),
            data,
            validity,
        });
    }
    Ok(RawBatch::new(columns)?)
}

/// A column of `n` copies of `value`, typed like `like`.
pub fn constant_column(like: &RawColumn, value: RawValue<'_>, n: usize) -> Result<RawColumn> {
    let name = like.name.clone();
    let column = match (value, &like.data) {
        (RawValue::Null, _) => {
            let mut c = take_column(like, &vec![0; n.min(like.len())]);
            if c.len() != n {
                return Err(ExplainError::Data(format!(
                    "column {name:?} is empty: cannot build a missing value from it"
                )));
            }
            c.validity = Some(vec![false; n]);
            c
        }
        (RawValue::Number(x), ColumnData::Numeric(_)) => {
            RawColumn::new(name, ColumnData::Numeric(vec![x; n]))
        }
        (RawValue::Str(s), ColumnData::Categorical { .. }) => RawColumn::new(
            name,
            ColumnData::Categorical {
                dict: vec![s.to_owned()],
                codes: vec![0; n],
            },
        ),
        (RawValue::Bool(b), ColumnData::Boolean(_)) => {
            RawColumn::new(name, ColumnData::Boolean(vec![b; n]))
        }
        (RawValue::Datetime(t), ColumnData::Datetime(_)) => {
            RawColumn::new(name, ColumnData::Datetime(vec![t; n]))
        }
        (v, d) => {
            return Err(ExplainError::Data(format!(
                "value {v} does not fit column {name:?} of type {}",
                d.type_name()
            )));
        }
    };
    Ok(column)
}

/// The index of column `name` in `batch`, or an error listing the columns.
pub fn column_index(batch: &RawBatch, name: &str) -> Result<usize> {
    batch
        .names()
        .position(|n| n == name)
        .ok_or_else(|| ExplainError::UnknownColumn {
            column: name.to_owned(),
            available: batch.names().collect::<Vec<_>>().join(", "),
        })
}

/// The names of the outputs explained for `task`: `value` for regression, the class labels
/// (probabilities) for classification.
pub fn output_names(task: &Task) -> Vec<String> {
    if task.is_classification() {
        task.classes().to_vec()
    } else {
        vec!["value".to_owned()]
    }
}

/// The explained outputs of `pred`, rows × outputs: the value for regression, the class
/// probabilities for classification.
pub fn outputs(task: &Task, pred: &Predictions) -> Result<Array2<f64>> {
    let n = pred.values.len();
    if task.is_classification() {
        let p = pred
            .probabilities
            .as_ref()
            .ok_or_else(|| ExplainError::NoProbabilities {
                metric: "explanations of class probabilities".into(),
            })?;
        if p.nrows() != n || p.ncols() != task.n_classes() {
            return Err(ExplainError::shape(
                "probability columns",
                task.n_classes(),
                p.ncols(),
            ));
        }
        Ok(p.clone())
    } else {
        Ok(Array2::from_shape_vec((n, 1), pred.values.clone())
            .map_err(|e| ExplainError::Data(e.to_string()))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_merges_dictionaries_and_validity() {
        let a = RawBatch::new(vec![
            RawColumn::categorical("c", [Some("x"), Some("y")]),
            RawColumn::numeric("n", [Some(1.0), Some(2.0)]),
        ])
        .unwrap();
        let b = RawBatch::new(vec![
            RawColumn::numeric("n", [None, Some(4.0)]),
            RawColumn::categorical("c", [Some("z"), Some("x")]),
        ])
        .unwrap();
        let s = stack(&a, &b).unwrap();
        assert_eq!(s.n_rows(), 4);
        let c = s.column("c").unwrap();
        let got: Vec<String> = (0..4).map(|r| c.value(r).to_string()).collect();
        assert_eq!(got, ["\"x\"", "\"y\"", "\"z\"", "\"x\""]);
        let n = s.column("n").unwrap();
        assert_eq!(n.value(2), RawValue::Null);
        assert_eq!(n.value(3), RawValue::Number(4.0));
        let g = gather(&s, |j| if j == 0 { vec![3, 0] } else { vec![2, 1] }).unwrap();
        assert_eq!(g.column("c").unwrap().value(0), RawValue::Str("x"));
        assert_eq!(g.column("n").unwrap().value(0), RawValue::Null);
        let bad = RawBatch::new(vec![RawColumn::numeric("c", [Some(1.0)])]).unwrap();
        let e = stack(&a, &bad).unwrap_err().to_string();
        assert!(
            e.contains("column \"c\" is categorical in one batch and numeric"),
            "{e}"
        );
        let bad = RawBatch::new(vec![RawColumn::categorical("c", [Some("x")])]).unwrap();
        let e = stack(&a, &bad).unwrap_err().to_string();
        assert!(e.contains("unknown column \"n\""), "{e}");
    }
}
