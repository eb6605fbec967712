//! The catalog cache: the last catalog with its validators (`ETag`, `Last-Modified`), so that
//! [`Client::catalog`](crate::Client::catalog) revalidates with `If-None-Match` /
//! `If-Modified-Since` and a `304 Not Modified` answers from memory (spec "Catalog
//! Management": brokers and platforms MAY support them, RFC 9110 §13).

use std::sync::{Arc, Mutex, PoisonError};

use osb_types::Catalog;
use reqwest::header::{ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

/// The last catalog a broker sent with a validator.
#[derive(Debug, Clone)]
struct Cached {
    catalog: Catalog,
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
}

/// Shared by the clones of a client (one API version: another version starts empty).
#[derive(Debug, Clone, Default)]
pub(crate) struct CatalogCache(Arc<Mutex<Option<Cached>>>);

impl CatalogCache {
    /// The conditional headers for the next catalog request (none without a cached catalog).
    pub(crate) fn conditions(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = guard.as_ref() {
            if let Some(etag) = &cached.etag {
                headers.insert(IF_NONE_MATCH, etag.clone());
            }
            if let Some(date) = &cached.last_modified {
                headers.insert(IF_MODIFIED_SINCE, date.clone());
            }
        }
        headers
    }

    /// The cached catalog, after a `304 Not Modified`.
    pub(crate) fn get(&self) -> Option<Catalog> {
        let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(|c| c.catalog.clone())
    }

    /// Keeps a fresh `200` catalog when it came with a validator; forgets the old one
    /// otherwise.
    pub(crate) fn store(&self, catalog: &Catalog, headers: &HeaderMap) {
        let etag = headers.get(ETAG).cloned();
        let last_modified = headers.get(LAST_MODIFIED).cloned();
        let fresh = (etag.is_some() || last_modified.is_some()).then(|| Cached {
            catalog: catalog.clone(),
            etag,
            last_modified,
        });
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
    }
}
