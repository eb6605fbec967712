//! [`Client`]: the shared connection and settings, the catalog and version negotiation.

use std::fmt;
use std::sync::Arc;

use osb_types::path::ApiPath;
use osb_types::{ApiVersion, Catalog};
use reqwest::Method;

use crate::catalog_cache::CatalogCache;
use crate::error::Result;
use crate::orphan::{Mitigator, OrphanMitigation};
use crate::transport::{Call, Transport};
use crate::version::Capability;

/// What a [`Client`] shares with its clones.
#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) catalog_cache: CatalogCache,
    pub(crate) accepts_incomplete: bool,
    pub(crate) orphan_mitigation: OrphanMitigation,
}

/// An Open Service Broker API client. Cheap to clone (an `Arc` inside); share it freely.
///
/// ```no_run
/// # async fn run() -> osb_client::Result<()> {
/// let client = osb_client::Client::builder("http://127.0.0.1:8080").basic_auth("admin", "secret").build()?;
/// let catalog = client.catalog().await?;
/// println!("{} offerings", catalog.services.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.transport.base.as_str())
            .field("auth", &self.inner.transport.auth)
            .field("api_version", &self.inner.transport.api_version)
            .field("accepts_incomplete", &self.inner.accepts_incomplete)
            .field("orphan_mitigation", &self.inner.orphan_mitigation)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The API version this client sends.
    #[must_use]
    pub fn api_version(&self) -> ApiVersion {
        self.inner.transport.api_version
    }

    /// The base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &url::Url {
        &self.inner.transport.base
    }

    /// The orphan-mitigation policy.
    #[must_use]
    pub fn orphan_mitigation_policy(&self) -> &OrphanMitigation {
        &self.inner.orphan_mitigation
    }

    /// The same client sending another `X-Broker-API-Version` (shares the connection pool).
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for a version outside 2.11–2.17, as
    /// [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn with_api_version(&self, version: ApiVersion) -> Result<Client> {
        crate::version::check_supported(version)?;
        let mut inner = (*self.inner).clone();
        inner.transport.api_version = version;
        inner.catalog_cache = CatalogCache::default();
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// Best-effort version negotiation: fetches the catalog with this client's
    /// version and, while the broker answers `412`, steps down one minor version at a time
    /// (to 2.11). Returns a client pinned to the accepted version, and the catalog.
    ///
    /// # Errors
    /// The last `412` when no version from 2.11 up is accepted; any other catalog error.
    pub async fn negotiate(&self) -> Result<(Client, Catalog)> {
        let mut version = self.inner.transport.api_version;
        loop {
            let candidate = self.with_api_version(version)?;
            match candidate.catalog().await {
                Ok(catalog) => return Ok((candidate, catalog)),
                Err(e) if e.is_version_mismatch() && version > ApiVersion::V2_11 && version.major == 2 => {
                    tracing::info!(%version, "broker refused the API version; stepping down");
                    version = ApiVersion::new(2, version.minor - 1);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /v2/catalog`.
    ///
    /// A catalog the broker sent with an `ETag` or `Last-Modified` is kept (shared by the
    /// clones of this client); the next call revalidates it with `If-None-Match` /
    /// `If-Modified-Since`, and a `304 Not Modified` returns the kept catalog.
    ///
    /// # Errors
    /// A broker error status, a transport failure or timeout, or a body that is not a catalog.
    pub async fn catalog(&self) -> Result<Catalog> {
        let cache = &self.inner.catalog_cache;
        let mut call = Call::new(Method::GET, ApiPath::Catalog);
        call.headers = cache.conditions();
        let raw = self.transport().execute(call).await?;
        if raw.status == 304
            && let Some(catalog) = cache.get()
        {
            tracing::debug!("catalog not modified; using the cached one");
            return Ok(catalog);
        }
        let headers = raw.headers.clone();
        let catalog: Catalog = raw.ok()?;
        cache.store(&catalog, &headers);
        Ok(catalog)
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn require(&self, cap: Capability) -> Result<()> {
        self.inner.transport.require(cap)
    }

    /// Orphan mitigation with this client's transport and policy.
    pub(crate) fn mitigator(&self) -> Mitigator<'_> {
        Mitigator {
            transport: &self.inner.transport,
            policy: &self.inner.orphan_mitigation,
        }
    }
}
