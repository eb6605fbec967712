//! Building HTTP responses: JSON bodies, error bodies, the request-identity echo.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use osb_types::ErrorResponse;
use serde::Serialize;

/// The response type of the whole runtime.
pub(crate) type HttpResponse = Response<Full<Bytes>>;

pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON response with this status and body.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => bytes_json(status, Bytes::from(bytes)),
        Err(e) => {
            tracing::error!(error = %e, "response body could not be serialized");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "The service broker failed to render its response.",
            )
        }
    }
}

/// A JSON response from bytes that already hold JSON.
pub(crate) fn bytes_json(status: StatusCode, body: Bytes) -> HttpResponse {
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, JSON);
    res
}

/// `{"error": code, "description": description}` with this status.
pub(crate) fn error(status: StatusCode, code: &str, description: impl Into<String>) -> HttpResponse {
    json(status, &ErrorResponse::with_code(code, description))
}

/// `{}` with this status (200 on delete, 410 Gone).
pub(crate) fn empty_object(status: StatusCode) -> HttpResponse {
    bytes_json(status, Bytes::from_static(b"{}"))
}

/// Copies the request identity onto a response (spec: SHOULD echo on every response).
pub(crate) fn echo_request_identity(res: &mut HttpResponse, request_identity: Option<&HeaderValue>) {
    if let Some(v) = request_identity {
        res.headers_mut()
            .insert(crate::headers::REQUEST_IDENTITY, v.clone());
    }
}
