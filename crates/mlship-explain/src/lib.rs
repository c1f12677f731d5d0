//! Explanations and fairness: permutation importance on raw columns, exact TreeSHAP through
//! core's tree view, LinearSHAP, KernelSHAP, PDP/ICE, LIME, and per-group fairness metrics with
//! bootstrap intervals. Values are reported per transformed feature and folded back onto raw
//! columns.
//!
//! - [`tree`]: exact TreeSHAP (path-dependent and interventional) and SHAP interaction values
//!   for every model that exposes core's [`mlship_core::tree::TreeEnsemble`].
//! - [`linear`]: exact LinearSHAP for linear and logistic models, on the margin.
//! - [`game`]: any model as a cooperative game over features or raw columns, with a
//!   background sample; [`kernel`]: KernelSHAP and permutation-sampling SHAP over such games.
//! - [`importance`]: permutation importance on raw columns through any raw predictor, with
//!   grouped columns.
//! - [`fold`]: attributions on transformed features folded back onto raw columns and groups.
//! - [`pdp`]: partial dependence and ICE curves, one- and two-way, on raw columns.
//! - [`lime`]: LIME for tabular rows with a kernel-weighted ridge surrogate and its fidelity.
//! - [`fairness`]: per-group metrics and demographic-parity / equalized-odds gaps with bootstrap
//!   intervals.
//! - [`raw`]: helpers on raw batches (stacking, gathering, constant columns, outputs).
//! - [`values`]: the [`ShapValues`] and [`InteractionValues`] containers.

// ndarray views are cheap copies and are passed by value, as in core's `Model::predict`.
#![allow(clippy::needless_pass_by_value)]

pub mod error;
pub mod fairness;
pub mod fold;
pub mod game;
pub mod importance;
pub mod kernel;
pub mod lime;
mod linalg;
pub mod linear;
pub mod pdp;
pub mod raw;
pub mod tree;
pub mod values;

#[cfg(test)]
mod testutil;

pub use error::{ExplainError, Result};
pub use fold::FeatureGroups;
pub use game::{Game, MatrixGame, RawGame};
pub use importance::{ImportanceParams, ImportanceReport, permutation_importance};
pub use kernel::{KernelParams, PermutationParams, kernel_shap, permutation_shap};
pub use linear::LinearExplainer;
pub use tree::TreeExplainer;
pub use values::{InteractionValues, ShapValues};
