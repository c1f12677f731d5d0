//! The `*.mlship` bundle envelope: magic bytes, versions, a JSON manifest, named opaque sections
//! and a SHA-256 checksum over everything before it.
//!
//! Core owns the envelope; the facade owns what the sections hold (`pipeline`, `model`,
//! `profile`, …) and versions each section itself. The byte layout, the limits and the order of
//! the checks are specified in `docs/formats/bundle.md`.
//!
//! Loading ([`Envelope::from_bytes`], [`Envelope::read`]) checks the magic and the versions,
//! compares the declared size with the data, verifies the checksum, and only then parses the
//! manifest and the section table, checking every declared length against its limit and against
//! the bytes that remain before allocating anything. [`read_manifest`] reads only the header and
//! the manifest, for `mlship inspect` on large files; it does not verify the checksum.
//!
//! Every file mlship writes goes through [`write_atomic`]: a reader never sees half a file.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::ser::{Error as _, Serialize, SerializeMap, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The first 8 bytes of every bundle: `\x89MLS\r\n\x1a\n`, built like PNG's signature so that
/// 7-bit and text-mode transfers (line-ending conversion, a stripped high bit) are detected.
pub const MAGIC: [u8; 8] = *b"\x89MLS\r\n\x1a\n";
/// The envelope version this build writes, and the newest one it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The "oldest reader version" this build writes into its files.
pub const MIN_READER_VERSION: u32 = 1;
/// The oldest envelope version this build still reads.
pub const OLDEST_SUPPORTED_VERSION: u32 = 1;
/// The largest bundle this build writes or reads: 4 GiB.
pub const MAX_FILE_LEN: u64 = 4 << 30;
/// The largest manifest, in bytes of JSON: 64 MiB.
pub const MAX_MANIFEST_LEN: u32 = 64 << 20;
/// The deepest nesting of arrays and objects a manifest may have (`serde_json` reads up to 128).
pub const MAX_MANIFEST_DEPTH: usize = 100;
/// The largest number of sections in one bundle.
pub const MAX_SECTIONS: u32 = 1024;
/// The longest section name, in bytes.
pub const MAX_SECTION_NAME_LEN: usize = 64;

/// Magic, format version, oldest reader version and total length.
const HEADER_LEN: usize = 24;
const CHECKSUM_LEN: usize = 32;
/// Header, manifest length, section count and checksum: the size of an envelope with nothing in it.
const FIXED_LEN: u64 = (HEADER_LEN + 4 + 4 + CHECKSUM_LEN) as u64;
/// Name length, a one-byte name, version and payload length: the size of the smallest section.
const MIN_SECTION_LEN: usize = 1 + 1 + 4 + 8;

/// A decoded bundle: its JSON manifest and its named opaque sections, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// The manifest: a JSON object (kind, schema, parameters, metrics, lineage, …).
    pub manifest: Value,
    /// The sections, in the order they are written; names are unique.
    pub sections: Vec<Section>,
}

/// One named opaque section of a bundle; its owner decodes `bytes` according to `version`.
#[derive(Clone, PartialEq, Eq)]
pub struct Section {
    /// A short identifier: 1 to 64 bytes of `[a-z0-9_-]`, starting with a letter.
    pub name: String,
    /// The version of this section's own encoding, chosen by the section's owner.
    pub version: u32,
    /// The payload.
    pub bytes: Vec<u8>,
}

impl Section {
    /// A section named `name` at `version` holding `bytes`; the name is checked when written.
    pub fn new(name: impl Into<String>, version: u32, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            version,
            bytes: bytes.into(),
        }
    }
}

impl fmt::Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Section")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// The header and manifest of a bundle as read by [`read_manifest`].
///
/// The checksum was **not** verified: the rest of the file was not read. Use [`Envelope::read`]
/// to verify a bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct UnverifiedManifest {
    /// The envelope version the file was written with.
    pub format_version: u32,
    /// The oldest reader version that can read the file.
    pub min_reader_version: u32,
    /// The total size of the file declared in its header, in bytes.
    pub declared_len: u64,
    /// The manifest, a JSON object.
    pub manifest: Value,
}

