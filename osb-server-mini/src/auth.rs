//! Authentication of Platform requests: HTTP Basic with several users, or any scheme through
//! the [`Authenticator`] trait.

use std::fmt;

use base64::Engine as _;
use subtle::ConstantTimeEq;

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

    /// The `WWW-Authenticate` challenge sent with a 401.
    fn challenge(&self) -> String {
        r#"Basic realm="osb", charset="UTF-8""#.to_owned()
    }
}

/// HTTP Basic authentication against one or more username/password pairs, compared in
/// constant time. `Debug` never prints passwords.
///
/// ```
/// use osb_server_mini::auth::{Authenticator, BasicAuth};
/// let auth = BasicAuth::new("admin", "secret").user("ops", "s3cr3t");
/// assert!(auth.authenticate(Some("Basic YWRtaW46c2VjcmV0"))); // admin:secret
/// assert!(!auth.authenticate(Some("Basic YWRtaW46d3Jvbmc="))); // admin:wrong
/// assert!(!format!("{auth:?}").contains("secret"));
/// ```
#[derive(Clone, Default)]
pub struct BasicAuth {
    users: Vec<(String, String)>,
}

impl BasicAuth {
    /// One user.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::default().user(username, password)
    }

    /// Adds a user.
    #[must_use]
    pub fn user(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((username.into(), password.into()));
        self
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users.iter().map(|(u, _)| u).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Authenticator for BasicAuth {
    fn authenticate(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, encoded)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        // Check every user so the time taken does not reveal which username matched.
        let mut ok = subtle::Choice::from(0);
        for (u, p) in &self.users {
            ok |= ct_eq(u.as_bytes(), user) & ct_eq(p.as_bytes(), pass);
        }
        ok.into()
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    // `ct_eq` on slices of different lengths returns 0 without comparing contents; the
    // length of a configured credential is not a secret worth hiding.
    a.ct_eq(b)
}

/// Bearer-token authentication (`Authorization: Bearer <token>`), compared in constant time.
#[derive(Clone)]
pub struct BearerToken {
    token: String,
}

impl BearerToken {
    /// Accepts this token.
    pub fn new(token: impl Into<String>) -> Self {
        Self { token: token.into() }
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken").finish_non_exhaustive()
    }
}

impl Authenticator for BearerToken {
    fn authenticate(&self, authorization: Option<&str>) -> bool {
        let Some((scheme, token)) = authorization.and_then(|v| v.trim().split_once(' ')) else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer")
            && bool::from(ct_eq(self.token.as_bytes(), token.trim().as_bytes()))
    }

    fn challenge(&self) -> String {
        r#"Bearer realm="osb""#.to_owned()
    }
}
