//! `Server`: the builder that turns a [`Broker`] into a running, spec-compliant HTTP server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use osb_types::ApiVersion;
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::ServeError;
use crate::app::App;
use crate::auth::{AsyncAuthenticator, Authenticator, BasicAuth};
use crate::broker::Broker;
use crate::config::Config;
use crate::serve::{self, Running};
use crate::service::BrokerService;
use crate::store::Store;

/// Configures and runs a broker server.
///
/// ```no_run
/// # use osb_server_mini::{Broker, BrokerError, RequestContext, Server, reply::*, request::*};
/// # use osb_server_mini::types::{Catalog, ProvisionRequest};
/// # struct MyBroker;
/// # impl Broker for MyBroker {
/// #   fn catalog(&self) -> Catalog { Catalog::default() }
/// #   async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> { Ok(Provisioned::done()) }
/// #   async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> { Ok(Deprovisioned::done()) }
/// # }
/// # #[tokio::main] async fn main() -> Result<(), osb_server_mini::ServeError> {
/// Server::new(MyBroker)
///     .basic_auth("admin", "secret")
///     .serve("127.0.0.1:8080") // until SIGINT/SIGTERM, then drains in-flight requests
///     .await
/// # }
/// ```
#[must_use = "a Server does nothing until `serve`, `spawn` or `into_service` is called"]
pub struct Server<B: Broker> {
    broker: B,
    config: Config,
    basic: Option<BasicAuth>,
    /// The first invalid credential given to the builder, reported when it builds.
    credential_error: Option<ServeError>,
    /// Where the operations endpoints listen, if anywhere.
    ops_addr: Option<std::net::SocketAddr>,
    shutdown_grace: Duration,
    background_grace: Duration,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConfig>,
}

impl<B: Broker> std::fmt::Debug for Server<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("min_api_version", &self.config.min_api_version)
            .field("body_limit", &self.config.body_limit)
            .field("basic_auth", &self.basic)
            .field("https", &self.https())
            .finish_non_exhaustive()
    }
}

impl<B: Broker> Server<B> {
    /// A server for this broker, with no authentication, API 2.13 or later, a 1 MiB body
    /// limit, a 10 s header-read timeout and an in-memory store.
    pub fn new(broker: B) -> Self {
        Self {
            broker,
            config: Config::default(),
            basic: None,
            credential_error: None,
            ops_addr: None,
            shutdown_grace: Duration::from_secs(30),
            background_grace: Duration::from_secs(10),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Accepts HTTP Basic credentials; call again to accept several users.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        let basic = self.basic.take().unwrap_or_default();
        self.basic = Some(basic.user(username, password));
        self
    }

    /// Accepts an HTTP Basic user whose password is given as an argon2 PHC hash string
    /// (see [`auth::hash_password`](crate::auth::hash_password)), so the configuration holds
    /// no password; combines with [`basic_auth`](Self::basic_auth) users. Verified
    /// credentials are cached (keyed by a keyed hash), so the slow hash runs once per
    /// credential, off the async threads.
    ///
    /// An invalid hash string makes `serve`, `spawn` and `into_service` fail with
    /// [`ServeError::InvalidCredential`].
    pub fn basic_auth_hash(mut self, username: impl Into<String>, phc: &str) -> Self {
        let basic = self.basic.take().unwrap_or_default();
        match basic.clone().user_hash(username, phc) {
            Ok(basic) => self.basic = Some(basic),
            Err(e) => {
                self.basic = Some(basic);
                self.credential_error.get_or_insert(e);
            }
        }
        self
    }

    /// Uses another authentication scheme that looks at the `Authorization` header only
    /// (bearer tokens, a [`BasicAuth`] built elsewhere, ...); replaces any `basic_auth`
    /// users. It runs inline on the async threads, so it must be fast.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.basic = None;
        self.config.authenticator = Some(Arc::new(crate::auth::Inline(Arc::new(authenticator))));
        self
    }

