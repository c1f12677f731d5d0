//! Estimators for tabular data, each implementing `mlship_core`'s estimator and model traits:
//! linear, ridge, lasso and elastic-net regression ([`linear`]); binary and multinomial
//! logistic regression with L-BFGS/OWL-QN, Newton and mini-batch SGD ([`logistic`]); CART
//! decision trees ([`tree`]), random forests and extra-trees ([`forest`]) and histogram
//! gradient boosting ([`gbdt`]), all fitted as a [`TreeModel`] over core's tree view.
//!
//! - Parameters are data: each estimator has an `XParams` (serde, `deny_unknown_fields`,
//!   `Default` the one source of defaults) whose `validate()` gives the estimator.
//! - [`ModelSpec`] reads an estimator and its parameters from a table tagged by `kind`, or
//!   from a search's `ParamSet`, and fits or builds a `Box<dyn Estimator>`.
//! - [`FittedModel`] holds any fitted model, encodes it to bytes and checks it on load.
//! - Every fit can also return a [`FitReport`]: iterations, convergence, warnings.

pub mod data;
pub mod error;
pub mod forest;
pub mod gbdt;
pub mod linalg;
pub mod linear;
pub mod logistic;
pub mod model;
pub mod optim;
pub mod params;
pub mod report;
pub mod schedule;
pub mod spec;
pub mod tree;

pub use error::{Result, TrainError};
pub use linear::LinearModel;
pub use logistic::LogisticModel;
pub use model::FittedModel;
pub use report::FitReport;
pub use spec::{FitOutcome, ModelSpec};
pub use tree::TreeModel;
