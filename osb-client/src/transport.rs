//! The transport: one call to the broker, its raw answer, and how answers are judged.
//!
//! Everything above this module speaks in [`Call`]s and [`Raw`] answers; only this module
//! knows about headers, authentication and `reqwest`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use osb_types::path::ApiPath;
use osb_types::version::{
    API_VERSION_HEADER, ORIGINATING_IDENTITY_HEADER, REQUEST_IDENTITY_HEADER, RETRY_AFTER_HEADER,
};
use osb_types::{ApiVersion, ErrorResponse, OriginatingIdentity, RequestIdentity};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::outcome::LastOperation;
use crate::version::Capability;

/// Produces the originating identity of the current request (or `None` to omit the header).
pub type IdentityProvider = Arc<dyn Fn() -> Option<OriginatingIdentity> + Send + Sync>;
/// Produces the value of `X-Broker-API-Request-Identity` for each request.
pub type RequestIdGenerator = Arc<dyn Fn() -> String + Send + Sync>;

/// How requests authenticate.
#[derive(Clone)]
pub(crate) enum Auth {
    None,
    Basic { username: String, password: String },
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &osb_types::REDACTED)
                .finish(),
            Self::Bearer(_) => f.debug_tuple("Bearer").field(&osb_types::REDACTED).finish(),
        }
    }
}

/// The connection to one broker and the headers every request carries.
#[derive(Clone)]
pub(crate) struct Transport {
    pub(crate) base: url::Url,
    pub(crate) auth: Auth,
    pub(crate) api_version: ApiVersion,
    pub(crate) http: reqwest::Client,
    pub(crate) per_request_timeout: Option<Duration>,
    pub(crate) originating_identity: Option<IdentityProvider>,
    pub(crate) request_identity: RequestIdGenerator,
}

/// One request to send.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: ApiPath<&'a str>,
    pub(crate) query: String,
    pub(crate) body: Option<Vec<u8>>,
    /// Send the originating identity (user action); `false` for catalog and mitigation.
    pub(crate) user_action: bool,
    /// `context.platform` of the body, which the originating identity must match.
    pub(crate) context_platform: Option<&'a str>,
    /// Which try this is (mitigation DELETEs, polls), for the trace.
    pub(crate) attempt: u32,
    /// More headers (e.g. the catalog's `If-None-Match`).
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl<'a> Call<'a> {
    /// A call without body or query, tied to no user action (catalog, mitigation).
    pub(crate) fn new(method: Method, path: ApiPath<&'a str>) -> Self {
        Self {
            method,
            path,
            query: String::new(),
            body: None,
            user_action: false,
            context_platform: None,
            attempt: 1,
            headers: reqwest::header::HeaderMap::new(),
        }
    }

    /// Sets the try number.
    pub(crate) fn attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// Sets the query string.
    pub(crate) fn query(mut self, query: String) -> Self {
        self.query = query;
        self
    }
}

/// A raw broker answer.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Bytes,
    /// The request identity the request carried.
    pub(crate) request_identity: Option<RequestIdentity>,
    /// The answer's headers.
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Raw {
    pub(crate) fn snippet(&self) -> String {
        snippet(&self.body)
    }

    /// Decodes a JSON body; an empty body counts as `{}`.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> std::result::Result<T, serde_json::Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_slice(b"{}")
        } else {
            serde_json::from_slice(&self.body)
        }
    }

    /// Decodes a JSON body into [`Error::Decode`] on failure.
    pub(crate) fn decoded<T: DeserializeOwned>(&self) -> Result<T> {
        self.decode().map_err(|e| self.decode_error(e))
    }

    /// The body of an answer that must be `200 OK`.
    pub(crate) fn ok<T: DeserializeOwned>(self) -> Result<T> {
        if self.status == 200 {
            self.decoded()
        } else {
            Err(self.into_error())
        }
    }

    /// The error for a status this endpoint does not treat as success.
    pub(crate) fn into_error(self) -> Error {
        if self.status >= 400 {
            let body = serde_json::from_slice::<ErrorResponse>(&self.body)
                .ok()
                .map(Box::new);
            Error::Broker {
                status: self.status,
                body,
                snippet: self.snippet(),
                retry_after: self.retry_after,
                orphan_mitigation: None,
                request_identity: self.request_identity,
            }
        } else {
            Error::UnexpectedStatus {
                status: self.status,
                snippet: self.snippet(),
                orphan_mitigation: None,
                request_identity: self.request_identity,
            }
        }
    }

    pub(crate) fn decode_error(&self, source: serde_json::Error) -> Error {
        Error::Decode {
            status: self.status,
            source,
            snippet: self.snippet(),
            orphan_mitigation: None,
            request_identity: self.request_identity.clone(),
        }
    }
}

