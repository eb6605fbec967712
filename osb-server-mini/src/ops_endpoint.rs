//! The operations listener: `GET /metrics` (OpenMetrics text), `GET /healthz` (liveness)
//! and `GET /readyz` (readiness: the store answers a ping), outside `/v2` and without
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
use crate::store::Store;

/// How long readiness waits for the store's ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// What the operations endpoints need.
#[derive(Clone)]
pub(crate) struct Ops {
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) store: Arc<dyn Store>,
}

impl Ops {
    async fn answer(&self, method: &Method, path: &str) -> HttpResponse {
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
            _ => match tokio::time::timeout(PING_TIMEOUT, self.store.ping()).await {
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

/// Serves the operations endpoints on `listener` until `stop` changes.
pub(crate) fn spawn(listener: TcpListener, ops: Ops, mut stop: watch::Receiver<bool>) {
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
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let ops = ops.clone();
                    async move { Ok::<_, Infallible>(ops.answer(req.method(), req.uri().path()).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service);
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