    /// Uses an authenticator that sees the request head and the TLS client certificates
    /// and may wait ([`ClientCertificate`](crate::auth::ClientCertificate) for mTLS,
    /// [`BearerTokens`](crate::auth::BearerTokens) with hashed tokens, or your own);
    /// replaces any `basic_auth` users. The [`Caller`](crate::auth::Caller) it returns
    /// reaches [`RequestContext::caller`](crate::RequestContext::caller).
    pub fn async_authenticator(mut self, authenticator: impl AsyncAuthenticator) -> Self {
        self.basic = None;
        self.config.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// A handle that replaces the catalog while the server runs (see [`crate::catalog`]);
    /// usable once the server is built by `serve`, `spawn` or `into_service`.
    pub fn catalog_handle(&self) -> crate::catalog::CatalogHandle {
        crate::catalog::CatalogHandle {
            live: Arc::clone(&self.config.catalog),
        }
    }

    /// Serves the operations endpoints on `addr`, a listener of their own (not the broker's
    /// port, outside `/v2`, without authentication; keep it off the Platform's network):
    /// `GET /metrics` (Prometheus / OpenMetrics text: requests by route template, method and
    /// status, latencies per route, broker call latencies and errors per operation,
    /// asynchronous operations running and finished, store call latencies and errors,
    /// connections open and refused; never ids in labels), `GET /healthz` (liveness: 200
    /// while the process serves) and `GET /readyz` (readiness: 503 while the store does not
    /// answer a ping). Turns metrics on; use port 0 for a free port
    /// ([`Running::ops_addr`](crate::Running::ops_addr) tells it).
    pub fn ops_listener(mut self, addr: std::net::SocketAddr) -> Self {
        self.ops_addr = Some(addr);
        self.metrics()
    }

    /// Turns the metrics on without a listener of their own: for a service mounted with
    /// [`into_service`](Self::into_service), whose
    /// [`operations_service`](crate::BrokerService::operations_service) answers `/metrics`,
    /// `/healthz` and `/readyz` wherever you mount it. ([`ops_listener`](Self::ops_listener)
    /// turns them on too.)
    pub fn metrics(mut self) -> Self {
        self.config
            .metrics
            .get_or_insert_with(|| Arc::new(crate::metrics::Metrics::new()));
        self
    }

    /// The lowest `X-Broker-API-Version` accepted (default 2.13); every later 2.x is accepted.
    pub fn min_api_version(mut self, version: ApiVersion) -> Self {
        self.config.min_api_version = version;
        self
    }

    /// Largest request body in bytes (default 1 MiB); larger bodies get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config.body_limit = bytes;
        self
    }

