//! The benchmark tasks, as data: the files each reads, the mlship command timed and which part
//! of it, the peer script and function it is set against, and the targets the issues name.
//!
//! Arguments may hold placeholders, filled in when a task runs: `{data}` (the datagen folder),
//! `{work}` (the scratch folder under the target dir, which also holds the derived files),
//! `{specs}` (`xtask/bench`, the pipeline specs), `{peers}` (`xtask/peers`), `{repeats}`
//! and `{threads}`.

use crate::datagen::Dataset;

/// A benchmark task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Task {
    /// `mlship data profile` against polars / pandas `read_csv` + `describe`.
    Profile,
    /// `mlship preprocess fit` against pandas `read_csv` + a scikit-learn `ColumnTransformer`.
    Preprocess,
    /// The pipeline's row path (criterion).
    RowPath,
    /// Logistic regression, ridge and lasso against scikit-learn.
    Linear,
    /// Histogram gradient boosting against LightGBM and scikit-learn.
    Gbdt,
    /// Random forest against scikit-learn.
    Forest,
    /// Batch prediction through the boosted model against LightGBM.
    Predict,
    /// The registry's own figures (no peer).
    Registry,
}

impl Task {
    /// Every task, in run order.
    pub const ALL: [Task; 8] = [
        Task::Profile,
        Task::Preprocess,
        Task::RowPath,
        Task::Linear,
        Task::Gbdt,
        Task::Forest,
        Task::Predict,
        Task::Registry,
    ];

    /// The name used by `--only` and in the markers of `docs/benchmarks.md`.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The task called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The task's definition.
    pub fn def(self) -> &'static TaskDef {
        match self {
            Task::Profile => &PROFILE,
            Task::Preprocess => &PREPROCESS,
            Task::RowPath => &ROW_PATH,
            Task::Linear => &LINEAR,
            Task::Gbdt => &GBDT,
            Task::Forest => &FOREST,
            Task::Predict => &PREDICT,
            Task::Registry => &REGISTRY,
        }
    }
}

/// One task: what it reads and what it measures.
#[derive(Debug)]
pub struct TaskDef {
    /// The name used by `--only`.
    pub name: &'static str,
    /// One line for `cargo xtask help`.
    pub summary: &'static str,
    /// The heading of its section of `docs/benchmarks.md`.
    pub title: &'static str,
    /// What is timed and how, for the section's first paragraph.
    pub about: &'static str,
    /// The data files it reads.
    pub inputs: &'static [Input],
    /// What it measures.
    pub work: Work,
}

/// A data file a task reads: one of datagen's, or rows cut from one.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    /// The file name (in the data folder for datagen's files, in the scratch folder otherwise).
    pub name: &'static str,
    /// Where it comes from.
    pub source: Source,
}

/// Where an input file comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// Written by `cargo xtask datagen` (generated when missing).
    Datagen(Dataset),
    /// Rows of another input (which must come earlier in the list), written to the scratch folder.
    Cut {
        /// The input the rows come from.
        from: &'static str,
        /// Which rows.
        rows: Rows,
    },
}

/// Which rows of a file a cut keeps (the header is always kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// The training rows of datagen's fixed split: the first `floor(0.8 n)`.
    Train,
    /// The test rows: the rest.
    Test,
    /// The first `n` rows.
    First(usize),
    /// Every row, `k` times over.
    Repeat(usize),
}

/// What a task measures.
#[derive(Debug)]
pub enum Work {
    /// mlship commands timed side by side with peers.
    Compare(&'static [Case]),
    /// A criterion benchmark of the workspace, run through `cargo bench`.
    Criterion {
        /// The bench target.
        bench: &'static str,
        /// The benchmarks read from its output: criterion's name, the label shown, the number of
        /// records one iteration handles (the figure is per record), and the target.
        figures: &'static [(&'static str, &'static str, f64, Limit)],
    },
    /// An example program of the workspace, built in release and run once; every line of its
    /// output with a `median` is a figure.
    Example {
        /// The package.
        package: &'static str,
        /// The example.
        example: &'static str,
        /// Its arguments.
        args: &'static [&'static str],
        /// Targets by the start of the figure's line.
        limits: &'static [(&'static str, Limit)],
    },
}

