//! The one error type of this crate, with predicates for the OSB error codes.

use std::time::Duration;

use osb_types::{ApiVersion, ErrorCode, ErrorResponse, LastOperationResponse, RequestIdentity};

use crate::outcome::MitigationOutcome;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a broker.
///
/// Variants that can follow a request needing orphan mitigation (see [`orphan`](crate::orphan))
/// carry `orphan_mitigation`: what the client did about it, if anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker answered with a 4xx or 5xx status.
    #[error("broker answered {status}: {}{}{}", describe(body.as_deref(), snippet), rid(request_identity.as_ref()), om_suffix(orphan_mitigation.as_deref()))]
    Broker {
        /// The HTTP status.
        status: u16,
        /// The error body, when it was a JSON object.
        body: Option<Box<ErrorResponse>>,
        /// The start of the raw body (at most 512 bytes, cut at a character boundary).
        snippet: String,
        /// The parsed `Retry-After` header of the answer (e.g. on a `503` or `429`).
        retry_after: Option<Duration>,
        /// The orphan mitigation performed because of this answer.
        orphan_mitigation: Option<Box<MitigationOutcome>>,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
    /// The request could not be sent or the answer not read (connection refused, TLS, ...).
    #[error("transport error: {source}{}", rid(request_identity.as_ref()))]
    Transport {
        /// What `reqwest` reported.
        #[source]
        source: reqwest::Error,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
    /// No answer before the configured timeout.
    #[error("the broker did not answer before the timeout{}{}", rid(request_identity.as_ref()), om_suffix(orphan_mitigation.as_deref()))]
    Timeout {
        /// The orphan mitigation performed because of the timeout (provision and bind only).
        orphan_mitigation: Option<Box<MitigationOutcome>>,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
    /// A success status whose body is not what the specification requires ("malformed").
    #[error("malformed {status} response body: {source}{}{}", rid(request_identity.as_ref()), om_suffix(orphan_mitigation.as_deref()))]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
        /// The start of the raw body (at most 512 bytes, cut at a character boundary).
        snippet: String,
        /// The orphan mitigation performed because of this answer.
        orphan_mitigation: Option<Box<MitigationOutcome>>,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
    /// A status the specification does not define for this endpoint (e.g. 204 or a redirect).
    #[error("unexpected status {status}{}{}", rid(request_identity.as_ref()), om_suffix(orphan_mitigation.as_deref()))]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// The start of the raw body (at most 512 bytes, cut at a character boundary).
        snippet: String,
        /// The orphan mitigation performed because of this answer.
        orphan_mitigation: Option<Box<MitigationOutcome>>,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
    /// Invalid client configuration (bad base URL, header value, ...), reported by `build()`.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A request the specification does not allow, refused before anything was sent: an empty
    /// instance or binding id, an originating identity for another platform than
    /// `context.platform`, a plan change to a plan that is not updateable (see
    /// [`Client::check_update`](crate::Client::check_update)), ...
    #[error("request not sent: {0}")]
    InvalidRequest(String),
    /// The request needs a feature the configured API version does not have.
    #[error("{feature} is not supported by OSB API version {version}")]
    Unsupported {
        /// The feature, e.g. `"binding rotation"`.
        feature: &'static str,
        /// The configured API version.
        version: ApiVersion,
    },
    /// The maximum polling duration was reached: the operation is considered failed.
    #[error("maximum polling duration reached; the operation is considered failed{}{}", rid(request_identity.as_ref()), om_suffix(orphan_mitigation.as_deref()))]
    PollingTimedOut {
        /// The orphan mitigation performed because of it.
        orphan_mitigation: Option<Box<MitigationOutcome>>,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
    /// `last_operation` reported `"state": "failed"`.
    #[error("operation failed: {}{}{}", response.description.as_deref().unwrap_or("no description"), rid(request_identity.as_ref()), om_suffix(orphan_mitigation.as_deref()))]
    OperationFailed {
        /// The final `last_operation` body.
        response: LastOperationResponse,
        /// The orphan mitigation performed because of it.
        orphan_mitigation: Option<Box<MitigationOutcome>>,
        /// The `X-Broker-API-Request-Identity` of the request (from 2.15).
        request_identity: Option<RequestIdentity>,
    },
}

/// `$on` with `$field` (`orphan_mitigation` or `request_identity`) bound in the variants that
/// follow a request to a broker and can call for orphan mitigation, else `$otherwise`: the
/// one list of those variants.
macro_rules! with_answer_field {
    ($error:expr, $field:ident => $on:expr, $otherwise:expr) => {
        match $error {
            Error::Broker { $field, .. }
            | Error::Timeout { $field, .. }
            | Error::Decode { $field, .. }
            | Error::UnexpectedStatus { $field, .. }
            | Error::PollingTimedOut { $field, .. }
            | Error::OperationFailed { $field, .. } => $on,
            _ => $otherwise,
        }
    };
}

fn describe(body: Option<&ErrorResponse>, snippet: &str) -> String {
    match body {
        Some(b) if b.error.is_some() || b.description.is_some() => b.to_string(),
        _ if snippet.is_empty() => "(empty body)".to_owned(),
        _ => snippet.to_owned(),
    }
}

/// ` (request identity <id>)`, so a failure can be found in the broker's logs.
fn rid(identity: Option<&RequestIdentity>) -> String {
    identity
        .map(|i| format!(" (request identity {i})"))
        .unwrap_or_default()
}

fn om_suffix(om: Option<&MitigationOutcome>) -> String {
    om.map(|o| format!(" ({o})")).unwrap_or_default()
}

impl Error {
    /// The HTTP status of a broker answer, if there was one.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Broker { status, .. }
            | Self::Decode { status, .. }
            | Self::UnexpectedStatus { status, .. } => Some(*status),
            Self::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The `Retry-After` of a broker error answer (seconds or HTTP-date), if it sent one.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Broker { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The broker's error body, if it sent one.
    #[must_use]
    pub fn body(&self) -> Option<&ErrorResponse> {
        match self {
            Self::Broker { body, .. } => body.as_deref(),
            _ => None,
        }
    }

    /// The broker's `error` code, if it sent one.
    #[must_use]
    pub fn error_code(&self) -> Option<&ErrorCode> {
        self.body().and_then(|b| b.error.as_ref())
    }

    /// The broker's `description`, if it sent one.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.body().and_then(|b| b.description.as_deref())
    }

    /// The orphan mitigation this error called for, and how it ended: `None` when the table
    /// asks for none; otherwise done ([`MitigationOutcome::succeeded`]), failed after some
    /// attempts, skipped, or not performed because the policy is disabled.
    #[must_use]
    pub fn orphan_mitigation(&self) -> Option<&MitigationOutcome> {
        with_answer_field!(self, orphan_mitigation => orphan_mitigation.as_deref(), None)
    }

    /// Attaches the mitigation this error called for (to the variants that can carry one).
    pub(crate) fn with_mitigation(mut self, om: MitigationOutcome) -> Self {
        with_answer_field!(&mut self, orphan_mitigation => *orphan_mitigation = Some(Box::new(om)), ());
        self
    }

    /// The `X-Broker-API-Request-Identity` the client sent with the request that failed (the
    /// last `last_operation` poll for [`Error::OperationFailed`] and [`Error::PollingTimedOut`]),
    /// to find it in the broker's logs; `None` for errors raised before sending and for API
    /// versions before 2.15, which have no request identity. Also shown by `Display`.
    #[must_use]
    pub fn request_identity(&self) -> Option<&RequestIdentity> {
        match self {
            Self::Transport { request_identity, .. } => request_identity.as_ref(),
            other => with_answer_field!(other, request_identity => request_identity.as_ref(), None),
        }
    }

    /// Whether this failure left a resource the caller must still delete: the orphan-mitigation
    /// table asked for a DELETE and the client did not get it confirmed (the policy is
    /// disabled, every attempt failed, or the ids for the DELETE were unknown). Delete it later
    /// with [`InstanceApi::orphan_mitigate`](crate::InstanceApi::orphan_mitigate) or
    /// [`BindingApi::orphan_mitigate`](crate::BindingApi::orphan_mitigate).
    #[must_use]
    pub fn needs_orphan_mitigation(&self) -> bool {
        self.orphan_mitigation().is_some_and(|o| !o.succeeded())
    }

    /// After a failed update or deprovision: whether the instance is still usable.
    /// The broker's `instance_usable`, from the error body or the failed `last_operation`;
    /// `true` when it says nothing.
    #[must_use]
    pub fn instance_usable(&self) -> bool {
        match self {
            Self::OperationFailed { response, .. } => response.instance_usable,
            _ => self.body().and_then(|b| b.instance_usable),
        }
        .unwrap_or(true)
    }

    /// After a failed update: whether repeating it may succeed; `true` when the broker
    /// says nothing.
    #[must_use]
    pub fn update_repeatable(&self) -> bool {
        match self {
            Self::OperationFailed { response, .. } => response.update_repeatable,
            _ => self.body().and_then(|b| b.update_repeatable),
        }
        .unwrap_or(true)
    }

    /// `422 AsyncRequired`: repeat with `accepts_incomplete=true`.
    #[must_use]
    pub fn is_async_required(&self) -> bool {
        self.error_code() == Some(&ErrorCode::AsyncRequired)
    }

    /// `422 ConcurrencyError`: wait for the pending operation, then retry.
    #[must_use]
    pub fn is_concurrency_error(&self) -> bool {
        self.error_code() == Some(&ErrorCode::ConcurrencyError)
    }

    /// `422 RequiresApp`: include `app_guid`.
    #[must_use]
    pub fn is_requires_app(&self) -> bool {
        self.error_code() == Some(&ErrorCode::RequiresApp)
    }

    /// `422 MaintenanceInfoConflict`: fetch the catalog again.
    #[must_use]
    pub fn is_maintenance_info_conflict(&self) -> bool {
        self.error_code() == Some(&ErrorCode::MaintenanceInfoConflict)
    }

    /// The broker answered `410 Gone`.
    #[must_use]
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Broker { status: 410, .. })
    }

    /// The broker answered `404 Not Found`.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Broker { status: 404, .. })
    }

    /// The broker answered `409 Conflict`.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Broker { status: 409, .. })
    }

    /// The broker answered `412 Precondition Failed` (it wants another API version).
    #[must_use]
    pub fn is_version_mismatch(&self) -> bool {
        matches!(self, Self::Broker { status: 412, .. })
    }

    /// The request was refused before sending because the specification does not allow it
    /// ([`Error::InvalidRequest`]).
    #[must_use]
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, Self::InvalidRequest(_))
    }

    /// The request timed out, or polling reached its maximum duration.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::PollingTimedOut { .. })
    }
}
