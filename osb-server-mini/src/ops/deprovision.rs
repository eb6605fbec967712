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

use super::{call, ok_json};
use crate::answers::{
    Answer, Failed, async_required, bad_query, bad_request, broker_error, concurrency_error,
};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::request::DeprovisionRequest;
use crate::response;
use crate::state::settle::{self, Mode};
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
    let record = rec.clone();
    let mut ticket = app
        .state
        .begin(
            gate,
            Some(found),
            record,
            crate::state::Call {
                kind: OperationKind::Deprovision,
                request: serde_json::Value::Null,
                accepts_incomplete: accepts,
                running: ResourceState::Deleting,
            },
        )
        .await?;
    let request = DeprovisionRequest { service_id, plan_id };
    let reply = ticket
        .run(call(app, move |app| async move {
            app.broker.deprovision(&ctx, request).await
        }))
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let gone = e.status() == 410;
            let fate = settle::deprovision(ticket.record().clone(), Err(e.clone()), Mode::Sync);
            ticket.finish(fate).await?;
            if gone {
                return Err(response::empty_object(StatusCode::GONE));
            }
            return Err(broker_error(e, Failed::Deprovision));
        }
    };
    let Some(background) = reply.later else {
        let fate = settle::deprovision(ticket.record().clone(), Ok(()), Mode::Sync);
        ticket.finish(fate).await?;
        return Ok(response::empty_object(StatusCode::OK));
    };
    if !accepts {
        ticket.finish(crate::state::Fate::Restore).await?;
        return Err(async_required());
    }
    let retry_after = background.retry_after.or(policy.retry_after);
    let op_id = ticket
        .go_async(
            OperationKind::Deprovision,
            background,
            retry_after,
            |rec, result| settle::deprovision(rec, result, Mode::Async),
        )
        .await?;
    let body = DeprovisionResponse {
        operation: Some(op_id),
        ..DeprovisionResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
