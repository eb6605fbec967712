//! Authentication of Platform requests: HTTP Basic with several users (plain or hashed
//! passwords), bearer tokens (plain or hashed), TLS client certificates, or any scheme
//! through the [`Authenticator`] trait (the `Authorization` header only) or the
//! [`AsyncAuthenticator`] trait (the whole request head and the TLS peer certificates).
//!
//! Every authenticator says who the caller is: a [`Caller`], which reaches the broker as
//! [`RequestContext::caller`](crate::RequestContext::caller) and the request's tracing span
//! (field `caller`). Secrets never appear in `Debug` output, logs or metrics.

mod basic;
mod bearer;
#[cfg(feature = "tls")]
mod certificate;
mod hashed;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use basic::BasicAuth;
pub use bearer::{BearerToken, BearerTokens};
#[cfg(feature = "tls")]
pub use certificate::ClientCertificate;
pub use hashed::{DEFAULT_CACHE_CAPACITY, hash_password};

/// Who made a request, as the authenticator established it (a username, a token's name,
/// a certificate's common name). Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    /// Shared: an authenticator builds each caller it knows once and hands out clones.
    name: Arc<str>,
    scheme: &'static str,
}

impl Caller {
    /// A caller called `name`, authenticated by `scheme` (`"basic"`, `"bearer"`,
    /// `"certificate"`, or a scheme of your own).
    pub fn new(name: impl Into<String>, scheme: &'static str) -> Self {
        Self {
            name: Arc::from(name.into()),
            scheme,
        }
    }

    /// The caller's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the caller was authenticated.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.scheme, self.name)
    }
}

/// Decides whether a request's `Authorization` header is acceptable.
///
/// ```
/// use osb_server_mini::auth::{Authenticator, BearerToken};
/// let auth = BearerToken::new("t0ken");
/// assert!(auth.authenticate(Some("Bearer t0ken")));
/// assert!(!auth.authenticate(Some("Bearer nope")));
/// assert!(!auth.authenticate(None));
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// `true` if the request may proceed. `authorization` is the raw header value, if any.
    fn authenticate(&self, authorization: Option<&str>) -> bool;

    /// Who the caller is, `None` if the request may not proceed. By default a caller named
    /// `authenticated` when [`authenticate`](Self::authenticate) accepts.
    fn identify(&self, authorization: Option<&str>) -> Option<Caller> {
        self.authenticate(authorization)
            .then(|| Caller::new("authenticated", "custom"))
    }

    /// The `WWW-Authenticate` challenge sent with a 401.
    fn challenge(&self) -> String {
        BASIC_CHALLENGE.to_owned()
    }
}

/// The challenge of HTTP Basic authentication.
pub(crate) const BASIC_CHALLENGE: &str = r#"Basic realm="osb", charset="UTF-8""#;

/// The DER certificates the TLS client presented (its own first), already verified by
/// rustls against the configured client CA. The server puts them in the extensions of every
/// request of a TLS connection with a client certificate; a service mounted elsewhere can
/// insert them itself.
#[derive(Clone, Default)]
pub struct PeerCertificates(pub Arc<[Vec<u8>]>);

impl std::fmt::Debug for PeerCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerCertificates")
            .field("count", &self.0.len())
            .finish()
    }
}

/// What an [`AsyncAuthenticator`] sees of a request: its head (method, URI, headers) and,
/// over TLS, the client's certificate chain. Never the body, which is read only after
/// authentication.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    head: &'a http::request::Parts,
}

impl<'a> AuthRequest<'a> {
    /// What an authenticator sees of a request with this head (the server builds it; tests
    /// of an authenticator can too). TLS peer certificates come from the head's extensions
    /// ([`PeerCertificates`]).
    #[must_use]
    pub fn new(head: &'a http::request::Parts) -> Self {
        Self { head }
    }

