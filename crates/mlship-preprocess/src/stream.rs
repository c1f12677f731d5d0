//! Tables read and written in slices of rows, so that a file larger than memory can be
//! transformed and scored with bounded memory.
//!
//! [`read_table_chunks`] yields a CSV or Parquet file as frames of at most `rows_per_chunk`
//! rows. A CSV file is cut at record boundaries (quote-aware: a quoted field may span lines);
//! the first slice's column types hold for the rest, widened from integer to float when a
//! later slice needs it, so every slice converts to the same column kinds. Arrow IPC files are
//! read whole and then sliced. [`write_table_chunks`] writes frames one after another into a
//! CSV or Parquet file (Arrow IPC: gathered and written at the end) that appears at its path
//! only once complete.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor};
use std::path::{Path, PathBuf};

use mlship_core::bundle::AtomicFile;
use polars::io::csv::write::BatchedWriter as CsvBatchedWriter;
use polars::io::parquet::write::BatchedWriter as ParquetBatchedWriter;
use polars::prelude::*;

use crate::error::{PreprocessError, Result};
use crate::io::{
    FileFormat, ReadOptions, check_file, check_magic, csv_error, diagnose_csv, first_line,
    malformed, open, separator_for,
};

/// The default number of rows in one slice.
pub const DEFAULT_CHUNK_ROWS: usize = 65_536;

/// The slices of a table file, in order; see [`read_table_chunks`].
#[derive(Debug)]
pub struct TableChunks {
    path: PathBuf,
    rows_per_chunk: usize,
    source: Source,
    /// Rows yielded so far.
    rows: usize,
    done: bool,
}

#[derive(Debug)]
enum Source {
    Csv(CsvSource),
    Parquet { offset: usize, total: usize },
    Whole(DataFrame),
}

#[derive(Debug)]
struct CsvSource {
    reader: BufReader<File>,
    header: Vec<u8>,
    separator: u8,
    null_values: Vec<PlSmallStr>,
    infer_rows: usize,
    /// The column types every slice is read with (those seen with a value so far).
    types: Option<Schema>,
    /// Whether the whole file was checked for ragged rows already.
    diagnosed: bool,
}

/// Opens `path` (CSV, Parquet or Arrow IPC, by extension) for reading in slices of at most
/// `rows_per_chunk` rows (at least 1).
///
/// The checks of [`crate::read_table`] apply: a missing, empty or mislabelled file is refused
/// here, a malformed record when its slice is read, and with `options.require_rows` a file
/// without data rows.
pub fn read_table_chunks(
    path: &Path,
    options: &ReadOptions,
    rows_per_chunk: usize,
) -> Result<TableChunks> {
    let format = check_file(path)?;
    let source = match format {
        FileFormat::Csv => {
            let mut reader = BufReader::with_capacity(1 << 20, open(path)?);
            let mut header = Vec::new();
            read_record(&mut reader, &mut header).map_err(|e| io_error(path, e))?;
            Source::Csv(CsvSource {
                reader,
                header,
                separator: separator_for(path, options),
                null_values: options
                    .null_values
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.as_str().into())
                    .collect(),
                infer_rows: options.infer_schema_rows.max(1),
                types: None,
                diagnosed: false,
            })
        }
        FileFormat::Parquet => {
            check_magic(path, format, b"PAR1", true)?;
            let total = ParquetReader::new(open(path)?)
                .num_rows()
                .map_err(|e| malformed(path, format, &e))?;
            Source::Parquet { offset: 0, total }
        }
        FileFormat::Ipc => Source::Whole(crate::read_table(path, options)?),
    };
    let mut chunks = TableChunks {
        path: path.to_owned(),
        rows_per_chunk: rows_per_chunk.max(1),
        source,
        rows: 0,
        done: false,
    };
    if options.require_rows && chunks.is_empty()? {
        return Err(PreprocessError::NoRows {
            path: path.to_owned(),
        });
    }
    Ok(chunks)
}

impl TableChunks {
    /// Rows yielded so far: the number of the next slice's first row, counted from 0.
    pub fn rows_read(&self) -> usize {
        self.rows
    }

    /// Whether the table has no data rows (only asked before the first slice).
    fn is_empty(&mut self) -> Result<bool> {
        Ok(match &mut self.source {
            Source::Csv(csv) => csv
                .reader
                .fill_buf()
                .map_err(|e| io_error(&self.path, e))?
                .iter()
                .all(u8::is_ascii_whitespace),
            Source::Parquet { total, .. } => *total == 0,
            Source::Whole(df) => df.height() == 0,
        })
    }

