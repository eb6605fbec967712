//! How an operation becomes durable: the one seam between the request handlers and the
//! records.
//!
//! A handler that mutates an instance or binding:
//! 1. [`State::enter`]s the instance's gate (in-process, plus a lock in the store when the
//!    store is shared by replicas): an identical request waits for the one inside, a
//!    different one is refused (`None` → 422 `ConcurrencyError`);
//! 2. reads the records and decides the repeat/conflict answers;
//! 3. [`State::begin`]s the operation: an *intent* is written before the broker is called,
//!    so that after a crash the runtime knows what was in flight;
//! 4. runs the broker call through [`Ticket::run`] (the intent's lease is renewed while it
//!    runs) and settles it: [`Ticket::finish`] for a synchronous answer, or
//!    [`Ticket::go_async`], which records the asynchronous operation with an owner and a
//!    lease and runs the work in the background until its outcome is recorded.
//!
//! What each outcome does to the record ([`Fate`]) is decided by [`settle`]; recovery of
//! work whose owner is gone is in `ops::recover`, on the same primitives.

mod gates;
pub(crate) mod progress;
pub(crate) mod settle;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_types::{BindingId, InstanceId, OperationId, OperationState};
use tracing::Instrument;

use crate::error::BrokerError;
use crate::reply::{Background, Progress};
use crate::store::{
    BindingRecord, InstanceRecord, Intent, Lease, OperationKind, OperationRecord, ResourceState, Store,
    StoreError, Tombstone, Versioned, Write, now_ms,
};
pub(crate) use gates::GateGuard;
use gates::Gates;
pub(crate) use settle::Fate;

/// Lease, tombstone and shutdown settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateSettings {
    /// How long running work stays owned without a renewal (renewed every third of it).
    pub(crate) lease: Duration,
    /// How long a finished delete is remembered for `last_operation`.
    pub(crate) tombstone_ttl: Duration,
    /// How often expired leases and tombstones are looked for.
    pub(crate) sweep_interval: Duration,
}

impl Default for StateSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            tombstone_ttl: Duration::from_secs(24 * 3600),
            sweep_interval: Duration::from_secs(5),
        }
    }
}

/// Why a state operation failed: the store failed (503), or the record changed under us
/// (another process took it over).
#[derive(Debug, Clone)]
pub(crate) enum StateError {
    Store(StoreError),
    Lost(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(e) => write!(f, "store: {e}"),
            Self::Lost(m) => f.write_str(m),
        }
    }
}

impl From<StoreError> for StateError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The runtime's protocol state: the store, the gates, the owner id of this process, the
/// live progress of running operations and the background tasks.
pub(crate) struct State {
    pub(crate) store: Arc<dyn Store>,
    gates: Gates,
    /// This process, as lease owner (a UUID).
    pub(crate) owner: String,
    pub(crate) settings: StateSettings,
    live: Mutex<std::collections::HashMap<String, Progress>>,
    running: AtomicUsize,
    idle: tokio::sync::Notify,
    stop: tokio::sync::watch::Sender<bool>,
    /// Set when shutdown begins: readiness answers 503 from then on.
    draining: std::sync::atomic::AtomicBool,
}

/// A record of either kind, as the state machine handles them.
pub(crate) trait Resource: Clone + Send + Sync + 'static {
    fn state(&self) -> ResourceState;
    fn set_state(&mut self, state: ResourceState);
    fn intent_mut(&mut self) -> &mut Option<Intent>;
    fn operation(&self) -> Option<&OperationRecord>;
    fn operation_mut(&mut self) -> &mut Option<OperationRecord>;
    fn instance_id(&self) -> &InstanceId;
    /// Empty for an instance.
    fn binding_id(&self) -> BindingId;
    fn read<'a>(store: &'a dyn Store, key: &'a Key)
    -> crate::store::StoreFuture<'a, Option<Versioned<Self>>>;
    fn insert<'a>(&'a self, store: &'a dyn Store) -> crate::store::StoreFuture<'a, Write>;
    fn replace<'a>(&'a self, store: &'a dyn Store, expected: u64) -> crate::store::StoreFuture<'a, Write>;
    fn remove<'a>(
        &'a self,
        store: &'a dyn Store,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> crate::store::StoreFuture<'a, Write>;
}