/// An absolute target: a measured value (in seconds or bytes) below a limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// The largest acceptable value, in the figure's base unit (seconds).
    pub max: f64,
    /// Whether `max` itself passes.
    pub inclusive: bool,
    /// The target as the issue states it.
    pub text: &'static str,
}

impl Limit {
    /// Whether `value` meets the target.
    pub fn met(&self, value: f64) -> bool {
        if self.inclusive {
            value <= self.max
        } else {
            value < self.max
        }
    }
}

/// One mlship command, timed side by side with its peers.
#[derive(Debug)]
pub struct Case {
    /// The case's name in the tables (`logistic`, `ridge`, …).
    pub name: &'static str,
    /// mlship commands run once, untimed, before the warm-up (e.g. training the model that
    /// `predict` uses).
    pub setup: &'static [&'static [&'static str]],
    /// The mlship command timed (its arguments).
    pub args: &'static [&'static str],
    /// Which part of it is timed.
    pub timed: Timed,
    /// Other numbers of its JSON output shown in the notes (JSON pointers).
    pub also: &'static [&'static str],
    /// Thread count of every pool, both sides (`None`: library defaults).
    pub threads: Option<usize>,
    /// How mlship's quality is measured after the timed runs.
    pub quality: Option<Quality>,
    /// The peer script that times the same work.
    pub peer: Option<PeerCall>,
    /// Speed targets: mlship's time ÷ a peer's.
    pub targets: &'static [Target],
    /// Quality targets against a peer.
    pub quality_targets: &'static [QualityTarget],
    /// A limit on mlship's peak resident memory.
    pub memory: Option<MemoryTarget>,
}

/// The part of an mlship run that is timed.
#[derive(Debug, Clone, Copy)]
pub enum Timed {
    /// The whole process, start-up and output included.
    Process,
    /// The sum of these numbers of its JSON output (JSON pointers such as `/fit_seconds`).
    Fields(&'static [&'static str]),
}

/// How mlship's quality is measured: `mlship predict` with `model` on `test`, scored against
/// its `target` column.
#[derive(Debug, Clone, Copy)]
pub struct Quality {
    /// The model bundle the timed command wrote.
    pub model: &'static str,
    /// The test file.
    pub test: &'static str,
    /// Classification (ROC AUC, log-loss from `proba_1`) or regression (R²).
    pub binary: bool,
}

/// A peer script and its arguments (`{peers}/models.py gbdt --data {data} …`).
#[derive(Debug, Clone, Copy)]
pub struct PeerCall {
    /// The script and its arguments; `--repeats N` is appended.
    pub args: &'static [&'static str],
}

/// Which peer a target compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRef {
    /// The peer whose `tool` is this.
    Tool(&'static str),
    /// The fastest of the peers that ran.
    Fastest,
}

/// A speed target: mlship time ÷ peer time must stay below `limit` (or at it, when `inclusive`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The peer.
    pub peer: PeerRef,
    /// The largest acceptable ratio mlship ÷ peer.
    pub limit: f64,
    /// Whether the limit itself passes (`≤`) or not (`<`).
    pub inclusive: bool,
    /// The target in words.
    pub text: &'static str,
}

impl Target {
    /// Whether `ratio` (mlship ÷ peer) meets the target.
    pub fn met(&self, ratio: f64) -> bool {
        if self.inclusive {
            ratio <= self.limit
        } else {
            ratio < self.limit
        }
    }

    /// `≤ 1.2` or `< 1`.
    pub fn short(&self) -> String {
        format!("{} {}", if self.inclusive { "≤" } else { "<" }, self.limit)
    }
}

