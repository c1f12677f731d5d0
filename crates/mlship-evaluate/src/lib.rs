//! Model evaluation and selection with scikit-learn's definitions.
//!
//! - [`metrics`]: classification and regression metrics with sample weights, matching
//!   scikit-learn's definitions, defaults and edge cases.
//! - [`calibration`]: isotonic and sigmoid (Platt) probability calibration matching
//!   scikit-learn's `CalibratedClassifierCV`, and decision-threshold tuning for binary classifiers.
//! - [`split`]: cross-validation splitters that yield row-index sets.
//! - [`cv`] and [`search`]: cross-validation, and grid, random and successive-halving search,
//!   with folds in parallel and results like scikit-learn's `cv_results_`.
//!
//! Cross-validation and search run through a fit-and-score closure, so this crate
//! knows neither the pipeline nor the estimators.
//!
//! **Architecture Invariant:** this crate depends on `mlship-core` and outside crates only.

pub mod calibration;
pub mod cv;
mod error;
pub mod metrics;
pub mod search;
pub mod split;

pub use error::{EvaluateError, Result};