    /// The request head.
    #[must_use]
    pub fn head(&self) -> &'a http::request::Parts {
        self.head
    }

    /// The `Authorization` header, if present and valid text.
    #[must_use]
    pub fn authorization(&self) -> Option<&'a str> {
        self.head
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The TLS client's certificates (DER, its own first), verified against the client CA;
    /// `None` over plain HTTP or when the client sent none.
    #[must_use]
    pub fn peer_certificates(&self) -> Option<&'a [Vec<u8>]> {
        self.head
            .extensions
            .get::<PeerCertificates>()
            .map(|p| &*p.0)
            .filter(|c| !c.is_empty())
    }
}

/// What an [`AsyncAuthenticator`] decided without waiting (see
/// [`AsyncAuthenticator::decide_now`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The caller is authenticated.
    Accepted(Caller),
    /// The request is not authenticated: it is answered 401.
    Refused,
    /// Deciding needs to wait (a slow hash, a lookup): the runtime calls
    /// [`authenticate`](AsyncAuthenticator::authenticate).
    Wait,
}

impl Decision {
    /// `Accepted` for `Some(caller)`, `Refused` for `None`.
    #[must_use]
    pub fn from_caller(caller: Option<Caller>) -> Self {
        caller.map_or(Self::Refused, Self::Accepted)
    }
}

/// The future an [`AsyncAuthenticator`] returns.
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Option<Caller>> + Send + 'a>>;

/// Decides who a request comes from, seeing its head and TLS peer certificates, and may
/// wait (look a token up, hash a password off the async threads).
///
/// ```
/// use osb_server_mini::auth::{AsyncAuthenticator, AuthFuture, AuthRequest, Caller};
/// /// Accepts requests that carry an `X-Api-Key` of "k1", as caller "tool".
/// struct ApiKey;
/// impl AsyncAuthenticator for ApiKey {
///     fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
///         let key = request.head().headers.get("x-api-key").cloned();
///         Box::pin(async move { (key.as_ref().map(|k| k.as_bytes()) == Some(b"k1")).then(|| Caller::new("tool", "api-key")) })
///     }
///     fn challenge(&self) -> String { "ApiKey".to_owned() }
/// }
/// ```
pub trait AsyncAuthenticator: Send + Sync + 'static {
    /// Who the caller is, `None` to answer 401.
    fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a>;

    /// Decides without waiting when it can (a plain credential, a cached hashed one, a
    /// certificate); [`Decision::Wait`] (the default) has the runtime call
    /// [`authenticate`](Self::authenticate). The runtime asks this first, so a request decided
    /// here costs no future, and a catalog request is answered without a task.
    fn decide_now(&self, request: AuthRequest<'_>) -> Decision {
        let _ = request;
        Decision::Wait
    }

    /// The `WWW-Authenticate` challenge sent with a 401.
    fn challenge(&self) -> String {
        BASIC_CHALLENGE.to_owned()
    }
}

/// An [`Authenticator`] used as an [`AsyncAuthenticator`]: runs inline (it must be fast).
pub(crate) struct Inline<A: ?Sized>(pub(crate) Arc<A>);

impl<A: Authenticator + ?Sized> AsyncAuthenticator for Inline<A> {
    fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
        let caller = self.0.identify(request.authorization());
        Box::pin(std::future::ready(caller))
    }

    fn decide_now(&self, request: AuthRequest<'_>) -> Decision {
        Decision::from_caller(self.0.identify(request.authorization()))
    }

    fn challenge(&self) -> String {
        self.0.challenge()
    }
}

/// Splits `Scheme credentials`, the scheme compared case-insensitively.
pub(crate) fn credentials<'a>(authorization: Option<&'a str>, scheme: &str) -> Option<&'a str> {
    let value = authorization?.trim_ascii();
    let space = value.bytes().position(|b| b == b' ')?;
    let (s, rest) = (&value[..space], &value[space + 1..]);
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim_ascii())
}
