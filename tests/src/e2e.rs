//! Helpers for the client ↔ server round-trip tests: clients for a running broker, request
//! builders from JSON, and a recorder brokers push what they received into.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_client::{Client, WaitOptions};
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

/// A client for `running` sending `version`.
#[must_use]
pub fn client_v(running: &Running, version: ApiVersion) -> Client {
    Client::builder(running.url())
        .basic_auth(USER, PASSWORD)
        .api_version(version)
        .build()
        .expect("client builds")
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
