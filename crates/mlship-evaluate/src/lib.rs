//! Model evaluation and selection with scikit-learn's definitions.
//!
//! - [`metrics`]: classification and regression metrics with sample weights, matching
//!   scikit-learn's definitions, defaults and edge cases.
//! - [`split`]: cross-validation splitters that yield row-index sets.
//!
//! Cross-validation and search (to come) run through a fit-and-score closure, so this crate
//! knows neither the pipeline nor the estimators.
//!
//! **Architecture Invariant:** this crate depends on `mlship-core` and outside crates only.

mod error;
pub mod metrics;
pub mod split;

pub use error::{EvaluateError, Result};
