//! [`MemoryStore`]: records that live as long as the process.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use osb_types::{BindingId, InstanceId};

use super::{
    BindingRecord, InstanceRecord, KnownPlan, LeaseKey, Store, StoreFuture, Tombstone, Versioned, Write,
    now_ms,
};

/// Records in memory: fast, and forgotten when the process ends. For tests and
/// development; a server running on it logs a warning at start that a restart forgets every
/// record. Use [`SqliteStore`](super::SqliteStore) (or a shared database) in production.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    // Records are boxed: a table of hundreds of thousands of instances then moves pointers,
    // not whole records, when it grows (unboxed, each resize copied hundreds of MB while
    // holding the lock, a stall of tens of milliseconds every request waited behind).
    instances: HashMap<InstanceId, Box<Versioned<InstanceRecord>>>,
    bindings: HashMap<InstanceId, HashMap<BindingId, Box<Versioned<BindingRecord>>>>,
    tombstones: HashMap<(InstanceId, BindingId), Tombstone>,
    /// Records with running work (an intent or an operation in progress).
    leased: HashSet<LeaseKey>,
    /// Plan id → definition.
    plans: HashMap<String, String>,
}

impl Inner {
    fn track(&mut self, key: LeaseKey, leased: bool) {
        if leased {
            self.leased.insert(key);
        } else {
            self.leased.remove(&key);
        }
    }

    fn lease_of(&self, key: &LeaseKey) -> Option<(u64, String)> {
        let (intent, op) = match key {
            LeaseKey::Instance(i) => {
                let r = &self.instances.get(i)?.record;
                (r.intent.as_ref(), r.operation.as_ref())
            }
            LeaseKey::Binding(i, b) => {
                let r = &self.bindings.get(i)?.get(b)?.record;
                (r.intent.as_ref(), r.operation.as_ref())
            }
        };
        let lease = intent.map(|i| &i.lease).or_else(|| {
            op.filter(|o| o.state == osb_types::OperationState::InProgress)
                .and_then(|o| o.lease.as_ref())
        })?;
        Some((lease.until_ms, lease.owner.clone()))
    }
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(Ok(value)))
}

impl Store for MemoryStore {
    fn durable(&self) -> bool {
        false
    }

    fn instance<'a>(&'a self, id: &'a InstanceId) -> StoreFuture<'a, Option<Versioned<InstanceRecord>>> {
        ready(self.lock().instances.get(id).map(|v| Versioned::clone(v)))
    }

    fn insert_instance<'a>(&'a self, record: &'a InstanceRecord) -> StoreFuture<'a, Write> {
        let mut inner = self.lock();
        if inner.instances.contains_key(&record.id) {
            return ready(Write::Conflict);
        }
        inner
            .tombstones
            .remove(&(record.id.clone(), BindingId::default()));
        inner.track(
            LeaseKey::Instance(record.id.clone()),
            record.lease_until_ms().is_some(),
        );
        inner.instances.insert(
            record.id.clone(),
            Box::new(Versioned {
                version: 1,
                record: record.clone(),
            }),
        );
        ready(Write::Done(1))
    }

    fn replace_instance<'a>(&'a self, record: &'a InstanceRecord, expected: u64) -> StoreFuture<'a, Write> {
        let mut inner = self.lock();
        let Some(current) = inner.instances.get_mut(&record.id) else {
            return ready(Write::Conflict);
        };
        if current.version != expected {
            return ready(Write::Conflict);
        }
        current.version += 1;
        current.record = record.clone();
        let version = current.version;
        inner.track(
            LeaseKey::Instance(record.id.clone()),
            record.lease_until_ms().is_some(),
        );
        ready(Write::Done(version))
    }

