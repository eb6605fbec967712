//! HTTP Basic authentication: several users, each with a plain or a hashed password.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::hashed::{DEFAULT_CACHE_CAPACITY, Phc, VerifiedCache};
use super::{AsyncAuthenticator, AuthFuture, AuthRequest, Authenticator, Caller, Decision, credentials};
use crate::ServeError;

/// A user's password: as configured (development) or as a PHC hash string.
#[derive(Clone)]
enum Password {
    Plain(String),
    Hashed(Phc),
}

/// HTTP Basic authentication against one or more users, each with a plain password
/// (compared in constant time) or an argon2id PHC hash string, so configuration holds no
/// password. A hashed credential, once verified, is remembered in a bounded cache keyed by
/// a keyed hash of username and password (never the password itself), so the slow hash is
/// paid once; the cache is shared by clones. `Debug` never prints passwords or hashes.
///
/// ```
/// use osb_server_mini::auth::{Authenticator, BasicAuth, hash_password};
/// let auth = BasicAuth::new("admin", "secret")
///     .user("ops", "s3cr3t")
///     .user_hash("cf", &hash_password("from-a-vault"))
///     .unwrap();
/// assert!(auth.authenticate(Some("Basic YWRtaW46c2VjcmV0"))); // admin:secret
/// assert!(!auth.authenticate(Some("Basic YWRtaW46d3Jvbmc="))); // admin:wrong
/// assert!(auth.authenticate(Some("Basic Y2Y6ZnJvbS1hLXZhdWx0"))); // cf:from-a-vault
/// assert!(!format!("{auth:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct BasicAuth {
    users: Vec<(String, Password)>,
    cache: Arc<VerifiedCache>,
}

impl Default for BasicAuth {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            cache: Arc::new(VerifiedCache::new(DEFAULT_CACHE_CAPACITY)),
        }
    }
}

impl BasicAuth {
    /// One user with a plain password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::default().user(username, password)
    }

    /// Adds a user with a plain password.
    #[must_use]
    pub fn user(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.users
            .push((username.into(), Password::Plain(password.into())));
        self
    }

    /// Adds a user whose password is given as a PHC hash string (argon2id, argon2i or
    /// argon2d, e.g. from [`hash_password`](super::hash_password) or the `argon2` CLI).
    ///
    /// # Errors
    /// [`ServeError::InvalidCredential`] when `phc` is not an argon2 PHC string.
    pub fn user_hash(mut self, username: impl Into<String>, phc: &str) -> Result<Self, ServeError> {
        self.users
            .push((username.into(), Password::Hashed(Phc::parse(phc)?)));
        Ok(self)
    }

    /// Remembers at most `capacity` verified hashed credentials (default
    /// [`DEFAULT_CACHE_CAPACITY`]; 0 verifies every request with the slow hash).
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = Arc::new(VerifiedCache::new(capacity));
        self
    }

    /// How many verified credentials the cache holds now (at most its capacity).
    #[must_use]
    pub fn cached_credentials(&self) -> usize {
        self.cache.len()
    }

    /// How many slow (hash) verifications have run, for monitoring the cache.
    #[must_use]
    pub fn hash_verifications(&self) -> u64 {
        self.cache.slow()
    }

    /// Decides what it can without the slow hash.
    fn check_fast(&self, authorization: Option<&str>) -> Fast {
        let Some(encoded) = credentials(authorization, "basic") else {
            return Fast::Rejected;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return Fast::Rejected;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return Fast::Rejected;
        };
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        // Check every plain user so the time taken does not reveal which username matched.
        let mut ok = subtle::Choice::from(0);
        let mut matched = None;
        for (u, p) in &self.users {
            if let Password::Plain(p) = p {
                let hit = ct_eq(u.as_bytes(), user) & ct_eq(p.as_bytes(), pass);
                ok |= hit;
                if bool::from(hit) {
                    matched = Some(u);
                }
            }
        }
        if bool::from(ok) {
            return matched.map_or(Fast::Rejected, |u| Fast::Accepted(caller(u)));
        }
        let hashed = self.users.iter().find_map(|(u, p)| match p {
            Password::Hashed(h) if u.as_bytes() == user => Some((u, h)),
            _ => None,
        });
        let digest = self.cache.digest(&[user, pass]);
        match hashed {
            Some((u, _)) if self.cache.contains(&digest) => Fast::Accepted(caller(u)),
            Some((u, h)) => Fast::Slow {
                caller: caller(u),
                phc: h.clone(),
                password: pass.to_vec(),
                digest,
            },
            // An unknown username costs a hash too (against a configured one, the answer
            // discarded), so the time taken does not tell which usernames exist.
            None => match self.users.iter().find_map(|(_, p)| match p {
                Password::Hashed(h) => Some(h),
                Password::Plain(_) => None,
            }) {
                Some(h) => Fast::Decoy {
                    phc: h.clone(),
                    password: pass.to_vec(),
                },
                None => Fast::Rejected,
            },
        }
    }

    fn finish_slow(&self, phc: &Phc, password: &[u8], digest: [u8; 32]) -> bool {
        self.cache.count_slow();
        let ok = phc.verify(password);
        if ok {
            self.cache.insert(digest);
        }
        ok
    }
}

