//! Helpers for the client ↔ server round-trip tests: clients for a running broker, request
//! builders from JSON, and a recorder brokers push what they received into.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_client::{Client, OrphanMitigation, WaitOptions};
use osb_server_mini::Running;
use osb_types::ApiVersion;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{PASSWORD, USER};

/// A 2.17 client for `running` with the test credentials.
#[must_use]
pub fn client(running: &Running) -> Client {
    client_v(running, ApiVersion::V2_17)
}

/// A client for `running` sending `version`, with [`quick_mitigation`].
#[must_use]
pub fn client_v(running: &Running, version: ApiVersion) -> Client {
    builder(running)
        .api_version(version)
        .build()
        .expect("client builds")
}

/// A client builder for `running` with the test credentials and [`quick_mitigation`].
pub fn builder(running: &Running) -> osb_client::ClientBuilder {
    Client::builder(running.url())
        .basic_auth(USER, PASSWORD)
        .orphan_mitigation(quick_mitigation())
}

/// Orphan mitigation for tests: at most 8 DELETEs, 50 ms after the first failure (the
/// default keeps trying for minutes).
#[must_use]
pub fn quick_mitigation() -> OrphanMitigation {
    OrphanMitigation {
        max_attempts: 8,
        retry_delay: Duration::from_millis(50),
        ..OrphanMitigation::default()
    }
}

/// Decodes a typed value from JSON; panics with the value when it does not fit.
#[must_use]
pub fn from_json<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

/// Serializes to a JSON value.
#[must_use]
pub fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serializable")
}

/// Fast polling for tests: 20 ms interval, no backoff, 10 s limit.
#[must_use]
pub fn fast_wait() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(20))
        .backoff(1.0)
        .max_duration(Duration::from_secs(10))
}

/// What a broker received, in order: `(method, JSON of the request)`.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<(String, Value)>>>);

impl Recorder {
    /// Records one call.
    pub fn push(&self, method: &str, v: Value) {
        self.0.lock().expect("recorder lock").push((method.to_owned(), v));
    }

    /// Everything recorded so far.
    #[must_use]
    pub fn all(&self) -> Vec<(String, Value)> {
        self.0.lock().expect("recorder lock").clone()
    }

    /// The recorded requests of `method`.
    #[must_use]
    pub fn of(&self, method: &str) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|(m, _)| m == method)
            .map(|(_, v)| v)
            .collect()
    }

    /// How many calls of `method` were recorded.
    #[must_use]
    pub fn count(&self, method: &str) -> usize {
        self.of(method).len()
    }
}

/// A `reqwest` request to `path` of `running` with `X-Broker-API-Version: 2.17` and the test
/// credentials, for what the client does not expose (headers, raw bodies, odd queries).
pub fn http(running: &Running, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .basic_auth(USER, Some(PASSWORD))
}

/// `.json_body(&value)` on a request: the body as JSON with `Content-Type: application/json`.
pub trait JsonBody {
    /// Sets the JSON body.
    #[must_use]
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

/// A broker answer read in full.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub body: Value,
}

impl Answer {
    /// Sends `request` and reads the whole answer.
    pub async fn of(request: reqwest::RequestBuilder) -> Self {
        let res = request.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body read");
        Self {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// A header's value as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts `status`, a JSON content type and an error body
    /// `{"error": code, "description": <non-empty>}`; returns the body.
    pub fn assert_error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{self:?}"
        );
        assert_eq!(self.body["error"], code, "{self:?}");
        assert!(
            self.body["description"].as_str().is_some_and(|d| !d.is_empty()),
            "no description: {self:?}"
        );
        &self.body
    }
}

/// Provisions `instance` with `request` and waits for it: checks the answer is 201 (sync
/// plan) or 202 (async plan) carrying `dashboard`, that waiting ends as it should for that
/// mode, and that the instance then reads back with the plan and dashboard URL.
///
/// # Panics
/// When any of those checks fails.
pub async fn provision_and_check(
    instance: &osb_client::InstanceApi,
    request: &osb_client::types::ProvisionRequest,
    is_async: bool,
    dashboard: &str,
    wait: &WaitOptions,
) {
    use osb_client::{ProvisionOutcome, WaitOutcome};
    let outcome = instance.provision(request).await.expect("provision");
    match (&outcome, is_async) {
        (ProvisionOutcome::Created(r), false) => assert_eq!(r.dashboard_url.as_deref(), Some(dashboard)),
        (ProvisionOutcome::Accepted { dashboard_url, .. }, true) => {
            assert_eq!(dashboard_url.as_deref(), Some(dashboard));
        }
        other => panic!("unexpected provision outcome {other:?} (async plan: {is_async})"),
    }
    let waited = instance
        .wait_with(&outcome, wait)
        .await
        .expect("provision completes");
    assert_eq!(
        matches!(waited, WaitOutcome::Succeeded(_)),
        is_async,
        "{waited:?}"
    );
    let fetched = instance.get().await.expect("fetch instance");
    assert_eq!(fetched.plan_id.as_ref(), Some(&request.plan_id));
    assert_eq!(fetched.dashboard_url.as_deref(), Some(dashboard));
}
