//! The server's settings; [`ServeConfig::default`] is the one source of defaults.

use std::path::PathBuf;
use std::time::Duration;

/// How the server runs and what it allows.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Largest request body accepted, in bytes (chunked bodies included).
    pub max_body_bytes: usize,
    /// Most rows accepted in one request.
    pub max_rows: usize,
    /// Deepest nesting of JSON arrays and objects accepted.
    pub max_json_depth: usize,
    /// Longest time a request may take, from its headers to its response.
    pub request_timeout: Duration,
    /// Longest time a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Most requests handled at once; further ones are answered 503 with `Retry-After`.
    pub max_concurrent: usize,
    /// Requests with more rows than this predict on the blocking pool instead of inline.
    pub inline_rows: usize,
    /// When set, every route but health requires `Authorization: Bearer <token>`.
    pub auth_token: Option<String>,
    /// How often the model sources are asked whether a new version should be served.
    pub reload_interval: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Where and how predictions are logged; `None` logs nothing.
    pub log: Option<LogConfig>,
    /// The server's version, reported by `/v2` and `/version`.
    pub server_version: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            max_rows: 100_000,
            max_json_depth: 64,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_concurrent: 256,
            inline_rows: 64,
            auth_token: None,
            reload_interval: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(30),
            log: None,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The prediction log's settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The folder under which `predictions/` is written (`$MLSHIP_HOME`).
    pub root: PathBuf,
    /// This server's id in file names (`<YYYYMMDDHH>-<server>.jsonl`).
    pub server_id: String,
    /// Most bytes kept under `predictions/`; the oldest files are removed beyond it.
    pub max_bytes: u64,
    /// Files older than this are removed.
    pub max_age: Duration,
    /// Requests waiting to be written; beyond it, records are dropped and counted.
    pub queue: usize,
}

impl LogConfig {
    /// Defaults for a log under `root`: 1 GiB, 30 days, 4,096 queued requests.
    pub fn new(root: impl Into<PathBuf>, server_id: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            server_id: server_id.into(),
            max_bytes: 1 << 30,
            max_age: Duration::from_hours(30 * 24),
            queue: 4096,
        }
    }
}
