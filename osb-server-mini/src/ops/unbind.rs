//! `DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::binding::{UnbindParams, UnbindResponse};

use super::delete::{self, Delete};
use super::{call, ok_json};
use crate::answers::{Answer, Failed, async_required, bad_query, bad_request, concurrency_error};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::request::UnbindRequest;
use crate::response;
use crate::state::settle;
use crate::store::{OperationKind, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = UnbindParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let (service_id, plan_id) = params.required_ids().map_err(|e| bad_query(&e))?;
    let (service_id, plan_id) = (service_id.clone(), plan_id.clone());
    let (offering, plan) = app.catalog.existing_plan(service_id.as_str(), plan_id.as_str())?;
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let gate = app
        .state
        .enter(&id, format!("unbind\u{0}{bid}"))
        .await?
        .ok_or_else(concurrency_error)?;
    let Some(found) = app.state.binding(&id, &bid).await? else {
        return Ok(response::empty_object(StatusCode::GONE));
    };
    let binding = &found.record;
    if binding.service_id != service_id || binding.plan_id != plan_id {
        return Err(bad_request(format!(
            "service_id and plan_id must be those of Service Binding {bid}"
        )));
    }
    match binding.state {
        ResourceState::Ready | ResourceState::Failed => {}
        ResourceState::Deleting if binding.intent.is_none() => {
            let body = UnbindResponse {
                operation: binding.operation.as_ref().map(|o| o.id.clone()),
                ..UnbindResponse::default()
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
    ctx.instance = app.state.instance(&id).await?.map(|v| v.record);
    let request = UnbindRequest { service_id, plan_id };
    let broker = call(app, move |app| async move {
        app.broker.unbind(&ctx, request).await.map(|reply| reply.later)
    });
    let delete = Delete {
        kind: OperationKind::Unbind,
        settle: settle::unbind,
        failed: Failed::Other,
        accepts,
        retry_after: policy.retry_after,
    };
    let Some(op_id) = delete::run(&app.state, gate, found, delete, broker).await? else {
        return Ok(response::empty_object(StatusCode::OK));
    };
    let body = UnbindResponse {
        operation: Some(op_id),
        ..UnbindResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