/// Why a bundle could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The file does not exist.
    #[error("bundle not found: {}\nhint: check the path and the current directory", .path.display())]
    NotFound {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// Reading or writing failed.
    #[error("cannot {op} {}: {source}", at(.path.as_deref()))]
    Io {
        /// The file, when known.
        path: Option<PathBuf>,
        /// What was attempted: `open`, `read` or `write`.
        op: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The file has no bytes at all.
    #[error(
        "{}: empty file (0 bytes): expected an mlship bundle\n\
         hint: an interrupted copy or export leaves an empty file; copy or export the bundle again",
        at(.path.as_deref())
    )]
    Empty {
        /// The file, when known.
        path: Option<PathBuf>,
    },
    /// The file does not start with [`MAGIC`].
    #[error(
        "{}: this is not an mlship bundle: it starts with {found}, expected {}{}",
        at(.path.as_deref()), hex(&MAGIC), looks_like_hint(*.looks_like)
    )]
    WrongMagic {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The first bytes of the file, in hex.
        found: String,
        /// What the file looks like instead, when recognised.
        looks_like: Option<&'static str>,
    },
    /// The file ends before the size its header declares.
    #[error(
        "{}: truncated file: expected at least {expected} bytes, found {found}\n\
         hint: the copy or download was probably interrupted; copy the bundle again",
        at(.path.as_deref())
    )]
    Truncated {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The number of bytes needed.
        expected: u64,
        /// The number of bytes present.
        found: u64,
    },
    /// The stored SHA-256 differs from the one computed over the file.
    #[error(
        "{}: checksum mismatch: the file is corrupted or was modified after it was written \
         (stored sha-256 {stored}, computed {computed})\n\
         hint: copy the bundle again from its source or from the registry",
        at(.path.as_deref())
    )]
    ChecksumMismatch {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The checksum stored in the file, in hex.
        stored: String,
        /// The checksum of the data, in hex.
        computed: String,
    },
    /// The file needs a newer reader than this build.
    #[error(
        "{}: this bundle needs an mlship that reads envelope version {needs_reader} or newer \
         (it has envelope version {format_version}); this build reads versions up to {reads_up_to}\n\
         hint: upgrade mlship",
        at(.path.as_deref())
    )]
    UnsupportedVersion {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The envelope version of the file.
        format_version: u32,
        /// The oldest reader version that can read the file.
        needs_reader: u32,
        /// The newest envelope version this build reads.
        reads_up_to: u32,
    },
    /// The file's envelope version is older than this build still reads.
    #[error(
        "{}: envelope version {format_version} is too old: this build reads versions \
         {oldest_supported} to {FORMAT_VERSION}\n\
         hint: load and save the bundle again with an older mlship release",
        at(.path.as_deref())
    )]
    TooOld {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The envelope version of the file.
        format_version: u32,
        /// The oldest envelope version this build reads.
        oldest_supported: u32,
    },
    /// A declared size or count exceeds its limit or the bytes that remain.
    #[error("{}: declared {what} = {value} is too large: expected {expected}", at(.path.as_deref()))]
    AbsurdLength {
        /// The file, when known.
        path: Option<PathBuf>,
        /// What was declared, e.g. `manifest length`.
        what: String,
        /// The declared value.
        value: u64,
        /// The bound it broke.
        expected: String,
    },
    /// The manifest is not a JSON object, or is too deeply nested.
    #[error("{}: invalid manifest: {reason}", at(.path.as_deref()))]
    InvalidManifest {
        /// The file, when known.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },
    /// Two sections have the same name.
    #[error("{}: duplicate section {name:?}: a section name may appear only once", at(.path.as_deref()))]
    DuplicateSection {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The repeated name.
        name: String,
    },
    /// A section name is empty, too long or has characters outside `[a-z0-9_-]`.
    #[error(
        "{}: invalid section name {name:?}: expected 1 to {MAX_SECTION_NAME_LEN} characters \
         from a-z, 0-9, '_' and '-', starting with a letter",
        at(.path.as_deref())
    )]
    InvalidSectionName {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The name, with invalid UTF-8 replaced.
        name: String,
    },
    /// A section the caller requires is absent.
    #[error("{}: missing section {name:?}: the bundle has {}", at(.path.as_deref()), names(.available))]
    MissingSection {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The required section.
        name: String,
        /// The sections present.
        available: Vec<String>,
    },
    /// The structure is inconsistent in a way no length check covers (e.g. trailing bytes).
    #[error("{}: malformed bundle at byte {offset}: {reason}", at(.path.as_deref()))]
    Malformed {
        /// The file, when known.
        path: Option<PathBuf>,
        /// Where in the file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

impl BundleError {
    /// Names `path` as the file at fault, unless the error already names one.
    pub fn with_path(mut self, file: &Path) -> Self {
        match &mut self {
            Self::NotFound { .. } => {}
            Self::Io { path, .. }
            | Self::Empty { path }
            | Self::WrongMagic { path, .. }
            | Self::Truncated { path, .. }
            | Self::ChecksumMismatch { path, .. }
            | Self::UnsupportedVersion { path, .. }
            | Self::TooOld { path, .. }
            | Self::AbsurdLength { path, .. }
            | Self::InvalidManifest { path, .. }
            | Self::DuplicateSection { path, .. }
            | Self::InvalidSectionName { path, .. }
            | Self::MissingSection { path, .. }
            | Self::Malformed { path, .. } => {
                path.get_or_insert_with(|| file.to_path_buf());
            }
        }
        self
    }
}

impl Envelope {
    /// An envelope with `manifest` and no sections.
    pub fn new(manifest: Value) -> Self {
        Self {
            manifest,
            sections: Vec::new(),
        }
    }

    /// The section named `name`, if present.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The section named `name`, or [`BundleError::MissingSection`].
    pub fn section_required(&self, name: &str) -> Result<&Section, BundleError> {
        self.section(name)
            .ok_or_else(|| BundleError::MissingSection {
                path: None,
                name: name.to_owned(),
                available: self.sections.iter().map(|s| s.name.clone()).collect(),
            })
    }

    /// Encodes the envelope; the manifest is written as compact JSON with sorted keys, so equal
    /// envelopes give equal bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, BundleError> {
        if !self.manifest.is_object() {
            let reason = format!(
                "expected a JSON object, found {}",
                json_kind(&self.manifest)
            );
            return Err(BundleError::InvalidManifest { path: None, reason });
        }
        let manifest = serde_json::to_vec(&Canonical(&self.manifest, 0)).map_err(|e| {
            BundleError::InvalidManifest {
                path: None,
                reason: e.to_string(),
            }
        })?;
        at_most(
            "manifest length",
            manifest.len() as u64,
            u64::from(MAX_MANIFEST_LEN),
        )?;
        at_most(
            "section count",
            self.sections.len() as u64,
            u64::from(MAX_SECTIONS),
        )?;
        let mut total = FIXED_LEN + manifest.len() as u64;
        let mut seen = BTreeSet::new();
        for section in &self.sections {
            validate_section_name(&section.name)?;
            if !seen.insert(section.name.as_str()) {
                return Err(BundleError::DuplicateSection {
                    path: None,
                    name: section.name.clone(),
                });
            }
            let len = (MIN_SECTION_LEN - 1 + section.name.len() + section.bytes.len()) as u64;
            total = total.saturating_add(len);
        }
        at_most("bundle size", total, MAX_FILE_LEN)?;

        let mut out = Vec::with_capacity(total as usize);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&MIN_READER_VERSION.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
        out.extend_from_slice(&manifest);
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for section in &self.sections {
            out.push(section.name.len() as u8);
            out.extend_from_slice(section.name.as_bytes());
            out.extend_from_slice(&section.version.to_le_bytes());
            out.extend_from_slice(&(section.bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&section.bytes);
        }
        let checksum = Sha256::digest(&out);
        out.extend_from_slice(&checksum);
        debug_assert_eq!(out.len() as u64, total);
        Ok(out)
    }

    /// Decodes and verifies a whole bundle (see the module documentation for the checks).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let header = parse_header(bytes)?;
        let found = bytes.len() as u64;
        if found < header.declared_len {
            return Err(truncated(header.declared_len, found));
        }
        if found > header.declared_len {
            let reason = format!(
                "{} bytes follow the checksum: the header declares {} bytes",
                found - header.declared_len,
                header.declared_len
            );
            return Err(malformed(header.declared_len, reason));
        }
        let (data, stored) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        let computed = Sha256::digest(data);
        if computed.as_slice() != stored {
            return Err(BundleError::ChecksumMismatch {
                path: None,
                stored: hex(stored),
                computed: hex(&computed),
            });
        }

        let mut c = Cursor {
            rest: &data[HEADER_LEN..],
            pos: HEADER_LEN as u64,
        };
        let manifest_len = c.u32("the manifest length")?;
        let manifest = parse_manifest(c.declared(
            "manifest length",
            manifest_len.into(),
            MAX_MANIFEST_LEN.into(),
        )?)?;
        let count = c.u32("the section count")?;
        at_most("section count", count.into(), MAX_SECTIONS.into())?;
        let room = c.rest.len() / MIN_SECTION_LEN;
        if count as usize > room {
            let expected = format!(
                "at most {room}, what the {} remaining bytes can hold",
                c.rest.len()
            );
            return Err(absurd("section count", count.into(), expected));
        }
        let mut sections = Vec::with_capacity(count as usize);
        let mut seen = BTreeSet::new();
        for _ in 0..count {
            let name_len = c.array::<1>("a section name length")?[0];
            let name = c.declared(
                "section name length",
                name_len.into(),
                MAX_SECTION_NAME_LEN as u64,
            )?;
            let name = String::from_utf8_lossy(name).into_owned();
            validate_section_name(&name)?;
            let version = c.u32("a section version")?;
            let len = u64::from_le_bytes(c.array("a section length")?);
            let bytes = c
                .declared(&format!("length of section {name:?}"), len, MAX_FILE_LEN)?
                .to_vec();
            if !seen.insert(name.clone()) {
                return Err(BundleError::DuplicateSection { path: None, name });
            }
            sections.push(Section {
                name,
                version,
                bytes,
            });
        }
        if !c.rest.is_empty() {
            let reason = format!(
                "{} bytes follow the last section, before the checksum",
                c.rest.len()
            );
            return Err(malformed(c.pos, reason));
        }
        Ok(Self { manifest, sections })
    }

    /// Reads and verifies the bundle at `path`; files over [`MAX_FILE_LEN`] are refused before
    /// being read.
    pub fn read(path: &Path) -> Result<Self, BundleError> {
        let file = open(path)?;
        let len = file
            .metadata()
            .map_err(|e| io_error(path, "read", e))?
            .len();
        if len > MAX_FILE_LEN {
            let expected = format!("at most {MAX_FILE_LEN} bytes (4 GiB)");
            return Err(absurd("file size", len, expected).with_path(path));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(path, "read", e))?;
        Self::from_bytes(&bytes).map_err(|e| e.with_path(path))
    }

    /// Encodes the envelope and writes it to `path` with [`write_atomic`].
    pub fn write_atomic(&self, path: &Path) -> Result<(), BundleError> {
        let bytes = self.to_bytes().map_err(|e| e.with_path(path))?;
        write_atomic_inner(path, &bytes).map_err(|e| io_error(path, "write", e))
    }
}