/// Which record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) instance: InstanceId,
    /// Empty for the instance itself.
    pub(crate) binding: BindingId,
}

impl Key {
    pub(crate) fn instance(id: &InstanceId) -> Self {
        Self {
            instance: id.clone(),
            binding: BindingId::default(),
        }
    }

    pub(crate) fn binding(id: &InstanceId, binding: &BindingId) -> Self {
        Self {
            instance: id.clone(),
            binding: binding.clone(),
        }
    }
}

impl Resource for InstanceRecord {
    fn state(&self) -> ResourceState {
        self.state
    }
    fn set_state(&mut self, state: ResourceState) {
        self.state = state;
    }
    fn intent_mut(&mut self) -> &mut Option<Intent> {
        &mut self.intent
    }
    fn operation(&self) -> Option<&OperationRecord> {
        self.operation.as_ref()
    }
    fn operation_mut(&mut self) -> &mut Option<OperationRecord> {
        &mut self.operation
    }
    fn instance_id(&self) -> &InstanceId {
        &self.id
    }
    fn binding_id(&self) -> BindingId {
        BindingId::default()
    }
    fn read<'a>(
        store: &'a dyn Store,
        key: &'a Key,
    ) -> crate::store::StoreFuture<'a, Option<Versioned<Self>>> {
        store.instance(&key.instance)
    }
    fn insert<'a>(&'a self, store: &'a dyn Store) -> crate::store::StoreFuture<'a, Write> {
        store.insert_instance(self)
    }
    fn replace<'a>(&'a self, store: &'a dyn Store, expected: u64) -> crate::store::StoreFuture<'a, Write> {
        store.replace_instance(self, expected)
    }
    fn remove<'a>(
        &'a self,
        store: &'a dyn Store,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> crate::store::StoreFuture<'a, Write> {
        store.remove_instance(&self.id, expected, tombstone)
    }
}

impl Resource for BindingRecord {
    fn state(&self) -> ResourceState {
        self.state
    }
    fn set_state(&mut self, state: ResourceState) {
        self.state = state;
    }
    fn intent_mut(&mut self) -> &mut Option<Intent> {
        &mut self.intent
    }
    fn operation(&self) -> Option<&OperationRecord> {
        self.operation.as_ref()
    }
    fn operation_mut(&mut self) -> &mut Option<OperationRecord> {
        &mut self.operation
    }
    fn instance_id(&self) -> &InstanceId {
        &self.instance_id
    }
    fn binding_id(&self) -> BindingId {
        self.id.clone()
    }
    fn read<'a>(
        store: &'a dyn Store,
        key: &'a Key,
    ) -> crate::store::StoreFuture<'a, Option<Versioned<Self>>> {
        store.binding(&key.instance, &key.binding)
    }
    fn insert<'a>(&'a self, store: &'a dyn Store) -> crate::store::StoreFuture<'a, Write> {
        store.insert_binding(self)
    }
    fn replace<'a>(&'a self, store: &'a dyn Store, expected: u64) -> crate::store::StoreFuture<'a, Write> {
        store.replace_binding(self, expected)
    }
    fn remove<'a>(
        &'a self,
        store: &'a dyn Store,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> crate::store::StoreFuture<'a, Write> {
        store.remove_binding(&self.instance_id, &self.id, expected, tombstone)
    }
}

/// A fresh operation id (a UUID v4, 36 characters).
pub(crate) fn new_operation_id() -> OperationId {
    OperationId::new(uuid::Uuid::new_v4().to_string())
}

/// The broker call an intent records.
pub(crate) struct Call {
    /// The operation.
    pub(crate) kind: OperationKind,
    /// Its request body (JSON; `null` for deletes).
    pub(crate) request: serde_json::Value,
    /// Whether the Platform sent `accepts_incomplete=true`.
    pub(crate) accepts_incomplete: bool,
    /// The state of the resource while the call runs (`Creating`, `Updating`, `Deleting`).
    pub(crate) running: ResourceState,
}

/// A started broker call: the intent is recorded, the gate is held.
pub(crate) struct Ticket<R: Resource> {
    state: Arc<State>,
    /// The record as it was before the intent (restored if the call changes nothing).
    before: Option<R>,
    /// The record as stored, intent included.
    record: R,
    version: u64,
    gate: Option<GateGuard>,
}

