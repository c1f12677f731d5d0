//! A fast, std-only CSV writer for the generated datasets: header row, `,` separator, `\n`
//! line ends, floats rounded to 6 decimals, a missing value as an empty field.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Code of a missing categorical value.
pub const MISSING: u32 = u32::MAX;

/// The values of one column.
#[derive(Debug, Clone)]
pub enum Values {
    /// Floats; NaN is missing.
    Float(Vec<f64>),
    /// Integers (never missing).
    Int(Vec<i64>),
    /// Dictionary-encoded strings; [`MISSING`] is missing.
    Cat {
        /// The level strings.
        levels: Vec<String>,
        /// One level index per row.
        codes: Vec<u32>,
    },
}

impl Values {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Cat { codes, .. } => codes.len(),
        }
    }
}

/// A named column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Header name.
    pub name: String,
    /// Values.
    pub values: Values,
}

impl Column {
    /// A float column.
    pub fn float(name: impl Into<String>, values: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            values: Values::Float(values),
        }
    }

    /// An integer column.
    pub fn int(name: impl Into<String>, values: Vec<i64>) -> Self {
        Self {
            name: name.into(),
            values: Values::Int(values),
        }
    }

    /// A categorical column.
    pub fn cat(name: impl Into<String>, levels: Vec<String>, codes: Vec<u32>) -> Self {
        Self {
            name: name.into(),
            values: Values::Cat { levels, codes },
        }
    }
}

/// An in-memory table, written column by column per row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The columns, all of the same length.
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows (of the first column).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Values> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.values)
    }

    /// Writes the table as CSV; returns the number of bytes written.
    pub fn write_csv(&self, path: &Path) -> Result<u64> {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let mut w = CsvWriter::create(path, &names)?;
        for row in 0..self.rows() {
            for column in &self.columns {
                match &column.values {
                    Values::Float(v) => w.float(v[row]),
                    Values::Int(v) => w.int(v[row]),
                    Values::Cat { levels, codes } => match codes[row] {
                        MISSING => w.missing(),
                        code => w.text(&levels[code as usize]),
                    },
                }
            }
            w.end_row()?;
        }
        w.finish()
    }
}

const FLUSH_AT: usize = 1 << 20;

/// A buffered CSV file written to `NAME.tmp` and renamed into place by [`CsvWriter::finish`].
#[derive(Debug)]
pub struct CsvWriter {
    path: PathBuf,
    tmp: PathBuf,
    file: File,
    buf: Vec<u8>,
    bytes: u64,
    at_row_start: bool,
}

impl CsvWriter {
    /// Creates the file and writes the header row.
    pub fn create(path: &Path, header: &[&str]) -> Result<Self> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = Self {
            path: path.to_path_buf(),
            tmp,
            file,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            bytes: 0,
            at_row_start: true,
        };
        for name in header {
            w.text(name);
        }
        w.end_row()?;
        Ok(w)
    }

    #[inline]
    fn sep(&mut self) {
        if self.at_row_start {
            self.at_row_start = false;
        } else {
            self.buf.push(b',');
        }
    }

    /// A float rounded to 6 decimals; NaN (or infinity) is written as a missing value.
    #[inline]
    pub fn float(&mut self, v: f64) {
        self.sep();
        push_f64_6(&mut self.buf, v);
    }

    /// An integer.
    #[inline]
    pub fn int(&mut self, v: i64) {
        self.sep();
        push_i64(&mut self.buf, v);
    }

    /// A string, quoted only if it needs to be.
    #[inline]
    pub fn text(&mut self, s: &str) {
        self.sep();
        if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.buf.push(b'"');
            for b in s.bytes() {
                if b == b'"' {
                    self.buf.push(b'"');
                }
                self.buf.push(b);
            }
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(s.as_bytes());
        }
    }

    /// A missing value (empty field).
    #[inline]
    pub fn missing(&mut self) {
        self.sep();
    }

    /// Ends the row; flushes the buffer when it is large.
    #[inline]
    pub fn end_row(&mut self) -> Result<()> {
        self.buf.push(b'\n');
        self.at_row_start = true;
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file
            .write_all(&self.buf)
            .with_context(|| format!("writing {}", self.tmp.display()))?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Flushes, renames the file into place and returns its size in bytes.
    pub fn finish(mut self) -> Result<u64> {
        self.flush()?;
        drop(self.file);
        std::fs::rename(&self.tmp, &self.path).with_context(|| {
            format!("renaming {} to {}", self.tmp.display(), self.path.display())
        })?;
        Ok(self.bytes)
    }
}