/// Reads only the header and the manifest of the bundle at `path`, checking the magic, the
/// versions, the declared size against the file's size and the manifest's length.
///
/// The checksum is **not** verified; see [`UnverifiedManifest`].
pub fn read_manifest(path: &Path) -> Result<UnverifiedManifest, BundleError> {
    let mut file = open(path)?;
    let len = file
        .metadata()
        .map_err(|e| io_error(path, "read", e))?
        .len();
    read_manifest_inner(&mut file, Some(len)).map_err(|e| e.with_path(path))
}

/// Like [`read_manifest`], from any reader: reads the header and the manifest and nothing more.
pub fn read_manifest_from(mut reader: impl Read) -> Result<UnverifiedManifest, BundleError> {
    read_manifest_inner(&mut reader, None)
}

/// Checks that `name` can name a section: 1 to [`MAX_SECTION_NAME_LEN`] bytes of `[a-z0-9_-]`,
/// starting with a letter.
pub fn validate_section_name(name: &str) -> Result<(), BundleError> {
    let valid = name.len() <= MAX_SECTION_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(BundleError::InvalidSectionName {
            path: None,
            name: name.to_owned(),
        })
    }
}

/// Writes `bytes` to `path` atomically: a uniquely named temporary file in the same folder is
/// written, flushed to disk and renamed over `path`, then the folder is flushed (on unix).
///
/// On failure the temporary file is removed and an existing `path` is left untouched; the error
/// keeps its kind and names `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_inner(path, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

fn write_atomic_inner(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let dir = parent_dir(path);
    let (tmp, file) = create_temp(dir, name)?;
    if let Err(e) = write_and_rename(file, &tmp, path, bytes) {
        fs::remove_file(&tmp).ok();
        return Err(e);
    }
    sync_dir(dir)
}

