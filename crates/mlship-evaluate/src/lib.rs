//! Model evaluation and selection with scikit-learn's definitions: classification and regression
//! metrics (sample weights throughout), cross-validation splitters that yield row-index sets,
//! grid / random / successive-halving search and model selection. Cross-validation and search run
//! through a fit-and-score closure, so this crate knows neither the pipeline nor the estimators.
//!
//! This crate holds no metric yet.
