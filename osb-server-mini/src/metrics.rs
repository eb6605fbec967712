//! The runtime's Prometheus / OpenMetrics metrics (the `prometheus-client` crate, the
//! official Rust client of the Prometheus project), and the scope that tells broker and
//! store calls which operation they serve.
//!
//! Labels never hold ids or other request data: only route templates, methods, status
//! codes, operation and store-call names, outcome and state names, so the number of series
//! is bounded.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// The route template's name (`provision`, `catalog`, ...; `unmatched` for a 404/405).
    pub(crate) route: &'static str,
    pub(crate) method: &'static str,
    pub(crate) status: u16,
}

/// Labels of a latency per route.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: &'static str,
}

/// Labels of a broker call or an asynchronous operation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    pub(crate) operation: &'static str,
}

/// How an asynchronous operation ended.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub(crate) enum Finished {
    succeeded,
    failed,
    /// Stopped at shutdown (another process or the next start resumes it).
    stopped,
}

/// Labels of a finished asynchronous operation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FinishedLabels {
    pub(crate) operation: &'static str,
    pub(crate) state: Finished,
}

/// Labels of a store call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StoreLabels {
    pub(crate) call: &'static str,
}

/// Makes the latency histograms: 1 ms to about 33 s.
#[derive(Clone)]
pub(crate) struct Buckets;

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.001, 2.0, 16))
    }
}

/// Every metric of one server.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) request_seconds: Family<RouteLabels, Histogram, Buckets>,
    pub(crate) broker_call_seconds: Family<OperationLabels, Histogram, Buckets>,
    pub(crate) broker_call_errors: Family<OperationLabels, Counter>,
    pub(crate) async_running: Family<OperationLabels, Gauge>,
    pub(crate) async_finished: Family<FinishedLabels, Counter>,
    pub(crate) store_seconds: Family<StoreLabels, Histogram, Buckets>,
    pub(crate) store_errors: Family<StoreLabels, Counter>,
    pub(crate) connections_open: Gauge,
    pub(crate) connections_refused: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("osb");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::new_with_constructor(Buckets);
        let broker_call_seconds = Family::new_with_constructor(Buckets);
        let broker_call_errors = Family::<OperationLabels, Counter>::default();
        let async_running = Family::<OperationLabels, Gauge>::default();
        let async_finished = Family::<FinishedLabels, Counter>::default();
        let store_seconds = Family::new_with_constructor(Buckets);
        let store_errors = Family::<StoreLabels, Counter>::default();
        let connections_open = Gauge::default();
        let connections_refused = Counter::default();
        registry.register(
            "http_requests",
            "Requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route template",
            request_seconds.clone(),
        );
        registry.register(
            "broker_call_duration_seconds",
            "Time broker code took, by operation",
            broker_call_seconds.clone(),
        );
        registry.register(
            "broker_call_errors",
            "Broker calls that returned an error or panicked, by operation",
            broker_call_errors.clone(),
        );
        registry.register(
            "async_operations_running",
            "Asynchronous operations running in this process, by operation",
            async_running.clone(),
        );
        registry.register(
            "async_operations_finished",
            "Asynchronous operations finished in this process, by operation and state",
            async_finished.clone(),
        );
        registry.register(
            "store_call_duration_seconds",
            "Time a store call took, by call",
            store_seconds.clone(),
        );
        registry.register(
            "store_call_errors",
            "Store calls that failed, by call",
            store_errors.clone(),
        );
        registry.register(
            "connections_open",
            "Connections open now",
            connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections refused because the connection cap was reached",
            connections_refused.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            broker_call_seconds,
            broker_call_errors,
            async_running,
            async_finished,
            store_seconds,
            store_errors,
            connections_open,
            connections_refused,
        }
    }

    /// The OpenMetrics text exposition.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        text
    }

    /// Counts an answered request.
    pub(crate) fn request(&self, route: &'static str, method: &http::Method, status: u16, started: Instant) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: method_label(method),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels { route })
            .observe(started.elapsed().as_secs_f64());
    }
}

/// A bounded method label: the methods the API uses, else `other`.
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::POST => "POST",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// What a broker or store call is done for: the operation and the server's metrics.
#[derive(Clone, Default)]
pub(crate) struct CallScope {
    pub(crate) operation: &'static str,
    pub(crate) metrics: Option<Arc<Metrics>>,
}

tokio::task_local! {
    static SCOPE: CallScope;
}

impl CallScope {
    pub(crate) fn new(operation: &'static str, metrics: Option<Arc<Metrics>>) -> Self {
        Self { operation, metrics }
    }

    /// The scope of the current task (operation `unknown`, no metrics, outside one).
    pub(crate) fn current() -> Self {
        SCOPE
            .try_with(Clone::clone)
            .unwrap_or_else(|_| Self::new("unknown", None))
    }

    /// Runs `fut` in this scope.
    pub(crate) fn run<F: Future>(self, fut: F) -> impl Future<Output = F::Output> {
        SCOPE.scope(self, fut)
    }
}
