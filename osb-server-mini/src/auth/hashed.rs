//! Secrets kept as PHC hash strings (argon2id, through the RustCrypto `argon2` and
//! `password-hash` crates), and a bounded cache of credentials already verified, keyed by a
//! keyed BLAKE3 hash (a random key per process), so the slow hash is paid once per
//! credential and the plain secret is never kept.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::Caller;
use crate::ServeError;

/// How many verified credentials an authenticator remembers by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// Hashes a password (or token) as an argon2id PHC string with the `argon2` crate's
/// default (OWASP-recommended) cost and a random salt, for
/// [`BasicAuth::user_hash`](crate::auth::BasicAuth::user_hash) and
/// [`BearerTokens::token_hash`](crate::auth::BearerTokens::token_hash).
///
/// ```
/// let phc = osb_server_mini::auth::hash_password("s3cret");
/// assert!(phc.starts_with("$argon2id$"));
/// ```
#[must_use]
pub fn hash_password(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// A PHC hash string, checked to be one argon2 can verify.
#[derive(Clone)]
pub(crate) struct Phc(String);

impl Phc {
    pub(crate) fn parse(phc: &str) -> Result<Self, ServeError> {
        let parsed = PasswordHash::new(phc.trim())
            .map_err(|e| ServeError::InvalidCredential(format!("not a PHC hash string ({e})")))?;
        if argon2::Algorithm::try_from(parsed.algorithm).is_err() {
            return Err(ServeError::InvalidCredential(format!(
                "hash algorithm {} is not supported (use argon2id)",
                parsed.algorithm
            )));
        }
        Ok(Self(phc.trim().to_owned()))
    }

    /// Whether `secret` matches (slow: the hash's cost).
    pub(crate) fn verify(&self, secret: &[u8]) -> bool {
        PasswordHash::new(&self.0).is_ok_and(|h| Argon2::default().verify_password(secret, &h).is_ok())
    }
}

/// A keyed hash of a credential: what the cache holds instead of the credential.
type Digest = [u8; 32];

/// Credentials verified recently (at most `capacity`, the oldest forgotten first), and how
/// many slow verifications ran.
pub(crate) struct VerifiedCache {
    key: [u8; 32],
    capacity: usize,
    entries: Mutex<(HashSet<Digest>, VecDeque<Digest>)>,
    /// Verifications running now, by digest: concurrent requests with the same credential
    /// wait for one verification instead of each paying the slow hash.
    pending: Mutex<HashMap<Digest, Arc<tokio::sync::OnceCell<Option<Caller>>>>>,
    slow: AtomicU64,
}

impl VerifiedCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let mut key = [0; 32];
        OsRng.fill_bytes(&mut key);
        Self {
            key,
            capacity,
            entries: Mutex::new((HashSet::new(), VecDeque::new())),
            pending: Mutex::default(),
            slow: AtomicU64::new(0),
        }
    }

    /// The keyed hash of `parts` (length-prefixed, so `("ab","c")` ≠ `("a","bc")`).
    pub(crate) fn digest(&self, parts: &[&[u8]]) -> Digest {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        for p in parts {
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p);
        }
        *h.finalize().as_bytes()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashSet<Digest>, VecDeque<Digest>)> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `verify` (the slow hash) off the async threads, once for all the callers that
    /// ask for the same `digest` while it runs; they all get its answer (the caller it
    /// verified, `None` if the credential is wrong).
    pub(crate) async fn verify_once<F>(&self, digest: Digest, verify: F) -> Option<Caller>
    where
        F: FnOnce() -> Option<Caller> + Send + 'static,
    {
        let cell = {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(pending.entry(digest).or_default())
        };
        let verified = cell
            .get_or_init(|| async move { tokio::task::spawn_blocking(verify).await.unwrap_or(None) })
            .await
            .clone();
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pending.get(&digest).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            pending.remove(&digest);
        }
        verified
    }

    pub(crate) fn contains(&self, digest: &Digest) -> bool {
        self.capacity > 0 && self.lock().0.contains(digest)
    }

    pub(crate) fn insert(&self, digest: Digest) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.lock();
        let (set, order) = &mut *guard;
        if !set.insert(digest) {
            return;
        }
        order.push_back(digest);
        while order.len() > self.capacity {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().0.len()
    }

    /// Counts one slow verification.
    pub(crate) fn count_slow(&self) {
        self.slow.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn slow(&self) -> u64 {
        self.slow.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_is_bounded_and_keyed() {
        let cache = VerifiedCache::new(2);
        let (a, b, c) = (
            cache.digest(&[b"u", b"a"]),
            cache.digest(&[b"u", b"b"]),
            cache.digest(&[b"u", b"c"]),
        );
        assert_ne!(cache.digest(&[b"ab", b"c"]), cache.digest(&[b"a", b"bc"]));
        assert_ne!(
            VerifiedCache::new(2).digest(&[b"u", b"a"]),
            a,
            "a per-process random key"
        );
        cache.insert(a);
        cache.insert(b);
        cache.insert(c);
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains(&a), "the oldest is forgotten first");
        assert!(cache.contains(&b) && cache.contains(&c));
    }

    #[test]
    fn bad_phc_strings_are_refused() {
        for bad in [
            "",
            "secret",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$pbkdf2-sha256$i=1$c2FsdA$aGFzaA",
        ] {
            assert!(
                matches!(Phc::parse(bad), Err(ServeError::InvalidCredential(_))),
                "{bad}"
            );
        }
        let phc = Phc::parse(&hash_password("pw")).unwrap();
        assert!(phc.verify(b"pw"));
        assert!(!phc.verify(b"pW"));
    }
}
