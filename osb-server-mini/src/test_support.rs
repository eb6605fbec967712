//! Calls the request handler without sockets. Not public API: no semver guarantees.

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

/// The handler of a broker, as the server runs it.
pub struct Handler<B: Broker>(Arc<App<B>>);

impl<B: Broker> std::fmt::Debug for Handler<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler").finish_non_exhaustive()
    }
}

/// Builds the handler: validates the catalog and compiles the schemas as the server does.
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