/// A quality target: mlship's `metric` within `tolerance` of a peer's, or better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityTarget {
    /// The metric (`roc_auc`, `log_loss`, `r2`).
    pub metric: &'static str,
    /// The peer (`Fastest` is not used here: every peer named is checked).
    pub peer: &'static str,
    /// The largest acceptable distance.
    pub tolerance: f64,
    /// Whether larger values are better (a better value always passes).
    pub higher_is_better: bool,
}

impl QualityTarget {
    /// Whether mlship's value `ours` meets the target against the peer's `theirs`.
    pub fn met(&self, ours: f64, theirs: f64) -> bool {
        let better = if self.higher_is_better {
            ours >= theirs
        } else {
            ours <= theirs
        };
        better || (ours - theirs).abs() <= self.tolerance
    }
}

/// Peak resident memory (VmHWM) of the mlship process at most `factor` × the numeric output
/// (rows × features × 8 bytes, read from its JSON).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryTarget {
    /// The largest acceptable multiple of the output size.
    pub factor: f64,
    /// JSON pointer to the number of output rows.
    pub rows: &'static str,
    /// JSON pointer to the list of output features.
    pub features: &'static str,
}

const fn cut(name: &'static str, from: &'static str, rows: Rows) -> Input {
    Input {
        name,
        source: Source::Cut { from, rows },
    }
}

const fn datagen(name: &'static str, dataset: Dataset) -> Input {
    Input {
        name,
        source: Source::Datagen(dataset),
    }
}

const THROUGHPUT: Input = datagen("throughput_1m.csv", Dataset::Throughput);
const BINARY: Input = datagen("binary_200k.csv", Dataset::Binary);
const BINARY_TRAIN: Input = cut("binary_train.csv", "binary_200k.csv", Rows::Train);
const BINARY_TEST: Input = cut("binary_test.csv", "binary_200k.csv", Rows::Test);
const REGRESSION: Input = datagen("regression_200k.csv", Dataset::Regression);

/// `profile`.
pub static PROFILE: TaskDef = TaskDef {
    name: "profile",
    summary: "`mlship data profile` vs polars / pandas read_csv + describe",
    title: "profile: `mlship data profile` vs polars and pandas",
    about: "mlship: wall time of the whole `mlship data profile --json FILE` process (start-up, \
            read, profile, JSON on stdout). Peers: the read and describe calls inside Python \
            (interpreter start-up and imports not timed). Thread pools keep their defaults.",
    inputs: &[THROUGHPUT],
    work: Work::Compare(&[Case {
        name: "profile",
        setup: &[],
        args: &["data", "profile", "--json", "{data}/throughput_1m.csv"],
        timed: Timed::Process,
        also: &["/read_seconds", "/profile_seconds"],
        threads: None,
        quality: None,
        peer: Some(PeerCall {
            args: &["{peers}/profile.py", "{data}/throughput_1m.csv"],
        }),
        targets: &[
            Target {
                peer: PeerRef::Tool("polars"),
                limit: 1.2,
                inclusive: true,
                text: "at most 1.2× the time of polars read_csv + describe()",
            },
            Target {
                peer: PeerRef::Tool("pandas"),
                limit: 1.0,
                inclusive: false,
                text: "faster than pandas read_csv + describe(include=\"all\")",
            },
        ],
        quality_targets: &[],
        memory: None,
    }]),
};

