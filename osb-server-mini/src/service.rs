//! `BrokerService`: the broker as a hyper `Service` and a `tower::Service`, so it can be
//! served by [`Server`](crate::Server) or mounted in any hyper/tower stack (e.g. axum).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use crate::app::App;
use crate::broker::Broker;
use crate::response::{self, HttpResponse};

/// The broker runtime as a service: `Request<impl Body>` in, OSB response out.
///
/// Cheap to clone (an `Arc`). Build it with [`Server::into_service`](crate::Server::into_service).
pub struct BrokerService<B: Broker> {
    pub(crate) app: Arc<App<B>>,
    pub(crate) body_limit: usize,
    pub(crate) body_read_timeout: Duration,
}

impl<B: Broker> Clone for BrokerService<B> {
    fn clone(&self) -> Self {
        Self {
            app: Arc::clone(&self.app),
            body_limit: self.body_limit,
            body_read_timeout: self.body_read_timeout,
        }
    }
}

impl<B: Broker> std::fmt::Debug for BrokerService<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerService")
            .field("body_limit", &self.body_limit)
            .field("body_read_timeout", &self.body_read_timeout)
            .finish_non_exhaustive()
    }
}

impl<B: Broker> BrokerService<B> {
    /// The operations endpoints of this broker (`/metrics` when
    /// [`Server::metrics`](crate::Server::metrics) or `ops_listener` turned them on,
    /// `/healthz`, `/readyz`), to mount beside this service in your own stack.
    #[must_use]
    pub fn operations_service(&self) -> crate::OpsService {
        crate::OpsService {
            metrics: self.app.config.metrics.clone(),
            state: Arc::clone(&self.app.state),
        }
    }

    /// Answers one request.
    ///
    /// The checks that need only the request head run first: routing (404/405),
    /// authentication (401), `X-Broker-API-Version` (412) and originating identity (400). A
    /// request that fails them never has its body read. Then the body is read: 413 at once
    /// when `Content-Length` is over the limit (without reading the body), 413 as soon as a
    /// streamed body passes the limit (without buffering more than the limit), 408 when it
    /// does not arrive within the body read timeout. Then the OSB handler runs.
    pub async fn call<T>(&self, req: Request<T>) -> HttpResponse
    where
        T: Body + Send,
        T::Data: Send,
        T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        if let Some(res) = self.app.answer_now(&parts) {
            return res;
        }
        self.respond_later(parts, body).await
    }

    /// The pipeline for a request [`App::answer_now`] did not answer.
    async fn respond_later<T>(&self, parts: http::request::Parts, body: T) -> HttpResponse
    where
        T: Body + Send,
        T::Data: Send,
        T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let (limit, timeout) = (self.body_limit, self.body_read_timeout);
        self.app
            .respond(parts, move || read_body(body, declared, limit, timeout))
            .await
    }
}

fn too_large(limit: usize) -> HttpResponse {
    response::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        format!("the request body is larger than the limit of {limit} bytes"),
    )
}

/// Reads a request body of at most `limit` bytes within `timeout`.
async fn read_body<T>(
    body: T,
    declared: Option<u64>,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, HttpResponse>
where
    T: Body + Send,
    T::Data: Send,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large(limit));
    }
    if body.is_end_stream() {
        // No body (a GET or DELETE): nothing to wait for, so no timer to arm.
        return Ok(Bytes::new());
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large(limit)),
        Ok(Err(e)) => Err(response::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("the request body could not be read: {e}"),
        )),
        Err(_) => Err(response::error(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeout",
            format!("the request body was not received within {timeout:?}"),
        )),
    }
}

/// The future of a [`BrokerService`] call: ready at once for what is answered without
/// waiting (a catalog request whose caller is decided at once), else the boxed pipeline.
pub struct ResponseFuture(Pending);

enum Pending {
    Ready(Option<HttpResponse>),
    Boxed(Pin<Box<dyn Future<Output = HttpResponse> + Send>>),
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.0 {
            Pending::Ready(_) => "ready",
            Pending::Boxed(_) => "pending",
        };
        f.debug_tuple("ResponseFuture").field(&state).finish()
    }
}

impl Future for ResponseFuture {
    type Output = Result<HttpResponse, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Pending::Ready(res) => match res.take() {
                Some(res) => Poll::Ready(Ok(res)),
                None => panic!("ResponseFuture polled after it completed"),
            },
            Pending::Boxed(fut) => fut.as_mut().poll(cx).map(Ok),
        }
    }
}

impl<B: Broker> BrokerService<B> {
    /// The response future of `req`: answered at once when nothing needs waiting.
    fn respond_to<T>(&self, req: Request<T>) -> ResponseFuture
    where
        T: Body + Send + 'static,
        T::Data: Send,
        T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        if let Some(res) = self.app.answer_now(&parts) {
            return ResponseFuture(Pending::Ready(Some(res)));
        }
        let this = self.clone();
        ResponseFuture(Pending::Boxed(Box::pin(async move {
            this.respond_later(parts, body).await
        })))
    }
}

impl<B, T> hyper::service::Service<Request<T>> for BrokerService<B>
where
    B: Broker,
    T: Body + Send + 'static,
    T::Data: Send,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, req: Request<T>) -> Self::Future {
        self.respond_to(req)
    }
}

impl<B, T> tower_service::Service<Request<T>> for BrokerService<B>
where
    B: Broker,
    T: Body + Send + 'static,
    T::Data: Send,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<T>) -> Self::Future {
        self.respond_to(req)
    }
}

/// Responses of the runtime carry their whole body in memory.
pub type ResponseBody = http_body_util::Full<Bytes>;
