//! The accept loop: HTTP/1.1 and HTTP/2 (hyper-util auto), header-read and idle timeouts, a
//! cap on open connections (503 past it), graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use http_body::Body;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::auth::PeerCertificates;
use crate::broker::Broker;
use crate::metrics::Metrics;
use crate::service::BrokerService;

/// Connection-level limits and settings.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_grace: Duration,
    /// How long background operations may still run at shutdown.
    pub(crate) background_grace: Duration,
    /// Serve HTTPS with this configuration.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
}

impl Limits {
    /// Whether connections are served over TLS.
    fn https(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }
}

/// The JSON body of the answer to a client past the connection cap.
const OVERLOADED_BODY: &str =
    r#"{"error":"ServiceUnavailable","description":"too many open connections, retry shortly"}"#;

/// What a client past the connection cap receives before the connection is closed.
fn overloaded() -> &'static [u8] {
    static ANSWER: LazyLock<Vec<u8>> = LazyLock::new(|| {
        format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{OVERLOADED_BODY}",
            OVERLOADED_BODY.len()
        )
        .into_bytes()
    });
    &ANSWER
}

/// Whether a connection has requests in progress, and since when it has none: two atomics,
/// as requests start and end on every request.
#[derive(Debug)]
struct Activity {
    /// When the connection opened; `idle_since` counts from it.
    opened: Instant,
    in_flight: AtomicUsize,
    /// Nanoseconds from `opened` to the end of the last request (0: none yet).
    idle_since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    /// A request started; it ends when the guard is dropped.
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(self))
    }

    /// When the connection will have been idle for `idle`, or `None` while a request runs.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        // `InFlight::drop` stores the time before it decrements: seeing no request in
        // progress means seeing the time the last one ended.
        if self.in_flight.load(Ordering::Acquire) != 0 {
            return None;
        }
        let since = Duration::from_nanos(self.idle_since.load(Ordering::Acquire));
        Some(later(self.opened + since, idle))
    }
}

/// `at + after`, saturating far in the future: a timeout may be configured as
/// `Duration::MAX` ("never"), which `Instant + Duration` would overflow on.
fn later(at: Instant, after: Duration) -> Instant {
    at.checked_add(after)
        .unwrap_or_else(|| at + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// One request in progress on a connection.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        let since = u64::try_from(activity.opened.elapsed().as_nanos()).unwrap_or(u64::MAX);
        activity.idle_since.store(since, Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The broker service of one connection: records when requests start and end, and hands
/// the TLS client's certificates to every request.
struct Tracked<B: Broker> {
    service: BrokerService<B>,
    activity: Arc<Activity>,
    peer_certificates: Option<PeerCertificates>,
}

impl<B: Broker> Clone for Tracked<B> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            activity: Arc::clone(&self.activity),
            peer_certificates: self.peer_certificates.clone(),
        }
    }
}

/// The response future of [`Tracked`]: the request counts as in progress until it resolves.
struct TrackedFuture<F> {
    inner: F,
    _in_flight: InFlight,
}

impl<F: Future + Unpin> Future for TrackedFuture<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<B, T> hyper::service::Service<Request<T>> for Tracked<B>
where
    B: Broker,
    T: Body + Send + 'static,
    T::Data: Send,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = <BrokerService<B> as hyper::service::Service<Request<T>>>::Response;
    type Error = <BrokerService<B> as hyper::service::Service<Request<T>>>::Error;
    type Future = TrackedFuture<<BrokerService<B> as hyper::service::Service<Request<T>>>::Future>;

    fn call(&self, mut req: Request<T>) -> Self::Future {
        if let Some(certs) = &self.peer_certificates {
            req.extensions_mut().insert(certs.clone());
        }
        TrackedFuture {
            _in_flight: self.activity.begin(),
            inner: hyper::service::Service::call(&self.service, req),
        }
    }
}

