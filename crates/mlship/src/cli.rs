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
                  mlship run examples/experiments/breast_cancer.toml\n  \
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
    /// Train a model behind a preprocessing pipeline and save it as a bundle.
    #[command(
        after_help = "The bundle holds the pipeline, the model, the input schema, a reference profile of the training \
                      data and its lineage (data fingerprint, parameters, seed, training metrics, time taken).\n\
                      Estimators: linear_regression, ridge, lasso, elastic_net, logistic; their parameters are in \
                      docs/estimators.md. Without --pipeline, a pipeline is fitted on the data first (--spec, or the \
                      defaults).\n\n\
                      Examples:\n  \
                      mlship train --data examples/data/breast_cancer.csv --target target \\\n      \
                      --spec examples/pipelines/breast_cancer.toml --estimator logistic --set C=0.5 --out bc.mlship\n  \
                      mlship train --data train.csv --pipeline p.mlship --estimator ridge --set alpha=10 --out m.mlship"
    )]
    Train {
        /// The training data.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// The target column.
        #[arg(long, value_name = "COLUMN")]
        target: Option<String>,
        /// A fitted pipeline (from `mlship preprocess fit`) to train behind.
        #[arg(long, value_name = "FILE", conflicts_with = "spec")]
        pipeline: Option<PathBuf>,
        /// A pipeline spec (TOML) to fit on the data first.
        #[arg(long, value_name = "FILE")]
        spec: Option<PathBuf>,
        /// The estimator.
        #[arg(long, value_name = "KIND", default_value = "logistic")]
        estimator: String,
        /// A parameter, as KEY=VALUE (repeat for more): `--set C=0.5 --set penalty=l1`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Seed of every random choice.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Where to write the model bundle (`*.mlship`); replaced atomically.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        registry: crate::registry::RegistryOpts,
    },
    /// The main job: search candidate models with cross-validation, pick the best, test it on
    /// held-out rows, and write the bundle and a report.
    #[command(
        after_help = "The experiment file (TOML) names the data, the target, the pipeline, the candidate model \
                      families with their search spaces, the metric, the cross-validation and the seed; \
                      docs/experiments.md lists every key and its default. The run writes <name>.mlship, \
                      report.html and report.json to --out (default runs/<experiment>-<UTC time>/), records the \
                      run in the registry (see `mlship runs list`) and, with --register, registers the bundle.\n\
                      Same experiment, data and seed give the same bundle payload and metrics.\n\n\
                      Examples:\n  \
                      mlship run examples/experiments/breast_cancer.toml\n  \
                      mlship run examples/experiments/penguins.toml --out /tmp/penguins --register penguins"
    )]
    Run {
        /// The experiment file (TOML).
        #[arg(value_name = "EXPERIMENT")]
        experiment: PathBuf,
        /// The folder for the bundle and the reports (created if missing).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Register the bundle as the next version of this model.
        #[arg(long, value_name = "NAME")]
        register: Option<String>,
        #[command(flatten)]
        registry: crate::registry::RegistryOpts,
    },
    /// Score a model on labelled data: metrics as a table or JSON, and a report.
    #[command(
        after_help = "The data needs the model's input columns and its target column. Classifiers get accuracy, \
                      F1, ROC AUC, log loss and the rest, a confusion matrix and (binary) ROC, precision-recall \
                      and calibration curves; regressions get R², RMSE, MAE and the rest, and residual plots.\n\n\
                      Examples:\n  \
                      mlship evaluate --model bc.mlship --data examples/data/breast_cancer.csv\n  \
                      mlship evaluate --model penguins@production --data new.csv --report eval.html --json"
    )]
    Evaluate {
        /// The model: a bundle file, or `NAME@ALIAS`, `NAME/VERSION`, `NAME@latest` in the registry.
        #[arg(long, value_name = "URI")]
        model: String,
        #[command(flatten)]
        registry: crate::registry::RegistryOpts,
        /// Labelled data (`.csv`, `.parquet`, `.arrow`).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Write the report here as HTML (and as JSON beside it, with the extension .json).
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Continue a model on new labelled data and compare it with the current one.
    #[command(
        after_help = "The pipeline is kept as fitted. Linear and logistic models continue from their coefficients \
                      (warm-started solver), gradient boosting adds rounds, other kinds are refitted with the same \
                      parameters on the new rows. Both models are scored on a held-out share of the new rows. \
                      A registry champion gets the challenger as its next version (parent recorded in the lineage); \
                      with --promote-if-better the alias moves only when the challenger wins by more than MARGIN \
                      (in the metric's better direction). A file champion gets <stem>.updated.mlship beside it.\n\n\
                      Examples:\n  \
                      mlship update --model churn@production --data march.csv --promote-if-better 0.005\n  \
                      mlship update --model bc.mlship --data new.csv --out bc2.mlship --json"
    )]
    Update {
        /// The champion: a bundle file, or `NAME@ALIAS`, `NAME/VERSION`, `NAME@latest`.
        #[arg(long, value_name = "URI")]
        model: String,
        #[command(flatten)]
        registry: crate::registry::RegistryOpts,
        /// The new labelled data.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Where to write the challenger bundle.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Share of the new rows held out to compare the models.
        #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
        holdout: f64,
        /// Move the alias to the challenger only when it wins by more than this.
        #[arg(long, value_name = "MARGIN", allow_negative_numbers = true)]
        promote_if_better: Option<f64>,
        /// The comparison metric (default: the run's metric, else the task's default).
        #[arg(long, value_name = "NAME")]
        metric: Option<String>,
        /// Seed of the held-out split and the fit.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Predict for every row of a data file with a model bundle.
    #[command(
        after_help = "The data needs the model's input columns (others, such as the target, are ignored). \
                      Classifiers write the class label; --proba adds one probability column per class, \
                      named proba_<class>.\n\n\
                      CSV and Parquet files are read, scored and written 65,536 rows at a time, so files \
                      larger than memory work; an error names its row counted from the start of the file, \
                      and no partial output is left behind.\n\n\
                      Examples:\n  \
                      mlship predict --model bc.mlship --data examples/data/breast_cancer.csv --out preds.csv --proba\n  \
                      mlship predict --model breast_cancer@production --data new.csv --out preds.parquet"
    )]
    Predict {
        /// The model: a bundle file, or `NAME@ALIAS`, `NAME/VERSION`, `NAME@latest` in the registry.
        #[arg(long, value_name = "URI")]
        model: String,
        #[command(flatten)]
        registry: crate::registry::RegistryOpts,
        /// The data to predict for.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Where to write the predictions (`.csv`, `.parquet`, `.arrow`); replaced atomically.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Add class probabilities.
        #[arg(long)]
        proba: bool,
    },
    /// Serve models over HTTP: Open Inference Protocol (V2) and MLflow's /invocations.
    #[command(
        after_help = "Routes: /v2/models/NAME/infer (V2 JSON or binary tensors), /invocations (MLflow JSON: \
                      dataframe_split, dataframe_records, instances, inputs; or text/csv) for the first --model, \
                      /v2/health/ready, /ping, /metrics (Prometheus). docs/serving.md has curl examples, \
                      docs/openapi.json the whole API.\n\n\
                      A registry URI (NAME@ALIAS, NAME@latest) is checked every --reload-interval: when the alias \
                      moves, the new version is loaded, verified and swapped in without failing a request; a failed \
                      load keeps the old version serving. A bundle file is reloaded when its checksum changes.\n\n\
                      Every prediction is logged to $MLSHIP_HOME/predictions/ (default ./.mlship) for \
                      monitoring, unless --no-log. SIGTERM or Ctrl-C stops accepting, finishes the requests \
                      in flight and flushes the log.\n\n\
                      Examples:\n  \
                      mlship serve --model bc.mlship\n  \
                      mlship serve --model breast_cancer@production --port 9000\n  \
                      mlship serve --model churn=churn@production --model fraud=fraud@latest\n  \
                      mlship serve --model bc.mlship --host 0.0.0.0 --auth-token-file token.txt"
    )]
    Serve(crate::serve::ServeArgs),
    /// Fit a preprocessing pipeline on data, or apply a fitted one to new data.
    #[command(subcommand)]
    Preprocess(PreprocessCommand),
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
    /// Split a data file into train, validation and test files.
    #[command(
        after_help = "Sizes follow scikit-learn's train_test_split: a share f of n rows takes ceil(f·n) rows. \
                      The same seed gives the same split on every machine.\n\n\
                      Examples:\n  \
                      mlship data split examples/data/penguins.csv --out-dir splits --method stratified --by species\n  \
                      mlship data split events.parquet --out-dir splits --method time --by timestamp --validation 0.1"
    )]
    Split {
        /// The data file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Folder for `train.<ext>`, `validation.<ext>` and `test.<ext>` (created if missing).
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// How rows are assigned.
        #[arg(long, value_enum, default_value_t = SplitMethodArg::Random)]
        method: SplitMethodArg,
        /// The class, group or time column the method needs.
        #[arg(long, value_name = "COLUMN")]
        by: Option<String>,
        /// Share of rows for the test set.
        #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
        test: f64,
        /// Share of rows for the validation set.
        #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
        validation: f64,
        /// Seed of the shuffle.
        #[arg(long, default_value_t = 0)]
        seed: u64,
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

/// `mlship preprocess …`
#[derive(Debug, Subcommand)]
pub enum PreprocessCommand {
    /// Learn cleaning, imputation, feature engineering, scaling and encoding from training data
    /// and save the fitted pipeline as a bundle.
    #[command(
        after_help = "The spec is a TOML file; every section and option, with its default, is in docs/pipeline.md. \
                      Without --spec the defaults apply: median / most-frequent imputation, standard scaling, \
                      one-hot encoding.\n\n\
                      Examples:\n  \
                      mlship preprocess fit --data examples/data/penguins.csv --target species \\\n      \
                      --spec examples/pipelines/penguins.toml --out penguins.pipeline.mlship\n  \
                      mlship preprocess fit --data train.parquet --target y --out p.mlship --json"
    )]
    Fit {
        /// The training data (`.csv`, `.tsv`, `.parquet`, `.arrow`).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// The target column (overrides the spec's `target`); rows where it is missing are dropped.
        #[arg(long, value_name = "COLUMN")]
        target: Option<String>,
        /// The pipeline spec (TOML).
        #[arg(long, value_name = "FILE")]
        spec: Option<PathBuf>,
        /// Where to write the fitted pipeline (`*.mlship`); replaced atomically.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Transform data with a fitted pipeline (from a pipeline or model bundle) and write the
    /// features, plus the encoded target when the data has it.
    #[command(
        after_help = "Input is checked against the pipeline's schema first: a missing column, a wrong type or an \
                      unseen category (under handle_unknown = \"error\") stops with the column and row at fault.\n\n\
                      Examples:\n  \
                      mlship preprocess apply --pipeline penguins.pipeline.mlship \\\n      \
                      --data examples/data/penguins.csv --out features.parquet"
    )]
    Apply {
        /// The fitted pipeline or model bundle.
        #[arg(long, value_name = "FILE")]
        pipeline: PathBuf,
        /// The data to transform.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Where to write the features (`.csv`, `.parquet`, `.arrow`); replaced atomically.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// How `mlship data split` assigns rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitMethodArg {
    /// A seeded shuffle.
    Random,
    /// Keep each class's share in every set (`--by` names the class column).
    Stratified,
    /// Keep groups whole (`--by` names the group column).
    Group,
    /// Earliest rows train, latest test (`--by` names the time column).
    Time,
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
#[allow(clippy::too_many_lines)] // one arm per command
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
        Command::Train {
            data,
            target,
            pipeline,
            spec,
            estimator,
            sets,
            seed,
            out: output,
            registry,
        } => {
            let request = crate::model::TrainRequest {
                data: &data,
                target: target.as_deref(),
                pipeline: pipeline.as_deref(),
                spec: spec.as_deref(),
                estimator: &estimator,
                sets: &sets,
                seed,
                out: &output,
                progress: !style.json && style.verbosity >= 0 && crate::model::stderr_is_terminal(),
                registry: &registry,
            };
            let summary = crate::model::train(&request)?;
            crate::render::train(&mut out, &summary, style)
        }
        Command::Run {
            experiment,
            out: output,
            register,
            registry,
        } => {
            let request = crate::run::RunRequest {
                experiment: &experiment,
                out: output.as_deref(),
                register: register.as_deref(),
                registry: &registry,
                progress: style.verbosity >= 0 && crate::model::stderr_is_terminal(),
            };
            let summary = crate::run::run(&request)?;
            crate::render::run(&mut out, &summary, style)
        }
        Command::Update {
            model,
            registry,
            data,
            out: output,
            holdout,
            promote_if_better,
            metric,
            seed,
        } => {
            let request = crate::update::UpdateRequest {
                model: &model,
                data: &data,
                out: output.as_deref(),
                holdout,
                promote_if_better,
                metric: metric.as_deref(),
                seed,
                registry: &registry,
            };
            let summary = crate::update::update(&request)?;
            crate::render::update(&mut out, &summary, style)
        }
        Command::Evaluate {
            model,
            registry,
            data,
            report,
        } => {
            let summary = crate::run::evaluate(&model, &registry, &data, report.as_deref())?;
            crate::render::evaluate(&mut out, &summary, style)
        }
        Command::Predict {
            model,
            registry,
            data,
            out: output,
            proba,
        } => {
            let summary = crate::model::predict(&model, &registry, &data, &output, proba)?;
            crate::render::predict(&mut out, &summary, style)
        }
        Command::Preprocess(PreprocessCommand::Fit {
            data,
            target,
            spec,
            out: output,
        }) => {
            let summary =
                crate::preprocess::fit(&data, spec.as_deref(), target.as_deref(), &output)?;
            crate::render::pipeline_fit(&mut out, &summary, style)
        }
        Command::Preprocess(PreprocessCommand::Apply {
            pipeline,
            data,
            out: output,
        }) => {
            let summary = crate::preprocess::apply(&pipeline, &data, &output)?;
            crate::render::pipeline_apply(&mut out, &summary, style)
        }
        Command::Data(DataCommand::Split {
            file,
            out_dir,
            method,
            by,
            test,
            validation,
            seed,
            read,
        }) => {
            let options = read.options()?;
            explain_read(&file, &options, style);
            let request = crate::preprocess::SplitRequest {
                data: &file,
                out_dir: &out_dir,
                method: match method {
                    SplitMethodArg::Random => mlship_preprocess::split::SplitMethod::Random,
                    SplitMethodArg::Stratified => mlship_preprocess::split::SplitMethod::Stratified,
                    SplitMethodArg::Group => mlship_preprocess::split::SplitMethod::Group,
                    SplitMethodArg::Time => mlship_preprocess::split::SplitMethod::Time,
                },
                by: by.as_deref(),
                options: mlship_preprocess::split::SplitOptions {
                    test,
                    validation,
                    seed,
                },
                read: options,
            };
            let summary = crate::preprocess::split_file(&request)?;
            crate::render::split(&mut out, &summary, style)
        }
        Command::Serve(args) => crate::serve::serve(&args),
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
