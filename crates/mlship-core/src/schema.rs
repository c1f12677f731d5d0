//! The raw input columns a model accepts, and the validation of raw batches against them.
//!
//! A [`Schema`] is a model's signature: serving and monitoring check every [`RawBatch`] with
//! [`Schema::validate`], whose report names each offending column and row.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::batch::{ColumnData, RawBatch, RawColumn};

/// The kind of values a raw column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ColumnKind {
    /// Real numbers; must be finite when present.
    Numeric,
    /// Strings from a known set of levels.
    Categorical {
        /// The levels seen when the model was fitted, sorted.
        levels: Vec<String>,
        /// Whether levels outside `levels` are accepted (the pipeline then maps them to its
        /// unknown-level policy) rather than rejected.
        #[serde(default)]
        open: bool,
    },
    /// `true` / `false`.
    Boolean,
    /// Instants; `format` is the `strftime`-style format the text form was parsed with.
    Datetime {
        /// The text format, such as `%Y-%m-%d`.
        format: String,
    },
}

impl ColumnKind {
    /// A short name: `numeric`, `categorical`, `boolean`, `datetime`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Categorical { .. } => "categorical",
            Self::Boolean => "boolean",
            Self::Datetime { .. } => "datetime",
        }
    }
}

/// One raw input column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The column's name, as in the training data.
    pub name: String,
    /// The kind of values it holds.
    pub kind: ColumnKind,
    /// Whether nulls are accepted.
    pub nullable: bool,
}

impl ColumnSpec {
    /// A column spec.
    pub fn new(name: impl Into<String>, kind: ColumnKind, nullable: bool) -> Self {
        Self {
            name: name.into(),
            kind,
            nullable,
        }
    }
}

/// The ordered raw input columns a model accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// The columns, in the order a [`RawBatch`] must present them.
    pub columns: Vec<ColumnSpec>,
}

/// At most this many issues are kept in a [`ValidationReport`]; the rest are only counted.
pub const MAX_REPORTED_ISSUES: usize = 100;

/// One way in which a batch breaks its schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum Issue {
    /// A column of the schema is absent.
    MissingColumn {
        /// The missing column.
        column: String,
    },
    /// The batch has a column the schema does not know.
    UnexpectedColumn {
        /// The extra column.
        column: String,
    },
    /// The batch's columns are not in schema order.
    ColumnOrder {
        /// The column found at `position`.
        column: String,
        /// Where it was found.
        position: usize,
        /// The column the schema expects there.
        expected: String,
    },
    /// A column holds values of the wrong type.
    WrongType {
        /// The column.
        column: String,
        /// The schema's kind.
        expected: String,
        /// The type found.
        found: String,
    },
    /// A null in a column that does not accept nulls.
    NullNotAllowed {
        /// The column.
        column: String,
        /// The row (0-based within the batch).
        row: usize,
    },
    /// `NaN` or an infinity in a numeric column.
    NonFinite {
        /// The column.
        column: String,
        /// The row.
        row: usize,
        /// The value, as text (`NaN`, `inf`, `-inf`).
        value: String,
    },
    /// A category level the model has never seen.
    UnknownLevel {
        /// The column.
        column: String,
        /// The row.
        row: usize,
        /// The level found.
        value: String,
        /// Some of the known levels, for the hint.
        known: Vec<String>,
    },
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingColumn { column } => write!(f, "column {column:?} is missing"),
            Self::UnexpectedColumn { column } => {
                write!(f, "column {column:?} is not part of the model's schema")
            }
            Self::ColumnOrder {
                column,
                position,
                expected,
            } => write!(
                f,
                "column {column:?} is at position {position} where the schema expects {expected:?}"
            ),
            Self::WrongType {
                column,
                expected,
                found,
            } => write!(
                f,
                "column {column:?} holds {found} values, expected {expected}"
            ),
            Self::NullNotAllowed { column, row } => {
                write!(f, "column {column:?} row {row}: null is not allowed")
            }
            Self::NonFinite { column, row, value } => write!(
                f,
                "column {column:?} row {row}: {value} is not a finite number"
            ),
            Self::UnknownLevel {
                column,
                row,
                value,
                known,
            } => {
                write!(
                    f,
                    "column {column:?} row {row}: unknown level {value:?} (known: {}",
                    known
                        .iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )?;
                f.write_str(")")
            }
        }
    }
}

/// Everything wrong with a batch, as found by [`Schema::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct ValidationReport {
    /// The first [`MAX_REPORTED_ISSUES`] issues, in column then row order.
    pub issues: Vec<Issue>,
    /// How many issues there were in all.
    pub total: usize,
}

impl ValidationReport {
    /// Adds `offset` to every row number: for a batch that is one slice of a larger input, so
    /// that rows are counted from the start of the input.
    pub fn offset_rows(&mut self, offset: usize) {
        for issue in &mut self.issues {
            match issue {
                Issue::NullNotAllowed { row, .. }
                | Issue::NonFinite { row, .. }
                | Issue::UnknownLevel { row, .. } => *row += offset,
                _ => {}
            }
        }
    }

