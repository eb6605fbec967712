//! The catalog as the runtime looks it up: plan id → its offering, plan and policy, shared
//! (not cloned) with every request context; the serialized catalog answered as is.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use bytes::Bytes;
use osb_types::Catalog;
use osb_types::catalog::{PlanIndex, ServiceOffering, ServicePlan};

use crate::answers::bad_request;
use crate::broker::{Broker, PlanPolicy};
use crate::error::ServeError;
use crate::response::HttpResponse;
use crate::store::InstanceRecord;

/// The validated catalog and its index.
pub(crate) struct CatalogIndex {
    pub(crate) catalog: Catalog,
    /// The serialized catalog, answered as is.
    pub(crate) bytes: Bytes,
    /// Plan id → where the plan is in the catalog.
    index: PlanIndex,
    /// By position: each offering and its plans with their policies, shared (not cloned)
    /// with every request context.
    shared: Vec<SharedOffering>,
}

/// An offering and its plans, as request contexts share them.
struct SharedOffering {
    offering: Arc<ServiceOffering>,
    plans: Vec<SharedPlan>,
}

/// A plan and the runtime's policy for it.
struct SharedPlan {
    plan: Arc<ServicePlan>,
    policy: PlanPolicy,
}

impl CatalogIndex {
    /// Validates the broker's catalog and indexes its plans.
    pub(crate) fn new<B: Broker>(broker: &B) -> Result<Self, ServeError> {
        let catalog = broker.catalog();
        catalog.validate()?;
        let bytes = Bytes::from(
            serde_json::to_vec(&catalog).map_err(|e| ServeError::InvalidSchema {
                location: "catalog".to_owned(),
                message: format!("the catalog could not be serialized: {e}"),
            })?,
        );
        let shared = catalog
            .services
            .iter()
            .map(|offering| {
                let plans = offering
                    .plans
                    .iter()
                    .map(|plan| SharedPlan {
                        plan: Arc::new(plan.clone()),
                        policy: broker.plan_policy(offering, plan),
                    })
                    .collect();
                SharedOffering {
                    offering: Arc::new(offering.clone()),
                    plans,
                }
            })
            .collect();
        Ok(Self {
            index: PlanIndex::new(&catalog),
            catalog,
            bytes,
            shared,
        })
    }

    /// The shared offering, plan and policy of a plan id.
    fn entry(&self, plan_id: &str) -> Option<(&Arc<ServiceOffering>, &SharedPlan)> {
        let (si, pi) = self.index.position(plan_id)?;
        let shared = self.shared.get(si)?;
        Some((&shared.offering, shared.plans.get(pi)?))
    }

    /// The offering and plan of a plan id, if the plan belongs to `service_id`.
    pub(crate) fn plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.entry(plan_id)
            .filter(|(o, _)| o.id.as_str() == service_id)
            .map(|(o, p)| (Arc::clone(o), Arc::clone(&p.plan)))
    }

    /// 400 unless the service and plan are in the catalog and the plan belongs to the service.
    pub(crate) fn known_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        if self.catalog.offering(service_id).is_none() {
            return Err(bad_request(format!(
                "unknown service_id \"{service_id}\": not in this broker's catalog"
            )));
        }
        self.plan(service_id, plan_id).ok_or_else(|| {
            bad_request(format!(
                "unknown plan_id \"{plan_id}\": not a plan of the service offering \"{service_id}\""
            ))
        })
    }

    /// The runtime policy of a plan.
    pub(crate) fn policy(&self, plan_id: &str) -> PlanPolicy {
        self.entry(plan_id).map(|(_, p)| p.policy).unwrap_or_default()
    }

    /// The offering and plan of an existing instance record.
    pub(crate) fn record_plan(
        &self,
        record: &InstanceRecord,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.plan(record.service_id.as_str(), record.plan_id.as_str())
    }
}
