//! The runtime's Prometheus / OpenMetrics metrics (the `prometheus-client` crate, the
//! official Rust client of the Prometheus project), and the scope that tells broker and
//! store calls which operation they serve.
//!
//! Labels never hold ids or other request data: only route templates, methods, status
//! codes, operation and store-call names, outcome and state names, so the number of series
//! is bounded.

mod sharded;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub(crate) use sharded::{Counter, Latency};

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

/// The routes' names (`Route::name`). Requests are counted under these and `unmatched`;
/// broker calls under these and `resume` (work recovered after a restart).
const ROUTE_NAMES: [&str; 10] = [
    "catalog",
    "provision",
    "update",
    "fetch_instance",
    "deprovision",
    "instance_last_operation",
    "bind",
    "fetch_binding",
    "unbind",
    "binding_last_operation",
];

/// The methods a request is counted under (`other` for the rest).
const METHODS: [&str; 8] = [
    "GET", "PUT", "PATCH", "DELETE", "POST", "HEAD", "OPTIONS", "other",
];

/// The statuses the runtime answers with, whose counters are kept at hand once made; a
/// status outside this list (a broker's own choice) is counted through the family.
const STATUSES: [u16; 22] = [
    200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 406, 408, 409, 410, 412, 413, 415, 422, 429, 500, 503,
    504,
];

/// The series of one route, looked up once instead of hashed per request.
struct RouteSeries {
    name: &'static str,
    seconds: Latency,
    /// Answers by method and status (`METHODS` × `STATUSES`), each made on first use so
    /// that the scrape lists only what happened.
    answered: Box<[OnceLock<Counter>]>,
}

/// The series of one operation's broker calls.
struct OperationSeries {
    name: &'static str,
    seconds: Latency,
    errors: Counter,
}

/// Every metric of one server.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Latency>,
    routes: Vec<RouteSeries>,
    broker_call_seconds: Family<OperationLabels, Latency>,
    broker_call_errors: Family<OperationLabels, Counter>,
    operations: Vec<OperationSeries>,
    pub(crate) async_running: Family<OperationLabels, Gauge>,
    pub(crate) async_finished: Family<FinishedLabels, Counter>,
    pub(crate) store_seconds: Family<StoreLabels, Latency>,
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
        let request_seconds = Family::<RouteLabels, Latency>::default();
        let broker_call_seconds = Family::<OperationLabels, Latency>::default();
        let broker_call_errors = Family::<OperationLabels, Counter>::default();
        let async_running = Family::<OperationLabels, Gauge>::default();
        let async_finished = Family::<FinishedLabels, Counter>::default();
        let store_seconds = Family::<StoreLabels, Latency>::default();
        let store_errors = Family::<StoreLabels, Counter>::default();
        let connections_open = Gauge::default();
        let connections_refused = Counter::default();
        let routes = ROUTE_NAMES
            .iter()
            .chain(&["unmatched"])
            .map(|&name| RouteSeries {
                name,
                seconds: request_seconds.get_or_create_owned(&RouteLabels { route: name }),
                answered: (0..METHODS.len() * STATUSES.len())
                    .map(|_| OnceLock::new())
                    .collect(),
            })
            .collect();
        let operations = ROUTE_NAMES
            .iter()
            .chain(&["resume"])
            .map(|&name| {
                let labels = OperationLabels { operation: name };
                OperationSeries {
                    name,
                    seconds: broker_call_seconds.get_or_create_owned(&labels),
                    errors: broker_call_errors.get_or_create_owned(&labels),
                }
            })
            .collect();
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
            routes,
            broker_call_seconds,
            broker_call_errors,
            operations,
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

    /// Counts an answered request and records the time it took.
    pub(crate) fn request(&self, route: &'static str, method: &http::Method, status: u16, started: Instant) {
        let took = started.elapsed();
        let method = method_label(method);
        let Some(series) = self.routes.iter().find(|r| r.name == route) else {
            self.request_seconds
                .get_or_create(&RouteLabels { route })
                .observe(took);
            self.requests
                .get_or_create(&RequestLabels {
                    route,
                    method,
                    status,
                })
                .inc();
            return;
        };
        series.seconds.observe(took);
        let slot = STATUSES.iter().position(|&s| s == status).map(|s| {
            let m = METHODS
                .iter()
                .position(|&m| m == method)
                .unwrap_or(METHODS.len() - 1);
            m * STATUSES.len() + s
        });
        match slot {
            Some(slot) => series.answered[slot]
                .get_or_init(|| {
                    self.requests.get_or_create_owned(&RequestLabels {
                        route,
                        method,
                        status,
                    })
                })
                .inc(),
            None => self
                .requests
                .get_or_create(&RequestLabels {
                    route,
                    method,
                    status,
                })
                .inc(),
        };
    }

    /// Records a call into broker code for `operation`.
    pub(crate) fn broker_call(&self, operation: &'static str, took: Duration, failed: bool) {
        match self.operations.iter().find(|o| o.name == operation) {
            Some(series) => {
                series.seconds.observe(took);
                if failed {
                    series.errors.inc();
                }
            }
            None => {
                let labels = OperationLabels { operation };
                self.broker_call_seconds.get_or_create(&labels).observe(took);
                if failed {
                    self.broker_call_errors.get_or_create(&labels).inc();
                }
            }
        }
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

    /// The current task's operation (`unknown` outside a scope).
    pub(crate) fn operation() -> &'static str {
        SCOPE.try_with(|s| s.operation).unwrap_or("unknown")
    }

    /// Records a broker call of the current task's operation, when its metrics are on
    /// (without cloning the scope: its `Arc` is shared by every request).
    pub(crate) fn record_broker_call(took: Duration, failed: bool) {
        let _ = SCOPE.try_with(|s| {
            if let Some(m) = &s.metrics {
                m.broker_call(s.operation, took, failed);
            }
        });
    }

    /// Runs `fut` in this scope.
    pub(crate) fn run<F: Future>(self, fut: F) -> impl Future<Output = F::Output> {
        SCOPE.scope(self, fut)
    }
}
