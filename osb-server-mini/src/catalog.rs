//! Replacing the catalog while the server runs: a [`CatalogHandle`] from
//! [`Server::catalog_handle`](crate::Server::catalog_handle).
//!
//! `GET /v2/catalog` always carries an `ETag` (a hash of the JSON answered) and a
//! `Last-Modified` (when that catalog came into force), and answers `304 Not Modified` to a
//! matching `If-None-Match` or, without one, to an `If-Modified-Since` no earlier than
//! `Last-Modified` (RFC 7232, as the specification's "Catalog Management" allows).
//!
//! A replacement is validated (the catalog rules, every parameter schema compiled) before it
//! is put in force; a bad one is refused with the error and the catalog in force keeps
//! being served. Instances and bindings of plans the new catalog no longer has keep being
//! served: they can be fetched, polled, bound, unbound and deprovisioned, but no new
//! instance of such a plan can be provisioned and no instance updated to one (the
//! specification's "Platforms might restrict the actions that users can perform on existing
//! Service Instances if the associated Service Offering or Service Plan is deleted").
//!
//! The plans served are remembered in the store ([`Store::remember_plans`]), written before
//! the first request on records of each catalog (and the first recovery sweep), so a server
//! restarted with a catalog that dropped a plan, or another replica sharing the database,
//! serves the instances of that plan in the same way. [`SqliteStore`], the PostgreSQL store
//! and [`MemoryStore`] remember them; a store of your own that keeps the trait's default
//! forgets them, and then only the process that saw a plan serves its instances.
//!
//! [`Store::remember_plans`]: crate::store::Store::remember_plans
//! [`SqliteStore`]: crate::store::SqliteStore
//! [`MemoryStore`]: crate::store::MemoryStore

use std::sync::Arc;

use osb_types::Catalog;

use crate::ServeError;
use crate::catalog_index::LiveCatalog;

/// Replaces the catalog of a running server. Cheap to clone; usable from any thread.
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
/// # fn load_catalog() -> Catalog { Catalog::default() }
/// # #[tokio::main] async fn main() -> Result<(), osb_server_mini::ServeError> {
/// let server = Server::new(MyBroker);
/// let catalog = server.catalog_handle();
/// let running = server.spawn("127.0.0.1:0").await?;
/// // later, e.g. on SIGHUP:
/// if let Err(e) = catalog.replace(load_catalog()) {
///     eprintln!("new catalog refused, the old one keeps serving: {e}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CatalogHandle {
    pub(crate) live: Arc<LiveCatalog>,
}

impl std::fmt::Debug for CatalogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogHandle")
            .field("etag", &self.etag())
            .finish_non_exhaustive()
    }
}

impl CatalogHandle {
    /// Validates `catalog` and, if it is valid, serves it from now on (requests already
    /// past their catalog lookup finish with the old one).
    ///
    /// # Errors
    /// [`ServeError::InvalidCatalog`] or [`ServeError::InvalidSchema`] when the catalog breaks
    /// the specification (the catalog in force stays); [`ServeError::NotServing`] before the
    /// server is built.
    pub fn replace(&self, catalog: Catalog) -> Result<(), ServeError> {
        self.live.replace(catalog)
    }

    /// The catalog in force, `None` before the server is built.
    #[must_use]
    pub fn current(&self) -> Option<Catalog> {
        self.live.try_current().map(|c| c.catalog.clone())
    }

    /// The `ETag` of the catalog in force (with its quotes), `None` before the server is built.
    #[must_use]
    pub fn etag(&self) -> Option<String> {
        self.live
            .try_current()
            .and_then(|c| c.etag.to_str().ok().map(str::to_owned))
    }
}
