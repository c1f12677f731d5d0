//! The HTTP prediction server: Open Inference Protocol (KServe V2) REST with the binary tensor
//! extension, MLflow-compatible `/invocations`, Prometheus `/metrics`, hot reload of a new model
//! version, and the prediction log. It is handed a model source yielding `RawPredictor`s and
//! knows nothing of the registry, the pipeline or model types.
//!
//! This crate holds no server yet.
