//! The echo broker written against the [`Broker`] trait by hand, without macros.
//!
//! Service `echo` (bindable, instances and bindings retrievable) with plans `small`
//! (synchronous) and `large` (asynchronous only, finishing after a delay). Provisioning
//! returns a dashboard URL; binding returns credentials with a `uri` and echoes the
//! parameters it was given; bindings of `small` can be rotated.

use std::time::Duration;

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::binding::RotateBindingRequest;
use osb_server_mini::types::catalog::{MaintenanceInfo, OfferingMetadata, ServiceOffering, ServicePlan};
use osb_server_mini::types::{BindRequest, Catalog, ProvisionRequest, UpdateRequest};
use osb_server_mini::{Broker, BrokerError, PlanPolicy, RequestContext};
use serde_json::json;

use crate::echo_ids;

/// The echo broker.
#[derive(Debug, Clone)]
pub struct EchoBroker {
    /// Base URL of the dashboard links.
    pub dashboard_base: String,
    /// How long the `large` plan's operations take.
    pub async_delay: Duration,
}

impl EchoBroker {
    /// An echo broker whose dashboards live under `dashboard_base`.
    pub fn new(dashboard_base: impl Into<String>, async_delay: Duration) -> Self {
        Self {
            dashboard_base: dashboard_base.into(),
            async_delay,
        }
    }

    fn is_large(plan_id: &str) -> bool {
        plan_id == echo_ids::LARGE
    }
}

/// The echo catalog: one bindable offering with a synchronous and an asynchronous plan.
#[must_use]
pub fn echo_catalog() -> Catalog {
    let mut small = ServicePlan::new(echo_ids::SMALL, "small", "Synchronous echo, ready at once");
    small.free = Some(true);
    small.maintenance_info = Some(MaintenanceInfo::new("1.0.0"));
    small.binding_rotatable = Some(true);
    let mut large = ServicePlan::new(echo_ids::LARGE, "large", "Asynchronous echo, ready after a delay");
    large.free = Some(false);
    large.maximum_polling_duration = Some(600);
    let mut offering = ServiceOffering::new(
        echo_ids::SERVICE,
        "echo",
        "Echoes what you send",
        vec![small, large],
    )
    .bindable(true);
    offering.instances_retrievable = Some(true);
    offering.bindings_retrievable = Some(true);
    offering.plan_updateable = Some(true);
    offering.tags = Some(vec!["echo".to_owned(), "example".to_owned()]);
    offering.metadata = Some(OfferingMetadata {
        display_name: Some("Echo".to_owned()),
        ..OfferingMetadata::default()
    });
    Catalog::new(vec![offering])
}

impl Broker for EchoBroker {
    fn catalog(&self) -> Catalog {
        echo_catalog()
    }

    fn plan_policy(&self, _: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        if Self::is_large(plan.id.as_str()) {
            PlanPolicy::async_only().retry_after(Duration::from_secs(1))
        } else {
            PlanPolicy::default()
        }
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        let dashboard = format!("{}/echo/{}", self.dashboard_base, ctx.instance_id());
        if Self::is_large(req.plan_id.as_str()) {
            let delay = self.async_delay;
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set("Creating echo instance");
                tokio::time::sleep(delay).await;
                Ok(())
            })
            .dashboard_url(dashboard));
        }
        Ok(Provisioned::done().dashboard_url(dashboard))
    }

    async fn update(&self, ctx: &RequestContext, _: UpdateRequest) -> Result<Updated, BrokerError> {
        let on_large = ctx.plan().is_some_and(|p| Self::is_large(p.id.as_str()));
        if on_large {
            let delay = self.async_delay;
            return Ok(Updated::later(async move {
                tokio::time::sleep(delay).await;
                Ok(())
            }));
        }
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        _: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        if Self::is_large(req.plan_id.as_str()) {
            let delay = self.async_delay;
            return Ok(Deprovisioned::later(async move {
                tokio::time::sleep(delay).await;
                Ok(())
            }));
        }
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        let credentials = json!({
            "uri": format!("echo://{}/{}", ctx.instance_id(), ctx.binding_id()),
            "echo": req.parameters.clone().unwrap_or_default(),
        });
        if Self::is_large(req.plan_id.as_str()) {
            let delay = self.async_delay;
            return Ok(Bound::later(async move {
                tokio::time::sleep(delay).await;
                Ok(osb_server_mini::types::BindResponse {
                    credentials: osb_server_mini::types::Credentials::from_value(credentials),
                    ..Default::default()
                })
            }));
        }
        Ok(Bound::credentials(credentials))
    }

    async fn rotate_binding(
        &self,
        ctx: &RequestContext,
        req: RotateBindingRequest,
    ) -> Result<Bound, BrokerError> {
        let parameters = ctx.predecessor().and_then(|p| p.parameters.clone());
        Ok(Bound::credentials(json!({
            "uri": format!("echo://{}/{}", ctx.instance_id(), ctx.binding_id()),
            "echo": parameters.unwrap_or_default(),
            "rotated_from": req.predecessor_binding_id.as_str(),
        })))
    }

    async fn unbind(&self, _: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        if Self::is_large(req.plan_id.as_str()) {
            let delay = self.async_delay;
            return Ok(Unbound::later(async move {
                tokio::time::sleep(delay).await;
                Ok(())
            }));
        }
        Ok(Unbound::done())
    }
}
