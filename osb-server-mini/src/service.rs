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
    /// Answers one request: reads the body (413 past the limit, 408 past the read timeout,
    /// without buffering more than the limit), then runs the OSB handler.
    pub async fn call<T>(&self, req: Request<T>) -> HttpResponse
    where
        T: Body + Send,
        T::Data: Send,
        T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request_identity = req
            .headers()
            .get(osb_types::version::REQUEST_IDENTITY_HEADER)
            .cloned();
        let fail = |status: StatusCode, code: &str, description: String| {
            let mut res = response::error(status, code, description);
            response::echo_request_identity(&mut res, request_identity.as_ref());
            res
        };
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.body_limit as u64) {
            return fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                format!(
                    "the request body is larger than the limit of {} bytes",
                    self.body_limit
                ),
            );
        }
        let (parts, body) = req.into_parts();
        let collected = tokio::time::timeout(
            self.body_read_timeout,
            Limited::new(body, self.body_limit).collect(),
        );
        let bytes = match collected.await {
            Ok(Ok(c)) => c.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return fail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PayloadTooLarge",
                    format!(
                        "the request body is larger than the limit of {} bytes",
                        self.body_limit
                    ),
                );
            }
            Ok(Err(e)) => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("the request body could not be read: {e}"),
                );
            }
            Err(_) => {
                return fail(
                    StatusCode::REQUEST_TIMEOUT,
                    "RequestTimeout",
                    format!(
                        "the request body was not received within {:?}",
                        self.body_read_timeout
                    ),
                );
            }
        };
        self.app.handle(Request::from_parts(parts, bytes)).await
    }
}

type BoxResponseFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, Infallible>> + Send>>;

impl<B, T> hyper::service::Service<Request<T>> for BrokerService<B>
where
    B: Broker,
    T: Body + Send + 'static,
    T::Data: Send,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = BoxResponseFuture;

    fn call(&self, req: Request<T>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(BrokerService::call(&this, req).await) })
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
    type Future = BoxResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<T>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(BrokerService::call(&this, req).await) })
    }
}

/// Responses of the runtime carry their whole body in memory.
pub type ResponseBody = http_body_util::Full<Bytes>;
