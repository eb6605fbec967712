//! `PATCH /v2/service_instances/:instance_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::instance::{UpdateParams, UpdateResponse};
use osb_types::{OperationState, UpdateRequest};

use super::{Answer, bad_query, call, check_maintenance, fingerprint, ok_json, spawn_operation};
use crate::app::{App, Failed, Incoming, async_required, bad_request, broker_error, concurrency_error};
use crate::broker::Broker;
use crate::error::BrokerError;
use crate::operation::new_operation_id;
use crate::schema::SchemaKind;
use crate::store::{InstanceRecord, OperationKind, OperationRecord, ResourceState};

/// Applies an update that succeeded to the record.
fn apply(rec: &mut InstanceRecord, req: &UpdateRequest) {
    if let Some(plan) = &req.plan_id {
        rec.plan_id = plan.clone();
    }
    if let Some(p) = &req.parameters {
        rec.parameters = Some(p.clone());
    }
    if let Some(c) = &req.context {
        rec.context = Some(c.clone());
    }
    if let Some(m) = &req.maintenance_info {
        rec.maintenance_info = Some(m.clone());
    }
}

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let (req, value): (UpdateRequest, _) = inc.json()?;
    let params = UpdateParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let id = inc.instance_id();
    let _gate = app
        .gates
        .enter(id.as_str(), fingerprint("update", "", &value))
        .await
        .ok_or_else(concurrency_error)?;
    let Some(rec) = app.store.instance(&id) else {
        return Err(broker_error(
            BrokerError::not_found(format!("Service Instance {id:?} does not exist.")),
            Failed::Other,
        ));
    };
    match rec.state {
        ResourceState::Ready => {}
        ResourceState::Updating => {
            if let Some(op) = rec.operation.as_ref().filter(|o| o.request == value) {
                let body = UpdateResponse {
                    operation: Some(op.id.clone()),
                    ..UpdateResponse::default()
                };
                return ok_json(StatusCode::ACCEPTED, &body);
            }
            return Err(concurrency_error());
        }
        ResourceState::Failed => {
            return Err(broker_error(
                BrokerError::unprocessable(
                    "InstanceNotProvisioned",
                    "The Service Instance failed to provision; delete it and provision it again.",
                ),
                Failed::Other,
            ));
        }
        _ => return Err(concurrency_error()),
    }
    if req.service_id != rec.service_id {
        return Err(bad_request(format!(
            "service_id {:?} is not the offering of Service Instance {id:?}",
            req.service_id.as_str()
        )));
    }
    let Some((offering, current)) = app.record_plan(&rec) else {
        return Err(bad_request(format!(
            "the plan {:?} of Service Instance {id:?} is no longer in the catalog",
            rec.plan_id.as_str()
        )));
    };
    let target_id = req.plan_id.clone().unwrap_or_else(|| rec.plan_id.clone());
    let (_, target) = app.known_plan(req.service_id.as_str(), target_id.as_str())?;
    let plan_change = target.id != rec.plan_id;
    // A change the catalog does not support is 422 (spec "Updating a Service Instance ›
    // Response": "MUST be returned if the requested change is not supported"), not 400: the
    // request is well-formed.
    if plan_change && !offering.plan_is_updateable(&current) {
        return Err(broker_error(
            BrokerError::unprocessable(
                "PlanChangeNotSupported",
                format!(
                    "the plan of this Service Instance cannot be changed: plan {:?} is not plan_updateable",
                    current.name
                ),
            ),
            Failed::Other,
        ));
    }
    let maintenance_change = req
        .maintenance_info
        .as_ref()
        .and_then(|m| m.version.as_deref())
        .is_some_and(|v| rec.maintenance_info.as_ref().and_then(|m| m.version.as_deref()) != Some(v));
    let context_only =
        req.context.is_some() && req.parameters.is_none() && !plan_change && !maintenance_change;
    if context_only && !offering.allows_context_updates() {
        return Err(broker_error(
            BrokerError::unprocessable(
                "ContextUpdateNotSupported",
                "this service offering does not allow context-only updates (allow_context_updates is not true)",
            ),
            Failed::Other,
        ));
    }
    check_maintenance(&target, req.maintenance_info.as_ref())?;
    if req.parameters.is_some() {
        app.schemas
            .check(
                target.id.as_str(),
                SchemaKind::InstanceUpdate,
                req.parameters.as_ref(),
            )
            .map_err(bad_request)?;
    }
    let policy = app.policy(target.id.as_str());
    if policy.async_only && !accepts {
        return Err(async_required());
    }
    let mut ctx = inc.context(accepts);
    ctx.offering = Some(offering);
    ctx.plan = Some(target);
    ctx.instance = Some(rec.clone());
    let reply = {
        let req = req.clone();
        call(app, move |app| async move { app.broker.update(&ctx, req).await })
            .await
            .map_err(|e| broker_error(e, Failed::Update))?
    };
    let mut rec = rec;
    if reply.dashboard_url.is_some() {
        rec.dashboard_url = reply.dashboard_url.clone();
    }
    if reply.metadata.is_some() {
        rec.metadata = reply.metadata.clone();
    }
    let Some(background) = reply.later else {
        apply(&mut rec, &req);
        app.store.put_instance(rec);
        let body = UpdateResponse {
            dashboard_url: reply.dashboard_url,
            metadata: reply.metadata,
            ..UpdateResponse::default()
        };
        return ok_json(StatusCode::OK, &body);
    };
    if !accepts {
        return Err(async_required());
    }
    let op_id = new_operation_id();
    let mut op = OperationRecord::new(op_id.clone(), OperationKind::Update, value);
    op.retry_after = background.retry_after.or(policy.retry_after);
    rec.state = ResourceState::Updating;
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
        rec.state = ResourceState::Ready;
        let ok = result.is_ok();
        if ok {
            apply(&mut rec, &req);
        }
        if let Some(op) = rec.operation.as_mut() {
            match result {
                Ok(()) => {
                    op.state = OperationState::Succeeded;
                    op.description = None;
                }
                Err(e) => {
                    op.state = OperationState::Failed;
                    op.description = e.body().description.clone();
                    op.instance_usable = e.body().instance_usable;
                    op.update_repeatable = e.body().update_repeatable;
                }
            }
        }
        app.store.put_instance(rec);
    });
    let body = UpdateResponse {
        dashboard_url: reply.dashboard_url,
        operation: Some(op_id),
        metadata: reply.metadata,
        ..UpdateResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