    fn remove_instance<'a>(
        &'a self,
        id: &'a InstanceId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        let mut inner = self.lock();
        if inner.instances.get(id).is_none_or(|c| c.version != expected) {
            return ready(Write::Conflict);
        }
        inner.instances.remove(id);
        inner.leased.remove(&LeaseKey::Instance(id.clone()));
        let bindings = inner.bindings.remove(id).unwrap_or_default();
        for b in bindings.keys() {
            inner.leased.remove(&LeaseKey::Binding(id.clone(), b.clone()));
        }
        if let Some(t) = tombstone {
            let ids = std::iter::once(BindingId::default()).chain(bindings.into_keys());
            for b in ids {
                let mut t = t.clone();
                t.instance_id = id.clone();
                t.binding_id = b.clone();
                inner.tombstones.insert((id.clone(), b), t);
            }
        }
        ready(Write::Done(expected + 1))
    }

    fn binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Versioned<BindingRecord>>> {
        ready(
            self.lock()
                .bindings
                .get(instance_id)
                .and_then(|m| m.get(binding_id))
                .map(|v| Versioned::clone(v)),
        )
    }

    fn insert_binding<'a>(&'a self, record: &'a BindingRecord) -> StoreFuture<'a, Write> {
        let mut inner = self.lock();
        let exists = inner
            .bindings
            .get(&record.instance_id)
            .is_some_and(|m| m.contains_key(&record.id));
        if exists {
            return ready(Write::Conflict);
        }
        inner
            .tombstones
            .remove(&(record.instance_id.clone(), record.id.clone()));
        inner.track(
            LeaseKey::Binding(record.instance_id.clone(), record.id.clone()),
            record.lease_until_ms().is_some(),
        );
        inner
            .bindings
            .entry(record.instance_id.clone())
            .or_default()
            .insert(
                record.id.clone(),
                Box::new(Versioned {
                    version: 1,
                    record: record.clone(),
                }),
            );
        ready(Write::Done(1))
    }

    fn replace_binding<'a>(&'a self, record: &'a BindingRecord, expected: u64) -> StoreFuture<'a, Write> {
        let mut inner = self.lock();
        let Some(current) = inner
            .bindings
            .get_mut(&record.instance_id)
            .and_then(|m| m.get_mut(&record.id))
        else {
            return ready(Write::Conflict);
        };
        if current.version != expected {
            return ready(Write::Conflict);
        }
        current.version += 1;
        current.record = record.clone();
        let version = current.version;
        inner.track(
            LeaseKey::Binding(record.instance_id.clone(), record.id.clone()),
            record.lease_until_ms().is_some(),
        );
        ready(Write::Done(version))
    }

    fn remove_binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        let mut inner = self.lock();
        let Some(map) = inner.bindings.get_mut(instance_id) else {
            return ready(Write::Conflict);
        };
        if map.get(binding_id).is_none_or(|c| c.version != expected) {
            return ready(Write::Conflict);
        }
        map.remove(binding_id);
        if map.is_empty() {
            inner.bindings.remove(instance_id);
        }
        inner
            .leased
            .remove(&LeaseKey::Binding(instance_id.clone(), binding_id.clone()));
        if let Some(t) = tombstone {
            let mut t = t.clone();
            t.instance_id = instance_id.clone();
            t.binding_id = binding_id.clone();
            inner
                .tombstones
                .insert((instance_id.clone(), binding_id.clone()), t);
        }
        ready(Write::Done(expected + 1))
    }

    fn bindings<'a>(&'a self, instance_id: &'a InstanceId) -> StoreFuture<'a, Vec<Versioned<BindingRecord>>> {
        ready(
            self.lock()
                .bindings
                .get(instance_id)
                .map(|m| m.values().map(|v| Versioned::clone(v)).collect())
                .unwrap_or_default(),
        )
    }

    fn tombstone<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Tombstone>> {
        let now = now_ms();
        ready(
            self.lock()
                .tombstones
                .get(&(instance_id.clone(), binding_id.clone()))
                .filter(|t| t.expires_at_ms >= now)
                .cloned(),
        )
    }

    fn purge_tombstones(&self, now_ms: u64) -> StoreFuture<'_, u64> {
        let mut inner = self.lock();
        let before = inner.tombstones.len();
        inner.tombstones.retain(|_, t| t.expires_at_ms >= now_ms);
        ready((before - inner.tombstones.len()) as u64)
    }

    fn expired_leases<'a>(
        &'a self,
        now_ms: u64,
        other_than: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<LeaseKey>> {
        let inner = self.lock();
        let found = inner
            .leased
            .iter()
            .filter(|key| {
                inner
                    .lease_of(key)
                    .is_some_and(|(until, owner)| until < now_ms || other_than.is_some_and(|me| me != owner))
            })
            .take(limit)
            .cloned()
            .collect();
        ready(found)
    }

    fn known_plans(&self) -> StoreFuture<'_, Vec<KnownPlan>> {
        let plans = self
            .lock()
            .plans
            .iter()
            .map(|(id, definition)| KnownPlan {
                plan_id: id.clone(),
                definition: definition.clone(),
            })
            .collect();
        ready(plans)
    }

    fn remember_plans<'a>(&'a self, plans: &'a [KnownPlan]) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        for p in plans {
            inner.plans.insert(p.plan_id.clone(), p.definition.clone());
        }
        ready(())
    }
}
