//! `cargo xtask ci`: what CI runs, cheapest check first, stopping at the first failure and
//! printing a per-stage timing table at the end.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::tidy;

/// Options of `cargo xtask ci`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Skip `cargo fmt --check`.
    pub skip_fmt: bool,
    /// Skip `cargo clippy`.
    pub skip_clippy: bool,
}

impl Options {
    /// Parses the arguments after `ci`.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut options = Options::default();
        for arg in args {
            match arg.as_str() {
                "--skip-fmt" => options.skip_fmt = true,
                "--skip-clippy" => options.skip_clippy = true,
                other => bail!("unknown option `{other}` for `ci`\n\n{}", crate::USAGE),
            }
        }
        Ok(options)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug)]
struct StageTime {
    name: &'static str,
    outcome: Outcome,
    seconds: f64,
}

/// Test totals summed over every `test result:` line of `cargo test`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestCounts {
    /// Tests passed.
    pub passed: u64,
    /// Tests failed.
    pub failed: u64,
    /// Tests ignored.
    pub ignored: u64,
    /// Test binaries (and doc-test runs) that reported.
    pub suites: u64,
}

impl TestCounts {
    /// Adds the counts of one libtest summary line, if `line` is one.
    pub fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        let count = |word: &str| -> u64 {
            rest.split(';')
                .filter_map(|part| {
                    let mut it = part.split_whitespace().rev();
                    let label = it.next()?;
                    let number = it.next()?;
                    (label == word)
                        .then(|| number.parse::<u64>().ok())
                        .flatten()
                })
                .sum()
        };
        self.passed += count("passed");
        self.failed += count("failed");
        self.ignored += count("ignored");
        self.suites += 1;
    }

    /// The closing line: `tests: N passed, N failed` (`, N skipped` when tests were ignored).
    pub fn summary(&self) -> String {
        let mut line = format!("tests: {} passed, {} failed", self.passed, self.failed);
        if self.ignored > 0 {
            let _ = write!(line, ", {} skipped", self.ignored);
        }
        line
    }
}

fn run_cargo(root: &Path, args: &[&str]) -> Result<()> {
    let shown = format!("cargo {}", args.join(" "));
    println!("==> {shown}");
    let status = Command::new(crate::cargo())
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

fn run_tests(root: &Path, counts: &mut TestCounts) -> Result<()> {
    let args = ["test", "--workspace", "--locked", "--profile", "ci"];
    let shown = format!("cargo {}", args.join(" "));
    println!("==> {shown}");
    let mut child = Command::new(crate::cargo())
        .args(args)
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let stdout = child
        .stdout
        .take()
        .context("the test process has no standard output")?;
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    let out = std::io::stdout();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading the output of `{shown}`"))?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        counts.add_line(&text);
        let mut lock = out.lock();
        // A closed stdout must not hide the test result: ignore write errors here.
        let _ = lock.write_all(&line);
        let _ = lock.flush();
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

fn stage(
    times: &mut Vec<StageTime>,
    name: &'static str,
    skip: bool,
    body: impl FnOnce() -> Result<()>,
) -> Result<()> {
    if skip {
        println!("==> {name}: skipped");
        times.push(StageTime {
            name,
            outcome: Outcome::Skipped,
            seconds: 0.0,
        });
        return Ok(());
    }
    let start = Instant::now();
    let result = body();
    times.push(StageTime {
        name,
        outcome: if result.is_ok() {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        seconds: start.elapsed().as_secs_f64(),
    });
    result.with_context(|| format!("ci stage `{name}` failed"))
}

fn timing_table(times: &[StageTime]) -> String {
    let mut out = String::from("\nci stage timings\n  stage    result   seconds\n");
    let mut total = 0.0;
    for t in times {
        let result = match t.outcome {
            Outcome::Passed => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Skipped => "skipped",
        };
        total += t.seconds;
        let _ = writeln!(out, "  {:<8} {:<8} {:>7.1}", t.name, result, t.seconds);
    }
    let _ = writeln!(out, "  {:<8} {:<8} {:>7.1}", "total", "", total);
    out
}

/// `cargo xtask ci`: fmt → clippy → tidy → test. Writes the closing test line to the file
/// named by `MLSHIP_CI_SUMMARY` as well, when that variable is set (`.ci/run` prints it last).
pub fn run(root: &Path, options: Options) -> Result<()> {
    let mut times = Vec::new();
    let mut counts = TestCounts::default();
    let outcome = (|| -> Result<()> {
        stage(&mut times, "fmt", options.skip_fmt, || {
            run_cargo(root, &["fmt", "--all", "--check"])
        })?;
        stage(&mut times, "clippy", options.skip_clippy, || {
            run_cargo(
                root,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--locked",
                    "--profile",
                    "ci",
                    "--",
                    "-D",
                    "warnings",
                ],
            )
        })?;
        stage(&mut times, "tidy", false, || {
            println!("==> cargo xtask tidy");
            tidy::run(root)
        })?;
        stage(&mut times, "test", false, || run_tests(root, &mut counts))
    })();
    print!("{}", timing_table(&times));
    if counts.suites > 0 {
        let summary = counts.summary();
        if let Some(path) = std::env::var_os("MLSHIP_CI_SUMMARY") {
            std::fs::write(&path, format!("{summary}\n")).with_context(|| {
                format!("writing the test summary to {}", Path::new(&path).display())
            })?;
        }
        println!("{summary}");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        assert_eq!(Options::parse(&[]).ok(), Some(Options::default()));
        assert_eq!(
            Options::parse(&args(&["--skip-clippy", "--skip-fmt"])).ok(),
            Some(Options {
                skip_fmt: true,
                skip_clippy: true
            })
        );
        let err = Options::parse(&args(&["--fast"])).expect_err("unknown flag");
        assert!(
            err.to_string()
                .starts_with("unknown option `--fast` for `ci`")
        );
    }

    #[test]
    fn test_counts_sum_libtest_lines() {
        let mut counts = TestCounts::default();
        for line in [
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: FAILED. 10 passed; 2 failed; 1 ignored; 0 measured; 4 filtered out; finished in 1.20s",
            "   Doc-tests mlship_core",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ] {
            counts.add_line(line);
        }
        assert_eq!(
            counts,
            TestCounts {
                passed: 13,
                failed: 2,
                ignored: 1,
                suites: 3
            }
        );
        assert_eq!(counts.summary(), "tests: 13 passed, 2 failed, 1 skipped");
    }

    #[test]
    fn timing_table_lists_every_stage() {
        let table = timing_table(&[
            StageTime {
                name: "fmt",
                outcome: Outcome::Skipped,
                seconds: 0.0,
            },
            StageTime {
                name: "clippy",
                outcome: Outcome::Passed,
                seconds: 12.34,
            },
            StageTime {
                name: "test",
                outcome: Outcome::Failed,
                seconds: 1.0,
            },
        ]);
        assert_eq!(
            table,
            "\nci stage timings\n  stage    result   seconds\n  fmt      skipped      0.0\n  \
             clippy   ok          12.3\n  test     FAILED       1.0\n  total                13.3\n"
        );
    }
}
