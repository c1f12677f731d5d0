//! The HTTP prediction server: Open Inference Protocol (KServe V2) REST with the binary tensor
//! extension, MLflow-compatible `/invocations`, Prometheus `/metrics`, hot reload of a new model
//! version, and the prediction log.
//!
//! The server is handed one [`ModelSource`] per served name and knows nothing of the registry,
//! the pipeline or model types: a source resolves the version to serve and loads it as a
//! [`ServedModel`] holding core's `RawPredictor`.
//!
//! - [`source`]: [`ModelSource`], [`ServedModel`], [`VersionId`].
//! - [`config`]: limits, timeouts, token, reload interval and log settings ([`ServeConfig`]).
//! - [`state`]: the swappable model per name ([`state::ModelSlot`]) and shared state.
//! - [`app`]: the routes ([`app::router`], [`app::ROUTES`]).
//! - [`server`]: the accept loop, reload thread, graceful shutdown ([`server::run`]).
//! - [`predlog`]: the prediction log writer; [`metrics`]: the Prometheus metrics.

pub mod app;
pub mod config;
mod decode;
pub mod error;
pub mod metrics;
pub mod predlog;
pub mod server;
pub mod source;
pub mod state;
mod v2;

pub use config::{LogConfig, ServeConfig};
pub use error::{Result, ServeError};
pub use source::{ModelSource, ServedModel, VersionId};