/// The first 512 bytes of `body`, shortened to end on a UTF-8 character boundary.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 512;
    let mut end = body.len().min(MAX);
    // a continuation byte right after the cut means a character straddles it
    let mut back = 0;
    while end < body.len() && end > 0 && back < 3 && body[end] & 0xC0 == 0x80 {
        end -= 1;
        back += 1;
    }
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// Parses `Retry-After`: delta-seconds or an HTTP-date.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(osb_client::parse_retry_after("7"), Some(Duration::from_secs(7)));
/// assert_eq!(osb_client::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
/// assert_eq!(osb_client::parse_retry_after("soon"), None);
/// ```
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    osb_types::RetryAfter::parse(value).ok().map(|r| r.delay())
}

impl Transport {
    /// The URL of `path` (segments, percent-encoded here) under the base URL.
    pub(crate) fn url(&self, path: &[&str], query: &str) -> url::Url {
        let mut url = self.base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        url
    }

    /// `Ok(())` when the configured API version has `cap`.
    pub(crate) fn require(&self, cap: Capability) -> Result<()> {
        cap.require(self.api_version)
    }

    /// Whether the configured API version has `cap`.
    pub(crate) fn supports(&self, cap: Capability) -> bool {
        cap.supported_by(self.api_version)
    }

    /// Sends one call and reads the whole answer, in a span naming the call.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Raw> {
        let identity = self
            .supports(Capability::RequestIdentity)
            .then(|| RequestIdentity::new((self.request_identity)()));
        let span = tracing::info_span!(
            "osb_call",
            method = %call.method,
            route = route_name(&call.method, call.path),
            instance_id = tracing::field::Empty,
            binding_id = tracing::field::Empty,
            request_identity = tracing::field::Empty,
            attempt = call.attempt,
            status = tracing::field::Empty,
        );
        if let ApiPath::Instance(i) | ApiPath::InstanceLastOperation(i) = call.path {
            span.record("instance_id", i);
        }
        if let ApiPath::Binding(i, b) | ApiPath::BindingLastOperation(i, b) = call.path {
            span.record("instance_id", i).record("binding_id", b);
        }
        if let Some(id) = &identity {
            span.record("request_identity", id.as_str());
        }
        let send = async {
            let res = self.send(call, identity.as_ref()).await;
            match &res {
                Ok(raw) => {
                    tracing::Span::current().record("status", raw.status);
                    tracing::debug!(status = raw.status, "osb response");
                }
                Err(e) => tracing::debug!(error = %e, "osb request failed"),
            }
            res
        };
        send.instrument(span).await
    }

    async fn send(&self, call: Call<'_>, identity: Option<&RequestIdentity>) -> Result<Raw> {
        let url = self.url(&call.path.segments(), &call.query);
        let mut rb = self
            .http
            .request(call.method, url)
            .header(API_VERSION_HEADER, self.api_version.to_string())
            .header(reqwest::header::ACCEPT, "application/json")
            .headers(call.headers);
        if let Some(id) = identity {
            rb = rb.header(REQUEST_IDENTITY_HEADER, id.as_str());
        }
        if call.user_action
            && self.supports(Capability::OriginatingIdentity)
            && let Some(origin) = self.originating_identity.as_ref().and_then(|p| p())
        {
            check_identity_platform(origin.platform(), call.context_platform)?;
            rb = rb.header(ORIGINATING_IDENTITY_HEADER, origin.to_header_value());
        }
        rb = match &self.auth {
            Auth::None => rb,
            Auth::Basic { username, password } => rb.basic_auth(username, Some(password)),
            Auth::Bearer(token) => rb.bearer_auth(token),
        };
        if let Some(t) = self.per_request_timeout {
            rb = rb.timeout(t);
        }
        if let Some(body) = call.body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let failed = |e| transport_error(e, identity.cloned());
        let resp = rb.send().await.map_err(failed)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(failed)?;
        Ok(Raw {
            status,
            retry_after,
            body,
            request_identity: identity.cloned(),
            headers,
        })
    }
}

