//! `ObservedStore`: the store the runtime uses, wrapped so that every call runs in a
//! `osb_store` tracing span (inside the request's span) and, with metrics on, is timed and
//! its errors counted by call name.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::{
    BindingRecord, InstanceRecord, KnownPlan, LeaseKey, Store, StoreError, StoreFuture, Tombstone, Versioned,
    Write,
};
use crate::metrics::{Counter, Latency, Metrics, StoreLabels};
use osb_types::{BindingId, InstanceId};

/// The store calls, by the name their metrics carry.
const CALLS: [&str; 17] = [
    "instance",
    "insert_instance",
    "replace_instance",
    "remove_instance",
    "binding",
    "insert_binding",
    "replace_binding",
    "remove_binding",
    "bindings",
    "tombstone",
    "purge_tombstones",
    "expired_leases",
    "try_lock",
    "unlock",
    "ping",
    "known_plans",
    "remember_plans",
];

/// The metrics of one store call, looked up once (not per call in the families).
struct CallMetrics {
    seconds: Latency,
    errors: Counter,
}

/// A store whose calls are traced and measured.
pub(crate) struct ObservedStore {
    inner: Arc<dyn Store>,
    /// By call name, in the order of `CALLS`; empty without metrics.
    calls: Vec<(&'static str, CallMetrics)>,
}

impl ObservedStore {
    pub(crate) fn new(inner: Arc<dyn Store>, metrics: Option<Arc<Metrics>>) -> Self {
        let calls = metrics
            .map(|m| {
                CALLS
                    .iter()
                    .map(|&call| {
                        let labels = StoreLabels { call };
                        let seconds = m.store_seconds.get_or_create_owned(&labels);
                        let errors = m.store_errors.get_or_create_owned(&labels);
                        (call, CallMetrics { seconds, errors })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { inner, calls }
    }

    fn observe<'a, T: Send + 'a>(
        &'a self,
        call: &'static str,
        fut: StoreFuture<'a, T>,
    ) -> StoreFuture<'a, T> {
        let span = tracing::debug_span!("osb_store", call);
        let metrics = self.calls.iter().find(|(name, _)| *name == call).map(|(_, m)| m);
        Box::pin(
            async move {
                let started = metrics.map(|_| Instant::now());
                let result: Result<T, StoreError> = fut.await;
                if let (Some(m), Some(started)) = (metrics, started) {
                    m.seconds.observe(started.elapsed());
                    if result.is_err() {
                        m.errors.inc();
                    }
                }
                if let Err(e) = &result {
                    tracing::debug!(error = %e, "store call failed");
                }
                result
            }
            .instrument(span),
        )
    }
}

impl Store for ObservedStore {
    fn instance<'a>(&'a self, id: &'a InstanceId) -> StoreFuture<'a, Option<Versioned<InstanceRecord>>> {
        self.observe("instance", self.inner.instance(id))
    }

    fn insert_instance<'a>(&'a self, record: &'a InstanceRecord) -> StoreFuture<'a, Write> {
        self.observe("insert_instance", self.inner.insert_instance(record))
    }

    fn replace_instance<'a>(&'a self, record: &'a InstanceRecord, expected: u64) -> StoreFuture<'a, Write> {
        self.observe("replace_instance", self.inner.replace_instance(record, expected))
    }

    fn remove_instance<'a>(
        &'a self,
        id: &'a InstanceId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        self.observe(
            "remove_instance",
            self.inner.remove_instance(id, expected, tombstone),
        )
    }

    fn binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Versioned<BindingRecord>>> {
        self.observe("binding", self.inner.binding(instance_id, binding_id))
    }

    fn insert_binding<'a>(&'a self, record: &'a BindingRecord) -> StoreFuture<'a, Write> {
        self.observe("insert_binding", self.inner.insert_binding(record))
    }

    fn replace_binding<'a>(&'a self, record: &'a BindingRecord, expected: u64) -> StoreFuture<'a, Write> {
        self.observe("replace_binding", self.inner.replace_binding(record, expected))
    }

    fn remove_binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        self.observe(
            "remove_binding",
            self.inner
                .remove_binding(instance_id, binding_id, expected, tombstone),
        )
    }

    fn bindings<'a>(&'a self, instance_id: &'a InstanceId) -> StoreFuture<'a, Vec<Versioned<BindingRecord>>> {
        self.observe("bindings", self.inner.bindings(instance_id))
    }

    fn tombstone<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Tombstone>> {
        self.observe("tombstone", self.inner.tombstone(instance_id, binding_id))
    }

    fn purge_tombstones(&self, now_ms: u64) -> StoreFuture<'_, u64> {
        self.observe("purge_tombstones", self.inner.purge_tombstones(now_ms))
    }

    fn expired_leases<'a>(
        &'a self,
        now_ms: u64,
        other_than: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<LeaseKey>> {
        self.observe(
            "expired_leases",
            self.inner.expired_leases(now_ms, other_than, limit),
        )
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        fingerprint: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Option<String>> {
        self.observe("try_lock", self.inner.try_lock(key, holder, fingerprint, ttl))
    }

    fn unlock<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        self.observe("unlock", self.inner.unlock(key, holder))
    }

    fn durable(&self) -> bool {
        self.inner.durable()
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.observe("ping", self.inner.ping())
    }

    fn known_plans(&self) -> StoreFuture<'_, Vec<KnownPlan>> {
        self.observe("known_plans", self.inner.known_plans())
    }

    fn remember_plans<'a>(&'a self, plans: &'a [KnownPlan]) -> StoreFuture<'a, ()> {
        self.observe("remember_plans", self.inner.remember_plans(plans))
    }
}