/// `preprocess`.
pub static PREPROCESS: TaskDef = TaskDef {
    name: "preprocess",
    summary: "`mlship preprocess fit` (read + fit + transform: mean imputation, standard \
              scaling, one-hot) vs pandas read_csv + scikit-learn ColumnTransformer.fit_transform",
    title: "preprocess: `mlship preprocess fit` vs pandas + scikit-learn",
    about: "Both sides read the CSV and fit and transform the same pipeline (`xtask/bench/preprocess.toml`): \
            the 14 float and 2 integer columns mean-imputed and standardised, `s00` imputed with its \
            most frequent level and one-hot encoded (dense), `id`, `date` and the 1,000-level `s01` \
            left out. mlship: its own `read_seconds` + `fit_seconds` (the fit returns the transformed \
            matrix) from `mlship preprocess fit --json`; the peak memory is the process's VmHWM. \
            Peer: `pd.read_csv` + `ColumnTransformer(...).fit_transform` inside Python. Thread \
            pools keep their defaults.",
    inputs: &[THROUGHPUT],
    work: Work::Compare(&[Case {
        name: "preprocess",
        setup: &[],
        args: &[
            "preprocess",
            "fit",
            "--json",
            "--data",
            "{data}/throughput_1m.csv",
            "--spec",
            "{specs}/preprocess.toml",
            "--out",
            "{work}/preprocess.mlship",
        ],
        timed: Timed::Fields(&["/read_seconds", "/fit_seconds"]),
        also: &["/read_seconds", "/fit_seconds"],
        threads: None,
        quality: None,
        peer: Some(PeerCall {
            args: &["{peers}/models.py", "preprocess", "--data", "{data}"],
        }),
        targets: &[Target {
            peer: PeerRef::Tool("sklearn"),
            limit: 0.2,
            inclusive: true,
            text: "at least 5× faster than pandas read_csv + ColumnTransformer.fit_transform",
        }],
        quality_targets: &[],
        memory: Some(MemoryTarget {
            factor: 3.0,
            rows: "/clean/rows_out",
            features: "/features",
        }),
    }]),
};

/// `row_path`.
pub static ROW_PATH: TaskDef = TaskDef {
    name: "row_path",
    summary: "the pipeline's row path, one record of 20 columns (criterion: cargo bench \
              --workspace --bench row_path)",
    title: "row_path: one record through a 20-column pipeline",
    about: "`cargo bench --workspace --bench row_path` (criterion, release profile): a pipeline \
            with imputation, standard scaling and one-hot encoding, fitted on 10,000 generated \
            records of 20 columns (16 numeric, 2 text, 2 boolean), transforms one record through \
            the row path, as the server does for each request; the figure is criterion's \
            estimate of the time per iteration. No peer.",
    inputs: &[],
    work: Work::Criterion {
        bench: "row_path",
        figures: &[
            (
                "row path: 1 record × 20 columns",
                "row path, 1 record × 20 columns",
                1.0,
                Limit {
                    max: 5e-6,
                    inclusive: false,
                    text: "under 5 µs per record",
                },
            ),
            (
                "frame path: 1000 records × 20 columns",
                "row path, 1,000 records × 20 columns in one batch (per record)",
                1000.0,
                Limit {
                    max: 5e-6,
                    inclusive: false,
                    text: "under 5 µs per record",
                },
            ),
        ],
    },
};

const LOGISTIC_ARGS: &[&str] = &[
    "train",
    "--json",
    "--data",
    "{work}/binary_train.csv",
    "--target",
    "target",
    "--spec",
    "{specs}/logistic.toml",
    "--estimator",
    "logistic",
    "--set",
    "C=1",
    "--out",
    "{work}/logistic.mlship",
];

const HALF_SKLEARN: &[Target] = &[Target {
    peer: PeerRef::Tool("sklearn"),
    limit: 0.5,
    inclusive: true,
    text: "at most 0.5× scikit-learn's fit time, both single-threaded",
}];