/// A file written piece by piece that appears at its path only when complete.
///
/// Bytes go to a uniquely named temporary file beside `path`; [`AtomicFile::commit`] flushes
/// it to disk and renames it over `path`. Dropped without a commit (an error, a panic), the
/// temporary file is removed and an existing `path` is left untouched.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
        })?;
        let (tmp, file) = create_temp(parent_dir(path), name)?;
        Ok(Self {
            path: path.to_owned(),
            tmp,
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Flushes the bytes to disk and moves the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(writer) = self.file.take() else {
            return Ok(());
        };
        let result = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|file| {
                file.sync_all()?;
                drop(file);
                fs::rename(&self.tmp, &self.path)
            });
        if let Err(e) = result {
            fs::remove_file(&self.tmp).ok();
            return Err(e);
        }
        sync_dir(parent_dir(&self.path))
    }

    fn writer(&mut self) -> io::Result<&mut io::BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            fs::remove_file(&self.tmp).ok();
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Creates `.NAME.tmp-PID-N` in `dir`, counting `N` up past names left by crashed processes.
fn create_temp(dir: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp = dir.join(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

fn write_and_rename(mut file: File, tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// The fixed-size header, checked.
struct Header {
    format_version: u32,
    min_reader_version: u32,
    declared_len: u64,
}

/// Checks the magic, the versions and the declared length of whatever prefix of a file `bytes` is.
fn parse_header(bytes: &[u8]) -> Result<Header, BundleError> {
    if bytes.is_empty() {
        return Err(BundleError::Empty { path: None });
    }
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        let looks_like = sniff(bytes);
        return Err(BundleError::WrongMagic {
            path: None,
            found: hex(&bytes[..n]),
            looks_like,
        });
    }
    let Some((head, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(truncated(FIXED_LEN, bytes.len() as u64));
    };
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let (format_version, min_reader_version) = (word(8), word(12));
    let declared_len = u64::from(word(16)) | u64::from(word(20)) << 32;
    if format_version < OLDEST_SUPPORTED_VERSION {
        return Err(BundleError::TooOld {
            path: None,
            format_version,
            oldest_supported: OLDEST_SUPPORTED_VERSION,
        });
    }
    if min_reader_version > FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion {
            path: None,
            format_version,
            needs_reader: min_reader_version,
            reads_up_to: FORMAT_VERSION,
        });
    }
    if min_reader_version == 0 || min_reader_version > format_version {
        let reason = format!(
            "oldest reader version {min_reader_version} is not in 1..={format_version} (the envelope version)"
        );
        return Err(malformed(12, reason));
    }
    if declared_len > MAX_FILE_LEN {
        return Err(absurd(
            "bundle size",
            declared_len,
            format!("at most {MAX_FILE_LEN} bytes (4 GiB)"),
        ));
    }
    if declared_len < FIXED_LEN {
        let reason = format!(
            "declared size {declared_len} is below the smallest envelope ({FIXED_LEN} bytes)"
        );
        return Err(malformed(16, reason));
    }
    Ok(Header {
        format_version,
        min_reader_version,
        declared_len,
    })
}

fn read_manifest_inner(
    reader: &mut dyn Read,
    file_len: Option<u64>,
) -> Result<UnverifiedManifest, BundleError> {
    let read_err = |e| BundleError::Io {
        path: None,
        op: "read",
        source: e,
    };
    let mut head = Vec::with_capacity(HEADER_LEN + 4);
    reader
        .take((HEADER_LEN + 4) as u64)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    let header = parse_header(&head)?;
    match file_len {
        Some(len) if len < header.declared_len => return Err(truncated(header.declared_len, len)),
        Some(len) if len > header.declared_len => {
            let reason = format!(
                "the file has {len} bytes but its header declares {}",
                header.declared_len
            );
            return Err(malformed(16, reason));
        }
        _ => {}
    }
    if head.len() < HEADER_LEN + 4 {
        return Err(truncated(header.declared_len, head.len() as u64));
    }
    let manifest_len = u32::from_le_bytes([head[24], head[25], head[26], head[27]]);
    at_most(
        "manifest length",
        manifest_len.into(),
        MAX_MANIFEST_LEN.into(),
    )?;
    let room = header.declared_len - FIXED_LEN;
    if u64::from(manifest_len) > room {
        let expected = format!("at most {room}, what the declared size leaves");
        return Err(absurd("manifest length", manifest_len.into(), expected));
    }
    let mut manifest = Vec::new();
    reader
        .take(manifest_len.into())
        .read_to_end(&mut manifest)
        .map_err(read_err)?;
    if manifest.len() < manifest_len as usize {
        return Err(truncated(
            header.declared_len,
            (head.len() + manifest.len()) as u64,
        ));
    }
    Ok(UnverifiedManifest {
        format_version: header.format_version,
        min_reader_version: header.min_reader_version,
        declared_len: header.declared_len,
        manifest: parse_manifest(&manifest)?,
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<Value, BundleError> {
    let invalid = |reason| BundleError::InvalidManifest { path: None, reason };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(invalid(format!(
            "expected a JSON object, found {}",
            json_kind(&value)
        )))
    }
}

/// Reads a verified body; every declared length is checked before it is used.
struct Cursor<'a> {
    rest: &'a [u8],
    pos: u64,
}

impl<'a> Cursor<'a> {
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], BundleError> {
        let Some((head, rest)) = self.rest.split_first_chunk::<N>() else {
            let reason = format!(
                "expected {what} ({N} bytes) but only {} bytes remain",
                self.rest.len()
            );
            return Err(malformed(self.pos, reason));
        };
        self.rest = rest;
        self.pos += N as u64;
        Ok(*head)
    }

    fn u32(&mut self, what: &str) -> Result<u32, BundleError> {
        self.array(what).map(u32::from_le_bytes)
    }

    /// Takes `len` bytes after checking `len` against `limit` and against the bytes remaining.
    fn declared(&mut self, what: &str, len: u64, limit: u64) -> Result<&'a [u8], BundleError> {
        at_most(what, len, limit)?;
        let Some((head, rest)) = usize::try_from(len)
            .ok()
            .and_then(|n| self.rest.split_at_checked(n))
        else {
            let expected = format!(
                "at most {}, the bytes remaining before the checksum",
                self.rest.len()
            );
            return Err(absurd(what, len, expected));
        };
        self.rest = rest;
        self.pos += len;
        Ok(head)
    }
}

/// Serialises a JSON value with object keys sorted whatever `serde_json`'s map type is, and
/// refuses nesting deeper than [`MAX_MANIFEST_DEPTH`].
struct Canonical<'a>(&'a Value, usize);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let depth = self.1 + 1;
        if depth > MAX_MANIFEST_DEPTH && (self.0.is_array() || self.0.is_object()) {
            return Err(S::Error::custom(format!(
                "nested deeper than {MAX_MANIFEST_DEPTH} levels"
            )));
        }
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by_key(|(k, _)| *k);
                let mut out = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(k, &Canonical(v, depth))?;
                }
                out.end()
            }
            Value::Array(items) => s.collect_seq(items.iter().map(|v| Canonical(v, depth))),
            other => other.serialize(s),
        }
    }
}

