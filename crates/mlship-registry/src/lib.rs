//! The model registry: registered models, immutable numbered versions, aliases, tags, lineage,
//! an append-only audit log and rollback, over an embedded SQLite store (the default, under
//! `MLSHIP_HOME`) or a PostgreSQL server for teams, with a content-addressed artifact store.
//! It stores bundles as bytes plus their manifests and knows no model types.
//!
//! This crate holds no store yet.