/// `linear`.
pub static LINEAR: TaskDef = TaskDef {
    name: "linear",
    summary: "`mlship train` logistic (200,000 × 30 binary), ridge and lasso (200,000 × 20 \
              regression) vs scikit-learn, single-threaded",
    title: "linear: logistic regression, ridge and lasso vs scikit-learn",
    about: "Training rows: the first 80 % of the file; quality on the last 20 %. mlship: \
            `fit_seconds` of `mlship train --json` (the model fit alone; reading the CSV and \
            fitting the pipeline are not timed), with every thread pool at one thread; quality \
            from `mlship predict` on the test rows. Peers: the `fit` call inside Python on the \
            same features (built untimed: the logistic model sees the 30 numeric columns \
            mean-imputed and standardised, fitted on the training rows; ridge and lasso the 20 \
            raw columns), threadpoolctl and the OpenMP / BLAS variables at one thread.",
    inputs: &[
        BINARY,
        BINARY_TRAIN,
        BINARY_TEST,
        REGRESSION,
        cut("regression_train.csv", "regression_200k.csv", Rows::Train),
        cut("regression_test.csv", "regression_200k.csv", Rows::Test),
    ],
    work: Work::Compare(&[
        Case {
            name: "logistic",
            setup: &[],
            args: LOGISTIC_ARGS,
            timed: Timed::Fields(&["/fit_seconds"]),
            also: &["/fit/iterations"],
            threads: Some(1),
            quality: Some(Quality {
                model: "{work}/logistic.mlship",
                test: "{work}/binary_test.csv",
                binary: true,
            }),
            peer: Some(PeerCall {
                args: &[
                    "{peers}/models.py",
                    "logistic",
                    "--data",
                    "{data}",
                    "--threads",
                    "{threads}",
                ],
            }),
            targets: HALF_SKLEARN,
            quality_targets: &[QualityTarget {
                metric: "log_loss",
                peer: "sklearn",
                tolerance: 1e-4,
                higher_is_better: false,
            }],
            memory: None,
        },
        Case {
            name: "ridge",
            setup: &[],
            args: &[
                "train",
                "--json",
                "--data",
                "{work}/regression_train.csv",
                "--target",
                "target",
                "--spec",
                "{specs}/regression.toml",
                "--estimator",
                "ridge",
                "--set",
                "alpha=1",
                "--out",
                "{work}/ridge.mlship",
            ],
            timed: Timed::Fields(&["/fit_seconds"]),
            also: &[],
            threads: Some(1),
            quality: Some(Quality {
                model: "{work}/ridge.mlship",
                test: "{work}/regression_test.csv",
                binary: false,
            }),
            peer: Some(PeerCall {
                args: &[
                    "{peers}/models.py",
                    "ridge",
                    "--data",
                    "{data}",
                    "--threads",
                    "{threads}",
                ],
            }),
            targets: HALF_SKLEARN,
            quality_targets: &[QualityTarget {
                metric: "r2",
                peer: "sklearn",
                tolerance: 1e-4,
                higher_is_better: true,
            }],
            memory: None,
        },
        Case {
            name: "lasso",
            setup: &[],
            args: &[
                "train",
                "--json",
                "--data",
                "{work}/regression_train.csv",
                "--target",
                "target",
                "--spec",
                "{specs}/regression.toml",
                "--estimator",
                "lasso",
                "--set",
                "alpha=0.1",
                "--set",
                "tol=0.0001",
                "--out",
                "{work}/lasso.mlship",
            ],
            timed: Timed::Fields(&["/fit_seconds"]),
            also: &["/fit/iterations"],
            threads: Some(1),
            quality: Some(Quality {
                model: "{work}/lasso.mlship",
                test: "{work}/regression_test.csv",
                binary: false,
            }),
            peer: Some(PeerCall {
                args: &[
                    "{peers}/models.py",
                    "lasso",
                    "--data",
                    "{data}",
                    "--threads",
                    "{threads}",
                ],
            }),
            targets: HALF_SKLEARN,
            quality_targets: &[QualityTarget {
                metric: "r2",
                peer: "sklearn",
                tolerance: 1e-4,
                higher_is_better: true,
            }],
            memory: None,
        },
    ]),
};

const GBDT_ARGS: &[&str] = &[
    "train",
    "--json",
    "--data",
    "{work}/binary_train.csv",
    "--target",
    "target",
    "--spec",
    "{specs}/trees.toml",
    "--estimator",
    "gbdt",
    "--set",
    "n_estimators=100",
    "--set",
    "num_leaves=31",
    "--set",
    "learning_rate=0.1",
    "--set",
    "max_bin=255",
    "--out",
    "{work}/gbdt.mlship",
];