/// Appends the decimal digits of `v`.
#[inline]
pub fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends `v` in decimal.
#[inline]
pub fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

/// Appends `v` rounded to 6 decimals, without trailing zeros but with at least one decimal
/// (`1.5`, `-0.000123`, `3.0`); NaN and infinities append nothing (a missing field).
#[inline]
pub fn push_f64_6(buf: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        return;
    }
    let scaled = (v * 1e6).round();
    if scaled.abs() >= 9.0e15 {
        // Beyond exact integers in f64: Rust's shortest round-trip form of the rounded value.
        buf.extend_from_slice(format!("{:?}", scaled / 1e6).as_bytes());
        return;
    }
    let negative = scaled < 0.0;
    let m = scaled.abs() as u64;
    if negative && m != 0 {
        buf.push(b'-');
    }
    push_u64(buf, m / 1_000_000);
    buf.push(b'.');
    let mut frac = m % 1_000_000;
    if frac == 0 {
        buf.push(b'0');
        return;
    }
    let mut width = 6;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width -= 1;
    }
    let mut digits = [b'0'; 6];
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    buf.extend_from_slice(&digits[..width]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut buf = Vec::new();
        push_f64_6(&mut buf, v);
        String::from_utf8(buf).expect("ascii")
    }

    #[test]
    fn floats_are_rounded_to_six_decimals() {
        assert_eq!(f(0.0), "0.0");
        assert_eq!(f(-0.0), "0.0");
        assert_eq!(f(-0.000_000_4), "0.0");
        assert_eq!(f(3.0), "3.0");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(-2.25), "-2.25");
        assert_eq!(f(0.000_123), "0.000123");
        assert_eq!(f(-0.000_001), "-0.000001");
        assert_eq!(f(12.345_678_9), "12.345679");
        assert_eq!(f(999.999_999_7), "1000.0");
        assert_eq!(f(-123_456.1), "-123456.1");
        assert_eq!(f(1e20), "1e20");
        assert_eq!(f(f64::NAN), "");
        assert_eq!(f(f64::INFINITY), "");
        // The printed text parses back to the value rounded to 6 decimals.
        for v in [0.1, 2.0 / 3.0, -7.123_456_5, 1_234.000_001] {
            let back: f64 = f(v).parse().expect("number");
            assert!((back - (v * 1e6).round() / 1e6).abs() < 1e-12, "{v}");
        }
    }

    #[test]
    fn integers() {
        let mut buf = Vec::new();
        for v in [0, 7, -7, 1_000_000, i64::MIN, i64::MAX] {
            push_i64(&mut buf, v);
            buf.push(b' ');
        }
        assert_eq!(
            String::from_utf8(buf).expect("ascii"),
            "0 7 -7 1000000 -9223372036854775808 9223372036854775807 "
        );
    }

    #[test]
    fn table_round_trip_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        let table = Table {
            columns: vec![
                Column::int("id", vec![1, 2, 3]),
                Column::float("x", vec![0.5, f64::NAN, -1.0]),
                Column::cat("s", vec!["a".into(), "b,c".into()], vec![0, MISSING, 1]),
            ],
        };
        let bytes = table.write_csv(&path).expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "id,x,s\n1,0.5,a\n2,,\n3,-1.0,\"b,c\"\n");
        assert_eq!(bytes, text.len() as u64);
        assert!(!dir.path().join("t.csv.tmp").exists());
    }
}
