//! The operations listener: `GET /metrics` (OpenMetrics text), `GET /healthz` (liveness)
//! and `GET /readyz` (readiness: the store answers a ping and the server is not shutting
//! down), outside `/v2` and without
//! authentication, on an address of its own (see
//! [`Server::ops_listener`](crate::Server::ops_listener)).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::response::{self, HttpResponse};
use crate::state::State;

/// How long readiness waits for the store's ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The operations endpoints as a service: `GET /metrics` (with metrics on), `/healthz` and
/// `/readyz`, for a broker mounted with [`Server::into_service`](crate::Server::into_service)
/// (from [`BrokerService::operations_service`](crate::BrokerService::operations_service)).
/// Mount it where the Platform cannot reach it, or behind your own authentication: it asks
/// for none. Cheap to clone.
#[derive(Clone)]
pub struct OpsService {
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) state: Arc<State>,
}

impl std::fmt::Debug for OpsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsService")
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

impl OpsService {
    /// Marks the broker as shutting down: `/readyz` answers 503 from now on (the server does
    /// this itself when it begins to drain; a mounted service's host calls it).
    pub fn begin_shutdown(&self) {
        self.state.begin_draining();
    }

    /// Answers a request for `path` (`/metrics`, `/healthz`, `/readyz`; 404 otherwise).
    pub async fn answer(&self, method: &Method, path: &str) -> http::Response<crate::ResponseBody> {
        let known = matches!(path, "/metrics" | "/healthz" | "/readyz");
        if !known || (path == "/metrics" && self.metrics.is_none()) {
            return response::error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("nothing at {path}; this listener serves /metrics, /healthz and /readyz"),
            );
        }
        if method != Method::GET && method != Method::HEAD {
            let mut res = response::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("method {method} is not allowed here; allowed: GET"),
            );
            res.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        match path {
            "/metrics" => {
                let text = self.metrics.as_ref().map(|m| m.render()).unwrap_or_default();
                let mut res = response::bytes_json(StatusCode::OK, Bytes::from(text));
                res.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
                );
                res
            }
            "/healthz" => response::bytes_json(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#)),
            _ if self.state.draining() => response::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "NotReady",
                "the server is shutting down: it finishes the requests in progress and takes no new ones",
            ),
            _ => match tokio::time::timeout(PING_TIMEOUT, self.state.store.ping()).await {
                Ok(Ok(())) => {
                    response::bytes_json(StatusCode::OK, Bytes::from_static(br#"{"status":"ready"}"#))
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "not ready: the store cannot be reached");
                    response::error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "NotReady",
                        "the store cannot be reached",
                    )
                }
                Err(_) => response::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "NotReady",
                    format!("the store did not answer within {PING_TIMEOUT:?}"),
                ),
            },
        }
    }
}

/// Serves the operations endpoints on `listener` until `stop` changes: after the server has
/// drained, so that readiness answers 503 while it does.
pub(crate) fn spawn(listener: TcpListener, ops: OpsService, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
        loop {
            let (stream, peer): (_, SocketAddr) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "operations listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.changed() => return,
            };
            let ops = ops.clone();
            let builder = Arc::clone(&builder);
            tokio::spawn(async move {
                let conn = builder.serve_connection(TokioIo::new(stream), ops);
                if let Err(e) = tokio::time::timeout(Duration::from_secs(30), conn)
                    .await
                    .unwrap_or(Ok(()))
                {
                    tracing::debug!(%peer, error = %e, "operations connection ended with an error");
                }
            });
        }
    });
}

/// The future of an [`OpsService`] call.
type OpsFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, Infallible>> + Send>>;

impl OpsService {
    fn respond<T: Send + 'static>(&self, req: Request<T>) -> OpsFuture {
        let ops = self.clone();
        Box::pin(async move { Ok(ops.answer(req.method(), req.uri().path()).await) })
    }
}

impl<T: Send + 'static> tower_service::Service<Request<T>> for OpsService {
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = OpsFuture;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<T>) -> Self::Future {
        self.respond(req)
    }
}

impl<T: Send + 'static> hyper::service::Service<Request<T>> for OpsService {
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = OpsFuture;

    fn call(&self, req: Request<T>) -> Self::Future {
        self.respond(req)
    }
}
