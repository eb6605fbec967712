//! Inputs of the operations that have no body: the required query parameters, already validated.

use osb_types::{PlanId, ServiceId};

/// Input of [`Broker::deprovision`](crate::Broker::deprovision) (`service_id`/`plan_id` query parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeprovisionRequest {
    /// The instance's offering.
    pub service_id: ServiceId,
    /// The instance's plan.
    pub plan_id: PlanId,
}

/// Input of [`Broker::unbind`](crate::Broker::unbind) (`service_id`/`plan_id` query parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnbindRequest {
    /// The instance's offering.
    pub service_id: ServiceId,
    /// The instance's plan.
    pub plan_id: PlanId,
}
