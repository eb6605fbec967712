//! The runtime's error answers, decided once: each is a whole response with the status the
//! specification names and a JSON `{"error", "description"}` body that tells the caller
//! what to fix. Handlers return them as the `Err` of [`Answer`].

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use http::StatusCode;
use http::header::HeaderValue;

use crate::error::BrokerError;
use crate::response::{self, HttpResponse};
use crate::state::StateError;

/// What an operation handler returns: the answer, or an error answer.
pub(crate) type Answer = Result<HttpResponse, HttpResponse>;

/// 400 `BadRequest` with this description.
pub(crate) fn bad_request(description: impl Into<String>) -> HttpResponse {
    response::error(StatusCode::BAD_REQUEST, "BadRequest", description)
}

/// 400 from an `osb_types` query parsing error.
pub(crate) fn bad_query(e: &osb_types::Error) -> HttpResponse {
    bad_request(e.to_string())
}

/// Which operation failed, to decide which of `instance_usable`/`update_repeatable` may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failed {
    Update,
    Deprovision,
    Other,
}

/// The response of a broker error, without the fields the spec forbids for this operation.
pub(crate) fn broker_error(err: BrokerError, op: Failed) -> HttpResponse {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = err.into_body();
    match op {
        Failed::Update => {}
        Failed::Deprovision => body.update_repeatable = None,
        Failed::Other => {
            body.instance_usable = None;
            body.update_repeatable = None;
        }
    }
    if status == StatusCode::GONE {
        return response::empty_object(StatusCode::GONE);
    }
    response::json(status, &body)
}

/// 422 `ConcurrencyError`.
pub(crate) fn concurrency_error() -> HttpResponse {
    broker_error(BrokerError::concurrency_error(), Failed::Other)
}

/// 422 `AsyncRequired`.
pub(crate) fn async_required() -> HttpResponse {
    broker_error(BrokerError::async_required(), Failed::Other)
}

/// 404 `NotFound` for an instance.
pub(crate) fn instance_not_found(id: &osb_types::InstanceId) -> HttpResponse {
    broker_error(
        BrokerError::not_found(format!("Service Instance {id} does not exist.")),
        Failed::Other,
    )
}

/// 404 `NotFound` for a binding.
pub(crate) fn binding_not_found(id: &osb_types::BindingId) -> HttpResponse {
    broker_error(
        BrokerError::not_found(format!("Service Binding {id} does not exist.")),
        Failed::Other,
    )
}

/// 503 when the store failed; 500 when a record was taken over by another process while
/// this one worked. The details are logged, never sent.
impl From<StateError> for HttpResponse {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Store(e) => {
                tracing::error!(error = %e, "the state store failed");
                let mut res = response::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "StoreUnavailable",
                    "The service broker cannot read or write its state store right now; retry the request later.",
                );
                res.headers_mut().insert(
                    osb_types::version::RETRY_AFTER_HEADER,
                    HeaderValue::from_static("1"),
                );
                res
            }
            StateError::Lost(message) => {
                tracing::error!(%message, "a record changed under a running request");
                response::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "The service broker's record of this resource changed while the request was processed; retry the request.",
                )
            }
        }
    }
}
