//! mlship takes tabular machine-learning models from the lab to production and keeps them
//! healthy there.
//!
//! This crate is the facade: it wires the lifecycle crates together (they never depend on one
//! another) and holds the `mlship` command's implementation. The binary itself only calls
//! [`cli::main`].
//!
//! - [`data`]: reading and profiling data files.
//! - [`inspect`]: looking inside a `*.mlship` bundle.
//! - [`model`]: training model bundles and predicting with them.
//! - [`preprocess`]: fitting and applying pipelines, splitting data files.
//! - [`registry`]: the model registry's commands, and model URIs for every command.
//! - [`experiment`]: experiment files, ranking metrics and the fit-and-score closure.
//! - [`run`]: `mlship run` (the main job) and `mlship evaluate`.
//! - [`update`]: `mlship update`, continuing a model on new data.
//! - [`report`]: run and evaluation reports, as JSON and as one self-contained HTML page.
//! - [`serve`]: the prediction server's command and its model sources.
//! - [`cli`]: the command-line interface (argument parsing, output, exit codes).

pub mod cli;
pub mod data;
mod error;
pub mod experiment;
pub mod inspect;
pub mod model;
pub mod preprocess;
pub mod registry;
mod render;
pub mod report;
pub mod run;
pub mod serve;
pub mod update;

pub use error::{Error, Result};
