//! Test kits for broker authors (feature `test-util`).
//!
//! - [`TestBroker`]: the broker served on a free loopback port, with an
//!   [`osb_client::Client`] wired to it, in one line, to test it the way a Platform uses it.
//! - [`context`]: a [`RequestContext`](crate::RequestContext) with a plan, an offering, an
//!   instance record, identities and an API version, to call a broker's methods directly,
//!   without sockets.
//! - [`handler`]: the runtime's request handler, to send it `http::Request`s without sockets.
//!
//! ```toml
//! [dev-dependencies]
//! osb-server-mini = { version = "0.1", features = ["test-util"] }
//! ```
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use osb_server_mini::reply::{Deprovisioned, Provisioned};
//! use osb_server_mini::request::DeprovisionRequest;
//! use osb_server_mini::testing::{TestBroker, context};
//! use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
//! use osb_server_mini::{Broker, BrokerError, RequestContext};
//!
//! struct MyBroker;
//! impl Broker for MyBroker {
//!     fn catalog(&self) -> Catalog {
//!         Catalog::new(vec![ServiceOffering::new(
//!             "svc", "db", "A database", vec![ServicePlan::new("p-small", "small", "Small")],
//!         )])
//!     }
//!     async fn provision(&self, ctx: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
//!         let plan = ctx.plan().map(|p| p.name.clone()).unwrap_or_default();
//!         Ok(Provisioned::done().dashboard_url(format!("https://db.test/{plan}/{}", ctx.instance_id())))
//!     }
//!     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
//!         Ok(Deprovisioned::done())
//!     }
//! }
//!
//! // 1. Through the runtime and a client, on a real socket:
//! let broker = TestBroker::start(MyBroker).await;
//! let instance = broker.client().instance("inst-1");
//! let req = ProvisionRequest::new("svc", "p-small").with_org_space("org", "space");
//! let created = instance.provision(&req).await.unwrap();
//! assert_eq!(created.dashboard_url(), Some("https://db.test/small/inst-1"));
//!
//! // 2. Calling the method directly, with the context the runtime would build:
//! let ctx = context("inst-2").plan_of(&MyBroker.catalog(), "small").build();
//! let done = MyBroker.provision(&ctx, req).await.unwrap();
//! assert!(!done.is_async());
//! # }
//! ```

mod context;
mod handler;

use std::net::SocketAddr;
use std::time::Duration;

use osb_client::{Client, ClientBuilder, OrphanMitigation};
use osb_types::InstanceId;

pub use context::ContextBuilder;
pub use handler::{Handler, handler};

use crate::broker::Broker;
use crate::error::ServeError;
use crate::serve::Running;
use crate::server::Server;

/// The Basic-auth user of a [`TestBroker`].
pub const USER: &str = "test-user";
/// The Basic-auth password of a [`TestBroker`].
pub const PASSWORD: &str = "test-password";

/// A [`ContextBuilder`] for a request on this instance.
///
/// ```
/// use osb_server_mini::testing::context;
/// let ctx = context("inst-1").binding("bind-1").build();
/// assert_eq!(ctx.instance_id(), "inst-1");
/// ```
pub fn context(instance_id: impl Into<InstanceId>) -> ContextBuilder {
    ContextBuilder::new(instance_id.into())
}

/// A broker served on `127.0.0.1` on a free port, with Basic auth ([`USER`], [`PASSWORD`]),
/// and a [`Client`] for it. Dropping it stops the server.
///
/// The client is an ordinary [`osb_client::Client`] (API 2.17, `accepts_incomplete=true`),
/// except that its orphan mitigation retries quickly (every 10 ms, for at most 5 s), so a
/// test that makes a broker fail does not wait minutes. [`TestBroker::builder`] tunes both.
#[derive(Debug)]
pub struct TestBroker {
    running: Running,
    client: Client,
}

impl TestBroker {
    /// Serves `broker` with the [`Server`] defaults (an in-memory store).
    ///
    /// # Panics
    /// When the server cannot start (e.g. an invalid catalog): the test fails with the
    /// reason. [`TestBrokerBuilder::try_start`] returns it instead.
    pub async fn start<B: Broker>(broker: B) -> Self {
        Self::builder(broker).start().await
    }

