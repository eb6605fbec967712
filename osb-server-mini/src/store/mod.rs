//! The runtime's records of instances and bindings, behind a pluggable, asynchronous
//! [`Store`].
//!
//! The records are the truth the protocol is answered from: the runtime writes an *intent*
//! before every broker call, the operation's progress while it runs and its outcome when it
//! ends, and answers the idempotency and concurrency rules of the specification
//! (200/201/202/409/410/422) from them. A store that survives restarts ([`SqliteStore`], or
//! a PostgreSQL store shared by several replicas) therefore makes a broker survive restarts.
//!
//! Every write is conditional, so that several processes can share one store: a record is
//! inserted only if absent ([`Store::insert_instance`]) and replaced or removed only if it
//! still has the version that was read ([`Store::replace_instance`]). A write that loses
//! the race answers [`Write::Conflict`] and changes nothing.
//!
//! ```
//! use osb_server_mini::store::{InstanceRecord, MemoryStore, ResourceState, Store, Write};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), osb_server_mini::store::StoreError> {
//! let store = MemoryStore::default();
//! let record = InstanceRecord::new("i-1".into(), "svc".into(), "plan".into());
//! let Write::Done(version) = store.insert_instance(&record).await? else { unreachable!() };
//! assert_eq!(store.insert_instance(&record).await?, Write::Conflict, "insert-if-absent");
//! let read = store.instance(&"i-1".into()).await?.expect("recorded");
//! assert_eq!((read.version, read.record.state), (version, ResourceState::Ready));
//! assert!(store.bindings(&"i-1".into()).await?.is_empty());
//! # Ok(()) }
//! ```

#[cfg(feature = "test-util")]
pub mod conformance;
mod memory;
mod observed;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use osb_types::binding::BindResponse;
use osb_types::catalog::MaintenanceInfo;
use osb_types::instance::InstanceMetadata;
use osb_types::{BindingId, Context, InstanceId, OperationId, OperationState, Parameters, PlanId, ServiceId};
use serde::{Deserialize, Serialize};

pub use memory::MemoryStore;
pub(crate) use observed::ObservedStore;
#[cfg(all(feature = "postgres", feature = "test-util"))]
pub use postgres::postgres_test_database;
#[cfg(feature = "postgres")]
pub use postgres::{POSTGRES_SCHEMA_VERSION, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The version of the serialized record format ([`InstanceRecord`], [`BindingRecord`]).
/// Stores that serialize records keep it beside them; a record written by a newer format is
/// refused rather than misread.
pub const RECORD_FORMAT: u32 = 1;

/// The future a [`Store`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store could not be read or written (unreachable database, full or read-only disk,
/// corrupt record). The runtime answers `503 Service Unavailable` with a JSON error body;
/// when the failure happens before the broker ran, nothing ran.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// A store failure with this explanation (for logs, never sent to the Platform).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Write {
    /// Written; the record now has this version.
    Done(u64),
    /// Not written: the record exists (insert), or is absent or has another version
    /// (replace, remove).
    Conflict,
}

/// A record with the version a conditional write must name.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// Increases by one with every write of the record.
    pub version: u64,
    /// The record.
    pub record: T,
}

/// The lifecycle state of an instance or binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceState {
    /// A create is running; the resource does not exist yet for fetches.
    Creating,
    /// The resource exists and no operation runs on it.
    Ready,
    /// An update is running.
    Updating,
    /// A delete is running.
    Deleting,
    /// The create failed; the record is kept so the Platform can read the failure and clean
    /// up with a delete (orphan mitigation reaches the broker).
    Failed,
}

/// Which operation an [`OperationRecord`] or [`Intent`] tracks: the API's one operation kind,
/// stored as its snake_case name (`"provision"`, ...).
pub use osb_types::OperationKind;

/// Who runs an operation, and until when: the owner renews the lease while the work runs.
/// An operation whose lease has expired has lost its owner (the process crashed or was
/// killed) and is recovered by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The runtime process that runs the operation (a random id per process).
    pub owner: String,
    /// Milliseconds since the Unix epoch at which the lease expires.
    pub until_ms: u64,
}

