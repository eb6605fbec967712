//! `PUT /v2/service_instances/:instance_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::instance::{ProvisionParams, ProvisionResponse};
use osb_types::{OperationState, ProvisionRequest};

use super::{
    Answer, bad_query, call, check_maintenance, fingerprint, may_leave_orphan, ok_json, spawn_operation,
};
use crate::app::{App, Failed, Incoming, async_required, bad_request, broker_error, concurrency_error};
use crate::broker::Broker;
use crate::operation::new_operation_id;
use crate::schema::SchemaKind;
use crate::store::{InstanceRecord, OperationKind, OperationRecord, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let (req, value): (ProvisionRequest, _) = inc.json()?;
    let params = ProvisionParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let (offering, plan) = app.known_plan(req.service_id.as_str(), req.plan_id.as_str())?;
    check_maintenance(&plan, req.maintenance_info.as_ref())?;
    app.schemas
        .check(
            plan.id.as_str(),
            SchemaKind::InstanceCreate,
            req.parameters.as_ref(),
        )
        .map_err(bad_request)?;
    let id = inc.instance_id();
    let _gate = app
        .gates
        .enter(id.as_str(), fingerprint("provision", "", &value))
        .await
        .ok_or_else(concurrency_error)?;

    if let Some(rec) = app.store.instance(&id) {
        let same = rec.service_id == req.service_id
            && rec.plan_id == req.plan_id
            && rec.parameters == req.parameters
            && rec.context == req.context;
        let conflict = || {
            broker_error(
                crate::BrokerError::conflict(format!(
                    "Service Instance {id:?} already exists with different attributes."
                )),
                Failed::Other,
            )
        };
        match rec.state {
            ResourceState::Failed => {}
            ResourceState::Creating if same => {
                let body = ProvisionResponse {
                    dashboard_url: rec.dashboard_url,
                    operation: rec.operation.map(|o| o.id),
                    metadata: rec.metadata,
                    ..ProvisionResponse::default()
                };
                return ok_json(StatusCode::ACCEPTED, &body);
            }
            ResourceState::Ready if same => {
                let body = ProvisionResponse {
                    dashboard_url: rec.dashboard_url,
                    metadata: rec.metadata,
                    ..ProvisionResponse::default()
                };
                return ok_json(StatusCode::OK, &body);
            }
            ResourceState::Creating | ResourceState::Ready => return Err(conflict()),
            _ if same => return Err(concurrency_error()),
            _ => return Err(conflict()),
        }
    }

    let policy = app.policy(plan.id.as_str());
    if policy.async_only && !accepts {
        return Err(async_required());
    }
    let mut ctx = inc.context(accepts);
    ctx.offering = Some(offering);
    ctx.plan = Some(plan.clone());
    let mut rec = InstanceRecord::new(id.clone(), req.service_id.clone(), req.plan_id.clone());
    rec.parameters = req.parameters.clone();
    rec.context = req.context.clone();
    rec.maintenance_info = req
        .maintenance_info
        .clone()
        .or_else(|| plan.maintenance_info.clone());
    let reply = {
        let req = req.clone();
        call(
            app,
            move |app| async move { app.broker.provision(&ctx, req).await },
        )
        .await
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            if may_leave_orphan(&e) {
                rec.state = ResourceState::Failed;
                app.unmark_gone(id.as_str(), "");
                app.store.put_instance(rec);
            }
            return Err(broker_error(e, Failed::Other));
        }
    };

    rec.dashboard_url = reply.dashboard_url.clone();
    rec.metadata = reply.metadata.clone();
    app.unmark_gone(id.as_str(), "");

    let Some(background) = reply.later else {
        app.store.put_instance(rec);
        let body = ProvisionResponse {
            dashboard_url: reply.dashboard_url,
            metadata: reply.metadata,
            ..ProvisionResponse::default()
        };
        return ok_json(StatusCode::CREATED, &body);
    };
    if !accepts {
        // The work is dropped without ever being polled.
        return Err(async_required());
    }
    let op_id = new_operation_id();
    let mut op = OperationRecord::new(op_id.clone(), OperationKind::Provision, value);
    op.retry_after = background.retry_after.or(policy.retry_after);
    rec.state = ResourceState::Creating;
    rec.operation = Some(op);
    app.store.put_instance(rec);
    let done_id = op_id.clone();
    spawn_operation(app, background, op_id.clone(), move |app, result| {
        let Some(mut rec) = app.store.instance(&id) else {
            return;
        };
        let Some(op) = rec.operation.as_mut().filter(|o| o.id == done_id) else {
            return;
        };
        match result {
            Ok(()) => {
                op.state = OperationState::Succeeded;
                op.description = None;
                rec.state = ResourceState::Ready;
            }
            Err(e) => {
                op.state = OperationState::Failed;
                op.description = e.body().description.clone();
                rec.state = ResourceState::Failed;
            }
        }
        app.store.put_instance(rec);
    });
    let body = ProvisionResponse {
        dashboard_url: reply.dashboard_url,
        operation: Some(op_id),
        metadata: reply.metadata,
        ..ProvisionResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
