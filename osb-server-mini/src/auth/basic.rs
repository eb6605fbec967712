//! HTTP Basic authentication: several users, each with a plain or a hashed password.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::hashed::{DEFAULT_CACHE_CAPACITY, Phc, VerifiedCache};
use super::{AsyncAuthenticator, AuthFuture, AuthRequest, Authenticator, Caller, Decision, credentials};
use crate::ServeError;
use crate::shard::Replicas;

/// A user's password: as configured (development) or as a PHC hash string.
#[derive(Clone)]
enum Password {
    /// Kept as `base64(user:password)`, what a client sends, so that a request is checked
    /// by one constant-time comparison, without decoding. Canonical base64 (all the decoder
    /// accepts) has one encoding per byte string, so this accepts exactly the credentials
    /// that decoding and comparing would.
    Plain {
        encoded: String,
    },
    Hashed(Phc),
}

/// A configured user.
#[derive(Clone)]
struct User {
    name: String,
    password: Password,
    /// The caller its requests are made by, built once per thread shard: a clone per
    /// request of one shared caller would move its reference count between cores.
    caller: Replicas<Caller>,
}

impl User {
    fn new(name: String, password: Password) -> Self {
        let caller = Replicas::new(Caller::new(name.as_str(), "basic"), |c| {
            Caller::new(c.name(), c.scheme())
        });
        Self {
            name,
            password,
            caller,
        }
    }
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
    users: Vec<User>,
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
        let (name, password) = (username.into(), password.into());
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
        self.users.push(User::new(name, Password::Plain { encoded }));
        self
    }

    /// Adds a user whose password is given as a PHC hash string (argon2id, argon2i or
    /// argon2d, e.g. from [`hash_password`](super::hash_password) or the `argon2` CLI).
    ///
    /// # Errors
    /// [`ServeError::InvalidCredential`] when `phc` is not an argon2 PHC string.
    pub fn user_hash(mut self, username: impl Into<String>, phc: &str) -> Result<Self, ServeError> {
        self.users
            .push(User::new(username.into(), Password::Hashed(Phc::parse(phc)?)));
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
        // Check every plain user so the time taken does not reveal which username matched.
        let mut ok = subtle::Choice::from(0);
        let mut matched = None;
        for u in &self.users {
            if let Password::Plain { encoded: e } = &u.password {
                let hit = ct_eq(e.as_bytes(), encoded.as_bytes());
                ok |= hit;
                if bool::from(hit) {
                    matched = Some(u);
                }
            }
        }
        if bool::from(ok) {
            return matched.map_or(Fast::Rejected, |u| Fast::Accepted(u.caller.get().clone()));
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return Fast::Rejected;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return Fast::Rejected;
        };
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        let hashed = self.users.iter().find_map(|u| match &u.password {
            Password::Hashed(h) if u.name.as_bytes() == user => Some((u, h)),
            _ => None,
        });
        let digest = self.cache.digest(&[user, pass]);
        match hashed {
            Some((u, _)) if self.cache.contains(&digest) => Fast::Accepted(u.caller.get().clone()),
            Some((u, h)) => Fast::Slow {
                caller: u.caller.get().clone(),
                phc: h.clone(),
                password: pass.to_vec(),
                digest,
            },
            // An unknown username costs a hash too (against a configured one, the answer
            // discarded), so the time taken does not tell which usernames exist.
            None => match self.users.iter().find_map(|u| match &u.password {
                Password::Hashed(h) => Some(h),
                Password::Plain { .. } => None,
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
            .field("users", &self.users.iter().map(|u| &u.name).collect::<Vec<_>>())
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

/// Whether `a == b`, in time that depends only on their lengths.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    // Different lengths compare unequal at once: the length of a configured credential is
    // not a secret worth hiding.
    if a.len() != b.len() {
        return subtle::Choice::from(0);
    }
    // The OR of all differences, eight bytes at a time, kept opaque to the optimizer at
    // every step so that it cannot stop early. (subtle's slice `ct_eq` calls an
    // out-of-line barrier per byte.)
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_rest, b_rest) = (a8.remainder(), b8.remainder());
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("chunks of eight bytes"));
    let mut diff = 0u64;
    for (x, y) in a8.zip(b8) {
        diff = std::hint::black_box(diff | (word(x) ^ word(y)));
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff = std::hint::black_box(diff | u64::from(x ^ y));
    }
    diff.ct_eq(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, password: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    }

    #[test]
    fn plain_users_are_matched_on_their_encoded_credentials() {
        let auth = BasicAuth::new("admin", "secret").user("ünïcode", "pässwörd:with colon");
        let admin = auth.identify(Some(&header("admin", "secret"))).unwrap();
        assert_eq!((admin.name(), admin.scheme()), ("admin", "basic"));
        let other = auth
            .identify(Some(&header("ünïcode", "pässwörd:with colon")))
            .unwrap();
        assert_eq!(other.name(), "ünïcode");
        // Scheme in any case, whitespace around the token.
        let token = header("admin", "secret").replace("Basic ", "bAsIc   ");
        assert!(auth.identify(Some(&format!("  {token}  "))).is_some());
        for refused in [
            header("admin", "secreT"),
            header("admin", "secret "),
            header("Admin", "secret"),
            header("admin", ""),
            header("", "secret"),
            "Basic".to_owned(),
            "Bearer YWRtaW46c2VjcmV0".to_owned(),
            "Basic YWRtaW46c2VjcmV0=".to_owned(),
        ] {
            assert!(auth.identify(Some(&refused)).is_none(), "accepted {refused}");
        }
        assert!(auth.identify(None).is_none());
        // "admin:secre" needs padding: without it, or with non-zero trailing bits, the
        // token is not canonical and refused, as the decoder refuses it.
        let auth = BasicAuth::new("admin", "secre");
        assert!(auth.identify(Some("Basic YWRtaW46c2VjcmU=")).is_some());
        for refused in ["Basic YWRtaW46c2VjcmU", "Basic YWRtaW46c2VjcmV="] {
            assert!(auth.identify(Some(refused)).is_none(), "accepted {refused}");
        }
    }

    #[test]
    fn callers_of_one_user_share_their_name() {
        let auth = BasicAuth::new("admin", "secret");
        let a = auth.identify(Some(&header("admin", "secret"))).unwrap();
        let b = auth.identify(Some(&header("admin", "secret"))).unwrap();
        assert_eq!(a, b);
        assert!(
            std::ptr::eq(a.name(), b.name()),
            "built once per thread shard, cloned per request"
        );
    }

    #[test]
    fn constant_time_equality_is_equality() {
        for (a, b) in [
            ("", ""),
            ("a", "a"),
            ("abc", "abc"),
            ("abc", "abd"),
            ("abc", "ab"),
            ("", "x"),
        ] {
            assert_eq!(
                bool::from(ct_eq(a.as_bytes(), b.as_bytes())),
                a == b,
                "{a} vs {b}"
            );
        }
        let long = "x".repeat(300);
        let mut other = long.clone().into_bytes();
        other[299] = b'y';
        assert!(bool::from(ct_eq(long.as_bytes(), long.as_bytes())));
        assert!(!bool::from(ct_eq(long.as_bytes(), &other)));
    }
}
