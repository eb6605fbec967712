//! The runtime's records of instances and bindings, behind a pluggable [`Store`].
//!
//! The runtime writes a record when an operation is accepted (state `Creating`,
//! `Updating`, ...), updates it when the operation finishes, and answers the idempotency and
//! concurrency rules of the specification (200/202/409/410/422) from it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use osb_types::binding::BindResponse;
use osb_types::catalog::MaintenanceInfo;
use osb_types::instance::InstanceMetadata;
use osb_types::{BindingId, Context, InstanceId, OperationId, OperationState, Parameters, PlanId, ServiceId};

/// The lifecycle state of an instance or binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceState {
    /// An asynchronous create is running; the resource does not exist yet for fetches.
    Creating,
    /// The resource exists and no operation runs on it.
    Ready,
    /// An asynchronous update is running.
    Updating,
    /// An asynchronous delete is running.
    Deleting,
    /// The asynchronous create failed; the record is kept so the Platform can read the failure
    /// and clean up with a delete.
    Failed,
}

/// Which operation an [`OperationRecord`] tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperationKind {
    /// Provision of an instance.
    Provision,
    /// Update of an instance.
    Update,
    /// Deprovision of an instance.
    Deprovision,
    /// Creation (or rotation) of a binding.
    Bind,
    /// Deletion of a binding.
    Unbind,
}

/// The current or last asynchronous operation of an instance or binding.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OperationRecord {
    /// The id sent in the 202 answer.
    pub id: OperationId,
    /// What the operation does.
    pub kind: OperationKind,
    /// Where it stands.
    pub state: OperationState,
    /// The last description (progress while running, the error description after a failure).
    pub description: Option<String>,
    /// For a failed update or deprovision: whether the instance is still usable.
    pub instance_usable: Option<bool>,
    /// For a failed update: whether repeating it can succeed.
    pub update_repeatable: Option<bool>,
    /// `Retry-After` sent while in progress.
    pub retry_after: Option<Duration>,
    /// The request that started the operation (JSON), to recognise an identical repeat.
    pub request: serde_json::Value,
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
        }
    }
}

/// What the runtime remembers about a Service Instance.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InstanceRecord {
    /// The instance id.
    pub id: InstanceId,
    /// Its offering.
    pub service_id: ServiceId,
    /// Its current plan.
    pub plan_id: PlanId,
    /// Its current parameters.
    pub parameters: Option<Parameters>,
    /// The latest context.
    pub context: Option<Context>,
    /// Its maintenance info.
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Its dashboard URL.
    pub dashboard_url: Option<String>,
    /// Its metadata.
    pub metadata: Option<InstanceMetadata>,
    /// Its lifecycle state.
    pub state: ResourceState,
    /// The current or last asynchronous operation.
    pub operation: Option<OperationRecord>,
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
        }
    }
}

/// What the runtime remembers about a Service Binding.
#[derive(Debug, Clone, PartialEq)]
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
    pub parameters: Option<Parameters>,
    /// The request that created it (JSON), to recognise identical repeats.
    pub request: serde_json::Value,
    /// The bind response (credentials, endpoints, ...) once created.
    pub response: Option<BindResponse>,
    /// Its lifecycle state.
    pub state: ResourceState,
    /// The current or last asynchronous operation.
    pub operation: Option<OperationRecord>,
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
        }
    }
}

/// Where the runtime keeps its records.
///
/// The methods are synchronous so the trait is object-safe (`Arc<dyn Store>`) and callable
/// while the runtime holds its per-instance lock. They are called on the async runtime's
/// worker threads, so an implementation must be quick: keep the records in memory (and
/// write through to durable storage in the background if it needs to survive restarts).
/// The runtime serializes mutations of one instance (and its bindings); implementations only
/// need to be safe for concurrent calls on different instances.
///
/// Background work lives in this process: after a restart, an operation recorded as
/// `in progress` in a durable store is not resumed, and keeps answering `in progress`
/// until the broker's `instance_last_operation`/`binding_last_operation` answers for it.
///
/// ```
/// use osb_server_mini::store::{InstanceRecord, MemoryStore, ResourceState, Store};
/// let store = MemoryStore::default();
/// store.put_instance(InstanceRecord::new("i-1".into(), "svc".into(), "plan".into()));
/// let record = store.instance(&"i-1".into()).unwrap();
/// assert_eq!(record.state, ResourceState::Ready);
/// assert!(store.bindings(&"i-1".into()).is_empty());
/// ```
pub trait Store: Send + Sync + 'static {
    /// The record of an instance.
    fn instance(&self, id: &InstanceId) -> Option<InstanceRecord>;
    /// Inserts or replaces the record of an instance.
    fn put_instance(&self, record: InstanceRecord);
    /// Removes an instance record (and the runtime then removes its bindings).
    fn remove_instance(&self, id: &InstanceId) -> Option<InstanceRecord>;
    /// The record of a binding.
    fn binding(&self, instance_id: &InstanceId, binding_id: &BindingId) -> Option<BindingRecord>;
    /// Inserts or replaces the record of a binding.
    fn put_binding(&self, record: BindingRecord);
    /// Removes a binding record.
    fn remove_binding(&self, instance_id: &InstanceId, binding_id: &BindingId) -> Option<BindingRecord>;
    /// Every binding of an instance.
    fn bindings(&self, instance_id: &InstanceId) -> Vec<BindingRecord>;
}

/// The default in-memory store: records live as long as the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    instances: Mutex<HashMap<InstanceId, InstanceRecord>>,
    bindings: Mutex<HashMap<(InstanceId, BindingId), BindingRecord>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Store for MemoryStore {
    fn instance(&self, id: &InstanceId) -> Option<InstanceRecord> {
        lock(&self.instances).get(id).cloned()
    }

    fn put_instance(&self, record: InstanceRecord) {
        lock(&self.instances).insert(record.id.clone(), record);
    }

    fn remove_instance(&self, id: &InstanceId) -> Option<InstanceRecord> {
        lock(&self.instances).remove(id)
    }

    fn binding(&self, instance_id: &InstanceId, binding_id: &BindingId) -> Option<BindingRecord> {
        lock(&self.bindings)
            .get(&(instance_id.clone(), binding_id.clone()))
            .cloned()
    }

    fn put_binding(&self, record: BindingRecord) {
        lock(&self.bindings).insert((record.instance_id.clone(), record.id.clone()), record);
    }

    fn remove_binding(&self, instance_id: &InstanceId, binding_id: &BindingId) -> Option<BindingRecord> {
        lock(&self.bindings).remove(&(instance_id.clone(), binding_id.clone()))
    }

    fn bindings(&self, instance_id: &InstanceId) -> Vec<BindingRecord> {
        lock(&self.bindings)
            .values()
            .filter(|b| &b.instance_id == instance_id)
            .cloned()
            .collect()
    }
}
