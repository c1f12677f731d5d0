//! Production monitoring: per-column and multivariate drift against a bundle's reference
//! profile, performance once labels arrive and estimated performance before, input anomalies,
//! alert rules and a deliberate automatic-rollback policy (the rollback action is a trait the
//! facade implements with the registry).
//!
//! This crate holds no monitor yet.
