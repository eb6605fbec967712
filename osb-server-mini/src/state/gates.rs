//! One gate per instance: serializes the mutations of an instance and its bindings.
//!
//! A request that finds the gate taken waits if the request inside is identical to it (it
//! then sees the outcome: 200 or 202 with the same operation), and otherwise gets 422
//! `ConcurrencyError`. In one process the gate is a mutex; when the store is shared by
//! several processes it is also a lock in the store (a lease, so a crashed holder's lock
//! expires), taken after the in-process one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::{Store, StoreError};

pub(crate) struct Gates {
    map: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
    store: Arc<dyn Store>,
}

#[derive(Default)]
struct Gate {
    lock: Arc<tokio::sync::Mutex<()>>,
    inflight: Mutex<Option<String>>,
}

/// Held while a mutation of an instance is being processed.
pub(crate) struct GateGuard {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    gate: Arc<Gate>,
    key: String,
    map: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
    /// The store lock to release (shared stores).
    store_lock: Option<(Arc<dyn Store>, String)>,
}

impl GateGuard {
    /// Leaves the gate, releasing the store lock (shared stores) before returning, so that
    /// the Platform's next request, sent as soon as it has the answer, finds it free.
    pub(crate) async fn release(mut self) {
        if let Some((store, holder)) = self.store_lock.take()
            && store.unlock(&self.key, &holder).await.is_err()
        {
            spawn_unlock(store, self.key.clone(), holder);
        }
    }
}

/// Releases a store lock in the background. While the store is down (a database
/// restarting), keeps trying for a while: a lock left behind makes retries wait until it
/// expires.
fn spawn_unlock(store: Arc<dyn Store>, key: String, holder: String) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let mut delay = Duration::from_millis(100);
            for attempt in 0..20 {
                match store.unlock(&key, &holder).await {
                    Ok(()) => return,
                    Err(e) if attempt == 19 => {
                        tracing::warn!(error = %e, "could not release an instance lock; it expires with its lease");
                    }
                    Err(_) => {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(1));
                    }
                }
            }
        });
    }
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        if let Some((store, holder)) = self.store_lock.take() {
            spawn_unlock(store, self.key.clone(), holder);
        }
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.guard = None;
        // Only the map and this guard hold the gate (others clone it under the map lock).
        if Arc::strong_count(&self.gate) == 2 {
            map.remove(&self.key);
        }
    }
}

/// A 64-bit FNV-1a digest: the fingerprint stored with a shared lock (only used to decide
/// whether a request waits or is refused; the records decide the answer).
fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Gates {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            map: Arc::default(),
            store,
        }
    }

    /// Enters the gate of `instance` for a request with this fingerprint; `None`: a
    /// different request is being processed (422 `ConcurrencyError`).
    ///
    /// The fingerprint of the last holder is kept after it leaves: a waiter only waits for
    /// an identical fingerprint, so a stale value always equals the new holder's.
    pub(crate) async fn enter(
        &self,
        instance: &str,
        fingerprint: String,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<GateGuard>, StoreError> {
        let shared = self.store.shared().then(|| digest(&fingerprint));
        let Some(mut held) = self.enter_local(instance, fingerprint).await else {
            return Ok(None);
        };
        let Some(print) = shared else {
            return Ok(Some(held));
        };
        // Across processes: the lock in the store. An identical request elsewhere is waited
        // for (polling), a different one refused.
        let holder = format!("{owner}/{}", uuid::Uuid::new_v4());
        let mut delay = Duration::from_millis(5);
        let deadline = tokio::time::Instant::now() + lease.max(Duration::from_secs(1));
        let conflict_deadline = tokio::time::Instant::now() + Duration::from_millis(150);
        loop {
            match self.store.try_lock(instance, &holder, &print, lease).await? {
                None => {
                    held.store_lock = Some((Arc::clone(&self.store), holder));
                    return Ok(Some(held));
                }
                // A different request holds it. It may be releasing it this instant (a
                // guard dropped as its answer left): look again for a moment before refusing.
                Some(other) if other != print && tokio::time::Instant::now() >= conflict_deadline => {
                    return Ok(None);
                }
                Some(other) if other != print => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Some(_) if tokio::time::Instant::now() >= deadline => return Ok(None),
                Some(_) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(100));
                }
            }
        }
    }

    async fn enter_local(&self, instance: &str, fingerprint: String) -> Option<GateGuard> {
        let gate = Arc::clone(
            self.map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(instance.to_owned())
                .or_default(),
        );
        let mut held = GateGuard {
            guard: None,
            gate: Arc::clone(&gate),
            key: instance.to_owned(),
            map: Arc::clone(&self.map),
            store_lock: None,
        };
        {
            let mut inflight = gate
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match Arc::clone(&gate.lock).try_lock_owned() {
                Ok(guard) => {
                    *inflight = Some(fingerprint);
                    held.guard = Some(guard);
                    return Some(held);
                }
                Err(_) if inflight.as_deref() != Some(fingerprint.as_str()) => return None,
                Err(_) => {}
            }
        }
        held.guard = Some(Arc::clone(&gate.lock).lock_owned().await);
        *gate
            .inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fingerprint);
        Some(held)
    }

    /// How many instances have a gate (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gates_wait_for_identical_and_refuse_different_requests() {
        let gates = Arc::new(Gates::new(Arc::new(crate::store::MemoryStore::default())));
        let d = Duration::from_secs(30);
        let first = gates.enter("i", "a".to_owned(), "me", d).await.unwrap().unwrap();
        assert!(gates.enter("i", "b".to_owned(), "me", d).await.unwrap().is_none());
        assert!(
            gates.enter("j", "b".to_owned(), "me", d).await.unwrap().is_some(),
            "other instances are independent"
        );
        let g2 = Arc::clone(&gates);
        let waiter =
            tokio::spawn(async move { g2.enter("i", "a".to_owned(), "me", d).await.unwrap().is_some() });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        assert!(waiter.await.unwrap());
        assert_eq!(gates.len(), 0, "gates are removed when unused");
    }

    #[test]
    fn digests_are_stable_and_distinguish_requests() {
        assert_eq!(digest("provision\u{0}\u{0}{}"), digest("provision\u{0}\u{0}{}"));
        assert_ne!(digest("a"), digest("b"));
    }
}