const TREES_ABOUT: &str = "Training rows: the first 80 % of `binary_200k.csv`; quality (ROC AUC, \
     log-loss) on the last 20 %. Features on both sides: the 30 numeric columns with their missing \
     values left in and the 3 categoricals as ordinal codes (`xtask/bench/trees.toml`). mlship: \
     `fit_seconds` of `mlship train --json` (the model fit alone), quality from `mlship predict` \
     on the test rows. Peers: the `fit` call inside Python. Two threads on both sides \
     (`RAYON_NUM_THREADS`, `n_jobs` / `num_threads`, threadpoolctl and OpenMP).";

/// `gbdt`.
pub static GBDT: TaskDef = TaskDef {
    name: "gbdt",
    summary: "`mlship train --estimator gbdt` (200,000 × 33 binary, 100 rounds, 31 leaves) vs \
              LightGBM and scikit-learn HistGradientBoostingClassifier, 2 threads",
    title: "gbdt: histogram gradient boosting vs LightGBM and scikit-learn",
    about: TREES_ABOUT,
    inputs: &[BINARY, BINARY_TRAIN, BINARY_TEST],
    work: Work::Compare(&[Case {
        name: "gbdt",
        setup: &[],
        args: GBDT_ARGS,
        timed: Timed::Fields(&["/fit_seconds"]),
        also: &[],
        threads: Some(2),
        quality: Some(Quality {
            model: "{work}/gbdt.mlship",
            test: "{work}/binary_test.csv",
            binary: true,
        }),
        peer: Some(PeerCall {
            args: &[
                "{peers}/models.py",
                "gbdt",
                "--data",
                "{data}",
                "--threads",
                "{threads}",
            ],
        }),
        targets: &[Target {
            peer: PeerRef::Fastest,
            limit: 1.0,
            inclusive: true,
            text: "at most 1.0× the time of the faster of LightGBM and HistGradientBoostingClassifier",
        }],
        quality_targets: &[
            QualityTarget {
                metric: "roc_auc",
                peer: "lightgbm",
                tolerance: 0.002,
                higher_is_better: true,
            },
            QualityTarget {
                metric: "roc_auc",
                peer: "sklearn",
                tolerance: 0.002,
                higher_is_better: true,
            },
        ],
        memory: None,
    }]),
};

/// `forest`.
pub static FOREST: TaskDef = TaskDef {
    name: "forest",
    summary: "`mlship train --estimator random_forest` (100 trees, first 50,000 rows) vs \
              scikit-learn RandomForestClassifier(n_jobs=2)",
    title: "forest: random forest vs scikit-learn",
    about: TREES_ABOUT,
    inputs: &[
        BINARY,
        BINARY_TRAIN,
        BINARY_TEST,
        cut(
            "binary_train_50k.csv",
            "binary_train.csv",
            Rows::First(50_000),
        ),
    ],
    work: Work::Compare(&[Case {
        name: "forest",
        setup: &[],
        args: &[
            "train",
            "--json",
            "--data",
            "{work}/binary_train_50k.csv",
            "--target",
            "target",
            "--spec",
            "{specs}/trees.toml",
            "--estimator",
            "random_forest",
            "--set",
            "n_estimators=100",
            "--out",
            "{work}/forest.mlship",
        ],
        timed: Timed::Fields(&["/fit_seconds"]),
        also: &[],
        threads: Some(2),
        quality: Some(Quality {
            model: "{work}/forest.mlship",
            test: "{work}/binary_test.csv",
            binary: true,
        }),
        peer: Some(PeerCall {
            args: &[
                "{peers}/models.py",
                "forest",
                "--data",
                "{data}",
                "--threads",
                "{threads}",
            ],
        }),
        targets: &[Target {
            peer: PeerRef::Tool("sklearn"),
            limit: 0.5,
            inclusive: true,
            text: "at most 0.5× scikit-learn's RandomForestClassifier(n_jobs=2) fit time",
        }],
        quality_targets: &[QualityTarget {
            metric: "roc_auc",
            peer: "sklearn",
            tolerance: 0.0,
            higher_is_better: true,
        }],
        memory: None,
    }]),
};

