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
