//! The serve crate's errors and how each becomes an HTTP response.

use axum::http::StatusCode;

/// What went wrong while serving a request or starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The request is malformed or does not match the model's schema.
    #[error("{0}")]
    BadRequest(String),
    /// No model is served under this name.
    #[error("model {name:?} is not served here\nhint: this server serves {}", served.join(", "))]
    ModelNotFound {
        /// The name asked for.
        name: String,
        /// The names served.
        served: Vec<String>,
    },
    /// The model is served, but not at this version.
    #[error(
        "model {name:?} version {version:?} is not served\nhint: this server serves version {serving:?}"
    )]
    VersionNotFound {
        /// The model.
        name: String,
        /// The version asked for.
        version: String,
        /// The version being served.
        serving: String,
    },
    /// No such route.
    #[error("no route for {method} {path}\nhint: docs/openapi.json lists the routes")]
    NoRoute {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// The model has not finished loading.
    #[error("model {0:?} is not ready yet\nhint: retry after GET /v2/health/ready answers 200")]
    NotReady(String),
    /// The content type is not one the route reads.
    #[error("unsupported content type {found:?}\nhint: send {expected}")]
    UnsupportedMediaType {
        /// The content type sent.
        found: String,
        /// What the route accepts.
        expected: String,
    },
    /// The body is larger than the configured limit.
    #[error(
        "the request body is larger than the limit of {limit} bytes\nhint: send fewer rows per request"
    )]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More rows than the configured limit.
    #[error(
        "the request has {rows} rows, more than the limit of {limit}\nhint: split it into smaller requests"
    )]
    TooManyRows {
        /// Rows sent.
        rows: usize,
        /// The limit.
        limit: usize,
    },
    /// No or a wrong bearer token.
    #[error(
        "missing or invalid bearer token\nhint: send the header `Authorization: Bearer <token>`"
    )]
    Unauthorized,
    /// Too many requests in flight.
    #[error("the server is at its limit of {0} concurrent requests\nhint: retry after a second")]
    Overloaded(usize),
    /// The request took longer than the configured limit.
    #[error("the request took longer than {0} ms")]
    Timeout(u128),
    /// A failure that is not the client's fault.
    #[error("{0}")]
    Internal(String),
    /// The server could not start (configuration, address in use, runtime).
    #[error("{0}")]
    Startup(String),
}

impl ServeError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::ModelNotFound { .. } | Self::VersionNotFound { .. } | Self::NoRoute { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::NotReady(_) | Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } | Self::TooManyRows { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) | Self::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// MLflow's `error_code` for this error.
    pub fn mlflow_code(&self) -> &'static str {
        match self.status() {
            StatusCode::NOT_FOUND => "RESOURCE_DOES_NOT_EXIST",
            StatusCode::SERVICE_UNAVAILABLE => "TEMPORARILY_UNAVAILABLE",
            StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
            s if s.is_server_error() => "INTERNAL_ERROR",
            _ => "BAD_REQUEST",
        }
    }

    /// The error a predictor's failure becomes: anything about the input is the client's fault.
    pub fn from_predict(e: mlship_core::Error) -> Self {
        match e {
            mlship_core::Error::Io { .. }
            | mlship_core::Error::Bundle(_)
            | mlship_core::Error::Stopped(_) => Self::Internal(e.to_string()),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = ServeError> = std::result::Result<T, E>;