/// `predict`.
pub static PREDICT: TaskDef = TaskDef {
    name: "predict",
    summary: "`mlship predict` of 1,000,000 rows through the 100-round boosted model vs \
              LightGBM predict_proba, 2 threads",
    title: "predict: 1,000,000 rows through the boosted model vs LightGBM",
    about: "The model: the `gbdt` task's (100 rounds, 31 leaves, trained on the first 80 % of \
            `binary_200k.csv`, untimed). The rows: the 200,000 rows of `binary_200k.csv` five \
            times over (`binary_1m.csv`, 1,000,000 rows). mlship: `predict_seconds` of \
            `mlship predict --proba --json` (the model's predictions and probabilities for the \
            transformed rows; reading the CSV, the pipeline and writing the output are not \
            timed and shown in the notes). Peer: LightGBM's `predict_proba` on the same rows as \
            a float matrix. Two threads on both sides.",
    inputs: &[
        BINARY,
        BINARY_TRAIN,
        cut("binary_1m.csv", "binary_200k.csv", Rows::Repeat(5)),
    ],
    work: Work::Compare(&[Case {
        name: "predict",
        setup: &[&[
            "train",
            "--data",
            "{work}/binary_train.csv",
            "--target",
            "target",
            "--spec",
            "{specs}/trees.toml",
            "--estimator",
            "gbdt",
            "--set",
            "n_estimators=100",
            "--set",
            "num_leaves=31",
            "--set",
            "learning_rate=0.1",
            "--set",
            "max_bin=255",
            "--out",
            "{work}/predict_gbdt.mlship",
        ]],
        args: &[
            "predict",
            "--json",
            "--proba",
            "--model",
            "{work}/predict_gbdt.mlship",
            "--data",
            "{work}/binary_1m.csv",
            "--out",
            "{work}/predictions_1m.parquet",
        ],
        timed: Timed::Fields(&["/predict_seconds"]),
        also: &["/read_seconds", "/transform_seconds", "/predict_seconds"],
        threads: Some(2),
        quality: None,
        peer: Some(PeerCall {
            args: &[
                "{peers}/models.py",
                "predict",
                "--data",
                "{data}",
                "--threads",
                "{threads}",
            ],
        }),
        targets: &[Target {
            peer: PeerRef::Tool("lightgbm"),
            limit: 0.5,
            inclusive: true,
            text: "at most 0.5× LightGBM's predict time",
        }],
        quality_targets: &[],
        memory: None,
    }]),
};

const REGISTRY_LIST: Limit = Limit {
    max: 0.1,
    inclusive: false,
    text: "under 100 ms with 10,000 versions",
};

/// `registry`.
pub static REGISTRY: TaskDef = TaskDef {
    name: "registry",
    summary: "register 1,000 versions, resolve NAME@ALIAS 100,000 times, list and search \
              10,000 versions (SQLite; the mlship-registry example registry_bench, release)",
    title: "registry: register, resolve, list and search (SQLite)",
    about: "`cargo run --release -p mlship-registry --example registry_bench -- DIR`, once, on a \
            fresh SQLite registry in the scratch folder under the target dir (a real disk: \
            `synchronous=FULL`, fsyncs included): registers 1,000 versions of one model (bundles \
            of 16 KiB) and reports the median time per version; resolves `bench@production` \
            100,000 times; grows the registry to 10 models and 10,000 versions, then lists and \
            searches it 15 times each (medians). The example measures many repetitions itself, \
            so `--repeats` does not apply. No peer.",
    inputs: &[],
    work: Work::Example {
        package: "mlship-registry",
        example: "registry_bench",
        args: &["{work}/registry"],
        limits: &[
            (
                "register",
                Limit {
                    max: 0.020,
                    inclusive: true,
                    text: "median at most 20 ms per version",
                },
            ),
            (
                "resolve",
                Limit {
                    max: 50e-6,
                    inclusive: true,
                    text: "median at most 50 µs",
                },
            ),
            ("list", REGISTRY_LIST),
            ("search", REGISTRY_LIST),
        ],
    },
};
