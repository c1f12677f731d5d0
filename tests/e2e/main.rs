//! End-to-end tests of the `mlship` command.

mod bad_input;
mod commands;
mod preprocess;
mod registry;
mod run;
mod serve;
mod train;