/// Recognises common files handed over by mistake, from their first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(64)];
    let text = head
        .iter()
        .all(|&b| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e | 0x80..=0xff));
    let starts = |prefix: &[u8]| bytes.starts_with(prefix);
    Some(
        if head
            .get(..4)
            .is_some_and(|h| h.windows(3).any(|w| w == b"MLS"))
        {
            "an mlship bundle damaged by a text-mode transfer (line endings or 8-bit bytes changed): \
         copy it again in binary mode"
        } else if starts(b"PAR1") {
            "a Parquet file: data, not a model bundle"
        } else if starts(b"ARROW1") {
            "an Arrow IPC file: data, not a model bundle"
        } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
            "a zip archive (an MLflow model or a zipped bundle?): unzip it first"
        } else if starts(b"\x1f\x8b") {
            "a gzip-compressed file: decompress it first"
        } else if starts(&[0x80]) && bytes.get(1).is_some_and(|v| (2..=5).contains(v)) {
            "a Python pickle (a scikit-learn or joblib model?): mlship does not load pickles"
        } else if starts(b"version https://git-lfs") {
            "a Git LFS pointer, not the file itself: run `git lfs pull`"
        } else if text
            && head
                .trim_ascii_start()
                .first()
                .is_some_and(|b| matches!(b, b'{' | b'['))
        {
            "JSON text: a manifest or report, not a bundle"
        } else if text {
            "text (CSV or another text format), not a bundle"
        } else {
            return None;
        },
    )
}

fn open(path: &Path) -> Result<File, BundleError> {
    File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => BundleError::NotFound {
            path: path.to_path_buf(),
        },
        _ => io_error(path, "open", e),
    })
}

fn io_error(path: &Path, op: &'static str, source: io::Error) -> BundleError {
    BundleError::Io {
        path: Some(path.to_path_buf()),
        op,
        source,
    }
}

fn truncated(expected: u64, found: u64) -> BundleError {
    BundleError::Truncated {
        path: None,
        expected,
        found,
    }
}

fn malformed(offset: u64, reason: String) -> BundleError {
    BundleError::Malformed {
        path: None,
        offset,
        reason,
    }
}

fn absurd(what: &str, value: u64, expected: String) -> BundleError {
    BundleError::AbsurdLength {
        path: None,
        what: what.to_owned(),
        value,
        expected,
    }
}

fn at_most(what: &str, value: u64, limit: u64) -> Result<(), BundleError> {
    if value > limit {
        Err(absurd(what, value, format!("at most {limit}")))
    } else {
        Ok(())
    }
}

fn at(path: Option<&Path>) -> String {
    path.map_or_else(|| "bundle".to_owned(), |p| p.display().to_string())
}

fn looks_like_hint(looks_like: Option<&str>) -> String {
    looks_like
        .map(|s| format!("\nhint: this looks like {s}"))
        .unwrap_or_default()
}