    /// The longest a connection may go without a request in progress (default 10 s), which
    /// is also the time a client has to send a request's headers.
    ///
    /// A client that connects and sends nothing (or too little to tell HTTP/1.1 from HTTP/2),
    /// that trickles its headers in, or that keeps an HTTP/1.1 or HTTP/2 connection open
    /// without using it, is disconnected after this time (HTTP/2 with a `GOAWAY`), so slow or
    /// idle connections cannot use up [`max_connections`](Self::max_connections). One timer
    /// per connection does this, not one per request.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// Time a client has to send its request body (default 30 s); slower bodies get 408.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_read_timeout = timeout;
        self
    }

    /// Most connections served at once (default 1024); further ones get 503.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.max(1);
        self
    }

    /// How long shutdown waits for in-flight requests (default 30 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// How long background operations may still run once shutdown has begun (default
    /// 10 s, after the in-flight requests have been answered). What still runs then is
    /// stopped and its lease released, so the next start (or another replica) recovers it
    /// at once through [`Broker::resume`](crate::Broker::resume).
    pub fn background_grace(mut self, grace: Duration) -> Self {
        self.background_grace = grace;
        self
    }

    /// Keeps the runtime's records in this store (default: in memory, forgotten on restart;
    /// use [`SqliteStore`](crate::store::SqliteStore) or a shared database in production).
    pub fn store(mut self, store: impl Store) -> Self {
        self.config.store = Arc::new(store);
        self
    }

    /// Keeps the runtime's records in a store shared with other code (e.g. a test that
    /// inspects it).
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.config.store = store;
        self
    }

    /// How long running work stays owned by this process without a renewal (default 30 s;
    /// renewed every third of it while the work runs). When a process dies, its work is
    /// recovered by another process once the lease expires (at once at the next start on a
    /// store only one process opens).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.state.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// How long a finished asynchronous delete is remembered (default 24 h), so that the
    /// Platform's poll for it is answered `succeeded` or `410 Gone` rather than 404.
    pub fn tombstone_ttl(mut self, ttl: Duration) -> Self {
        self.config.state.tombstone_ttl = ttl;
        self
    }

    /// How often the runtime looks for interrupted work and expired tombstones (default 5 s).
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.config.state.sweep_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Serves HTTPS: TLS with this certificate and key, HTTP/2 and HTTP/1.1 by ALPN (needs
    /// the `tls` cargo feature). A client that does not complete the TLS handshake within
    /// the [header read timeout](Self::header_read_timeout) is disconnected. Plain HTTP is no
    /// longer served on that port.
    ///
    /// ```no_run
    /// # use osb_server_mini::{Broker, BrokerError, RequestContext, Server, reply::*, request::*};
    /// # use osb_server_mini::types::{Catalog, ProvisionRequest};
    /// # struct MyBroker;
    /// # impl Broker for MyBroker {
    /// #   fn catalog(&self) -> Catalog { Catalog::default() }
    /// #   async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> { Ok(Provisioned::done()) }
    /// #   async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> { Ok(Deprovisioned::done()) }
    /// # }
    /// # #[tokio::main] async fn main() -> Result<(), osb_server_mini::ServeError> {
    /// use osb_server_mini::tls::TlsConfig;
    /// Server::new(MyBroker)
    ///     .tls(TlsConfig::from_pem_files("/etc/broker/cert.pem", "/etc/broker/key.pem")?)
    ///     .serve("0.0.0.0:8443")
    ///     .await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    async fn bind_ops(&self) -> Result<Option<TcpListener>, ServeError> {
        match self.ops_addr {
            Some(addr) => Ok(Some(TcpListener::bind(addr).await?)),
            None => Ok(None),
        }
    }

    fn https(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    fn finish(mut self) -> Result<(BrokerService<B>, serve::Limits), ServeError> {
        if let Some(e) = self.credential_error.take() {
            return Err(e);
        }
        if let Some(basic) = self.basic.take() {
            self.config.authenticator = Some(Arc::new(basic));
        }
        let limits = serve::Limits {
            header_read_timeout: self.config.header_read_timeout,
            max_connections: self.config.max_connections,
            shutdown_grace: self.shutdown_grace,
            background_grace: self.background_grace,
            #[cfg(feature = "tls")]
            tls: self.tls.take(),
        };
        let service = BrokerService {
            body_limit: self.config.body_limit,
            body_read_timeout: self.config.body_read_timeout,
            app: App::build(self.broker, self.config)?,
        };
        Ok((service, limits))
    }

    /// Builds the service without serving it, to mount in another hyper or tower stack.
    ///
    /// # Errors
    /// [`ServeError::InvalidCatalog`] / [`ServeError::InvalidSchema`] if the catalog breaks the spec.
    pub fn into_service(self) -> Result<BrokerService<B>, ServeError> {
        self.finish().map(|(s, _)| s)
    }

    /// Binds `addr` and serves until SIGINT or SIGTERM, then shuts down gracefully.
    ///
    /// # Errors
    /// An invalid catalog, or an I/O error binding the address.
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), ServeError> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_with_shutdown(listener, serve::shutdown_signal()).await
    }

    /// Serves on `listener` until `signal` completes, then shuts down gracefully.
    ///
    /// # Errors
    /// An invalid catalog.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let ops = self.bind_ops().await?;
        let (service, limits) = self.finish()?;
        serve::run(listener, ops, service, limits, signal).await;
        Ok(())
    }

    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves in a background task.
    /// The returned handle knows the URL and stops the server when asked or dropped.
    ///
    /// # Errors
    /// An invalid catalog, or an I/O error binding the address.
    pub async fn spawn(self, addr: impl ToSocketAddrs) -> Result<Running, ServeError> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let ops = self.bind_ops().await?;
        let (service, limits) = self.finish()?;
        Ok(serve::spawn(listener, ops, local_addr, service, limits))
    }
}

/// Serves `broker` on `listener` with default settings until SIGINT/SIGTERM.
///
/// # Errors
/// An invalid catalog.
pub async fn serve<B: Broker>(listener: TcpListener, broker: B) -> Result<(), ServeError> {
    Server::new(broker)
        .serve_with_shutdown(listener, serve::shutdown_signal())
        .await
}
