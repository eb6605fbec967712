//! `DELETE /v2/service_instances/:instance_id`.
//!
//! - A delete while the instance is being created or updated is rejected with 422
//!   `ConcurrencyError` (the specification allows this instead of halting the creation).
//! - Bindings still recorded for the instance are forgotten with it once the broker has
//!   deprovisioned (the specification leaves this case to the broker; Platforms unbind first).
//! - A failed asynchronous provision can be deleted (orphan mitigation).

use std::sync::Arc;

use http::StatusCode;
use osb_types::OperationState;
use osb_types::instance::{DeprovisionParams, DeprovisionResponse};

use super::{Answer, bad_query, call, ok_json, spawn_operation};
use crate::app::{App, Failed, Incoming, async_required, bad_request, broker_error, concurrency_error};
use crate::broker::Broker;
use crate::operation::new_operation_id;
use crate::request::DeprovisionRequest;
use crate::response;
use crate::store::{OperationKind, OperationRecord, ResourceState};

/// Removes an instance and its bindings from the store.
pub(crate) fn forget<B: Broker>(app: &App<B>, id: &osb_types::InstanceId) {
    for b in app.store.bindings(id) {
        app.store.remove_binding(id, &b.id);
    }
    app.store.remove_instance(id);
}

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = DeprovisionParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let (Some(service_id), Some(plan_id)) = (params.service_id, params.plan_id) else {
        return Err(bad_request(
            "the query parameters service_id and plan_id are required",
        ));
    };
    let (offering, plan) = app.known_plan(service_id.as_str(), plan_id.as_str())?;
    let id = inc.instance_id();
    let _gate = app
        .gates
        .enter(id.as_str(), "deprovision".to_owned())
        .await
        .ok_or_else(concurrency_error)?;
    let Some(rec) = app.store.instance(&id) else {
        return Ok(response::empty_object(StatusCode::GONE));
    };
    if rec.service_id != service_id || rec.plan_id != plan_id {
        return Err(bad_request(format!(
            "service_id and plan_id must be those of Service Instance {id:?}"
        )));
    }
    let previous = rec.state;
    match rec.state {
        ResourceState::Ready | ResourceState::Failed => {}
        ResourceState::Deleting => {
            let body = DeprovisionResponse {
                operation: rec.operation.as_ref().map(|o| o.id.clone()),
                ..DeprovisionResponse::default()
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
    ctx.instance = Some(rec.clone());
    let request = DeprovisionRequest { service_id, plan_id };
    let reply = match call(app, move |app| async move {
        app.broker.deprovision(&ctx, request).await
    })
    .await
    {
        Ok(reply) => reply,
        Err(e) if e.status() == 410 => {
            forget(app, &id);
            return Err(response::empty_object(StatusCode::GONE));
        }
        Err(e) => return Err(broker_error(e, Failed::Deprovision)),
    };
    let Some(background) = reply.later else {
        forget(app, &id);
        return Ok(response::empty_object(StatusCode::OK));
    };
    if !accepts {
        return Err(async_required());
    }
    let op_id = new_operation_id();
    let mut op = OperationRecord::new(op_id.clone(), OperationKind::Deprovision, serde_json::Value::Null);
    op.retry_after = background.retry_after.or(policy.retry_after);
    let mut rec = rec;
    rec.state = ResourceState::Deleting;
    rec.operation = Some(op);
    app.store.put_instance(rec);
    let done_id = op_id.clone();
    spawn_operation(app, background, op_id.clone(), move |app, result| {
        let Some(mut rec) = app.store.instance(&id) else {
            return;
        };
        if rec.operation.as_ref().is_none_or(|o| o.id != done_id) {
            return;
        }
        match result {
            Ok(()) => {
                // Tombstones first: a poll that lands between the two steps still finds
                // the record ("in progress"), never a 404.
                app.mark_gone(id.as_str(), "");
                for b in app.store.bindings(&id) {
                    app.mark_gone(id.as_str(), b.id.as_str());
                }
                forget(app, &id);
            }
            Err(e) => {
                rec.state = previous;
                if let Some(op) = rec.operation.as_mut() {
                    op.state = OperationState::Failed;
                    op.description = e.body().description.clone();
                    op.instance_usable = e.body().instance_usable;
                }
                app.store.put_instance(rec);
            }
        }
    });
    let body = DeprovisionResponse {
        operation: Some(op_id),
        ..DeprovisionResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
