//! Snapshots of the `--help` pages: they are the first documentation people read.
//! (`cargo insta review` after an intended change.)

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mlship"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("the mlship binary runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn data_profile_help() {
    insta::assert_snapshot!(help(&["data", "profile", "--help"]));
}

#[test]
fn inspect_help() {
    insta::assert_snapshot!(help(&["inspect", "--help"]));
}

#[test]
fn preprocess_fit_help() {
    insta::assert_snapshot!(help(&["preprocess", "fit", "--help"]));
}

#[test]
fn data_split_help() {
    insta::assert_snapshot!(help(&["data", "split", "--help"]));
}

#[test]
fn run_help() {
    insta::assert_snapshot!(help(&["run", "--help"]));
}

#[test]
fn serve_help() {
    insta::assert_snapshot!(help(&["serve", "--help"]));
}
