//! Tabular data through polars: reading CSV, Parquet and Arrow IPC files ([`read_table`]),
//! writing them ([`write_table`]), converting frames to and from core's
//! [`mlship_core::RawBatch`] ([`frame_to_batch`], [`batch_to_frame`]), and profiling columns
//! into mergeable sketches ([`profile_frame`]); feature expressions live in [`expr`].
//!
//! **Architecture Invariant:** this crate depends on `mlship-core` and outside crates only; it
//! is one of the two crates (with the facade) that know polars.

pub mod clean;
mod convert;
mod error;
pub mod expr;
mod io;
pub mod pipeline;
mod profile;
pub mod spec;
pub mod split;
mod stream;
pub mod transform;
pub mod types;

pub use convert::{batch_to_frame, frame_to_batch, matrix_to_frame, take_rows};
pub use error::{PreprocessError, Result};
pub use expr::{Expr, ExprError, ValueType};
pub use io::{FileFormat, ReadOptions, read_table, write_table};
pub use polars::frame::DataFrame;
pub use profile::{ColumnProfile, TableProfile, profile_frame};
pub use stream::{
    DEFAULT_CHUNK_ROWS, TableChunks, TableSink, read_table_chunks, write_table_chunks,
};
