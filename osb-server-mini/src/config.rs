//! Runtime settings, filled by the [`Server`](crate::Server) builder.

use std::sync::Arc;
use std::time::Duration;

use osb_types::ApiVersion;

use crate::auth::AsyncAuthenticator;
use crate::store::Store;

/// Default largest request body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default time a client has to send its request headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send its request body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Everything the request handler needs besides the broker.
#[derive(Clone)]
pub(crate) struct Config {
    /// `None`: no authentication (only for tests and trusted networks).
    pub(crate) authenticator: Option<Arc<dyn AsyncAuthenticator>>,
    /// Lowest `X-Broker-API-Version` accepted; any newer 2.x is accepted.
    pub(crate) min_api_version: ApiVersion,
    pub(crate) body_limit: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) store: Arc<dyn Store>,
    /// Leases, tombstones, the sweep interval.
    pub(crate) state: crate::state::StateSettings,
    /// The runtime's metrics, when an operations listener serves them.
    pub(crate) metrics: Option<Arc<crate::metrics::Metrics>>,
    /// The catalog in force once the app is built (shared with `CatalogHandle`s).
    pub(crate) catalog: Arc<crate::catalog_index::LiveCatalog>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            authenticator: None,
            min_api_version: ApiVersion::V2_13,
            body_limit: DEFAULT_BODY_LIMIT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            store: Arc::new(crate::store::MemoryStore::default()),
            state: crate::state::StateSettings::default(),
            catalog: Arc::default(),
            metrics: None,
        }
    }
}
