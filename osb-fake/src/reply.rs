//! [`Reply`]: one scripted answer of the fake broker.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};

/// What the fake broker answers to one request: a status, headers and a body, after an
/// optional delay; or no answer at all ([`Reply::close`]).
///
/// ```
/// use std::time::Duration;
/// use osb_fake::Reply;
/// let busy = Reply::json(202, serde_json::json!({ "operation": "op-1" })).header("Retry-After", "1");
/// let slow = Reply::json(201, serde_json::json!({})).delay(Duration::from_secs(30));
/// let broken = Reply::raw(201, "{\"credentials\": ");
/// let hang_up = Reply::close();
/// # let _ = (busy, slow, broken, hang_up);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
    pub(crate) delay: Duration,
    pub(crate) close: bool,
}

impl Reply {
    /// `status` with a JSON body (`Content-Type: application/json`).
    ///
    /// # Panics
    /// When `status` is not a valid HTTP status (a mistake in the test).
    #[must_use]
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::raw(status, body.to_string()).header("Content-Type", "application/json")
    }

    /// `status` with an empty JSON object `{}`.
    #[must_use]
    pub fn status(status: u16) -> Self {
        Self::json(status, serde_json::json!({}))
    }

    /// An OSB error body: `{"error": code, "description": description}`.
    #[must_use]
    pub fn error(status: u16, code: &str, description: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({ "error": code, "description": description }),
        )
    }

    /// `status` with these exact bytes as the body (malformed JSON, HTML, nothing at all),
    /// without a `Content-Type`.
    ///
    /// # Panics
    /// When `status` is not a valid HTTP status.
    #[must_use]
    pub fn raw(status: u16, body: impl Into<Bytes>) -> Self {
        let Ok(status) = StatusCode::from_u16(status) else {
            panic!("{status} is not an HTTP status");
        };
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
            close: false,
        }
    }

    /// No answer: the connection is closed once the request has been read (after the delay,
    /// if one is set).
    #[must_use]
    pub fn close() -> Self {
        Self {
            close: true,
            ..Self::raw(500, Bytes::new())
        }
    }

    /// Adds a header (e.g. `Retry-After`); a later one of the same name is sent as well.
    ///
    /// # Panics
    /// When the name or value is not valid in HTTP.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) else {
            panic!("invalid header {name}: {value}");
        };
        self.headers.push((name, value));
        self
    }

    /// Waits this long before answering (or closing), e.g. to make the client time out.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}