    fn next_chunk(&mut self) -> Result<Option<DataFrame>> {
        let n = self.rows_per_chunk;
        let df = match &mut self.source {
            Source::Csv(csv) => csv.next_chunk(&self.path, n)?,
            Source::Parquet { offset, total } => {
                if *offset >= *total {
                    None
                } else {
                    let len = n.min(*total - *offset);
                    let df = ParquetReader::new(open(&self.path)?)
                        .with_slice(Some((*offset, len)))
                        .finish()
                        .map_err(|e| malformed(&self.path, FileFormat::Parquet, &e))?;
                    *offset += len;
                    Some(df)
                }
            }
            Source::Whole(df) => {
                if self.rows >= df.height() {
                    None
                } else {
                    Some(df.slice(self.rows as i64, n))
                }
            }
        };
        if let Some(df) = &df {
            self.rows += df.height();
        }
        Ok(df)
    }
}

impl Iterator for TableChunks {
    type Item = Result<DataFrame>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_chunk() {
            Ok(Some(df)) if df.height() > 0 => Some(Ok(df)),
            Ok(_) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl CsvSource {
    fn next_chunk(&mut self, path: &Path, rows: usize) -> Result<Option<DataFrame>> {
        let mut bytes = self.header.clone();
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        let start = bytes.len();
        let mut records = 0;
        while records < rows {
            if !read_record(&mut self.reader, &mut bytes).map_err(|e| io_error(path, e))? {
                break;
            }
            records += 1;
        }
        if bytes[start..].iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let df = match self.parse(&bytes, self.types.as_ref()) {
            Ok(df) => df,
            // A later slice holds a value the first slice's types cannot: read it with types
            // inferred from the whole slice, integers widened to floats.
            Err(e) if e.to_string().contains("could not parse") => {
                let widened = self.types.as_ref().map(|types| {
                    types
                        .iter()
                        .map(|(name, dtype)| {
                            let dtype = if dtype.is_integer() {
                                DataType::Float64
                            } else {
                                dtype.clone()
                            };
                            (name.clone(), dtype)
                        })
                        .collect::<Schema>()
                });
                self.parse_inferring(&bytes, widened)
                    .map_err(|e| csv_error(path, self.separator, &e))?
            }
            Err(e) => return Err(csv_error(path, self.separator, &e)),
        };
        self.remember_types(&df);
        let last_has_nulls =
            df.width() > 1 && df.columns().last().is_some_and(|c| c.null_count() > 0);
        if last_has_nulls && !self.diagnosed {
            self.diagnosed = true;
            if let Ok(Some(problem)) = diagnose_csv(path, self.separator) {
                return Err(PreprocessError::Malformed {
                    path: path.to_owned(),
                    format: "CSV",
                    detail: problem,
                });
            }
        }
        Ok(Some(df))
    }

    fn options(&self, infer: Option<usize>, types: Option<Schema>) -> CsvReadOptions {
        let nulls = self.null_values.clone();
        let separator = self.separator;
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(infer)
            .with_schema_overwrite(types.map(Arc::new))
            .map_parse_options(|p| {
                p.with_separator(separator)
                    .with_null_values(if nulls.is_empty() {
                        None
                    } else {
                        Some(NullValues::AllColumns(nulls.clone()))
                    })
            })
    }

    fn parse(&self, bytes: &[u8], types: Option<&Schema>) -> PolarsResult<DataFrame> {
        match self
            .options(Some(self.infer_rows), types.cloned())
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
        {
            // As for whole files: types inferred from the first rows can fail later ones.
            Err(e) if e.to_string().contains("could not parse") && types.is_none() => {
                self.parse_inferring(bytes, None)
            }
            other => other,
        }
    }

    fn parse_inferring(&self, bytes: &[u8], types: Option<Schema>) -> PolarsResult<DataFrame> {
        self.options(None, types)
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
    }

    /// Keeps the type of every column that has a value, so later slices read alike (a column
    /// that is all null so far keeps being inferred).
    fn remember_types(&mut self, df: &DataFrame) {
        let types = self.types.get_or_insert_with(Schema::default);
        for column in df.columns() {
            if column.null_count() < column.len() {
                let known = types.get(column.name());
                let keep = match known {
                    None => Some(column.dtype().clone()),
                    Some(t) if t.is_integer() && column.dtype().is_float() => {
                        Some(column.dtype().clone())
                    }
                    Some(_) => None,
                };
                if let Some(dtype) = keep {
                    types.with_column(column.name().clone(), dtype);
                }
            }
        }
    }
}

/// Appends one CSV record (a line, or several when a quoted field spans lines) to `buf`;
/// false at the end of the input.
fn read_record(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut in_quotes = false;
    let mut any = false;
    loop {
        let start = buf.len();
        if reader.read_until(b'\n', buf)? == 0 {
            return Ok(any);
        }
        any = true;
        let odd = buf[start..]
            .iter()
            .fold(false, |odd, &b| if b == b'"' { !odd } else { odd });
        if odd {
            in_quotes = !in_quotes;
        }
        if !in_quotes {
            return Ok(true);
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> PreprocessError {
    PreprocessError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    }
}

/// Writes frames one after another into a table file; see [`write_table_chunks`].
pub struct TableSink<'a> {
    path: &'a Path,
    format: FileFormat,
    file: Option<&'a mut AtomicFile>,
    writer: Option<SinkWriter<'a>>,
    gathered: Option<DataFrame>,
    rows: usize,
}

enum SinkWriter<'a> {
    Csv(CsvBatchedWriter<&'a mut AtomicFile>),
    Parquet(Box<ParquetBatchedWriter<&'a mut AtomicFile>>),
}

impl std::fmt::Debug for TableSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableSink")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl TableSink<'_> {
    /// Appends the rows of `df`; every frame must have the first one's columns and types.
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        let path = self.path;
        let polars = |e: PolarsError| PreprocessError::Polars {
            path: path.to_owned(),
            detail: first_line(&e.to_string()),
        };
        if self.writer.is_none() && self.format != FileFormat::Ipc {
            let Some(file) = self.file.take() else {
                return Err(PreprocessError::Polars {
                    path: path.to_owned(),
                    detail: "the output is already finished".into(),
                });
            };
            let schema = df.schema();
            self.writer = Some(match self.format {
                FileFormat::Csv => SinkWriter::Csv(
                    CsvWriter::new(file)
                        .include_header(true)
                        .batched(schema)
                        .map_err(polars)?,
                ),
                _ => SinkWriter::Parquet(Box::new(
                    ParquetWriter::new(file)
                        .with_compression(ParquetCompression::Zstd(None))
                        .batched(schema)
                        .map_err(polars)?,
                )),
            });
        }
        match &mut self.writer {
            Some(SinkWriter::Csv(w)) => w.write_batch(df).map_err(polars)?,
            Some(SinkWriter::Parquet(w)) => w.write_batch(df).map_err(polars)?,
            None => match &mut self.gathered {
                Some(all) => {
                    all.vstack_mut(df).map_err(polars)?;
                }
                None => self.gathered = Some(df.clone()),
            },
        }
        self.rows += df.height();
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn finish(mut self) -> Result<()> {
        let path = self.path;
        let polars = |e: PolarsError| PreprocessError::Polars {
            path: path.to_owned(),
            detail: first_line(&e.to_string()),
        };
        match self.writer.take() {
            Some(SinkWriter::Csv(mut w)) => w.finish().map_err(polars),
            Some(SinkWriter::Parquet(w)) => w.finish().map(|_| ()).map_err(polars),
            None => {
                let Some(file) = self.file.take() else {
                    return Ok(());
                };
                let mut df = self.gathered.take().unwrap_or_default();
                match self.format {
                    FileFormat::Csv => CsvWriter::new(file).include_header(true).finish(&mut df),
                    FileFormat::Parquet => ParquetWriter::new(file)
                        .with_compression(ParquetCompression::Zstd(None))
                        .finish(&mut df)
                        .map(|_| ()),
                    FileFormat::Ipc => IpcWriter::new(file).finish(&mut df),
                }
                .map_err(polars)
            }
        }
    }
}

/// Writes a table file (CSV, Parquet or Arrow IPC, by extension) from the frames `produce`
/// hands to its [`TableSink`], atomically: the file appears at `path` only when `produce` and
/// the writing succeed; on any error nothing is left behind and an existing file is kept.
pub fn write_table_chunks<E: From<PreprocessError>>(
    path: &Path,
    produce: impl FnOnce(&mut TableSink<'_>) -> std::result::Result<(), E>,
) -> std::result::Result<usize, E> {
    let format = FileFormat::from_path(path)?;
    let io = |e| PreprocessError::Io {
        action: "writing",
        path: path.to_owned(),
        source: e,
    };
    let mut file = AtomicFile::create(path).map_err(io)?;
    let rows = {
        let mut sink = TableSink {
            path,
            format,
            file: Some(&mut file),
            writer: None,
            gathered: None,
            rows: 0,
        };
        produce(&mut sink)?;
        let rows = sink.rows;
        sink.finish()?;
        rows
    };
    file.commit().map_err(io)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn heights(chunks: TableChunks) -> Vec<usize> {
        chunks.map(|c| c.unwrap().height()).collect()
    }

    #[test]
    fn csv_slices_cover_every_row_once_with_quoted_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id,note,x\n");
        for i in 0..25 {
            if i % 7 == 3 {
                writeln!(text, "{i},\"two\nlines, \"\"quoted\"\"\",{i}.5").unwrap();
            } else {
                writeln!(text, "{i},plain,{i}").unwrap();
            }
        }
        let path = write(dir.path(), "t.csv", &text);
        let whole = crate::read_table(&path, &ReadOptions::default()).unwrap();
        let chunks = read_table_chunks(&path, &ReadOptions::default(), 4).unwrap();
        let parts: Vec<DataFrame> = chunks.map(Result::unwrap).collect();
        assert_eq!(
            parts.iter().map(DataFrame::height).collect::<Vec<_>>(),
            [4, 4, 4, 4, 4, 4, 1]
        );
        let values = |name: &str| -> Vec<String> {
            parts
                .iter()
                .flat_map(|p| {
                    let c = p.column(name).unwrap().cast(&DataType::String).unwrap();
                    let ca = c.str().unwrap();
                    (0..ca.len())
                        .map(|i| ca.get(i).unwrap_or("").to_owned())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let notes = whole.column("note").unwrap().str().unwrap().clone();
        let whole_notes: Vec<String> = (0..notes.len())
            .map(|i| notes.get(i).unwrap_or("").to_owned())
            .collect();
        assert_eq!(values("note"), whole_notes);
        assert_eq!(values("id").len(), whole.height());
        assert!(values("note")[3].contains("two\nlines, \"quoted\""));
    }

    #[test]
    fn a_later_slice_with_floats_widens_integers() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "w.csv", "a,b\n1,x\n2,y\n3.5,z\n");
        let parts: Vec<DataFrame> = read_table_chunks(&path, &ReadOptions::default(), 2)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(parts[0].column("a").unwrap().dtype(), &DataType::Int64);
        assert_eq!(parts[1].column("a").unwrap().dtype(), &DataType::Float64);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let header_only = write(dir.path(), "h.csv", "a,b\n");
        assert!(matches!(
            read_table_chunks(&header_only, &ReadOptions::default(), 10),
            Err(PreprocessError::NoRows { .. })
        ));
        let ragged = write(dir.path(), "r.csv", "a,b,c\n1,2,3\n4,5\n");
        let err = read_table_chunks(&ragged, &ReadOptions::default(), 10)
            .unwrap()
            .find_map(std::result::Result::err)
            .unwrap()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        let missing = dir.path().join("nope.csv");
        assert!(matches!(
            read_table_chunks(&missing, &ReadOptions::default(), 10),
            Err(PreprocessError::NotFound { .. })
        ));
    }

    #[test]
    fn written_chunks_read_back_in_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let frame = |lo: i64| df!("k" => [lo, lo + 1, lo + 2], "v" => ["a", "b", "c"]).unwrap();
        for ext in ["csv", "parquet", "arrow"] {
            let path = dir.path().join(format!("out.{ext}"));
            let rows = write_table_chunks::<PreprocessError>(&path, |sink| {
                sink.write(&frame(0))?;
                sink.write(&frame(3))?;
                Ok(())
            })
            .unwrap();
            assert_eq!(rows, 6);
            let back = crate::read_table(&path, &ReadOptions::default()).unwrap();
            assert_eq!(back.height(), 6, "{ext}");
            let parts = heights(read_table_chunks(&path, &ReadOptions::default(), 4).unwrap());
            assert_eq!(parts, [4, 2], "{ext}");
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "keep.csv", "old\n");
        let result = write_table_chunks(&path, |sink| {
            sink.write(&df!("k" => [1i64]).unwrap())?;
            Err(PreprocessError::Split("stopped".into()))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