fn caller(user: &str) -> Caller {
    Caller::new(user, "basic")
}

/// What [`BasicAuth::check_fast`] found.
enum Fast {
    Accepted(Caller),
    Rejected,
    /// An unknown username while hashed users exist: hash anyway, then refuse.
    Decoy {
        phc: Phc,
        password: Vec<u8>,
    },
    /// A hashed user whose credential is not in the cache: verify it.
    Slow {
        caller: Caller,
        phc: Phc,
        password: Vec<u8>,
        digest: [u8; 32],
    },
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
        self.identify(authorization).is_some()
    }

    /// Verifies a hashed password inline on a cache miss; the server uses the
    /// [`AsyncAuthenticator`] implementation, which does that off the async threads.
    fn identify(&self, authorization: Option<&str>) -> Option<Caller> {
        match self.check_fast(authorization) {
            Fast::Accepted(c) => Some(c),
            Fast::Rejected => None,
            Fast::Decoy { phc, password } => {
                self.cache.count_slow();
                let _ = phc.verify(&password);
                None
            }
            Fast::Slow {
                caller,
                phc,
                password,
                digest,
            } => self.finish_slow(&phc, &password, digest).then_some(caller),
        }
    }
}

impl AsyncAuthenticator for BasicAuth {
    fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
        let fast = self.check_fast(request.authorization());
        Box::pin(async move {
            match fast {
                Fast::Accepted(c) => Some(c),
                Fast::Rejected => None,
                Fast::Decoy { phc, password } => {
                    let this = self.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        this.cache.count_slow();
                        phc.verify(&password)
                    })
                    .await;
                    None
                }
                Fast::Slow {
                    caller,
                    phc,
                    password,
                    digest,
                } => {
                    let this = self.clone();
                    self.cache
                        .verify_once(digest, move || {
                            this.finish_slow(&phc, &password, digest).then_some(caller)
                        })
                        .await
                }
            }
        })
    }

    fn decide_now(&self, request: AuthRequest<'_>) -> Decision {
        match self.check_fast(request.authorization()) {
            Fast::Accepted(c) => Decision::Accepted(c),
            Fast::Rejected => Decision::Refused,
            Fast::Decoy { .. } | Fast::Slow { .. } => Decision::Wait,
        }
    }

    fn challenge(&self) -> String {
        super::BASIC_CHALLENGE.to_owned()
    }
}

pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    // `ct_eq` on slices of different lengths returns 0 without comparing contents; the
    // length of a configured credential is not a secret worth hiding.
    a.ct_eq(b)
}
