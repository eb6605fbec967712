//! Checks of the OSB headers: authentication, `X-Broker-API-Version`, originating identity.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use osb_types::version::{API_VERSION_HEADER, ORIGINATING_IDENTITY_HEADER};
use osb_types::{ApiVersion, OriginatingIdentity};

use crate::auth::{AsyncAuthenticator, AuthRequest, Caller, Decision};
use crate::response::{self, HttpResponse};

/// `X-Broker-API-Version`, parsed once: a lookup by `&str` lowercases and parses the name
/// on every request.
pub(crate) const API_VERSION: HeaderName = HeaderName::from_static("x-broker-api-version");
/// `X-Broker-API-Originating-Identity`.
pub(crate) const ORIGINATING_IDENTITY: HeaderName =
    HeaderName::from_static("x-broker-api-originating-identity");
/// `X-Broker-API-Request-Identity`.
pub(crate) const REQUEST_IDENTITY: HeaderName = HeaderName::from_static("x-broker-api-request-identity");

/// The OSB headers of a request, found in one pass over its header map.
///
/// A lookup of a custom header name hashes the whole name, byte by byte; a request carries
/// a handful of headers, so one walk comparing names costs less than three lookups, on a
/// path every request takes. The first value of a repeated header is taken, as
/// `HeaderMap::get` would.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OsbHeaders<'a> {
    pub(crate) api_version: Option<&'a HeaderValue>,
    pub(crate) originating_identity: Option<&'a HeaderValue>,
    pub(crate) request_identity: Option<&'a HeaderValue>,
    /// `If-None-Match` or `If-Modified-Since` is present (a conditional catalog request).
    pub(crate) conditional: bool,
}

impl<'a> OsbHeaders<'a> {
    /// Walks `headers` once.
    pub(crate) fn scan(headers: &'a HeaderMap) -> Self {
        let mut found = Self::default();
        for (name, value) in headers {
            let slot = if *name == API_VERSION {
                &mut found.api_version
            } else if *name == REQUEST_IDENTITY {
                &mut found.request_identity
            } else if *name == ORIGINATING_IDENTITY {
                &mut found.originating_identity
            } else {
                if *name == header::IF_NONE_MATCH || *name == header::IF_MODIFIED_SINCE {
                    found.conditional = true;
                }
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }
}

/// The authentication decision when the authenticator makes it without waiting: the caller
/// (`None` without an authenticator), or 401 with its challenge. `None`: it must wait (see
/// [`check_auth`]).
pub(crate) fn auth_now(
    auth: Option<&dyn AsyncAuthenticator>,
    head: &http::request::Parts,
) -> Option<Result<Option<Caller>, HttpResponse>> {
    let Some(auth) = auth else {
        return Some(Ok(None));
    };
    match auth.decide_now(AuthRequest::new(head)) {
        Decision::Accepted(caller) => Some(Ok(Some(caller))),
        Decision::Refused => Some(Err(unauthorized(auth))),
        Decision::Wait => None,
    }
}

/// The caller, or 401 with the authenticator's challenge when the request is not
/// authenticated. `Ok(None)` without an authenticator.
pub(crate) async fn check_auth(
    auth: Option<&dyn AsyncAuthenticator>,
    head: &http::request::Parts,
) -> Result<Option<Caller>, HttpResponse> {
    if let Some(decided) = auth_now(auth, head) {
        return decided;
    }
    let Some(auth) = auth else { return Ok(None) };
    match auth.authenticate(AuthRequest::new(head)).await {
        Some(caller) => Ok(Some(caller)),
        None => Err(unauthorized(auth)),
    }
}

fn unauthorized(auth: &dyn AsyncAuthenticator) -> HttpResponse {
    let mut res = response::error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "The request could not be authenticated.",
    );
    if let Ok(v) = http::HeaderValue::from_str(&auth.challenge()) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// The API version, or 412 naming the supported range.
pub(crate) fn check_version(min: ApiVersion, osb: &OsbHeaders<'_>) -> Result<ApiVersion, HttpResponse> {
    // Built only on failure: this runs on every request.
    let fail = |what: String| {
        response::error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            format!(
                "{what}; this service broker supports Open Service Broker API version {min} or later (2.x)."
            ),
        )
    };
    let raw = match osb.api_version.map(HeaderValue::to_str) {
        None => return Err(fail(format!("the {API_VERSION_HEADER} header is required"))),
        Some(Err(_)) => return Err(fail(format!("the {API_VERSION_HEADER} header is not valid text"))),
        Some(Ok(v)) if v.trim_ascii().is_empty() => {
            return Err(fail(format!("the {API_VERSION_HEADER} header is empty")));
        }
        Some(Ok(v)) => v,
    };
    let version: ApiVersion = raw.parse().map_err(|_| {
        fail(format!(
            "{API_VERSION_HEADER} {:?} is not of the form MAJOR.MINOR",
            raw.chars().take(64).collect::<String>()
        ))
    })?;
    if version.major != 2 || version < min {
        return Err(fail(format!("{API_VERSION_HEADER} {version} is not supported")));
    }
    Ok(version)
}

/// The parsed originating identity, or 400 naming the problem.
pub(crate) fn check_identity(osb: &OsbHeaders<'_>) -> Result<Option<OriginatingIdentity>, HttpResponse> {
    let Some(value) = osb.originating_identity else {
        return Ok(None);
    };
    let bad = |reason: String| {
        response::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("invalid {ORIGINATING_IDENTITY_HEADER} header: {reason}"),
        )
    };
    let text = value.to_str().map_err(|_| bad("not valid text".to_owned()))?;
    OriginatingIdentity::parse(text)
        .map(Some)
        .map_err(|e| bad(e.to_string()))
}