/// Drives one connection until it ends, the server shuts down, or it stays idle too long.
///
/// "Idle" means no request in progress: before the first request head has arrived (which
/// covers the HTTP/1.1 vs HTTP/2 detection, where a client that sends nothing would otherwise
/// wait forever), and between requests, over HTTP/1.1 and HTTP/2 alike. An idle connection is
/// shut down gracefully (HTTP/2 `GOAWAY`) after `idle`, and dropped if it has not closed
/// within a short grace (a tenth of `idle`, at most 1 s): a connection stuck in the middle of
/// a request head never closes gracefully, and must not be held for a second `idle`.
async fn drive<B, I>(
    conn: auto::Connection<'static, I, Tracked<B>, TokioExecutor>,
    activity: Arc<Activity>,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
    peer: SocketAddr,
) where
    B: Broker,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    tokio::pin!(conn);
    let mut closing = false;
    let mut idle_closing = false;
    let mut check = IdleTimer::new(idle);
    let mut stopping = StopSignal::new(&mut stop);
    loop {
        // The connection first: it is what wakes the task, for every request.
        let next = std::future::poll_fn(|cx| {
            if let Poll::Ready(ended) = conn.as_mut().poll(cx) {
                return Poll::Ready(Next::Ended(ended));
            }
            if !closing && Pin::new(&mut stopping).poll(cx).is_ready() {
                return Poll::Ready(Next::Stop);
            }
            check.poll(cx).map(|()| Next::Check)
        })
        .await;
        match next {
            Next::Ended(ended) => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            Next::Stop => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            Next::Check => {
                let now = Instant::now();
                match activity.idle_deadline(idle) {
                    Some(deadline) if deadline <= now => {
                        if idle_closing {
                            tracing::debug!(%peer, "idle connection did not close; dropping it");
                            return;
                        }
                        tracing::debug!(%peer, "closing idle connection");
                        idle_closing = true;
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                        let grace = (idle / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
                        check.reset(later(now, grace));
                    }
                    Some(deadline) => check.reset(deadline),
                    None => {
                        idle_closing = false;
                        check.reset(later(now, idle));
                    }
                }
            }
        }
    }
}

/// What woke [`drive`].
enum Next<E> {
    Ended(Result<(), E>),
    Stop,
    Check,
}

/// The timer of [`drive`]'s idle checks, polled only when it can have changed.
///
/// Polling a `Sleep` that has not elapsed re-registers the waker with the timer and takes
/// from the task's budget; a connection's task is woken for every request, and this runs
/// on every wake. The timer is polled when the waker changed (to register it) or when it
/// has fired (a fired timer wakes the waker it holds), and after every reset.
struct IdleTimer {
    sleep: Pin<Box<tokio::time::Sleep>>,
    registered: Option<std::task::Waker>,
}

impl IdleTimer {
    fn new(after: Duration) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(after)),
            registered: None,
        }
    }

    fn reset(&mut self, deadline: Instant) {
        self.sleep.as_mut().reset(deadline);
        self.registered = None;
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let same_waker = self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if same_waker && !self.sleep.is_elapsed() {
            return Poll::Pending;
        }
        let polled = self.sleep.as_mut().poll(cx);
        // A `Sleep` registers lazily, so only a pending poll has registered this waker; a
        // ready one is polled again after the reset that follows.
        self.registered = polled.is_pending().then(|| cx.waker().clone());
        polled
    }
}

/// Resolves when the server begins to stop, at the cost of an atomic load per poll.
///
/// A connection's task is woken for every request, and `drive` polls this each time. A
/// waiting `watch::Receiver::changed` takes the lock of the channel's waiter list on every
/// poll, a lock every connection of the server shares, so that polling it per request
/// made every request of every connection pass one mutex, from both cores. This polls
/// `changed` when the waker changes (to register it; a send wakes the registered one) and
/// otherwise only when the version it cheaply reads has moved.
struct StopSignal<'a> {
    probe: watch::Receiver<bool>,
    changed: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    /// The waker `changed` was last polled with.
    registered: Option<std::task::Waker>,
}

impl<'a> StopSignal<'a> {
    fn new(stop: &'a mut watch::Receiver<bool>) -> Self {
        let probe = stop.clone();
        Self {
            probe,
            changed: Box::pin(async move {
                let _ = stop.changed().await;
            }),
            registered: None,
        }
    }
}

impl Future for StopSignal<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let same_waker = self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        // A closed channel (`Err`) stops too.
        if same_waker && !self.probe.has_changed().unwrap_or(true) {
            return Poll::Pending;
        }
        if !same_waker {
            self.registered = Some(cx.waker().clone());
        }
        self.changed.as_mut().poll(cx)
    }
}

/// Serves HTTP/1.1 or HTTP/2 on one connection until it ends (see [`drive`]).
async fn serve_connection<B, S>(
    builder: &auto::Builder<TokioExecutor>,
    stream: S,
    service: BrokerService<B>,
    idle: Duration,
    stopped: watch::Receiver<bool>,
    peer: SocketAddr,
    peer_certificates: Option<PeerCertificates>,
) where
    B: Broker,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let tracked = Tracked {
        service,
        activity: Arc::clone(&activity),
        peer_certificates,
    };
    let conn = builder
        .serve_connection(TokioIo::new(stream), tracked)
        .into_owned();
    drive(conn, activity, idle, stopped, peer).await;
}

