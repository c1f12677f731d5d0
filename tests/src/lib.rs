//! Helpers for the end-to-end tests in `e2e/`, which drive the real `mlship` binary.
//!
//! The binary is the one cargo built beside the test executable (`target/<profile>/mlship`),
//! or the one named by `MLSHIP_BIN`. `cargo test --workspace` builds it, because the facade
//! package has integration tests of its own.

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
}

/// A file under the workspace root.
pub fn root_file(relative: &str) -> PathBuf {
    workspace_root().join(relative)
}

/// The `mlship` binary under test.
pub fn mlship_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MLSHIP_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/e2e-<hash> → target/<profile>/mlship
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let bin = dir.join(format!("mlship{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} does not exist: build it first (cargo build -p mlship with the same profile) or set MLSHIP_BIN",
        bin.display()
    );
    bin
}

/// A command running the `mlship` binary, with colors off and the embedded registry (where
/// `mlship train` and `mlship run` record their runs) in a folder of this test process, under
/// the system's temporary folder.
pub fn mlship() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(mlship_bin());
    let home = std::env::temp_dir().join(format!("mlship-e2e-home-{}", std::process::id()));
    c.env("NO_COLOR", "1")
        .env("MLSHIP_HOME", home)
        .env_remove("MLSHIP_REGISTRY");
    c
}

/// An HTTP/1.1 answer read by [`http`].
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a new connection to `addr` (`host:port`), with `headers` and
/// `body`; the answer must carry a Content-Length (the server's do).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpReply> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(k);
        req.push_str(": ");
        req.push_str(v);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers in the answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(HttpReply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}
