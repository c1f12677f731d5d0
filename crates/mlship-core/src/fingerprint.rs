//! Stable SHA-256 fingerprints of tables.
//!
//! A fingerprint identifies a table's schema and contents: the same columns (names, types) and
//! the same values in the same row order give the same fingerprint, however the rows were
//! chunked into batches and whatever dictionary a categorical column happened to use. It is
//! recorded in every model's lineage so a version can be traced to the exact data it saw.
//!
//! Encoding (version 1): each column is hashed on its own, value by value — null `00`; number
//! `01` + the IEEE-754 bits, little endian, with `-0.0` as `0.0` and every `NaN` as one
//! canonical `NaN`; string `02` + length (u64 LE) + UTF-8 bytes; boolean `03` + `00`/`01`;
//! datetime `04` + microseconds (i64 LE). The fingerprint is the SHA-256 of the tag
//! `mlship-fingerprint-v1`, the row count (u64 LE), and per column its name (length + bytes),
//! its type name (length + bytes) and its 32-byte digest.

use sha2::{Digest, Sha256};

use crate::batch::{ColumnData, RawBatch};
use crate::error::{Error, Result};

/// Computes a fingerprint over a table fed as consecutive row chunks.
#[derive(Debug, Clone)]
pub struct Fingerprinter {
    columns: Vec<(String, &'static str, Sha256)>,
    n_rows: u64,
}

impl Fingerprinter {
    /// A fingerprinter for a table whose first chunk is `first`; feed `first` itself with
    /// [`Fingerprinter::update`] too.
    pub fn for_batch(first: &RawBatch) -> Self {
        Self {
            columns: first
                .columns()
                .iter()
                .map(|c| (c.name.clone(), c.data.type_name(), Sha256::new()))
                .collect(),
            n_rows: 0,
        }
    }

    /// Adds the next chunk of rows. Its columns must have the names and types of the first.
    pub fn update(&mut self, batch: &RawBatch) -> Result<()> {
        let same_shape = batch.n_columns() == self.columns.len()
            && batch
                .columns()
                .iter()
                .zip(&self.columns)
                .all(|(c, (name, ty, _))| &c.name == name && c.data.type_name() == *ty);
        if !same_shape {
            return Err(Error::invalid_data(
                "a chunk's columns differ from the first chunk's; a fingerprint needs one schema",
            ));
        }
        for (column, (_, _, hasher)) in batch.columns().iter().zip(&mut self.columns) {
            let mut buf = Vec::with_capacity(column.len() * 9);
            for row in 0..column.len() {
                if !column.is_valid(row) {
                    buf.push(0);
                    continue;
                }
                match &column.data {
                    ColumnData::Numeric(v) => {
                        let x = v[row];
                        let x = if x.is_nan() {
                            f64::NAN
                        } else if x == 0.0 {
                            0.0
                        } else {
                            x
                        };
                        buf.push(1);
                        buf.extend_from_slice(&x.to_bits().to_le_bytes());
                    }
                    ColumnData::Categorical { dict, codes } => {
                        let s = dict[codes[row] as usize].as_bytes();
                        buf.push(2);
                        buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
                        buf.extend_from_slice(s);
                    }
                    ColumnData::Boolean(v) => buf.extend_from_slice(&[3, u8::from(v[row])]),
                    ColumnData::Datetime(v) => {
                        buf.push(4);
                        buf.extend_from_slice(&v[row].to_le_bytes());
                    }
                }
            }
            hasher.update(&buf);
        }
        self.n_rows += batch.n_rows() as u64;
        Ok(())
    }

    /// The fingerprint, as `sha256:` and 64 hex digits.
    pub fn finish(self) -> String {
        let mut h = Sha256::new();
        h.update(b"mlship-fingerprint-v1");
        h.update(self.n_rows.to_le_bytes());
        for (name, ty, column) in self.columns {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update((ty.len() as u64).to_le_bytes());
            h.update(ty.as_bytes());
            h.update(column.finalize());
        }
        format!("sha256:{}", to_hex(&h.finalize()))
    }
}

/// The fingerprint of one batch.
pub fn fingerprint(batch: &RawBatch) -> String {
    let mut f = Fingerprinter::for_batch(batch);
    // A batch always has the shape of itself.
    let _ = f.update(batch);
    f.finish()
}

/// Lower-case hexadecimal digits of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::RawColumn;
    use proptest::prelude::*;

    fn table(xs: &[Option<f64>], cs: &[Option<&str>]) -> RawBatch {
        RawBatch::new(vec![
            RawColumn::numeric("x", xs.iter().copied()),
            RawColumn::categorical("c", cs.iter().copied()),
        ])
        .unwrap()
    }

    #[test]
    fn known_value_and_sensitivity() {
        let t = table(&[Some(1.0), None], &[Some("a"), Some("b")]);
        let f = fingerprint(&t);
        assert!(f.starts_with("sha256:") && f.len() == 71);
        assert_eq!(f, fingerprint(&t.clone()));
        assert_ne!(
            f,
            fingerprint(&table(&[Some(1.0), Some(0.0)], &[Some("a"), Some("b")]))
        );
        assert_ne!(
            f,
            fingerprint(&table(&[Some(1.0), None], &[Some("b"), Some("a")]))
        );
        // -0.0 and 0.0 are the same value.
        assert_eq!(
            fingerprint(&table(&[Some(-0.0)], &[None])),
            fingerprint(&table(&[Some(0.0)], &[None]))
        );
        // Column names matter.
        let renamed = RawBatch::new(vec![RawColumn::numeric("y", [Some(1.0)])]).unwrap();
        let same = RawBatch::new(vec![RawColumn::numeric("x", [Some(1.0)])]).unwrap();
        assert_ne!(fingerprint(&renamed), fingerprint(&same));
    }

    #[test]
    fn mismatched_chunk_is_an_error() {
        let a = table(&[Some(1.0)], &[Some("a")]);
        let b = RawBatch::new(vec![RawColumn::numeric("x", [Some(1.0)])]).unwrap();
        let mut f = Fingerprinter::for_batch(&a);
        assert!(f.update(&b).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        // The fingerprint does not depend on how rows are chunked or on dictionary order.
        #[test]
        fn independent_of_chunking(values in prop::collection::vec((any::<Option<i16>>(), 0u8..4), 1..60), cut in 0usize..60) {
            let levels = ["p", "q", "r", "s"];
            let xs: Vec<Option<f64>> = values.iter().map(|(v, _)| v.map(f64::from)).collect();
            let cs: Vec<Option<&str>> = values.iter().map(|(_, c)| Some(levels[*c as usize])).collect();
            let whole = table(&xs, &cs);
            let cut = cut.min(xs.len());
            let mut f = Fingerprinter::for_batch(&whole);
            let idx: Vec<usize> = (0..xs.len()).collect();
            f.update(&whole.take(&idx[..cut]).unwrap()).unwrap();
            // A second chunk built on its own has its own dictionary order.
            let rest = table(&xs[cut..], &cs[cut..]);
            f.update(&rest).unwrap();
            prop_assert_eq!(f.finish(), fingerprint(&whole));
        }
    }
}