/// An open connection, counted in the `connections_open` gauge while it lives.
struct OpenConnection(Option<Arc<Metrics>>);

impl OpenConnection {
    fn new(metrics: Option<&Arc<Metrics>>) -> Self {
        if let Some(m) = metrics {
            m.connections_open.inc();
        }
        Self(metrics.cloned())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        if let Some(m) = &self.0 {
            m.connections_open.dec();
        }
    }
}

/// Serves connections from `listener` (and the operations endpoints on `ops`, if given)
/// until `signal`, then shuts down gracefully.
pub(crate) async fn run<B: Broker>(
    listener: TcpListener,
    ops: Option<TcpListener>,
    service: BrokerService<B>,
    limits: Limits,
    signal: impl Future<Output = ()> + Send + 'static,
) {
    // No HTTP/1.1 `header_read_timeout`: `drive` already closes a connection that has had no
    // request in progress for that long, which covers a head that trickles in, with one
    // timer per connection instead of one per request.
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let builder = Arc::new(builder);
    service.app.start();
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(false);
    let metrics = service.app.config.metrics.clone();
    // The operations listener outlives the drain, answering readiness 503 meanwhile.
    let (ops_stop, ops_stopped) = watch::channel(false);
    if let Some(ops) = ops {
        let endpoints = crate::OpsService {
            metrics: metrics.clone(),
            state: Arc::clone(&service.app.state),
        };
        crate::ops_endpoint::spawn(ops, endpoints, ops_stopped);
    }
    tokio::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (mut stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    tracing::warn!(%peer, "connection cap reached; answering 503");
                    if let Some(m) = &metrics {
                        m.connections_refused.inc();
                    }
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(overloaded())).await;
                        let _ = stream.shutdown().await;
                    });
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let open = OpenConnection::new(metrics.as_ref());
                let stopped = stopped.clone();
                let idle = limits.header_read_timeout;
                let builder = Arc::clone(&builder);
                let service = service.clone();
                #[cfg(feature = "tls")]
                if let Some(tls) = &limits.tls {
                    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&tls.config));
                    tokio::spawn(async move {
                        // The handshake counts as idle time: a client that never completes it
                        // is dropped after the header read timeout.
                        match tokio::time::timeout(idle, acceptor.accept(stream)).await {
                            Ok(Ok(tls_stream)) => {
                                let certs = tls_stream.get_ref().1.peer_certificates().map(|chain| {
                                    PeerCertificates(chain.iter().map(|c| c.as_ref().to_vec()).collect())
                                });
                                serve_connection(&builder, tls_stream, service, idle, stopped, peer, certs).await;
                            }
                            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                        drop(open);
                        drop(permit);
                    });
                    continue;
                }
                tokio::spawn(async move {
                    serve_connection(&builder, stream, service, idle, stopped, peer, None).await;
                    drop(open);
                    drop(permit);
                });
            }
            () = &mut signal => break,
        }
    }
    drop(listener);
    drop(stopped);
    service.app.state.begin_draining();
    tracing::info!("shutting down: waiting for in-flight requests");
    let _ = stop.send(true);
    if tokio::time::timeout(limits.shutdown_grace, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period elapsed with connections still open");
    }
    service.app.state.shutdown(limits.background_grace).await;
    let _ = ops_stop.send(true);
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// A server running in a background task (from [`Server::spawn`](crate::Server::spawn)).
///
/// Dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    local_addr: SocketAddr,
    ops_addr: Option<SocketAddr>,
    https: bool,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the operations listener (`/metrics`, `/healthz`, `/readyz`), if
    /// [`Server::ops_listener`](crate::Server::ops_listener) asked for one.
    #[must_use]
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops_addr
    }

    /// `http://<addr>` (`https://<addr>` when serving TLS), ready for a client's base URL.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Stops accepting, waits for in-flight requests, and returns when the server is down.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) fn spawn<B: Broker>(
    listener: TcpListener,
    ops: Option<TcpListener>,
    local_addr: SocketAddr,
    service: BrokerService<B>,
    limits: Limits,
) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let https = limits.https();
    let ops_addr = ops.as_ref().and_then(|l| l.local_addr().ok());
    let task = tokio::spawn(run(listener, ops, service, limits, async {
        let _ = stopped.await;
    }));
    Running {
        local_addr,
        ops_addr,
        https,
        stop: Some(stop),
        task: Some(task),
    }
}