    /// Configures the server and the client first.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use osb_server_mini::{Broker, BrokerError, RequestContext, types::{Catalog, ProvisionRequest}};
    /// # use osb_server_mini::{reply::{Deprovisioned, Provisioned}, request::DeprovisionRequest};
    /// # struct MyBroker;
    /// # impl Broker for MyBroker {
    /// #     fn catalog(&self) -> Catalog { Catalog::new(vec![]) }
    /// #     async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> { Ok(Provisioned::done()) }
    /// #     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> { Ok(Deprovisioned::done()) }
    /// # }
    /// use osb_server_mini::testing::TestBroker;
    /// use osb_server_mini::types::ApiVersion;
    /// let broker = TestBroker::builder(MyBroker)
    ///     .server(|s| s.min_api_version(ApiVersion::V2_14))
    ///     .client(|c| c.api_version(ApiVersion::V2_13))
    ///     .try_start()
    ///     .await
    ///     .unwrap();
    /// let refused = broker.client().catalog().await.unwrap_err();
    /// assert_eq!(refused.status(), Some(412));
    /// # }
    /// ```
    pub fn builder<B: Broker>(broker: B) -> TestBrokerBuilder<B> {
        TestBrokerBuilder {
            server: Server::new(broker).basic_auth(USER, PASSWORD),
            client: Box::new(|c| c),
        }
    }

    /// The client wired to the broker.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// The address the broker listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.running.local_addr()
    }

    /// Stops the server gracefully and waits until it is down.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// The client configuration of a [`TestBrokerBuilder`].
type ClientConfig = Box<dyn FnOnce(ClientBuilder) -> ClientBuilder + Send>;

/// Configures a [`TestBroker`]: see [`TestBroker::builder`].
#[must_use]
pub struct TestBrokerBuilder<B: Broker> {
    server: Server<B>,
    client: ClientConfig,
}

impl<B: Broker> std::fmt::Debug for TestBrokerBuilder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestBrokerBuilder")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<B: Broker> TestBrokerBuilder<B> {
    /// Changes the server (store, limits, authentication, minimum API version, ...). A
    /// different authentication needs the matching client setting.
    pub fn server(mut self, configure: impl FnOnce(Server<B>) -> Server<B>) -> Self {
        self.server = configure(self.server);
        self
    }

    /// Changes the client (API version, orphan-mitigation policy, identities, ...), after
    /// the kit's own settings.
    pub fn client(mut self, configure: impl FnOnce(ClientBuilder) -> ClientBuilder + Send + 'static) -> Self {
        let previous = self.client;
        self.client = Box::new(move |c| configure(previous(c)));
        self
    }

    /// Starts the broker.
    ///
    /// # Panics
    /// When the server cannot start or the client configuration is invalid.
    pub async fn start(self) -> TestBroker {
        match self.try_start().await {
            Ok(broker) => broker,
            Err(e) => panic!("the test broker did not start: {e}"),
        }
    }

    /// Starts the broker.
    ///
    /// # Errors
    /// What [`Server::spawn`] returns (an invalid catalog or schema, ...).
    ///
    /// # Panics
    /// When the client configuration is invalid.
    pub async fn try_start(self) -> Result<TestBroker, ServeError> {
        let running = self.server.spawn("127.0.0.1:0").await?;
        let quick = OrphanMitigation::default()
            .retry_delay(Duration::from_millis(10))
            .poll_interval(Duration::from_millis(10))
            .max_delay(Duration::from_millis(100))
            .max_duration(Duration::from_secs(5));
        let builder = Client::builder(running.url())
            .basic_auth(USER, PASSWORD)
            .orphan_mitigation(quick);
        let client = match (self.client)(builder).build() {
            Ok(client) => client,
            Err(e) => panic!("invalid client configuration for the test broker: {e}"),
        };
        Ok(TestBroker { running, client })
    }
}
