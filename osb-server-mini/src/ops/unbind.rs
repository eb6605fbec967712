//! `DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::binding::{UnbindParams, UnbindResponse};

use super::{call, ok_json};
use crate::answers::{
    Answer, Failed, async_required, bad_query, bad_request, broker_error, concurrency_error,
};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::request::UnbindRequest;
use crate::response;
use crate::state::settle::{self, Mode};
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
    let record = binding.clone();
    let mut ticket = app
        .state
        .begin(
            gate,
            Some(found),
            record,
            crate::state::Call {
                kind: OperationKind::Unbind,
                request: serde_json::Value::Null,
                accepts_incomplete: accepts,
                running: ResourceState::Deleting,
            },
        )
        .await?;
    let request = UnbindRequest { service_id, plan_id };
    let reply = ticket
        .run(call(app, move |app| async move {
            app.broker.unbind(&ctx, request).await
        }))
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let gone = e.status() == 410;
            let fate = settle::unbind(ticket.record().clone(), Err(e.clone()), Mode::Sync);
            ticket.finish(fate).await?;
            if gone {
                return Err(response::empty_object(StatusCode::GONE));
            }
            return Err(broker_error(e, Failed::Other));
        }
    };
    let Some(background) = reply.later else {
        let fate = settle::unbind(ticket.record().clone(), Ok(()), Mode::Sync);
        ticket.finish(fate).await?;
        return Ok(response::empty_object(StatusCode::OK));
    };
    if !accepts {
        ticket.finish(crate::state::Fate::Restore).await?;
        return Err(async_required());
    }
    let retry_after = background.retry_after.or(policy.retry_after);
    let op_id = ticket
        .go_async(OperationKind::Unbind, background, retry_after, |rec, result| {
            settle::unbind(rec, result, Mode::Async)
        })
        .await?;
    let body = UnbindResponse {
        operation: Some(op_id),
        ..UnbindResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