/// The current or last asynchronous operation of an instance or binding: what
/// `last_operation` answers from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OperationRecord {
    /// The id sent in the 202 answer.
    pub id: OperationId,
    /// What the operation does.
    pub kind: OperationKind,
    /// Where it stands.
    pub state: OperationState,
    /// The last description (progress while running, the error description after a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// For a failed update or deprovision: whether the instance is still usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_usable: Option<bool>,
    /// For a failed update: whether repeating it can succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_repeatable: Option<bool>,
    /// `Retry-After` sent while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "millis")]
    pub retry_after: Option<Duration>,
    /// The request that started the operation (JSON), to recognise an identical repeat.
    #[serde(default)]
    pub request: serde_json::Value,
    /// While in progress: who runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// The state the resource returns to if the operation fails (update, deletes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_state: Option<ResourceState>,
}

impl OperationRecord {
    /// A new in-progress operation.
    #[must_use]
    pub fn new(id: OperationId, kind: OperationKind, request: serde_json::Value) -> Self {
        Self {
            id,
            kind,
            state: OperationState::InProgress,
            description: None,
            instance_usable: None,
            update_repeatable: None,
            retry_after: None,
            request,
            lease: None,
            previous_state: None,
        }
    }
}

/// A broker call in progress: written before the runtime calls the broker (synchronous
/// calls included), removed when the call has answered. After a crash, a record with an
/// intent whose lease expired tells the runtime what was in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// The operation being called.
    pub kind: OperationKind,
    /// The request body (JSON; `null` for deletes).
    #[serde(default)]
    pub request: serde_json::Value,
    /// Who runs the call, and until when.
    pub lease: Lease,
    /// The state the resource had before (restored if the call fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_state: Option<ResourceState>,
    /// Whether the Platform sent `accepts_incomplete=true`.
    #[serde(default)]
    pub accepts_incomplete: bool,
}

/// What the runtime remembers about a Service Instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InstanceRecord {
    /// The instance id.
    pub id: InstanceId,
    /// Its offering.
    pub service_id: ServiceId,
    /// Its current plan.
    pub plan_id: PlanId,
    /// Its current parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// The latest context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Its maintenance info.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Its dashboard URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// Its metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<InstanceMetadata>,
    /// Its lifecycle state.
    pub state: ResourceState,
    /// The current or last asynchronous operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationRecord>,
    /// The broker call in progress, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
}

impl InstanceRecord {
    /// A ready instance record.
    #[must_use]
    pub fn new(id: InstanceId, service_id: ServiceId, plan_id: PlanId) -> Self {
        Self {
            id,
            service_id,
            plan_id,
            parameters: None,
            context: None,
            maintenance_info: None,
            dashboard_url: None,
            metadata: None,
            state: ResourceState::Ready,
            operation: None,
            intent: None,
        }
    }

    /// When the lease of its running work (intent or in-progress operation) expires, if any
    /// work runs. Stores index this to find work whose owner is gone.
    #[must_use]
    pub fn lease_until_ms(&self) -> Option<u64> {
        lease_until(self.intent.as_ref(), self.operation.as_ref())
    }
}

/// What the runtime remembers about a Service Binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BindingRecord {
    /// The instance the binding belongs to.
    pub instance_id: InstanceId,
    /// The binding id.
    pub id: BindingId,
    /// The instance's offering.
    pub service_id: ServiceId,
    /// The instance's plan.
    pub plan_id: PlanId,
    /// The bind parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// The request that created it (JSON), to recognise identical repeats.
    #[serde(default)]
    pub request: serde_json::Value,
    /// The bind response (credentials, endpoints, ...) once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<BindResponse>,
    /// Its lifecycle state.
    pub state: ResourceState,
    /// The current or last asynchronous operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationRecord>,
    /// The broker call in progress, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
}

impl BindingRecord {
    /// A ready binding record.
    #[must_use]
    pub fn new(instance_id: InstanceId, id: BindingId, service_id: ServiceId, plan_id: PlanId) -> Self {
        Self {
            instance_id,
            id,
            service_id,
            plan_id,
            parameters: None,
            request: serde_json::Value::Null,
            response: None,
            state: ResourceState::Ready,
            operation: None,
            intent: None,
        }
    }

