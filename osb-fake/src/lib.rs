//! # osb-fake
//!
//! A fake Open Service Broker for testing platform code: a real HTTP/1.1 server on
//! loopback whose answers are scripted per route (method and path, so per instance and
//! binding id), and which records every request it receives. Make it fail in each way the
//! specification describes (5xx, malformed `201`/`202`, timeouts, closed connections,
//! `Retry-After`, a `failed` `last_operation`, `410` while polling) without writing a broker,
//! then assert what your code sent.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use osb_fake::{Expect, FakeBroker, Reply};
//! use osb_client::types::ProvisionRequest;
//!
//! let fake = FakeBroker::start().await;
//! let path = "/v2/service_instances/i-1";
//! // first a 202 with Retry-After, then the broker says it is busy
//! fake.on_each(http::Method::PUT, path, [
//!     Reply::json(202, serde_json::json!({ "operation": "op-1" })).header("Retry-After", "3"),
//!     Reply::error(422, "ConcurrencyError", "busy"),
//! ]);
//!
//! let client = osb_client::Client::builder(fake.url()).build().unwrap();
//! let req = ProvisionRequest::new("svc", "plan").with_org_space("org", "space");
//! let accepted = client.instance("i-1").provision(&req).await.unwrap();
//! assert_eq!(accepted.operation().unwrap(), "op-1");
//! let busy = client.instance("i-1").provision(&req).await.unwrap_err();
//! assert!(busy.is_concurrency_error());
//!
//! let puts = fake.received(&Expect::put(path).query("accepts_incomplete", "true"));
//! assert_eq!(puts.len(), 2);
//! assert_eq!(puts[0].json().unwrap()["plan_id"], "plan");
//! assert_eq!(puts[0].header("X-Broker-API-Version"), Some("2.17"));
//! # }
//! ```
//!
//! A route that has no script answers `404` with an OSB error body naming the route; a
//! script of several replies is played in order and its last reply repeats.
//!
//! Why a crate of its own: it is a server (hyper), which a Platform's client does not
//! need; as a separate dev-dependency it adds nothing to `osb-client`.

#![deny(missing_docs)]

mod record;
mod reply;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use record::{Expect, Recorded};
pub use reply::Reply;

/// The scripted answers of one route.
#[derive(Debug)]
struct Script {
    next: VecDeque<Reply>,
    last: Reply,
}

#[derive(Debug, Default)]
struct State {
    routes: HashMap<(Method, String), Script>,
    log: Vec<Recorded>,
}

/// The fake broker, serving on `127.0.0.1` until it is dropped.
#[derive(Debug)]
pub struct FakeBroker {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why a connection was closed without an answer ([`Reply::close`]).
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the script closes the connection")
    }
}

impl std::error::Error for Closed {}

impl FakeBroker {
    /// Starts the fake broker on a free loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("the fake broker cannot listen on 127.0.0.1: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("the fake broker has no address: {e}"),
        };
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    // A scripted close ends the connection with an error: nothing to report.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:<port>`: the base URL for the client under test.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers every `method` request to `path` (without the query) with `reply`, replacing
    /// any earlier script of that route.
    pub fn on(&self, method: Method, path: &str, reply: Reply) {
        self.on_each(method, path, [reply]);
    }

    /// Answers `method` requests to `path` with these replies in order; the last one
    /// repeats. Replaces any earlier script of that route.
    ///
    /// # Panics
    /// When `replies` is empty.
    pub fn on_each(&self, method: Method, path: &str, replies: impl IntoIterator<Item = Reply>) {
        let mut next: VecDeque<Reply> = replies.into_iter().collect();
        let Some(last) = next.pop_back() else {
            panic!("on_each needs at least one reply for {method} {path}");
        };
        self.state()
            .routes
            .insert((method, path.to_owned()), Script { next, last });
    }

    /// Serves `catalog` on `GET /v2/catalog`.
    pub fn catalog(&self, catalog: &osb_types::Catalog) {
        let body = serde_json::to_value(catalog).unwrap_or_default();
        self.on(Method::GET, "/v2/catalog", Reply::json(200, body));
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().log.clone()
    }

    /// The requests received so far that match `expect`, in order.
    #[must_use]
    pub fn received(&self, expect: &Expect) -> Vec<Recorded> {
        self.state()
            .log
            .iter()
            .filter(|r| expect.matches(r))
            .cloned()
            .collect()
    }

    /// How many received requests match `expect`.
    #[must_use]
    pub fn count(&self, expect: &Expect) -> usize {
        self.state().log.iter().filter(|r| expect.matches(r)).count()
    }

    /// Asserts that requests matching `expected` arrived in this order (others may come
    /// in between), e.g. "a DELETE with these query parameters after the failed PUT".
    ///
    /// # Panics
    /// When they did not, listing every request received.
    pub fn assert_in_order(&self, expected: &[Expect]) {
        let log = self.requests();
        let mut from = 0;
        for (n, e) in expected.iter().enumerate() {
            match log[from..].iter().position(|r| e.matches(r)) {
                Some(i) => from += i + 1,
                None => panic!(
                    "expected request {} ({e}) after {}, received:\n{}",
                    n + 1,
                    if n == 0 {
                        "the start".to_owned()
                    } else {
                        format!("request #{}", from - 1)
                    },
                    listing(&log)
                ),
            }
        }
    }

    /// Asserts that no received request matches `unexpected`.
    ///
    /// # Panics
    /// When one did, listing every request received.
    pub fn assert_none(&self, unexpected: &Expect) {
        let log = self.requests();
        assert!(
            !log.iter().any(|r| unexpected.matches(r)),
            "unexpected {unexpected}, received:\n{}",
            listing(&log)
        );
    }
}

fn listing(log: &[Recorded]) -> String {
    if log.is_empty() {
        return "  (nothing)".to_owned();
    }
    log.iter()
        .map(|r| format!("  {r:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn answer(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Closed> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let reply = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let index = state.log.len();
        state.log.push(Recorded {
            index,
            method: parts.method.clone(),
            path: path.clone(),
            query,
            headers: parts.headers,
            body,
        });
        match state.routes.get_mut(&(parts.method.clone(), path.clone())) {
            Some(script) => script.next.pop_front().unwrap_or_else(|| script.last.clone()),
            None => Reply::error(
                404,
                "NotFound",
                &format!(
                    "the fake broker has no answer scripted for {} {path}",
                    parts.method
                ),
            ),
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.close {
        return Err(Closed);
    }
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        response.headers_mut().append(name, value);
    }
    Ok(response)
}
