//! The reference profile: what the training data looked like, carried inside every bundle.
//!
//! A [`ReferenceProfile`] holds one [`ColumnSketch`] per raw column and a seeded reservoir
//! sample of at most [`MAX_RESERVOIR_ROWS`] raw rows. Preprocessing builds it whenever a pipeline
//! is fitted; monitoring compares live windows against it; explanations draw background rows
//! from the reservoir. Building is streaming: feed row chunks in order with
//! [`ReferenceProfile::update`]; the result does not depend on how the rows were chunked.

use serde::{Deserialize, Serialize};

use crate::batch::{ColumnData, RawBatch, RawColumn, RawValue};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::sketch::{ColumnSketch, SketchKind};

/// The most rows a reservoir holds.
pub const MAX_RESERVOIR_ROWS: usize = 10_000;

/// A column's sketch, keyed by the column's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// The raw column's name.
    pub name: String,
    /// Its sketch.
    pub sketch: ColumnSketch,
}

/// Sketches of every raw column plus a uniform sample of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    /// Rows seen.
    pub n_rows: u64,
    /// One sketch per raw column, in input order.
    pub columns: Vec<ColumnProfile>,
    /// A uniform random sample of at most `capacity` rows, in the order they were seen.
    pub reservoir: RawBatch,
    /// The reservoir's capacity.
    pub capacity: usize,
    /// The seed of the reservoir's sampling.
    pub seed: u64,
}

/// The sketch kind for a raw column's values.
pub fn sketch_kind(data: &ColumnData) -> SketchKind {
    match data {
        ColumnData::Numeric(_) | ColumnData::Datetime(_) => SketchKind::Numeric,
        ColumnData::Categorical { .. } => SketchKind::Categorical,
        ColumnData::Boolean(_) => SketchKind::Boolean,
    }
}

/// Adds a raw column's values to `sketch` (datetimes as microseconds).
pub fn sketch_column(sketch: &mut ColumnSketch, column: &RawColumn) -> Result<()> {
    let valid = column.validity.as_deref();
    let r = match &column.data {
        ColumnData::Numeric(v) => sketch.update_f64(v, valid),
        ColumnData::Datetime(v) => {
            let as_f64: Vec<f64> = v.iter().map(|&x| x as f64).collect();
            sketch.update_f64(&as_f64, valid)
        }
        ColumnData::Categorical { dict, codes } => sketch.update_dict(dict, codes, valid),
        ColumnData::Boolean(v) => sketch.update_bool(v, valid),
    };
    r.map_err(|e| Error::invalid_data(format!("column {:?}: {e}", column.name)))
}

/// A new sketch of a column's values.
pub fn sketch_of(column: &RawColumn) -> Result<ColumnSketch> {
    let mut s = ColumnSketch::new(sketch_kind(&column.data));
    sketch_column(&mut s, column)?;
    Ok(s)
}

/// A reservoir row under construction: owned values.
#[derive(Debug, Clone)]
enum Owned {
    Null,
    Number(f64),
    Str(String),
    Bool(bool),
    Datetime(i64),
}

/// Streams row chunks into a [`ReferenceProfile`].
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    columns: Vec<ColumnProfile>,
    kinds: Vec<&'static str>,
    rows: Vec<Vec<Owned>>,
    capacity: usize,
    seed: u64,
    rng: Rng,
    seen: u64,
}

impl ProfileBuilder {
    /// A builder whose reservoir keeps at most `capacity` (≤ [`MAX_RESERVOIR_ROWS`]) rows,
    /// sampled with `seed`, for tables shaped like `first` (which must also be fed).
    pub fn new(first: &RawBatch, capacity: usize, seed: u64) -> Self {
        Self {
            columns: first
                .columns()
                .iter()
                .map(|c| ColumnProfile {
                    name: c.name.clone(),
                    sketch: ColumnSketch::new(sketch_kind(&c.data)),
                })
                .collect(),
            kinds: first.columns().iter().map(|c| c.data.type_name()).collect(),
            rows: Vec::new(),
            capacity: capacity.min(MAX_RESERVOIR_ROWS),
            seed,
            rng: Rng::new(seed),
            seen: 0,
        }
    }

    /// Adds the next chunk of rows (same column names and types as the first).
    pub fn update(&mut self, batch: &RawBatch) -> Result<()> {
        let same = batch.n_columns() == self.columns.len()
            && batch
                .columns()
                .iter()
                .zip(self.columns.iter().zip(&self.kinds))
                .all(|(c, (p, k))| c.name == p.name && c.data.type_name() == *k);
        if !same {
            return Err(Error::invalid_data(
                "a chunk's columns differ from the first chunk's; a profile needs one schema",
            ));
        }
        for (column, profile) in batch.columns().iter().zip(&mut self.columns) {
            sketch_column(&mut profile.sketch, column)?;
        }
        // Algorithm R, one decision per row in order: the sample does not depend on chunking.
        for row in 0..batch.n_rows() {
            self.seen += 1;
            if self.rows.len() < self.capacity {
                self.rows.push(owned_row(batch, row));
            } else if self.capacity > 0 {
                let j = self.rng.below(self.seen) as usize;
                if j < self.capacity {
                    self.rows[j] = owned_row(batch, row);
                }
            }
        }
        Ok(())
    }

