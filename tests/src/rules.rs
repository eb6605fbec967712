//! A small derived broker with the refusals the echo broker never makes: bindings that need an
//! application (422 `RequiresApp`, CHECKLIST A97) and a plan change the instance's usage does
//! not allow (422 without an error code, A69).
//!
//! Offering `rules` (bindable, retrievable, `plan_updateable`), plans:
//! - `roomy`: any `size`; bindings need `bind_resource.app_guid` (or the deprecated top-level
//!   `app_guid`), else 422 `RequiresApp`.
//! - `tiny`: an instance can only move here while its `size` parameter is at most 1, else 422.

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_server_mini::{BrokerError, Offering, Plan, Running, Server, broker};
use serde_json::json;

use crate::{PASSWORD, USER};

/// The id of the `rules` offering.
pub const SERVICE_ID: &str = "5a1e5000-0000-4000-8000-000000000001";

/// The `rules` offering.
#[derive(Debug, Offering)]
#[osb(
    id = "5a1e5000-0000-4000-8000-000000000001",
    name = "rules",
    description = "Refuses what it cannot do",
    bindable,
    instances_retrievable,
    bindings_retrievable,
    plan_updateable,
    plans(Roomy, Tiny)
)]
pub struct Rules;

/// Any size; bindings need an application.
#[derive(Debug, Plan)]
#[osb(
    id = "5a1e5000-0000-4000-8000-000000000002",
    name = "roomy",
    description = "Any size; bind an application"
)]
pub struct Roomy;

/// At most size 1.
#[derive(Debug, Plan)]
#[osb(
    id = "5a1e5000-0000-4000-8000-000000000003",
    name = "tiny",
    description = "At most size 1"
)]
pub struct Tiny;

/// The broker of the `rules` offering.
#[derive(Debug, Clone, Copy, Default)]
pub struct RulesBroker;

/// The error code of the refused plan change (A69 mandates none; this one is ours).
pub const QUOTA_EXCEEDED: &str = "QuotaExceeded";

#[broker(catalog(Rules))]
impl RulesBroker {
    async fn provision(
        &self,
        _ctx: &osb_server_mini::RequestContext,
        _req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }

    async fn update(
        &self,
        ctx: &osb_server_mini::RequestContext,
        req: UpdateRequest,
    ) -> Result<Updated, BrokerError> {
        if req.plan_id.as_ref().is_some_and(|p| *p == Tiny::ID) {
            let size = req
                .parameters
                .as_ref()
                .or_else(|| ctx.instance().and_then(|i| i.parameters.as_ref()))
                .and_then(|p| p.get("size"))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            if size > 1 {
                return Err(BrokerError::unprocessable(
                    QUOTA_EXCEEDED,
                    format!("size {size} is above the quota of plan tiny (1)"),
                ));
            }
        }
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        _ctx: &osb_server_mini::RequestContext,
        _req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }

    async fn bind(
        &self,
        ctx: &osb_server_mini::RequestContext,
        req: BindRequest,
    ) -> Result<Bound, BrokerError> {
        let app = req
            .bind_resource
            .as_ref()
            .and_then(|r| r.app_guid.clone())
            .or_else(|| req.app_guid.clone());
        let Some(app) = app else {
            return Err(BrokerError::requires_app());
        };
        Ok(Bound::credentials(json!({
            "uri": format!("rules://{}/{}", ctx.instance_id(), ctx.binding_id()),
            "app": app,
        })))
    }

    async fn unbind(
        &self,
        _ctx: &osb_server_mini::RequestContext,
        _req: UnbindRequest,
    ) -> Result<Unbound, BrokerError> {
        Ok(Unbound::done())
    }
}

/// Starts the rules broker on `127.0.0.1:0` with the test credentials.
pub async fn rules_broker() -> Running {
    Server::new(RulesBroker)
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("rules broker starts")
}
