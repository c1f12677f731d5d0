//! The `mlship` command line.
//!
//! Exit status: 0 success, 1 the work failed (bad data, unreadable bundle, …), 2 bad usage.
//! Errors go to stderr, name what is at fault, and end with a hint where one helps.
//! Every command prints a readable report by default and JSON with `--json`.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};

/// Take tabular machine-learning models from the lab to production and keep them healthy there.
#[derive(Debug, Parser)]
#[command(
    name = "mlship",
    version,
    about,
    long_about = "Take tabular machine-learning models from the lab to production and keep them healthy there.\n\n\
                  mlship reads CSV, Parquet and Arrow files, profiles them, and works with model bundles \
                  (*.mlship): one file holding the fitted preprocessing pipeline, the model, its input \
                  schema, a reference profile of the training data and its lineage.",
    after_help = "Examples:\n  \
                  mlship data profile examples/data/penguins.csv\n  \
                  mlship data profile train.parquet --json > profile.json\n  \
                  mlship inspect model.mlship\n  \
                  mlship completions bash > ~/.local/share/bash-completion/completions/mlship\n\n\
                  Exit status: 0 success, 1 the work failed, 2 bad usage."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of a report.
    #[arg(long, global = true)]
    pub json: bool,
    /// Say more: how files are read (on stderr), the whole manifest of a bundle.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to color the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// When to use color.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a model bundle holds: its manifest and sections, after verifying its checksum.
    #[command(
        after_help = "Examples:\n  mlship inspect model.mlship\n  mlship inspect model.mlship --json | jq .manifest.metrics"
    )]
    Inspect {
        /// The bundle file (`*.mlship`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Work with data files: profile them, convert between formats.
    #[command(subcommand)]
    Data(DataCommand),
    /// Register a model bundle as the next version of a named model in the registry.
    #[command(
        after_help = "Examples:\n  mlship register model.mlship --name churn\n  \
                      mlship register model.mlship --name churn --tag team=risk --description \"March data\""
    )]
    Register(crate::registry::RegisterArgs),
    /// The model registry: versions, aliases, promotion, rollback, audit history.
    Registry(crate::registry::RegistryArgs),
    /// Runs recorded by `mlship run` and `mlship train`.
    Runs(crate::registry::RunsArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  mlship completions bash > ~/.local/share/bash-completion/completions/mlship\n  \
                            mlship completions zsh > ~/.zfunc/_mlship\n  \
                            mlship completions fish > ~/.config/fish/completions/mlship.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Options for reading a data file.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Text meaning "missing" in CSV files, besides an empty field (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_name = "TOKEN", default_values_t = ["NA".to_owned(), "N/A".to_owned(), "NULL".to_owned(), "null".to_owned()])]
    pub null_values: Vec<String>,
    /// CSV field separator (default `,`, or a tab for `.tsv` files).
    #[arg(long, value_name = "CHAR")]
    pub separator: Option<char>,
}

/// `mlship data …`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Profile every column of a CSV, Parquet or Arrow file: type, count, missing share,
    /// distinct values, and min / max / mean / std / quantiles or the top categories.
    #[command(
        after_help = "Numbers: quantiles come from a sketch accurate to 0.4% of the value; NaN and infinite \
                            values are counted apart and left out of min, max, mean, std and quantiles.\n\n\
                            Examples:\n  mlship data profile examples/data/penguins.csv\n  \
                            mlship data profile big.parquet --json > profile.json"
    )]
    Profile {
        /// The data file (`.csv`, `.tsv`, `.parquet`, `.arrow`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Convert a data file to another format, chosen by the output's extension.
    #[command(after_help = "Examples:\n  mlship data convert train.csv train.parquet")]
    Convert {
        /// The file to read.
        #[arg(value_name = "INPUT")]
        input: PathBuf,
        /// The file to write (`.csv`, `.parquet`, `.arrow`); replaced atomically if it exists.
        #[arg(value_name = "OUTPUT")]
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
}

impl ReadArgs {
    fn options(&self) -> Result<mlship_preprocess::ReadOptions> {
        let separator = match self.separator {
            None => None,
            Some(c) if c.is_ascii() => Some(c as u8),
            Some(c) => {
                return Err(Error::Usage(format!(
                    "invalid --separator {c:?}: expected a single ASCII character such as ',' or ';'"
                )));
            }
        };
        Ok(mlship_preprocess::ReadOptions {
            separator,
            null_values: self.null_values.clone(),
            ..mlship_preprocess::ReadOptions::default()
        })
    }
}

/// How a command's output should look.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// JSON instead of a report.
    pub json: bool,
    /// Color on stdout.
    pub color: bool,
    /// Verbosity: -1 quiet, 0 normal, 1+ verbose.
    pub verbosity: i8,
}

/// Runs the command line `args` (the first item is the program name) and returns its exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with status 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let color_err = use_color(cli.global.color, std::io::stderr().is_terminal());
    let style = Style {
        json: cli.global.json,
        color: use_color(cli.global.color, std::io::stdout().is_terminal()),
        verbosity: if cli.global.quiet {
            -1
        } else {
            cli.global.verbose.min(3) as i8
        },
    };
    match run(cli.command, style) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`mlship … | head`) is not a failure.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let code = if matches!(e, Error::Usage(_)) { 2 } else { 1 };
            report_error(&e, color_err);
            ExitCode::from(code)
        }
    }
}

fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn report_error(e: &Error, color: bool) {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    // Name underlying causes that the message does not already include.
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str("\n  caused by: ");
            text.push_str(&more);
        }
        source = s.source();
    }
    let prefix = if color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{prefix}: {text}");
}

/// With `-v`, says on stderr how a data file will be read.
fn explain_read(path: &std::path::Path, options: &mlship_preprocess::ReadOptions, style: Style) {
    if style.verbosity < 1 {
        return;
    }
    let format = mlship_preprocess::FileFormat::from_path(path).map_or("unknown", |f| f.name());
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "reading {} as {format}", path.display());
    if format == "CSV" {
        let separator = options
            .separator
            .map_or_else(|| "by extension".to_owned(), |b| format!("{:?}", b as char));
        let _ = writeln!(
            err,
            "  separator {separator}; missing: empty fields and {:?}; types inferred from the first {} rows",
            options.null_values, options.infer_schema_rows
        );
    }
}

/// Runs one parsed command.
pub fn run(command: Command, style: Style) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Inspect { file } => {
            let report = crate::inspect::inspect(&file)?;
            crate::render::inspect(&mut out, &report, style)
        }
        Command::Data(DataCommand::Profile { file, read }) => {
            let options = read.options()?;
            explain_read(&file, &options, style);
            let report = crate::data::profile_file(&file, &options)?;
            crate::render::profile(&mut out, &report, style)
        }
        Command::Data(DataCommand::Convert {
            input,
            output,
            read,
        }) => {
            let options = read.options()?;
            explain_read(&input, &options, style);
            let summary = crate::data::convert_file(&input, &output, &options)?;
            crate::render::convert(&mut out, &summary, style)
        }
        Command::Register(args) => crate::registry::register(&mut out, &args, style),
        Command::Registry(args) => crate::registry::registry(&mut out, args, style),
        Command::Runs(args) => crate::registry::runs(&mut out, args, style),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mlship", &mut out);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
