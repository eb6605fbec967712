//! Bearer-token authentication (`Authorization: Bearer <token>`): one plain token, or
//! several named tokens, plain or hashed.

use std::fmt;
use std::sync::Arc;

use super::basic::ct_eq;
use super::hashed::{DEFAULT_CACHE_CAPACITY, Phc, VerifiedCache};
use super::{AsyncAuthenticator, AuthFuture, AuthRequest, Authenticator, Caller, Decision, credentials};
use crate::ServeError;

const BEARER_CHALLENGE: &str = r#"Bearer realm="osb""#;

/// One bearer token, compared in constant time; the caller is named `bearer`.
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
        credentials(authorization, "bearer")
            .is_some_and(|token| bool::from(ct_eq(self.token.as_bytes(), token.as_bytes())))
    }

    fn identify(&self, authorization: Option<&str>) -> Option<Caller> {
        self.authenticate(authorization)
            .then(|| Caller::new("bearer", "bearer"))
    }

    fn challenge(&self) -> String {
        BEARER_CHALLENGE.to_owned()
    }
}

#[derive(Clone)]
enum Token {
    Plain(String),
    Hashed(Phc),
}

/// Several bearer tokens, each with a name (the [`Caller`] it stands for), given plain or
/// as an argon2 PHC hash string. A hashed token, once verified, is remembered in a bounded
/// cache keyed by a keyed hash of it (never the token), so the slow hash is paid once; on a
/// miss every hashed token is tried, off the async threads. `Debug` shows names only.
///
/// ```
/// use osb_server_mini::auth::{Authenticator, BearerTokens, hash_password};
/// let auth = BearerTokens::new()
///     .token("ci", "plain-ci-token")
///     .token_hash("cloud-foundry", &hash_password("cf-token"))
///     .unwrap();
/// assert_eq!(auth.identify(Some("Bearer cf-token")).unwrap().name(), "cloud-foundry");
/// assert_eq!(auth.identify(Some("Bearer plain-ci-token")).unwrap().name(), "ci");
/// assert!(auth.identify(Some("Bearer nope")).is_none());
/// ```
#[derive(Clone)]
pub struct BearerTokens {
    tokens: Vec<(String, Token)>,
    cache: Arc<VerifiedCache>,
}

impl Default for BearerTokens {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            cache: Arc::new(VerifiedCache::new(DEFAULT_CACHE_CAPACITY)),
        }
    }
}

impl fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerTokens")
            .field("names", &self.tokens.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl BearerTokens {
    /// No tokens yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts a plain token as caller `name`.
    #[must_use]
    pub fn token(mut self, name: impl Into<String>, token: impl Into<String>) -> Self {
        self.tokens.push((name.into(), Token::Plain(token.into())));
        self
    }

    /// Accepts the token whose argon2 PHC hash string this is, as caller `name`.
    ///
    /// # Errors
    /// [`ServeError::InvalidCredential`] when `phc` is not an argon2 PHC string.
    pub fn token_hash(mut self, name: impl Into<String>, phc: &str) -> Result<Self, ServeError> {
        self.tokens.push((name.into(), Token::Hashed(Phc::parse(phc)?)));
        Ok(self)
    }

    /// Remembers at most `capacity` verified hashed tokens (default [`DEFAULT_CACHE_CAPACITY`]).
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = Arc::new(VerifiedCache::new(capacity));
        self
    }

    /// How many verified tokens the cache holds now.
    #[must_use]
    pub fn cached_credentials(&self) -> usize {
        self.cache.len()
    }

    /// How many slow (hash) verifications have run.
    #[must_use]
    pub fn hash_verifications(&self) -> u64 {
        self.cache.slow()
    }

    /// A plain match or a cached hashed one; else whether hashed tokens are worth trying.
    fn check_fast(&self, token: &str) -> Result<Caller, bool> {
        let mut found = None;
        for (name, t) in &self.tokens {
            if let Token::Plain(p) = t
                && bool::from(ct_eq(p.as_bytes(), token.as_bytes()))
            {
                found = Some(name);
            }
        }
        if let Some(name) = found {
            return Ok(Caller::new(name.clone(), "bearer"));
        }
        if !self.tokens.iter().any(|(_, t)| matches!(t, Token::Hashed(_))) {
            return Err(false);
        }
        // The cache maps the token's keyed hash to the name it verified as.
        for (name, t) in &self.tokens {
            if matches!(t, Token::Hashed(_)) {
                let digest = self.cache.digest(&[name.as_bytes(), token.as_bytes()]);
                if self.cache.contains(&digest) {
                    return Ok(Caller::new(name.clone(), "bearer"));
                }
            }
        }
        Err(true)
    }

    /// Verifies `token` against every hashed token, also after a match, so a cache miss
    /// costs the same whichever token (if any) it is: the time taken tells nothing about
    /// which configured token matched, or whether one did.
    fn verify_slow(&self, token: &str) -> Option<Caller> {
        let mut matched = None;
        for (name, t) in &self.tokens {
            if let Token::Hashed(h) = t {
                self.cache.count_slow();
                if h.verify(token.as_bytes()) && matched.is_none() {
                    matched = Some(name);
                }
            }
        }
        let name = matched?;
        self.cache
            .insert(self.cache.digest(&[name.as_bytes(), token.as_bytes()]));
        Some(Caller::new(name.clone(), "bearer"))
    }
}

impl Authenticator for BearerTokens {
    fn authenticate(&self, authorization: Option<&str>) -> bool {
        self.identify(authorization).is_some()
    }

    fn identify(&self, authorization: Option<&str>) -> Option<Caller> {
        let token = credentials(authorization, "bearer")?;
        match self.check_fast(token) {
            Ok(c) => Some(c),
            Err(false) => None,
            Err(true) => self.verify_slow(token),
        }
    }

    fn challenge(&self) -> String {
        BEARER_CHALLENGE.to_owned()
    }
}

impl AsyncAuthenticator for BearerTokens {
    fn decide_now(&self, request: AuthRequest<'_>) -> Decision {
        let Some(token) = credentials(request.authorization(), "bearer") else {
            return Decision::Refused;
        };
        match self.check_fast(token) {
            Ok(c) => Decision::Accepted(c),
            Err(false) => Decision::Refused,
            Err(true) => Decision::Wait,
        }
    }

    fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
        let decided = self.decide_now(request);
        Box::pin(async move {
            match decided {
                Decision::Accepted(c) => Some(c),
                Decision::Refused => None,
                Decision::Wait => {
                    // `decide_now` waits only for a bearer token.
                    let token = credentials(request.authorization(), "bearer")?.to_owned();
                    // Concurrent requests with one new token wait for one verification.
                    let digest = self.cache.digest(&[token.as_bytes()]);
                    let this = self.clone();
                    self.cache
                        .verify_once(digest, move || this.verify_slow(&token))
                        .await
                }
            }
        })
    }

    fn challenge(&self) -> String {
        BEARER_CHALLENGE.to_owned()
    }
}
