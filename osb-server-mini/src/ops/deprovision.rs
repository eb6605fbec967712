//! `DELETE /v2/service_instances/:instance_id`.
//!
//! - A delete while the instance is being created or updated is rejected with 422
//!   `ConcurrencyError` (the specification allows this instead of halting the creation).
//! - Bindings still recorded for the instance are forgotten with it once the broker has
//!   deprovisioned (the specification leaves this case to the broker; Platforms unbind first).
//! - A failed provision can be deleted (orphan mitigation).

use std::sync::Arc;

use http::StatusCode;
use osb_types::instance::{DeprovisionParams, DeprovisionResponse};

use super::delete::{self, Delete};
use super::{call, ok_json};
use crate::answers::{Answer, Failed, async_required, bad_query, bad_request, concurrency_error};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::request::DeprovisionRequest;
use crate::response;
use crate::state::settle;
use crate::store::{OperationKind, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = DeprovisionParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let (service_id, plan_id) = params.required_ids().map_err(|e| bad_query(&e))?;
    let (service_id, plan_id) = (service_id.clone(), plan_id.clone());
    let (offering, plan) = app.catalog.existing_plan(service_id.as_str(), plan_id.as_str())?;
    let id = inc.instance_id();
    let gate = app
        .state
        .enter(&id, "deprovision".to_owned())
        .await?
        .ok_or_else(concurrency_error)?;
    let Some(found) = app.state.instance(&id).await? else {
        return Ok(response::empty_object(StatusCode::GONE));
    };
    let rec = &found.record;
    if rec.service_id != service_id || rec.plan_id != plan_id {
        return Err(bad_request(format!(
            "service_id and plan_id must be those of Service Instance {id}"
        )));
    }
    match rec.state {
        ResourceState::Ready | ResourceState::Failed => {}
        ResourceState::Deleting if rec.intent.is_none() => {
            let body = DeprovisionResponse {
                operation: rec.operation.as_ref().map(|o| o.id.clone()),
                ..DeprovisionResponse::default()
            };
            return ok_json(StatusCode::ACCEPTED, &body);
        }
        _ => return Err(concurrency_error()),
    }
    let policy = app.catalog.policy(plan_id.as_str());
    if policy.async_only && !accepts {
        return Err(async_required());
    }
    let mut ctx = inc.context(accepts);
    ctx.offering = Some(offering);
    ctx.plan = Some(plan);
    ctx.instance = Some(rec.clone());
    let request = DeprovisionRequest { service_id, plan_id };
    let broker = call(app, move |app| async move {
        app.broker
            .deprovision(&ctx, request)
            .await
            .map(|reply| reply.later)
    });
    let delete = Delete {
        kind: OperationKind::Deprovision,
        settle: settle::deprovision,
        failed: Failed::Deprovision,
        accepts,
        retry_after: policy.retry_after,
    };
    let Some(op_id) = delete::run(&app.state, gate, found, delete, broker).await? else {
        return Ok(response::empty_object(StatusCode::OK));
    };
    let body = DeprovisionResponse {
        operation: Some(op_id),
        ..DeprovisionResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