impl State {
    /// Marks the process as shutting down (readiness answers 503 from now on).
    pub(crate) fn begin_draining(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether shutdown has begun.
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn new(store: Arc<dyn Store>, settings: StateSettings) -> Self {
        Self {
            gates: Gates::new(Arc::clone(&store)),
            store,
            owner: uuid::Uuid::new_v4().to_string(),
            settings,
            live: Mutex::default(),
            running: AtomicUsize::new(0),
            draining: std::sync::atomic::AtomicBool::new(false),
            idle: tokio::sync::Notify::new(),
            stop: tokio::sync::watch::channel(false).0,
        }
    }

    fn lease(&self) -> Lease {
        let ms = u64::try_from(self.settings.lease.as_millis()).unwrap_or(u64::MAX);
        Lease {
            owner: self.owner.clone(),
            until_ms: now_ms().saturating_add(ms),
        }
    }

    /// Enters the gate of `instance` for a request with this fingerprint; `Ok(None)`: a
    /// different request is being processed (422 `ConcurrencyError`).
    pub(crate) async fn enter(
        &self,
        instance: &InstanceId,
        fingerprint: String,
    ) -> Result<Option<GateGuard>, StateError> {
        self.gates
            .enter(instance.as_str(), fingerprint, &self.owner, self.settings.lease)
            .await
            .map_err(StateError::Store)
    }

    pub(crate) async fn instance(
        &self,
        id: &InstanceId,
    ) -> Result<Option<Versioned<InstanceRecord>>, StateError> {
        Ok(self.store.instance(id).await?)
    }

    pub(crate) async fn binding(
        &self,
        id: &InstanceId,
        binding: &BindingId,
    ) -> Result<Option<Versioned<BindingRecord>>, StateError> {
        Ok(self.store.binding(id, binding).await?)
    }

    pub(crate) async fn tombstone(
        &self,
        id: &InstanceId,
        binding: &BindingId,
    ) -> Result<Option<Tombstone>, StateError> {
        Ok(self.store.tombstone(id, binding).await?)
    }

    /// Records the intent to call the broker for `kind` on `record` (which replaces
    /// `current`, or is inserted when there is none), in state `running`.
    pub(crate) async fn begin<R: Resource>(
        self: &Arc<Self>,
        gate: GateGuard,
        current: Option<Versioned<R>>,
        mut record: R,
        call: Call,
    ) -> Result<Ticket<R>, StateError> {
        let Call {
            kind,
            request,
            accepts_incomplete,
            running,
        } = call;
        let previous = current.as_ref().map(|c| c.record.state());
        *record.intent_mut() = Some(Intent {
            kind,
            request,
            lease: self.lease(),
            previous_state: previous,
            accepts_incomplete,
        });
        record.set_state(running);
        let written = match &current {
            Some(c) => record.replace(&*self.store, c.version).await?,
            None => record.insert(&*self.store).await?,
        };
        let Write::Done(version) = written else {
            return Err(StateError::Lost(format!(
                "the record of {} changed while the request was being processed",
                describe(&record)
            )));
        };
        Ok(Ticket {
            state: Arc::clone(self),
            before: current.map(|c| c.record),
            record,
            version,
            gate: Some(gate),
        })
    }

    /// The live description of a running operation of this process.
    pub(crate) fn description(&self, id: &OperationId) -> Option<String> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id.as_str())
            .and_then(Progress::get)
    }

    /// Settles a record found running by someone else (recovery, a broker's own
    /// last_operation answer): applies `fate` if the record still has `version`.
    pub(crate) async fn settle_found<R: Resource>(
        &self,
        found: Versioned<R>,
        fate: Fate<R>,
    ) -> Result<bool, StateError> {
        let written = write_fate(self, &found.record, found.version, fate, None).await?;
        Ok(written)
    }

    /// Claims work found with an expired lease: rewrites its lease to this process.
    /// `None` when another process claimed it first.
    pub(crate) async fn claim<R: Resource>(
        &self,
        found: Versioned<R>,
    ) -> Result<Option<Versioned<R>>, StateError> {
        let mut record = found.record;
        let lease = self.lease();
        if let Some(i) = record.intent_mut() {
            i.lease = lease.clone();
        }
        if let Some(op) = record
            .operation_mut()
            .as_mut()
            .filter(|o| o.state == OperationState::InProgress)
        {
            op.lease = Some(lease);
        }
        match record.replace(&*self.store, found.version).await? {
            Write::Done(version) => Ok(Some(Versioned { version, record })),
            Write::Conflict => Ok(None),
        }
    }

    /// Runs recovered work as this process's asynchronous operation (see [`Ticket::go_async`]).
    pub(crate) fn adopt<R: Resource, T: Clone + Send + 'static>(
        self: &Arc<Self>,
        claimed: Versioned<R>,
        background: Background<T>,
        done: impl Fn(R, Result<T, BrokerError>) -> Fate<R> + Send + Sync + 'static,
    ) {
        let Some(op_id) = claimed.record.operation().map(|o| o.id.clone()) else {
            return;
        };
        self.spawn_background(claimed.record, claimed.version, op_id, background, done);
    }

    /// Whether shutdown has begun.
    pub(crate) fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Lets background work run for up to `grace`, then stops what still runs; its leases
    /// are released so that the next process (or another replica) recovers it at once.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        let wait = async {
            while self.running.load(Ordering::SeqCst) > 0 {
                let notified = self.idle.notified();
                if self.running.load(Ordering::SeqCst) == 0 {
                    break;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(grace, wait).await.is_err() {
            tracing::warn!(
                running = self.running.load(Ordering::SeqCst),
                "shutdown: background operations still running after the grace period; they are left to be recovered at the next start"
            );
        }
        let _ = self.stop.send(true);
        // Give the stopped tasks a moment to release their leases.
        let released = async {
            while self.running.load(Ordering::SeqCst) > 0 {
                let notified = self.idle.notified();
                if self.running.load(Ordering::SeqCst) == 0 {
                    break;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), released).await;
    }

    fn spawn_background<R: Resource, T: Clone + Send + 'static>(
        self: &Arc<Self>,
        record: R,
        version: u64,
        op_id: OperationId,
        background: Background<T>,
        done: impl Fn(R, Result<T, BrokerError>) -> Fate<R> + Send + Sync + 'static,
    ) {
        let progress = Progress::default();
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(op_id.as_str().to_owned(), progress.clone());
        let work = (background.work)(progress.clone());
        self.running.fetch_add(1, Ordering::SeqCst);
        let state = Arc::clone(self);
        let mut stop = self.stop.subscribe();
        let scope = crate::metrics::CallScope::current();
        let metrics = scope.metrics.clone();
        let operation = scope.operation;
        if let Some(m) = &metrics {
            m.async_running
                .get_or_create(&crate::metrics::OperationLabels { operation })
                .inc();
        }
        tokio::spawn(scope.run(
            async move {
                let mut tracked = Tracked {
                    record,
                    version,
                    op_id: op_id.clone(),
                };
                let work = progress::run_caught(work);
                tokio::pin!(work);
                let every = state.settings.lease / 3;
                let outcome = loop {
                    tokio::select! {
                        result = &mut work => break Some(result),
                        () = tokio::time::sleep(every) => {
                            tracked.renew(&state, progress.get()).await;
                        }
                        _ = stop.changed() => break None,
                    }
                };
                if let Some(m) = &metrics {
                    use crate::metrics::{Finished, FinishedLabels, OperationLabels};
                    let state = match &outcome {
                        Some(Ok(_)) => Finished::succeeded,
                        Some(Err(_)) => Finished::failed,
                        None => Finished::stopped,
                    };
                    m.async_running.get_or_create(&OperationLabels { operation }).dec();
                    m.async_finished
                        .get_or_create(&FinishedLabels { operation, state })
                        .inc();
                }
                match outcome {
                    Some(result) => {
                        match &result {
                            Ok(_) => tracing::info!(operation = %op_id, "asynchronous operation succeeded"),
                            Err(e) => tracing::info!(operation = %op_id, status = e.status(), "asynchronous operation failed"),
                        }
                        tracked.complete(&state, result, &done).await;
                    }
                    None => tracked.release(&state).await,
                }
                state
                    .live
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(op_id.as_str());
                if state.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                    state.idle.notify_waiters();
                }
            }
            .instrument(tracing::Span::current()),
        ));
    }
}

