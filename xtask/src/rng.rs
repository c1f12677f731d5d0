//! The seeded random numbers behind `datagen`: mlship-core's generator and distributions, so
//! that the generated files and every model share one definition of "seeded".

pub use mlship_core::rng::{Rng, cumulative};
