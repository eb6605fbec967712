//! The answer to `GET /v2/catalog`: the serialized catalog with its `ETag` and
//! `Last-Modified`, or `304 Not Modified` to a conditional request that matches (RFC 7232).

use std::time::SystemTime;

use bytes::Bytes;
use http::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;

use crate::catalog_index::CatalogIndex;
use crate::response::HttpResponse;

/// 200 with the catalog, or 304 when the client's copy is current. Both carry the
/// validators. `headers`: the request's, or `None` when it has no conditional header.
pub(crate) fn answer(catalog: &CatalogIndex, headers: Option<&HeaderMap>) -> HttpResponse {
    if headers.is_some_and(|h| not_modified(catalog, h)) {
        let mut res = Response::new(Full::new(Bytes::new()));
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res.headers_mut().insert(ETAG, catalog.etag.clone());
        res.headers_mut()
            .insert(LAST_MODIFIED, catalog.last_modified.clone());
        return res;
    }
    let answer = catalog.answer.get();
    let mut res = Response::new(Full::new(answer.body.clone()));
    *res.headers_mut() = answer.headers.clone();
    res
}

/// RFC 7232 §6: `If-None-Match` decides when present (weak comparison, `*` matches);
/// otherwise `If-Modified-Since` (an unparsable or future date is ignored).
fn not_modified(catalog: &CatalogIndex, headers: &HeaderMap) -> bool {
    let mut if_none_match = headers.get_all(IF_NONE_MATCH).iter().peekable();
    if if_none_match.peek().is_some() {
        let ours = opaque(catalog.etag.to_str().unwrap_or_default());
        return if_none_match
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || opaque(tag) == ours);
    }
    let Some(since) = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
    else {
        return false;
    };
    // A date later than the server's clock is invalid (RFC 7232 §3.3) and ignored.
    since >= catalog.modified && since <= SystemTime::now()
}

/// An entity tag without its weakness indicator (`W/"x"` → `"x"`), for the weak comparison.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}