/// "Service Instance i-1" / "Service Binding b-1 of Service Instance i-1".
pub(crate) fn describe<R: Resource>(r: &R) -> String {
    let b = r.binding_id();
    if b.as_str().is_empty() {
        format!("Service Instance {}", r.instance_id())
    } else {
        format!("Service Binding {b} of Service Instance {}", r.instance_id())
    }
}

/// Writes a fate; `Ok(false)` when the record changed (someone else settled it).
async fn write_fate<R: Resource>(
    state: &State,
    current: &R,
    version: u64,
    fate: Fate<R>,
    before: Option<R>,
) -> Result<bool, StateError> {
    let written = match fate {
        Fate::Keep(mut r) => {
            *r.intent_mut() = None;
            r.replace(&*state.store, version).await?
        }
        Fate::Remove(operation) => {
            let t = operation.map(|operation| Tombstone {
                instance_id: current.instance_id().clone(),
                binding_id: current.binding_id(),
                operation: Some(operation),
                expires_at_ms: now_ms().saturating_add(
                    u64::try_from(state.settings.tombstone_ttl.as_millis()).unwrap_or(u64::MAX),
                ),
            });
            current.remove(&*state.store, version, t.as_ref()).await?
        }
        Fate::Restore => match before {
            Some(mut r) => {
                *r.intent_mut() = None;
                r.replace(&*state.store, version).await?
            }
            None => current.remove(&*state.store, version, None).await?,
        },
    };
    Ok(written != Write::Conflict)
}