    /// The profile.
    pub fn finish(self) -> Result<ReferenceProfile> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for (c, p) in self.columns.iter().enumerate() {
            let name = p.name.clone();
            let values = self.rows.iter().map(|r| &r[c]);
            let column = match self.kinds[c] {
                "numeric" => RawColumn::numeric(
                    name,
                    values.map(|v| match v {
                        Owned::Number(x) => Some(*x),
                        _ => None,
                    }),
                ),
                "categorical" => RawColumn::categorical(
                    name,
                    values.map(|v| match v {
                        Owned::Str(s) => Some(s.as_str()),
                        _ => None,
                    }),
                ),
                "boolean" => RawColumn::boolean(
                    name,
                    values.map(|v| match v {
                        Owned::Bool(b) => Some(*b),
                        _ => None,
                    }),
                ),
                _ => RawColumn::datetime(
                    name,
                    values.map(|v| match v {
                        Owned::Datetime(t) => Some(*t),
                        _ => None,
                    }),
                ),
            };
            columns.push(column);
        }
        let reservoir = if columns.is_empty() {
            RawBatch::empty(self.rows.len())
        } else {
            RawBatch::new(columns)?
        };
        Ok(ReferenceProfile {
            n_rows: self.seen,
            columns: self.columns,
            reservoir,
            capacity: self.capacity,
            seed: self.seed,
        })
    }
}

fn owned_row(batch: &RawBatch, row: usize) -> Vec<Owned> {
    batch
        .columns()
        .iter()
        .map(|c| match c.value(row) {
            RawValue::Null => Owned::Null,
            RawValue::Number(x) => Owned::Number(x),
            RawValue::Str(s) => Owned::Str(s.to_owned()),
            RawValue::Bool(b) => Owned::Bool(b),
            RawValue::Datetime(t) => Owned::Datetime(t),
        })
        .collect()
}

impl ReferenceProfile {
    /// The profile of one batch, with a reservoir of at most [`MAX_RESERVOIR_ROWS`] rows.
    pub fn of(batch: &RawBatch, seed: u64) -> Result<Self> {
        let mut b = ProfileBuilder::new(batch, MAX_RESERVOIR_ROWS, seed);
        b.update(batch)?;
        b.finish()
    }

    /// The sketch of the column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnSketch> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.sketch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(n: usize, offset: usize) -> RawBatch {
        RawBatch::new(vec![
            RawColumn::numeric(
                "x",
                (0..n).map(|i| (!(i + offset).is_multiple_of(7)).then_some((i + offset) as f64)),
            ),
            RawColumn::categorical("c", (0..n).map(|i| Some(["a", "b", "c"][(i + offset) % 3]))),
            RawColumn::boolean("b", (0..n).map(|i| Some((i + offset).is_multiple_of(2)))),
        ])
        .unwrap()
    }

    #[test]
    fn small_tables_are_kept_whole() {
        let t = table(50, 0);
        let p = ReferenceProfile::of(&t, 1).unwrap();
        assert_eq!(p.n_rows, 50);
        assert_eq!(p.reservoir, t);
        let x = p.column("x").unwrap().summary();
        assert_eq!(x.count, 50);
        assert_eq!(x.missing, 8);
    }

    #[test]
    fn reservoir_is_bounded_uniform_and_seeded() {
        let t = table(30_000, 0);
        let p = ReferenceProfile::of(&t, 7).unwrap();
        assert_eq!(p.reservoir.n_rows(), MAX_RESERVOIR_ROWS);
        assert_eq!(p, ReferenceProfile::of(&t, 7).unwrap());
        assert_ne!(p.reservoir, ReferenceProfile::of(&t, 8).unwrap().reservoir);
        // Uniform: about a third of the sample comes from each third of the table.
        let ColumnData::Numeric(xs) = &p.reservoir.columns()[0].data else {
            panic!("numeric column expected")
        };
        let first_third = xs.iter().filter(|&&x| x > 0.0 && x < 10_000.0).count();
        assert!((2_800..3_900).contains(&first_third), "{first_third}");
    }

    #[test]
    fn a_chunk_with_other_columns_is_refused() {
        let t = table(5, 0);
        let mut b = ProfileBuilder::new(&t, 10, 0);
        let other = RawBatch::new(vec![RawColumn::numeric("x", [Some(1.0)])]).unwrap();
        assert!(b.update(&other).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        // Chunking changes neither the sketches nor the sample.
        #[test]
        fn independent_of_chunking(n in 1usize..400, cut in 0usize..400, cap in 1usize..50) {
            let cut = cut.min(n);
            let whole = table(n, 0);
            let mut a = ProfileBuilder::new(&whole, cap, 3);
            a.update(&whole).unwrap();
            let mut b = ProfileBuilder::new(&whole, cap, 3);
            b.update(&table(cut, 0)).unwrap();
            b.update(&table(n - cut, cut)).unwrap();
            let (a, b) = (a.finish().unwrap(), b.finish().unwrap());
            prop_assert_eq!(a.reservoir, b.reservoir);
            prop_assert_eq!(a.n_rows, b.n_rows);
            for (x, y) in a.columns.iter().zip(&b.columns) {
                prop_assert_eq!(x.sketch.summary().count, y.sketch.summary().count);
                prop_assert_eq!(x.sketch.quantile(0.5), y.sketch.quantile(0.5));
                prop_assert_eq!(x.sketch.top_k(3), y.sketch.top_k(3));
            }
        }
    }
}
