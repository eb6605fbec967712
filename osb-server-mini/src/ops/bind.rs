//! `PUT /v2/service_instances/:instance_id/service_bindings/:binding_id` (create or rotate).

use std::sync::Arc;

use http::StatusCode;
use osb_types::binding::{BindParams, BindResponse, RotateBindingRequest};
use osb_types::{BindRequest, OperationState};

use super::{Answer, bad_query, call, fingerprint, may_leave_orphan, ok_json, spawn_operation};
use crate::app::{App, Failed, Incoming, async_required, bad_request, broker_error, concurrency_error};
use crate::broker::Broker;
use crate::error::BrokerError;
use crate::operation::new_operation_id;
use crate::schema::SchemaKind;
use crate::store::{BindingRecord, OperationKind, OperationRecord, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let value = {
        inc.content_type_ok.clone()?;
        inc.json_value()?
    };
    let params = BindParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let rotate = value.get("predecessor_binding_id").is_some();
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let _gate = app
        .gates
        .enter(id.as_str(), fingerprint("bind", bid.as_str(), &value))
        .await
        .ok_or_else(concurrency_error)?;
    let Some(instance) = app.store.instance(&id) else {
        return Err(broker_error(
            BrokerError::not_found(format!("Service Instance {id:?} does not exist.")),
            Failed::Other,
        ));
    };
    if instance.state != ResourceState::Ready {
        return Err(concurrency_error());
    }
    let Some((offering, plan)) = app.record_plan(&instance) else {
        return Err(bad_request(
            "the plan of this Service Instance is no longer in the catalog",
        ));
    };

    if let Some(existing) = app.store.binding(&id, &bid) {
        let same = existing.request == value;
        match existing.state {
            ResourceState::Failed => {}
            ResourceState::Creating if same => {
                let body = BindResponse {
                    operation: existing.operation.as_ref().map(|o| o.id.clone()),
                    ..BindResponse::default()
                };
                return ok_json(StatusCode::ACCEPTED, &body);
            }
            ResourceState::Ready if same => {
                return ok_json(StatusCode::OK, &existing.response.unwrap_or_default());
            }
            ResourceState::Creating | ResourceState::Ready => {
                return Err(broker_error(
                    BrokerError::conflict(format!(
                        "Service Binding {bid:?} already exists with different parameters."
                    )),
                    Failed::Other,
                ));
            }
            _ => return Err(concurrency_error()),
        }
    }

    let policy = app.policy(plan.id.as_str());
    let mut record = BindingRecord::new(
        id.clone(),
        bid.clone(),
        instance.service_id.clone(),
        instance.plan_id.clone(),
    );
    record.request = value.clone();
    let mut ctx = inc.context(accepts);
    ctx.offering = Some(offering.clone());
    ctx.plan = Some(plan.clone());
    ctx.instance = Some(instance.clone());

    let reply = if rotate {
        let (req, _): (RotateBindingRequest, _) = inc.json()?;
        if !plan.is_binding_rotatable() {
            return Err(bad_request(format!(
                "plan {:?} is not binding_rotatable: bindings of this instance cannot be rotated",
                plan.name
            )));
        }
        let predecessor = app
            .store
            .binding(&id, &req.predecessor_binding_id)
            .filter(|b| b.state == ResourceState::Ready);
        let Some(predecessor) = predecessor else {
            return Err(bad_request(format!(
                "predecessor_binding_id {:?} is not an existing binding of Service Instance {id:?}",
                req.predecessor_binding_id.as_str()
            )));
        };
        record.parameters = predecessor.parameters;
        if policy.async_only && !accepts {
            return Err(async_required());
        }
        call(app, move |app| async move {
            app.broker.rotate_binding(&ctx, req).await
        })
        .await
    } else {
        let (req, _): (BindRequest, _) = inc.json()?;
        app.known_plan(req.service_id.as_str(), req.plan_id.as_str())?;
        if req.service_id != instance.service_id || req.plan_id != instance.plan_id {
            return Err(bad_request(format!(
                "service_id and plan_id must be those of Service Instance {id:?}"
            )));
        }
        if !offering.plan_is_bindable(&plan) {
            return Err(bad_request(format!("plan {:?} is not bindable", plan.name)));
        }
        app.schemas
            .check(
                plan.id.as_str(),
                SchemaKind::BindingCreate,
                req.parameters.as_ref(),
            )
            .map_err(bad_request)?;
        record.parameters = req.parameters.clone();
        if policy.async_only && !accepts {
            return Err(async_required());
        }
        call(app, move |app| async move { app.broker.bind(&ctx, req).await }).await
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            if may_leave_orphan(&e) {
                record.state = ResourceState::Failed;
                app.unmark_gone(id.as_str(), bid.as_str());
                app.store.put_binding(record);
            }
            return Err(broker_error(e, Failed::Other));
        }
    };
    app.unmark_gone(id.as_str(), bid.as_str());

    if let Some(mut response) = reply.now {
        response.operation = None;
        record.response = Some(response.clone());
        app.store.put_binding(record);
        return ok_json(StatusCode::CREATED, &response);
    }
    let Some(background) = reply.later else {
        return Err(broker_error(
            BrokerError::internal("Bound had neither a response nor work"),
            Failed::Other,
        ));
    };
    if !accepts {
        return Err(async_required());
    }
    let op_id = new_operation_id();
    let mut op = OperationRecord::new(op_id.clone(), OperationKind::Bind, value);
    op.retry_after = background.retry_after.or(policy.retry_after);
    record.state = ResourceState::Creating;
    record.operation = Some(op);
    app.store.put_binding(record);
    let done_id = op_id.clone();
    spawn_operation(app, background, op_id.clone(), move |app, result| {
        let Some(mut record) = app.store.binding(&id, &bid) else {
            return;
        };
        let Some(op) = record.operation.as_mut().filter(|o| o.id == done_id) else {
            return;
        };
        match result {
            Ok(mut response) => {
                response.operation = None;
                op.state = OperationState::Succeeded;
                op.description = None;
                record.response = Some(response);
                record.state = ResourceState::Ready;
            }
            Err(e) => {
                op.state = OperationState::Failed;
                op.description = e.body().description.clone();
                record.state = ResourceState::Failed;
            }
        }
        app.store.put_binding(record);
    });
    let body = BindResponse {
        operation: Some(op_id),
        ..BindResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
