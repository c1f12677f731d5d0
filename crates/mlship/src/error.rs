//! The facade's error: what a command reports before exiting with status 1 (or 2 for usage).

/// What went wrong in a facade operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from mlship-core (bundles, schemas, data).
    #[error(transparent)]
    Core(#[from] mlship_core::Error),
    /// An error reading or converting data.
    #[error(transparent)]
    Data(#[from] mlship_preprocess::PreprocessError),
    /// A bundle could not be read.
    #[error(transparent)]
    Bundle(#[from] mlship_core::bundle::BundleError),
    /// An error from training a model.
    #[error(transparent)]
    Train(#[from] mlship_train::TrainError),
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] mlship_registry::RegistryError),
    /// The prediction server failed to start or stopped with an error.
    #[error(transparent)]
    Serve(#[from] mlship_serve::ServeError),
    /// The command line asks for something that cannot be done as written (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// Writing the command's output failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// The facade's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
