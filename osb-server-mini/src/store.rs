//! The runtime's records of instances and bindings, behind a pluggable store.

use osb_types::catalog::MaintenanceInfo;
use osb_types::instance::InstanceMetadata;
use osb_types::{Context, InstanceId, Parameters, PlanId, ServiceId};

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
}

/// Where the runtime keeps its records. Written by the runtime helper; see `MemoryStore`.
pub trait Store: Send + Sync + 'static {}

/// The default in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {}

impl Store for MemoryStore {}
