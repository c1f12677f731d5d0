//! Estimators for tabular data, each implementing `mlship_core`'s estimator and model traits:
//! linear, ridge, lasso and elastic-net regression; binary and multinomial logistic regression
//! (L-BFGS, Newton and mini-batch SGD with learning-rate schedules); CART decision trees; random
//! forests and extra-trees; histogram gradient boosting. Tree models expose core's read-only tree
//! view so that explanations and exports need not know their internal layout.
//!
//! This crate holds no estimator yet.
