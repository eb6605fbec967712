//! `BrokerError`, what broker code returns to fail a request, and `ServeError`, what `serve` returns.

use std::fmt;

use osb_types::{ErrorCode, ErrorResponse};

/// The runtime's description of 422 `AsyncRequired`: exactly the text the Go OSB client used by
/// Kubernetes Service Catalog (`go-open-service-broker-client`, `IsAsyncRequiredError`)
/// compares, so that platform recognises the error.
pub const ASYNC_REQUIRED_DESCRIPTION: &str =
    "This service plan requires client support for asynchronous service operations.";

/// The runtime's description of 422 `ConcurrencyError`: exactly the text the Go OSB client used
/// by Kubernetes Service Catalog (`IsConcurrencyError`) compares.
pub const CONCURRENCY_ERROR_DESCRIPTION: &str =
    "The Service Broker does not support concurrent requests that mutate the same resource.";

/// An OSB error response: an HTTP status plus the JSON `{"error", "description"}` body.
///
/// Broker methods construct it with the named constructors; the runtime turns it into the
/// response. `BrokerError::internal` logs its source and sends a generic description, so
/// internal details (and secrets in them) never reach the Platform.
///
/// ```
/// use osb_server_mini::BrokerError;
/// let e = BrokerError::bad_request("parameter `size` must be at most 10");
/// assert_eq!(e.status(), 400);
/// assert_eq!(e.body().description.as_deref(), Some("parameter `size` must be at most 10"));
/// assert_eq!(BrokerError::concurrency_error().code().unwrap().as_str(), "ConcurrencyError");
/// ```
#[derive(Clone, PartialEq)]
pub struct BrokerError {
    status: u16,
    body: ErrorResponse,
}

impl BrokerError {
    /// Any status with an error code and description.
    pub fn new(status: u16, code: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorResponse::with_code(&code.into(), description),
        }
    }

    /// An error from a full body (e.g. one with vendor extension fields).
    #[must_use]
    pub fn from_response(status: u16, body: ErrorResponse) -> Self {
        Self { status, body }
    }

    /// 400 `BadRequest`: the request is malformed or its data is invalid.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", description)
    }

    /// 404 `NotFound`.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(404, "NotFound", description)
    }

    /// 409 `Conflict`: the resource exists with different attributes.
    pub fn conflict(description: impl Into<String>) -> Self {
        Self::new(409, "Conflict", description)
    }

    /// 410 `Gone`: the resource does not exist (answered with the `{}` body the spec expects).
    #[must_use]
    pub fn gone() -> Self {
        Self {
            status: 410,
            body: ErrorResponse::default(),
        }
    }

    /// 422 with a code of your own (e.g. `"QuotaExceeded"`).
    pub fn unprocessable(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(422, code, description)
    }

    /// 422 `AsyncRequired`: this operation can only run asynchronously.
    ///
    /// The description is [`ASYNC_REQUIRED_DESCRIPTION`], word for word: the Go client of
    /// Kubernetes Service Catalog recognises this error by its exact text.
    #[must_use]
    pub fn async_required() -> Self {
        Self::new(422, "AsyncRequired", ASYNC_REQUIRED_DESCRIPTION)
    }

    /// 422 `ConcurrencyError`: another operation on this resource is in progress.
    ///
    /// The description is [`CONCURRENCY_ERROR_DESCRIPTION`], word for word: the Go client of
    /// Kubernetes Service Catalog recognises this error by its exact text.
    #[must_use]
    pub fn concurrency_error() -> Self {
        Self::new(422, "ConcurrencyError", CONCURRENCY_ERROR_DESCRIPTION)
    }

    /// 422 `RequiresApp`: the binding needs an `app_guid`.
    #[must_use]
    pub fn requires_app() -> Self {
        Self::new(
            422,
            "RequiresApp",
            "This Service supports generation of credentials through binding an application only.",
        )
    }

    /// 422 `MaintenanceInfoConflict`: `maintenance_info.version` does not match the catalog.
    pub fn maintenance_info_conflict(description: impl Into<String>) -> Self {
        Self::new(422, "MaintenanceInfoConflict", description)
    }

    /// 500 `InternalError` with a generic description; `source` is logged, never sent.
    pub fn internal(source: impl fmt::Display) -> Self {
        tracing::error!(error = %source, "broker operation failed");
        Self::new(
            500,
            "InternalError",
            "The service broker failed to process the request.",
        )
    }

    /// Sets `instance_usable` (only meaningful for failed update and deprovision).
    #[must_use]
    pub fn instance_usable(mut self, usable: bool) -> Self {
        self.body.instance_usable = Some(usable);
        self
    }

    /// Sets `update_repeatable` (only meaningful for a failed update).
    #[must_use]
    pub fn update_repeatable(mut self, repeatable: bool) -> Self {
        self.body.update_repeatable = Some(repeatable);
        self
    }

    /// The HTTP status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The error code, if any.
    #[must_use]
    pub fn code(&self) -> Option<&ErrorCode> {
        self.body.error.as_ref()
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> &ErrorResponse {
        &self.body
    }

    /// The JSON body, by value.
    #[must_use]
    pub fn into_body(self) -> ErrorResponse {
        self.body
    }
}

impl fmt::Debug for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerError")
            .field("status", &self.status)
            .field("error", &self.body.error)
            .field("description", &self.body.description)
            .finish()
    }
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl std::error::Error for BrokerError {}

/// Why the server could not start or keep accepting connections.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The broker's catalog breaks the specification; every problem is listed.
    #[error(transparent)]
    InvalidCatalog(#[from] osb_types::catalog::CatalogErrors),
    /// A plan's parameter schema could not be compiled.
    #[error("invalid parameter schema in {location}: {message}")]
    InvalidSchema {
        /// Offering, plan and schema it concerns.
        location: String,
        /// What the validator said.
        message: String,
    },
    /// Binding the listening socket or another I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// TLS configuration could not be loaded.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// A [`CatalogHandle`](crate::catalog::CatalogHandle) was used before its server was
    /// built (by `serve`, `spawn` or `into_service`) or after the server was dropped.
    #[error("the catalog cannot be replaced: its server is not built (or no longer exists)")]
    NotServing,
    /// A configured credential could not be used (e.g. a password hash that is not a valid
    /// PHC string).
    #[error("invalid credential configuration: {0}")]
    InvalidCredential(String),
}