/// 400 when a body is present with a Content-Type other than JSON (a missing one is accepted).
pub(crate) fn check_content_type(headers: &HeaderMap, body_present: bool) -> Result<(), HttpResponse> {
    if !body_present {
        return Ok(());
    }
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = ct
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(()),
        Some(e) if e.starts_with("application/") && e.ends_with("+json") => Ok(()),
        _ => Err(response::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the request body must be JSON (Content-Type: application/json)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parsed_header_names_are_the_specification_names() {
        for (parsed, spec) in [
            (&API_VERSION, osb_types::version::API_VERSION_HEADER),
            (
                &ORIGINATING_IDENTITY,
                osb_types::version::ORIGINATING_IDENTITY_HEADER,
            ),
            (&REQUEST_IDENTITY, osb_types::version::REQUEST_IDENTITY_HEADER),
        ] {
            assert_eq!(parsed.as_str(), spec.to_ascii_lowercase());
        }
    }

    #[test]
    fn one_pass_finds_what_lookups_find() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("broker"));
        headers.append("X-Broker-API-Version", HeaderValue::from_static("2.17"));
        headers.append(REQUEST_IDENTITY, HeaderValue::from_static("first"));
        headers.append(REQUEST_IDENTITY, HeaderValue::from_static("second"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic eDp5"));
        let osb = OsbHeaders::scan(&headers);
        assert_eq!(osb.api_version, headers.get(API_VERSION));
        assert_eq!(osb.request_identity.unwrap(), "first");
        assert_eq!(osb.originating_identity, None);
        assert!(!osb.conditional);

        headers.insert(
            ORIGINATING_IDENTITY,
            HeaderValue::from_static("cloudfoundry e30="),
        );
        headers.insert(header::IF_MODIFIED_SINCE, HeaderValue::from_static("x"));
        let osb = OsbHeaders::scan(&headers);
        assert_eq!(osb.originating_identity.unwrap(), "cloudfoundry e30=");
        assert!(osb.conditional);
        headers.remove(header::IF_MODIFIED_SINCE);
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(OsbHeaders::scan(&headers).conditional);
    }
}
