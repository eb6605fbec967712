//! `PUT /v2/service_instances/:instance_id/service_bindings/:binding_id` (create or rotate).

use std::sync::Arc;

use http::StatusCode;
use osb_types::binding::{BindParams, BindResponse, RotateBindingRequest};
use osb_types::{BindRequest, Timestamp};

use super::{call, fingerprint, ok_json};
use crate::answers::{
    Answer, Failed, async_required, bad_query, bad_request, broker_error, concurrency_error,
    instance_not_found,
};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::error::BrokerError;
use crate::schema::SchemaKind;
use crate::state::settle::{self, Mode};
use crate::store::{BindingRecord, OperationKind, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let value = {
        inc.content_type_ok.clone()?;
        inc.json_value()?
    };
    let params = BindParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let rotate = value.get("predecessor_binding_id").is_some();
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let gate = app
        .state
        .enter(&id, fingerprint("bind", bid.as_str(), &value))
        .await?
        .ok_or_else(concurrency_error)?;
    let Some(instance) = app.state.instance(&id).await? else {
        return Err(instance_not_found(&id));
    };
    let instance = instance.record;
    if instance.state != ResourceState::Ready {
        return Err(concurrency_error());
    }
    let Some((offering, plan)) = app.catalog.record_plan(&instance) else {
        return Err(bad_request(
            "the plan of this Service Instance is no longer in the catalog",
        ));
    };

    let current = app.state.binding(&id, &bid).await?;
    if let Some(found) = &current {
        let existing = &found.record;
        let same = existing.request == value;
        let running_async = existing.intent.is_none();
        match existing.state {
            ResourceState::Failed => {}
            ResourceState::Creating if same && running_async => {
                let body = BindResponse {
                    operation: existing.operation.as_ref().map(|o| o.id.clone()),
                    ..BindResponse::default()
                };
                return ok_json(StatusCode::ACCEPTED, &body);
            }
            ResourceState::Ready if same => {
                return ok_json(StatusCode::OK, &existing.response.clone().unwrap_or_default());
            }
            ResourceState::Creating if same => return Err(concurrency_error()),
            ResourceState::Creating | ResourceState::Ready => {
                return Err(broker_error(
                    BrokerError::conflict(format!(
                        "Service Binding {bid} already exists with different parameters."
                    )),
                    Failed::Other,
                ));
            }
            _ => return Err(concurrency_error()),
        }
    }

    let policy = app.catalog.policy(plan.id.as_str());
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

    enum Call {
        Bind(Box<BindRequest>),
        Rotate(RotateBindingRequest),
    }
    let request = if rotate {
        let (req, _): (RotateBindingRequest, _) = inc.json()?;
        if !plan.is_binding_rotatable() {
            return Err(bad_request(format!(
                "plan {} is not binding_rotatable: bindings of this instance cannot be rotated",
                plan.name
            )));
        }
        // C50: the predecessor is a non-expired binding of this instance (bindings are
        // looked up under the instance, so one of another instance is not found).
        let predecessor = app
            .state
            .binding(&id, &req.predecessor_binding_id)
            .await?
            .filter(|b| b.record.state == ResourceState::Ready);
        let Some(predecessor) = predecessor else {
            return Err(bad_request(format!(
                "predecessor_binding_id {} is not an existing binding of Service Instance {id}",
                req.predecessor_binding_id
            )));
        };
        let expires_at = predecessor
            .record
            .response
            .as_ref()
            .and_then(|r| r.metadata.as_ref())
            .and_then(|m| m.expires_at);
        if let Some(at) = expires_at.filter(|at| *at <= Timestamp::now()) {
            return Err(bad_request(format!(
                "predecessor_binding_id {} expired at {at}: only a non-expired binding can be rotated",
                req.predecessor_binding_id
            )));
        }
        record.parameters.clone_from(&predecessor.record.parameters);
        ctx.predecessor = Some(predecessor.record);
        Call::Rotate(req)
    } else {
        let (req, _): (BindRequest, _) = inc.json()?;
        app.catalog
            .existing_plan(req.service_id.as_str(), req.plan_id.as_str())?;
        if req.service_id != instance.service_id || req.plan_id != instance.plan_id {
            return Err(bad_request(format!(
                "service_id and plan_id must be those of Service Instance {id}"
            )));
        }
        if !offering.plan_is_bindable(&plan) {
            return Err(bad_request(format!("plan {} is not bindable", plan.name)));
        }
        app.catalog
            .current()
            .schemas
            .check(
                plan.id.as_str(),
                SchemaKind::BindingCreate,
                req.parameters.as_ref(),
            )
            .map_err(bad_request)?;
        record.parameters = req.parameters.clone();
        Call::Bind(Box::new(req))
    };
    if policy.async_only && !accepts {
        return Err(async_required());
    }
    let mut ticket = app
        .state
        .begin(
            gate,
            current,
            record,
            crate::state::Call {
                kind: OperationKind::Bind,
                request: value,
                accepts_incomplete: accepts,
                running: ResourceState::Creating,
            },
        )
        .await?;
    let reply = ticket
        .run(call(app, move |app| async move {
            match request {
                Call::Bind(req) => app.broker.bind(&ctx, *req).await,
                Call::Rotate(req) => app.broker.rotate_binding(&ctx, req).await,
            }
        }))
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let fate = settle::bind(ticket.record().clone(), Err(e.clone()), Mode::Sync);
            ticket.finish(fate).await?;
            return Err(broker_error(e, Failed::Other));
        }
    };
    if let Some(mut response) = reply.now {
        response.operation = None;
        let result = settle::checked_metadata(ticket.record(), response);
        let fate = settle::bind(ticket.record().clone(), result.clone(), Mode::Sync);
        ticket.finish(fate).await?;
        return match result {
            Ok(response) => ok_json(StatusCode::CREATED, &response),
            Err(e) => Err(broker_error(e, Failed::Other)),
        };
    }
    let Some(background) = reply.later else {
        let e = BrokerError::internal("Bound had neither a response nor work");
        let fate = settle::bind(ticket.record().clone(), Err(e.clone()), Mode::Sync);
        ticket.finish(fate).await?;
        return Err(broker_error(e, Failed::Other));
    };
    if !accepts {
        ticket.finish(crate::state::Fate::Restore).await?;
        return Err(async_required());
    }
    let retry_after = background.retry_after.or(policy.retry_after);
    let op_id = ticket
        .go_async(OperationKind::Bind, background, retry_after, |rec, result| {
            settle::bind(rec, result, Mode::Async)
        })
        .await?;
    let body = BindResponse {
        operation: Some(op_id),
        ..BindResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
