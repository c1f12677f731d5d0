//! Reading and writing tables: CSV, Parquet and Arrow IPC through polars.
//!
//! Every failure names the file and, for CSV, the line at fault: when polars rejects a CSV file,
//! a second, quote-aware pass over it finds the first invalid UTF-8 byte or ragged row and says
//! where it is.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{PreprocessError, Result};

/// The file formats mlship reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma- (or tab-, for `.tsv`) separated text with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (Feather v2) file.
    Ipc,
}

impl FileFormat {
    /// The format named by `path`'s extension (case-insensitive).
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Ok(Self::Csv),
            "parquet" | "pq" => Ok(Self::Parquet),
            "arrow" | "ipc" | "feather" => Ok(Self::Ipc),
            _ => Err(PreprocessError::UnknownFormat {
                path: path.to_owned(),
                extension: ext,
            }),
        }
    }

    /// The format's name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Parquet => "Parquet",
            Self::Ipc => "Arrow IPC",
        }
    }
}

/// How to read a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Field separator for CSV; `None` means `,` (or a tab for `.tsv` files).
    pub separator: Option<u8>,
    /// Text that means "missing" in CSV, besides an empty field.
    pub null_values: Vec<String>,
    /// Rows read to infer CSV column types (a failed parse retries with the whole file).
    pub infer_schema_rows: usize,
    /// Whether an empty table (a header and no rows) is an error.
    pub require_rows: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            separator: None,
            null_values: ["NA", "N/A", "NULL", "null"].map(String::from).to_vec(),
            infer_schema_rows: 10_000,
            require_rows: true,
        }
    }
}

/// Checks that `path` is a non-empty file in a format mlship reads, and returns that format.
pub(crate) fn check_file(path: &Path) -> Result<FileFormat> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            PreprocessError::NotFound {
                path: path.to_owned(),
            }
        } else {
            PreprocessError::Io {
                action: "reading",
                path: path.to_owned(),
                source: e,
            }
        }
    })?;
    if meta.is_dir() {
        return Err(PreprocessError::IsDirectory {
            path: path.to_owned(),
        });
    }
    let format = FileFormat::from_path(path)?;
    if meta.len() == 0 {
        return Err(PreprocessError::EmptyFile {
            path: path.to_owned(),
        });
    }
    Ok(format)
}

/// Reads a CSV, Parquet or Arrow IPC file (chosen by extension) into a frame.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<DataFrame> {
    let format = check_file(path)?;
    let df = match format {
        FileFormat::Csv => read_csv(path, options)?,
        FileFormat::Parquet => {
            check_magic(path, format, b"PAR1", true)?;
            let file = open(path)?;
            ParquetReader::new(file)
                .finish()
                .map_err(|e| malformed(path, format, &e))?
        }
        FileFormat::Ipc => {
            check_magic(path, format, b"ARROW1", false)?;
            let file = open(path)?;
            IpcReader::new(file)
                .finish()
                .map_err(|e| malformed(path, format, &e))?
        }
    };
    if options.require_rows && df.height() == 0 {
        return Err(PreprocessError::NoRows {
            path: path.to_owned(),
        });
    }
    Ok(df)
}

pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| PreprocessError::Io {
        action: "opening",
        path: path.to_owned(),
        source: e,
    })
}

pub(crate) fn malformed(path: &Path, format: FileFormat, e: &PolarsError) -> PreprocessError {
    PreprocessError::Malformed {
        path: path.to_owned(),
        format: format.name(),
        detail: first_line(&e.to_string()),
    }
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_owned()
}

