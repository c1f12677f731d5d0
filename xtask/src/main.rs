//! `cargo xtask`: the workspace's own automation. See [`USAGE`].

mod bench;
mod ci;
mod csv;
mod datagen;
mod rng;
mod tidy;
mod toml_scan;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

/// What `cargo xtask help` prints.
pub const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  tidy        check the workspace's architecture rules (cargo metadata + member manifests):
              lifecycle crates depend only on mlship-core; mlship-core on no workspace crate;
              only mlship-e2e and xtask depend on the facade; polars only in mlship-preprocess
              and mlship (directly and through the dependency graph); every member has
              `[lints] workspace = true` and takes its dependencies from [workspace.dependencies]
  ci          what CI runs, cheapest first, stopping at the first failure:
              cargo fmt --check, cargo clippy (-D warnings), tidy, cargo test (profile ci)
                --skip-fmt        skip the format check
                --skip-clippy     skip clippy
  datagen     write the deterministic benchmark datasets (bench/README.md (a)-(e)) as CSV,
              then Parquet through `mlship data convert`, plus manifest.json
                --out DIR         output folder (default $MLSHIP_BENCH_DATA or bench-data/
                                  under the workspace root)
                --scale F         multiply every row count (e.g. 0.01 for a small copy)
                --only NAME,...   binary, regression, multiclass, throughput, drift
                                  (or the file names: binary_200k, throughput_1m, ...)
                --no-parquet      write CSV only
                --seed N          base seed (default 20240601)
  bench       time mlship against its Python peers and write docs/benchmarks.md, one section
              per task (release build; median of N runs after one warm-up; load average recorded;
              targets reported as PASS or MISS). Tasks:
                  profile    `mlship data profile` vs polars / pandas read_csv + describe
                  preprocess `mlship preprocess fit` (read + fit + transform: mean imputation,
                             standard scaling, one-hot) vs pandas read_csv + scikit-learn
                             ColumnTransformer.fit_transform
                  row_path   the pipeline's row path, one record of 20 columns (criterion: cargo
                             bench --workspace --bench row_path)
                  linear     `mlship train` logistic (200,000 × 30 binary), ridge and lasso
                             (200,000 × 20 regression) vs scikit-learn, single-threaded
                  gbdt       `mlship train --estimator gbdt` (200,000 × 33 binary, 100 rounds,
                             31 leaves) vs LightGBM and scikit-learn
                             HistGradientBoostingClassifier, 2 threads
                  forest     `mlship train --estimator random_forest` (100 trees, first 50,000
                             rows) vs scikit-learn RandomForestClassifier(n_jobs=2)
                  predict    `mlship predict` of 1,000,000 rows through the 100-round boosted
                             model vs LightGBM predict_proba, 2 threads
                  registry   register 1,000 versions, resolve NAME@ALIAS 100,000 times, list and
                             search 10,000 versions (SQLite; the mlship-registry example
                             registry_bench, release)
                --only TASK,...   tasks to run (default: all)
                --repeats N       timed runs per tool (default 5)
                --data DIR        data folder (default: as datagen); a missing datagen file
                                  is generated first; train / test cuts go to
                                  <target-dir>/bench
                --peers PYTHON    the Python with the peers (default <target-dir>/peers-venv
                                  when it exists; without peers only mlship is timed)
                --install-peers   create <target-dir>/peers-venv and pip install
                                  xtask/peers/requirements.txt into it
                --no-write        print the tables only, leave docs/benchmarks.md alone
                --mlship PATH     time this mlship binary instead of building the release one
  help        print this message
";

/// Command-line options in `--flag VALUE` or `--flag=VALUE` form.
#[derive(Debug)]
pub struct Flags<'a> {
    args: std::slice::Iter<'a, String>,
    flag: String,
    inline: Option<String>,
}

impl<'a> Flags<'a> {
    /// Options from the arguments after the subcommand.
    pub fn new(args: &'a [String]) -> Self {
        Self {
            args: args.iter(),
            flag: String::new(),
            inline: None,
        }
    }

    /// The next flag (without its inline value), or `None` at the end.
    pub fn next_flag(&mut self) -> Option<String> {
        let arg = self.args.next()?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        self.flag.clone_from(&flag);
        self.inline = inline;
        Some(flag)
    }

    /// The current flag's value: its inline value or the next argument.
    pub fn value(&mut self, what: &str) -> Result<String> {
        match self.inline.take() {
            Some(v) => Ok(v),
            None => self
                .args
                .next()
                .cloned()
                .with_context(|| format!("`{}` needs {what}", self.flag)),
        }
    }

    /// Whether the current flag came with `=VALUE` (a switch must not).
    pub fn has_inline_value(&self) -> bool {
        self.inline.is_some()
    }
}

/// The workspace root (the parent of this package's folder).
///
/// `cargo run` (and so `cargo xtask`) sets `CARGO_MANIFEST_DIR` for the process; it is read at
/// run time first, so that a binary shared through one target folder by two checkouts still
/// works on the checkout that ran it.
pub fn project_root() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf)
}

/// The cargo that runs us (`$CARGO`), or `cargo` from `PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

fn run(args: &[String]) -> Result<()> {
    let root = project_root();
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        bail!("no command given");
    };
    match command.as_str() {
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        "tidy" => {
            if let Some(extra) = rest.first() {
                bail!("unknown option `{extra}` for `tidy`\n\n{USAGE}");
            }
            tidy::run(&root)
        }
        "ci" => ci::run(&root, ci::Options::parse(rest)?),
        "datagen" => datagen::run(&root, &datagen::Options::parse(rest)?),
        "bench" => bench::run(&root, &bench::Options::parse(rest)?, rest),
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn main() -> ExitCode {
    let args: Result<Vec<String>> = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow::anyhow!("argument `{}` is not valid UTF-8", a.display()))
        })
        .collect();
    match args.and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut causes = err.chain();
            if let Some(top) = causes.next() {
                eprintln!("error: {top}");
            }
            for cause in causes {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
