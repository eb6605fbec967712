//! [`Client`]: the shared connection, headers, and the plumbing every endpoint uses.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use osb_types::version::{
    API_VERSION_HEADER, ORIGINATING_IDENTITY_HEADER, REQUEST_IDENTITY_HEADER, RETRY_AFTER_HEADER,
};
use osb_types::{ApiVersion, Catalog, ErrorResponse, InstanceId, OperationState};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::builder::{ClientBuilder, IdentityProvider, RequestIdGenerator};
use crate::instance::last_operation_answer;
use crate::orphan::{MitigationOutcome, MitigationResult, MitigationTarget, OrphanMitigation};
use crate::version::Capability;
use crate::{Error, InstanceApi, LastOperation, Result};

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

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) base: url::Url,
    pub(crate) auth: Auth,
    pub(crate) api_version: ApiVersion,
    pub(crate) http: reqwest::Client,
    pub(crate) per_request_timeout: Option<Duration>,
    pub(crate) originating_identity: Option<IdentityProvider>,
    pub(crate) request_identity: RequestIdGenerator,
    pub(crate) accepts_incomplete: bool,
    pub(crate) orphan_mitigation: OrphanMitigation,
}

/// An Open Service Broker API client. Cheap to clone (an `Arc` inside); share it freely.
///
/// ```no_run
/// # async fn run() -> osb_client::Result<()> {
/// let client = osb_client::Client::builder("http://127.0.0.1:8080").basic_auth("admin", "secret").build()?;
/// let catalog = client.catalog().await?;
/// println!("{} offerings", catalog.services.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .field("api_version", &self.inner.api_version)
            .field("accepts_incomplete", &self.inner.accepts_incomplete)
            .field("orphan_mitigation", &self.inner.orphan_mitigation)
            .finish_non_exhaustive()
    }
}