impl<R: Resource> Ticket<R> {
    /// The record as stored (with the intent).
    pub(crate) fn record(&self) -> &R {
        &self.record
    }

    /// Changes what [`go_async`](Self::go_async) will write (e.g. the dashboard URL of the
    /// broker's answer).
    pub(crate) fn record_mut(&mut self) -> &mut R {
        &mut self.record
    }

    /// Awaits the broker call, renewing the intent's lease while it runs.
    pub(crate) async fn run<T>(&mut self, call: impl Future<Output = T>) -> T {
        tokio::pin!(call);
        let every = self.state.settings.lease / 3;
        loop {
            tokio::select! {
                out = &mut call => return out,
                () = tokio::time::sleep(every) => {
                    let mut r = self.record.clone();
                    if let Some(i) = r.intent_mut() {
                        i.lease = self.state.lease();
                    }
                    if let Ok(Write::Done(v)) = r.replace(&*self.state.store, self.version).await {
                        self.record = r;
                        self.version = v;
                    }
                }
            }
        }
    }

    /// Settles a synchronous answer (or a failure) and releases the gate.
    pub(crate) async fn finish(mut self, fate: Fate<R>) -> Result<(), StateError> {
        let before = self.before.take();
        let ok = match write_fate(
            &self.state,
            &self.record,
            self.version,
            fate.clone(),
            before.clone(),
        )
        .await
        {
            Ok(ok) => ok,
            Err(StateError::Store(e)) => {
                // The broker answered but the store failed (a database restarting): the
                // Platform gets a 503, and the outcome is written as soon as the store is
                // back, still holding the gate, so that its retry finds the outcome instead
                // of an intent to recover (which would call the broker again).
                self.settle_later(fate, before);
                return Err(StateError::Store(e));
            }
            Err(e) => return Err(e),
        };
        if let Some(gate) = self.gate.take() {
            gate.release().await;
        }
        if ok {
            Ok(())
        } else {
            Err(StateError::Lost(format!(
                "the record of {} was taken over while the broker worked",
                describe(&self.record)
            )))
        }
    }

