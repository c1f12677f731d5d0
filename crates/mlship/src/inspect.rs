//! Looking inside a model bundle.

use std::path::{Path, PathBuf};

use mlship_core::bundle::Envelope;
use mlship_core::manifest::Manifest;
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;

/// What `mlship inspect` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    /// The bundle file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Whether the SHA-256 checksum over the whole file matched (it always has, when a report
    /// exists: a mismatch is an error).
    pub checksum_verified: bool,
    /// The manifest, as stored.
    pub manifest: Value,
    /// The manifest read as mlship's typed manifest, when it is one.
    #[serde(skip)]
    pub typed: Option<Manifest>,
    /// The sections, in file order.
    pub sections: Vec<SectionInfo>,
}

/// One section of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionInfo {
    /// Its name.
    pub name: String,
    /// Its encoding version.
    pub version: u32,
    /// Its payload size in bytes.
    pub bytes: usize,
}

/// Reads and verifies a bundle, and describes it.
pub fn inspect(path: &Path) -> Result<InspectReport> {
    let envelope = Envelope::read(path)?;
    Ok(InspectReport {
        path: path.to_owned(),
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        checksum_verified: true,
        typed: Manifest::from_json(&envelope.manifest).ok(),
        sections: envelope
            .sections
            .iter()
            .map(|s| SectionInfo {
                name: s.name.clone(),
                version: s.version,
                bytes: s.bytes.len(),
            })
            .collect(),
        manifest: envelope.manifest,
    })
}
