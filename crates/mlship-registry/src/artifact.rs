//! Artifact stores: bundle bytes addressed by their SHA-256, written once, verified on every read.
//!
//! [`FsArtifacts`] keeps them as files (`artifacts/sha256/ab/cdef…`) beside an SQLite registry;
//! [`DbArtifacts`] keeps them in the registry's own database in 1 MiB chunks, so that every host
//! that reaches a PostgreSQL registry reads the same artifacts. An object store can implement
//! [`ArtifactStore`] too: a store that keeps nothing in the database ignores its `db` argument.

use std::fmt::Debug;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{RegistryError, Result};
use crate::store::{SqlValue, Store};

/// The size of one chunk in [`DbArtifacts`].
pub const CHUNK_LEN: usize = 1 << 20;

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    mlship_core::fingerprint::to_hex(&Sha256::digest(bytes))
}

/// Checks that `hash` is 64 lower-case hex digits: the only way artifacts are addressed.
pub fn validate_hash(hash: &str) -> Result<()> {
    if hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(RegistryError::Invalid(format!(
            "invalid artifact address {hash:?}: expected 64 lower-case hex digits (a SHA-256)"
        )))
    }
}

/// Where bundle bytes are kept.
///
/// `put` is called inside the registry's write transaction, so a store that writes into the
/// database is atomic with the version that refers to it; a store outside the database must make
/// each write whole (write-once, atomic rename) — an interrupted one leaves at most an
/// unreferenced artifact that [`crate::Registry::gc`] removes.
pub trait ArtifactStore: Send + Debug {
    /// Where the artifacts are, for messages.
    fn location(&self) -> String;
    /// Stores `bytes` under `hash` (their SHA-256); keeps an intact existing copy.
    fn put(&self, db: &mut dyn Store, hash: &str, bytes: &[u8]) -> Result<()>;
    /// The bytes stored under `hash`, verified against it.
    fn get(&self, db: &mut dyn Store, hash: &str) -> Result<Vec<u8>>;
    /// Removes the artifact; returns its size, or `None` when it was absent.
    fn remove(&self, db: &mut dyn Store, hash: &str) -> Result<Option<u64>>;
    /// Every stored artifact's hash.
    fn list(&self, db: &mut dyn Store) -> Result<Vec<String>>;
    /// Removes what interrupted writes left behind; returns how many leftovers were removed.
    fn clean_leftovers(&self, db: &mut dyn Store) -> Result<usize> {
        let _ = db;
        Ok(0)
    }
}

fn verify(hash: &str, bytes: &[u8], location: impl FnOnce() -> String) -> Result<()> {
    let computed = sha256_hex(bytes);
    if computed == hash {
        Ok(())
    } else {
        Err(RegistryError::Tampered {
            hash: hash.to_owned(),
            computed,
            location: location(),
        })
    }
}

/// Artifacts as files under a folder: `ROOT/sha256/ab/cdef…` (the first two hex digits name a
/// sub-folder, the other 62 the file).
#[derive(Debug, Clone)]
pub struct FsArtifacts {
    root: PathBuf,
}

impl FsArtifacts {
    /// Artifacts under `root` (created when the first one is written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file that holds `hash`.
    pub fn path_of(&self, hash: &str) -> Result<PathBuf> {
        validate_hash(hash)?;
        Ok(self.root.join("sha256").join(&hash[..2]).join(&hash[2..]))
    }

    fn read(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(hash)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io("read", path, e)),
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

impl ArtifactStore for FsArtifacts {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, _db: &mut dyn Store, hash: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(hash)?;
        if let Some(existing) = self.read(hash)?
            && sha256_hex(&existing) == hash
        {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(&self.root);
        if !dir.is_dir() {
            fs::create_dir_all(dir).map_err(|e| RegistryError::io("create", dir, e))?;
            // Make the new folders themselves durable.
            for d in [dir.parent(), dir.parent().and_then(Path::parent)]
                .into_iter()
                .flatten()
            {
                sync_dir(d).map_err(|e| RegistryError::io("sync", d, e))?;
            }
        }
        mlship_core::bundle::write_atomic(&path, bytes)
            .map_err(|e| RegistryError::io("write", &path, e))
    }

    fn get(&self, _db: &mut dyn Store, hash: &str) -> Result<Vec<u8>> {
        let path = self.path_of(hash)?;
        let bytes = self
            .read(hash)?
            .ok_or_else(|| RegistryError::ArtifactMissing {
                hash: hash.to_owned(),
                location: path.display().to_string(),
            })?;
        verify(hash, &bytes, || path.display().to_string())?;
        Ok(bytes)
    }

