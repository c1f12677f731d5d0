//! Explanations and fairness: permutation importance on raw columns, exact TreeSHAP through
//! core's tree view, LinearSHAP, KernelSHAP, PDP/ICE, LIME, and per-group fairness metrics with
//! bootstrap intervals. Values are reported per transformed feature and folded back onto raw
//! columns.
//!
//! This crate holds no explainer yet.