    fn push(&mut self, issue: Issue) {
        if self.issues.len() < MAX_REPORTED_ISSUES {
            self.issues.push(issue);
        }
        self.total += 1;
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 10;
        write!(
            f,
            "input does not match the model's schema ({} problem{})",
            self.total,
            if self.total == 1 { "" } else { "s" }
        )?;
        for issue in self.issues.iter().take(SHOWN) {
            write!(f, "\n  - {issue}")?;
        }
        if self.total > SHOWN {
            write!(f, "\n  … and {} more", self.total - SHOWN)?;
        }
        Ok(())
    }
}

impl Schema {
    /// A schema from column specs.
    pub fn new(columns: Vec<ColumnSpec>) -> Self {
        Self { columns }
    }

    /// The column called `name`, with its position.
    pub fn column(&self, name: &str) -> Option<(usize, &ColumnSpec)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// Checks that `batch` presents exactly this schema's columns, in order, with values of the
    /// right types: no nulls where they are not allowed, finite numbers, known category levels
    /// (unless the column is open). Total: any batch gives `Ok` or a report, never a panic.
    pub fn validate(&self, batch: &RawBatch) -> Result<(), ValidationReport> {
        let mut report = ValidationReport {
            issues: Vec::new(),
            total: 0,
        };
        for spec in &self.columns {
            if batch.column(&spec.name).is_none() {
                report.push(Issue::MissingColumn {
                    column: spec.name.clone(),
                });
            }
        }
        for (position, column) in batch.columns().iter().enumerate() {
            let Some((expected_position, spec)) = self.column(&column.name) else {
                report.push(Issue::UnexpectedColumn {
                    column: column.name.clone(),
                });
                continue;
            };
            if expected_position != position {
                report.push(Issue::ColumnOrder {
                    column: column.name.clone(),
                    position,
                    expected: self
                        .columns
                        .get(position)
                        .map_or_else(|| "(nothing)".to_owned(), |c| c.name.clone()),
                });
            }
            validate_column(spec, column, &mut report);
        }
        if report.total == 0 {
            Ok(())
        } else {
            Err(report)
        }
    }

    /// Reorders `batch`'s columns into schema order (extra columns are kept at the end so that
    /// [`Schema::validate`] still reports them). Missing columns are left for validation to report.
    pub fn arrange(&self, batch: RawBatch) -> RawBatch {
        let mut rest: Vec<Option<RawColumn>> = batch.into_columns().into_iter().map(Some).collect();
        let mut ordered = Vec::with_capacity(rest.len());
        for spec in &self.columns {
            if let Some(slot) = rest
                .iter_mut()
                .find(|c| c.as_ref().is_some_and(|c| c.name == spec.name))
                && let Some(c) = slot.take()
            {
                ordered.push(c);
            }
        }
        ordered.extend(rest.into_iter().flatten());
        let n_rows = ordered.first().map_or(0, RawColumn::len);
        // Reordering columns of a valid batch keeps it valid.
        RawBatch::new(ordered).unwrap_or_else(|_| RawBatch::empty(n_rows))
    }
}