    /// When the lease of its running work expires, if any work runs.
    #[must_use]
    pub fn lease_until_ms(&self) -> Option<u64> {
        lease_until(self.intent.as_ref(), self.operation.as_ref())
    }
}

fn lease_until(intent: Option<&Intent>, op: Option<&OperationRecord>) -> Option<u64> {
    let op = op
        .filter(|o| o.state == OperationState::InProgress)
        .and_then(|o| o.lease.as_ref());
    match (intent.map(|i| i.lease.until_ms), op.map(|l| l.until_ms)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What is left of a deleted instance or binding for a while, so that `last_operation`
/// answers the Platform's poll after an asynchronous delete (200 `succeeded` for the
/// operation it names, 410 otherwise) instead of 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// The instance id.
    pub instance_id: InstanceId,
    /// The binding id (empty for the instance itself).
    pub binding_id: BindingId,
    /// The delete operation that finished.
    pub operation: Option<OperationId>,
    /// Milliseconds since the Unix epoch after which the tombstone may be forgotten.
    pub expires_at_ms: u64,
}

/// A record whose running work has a lease, as [`Store::expired_leases`] lists them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LeaseKey {
    /// An instance record.
    Instance(InstanceId),
    /// A binding record.
    Binding(InstanceId, BindingId),
}

/// Where the runtime keeps its records.
///
/// Implementations must be safe for concurrent calls. Every write is conditional (see the
/// module docs): the runtime relies on it, not on locks, for correctness across processes,
/// and a store shared by several processes ([`Store::shared`]) also provides the per-instance
/// [locks](Store::try_lock) that keep two replicas from running broker work on one instance.
///
/// `osb_server_mini::store::conformance` (cargo feature `test-util`) is the test suite
/// every implementation must pass.
pub trait Store: Send + Sync + 'static {
    /// The record of an instance.
    fn instance<'a>(&'a self, id: &'a InstanceId) -> StoreFuture<'a, Option<Versioned<InstanceRecord>>>;

    /// Inserts an instance record if none exists with its id (and forgets the id's
    /// tombstones: the id is created again).
    fn insert_instance<'a>(&'a self, record: &'a InstanceRecord) -> StoreFuture<'a, Write>;

    /// Replaces an instance record if it still has version `expected`.
    fn replace_instance<'a>(&'a self, record: &'a InstanceRecord, expected: u64) -> StoreFuture<'a, Write>;

    /// Removes an instance record with version `expected`, with all its bindings; with a
    /// tombstone, also records it for the instance and each removed binding (same operation
    /// and expiry), in the same write.
    fn remove_instance<'a>(
        &'a self,
        id: &'a InstanceId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write>;

    /// The record of a binding.
    fn binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Versioned<BindingRecord>>>;

    /// Inserts a binding record if none exists with its ids (and forgets their tombstone).
    fn insert_binding<'a>(&'a self, record: &'a BindingRecord) -> StoreFuture<'a, Write>;

    /// Replaces a binding record if it still has version `expected`.
    fn replace_binding<'a>(&'a self, record: &'a BindingRecord, expected: u64) -> StoreFuture<'a, Write>;

    /// Removes a binding record with version `expected`, recording the tombstone if given.
    fn remove_binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write>;

    /// Every binding of one instance (an indexed lookup, not a scan of all bindings).
    fn bindings<'a>(&'a self, instance_id: &'a InstanceId) -> StoreFuture<'a, Vec<Versioned<BindingRecord>>>;

    /// The unexpired tombstone of an instance (`binding_id` empty) or binding.
    fn tombstone<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Tombstone>>;

    /// Forgets tombstones that expired before `now_ms`; returns how many.
    fn purge_tombstones(&self, now_ms: u64) -> StoreFuture<'_, u64>;

    /// Records whose running work has a lease that expired before `now_ms` (at most
    /// `limit`), and, when `other_than` is given, also those whose lease belongs to any
    /// other owner than that one, whatever its expiry (a store only one process can open
    /// recovers the work of its previous process at once).
    fn expired_leases<'a>(
        &'a self,
        now_ms: u64,
        other_than: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<LeaseKey>>;

    /// Whether several processes may share this store (a database server). The runtime
    /// then takes [per-instance locks](Store::try_lock) in the store, and waits for leases
    /// to expire before recovering work of other processes. A store only one process can
    /// open (memory, an SQLite file) answers `false`: every lease not of this process is
    /// recovered at start-up.
    fn shared(&self) -> bool {
        false
    }

    /// Takes the lock of `key` for `holder` until `ttl` from now unless another holder's
    /// unexpired lock has it. Returns `None` when taken, or the fingerprint of the request
    /// holding it. Only called when [`shared`](Store::shared); the default always grants.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        fingerprint: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Option<String>> {
        let _ = (key, holder, fingerprint, ttl);
        Box::pin(async { Ok(None) })
    }

    /// Releases a lock taken with [`try_lock`](Store::try_lock).
    fn unlock<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        let _ = (key, holder);
        Box::pin(async { Ok(()) })
    }

    /// Whether records survive the process (default `true`). A server on a store that
    /// answers `false` logs a warning at start that a restart forgets every record.
    fn durable(&self) -> bool {
        true
    }

    /// Whether the store can be read and written now (for readiness checks).
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Every plan definition [remembered](Store::remember_plans), in any order: the
    /// runtime reads them before its first request on records, so that instances of plans
    /// a later catalog dropped keep being served after a restart. The default remembers
    /// nothing (such instances are then served only by the process that saw their plan).
    fn known_plans(&self) -> StoreFuture<'_, Vec<KnownPlan>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Remembers plan definitions, each replacing the one of its `plan_id` (an upsert per
    /// plan, so that replicas writing at once lose none of each other's plans). The
    /// default forgets them.
    fn remember_plans<'a>(&'a self, plans: &'a [KnownPlan]) -> StoreFuture<'a, ()> {
        let _ = plans;
        Box::pin(async { Ok(()) })
    }
}