    fn remove(&self, _db: &mut dyn Store, hash: &str) -> Result<Option<u64>> {
        let path = self.path_of(hash)?;
        let size = match fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RegistryError::io("read", path, e)),
        };
        fs::remove_file(&path).map_err(|e| RegistryError::io("remove", &path, e))?;
        Ok(Some(size))
    }

    fn list(&self, _db: &mut dyn Store) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (prefix, path) in self.entries()? {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if let Some(name) = name {
                let hash = format!("{prefix}{name}");
                if validate_hash(&hash).is_ok() {
                    out.push(hash);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn clean_leftovers(&self, _db: &mut dyn Store) -> Result<usize> {
        let mut n = 0;
        for (_, path) in self.entries()? {
            let temp = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if temp {
                fs::remove_file(&path).map_err(|e| RegistryError::io("remove", &path, e))?;
                n += 1;
            }
        }
        Ok(n)
    }
}

impl FsArtifacts {
    /// Every file under `sha256/`, with the name of its two-digit folder.
    fn entries(&self) -> Result<Vec<(String, PathBuf)>> {
        let top = self.root.join("sha256");
        let read = |dir: &Path| -> Result<Vec<fs::DirEntry>> {
            match fs::read_dir(dir) {
                Ok(it) => it
                    .collect::<io::Result<Vec<_>>>()
                    .map_err(|e| RegistryError::io("list", dir, e)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(RegistryError::io("list", dir, e)),
            }
        };
        let mut out = Vec::new();
        for sub in read(&top)? {
            let prefix = sub.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !sub.path().is_dir() {
                continue;
            }
            for file in read(&sub.path())? {
                out.push((prefix.clone(), file.path()));
            }
        }
        Ok(out)
    }
}

/// Artifacts inside the registry's database, in [`CHUNK_LEN`] chunks.
#[derive(Debug, Clone, Default)]
pub struct DbArtifacts;

impl ArtifactStore for DbArtifacts {
    fn location(&self) -> String {
        "the registry database".into()
    }

    fn put(&self, db: &mut dyn Store, hash: &str, bytes: &[u8]) -> Result<()> {
        validate_hash(hash)?;
        let present = !db
            .query("SELECT size FROM artifacts WHERE hash = ?", &[hash.into()])?
            .is_empty();
        if present {
            // Keep an intact copy; replace a damaged one.
            match self.get(db, hash) {
                Ok(_) => return Ok(()),
                Err(RegistryError::Tampered { .. } | RegistryError::ArtifactMissing { .. }) => {
                    self.remove(db, hash)?;
                }
                Err(e) => return Err(e),
            }
        }
        let mut chunks = 0i64;
        for (seq, chunk) in bytes.chunks(CHUNK_LEN).enumerate() {
            db.execute(
                "INSERT INTO artifact_chunks (hash, seq, bytes) VALUES (?, ?, ?)",
                &[
                    hash.into(),
                    SqlValue::Int(seq as i64),
                    chunk.to_vec().into(),
                ],
            )?;
            chunks += 1;
        }
        db.execute(
            "INSERT INTO artifacts (hash, size, chunks) VALUES (?, ?, ?)",
            &[
                hash.into(),
                SqlValue::Int(bytes.len() as i64),
                SqlValue::Int(chunks),
            ],
        )?;
        Ok(())
    }

    fn get(&self, db: &mut dyn Store, hash: &str) -> Result<Vec<u8>> {
        validate_hash(hash)?;
        let where_ = format!("table artifact_chunks of {}", db.location());
        let location = || where_.clone();
        let Some(head) = db
            .query(
                "SELECT size, chunks FROM artifacts WHERE hash = ?",
                &[hash.into()],
            )?
            .into_iter()
            .next()
        else {
            return Err(RegistryError::ArtifactMissing {
                hash: hash.to_owned(),
                location: location(),
            });
        };
        let (size, chunks) = (head.uint(0)?, head.uint(1)?);
        let rows = db.query(
            "SELECT seq, bytes FROM artifact_chunks WHERE hash = ? ORDER BY seq",
            &[hash.into()],
        )?;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        for (i, row) in rows.iter().enumerate() {
            if row.uint(0)? != i as u64 {
                break;
            }
            bytes.extend_from_slice(&row.blob(1)?);
        }
        if rows.len() as u64 != chunks || bytes.len() as u64 != size {
            let loc = location();
            verify(hash, &bytes, || loc)?;
        }
        verify(hash, &bytes, location)?;
        Ok(bytes)
    }

    fn remove(&self, db: &mut dyn Store, hash: &str) -> Result<Option<u64>> {
        validate_hash(hash)?;
        let size = db
            .query("SELECT size FROM artifacts WHERE hash = ?", &[hash.into()])?
            .first()
            .map(|r| r.uint(0))
            .transpose()?;
        db.execute("DELETE FROM artifact_chunks WHERE hash = ?", &[hash.into()])?;
        db.execute("DELETE FROM artifacts WHERE hash = ?", &[hash.into()])?;
        Ok(size)
    }

    fn list(&self, db: &mut dyn Store) -> Result<Vec<String>> {
        db.query("SELECT hash FROM artifacts ORDER BY hash", &[])?
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    fn clean_leftovers(&self, db: &mut dyn Store) -> Result<usize> {
        let n = db.execute(
            "DELETE FROM artifact_chunks WHERE hash NOT IN (SELECT hash FROM artifacts)",
            &[],
        )?;
        Ok(n as usize)
    }
}
