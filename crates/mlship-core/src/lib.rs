//! The shared vocabulary of mlship.
//!
//! Every lifecycle crate (preprocess, train, evaluate, registry, serve, monitor, explain) depends
//! on this crate and on no sibling: they meet through the types and traits defined here.
//! This crate is deliberately small and knows nothing of polars, HTTP or storage.
//!
//! - [`task`]: what a model predicts ([`Task`]), with class labels in scikit-learn's order.
//! - [`schema`]: the raw input columns a model accepts ([`Schema`]) and their validation.
//! - [`batch`]: a few rows of raw input as typed columns ([`RawBatch`]).
//! - [`dataset`]: the numeric design matrix for estimators ([`Dataset`], [`DatasetView`]).
//! - [`traits`]: estimators, models, raw predictors and explainers, and the fit context.
//! - [`tree`]: the read-only view of tree ensembles, validated on construction.
//! - [`sketch`] and [`profile`]: mergeable column sketches and the reference profile.
//! - [`record`]: the prediction log record and its JSON-lines format.
//! - [`fingerprint`]: stable SHA-256 fingerprints of tables.
//! - [`manifest`]: the typed manifest every bundle carries (kind, schema, lineage, metrics).
//! - [`time`]: UTC calendar arithmetic for timestamps.
//! - [`bundle`]: the `*.mlship` envelope (magic, versions, manifest, sections, checksum).
//! - [`rng`]: the seeded random number generator every crate uses.
//! - [`params`]: hyperparameter values, parameter sets, grids and search spaces.
//! - [`error`]: the error categories shared at crate seams.

pub mod batch;
pub mod bundle;
pub mod dataset;
pub mod error;
pub mod fingerprint;
pub mod manifest;
pub mod params;
pub mod profile;
pub mod record;
pub mod rng;
pub mod schema;
pub mod sketch;
pub mod task;
pub mod time;
pub mod traits;
pub mod tree;

pub use batch::{ColumnData, RawBatch, RawColumn};
pub use dataset::{Dataset, DatasetView, FeatureInfo, FeatureKind};
pub use error::{Error, Result};
pub use schema::{ColumnKind, ColumnSpec, Schema};
pub use task::Task;
