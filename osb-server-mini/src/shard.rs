//! Per-thread shards of hot shared values.
//!
//! On a server answering requests from several cores, a value every request touches with an
//! atomic read-modify-write (a reference count, a counter) moves its cache line from core
//! to core on every request. Spreading threads over a few shards, each on a cache line of
//! its own, keeps each core on its own line: the metrics count in shards, and
//! [`Replicas`] hands each shard its own copy of a value whose clones share a count
//! (`Bytes`, `Arc`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many shards; threads are spread over them round-robin.
pub(crate) const SHARDS: usize = 8;

/// The shard of the current thread.
pub(crate) fn index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

/// A value on a cache line of its own.
#[repr(align(128))]
struct Padded<T>(OnceLock<T>);

/// Copies of a value, one per shard, each made on first use by the shard's threads: the
/// clones a thread takes share a reference count with its own shard only.
pub(crate) struct Replicas<T> {
    source: T,
    copy: fn(&T) -> T,
    copies: [Padded<T>; SHARDS],
}

impl<T> Replicas<T> {
    /// Copies of `source`, made by `copy` (which must not merely clone what `source`
    /// shares: that is what the copies avoid).
    pub(crate) fn new(source: T, copy: fn(&T) -> T) -> Self {
        Self {
            source,
            copy,
            copies: std::array::from_fn(|_| Padded(OnceLock::new())),
        }
    }

    /// The copy of the current thread's shard.
    pub(crate) fn get(&self) -> &T {
        self.copies[index()].0.get_or_init(|| (self.copy)(&self.source))
    }

    /// The value the copies are made from.
    #[cfg(test)]
    pub(crate) fn source(&self) -> &T {
        &self.source
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Replicas<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.source.fmt(f)
    }
}

impl<T: Clone> Clone for Replicas<T> {
    /// The same source; the clone makes its own copies.
    fn clone(&self) -> Self {
        Self::new(self.source.clone(), self.copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_of_different_shards_get_their_own_copies() {
        let replicas = Arc::new(Replicas::new(Arc::<str>::from("admin"), |s| Arc::from(&**s)));
        let here = Arc::clone(replicas.get());
        assert_eq!(&*here, "admin");
        assert!(Arc::ptr_eq(&here, replicas.get()), "a thread keeps its copy");
        assert!(!Arc::ptr_eq(&here, replicas.source()), "a copy, not a clone");
        // SHARDS threads after this one: at least one of them lands on another shard.
        let mine = index();
        let others: Vec<(usize, Arc<str>)> = (0..SHARDS)
            .map(|_| {
                let replicas = Arc::clone(&replicas);
                std::thread::spawn(move || (index(), Arc::clone(replicas.get())))
                    .join()
                    .unwrap()
            })
            .collect();
        let (_, other) = others.iter().find(|(shard, _)| *shard != mine).unwrap();
        assert_eq!(&**other, "admin");
        assert!(!Arc::ptr_eq(&here, other));
        for (shard, copy) in &others {
            assert_eq!(*shard == mine, Arc::ptr_eq(&here, copy));
        }
    }
}