/// A raw broker answer.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Bytes,
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
            }
        } else {
            Error::UnexpectedStatus {
                status: self.status,
                snippet: self.snippet(),
                orphan_mitigation: None,
            }
        }
    }

    pub(crate) fn decode_error(&self, source: serde_json::Error) -> Error {
        Error::Decode {
            status: self.status,
            source,
            snippet: self.snippet(),
            orphan_mitigation: None,
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

/// One request to send.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a [&'a str],
    pub(crate) query: String,
    pub(crate) body: Option<Vec<u8>>,
    /// Send the originating identity (user action); `false` for catalog and mitigation.
    pub(crate) user_action: bool,
    /// `context.platform` of the body, which the originating identity must match.
    pub(crate) context_platform: Option<&'a str>,
}

impl Client {
    /// Starts configuring a client for the broker at `base_url` (a path prefix is kept).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The API version this client sends.
    #[must_use]
    pub fn api_version(&self) -> ApiVersion {
        self.inner.api_version
    }

    /// The base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &url::Url {
        &self.inner.base
    }

    /// The orphan-mitigation policy.
    #[must_use]
    pub fn orphan_mitigation_policy(&self) -> &OrphanMitigation {
        &self.inner.orphan_mitigation
    }

    /// The same client sending another `X-Broker-API-Version` (shares the connection pool).
    ///
    /// # Errors
    /// [`Error::Config`] for a version outside 2.11–2.17, as [`ClientBuilder::build`].
    pub fn with_api_version(&self, version: ApiVersion) -> Result<Client> {
        crate::version::check_supported(version)?;
        let mut inner = (*self.inner).clone();
        inner.api_version = version;
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// Best-effort version negotiation: fetches the catalog with this client's
    /// version and, while the broker answers `412`, steps down one minor version at a time
    /// (to 2.11). Returns a client pinned to the accepted version, and the catalog.
    ///
    /// # Errors
    /// The last `412` when no version from 2.11 up is accepted; any other catalog error.
    pub async fn negotiate(&self) -> Result<(Client, Catalog)> {
        let mut version = self.inner.api_version;
        loop {
            let candidate = self.with_api_version(version)?;
            match candidate.catalog().await {
                Ok(catalog) => return Ok((candidate, catalog)),
                Err(e) if e.is_version_mismatch() && version > ApiVersion::V2_11 && version.major == 2 => {
                    tracing::info!(%version, "broker refused the API version; stepping down");
                    version = ApiVersion::new(2, version.minor - 1);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /v2/catalog`.
    ///
    /// # Errors
    /// A broker error status, a transport failure or timeout, or a body that is not a catalog.
    pub async fn catalog(&self) -> Result<Catalog> {
        let raw = self
            .execute(Call {
                method: Method::GET,
                path: &["v2", "catalog"],
                query: String::new(),
                body: None,
                user_action: false,
                context_platform: None,
            })
            .await?;
        if raw.status != 200 {
            return Err(raw.into_error());
        }
        raw.decode().map_err(|e| raw.decode_error(e))
    }

    /// The Service Instance `id`: provision, update, deprovision, fetch, poll and its bindings.
    pub fn instance(&self, id: impl Into<InstanceId>) -> InstanceApi {
        InstanceApi::new(self.clone(), id.into())
    }

    pub(crate) fn require(&self, cap: Capability) -> Result<()> {
        cap.require(self.inner.api_version)
    }

    pub(crate) fn url(&self, path: &[&str], query: &str) -> url::Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        url
    }

    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Raw> {
        let inner = &self.inner;
        let version = inner.api_version;
        let url = self.url(call.path, &call.query);
        let mut rb = inner
            .http
            .request(call.method, url)
            .header(API_VERSION_HEADER, version.to_string())
            .header(reqwest::header::ACCEPT, "application/json");
        if Capability::RequestIdentity.supported_by(version) {
            rb = rb.header(REQUEST_IDENTITY_HEADER, (inner.request_identity)());
        }
        if call.user_action
            && Capability::OriginatingIdentity.supported_by(version)
            && let Some(identity) = inner.originating_identity.as_ref().and_then(|p| p())
        {
            check_identity_platform(identity.platform(), call.context_platform)?;
            rb = rb.header(ORIGINATING_IDENTITY_HEADER, identity.to_header_value());
        }
        rb = match &inner.auth {
            Auth::None => rb,
            Auth::Basic { username, password } => rb.basic_auth(username, Some(password)),
            Auth::Bearer(token) => rb.bearer_auth(token),
        };
        if let Some(t) = inner.per_request_timeout {
            rb = rb.timeout(t);
        }
        if let Some(body) = call.body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.bytes().await.map_err(transport)?;
        tracing::debug!(status, "osb response");
        Ok(Raw {
            status,
            retry_after,
            body,
        })
    }

    /// Sends the mitigation DELETE (deprovision or unbind) and retries it per the policy until
    /// the broker confirms the deletion: `200`, `410`, or `202` followed by a `last_operation`
    /// of `succeeded` or `410`. Ignores `enabled`: callers decide that.
    pub(crate) async fn mitigate(
        &self,
        target: MitigationTarget,
        service_id: &str,
        plan_id: &str,
    ) -> MitigationOutcome {
        let policy = self.inner.orphan_mitigation.clone();
        // A policy may allow "forever" (`Duration::MAX`): cap it rather than overflow.
        let now = Instant::now();
        let deadline = now
            .checked_add(policy.max_duration)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        let segments: Vec<String> = match &target {
            MitigationTarget::Instance(i) => {
                vec!["v2".into(), "service_instances".into(), i.to_string()]
            }
            MitigationTarget::Binding { instance, binding } => vec![
                "v2".into(),
                "service_instances".into(),
                instance.to_string(),
                "service_bindings".into(),
                binding.to_string(),
            ],
        };
        let done = |result, attempts| {
            match &result {
                MitigationResult::Failed { message } => {
                    tracing::warn!(?target, attempts, %message, "orphan mitigation failed");
                }
                other => tracing::info!(?target, ?other, attempts, "orphan mitigation ended"),
            }
            MitigationOutcome {
                target: target.clone(),
                result,
                attempts,
            }
        };
        if segments.iter().any(String::is_empty) || service_id.is_empty() || plan_id.is_empty() {
            return done(
                MitigationResult::Skipped {
                    reason: "an id the DELETE needs is empty",
                },
                0,
            );
        }
        let path: Vec<&str> = segments.iter().map(String::as_str).collect();
        let is_binding = matches!(target, MitigationTarget::Binding { .. });
        // Built in a block: the serializer is not `Send` and must not live across an `.await`.
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("service_id", service_id)
                .append_pair("plan_id", plan_id);
            if !is_binding || Capability::AsyncBindings.supported_by(self.inner.api_version) {
                query.append_pair("accepts_incomplete", "true");
            }
            query.finish()
        };
        let max_attempts = policy.max_attempts.max(1);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let res = self
                .execute(Call {
                    method: Method::DELETE,
                    path: &path,
                    query: query.clone(),
                    body: None,
                    user_action: false,
                    context_platform: None,
                })
                .await;
            let last = match res {
                Ok(raw) if raw.status == 200 => return done(MitigationResult::Deleted, attempts),
                Ok(raw) if raw.status == 410 => return done(MitigationResult::AlreadyGone, attempts),
                Ok(raw) if raw.status == 202 => {
                    let operation = raw
                        .decode::<osb_types::DeprovisionResponse>()
                        .ok()
                        .and_then(|r| r.operation);
                    let ids = (service_id, plan_id);
                    match self
                        .poll_mitigation(&path, is_binding, ids, operation, deadline, &policy)
                        .await
                    {
                        Ok(result) => return done(result, attempts),
                        Err(message) => message,
                    }
                }
                Ok(raw) => raw.into_error().to_string(),
                Err(e) => e.to_string(),
            };
            let pause = policy.delay_after(attempts);
            if attempts >= max_attempts || Instant::now().checked_add(pause).is_none_or(|t| t > deadline) {
                return done(MitigationResult::Failed { message: last }, attempts);
            }
            tracing::debug!(?target, attempts, %last, "orphan mitigation: trying again");
            tokio::time::sleep(pause).await;
        }
    }

    /// Polls `last_operation` after a mitigation DELETE answered `202`. `Err` means "send the
    /// DELETE again" (or give up when the budget is spent).
    async fn poll_mitigation(
        &self,
        path: &[&str],
        is_binding: bool,
        (service_id, plan_id): (&str, &str),
        operation: Option<osb_types::OperationId>,
        deadline: Instant,
        policy: &OrphanMitigation,
    ) -> std::result::Result<MitigationResult, String> {
        if is_binding && !Capability::BindingLastOperation.supported_by(self.inner.api_version) {
            return Err("the unbind was accepted (202) but binding last_operation needs 2.14".to_owned());
        }
        let mut lo_path = path.to_vec();
        lo_path.push("last_operation");
        let query = osb_types::operation::LastOperationParams {
            service_id: Some(service_id.into()),
            plan_id: Some(plan_id.into()),
            operation,
        }
        .to_query();
        loop {
            let res = self
                .execute(Call {
                    method: Method::GET,
                    path: &lo_path,
                    query: query.clone(),
                    body: None,
                    user_action: false,
                    context_platform: None,
                })
                .await
                .and_then(last_operation_answer);
            let retry_after = match res {
                Ok(LastOperation::Reported {
                    response,
                    retry_after,
                }) => match response.state {
                    OperationState::Succeeded => return Ok(MitigationResult::Deleted),
                    OperationState::Failed => {
                        return Err(format!(
                            "the DELETE was accepted but failed: {}",
                            response.description.as_deref().unwrap_or("no description")
                        ));
                    }
                    OperationState::InProgress => retry_after,
                },
                Ok(LastOperation::Gone { .. }) => return Ok(MitigationResult::AlreadyGone),
                Err(e) if matches!(e.status(), Some(400 | 401 | 403 | 404 | 412)) => {
                    return Err(format!("polling the accepted DELETE: {e}"));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "orphan mitigation: invalid last_operation answer");
                    e.retry_after()
                }
            };
            let pause = retry_after.unwrap_or(policy.poll_interval);
            // `checked_add`: a broker's `Retry-After` can be as large as u64::MAX seconds.
            if Instant::now().checked_add(pause).is_none_or(|t| t > deadline) {
                return Err(
                    "the DELETE was accepted (202) but had not finished when the time allowed ran out"
                        .to_owned(),
                );
            }
            tokio::time::sleep(pause).await;
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

fn transport(e: reqwest::Error) -> Error {
    // A connect timeout means the request never reached the broker: not a "timeout" answer.
    if e.is_timeout() && !e.is_connect() {
        Error::Timeout {
            orphan_mitigation: None,
        }
    } else {
        Error::Transport(e)
    }
}

impl Error {
    pub(crate) fn with_mitigation(mut self, om: MitigationOutcome) -> Self {
        match &mut self {
            Self::Broker {
                orphan_mitigation, ..
            }
            | Self::Timeout { orphan_mitigation }
            | Self::Decode {
                orphan_mitigation, ..
            }
            | Self::UnexpectedStatus {
                orphan_mitigation, ..
            }
            | Self::PollingTimedOut { orphan_mitigation }
            | Self::OperationFailed {
                orphan_mitigation, ..
            } => *orphan_mitigation = Some(Box::new(om)),
            _ => {}
        }
        self
    }
}