    /// Retries writing a synchronous outcome the store refused, for as long as the intent's
    /// lease lasts (after that the recovery sweeper settles it), then releases the gate.
    fn settle_later(mut self, fate: Fate<R>, before: Option<R>) {
        let deadline = tokio::time::Instant::now() + self.state.settings.lease;
        let mut stop = self.state.stopping();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(50);
            loop {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => break,
                }
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                match write_fate(
                    &self.state,
                    &self.record,
                    self.version,
                    fate.clone(),
                    before.clone(),
                )
                .await
                {
                    // Written, or the record changed (our earlier write did reach the
                    // store, or another process recovered it): nothing left to do.
                    Ok(_) | Err(StateError::Lost(_)) => break,
                    Err(StateError::Store(_)) => delay = (delay * 2).min(Duration::from_millis(500)),
                }
            }
            if let Some(gate) = self.gate.take() {
                gate.release().await;
            }
        });
    }

    /// Records the asynchronous operation (`state` stays the running one, with an owner and
    /// a lease), releases the gate and runs `background`; `done` decides the record's fate
    /// from the outcome.
    pub(crate) async fn go_async<T: Clone + Send + 'static>(
        mut self,
        kind: OperationKind,
        background: Background<T>,
        retry_after: Option<Duration>,
        done: impl Fn(R, Result<T, BrokerError>) -> Fate<R> + Send + Sync + 'static,
    ) -> Result<OperationId, StateError> {
        let op_id = new_operation_id();
        let mut r = self.record.clone();
        let intent = r.intent_mut().take();
        let mut op = OperationRecord::new(
            op_id.clone(),
            kind,
            intent.as_ref().map(|i| i.request.clone()).unwrap_or_default(),
        );
        op.retry_after = retry_after;
        op.lease = Some(self.state.lease());
        op.previous_state = intent.and_then(|i| i.previous_state);
        *r.operation_mut() = Some(op);
        let Write::Done(version) = r.replace(&*self.state.store, self.version).await? else {
            return Err(StateError::Lost(format!(
                "the record of {} was taken over while the broker worked",
                describe(&self.record)
            )));
        };
        if let Some(gate) = self.gate.take() {
            gate.release().await;
        }
        self.state
            .spawn_background(r, version, op_id.clone(), background, done);
        Ok(op_id)
    }
}

/// A running background operation's view of its record.
struct Tracked<R: Resource> {
    record: R,
    version: u64,
    op_id: OperationId,
}

impl<R: Resource> Tracked<R> {
    /// Re-reads the record if needed; `None` when the operation is no longer ours.
    async fn current(&mut self, state: &State) -> Result<Option<()>, StoreError> {
        let key = Key {
            instance: self.record.instance_id().clone(),
            binding: self.record.binding_id(),
        };
        let Some(found) = R::read(&*state.store, &key).await? else {
            return Ok(None);
        };
        let ours = found.record.operation().is_some_and(|o| {
            o.id == self.op_id
                && o.state == OperationState::InProgress
                && o.lease.as_ref().is_some_and(|l| l.owner == state.owner)
        });
        if !ours {
            return Ok(None);
        }
        self.record = found.record;
        self.version = found.version;
        Ok(Some(()))
    }

    async fn renew(&mut self, state: &State, description: Option<String>) {
        for _ in 0..3 {
            let mut r = self.record.clone();
            if let Some(op) = r.operation_mut() {
                op.lease = Some(state.lease());
                if description.is_some() {
                    op.description.clone_from(&description);
                }
            }
            match r.replace(&*state.store, self.version).await {
                Ok(Write::Done(v)) => {
                    self.record = r;
                    self.version = v;
                    return;
                }
                Ok(Write::Conflict) => match self.current(state).await {
                    Ok(Some(())) => {}
                    _ => return,
                },
                Err(e) => {
                    tracing::warn!(operation = %self.op_id, error = %e, "could not renew the lease of an operation");
                    return;
                }
            }
        }
    }

    /// Records the outcome; retries store failures until shutdown.
    async fn complete<T: Clone>(
        &mut self,
        state: &State,
        result: Result<T, BrokerError>,
        done: &impl Fn(R, Result<T, BrokerError>) -> Fate<R>,
    ) {
        let mut delay = Duration::from_millis(50);
        let mut stop = state.stopping();
        loop {
            let fate = done(self.record.clone(), result.clone());
            match write_fate(state, &self.record, self.version, fate, None).await {
                Ok(true) => return,
                Ok(false) => match self.current(state).await {
                    Ok(Some(())) => {}
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(operation = %self.op_id, error = %e, "could not record an operation's outcome; retrying")
                    }
                },
                Err(e) => {
                    tracing::warn!(operation = %self.op_id, error = %e, "could not record an operation's outcome; retrying");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stop.changed() => return,
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Shutdown: releases the lease so the work is recovered at once by the next owner.
    async fn release(&mut self, state: &State) {
        let mut r = self.record.clone();
        if let Some(op) = r.operation_mut()
            && let Some(l) = op.lease.as_mut()
        {
            l.until_ms = 0;
        }
        let _ = r.replace(&*state.store, self.version).await;
    }
}