fn names(available: &[String]) -> String {
    if available.is_empty() {
        "no sections".to_owned()
    } else {
        format!("sections {}", available.join(", "))
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            write!(s, "{b:02x}").ok();
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const GOLDEN: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/bundle/envelope-v1.mlship"
    );

    #[test]
    fn atomic_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new ").unwrap();
        f.write_all(b"bytes").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new bytes");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn atomic_file_dropped_uncommitted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let missing = dir.path().join("no/such/folder/out.csv");
        assert!(AtomicFile::create(&missing).is_err());
    }

    fn sample() -> Envelope {
        Envelope {
            manifest: json!({"kind": "test", "metrics": {"rmse": 0.5}, "seed": 7}),
            sections: vec![
                Section::new("pipeline", 1, b"pipe".to_vec()),
                Section::new("model", 2, vec![0, 1, 2, 255]),
                Section::new("profile", 1, Vec::new()),
            ],
        }
    }

    /// The envelope of the golden file; its contents are also spelled out in `golden_v1_loads`.
    fn golden() -> Envelope {
        Envelope {
            manifest: json!({
                "kind": "mlship.envelope-golden",
                "about": "golden file of bundle envelope version 1; regenerate with MLSHIP_BLESS=1",
                "lineage": {"seed": 42, "run_id": "golden-v1", "parent_version": null},
                "metrics": {"rmse": 0.125, "r2": -0.0015},
                "schema": [
                    {"name": "x", "kind": "numeric"},
                    {"name": "ville", "kind": "categorical", "levels": ["Zürich", "東京"]}
                ],
                "flags": [true, false]
            }),
            sections: vec![
                Section::new("pipeline", 1, b"opaque pipeline bytes".to_vec()),
                Section::new("model", 3, (0..=255u8).collect::<Vec<_>>()),
                Section::new("profile", 2, Vec::new()),
            ],
        }
    }

    /// Sets the declared length and recomputes the checksum of `data` (an envelope without its
    /// checksum): what the author of a crafted file does.
    fn reseal(mut data: Vec<u8>) -> Vec<u8> {
        let total = (data.len() + CHECKSUM_LEN) as u64;
        data[16..24].copy_from_slice(&total.to_le_bytes());
        let sum = Sha256::digest(&data);
        data.extend_from_slice(&sum);
        data
    }

    /// The bytes of `sample()` without the checksum, and the offset of its first section.
    fn unsealed() -> (Vec<u8>, usize) {
        let mut bytes = sample().to_bytes().unwrap();
        bytes.truncate(bytes.len() - CHECKSUM_LEN);
        let manifest_len = u32::from_le_bytes(bytes[24..28].try_into().unwrap()) as usize;
        (bytes, 28 + manifest_len + 4)
    }

    fn forged(edit: impl FnOnce(&mut Vec<u8>, usize)) -> BundleError {
        let (mut data, first) = unsealed();
        edit(&mut data, first);
        Envelope::from_bytes(&reseal(data)).unwrap_err()
    }

    #[test]
    fn round_trip() {
        let envelope = sample();
        let bytes = envelope.to_bytes().unwrap();
        assert_eq!(&bytes[..8], b"\x89MLS\r\n\x1a\n");
        assert_eq!(Envelope::from_bytes(&bytes).unwrap(), envelope);
        assert_eq!(bytes, envelope.to_bytes().unwrap());
        let empty = Envelope::new(json!({}));
        assert_eq!(empty.to_bytes().unwrap().len() as u64, FIXED_LEN + 2);
        assert_eq!(
            Envelope::from_bytes(&empty.to_bytes().unwrap()).unwrap(),
            empty
        );
    }

    #[test]
    fn manifest_is_canonical_json() {
        let manifest: Value =
            serde_json::from_str(r#"{"b": {"y": 1, "x": [2, {"d": 0, "c": 1}]}, "a": null}"#)
                .unwrap();
        let bytes = Envelope::new(manifest).to_bytes().unwrap();
        let text = br#"{"a":null,"b":{"x":[2,{"c":1,"d":0}],"y":1}}"#;
        assert_eq!(&bytes[24..28], &(text.len() as u32).to_le_bytes());
        assert_eq!(&bytes[28..28 + text.len()], text);
    }

    #[test]
    fn section_lookup() {
        let envelope = sample();
        assert_eq!(envelope.section("model").unwrap().bytes, [0, 1, 2, 255]);
        assert!(envelope.section("calibrator").is_none());
        let err = envelope.section_required("calibrator").unwrap_err();
        assert!(matches!(&err, BundleError::MissingSection { name, .. } if name == "calibrator"));
        let message = err.with_path(Path::new("m.mlship")).to_string();
        assert!(
            message.contains("m.mlship") && message.contains("pipeline, model, profile"),
            "{message}"
        );
    }

    #[test]
    fn truncation_at_every_offset_is_an_error() {
        let bytes = sample().to_bytes().unwrap();
        for cut in 0..bytes.len() {
            match Envelope::from_bytes(&bytes[..cut]) {
                Err(BundleError::Empty { .. }) => assert_eq!(cut, 0),
                Err(BundleError::Truncated {
                    expected, found, ..
                }) => {
                    assert_eq!(found, cut as u64);
                    assert!(expected > found);
                }
                other => panic!("cut at {cut}: {other:?}"),
            }
            // The header and manifest alone are readable; anything shorter is an error.
            let manifest_end = unsealed().1 - 4;
            assert_eq!(
                read_manifest_from(&bytes[..cut]).is_ok(),
                cut >= manifest_end
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let bytes = sample().to_bytes().unwrap();
        for i in 0..bytes.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] ^= mask;
                let err = Envelope::from_bytes(&bad).unwrap_err();
                let ok = match i {
                    0..8 => matches!(err, BundleError::WrongMagic { .. }),
                    8..16 => matches!(
                        err,
                        BundleError::TooOld { .. }
                            | BundleError::UnsupportedVersion { .. }
                            | BundleError::Malformed { offset: 12, .. }
                            | BundleError::ChecksumMismatch { .. }
                    ),
                    16..24 => matches!(
                        err,
                        BundleError::Truncated { .. }
                            | BundleError::Malformed { .. }
                            | BundleError::AbsurdLength { .. }
                    ),
                    _ => matches!(err, BundleError::ChecksumMismatch { .. }),
                };
                assert!(ok, "byte {i} ^ {mask:#x}: {err:?}");
            }
        }
    }

    #[test]
    fn forged_lengths_are_refused_before_allocation() {
        let absurd = |err: BundleError| matches!(err, BundleError::AbsurdLength { .. });
        assert!(absurd(forged(
            |d, _| d[24..28].copy_from_slice(&u32::MAX.to_le_bytes())
        )));
        assert!(absurd(forged(
            |d, _| d[24..28].copy_from_slice(&MAX_MANIFEST_LEN.to_le_bytes())
        )));
        assert!(absurd(forged(
            |d, f| d[f - 4..f].copy_from_slice(&u32::MAX.to_le_bytes())
        )));
        assert!(absurd(forged(
            |d, f| d[f - 4..f].copy_from_slice(&MAX_SECTIONS.to_le_bytes())
        )));
        assert!(absurd(forged(|d, f| d[f] = 200)));
        assert!(absurd(forged(|d, f| {
            // The name length of "profile", the last section: 64 is allowed but overruns the data.
            assert_eq!(d[f + 47], 7);
            d[f + 47] = 64;
        })));
        // "pipeline" is 8 bytes: its payload length follows name length, name and version.
        let at = |f: usize| f + 1 + 8 + 4..f + 1 + 8 + 4 + 8;
        assert!(absurd(forged(
            |d, f| d[at(f)].copy_from_slice(&u64::MAX.to_le_bytes())
        )));
        assert!(absurd(forged(|d, f| {
            let len = d.len() as u64;
            d[at(f)].copy_from_slice(&len.to_le_bytes());
        })));
        let mut bytes = sample().to_bytes().unwrap();
        bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(absurd(Envelope::from_bytes(&bytes).unwrap_err()));
    }

    #[test]
    fn forged_structure_is_refused() {
        // Counting 2 of the 3 sections leaves bytes over; counting 4 runs out of them.
        let err = forged(|d, f| d[f - 4..f].copy_from_slice(&2u32.to_le_bytes()));
        assert!(matches!(err, BundleError::Malformed { .. }), "{err:?}");
        let err = forged(|d, f| d[f - 4..f].copy_from_slice(&4u32.to_le_bytes()));
        assert!(matches!(err, BundleError::Malformed { .. }), "{err:?}");
        let err = forged(|d, f| d[f + 1] = b'P');
        assert!(
            matches!(&err, BundleError::InvalidSectionName { name, .. } if name == "Pipeline"),
            "{err:?}"
        );
        let err = forged(|d, f| d[f + 1] = 0xff);
        assert!(
            matches!(err, BundleError::InvalidSectionName { .. }),
            "{err:?}"
        );
        let err = forged(|d, f| d[f] = 0);
        assert!(matches!(&err, BundleError::InvalidSectionName { name, .. } if name.is_empty()));
        // Insert a second copy of the first section ("pipeline") and count it.
        let (mut data, first) = unsealed();
        let second = first + 1 + 8 + 4 + 8 + 4;
        assert_eq!(&data[second + 1..second + 6], b"model");
        let mut dup = data[..second].to_vec();
        dup.extend_from_slice(&data[first..second]);
        dup.extend_from_slice(&data[second..]);
        let n = first - 4;
        dup[n..n + 4].copy_from_slice(&4u32.to_le_bytes());
        let err = Envelope::from_bytes(&reseal(dup)).unwrap_err();
        assert!(
            matches!(&err, BundleError::DuplicateSection { name, .. } if name == "pipeline"),
            "{err:?}"
        );
        data.extend_from_slice(b"junk");
        let err = Envelope::from_bytes(&reseal(data)).unwrap_err();
        assert!(matches!(err, BundleError::Malformed { .. }), "{err:?}");
        let mut bytes = sample().to_bytes().unwrap();
        bytes.push(0);
        let err = Envelope::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, BundleError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn invalid_manifests_are_refused() {
        for text in [&b"[1, 2]"[..], b"{\"a\": ", b"{\"a\": \"\xff\"}", b"nul"] {
            let mut data = sample().to_bytes().unwrap()[..24].to_vec();
            data.extend_from_slice(&(text.len() as u32).to_le_bytes());
            data.extend_from_slice(text);
            data.extend_from_slice(&0u32.to_le_bytes());
            let err = Envelope::from_bytes(&reseal(data)).unwrap_err();
            assert!(
                matches!(err, BundleError::InvalidManifest { .. }),
                "{err:?}"
            );
        }
        let err = Envelope::new(json!([1])).to_bytes().unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a JSON object, found an array"),
            "{err}"
        );
        let nest = |depth: usize| (1..depth).fold(json!([]), |inner, _| json!([inner]));
        let ok = Envelope::new(json!({ "deep": nest(MAX_MANIFEST_DEPTH - 1) }));
        assert_eq!(Envelope::from_bytes(&ok.to_bytes().unwrap()).unwrap(), ok);
        let err = Envelope::new(json!({ "deep": nest(MAX_MANIFEST_DEPTH) }))
            .to_bytes()
            .unwrap_err();
        assert!(
            matches!(err, BundleError::InvalidManifest { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn versions_are_checked() {
        let with_versions = |format: u32, reader: u32| {
            let (mut data, _) = unsealed();
            data[8..12].copy_from_slice(&format.to_le_bytes());
            data[12..16].copy_from_slice(&reader.to_le_bytes());
            Envelope::from_bytes(&reseal(data))
        };
        assert_eq!(with_versions(2, 1).unwrap(), sample());
        let err = with_versions(3, 2).unwrap_err();
        assert!(matches!(
            err,
            BundleError::UnsupportedVersion {
                needs_reader: 2,
                reads_up_to: 1,
                ..
            }
        ));
        assert!(err.to_string().contains("hint: upgrade mlship"), "{err}");
        let err = with_versions(0, 0).unwrap_err();
        assert!(
            matches!(
                err,
                BundleError::TooOld {
                    format_version: 0,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(matches!(
            with_versions(1, 0).unwrap_err(),
            BundleError::Malformed { offset: 12, .. }
        ));
        // A newer reader requirement wins over a mangled rest: the file may use a new layout.
        let mut bytes = sample().to_bytes().unwrap();
        bytes[12..16].copy_from_slice(&9u32.to_le_bytes());
        bytes.truncate(40);
        assert!(matches!(
            Envelope::from_bytes(&bytes).unwrap_err(),
            BundleError::UnsupportedVersion { .. }
        ));
    }

    #[test]
    fn wrong_magic_says_what_the_file_looks_like() {
        let cases: [(&[u8], Option<&str>); 9] = [
            (b"PAR1\x15\x04\x15\x80", Some("Parquet")),
            (b"PK\x03\x04\x14\x00\x00\x00", Some("zip")),
            (b"\x1f\x8b\x08\x00", Some("gzip")),
            (b"\x80\x04\x95\x00", Some("pickle")),
            (
                b"version https://git-lfs.github.com/spec/v1\n",
                Some("Git LFS"),
            ),
            (b"  {\"kind\": 1}", Some("JSON")),
            (b"x,y\n1,2\n", Some("text")),
            (b"\x89MLS\n\x1a\n\x01\x00", Some("text-mode transfer")),
            (b"\x00\x01\x02\x03\x04\x05\x06\x07", None),
        ];
        for (bytes, looks) in cases {
            let err = Envelope::from_bytes(bytes).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, BundleError::WrongMagic { .. }), "{err:?}");
            assert!(
                message.starts_with("bundle: this is not an mlship bundle"),
                "{message}"
            );
            match looks {
                Some(word) => assert!(message.contains(word), "{message}"),
                None => assert!(!message.contains("hint"), "{message}"),
            }
        }
        assert!(matches!(
            Envelope::from_bytes(b"").unwrap_err(),
            BundleError::Empty { .. }
        ));
        assert!(matches!(
            Envelope::from_bytes(b"\x89MLS").unwrap_err(),
            BundleError::Truncated { .. }
        ));
    }

    #[test]
    fn write_side_limits() {
        let mut envelope = sample();
        envelope.sections.push(Section::new("model", 1, Vec::new()));
        assert!(matches!(
            envelope.to_bytes().unwrap_err(),
            BundleError::DuplicateSection { .. }
        ));
        for name in ["", "Model", "9lives", "a b", "é", &"x".repeat(65)] {
            let err = Envelope {
                sections: vec![Section::new(name, 1, Vec::new())],
                ..sample()
            }
            .to_bytes();
            assert!(
                matches!(err, Err(BundleError::InvalidSectionName { .. })),
                "{name:?}"
            );
        }
        let longest = Envelope {
            sections: vec![Section::new("a".repeat(64), 1, vec![1])],
            ..sample()
        };
        assert_eq!(
            Envelope::from_bytes(&longest.to_bytes().unwrap()).unwrap(),
            longest
        );
        let many = (0..=MAX_SECTIONS)
            .map(|i| Section::new(format!("s{i}"), 0, Vec::new()))
            .collect();
        let err = Envelope {
            sections: many,
            ..sample()
        }
        .to_bytes()
        .unwrap_err();
        assert!(
            matches!(err, BundleError::AbsurdLength { value: 1025, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn read_manifest_reads_only_the_head() {
        let mut bytes = sample().to_bytes().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let preview = read_manifest_from(bytes.as_slice()).unwrap();
        assert_eq!(preview.manifest, sample().manifest);
        assert_eq!((preview.format_version, preview.min_reader_version), (1, 1));
        assert_eq!(preview.declared_len, bytes.len() as u64);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.mlship");
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let err = read_manifest(&path).unwrap_err();
        assert!(matches!(err, BundleError::Truncated { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );
        let mut forged = bytes.clone();
        forged[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = read_manifest_from(forged.as_slice()).unwrap_err();
        assert!(matches!(err, BundleError::AbsurdLength { .. }), "{err:?}");
        forged[24..28].copy_from_slice(&1000u32.to_le_bytes());
        let err = read_manifest_from(forged.as_slice()).unwrap_err();
        assert!(matches!(err, BundleError::AbsurdLength { .. }), "{err:?}");
    }

    #[test]
    fn read_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.mlship");
        let err = Envelope::read(&missing).unwrap_err();
        assert!(matches!(&err, BundleError::NotFound { path } if *path == missing));
        assert!(matches!(
            read_manifest(&missing).unwrap_err(),
            BundleError::NotFound { .. }
        ));

        let empty = dir.path().join("empty.mlship");
        fs::write(&empty, b"").unwrap();
        let err = Envelope::read(&empty).unwrap_err();
        assert!(matches!(err, BundleError::Empty { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: empty file", empty.display())),
            "{err}"
        );

        let huge = dir.path().join("huge.mlship");
        File::create(&huge)
            .unwrap()
            .set_len(MAX_FILE_LEN + 1)
            .unwrap();
        let err = Envelope::read(&huge).unwrap_err();
        assert!(
            matches!(&err, BundleError::AbsurdLength { what, .. } if what == "file size"),
            "{err:?}"
        );

        let mut bytes = sample().to_bytes().unwrap();
        bytes[40] ^= 1;
        let bad = dir.path().join("bad.mlship");
        fs::write(&bad, &bytes).unwrap();
        let err = Envelope::read(&bad).unwrap_err();
        assert!(
            matches!(err, BundleError::ChecksumMismatch { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("bad.mlship: checksum mismatch"),
            "{err}"
        );
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_write_replaces_the_target_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.mlship");
        fs::write(&path, b"old").unwrap();
        sample().write_atomic(&path).unwrap();
        assert_eq!(Envelope::read(&path).unwrap(), sample());
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(entries(dir.path()), ["model.mlship"]);
    }

    #[test]
    fn failed_atomic_write_names_the_path_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir").join("model.mlship");
        let err = write_atomic(&missing, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        let err = sample().write_atomic(&missing).unwrap_err();
        assert!(
            matches!(err, BundleError::Io { op: "write", .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("cannot write {}", missing.display())),
            "{err}"
        );

        // Renaming a file over a non-empty directory fails after the temporary file is written.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"kept").unwrap();
        assert!(write_atomic(&target, b"x").is_err());
        assert_eq!(fs::read(target.join("keep")).unwrap(), b"kept");
        assert_eq!(entries(dir.path()), ["occupied"]);
    }

    #[cfg(unix)]
    #[test]
    fn write_into_read_only_dir() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ro = dir.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let path = ro.join("model.mlship");
        let result = sample().write_atomic(&path);
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
        if let Err(err) = result {
            assert!(matches!(err, BundleError::Io { .. }), "{err:?}");
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
            assert!(entries(&ro).is_empty());
        } else {
            // Permission bits do not bind root (CI runs as root): then the write must be whole.
            assert_eq!(Envelope::read(&path).unwrap(), sample());
            assert_eq!(entries(&ro), ["model.mlship"]);
        }
    }

    #[test]
    fn golden_v1_loads() {
        let envelope = Envelope::read(Path::new(GOLDEN)).unwrap();
        let m = &envelope.manifest;
        assert_eq!(m["kind"], "mlship.envelope-golden");
        assert_eq!(m["lineage"]["seed"], 42);
        assert_eq!(m["metrics"]["r2"], -0.0015);
        assert_eq!(m["schema"][1]["levels"], json!(["Zürich", "東京"]));
        let names: Vec<_> = envelope
            .sections
            .iter()
            .map(|s| (s.name.as_str(), s.version))
            .collect();
        assert_eq!(names, [("pipeline", 1), ("model", 3), ("profile", 2)]);
        assert_eq!(
            envelope.section("pipeline").unwrap().bytes,
            b"opaque pipeline bytes"
        );
        assert!(
            envelope
                .section("model")
                .unwrap()
                .bytes
                .iter()
                .copied()
                .eq(0..=255u8)
        );
        assert!(envelope.section("profile").unwrap().bytes.is_empty());
        assert_eq!(envelope, golden());
        let preview = read_manifest(Path::new(GOLDEN)).unwrap();
        assert_eq!(
            (preview.format_version, preview.manifest),
            (1, golden().manifest)
        );
    }

    /// `MLSHIP_BLESS=1 cargo test -p mlship-core bundle::tests::golden` rewrites the golden file.
    #[test]
    fn golden_v1_matches_the_writer() {
        let bytes = golden().to_bytes().unwrap();
        if std::env::var("MLSHIP_BLESS").is_ok_and(|v| v == "1") {
            fs::create_dir_all(Path::new(GOLDEN).parent().unwrap()).unwrap();
            write_atomic(Path::new(GOLDEN), &bytes).unwrap();
        }
        assert!(
            fs::read(GOLDEN).unwrap() == bytes,
            "the writer no longer produces {GOLDEN}"
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // Any finite float survives a round trip exactly (serde_json's `float_roundtrip`).
            any::<f64>()
                .prop_filter("JSON has no NaN or infinity", |x| x.is_finite())
                .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip_random(
            manifest in prop::collection::btree_map("[a-z_]{1,10}", json_value(), 0..8),
            sections in prop::collection::vec(
                ("[a-z][a-z0-9_-]{0,63}", any::<u32>(), prop::collection::vec(any::<u8>(), 0..300)),
                0..8,
            ),
        ) {
            let mut seen = BTreeSet::new();
            let sections: Vec<_> = sections
                .into_iter()
                .filter(|(name, _, _)| seen.insert(name.clone()))
                .map(|(name, version, bytes)| Section::new(name, version, bytes))
                .collect();
            let envelope = Envelope { manifest: Value::Object(manifest.into_iter().collect()), sections };
            let bytes = envelope.to_bytes().unwrap();
            prop_assert_eq!(&Envelope::from_bytes(&bytes).unwrap(), &envelope);
            prop_assert_eq!(read_manifest_from(bytes.as_slice()).unwrap().manifest, envelope.manifest);
        }
    }
}