/// The endpoint's name for traces, e.g. `provision`.
fn route_name(method: &Method, path: ApiPath<&str>) -> &'static str {
    match (path, method.as_str()) {
        (ApiPath::Catalog, _) => "catalog",
        (ApiPath::Instance(_), "PUT") => "provision",
        (ApiPath::Instance(_), "PATCH") => "update",
        (ApiPath::Instance(_), "DELETE") => "deprovision",
        (ApiPath::Instance(_), _) => "fetch_instance",
        (ApiPath::InstanceLastOperation(_), _) => "instance_last_operation",
        (ApiPath::Binding(..), "PUT") => "bind",
        (ApiPath::Binding(..), "DELETE") => "unbind",
        (ApiPath::Binding(..), _) => "fetch_binding",
        (ApiPath::BindingLastOperation(..), _) => "binding_last_operation",
    }
}

fn transport_error(e: reqwest::Error, request_identity: Option<RequestIdentity>) -> Error {
    // A connect timeout means the request never reached the broker: not a "timeout" answer.
    if e.is_timeout() && !e.is_connect() {
        Error::Timeout {
            orphan_mitigation: None,
            request_identity,
        }
    } else {
        Error::Transport {
            source: e,
            request_identity,
        }
    }
}

/// `<Platform>` is a non-empty token and equals `context.platform` when there is a context.
fn check_identity_platform(platform: &str, context_platform: Option<&str>) -> Result<()> {
    if platform.is_empty() || platform.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::InvalidRequest(format!(
            "the originating identity platform {platform:?} must be a non-empty string without spaces"
        )));
    }
    match context_platform {
        Some(cp) if cp != platform => Err(Error::InvalidRequest(format!(
            "the originating identity is for platform {platform:?} but context.platform is {cp:?}; \
             they must be the same (spec \"Originating Identity\")"
        ))),
        _ => Ok(()),
    }
}

/// Refuses an empty id or query value the specification requires to be non-empty.
pub(crate) fn require_non_empty(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        Err(Error::InvalidRequest(format!(
            "{what} must be a non-empty string"
        )))
    } else {
        Ok(())
    }
}

/// Refuses a request whose `with_parameters` was given something other than a JSON object.
pub(crate) fn check_parameters(
    checked: std::result::Result<(), osb_types::instance::ParametersError>,
) -> Result<()> {
    checked.map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// Serializes a request body.
pub(crate) fn to_json<T: Serialize>(body: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| Error::Config(format!("cannot serialize the request body: {e}")))
}

/// What the broker did, as far as the orphan-mitigation table cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// A response with this status and a body that was fine.
    Status(u16),
    /// A 2xx response whose body could not be decoded.
    Malformed(u16),
    /// No answer before the timeout.
    Timeout,
    /// `last_operation` reported `failed` (or the maximum polling duration was reached).
    LastOperationFailed,
}

/// An error together with the table row it may trigger.
pub(crate) type Judged<T> = std::result::Result<T, (Error, Option<Trigger>)>;

/// A request that got no answer: only a timeout is a row of the table.
pub(crate) fn judge_send(e: Error) -> (Error, Option<Trigger>) {
    let t = matches!(e, Error::Timeout { .. }).then_some(Trigger::Timeout);
    (e, t)
}

/// An answer whose status this endpoint does not treat as success.
pub(crate) fn judge_status(raw: Raw) -> (Error, Option<Trigger>) {
    let s = raw.status;
    (raw.into_error(), Some(Trigger::Status(s)))
}

/// A success answer's body; a body that does not decode is "malformed".
pub(crate) fn judge_decode<T: DeserializeOwned>(raw: &Raw) -> Judged<T> {
    raw.decode()
        .map_err(|e| (raw.decode_error(e), Some(Trigger::Malformed(raw.status))))
}

/// The answer of a `last_operation` request (instance or binding).
pub(crate) fn last_operation_answer(raw: Raw) -> Result<LastOperation> {
    match raw.status {
        200 => Ok(LastOperation::Reported {
            response: serde_json::from_slice(&raw.body).map_err(|e| raw.decode_error(e))?,
            retry_after: raw.retry_after,
        }),
        410 => Ok(LastOperation::Gone {
            retry_after: raw.retry_after,
        }),
        _ => Err(raw.into_error()),
    }
}