fn validate_column(spec: &ColumnSpec, column: &RawColumn, report: &mut ValidationReport) {
    let name = &spec.name;
    let type_ok = matches!(
        (&spec.kind, &column.data),
        (ColumnKind::Numeric, ColumnData::Numeric(_))
            | (
                ColumnKind::Categorical { .. },
                ColumnData::Categorical { .. }
            )
            | (ColumnKind::Boolean, ColumnData::Boolean(_))
            | (ColumnKind::Datetime { .. }, ColumnData::Datetime(_))
    );
    if !type_ok {
        report.push(Issue::WrongType {
            column: name.clone(),
            expected: spec.kind.name().to_owned(),
            found: column.data.type_name().to_owned(),
        });
        return;
    }
    if !spec.nullable
        && let Some(validity) = &column.validity
    {
        for (row, _) in validity.iter().enumerate().filter(|(_, v)| !**v) {
            report.push(Issue::NullNotAllowed {
                column: name.clone(),
                row,
            });
        }
    }
    match (&spec.kind, &column.data) {
        (ColumnKind::Numeric, ColumnData::Numeric(values)) => {
            for (row, &x) in values.iter().enumerate() {
                if !x.is_finite() && column.is_valid(row) {
                    report.push(Issue::NonFinite {
                        column: name.clone(),
                        row,
                        value: format!("{x}"),
                    });
                }
            }
        }
        (
            ColumnKind::Categorical {
                levels,
                open: false,
            },
            ColumnData::Categorical { dict, codes },
        ) => {
            // Check each dictionary entry once, then report the rows that use unknown ones.
            let unknown: Vec<bool> = dict.iter().map(|s| !levels.contains(s)).collect();
            if unknown.iter().any(|&u| u) {
                for (row, &code) in codes.iter().enumerate() {
                    if unknown.get(code as usize).copied().unwrap_or(false) && column.is_valid(row)
                    {
                        report.push(Issue::UnknownLevel {
                            column: name.clone(),
                            row,
                            value: dict[code as usize].clone(),
                            known: levels.iter().take(8).cloned().collect(),
                        });
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn schema() -> Schema {
        Schema::new(vec![
            ColumnSpec::new("x", ColumnKind::Numeric, true),
            ColumnSpec::new(
                "island",
                ColumnKind::Categorical {
                    levels: vec!["Biscoe".into(), "Dream".into()],
                    open: false,
                },
                false,
            ),
        ])
    }

    #[test]
    fn valid_batch_passes() {
        let b = RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.0), None]),
            RawColumn::categorical("island", [Some("Dream"), Some("Biscoe")]),
        ])
        .unwrap();
        assert!(schema().validate(&b).is_ok());
    }

    #[test]
    fn report_names_column_and_row() {
        let b = RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.0), Some(f64::INFINITY)]),
            RawColumn::categorical("island", [Some("Mars"), None]),
        ])
        .unwrap();
        let r = schema().validate(&b).unwrap_err();
        let text = r.to_string();
        assert_eq!(r.total, 3, "{text}");
        assert!(
            text.contains("column \"x\" row 1: inf is not a finite number"),
            "{text}"
        );
        assert!(
            text.contains("column \"island\" row 0: unknown level \"Mars\""),
            "{text}"
        );
        assert!(
            text.contains("column \"island\" row 1: null is not allowed"),
            "{text}"
        );
        let shifted = crate::Error::from(r).offset_rows(1000).to_string();
        assert!(shifted.contains("column \"x\" row 1001:"), "{shifted}");
        assert!(shifted.contains("column \"island\" row 1000:"), "{shifted}");
    }

    #[test]
    fn missing_extra_reordered_and_mistyped_columns() {
        let b = RawBatch::new(vec![
            RawColumn::categorical("island", [Some("Dream")]),
            RawColumn::categorical("x", [Some("1.0")]),
            RawColumn::numeric("extra", [Some(1.0)]),
        ])
        .unwrap();
        let r = schema().validate(&b).unwrap_err();
        let text = r.to_string();
        assert!(
            text.contains("column \"x\" holds categorical values, expected numeric"),
            "{text}"
        );
        assert!(
            text.contains("\"extra\" is not part of the model's schema"),
            "{text}"
        );
        assert!(
            text.contains("position 0 where the schema expects \"x\""),
            "{text}"
        );
        let arranged = schema().arrange(b);
        assert_eq!(
            arranged.names().collect::<Vec<_>>(),
            ["x", "island", "extra"]
        );
        let missing = RawBatch::new(vec![RawColumn::numeric("x", [Some(1.0)])]).unwrap();
        let text = schema().validate(&missing).unwrap_err().to_string();
        assert!(text.contains("column \"island\" is missing"), "{text}");
    }

    #[test]
    fn open_categorical_accepts_unknown_levels() {
        let mut s = schema();
        s.columns[1].kind = ColumnKind::Categorical {
            levels: vec!["Biscoe".into()],
            open: true,
        };
        let b = RawBatch::new(vec![
            RawColumn::numeric("x", [Some(1.0)]),
            RawColumn::categorical("island", [Some("Torgersen")]),
        ])
        .unwrap();
        assert!(s.validate(&b).is_ok());
    }

    #[test]
    fn report_is_bounded() {
        let n = 1000;
        let b = RawBatch::new(vec![
            RawColumn::numeric("x", (0..n).map(|_| Some(f64::NAN))),
            RawColumn::categorical("island", (0..n).map(|_| Some("Dream"))),
        ])
        .unwrap();
        let r = schema().validate(&b).unwrap_err();
        assert_eq!(r.total, n);
        assert_eq!(r.issues.len(), MAX_REPORTED_ISSUES);
        assert!(r.to_string().contains("… and 990 more"));
    }

    fn arb_column() -> impl Strategy<Value = RawColumn> {
        let name = prop::sample::select(vec!["x", "island", "y", "b"]);
        let len = 0usize..6;
        (name, len, 0u8..4, any::<u64>()).prop_map(|(name, len, kind, seed)| {
            let mut r = crate::rng::Rng::new(seed);
            match kind {
                0 => RawColumn::numeric(
                    name,
                    (0..len).map(|_| match r.below(4) {
                        0 => None,
                        1 => Some(f64::NAN),
                        _ => Some(r.normal()),
                    }),
                ),
                1 => RawColumn::categorical(
                    name,
                    (0..len).map(|_| match r.below(4) {
                        0 => None,
                        1 => Some("Mars"),
                        _ => Some("Dream"),
                    }),
                ),
                2 => RawColumn::boolean(name, (0..len).map(|_| Some(r.below(2) == 0))),
                _ => RawColumn::datetime(name, (0..len).map(|i| Some(i as i64))),
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        // Validation is total: any batch gives Ok or a report whose total counts every issue.
        #[test]
        fn validation_is_total(cols in prop::collection::vec(arb_column(), 0..4)) {
            if let Ok(batch) = RawBatch::new(cols) {
                match schema().validate(&batch) {
                    Ok(()) => {}
                    Err(r) => {
                        prop_assert!(r.total >= r.issues.len());
                        prop_assert!(!r.to_string().is_empty());
                    }
                }
            }
        }
    }
}
