//! [`Handler`]: the runtime's request handler, called without sockets.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use osb_types::ApiVersion;

use crate::ServeError;
use crate::app::App;
use crate::auth::Authenticator;
use crate::broker::Broker;
use crate::config::Config;
use crate::store::Store;

/// The handler of a broker, as the server runs it: every OSB rule of the runtime, answered
/// for an `http::Request` without a socket.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use bytes::Bytes;
/// use osb_server_mini::testing::handler;
/// # use osb_server_mini::{Broker, BrokerError, RequestContext, types::{Catalog, ProvisionRequest}};
/// # use osb_server_mini::{reply::{Deprovisioned, Provisioned}, request::DeprovisionRequest};
/// # struct MyBroker;
/// # impl Broker for MyBroker {
/// #     fn catalog(&self) -> Catalog { Catalog::new(vec![]) }
/// #     async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> { Ok(Provisioned::done()) }
/// #     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> { Ok(Deprovisioned::done()) }
/// # }
/// let h = handler(MyBroker, None, None, None).unwrap();
/// let req = http::Request::get("/v2/catalog")
///     .header("X-Broker-API-Version", "2.17")
///     .body(Bytes::new())
///     .unwrap();
/// assert_eq!(h.handle(req).await.status(), 200);
/// # }
/// ```
pub struct Handler<B: Broker>(Arc<App<B>>);

impl<B: Broker> std::fmt::Debug for Handler<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler").finish_non_exhaustive()
    }
}

/// Builds the handler: validates the catalog and compiles the schemas as the server does.
/// `None`s mean what [`Server`](crate::Server) defaults to: no authentication, API 2.11 or
/// later, an in-memory store.
///
/// # Errors
/// [`ServeError::InvalidCatalog`] or [`ServeError::InvalidSchema`].
pub fn handler<B: Broker>(
    broker: B,
    authenticator: Option<Arc<dyn Authenticator>>,
    min_api_version: Option<ApiVersion>,
    store: Option<Arc<dyn Store>>,
) -> Result<Handler<B>, ServeError> {
    let mut config = Config {
        authenticator: authenticator
            .map(|a| Arc::new(crate::auth::Inline(a)) as Arc<dyn crate::auth::AsyncAuthenticator>),
        ..Config::default()
    };
    if let Some(v) = min_api_version {
        config.min_api_version = v;
    }
    if let Some(s) = store {
        config.store = s;
    }
    Ok(Handler(App::build(broker, config)?))
}

impl<B: Broker> Handler<B> {
    /// Answers one request whose body has been read.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Full<Bytes>> {
        self.0.handle(req).await
    }
}
