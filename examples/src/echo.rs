//! The echo broker, derived: the catalog is Rust items, the broker an annotated `impl`.
//!
//! The echo service of the classic Cloud Foundry Python broker: service `echo` (bindable),
//! plans `small` (synchronous) and `large` (asynchronous only, finishing after a delay).
//! Provisioning returns a dashboard URL; binding returns credentials with a `uri` that echo
//! the binding's parameters back.

use std::time::Duration;

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::{BindRequest, BindResponse, Credentials, ProvisionRequest, UpdateRequest};
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};
use serde_json::json;

/// The `echo` offering.
#[derive(Debug, Offering)]
#[osb(
    id = "6c3e3b2e-4b0f-4f3e-9a59-7d0f6c1d0e01",
    name = "echo",
    description = "Echoes what you send",
    bindable,
    instances_retrievable,
    bindings_retrievable,
    plan_updateable,
    tags("echo", "example"),
    metadata(display_name = "Echo"),
    plans(Small, Large)
)]
pub struct Echo;

/// Synchronous plan: everything is ready when the request returns.
#[derive(Debug, Plan)]
#[osb(
    id = "1f0a8d6c-2f4e-4a55-8e1b-3c6b5a7d9e02",
    name = "small",
    description = "Synchronous echo, ready at once",
    free,
    maintenance_info(version = "1.0.0")
)]
pub struct Small;

/// Asynchronous-only plan: the runtime answers 422 `AsyncRequired` without
/// `accepts_incomplete=true`, 202 with it, and serves `last_operation`.
#[derive(Debug, Plan)]
#[osb(
    id = "9d2b7c4a-6e1f-4b3d-a2c8-5f4e3d2c1b03",
    name = "large",
    description = "Asynchronous echo, ready after a delay",
    free = false,
    maximum_polling_duration = 600,
    async_only,
    retry_after_secs = 1
)]
pub struct Large;

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

    fn delay(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        tokio::time::sleep(self.async_delay)
    }
}

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        let dashboard = format!("{}/echo/{}", self.dashboard_base, ctx.instance_id());
        if req.plan_id == Large::ID {
            let delay = self.delay();
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set("Creating echo instance");
                delay.await;
                Ok(())
            })
            .dashboard_url(dashboard));
        }
        Ok(Provisioned::done().dashboard_url(dashboard))
    }

    async fn update(&self, ctx: &RequestContext, _req: UpdateRequest) -> Result<Updated, BrokerError> {
        if ctx.plan().is_some_and(|p| p.id == Large::ID) {
            let delay = self.delay();
            return Ok(Updated::later(async move {
                delay.await;
                Ok(())
            }));
        }
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        _ctx: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        if req.plan_id == Large::ID {
            let delay = self.delay();
            return Ok(Deprovisioned::later(async move {
                delay.await;
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
        if req.plan_id == Large::ID {
            let delay = self.delay();
            return Ok(Bound::later(async move {
                delay.await;
                Ok(BindResponse {
                    credentials: Credentials::from_value(credentials),
                    ..BindResponse::default()
                })
            }));
        }
        Ok(Bound::credentials(credentials))
    }

    async fn unbind(&self, _ctx: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        if req.plan_id == Large::ID {
            let delay = self.delay();
            return Ok(Unbound::later(async move {
                delay.await;
                Ok(())
            }));
        }
        Ok(Unbound::done())
    }
}