/// A plan the runtime has served, as a [`Store`] remembers it: its id and its definition
/// (JSON written by the runtime: the plan and its offering; stores keep it as opaque text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPlan {
    /// The plan's id.
    pub plan_id: String,
    /// The definition, as the runtime wrote it.
    pub definition: String,
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Serde of `Option<Duration>` as whole milliseconds.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// A serialized record: the JSON of [`InstanceRecord`] or [`BindingRecord`] with the
/// [`RECORD_FORMAT`] beside it, for stores that keep records as text.
///
/// ```
/// use osb_server_mini::store::{InstanceRecord, decode_record, encode_record};
/// let r = InstanceRecord::new("i-1".into(), "svc".into(), "plan".into());
/// let text = encode_record(&r).unwrap();
/// assert_eq!(decode_record::<InstanceRecord>(&text).unwrap(), r);
/// ```
///
/// # Errors
/// A record that cannot be serialized.
pub fn encode_record<T: Serialize>(record: &T) -> Result<String, StoreError> {
    #[derive(Serialize)]
    struct Envelope<'a, T> {
        format: u32,
        record: &'a T,
    }
    serde_json::to_string(&Envelope {
        format: RECORD_FORMAT,
        record,
    })
    .map_err(|e| StoreError::new(format!("a record could not be serialized: {e}")))
}

/// Reads a record written by [`encode_record`].
///
/// # Errors
/// Text that is not such a record, or a record of a newer format than this runtime reads.
pub fn decode_record<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, StoreError> {
    #[derive(Deserialize)]
    struct Envelope<T> {
        format: u32,
        record: T,
    }
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let format = serde_json::from_str::<Format>(text)
        .map_err(|e| StoreError::new(format!("a stored record is not readable: {e}")))?
        .format;
    if format > RECORD_FORMAT {
        return Err(StoreError::new(format!(
            "a stored record has format {format}, newer than this runtime reads ({RECORD_FORMAT})"
        )));
    }
    serde_json::from_str::<Envelope<T>>(text)
        .map(|e| {
            let _ = e.format;
            e.record
        })
        .map_err(|e| StoreError::new(format!("a stored record is not readable: {e}")))
}
