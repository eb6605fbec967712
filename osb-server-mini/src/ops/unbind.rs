//! `DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::OperationState;
use osb_types::binding::{UnbindParams, UnbindResponse};

use super::{Answer, bad_query, call, ok_json, spawn_operation};
use crate::app::{App, Failed, Incoming, async_required, bad_request, broker_error, concurrency_error};
use crate::broker::Broker;
use crate::operation::new_operation_id;
use crate::request::UnbindRequest;
use crate::response;
use crate::store::{OperationKind, OperationRecord, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = UnbindParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let (Some(service_id), Some(plan_id)) = (params.service_id, params.plan_id) else {
        return Err(bad_request(
            "the query parameters service_id and plan_id are required",
        ));
    };
    let (offering, plan) = app.known_plan(service_id.as_str(), plan_id.as_str())?;
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let _gate = app
        .gates
        .enter(id.as_str(), format!("unbind\u{0}{bid}"))
        .await
        .ok_or_else(concurrency_error)?;
    let Some(binding) = app.store.binding(&id, &bid) else {
        return Ok(response::empty_object(StatusCode::GONE));
    };
    if binding.service_id != service_id || binding.plan_id != plan_id {
        return Err(bad_request(format!(
            "service_id and plan_id must be those of Service Binding {bid:?}"
        )));
    }
    let previous = binding.state;
    match binding.state {
        ResourceState::Ready | ResourceState::Failed => {}
        ResourceState::Deleting => {
            let body = UnbindResponse {
                operation: binding.operation.as_ref().map(|o| o.id.clone()),
                ..UnbindResponse::default()
            };
            return ok_json(StatusCode::ACCEPTED, &body);
        }
        _ => return Err(concurrency_error()),
    }
    let policy = app.policy(plan_id.as_str());
    if policy.async_only && !accepts {
        return Err(async_required());
    }
    let mut ctx = inc.context(accepts);
    ctx.offering = Some(offering);
    ctx.plan = Some(plan);
    ctx.instance = app.store.instance(&id);
    let request = UnbindRequest { service_id, plan_id };
    let reply = match call(
        app,
        move |app| async move { app.broker.unbind(&ctx, request).await },
    )
    .await
    {
        Ok(reply) => reply,
        Err(e) if e.status() == 410 => {
            app.store.remove_binding(&id, &bid);
            return Err(response::empty_object(StatusCode::GONE));
        }
        Err(e) => return Err(broker_error(e, Failed::Other)),
    };
    let Some(background) = reply.later else {
        app.store.remove_binding(&id, &bid);
        return Ok(response::empty_object(StatusCode::OK));
    };
    if !accepts {
        return Err(async_required());
    }
    let op_id = new_operation_id();
    let mut op = OperationRecord::new(op_id.clone(), OperationKind::Unbind, serde_json::Value::Null);
    op.retry_after = background.retry_after.or(policy.retry_after);
    let mut binding = binding;
    binding.state = ResourceState::Deleting;
    binding.operation = Some(op);
    app.store.put_binding(binding);
    let done_id = op_id.clone();
    spawn_operation(app, background, op_id.clone(), move |app, result| {
        let Some(mut binding) = app.store.binding(&id, &bid) else {
            return;
        };
        if binding.operation.as_ref().is_none_or(|o| o.id != done_id) {
            return;
        }
        match result {
            Ok(()) => {
                app.mark_gone(id.as_str(), bid.as_str());
                app.store.remove_binding(&id, &bid);
            }
            Err(e) => {
                binding.state = previous;
                if let Some(op) = binding.operation.as_mut() {
                    op.state = OperationState::Failed;
                    op.description = e.body().description.clone();
                }
                app.store.put_binding(binding);
            }
        }
    });
    let body = UnbindResponse {
        operation: Some(op_id),
        ..UnbindResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