/// Checks a binary format's magic bytes at the start (and, for Parquet, the end) of the file,
/// so that a text file with the wrong extension gets a plain message.
pub(crate) fn check_magic(
    path: &Path,
    format: FileFormat,
    magic: &[u8],
    also_at_end: bool,
) -> Result<()> {
    let mut file = open(path)?;
    let io = |e| PreprocessError::Io {
        action: "reading",
        path: path.to_owned(),
        source: e,
    };
    let mut head = vec![0u8; 512];
    let n = read_up_to(&mut file, &mut head).map_err(io)?;
    head.truncate(n);
    let mut ok = head.starts_with(magic);
    if ok && also_at_end {
        let len = file.metadata().map_err(io)?.len();
        let mut tail = vec![0u8; magic.len()];
        ok = len >= 2 * magic.len() as u64
            && file.seek(SeekFrom::End(-(magic.len() as i64))).is_ok()
            && file.read_exact(&mut tail).is_ok()
            && tail == magic;
    }
    if ok {
        return Ok(());
    }
    let looks = if head.starts_with(magic) {
        "the file is cut short (the closing magic bytes are missing)".to_owned()
    } else if !head.is_empty() && std::str::from_utf8(&head).is_ok_and(|s| !s.contains('\0')) {
        format!(
            "it looks like text (starts with {:?}); is it a CSV file with the wrong extension?",
            String::from_utf8_lossy(&head[..head.len().min(40)])
        )
    } else {
        format!(
            "it does not start with the {} magic bytes {:?}",
            format.name(),
            String::from_utf8_lossy(magic)
        )
    };
    Err(PreprocessError::Malformed {
        path: path.to_owned(),
        format: format.name(),
        detail: looks,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

pub(crate) fn separator_for(path: &Path, options: &ReadOptions) -> u8 {
    options.separator.unwrap_or_else(|| {
        let tsv = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        if tsv { b'\t' } else { b',' }
    })
}

fn read_csv(path: &Path, options: &ReadOptions) -> Result<DataFrame> {
    let separator = separator_for(path, options);
    let attempt = |infer: Option<usize>| {
        let nulls: Vec<PlSmallStr> = options
            .null_values
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str().into())
            .collect();
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(infer)
            .map_parse_options(|p| {
                p.with_separator(separator)
                    .with_null_values(if nulls.is_empty() {
                        None
                    } else {
                        Some(NullValues::AllColumns(nulls.clone()))
                    })
            })
            .try_into_reader_with_file_path(Some(path.to_owned()))
            .and_then(SerReader::finish)
    };
    let first = attempt(Some(options.infer_schema_rows.max(1)));
    let result = match first {
        // Types inferred from the first rows can fail later ones: infer from the whole file.
        Err(e) if e.to_string().contains("could not parse") => attempt(None),
        other => other,
    };
    let df = result.map_err(|e| csv_error(path, separator, &e))?;
    // polars reads a row with too few fields as nulls in its last columns. A row like that leaves
    // the last column null, so the file is scanned for short rows only when that column has
    // nulls (which an empty field also gives).
    let last_has_nulls = df.width() > 1 && df.columns().last().is_some_and(|c| c.null_count() > 0);
    if last_has_nulls && let Ok(Some(problem)) = diagnose_csv(path, separator) {
        return Err(PreprocessError::Malformed {
            path: path.to_owned(),
            format: "CSV",
            detail: problem,
        });
    }
    Ok(df)
}

/// Turns a polars CSV error into one that names the line at fault, when a second pass finds it.
pub(crate) fn csv_error(path: &Path, separator: u8, e: &PolarsError) -> PreprocessError {
    let detail = match diagnose_csv(path, separator) {
        Ok(Some(found)) => found,
        _ => first_line(&e.to_string()),
    };
    PreprocessError::Malformed {
        path: path.to_owned(),
        format: "CSV",
        detail,
    }
}

/// The longest line the diagnostic pass looks at in full; longer ones are reported as such.
const MAX_DIAGNOSED_LINE: usize = 1 << 20;

/// Scans a CSV file for the first invalid UTF-8 or ragged record (quote-aware).
pub(crate) fn diagnose_csv(path: &Path, separator: u8) -> std::io::Result<Option<String>> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut line_no = 0usize;
    let mut record_start = 1usize;
    let mut header_fields: Option<usize> = None;
    let mut fields = 1usize;
    let mut in_quotes = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .by_ref()
            .take(MAX_DIAGNOSED_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        if n > MAX_DIAGNOSED_LINE && !buf.ends_with(b"\n") {
            return Ok(Some(format!(
                "line {} is longer than {} MiB; is this really a line-oriented CSV file?",
                line_no + 1,
                MAX_DIAGNOSED_LINE >> 20
            )));
        }
        line_no += 1;
        if let Err(err) = std::str::from_utf8(&buf) {
            return Ok(Some(format!(
                "line {line_no}, byte {} of the line: invalid UTF-8\nhint: re-export the file as UTF-8",
                err.valid_up_to() + 1
            )));
        }
        let content = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if !in_quotes && content.is_empty() {
            continue;
        }
        for &b in content {
            if b == b'"' {
                in_quotes = !in_quotes;
            } else if b == separator && !in_quotes {
                fields += 1;
            }
        }
        if in_quotes {
            continue;
        }
        match header_fields {
            None => header_fields = Some(fields),
            Some(h) if h != fields => {
                let line = if record_start == line_no {
                    format!("line {line_no}")
                } else {
                    format!("the record on lines {record_start}-{line_no}")
                };
                return Ok(Some(format!(
                    "{line} has {fields} fields but the header has {h}\nhint: check for unquoted separators or a missing field on that line"
                )));
            }
            Some(_) => {}
        }
        fields = 1;
        record_start = line_no + 1;
    }
    if in_quotes {
        return Ok(Some(format!(
            "a quoted field opened on line {record_start} is never closed"
        )));
    }
    Ok(None)
}

/// Writes `df` to `path` in the format its extension names, atomically (temporary file, fsync,
/// rename): an interrupted write never leaves a half-written file.
pub fn write_table(df: &mut DataFrame, path: &Path) -> Result<()> {
    let format = FileFormat::from_path(path)?;
    let mut bytes = Vec::new();
    let res = match format {
        FileFormat::Csv => CsvWriter::new(&mut bytes).include_header(true).finish(df),
        FileFormat::Parquet => ParquetWriter::new(&mut bytes)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ()),
        FileFormat::Ipc => IpcWriter::new(&mut bytes).finish(df),
    };
    res.map_err(|e| PreprocessError::Polars {
        path: path.to_owned(),
        detail: first_line(&e.to_string()),
    })?;
    mlship_core::bundle::write_atomic(path, &bytes).map_err(|e| PreprocessError::Io {
        action: "writing",
        path: PathBuf::from(path),
        source: e,
    })
}
