//! Explanations and fairness: permutation importance on raw columns, exact TreeSHAP through
//! core's tree view, LinearSHAP, KernelSHAP, PDP/ICE, LIME, and per-group fairness metrics with
//! bootstrap intervals. Values are reported per transformed feature and folded back onto raw
//! columns.
//!
//! - [`tree`]: exact TreeSHAP (path-dependent and interventional) and SHAP interaction values
//!   for every model that exposes core's [`mlship_core::tree::TreeEnsemble`].
//! - [`values`]: the [`ShapValues`] and [`InteractionValues`] containers.

pub mod error;
pub mod tree;
pub mod values;

pub use error::{ExplainError, Result};
pub use tree::TreeExplainer;
pub use values::{InteractionValues, ShapValues};
