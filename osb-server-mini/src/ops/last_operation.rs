//! `GET .../last_operation` for instances and bindings.
//!
//! The runtime answers from its records unless the broker overrides the method (a final
//! state the broker reports is recorded). The `operation` query value is only a hint: the
//! answer is about the current or last operation. After an asynchronous delete has finished,
//! a poll naming that delete's operation is answered `200 succeeded` while the runtime
//! remembers the delete (its tombstone), and `410 Gone` otherwise. A broker that overrides
//! the method sees the query parameters in
//! [`RequestContext::last_operation`](crate::RequestContext::last_operation).

use std::sync::Arc;

use http::StatusCode;
use http::header::HeaderValue;
use osb_types::operation::LastOperationParams;
use osb_types::{BindingId, InstanceId, LastOperationResponse, OperationState};

use super::call;
use crate::answers::{Answer, Failed, bad_query, binding_not_found, broker_error, instance_not_found};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::error::BrokerError;
use crate::response::{self, HttpResponse};
use crate::state::settle::{self, Mode};
use crate::state::{Resource, State};
use crate::store::{OperationKind, OperationRecord, Versioned};

/// The answer from the records. A recorded intent without an outcome (a synchronous broker
/// call still running, or one interrupted by a crash that recovery has not claimed yet) is
/// `in progress`: it may still end `failed`, so it is never reported `succeeded` early.
fn answer(state: &State, op: Option<&OperationRecord>, intent: bool) -> HttpResponse {
    if intent {
        return response::json(
            StatusCode::OK,
            &LastOperationResponse::new(OperationState::InProgress),
        );
    }
    let Some(op) = op else {
        return response::json(
            StatusCode::OK,
            &LastOperationResponse::new(OperationState::Succeeded),
        );
    };
    let mut body = LastOperationResponse::new(op.state);
    body.description = op.description.clone().filter(|d| !d.is_empty());
    let mut retry = None;
    match op.state {
        OperationState::InProgress => {
            if let Some(d) = state.description(&op.id).filter(|d| !d.is_empty()) {
                body.description = Some(d);
            }
            retry = op.retry_after;
        }
        OperationState::Failed => {
            if matches!(op.kind, OperationKind::Update | OperationKind::Deprovision) {
                body.instance_usable = op.instance_usable;
            }
            if op.kind == OperationKind::Update {
                body.update_repeatable = op.update_repeatable;
            }
        }
        OperationState::Succeeded => {}
    }
    let mut res = response::json(StatusCode::OK, &body);
    if let Some(after) = retry {
        // whole seconds, rounded up, and never `0` (which would mean "poll right away")
        let hint = osb_types::RetryAfter::from(after.max(std::time::Duration::from_secs(1)));
        if let Ok(value) = HeaderValue::from_str(&hint.to_string()) {
            res.headers_mut()
                .insert(osb_types::version::RETRY_AFTER_HEADER, value);
        }
    }
    res
}

/// No record: 200 `succeeded` for a poll naming the finished delete, 410 for any other
/// poll of a deleted id, else 404.
async fn deleted(state: &State, params: &LastOperationParams, id: &InstanceId, bid: &BindingId) -> Answer {
    match state.tombstone(id, bid).await? {
        Some(t) if t.operation.is_some() && t.operation == params.operation => Ok(response::json(
            StatusCode::OK,
            &LastOperationResponse::new(OperationState::Succeeded),
        )),
        Some(_) => Ok(response::empty_object(StatusCode::GONE)),
        None if bid.as_str().is_empty() => Err(instance_not_found(id)),
        None => Err(binding_not_found(bid)),
    }
}

/// Records a final state the broker's own `last_operation` reported for an operation the
/// runtime still has in progress.
async fn record_broker_answer<R: Resource>(
    state: &State,
    found: Versioned<R>,
    body: &LastOperationResponse,
    settle: impl Fn(R, Result<(), BrokerError>) -> crate::state::Fate<R>,
) {
    let running = found
        .record
        .operation()
        .is_some_and(|o| o.state == OperationState::InProgress);
    if !running || body.state == OperationState::InProgress {
        return;
    }
    let result = match body.state {
        OperationState::Succeeded => Ok(()),
        _ => {
            let mut e = BrokerError::new(
                500,
                "InternalError",
                body.description
                    .clone()
                    .unwrap_or_else(|| "The operation failed.".to_owned()),
            );
            if let Some(u) = body.instance_usable {
                e = e.instance_usable(u);
            }
            if let Some(u) = body.update_repeatable {
                e = e.update_repeatable(u);
            }
            Err(e)
        }
    };
    let fate = settle(found.record.clone(), result);
    if let Err(e) = state.settle_found(found, fate).await {
        tracing::warn!(error = %e, "could not record the broker's last_operation answer");
    }
}

pub(crate) async fn instance<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = LastOperationParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let id = inc.instance_id();
    let Some(found) = app.state.instance(&id).await? else {
        return deleted(&app.state, &params, &id, &BindingId::default()).await;
    };
    let rec = found.record.clone();
    let mut ctx = inc.context(false);
    ctx.last_operation = Some(params);
    if let Some((o, p)) = app.catalog.record_plan(&rec) {
        ctx.offering = Some(o);
        ctx.plan = Some(p);
    }
    ctx.instance = Some(rec.clone());
    let from_broker = call(app, move |app| async move {
        app.broker.instance_last_operation(&ctx).await
    })
    .await
    .map_err(|e| broker_error(e, Failed::Other))?;
    if let Some(body) = from_broker {
        let kind = rec.operation.as_ref().map(|o| o.kind);
        record_broker_answer(&app.state, found, &body, move |r, result| match kind {
            Some(OperationKind::Update) => settle::update(r, result, Mode::Async),
            Some(OperationKind::Deprovision) => settle::deprovision(r, result, Mode::Async),
            _ => settle::provision(r, result, Mode::Async),
        })
        .await;
        return Ok(response::json(StatusCode::OK, &body));
    }
    Ok(answer(&app.state, rec.operation.as_ref(), rec.intent.is_some()))
}

pub(crate) async fn binding<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = LastOperationParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let Some(found) = app.state.binding(&id, &bid).await? else {
        return deleted(&app.state, &params, &id, &bid).await;
    };
    let record = found.record.clone();
    let mut ctx = inc.context(false);
    ctx.last_operation = Some(params);
    if let Some(instance) = app.state.instance(&id).await?.map(|v| v.record) {
        if let Some((o, p)) = app.catalog.record_plan(&instance) {
            ctx.offering = Some(o);
            ctx.plan = Some(p);
        }
        ctx.instance = Some(instance);
    }
    let from_broker = call(app, move |app| async move {
        app.broker.binding_last_operation(&ctx).await
    })
    .await
    .map_err(|e| broker_error(e, Failed::Other))?;
    if let Some(body) = from_broker {
        let kind = record.operation.as_ref().map(|o| o.kind);
        // A bind the broker reports finished has its credentials fetched from the broker
        // (`fetch_binding`), so the record keeps the response it has.
        record_broker_answer(&app.state, found, &body, move |r, result| match kind {
            Some(OperationKind::Unbind) => settle::unbind(r, result, Mode::Async),
            _ => {
                let response = r.response.clone().unwrap_or_default();
                settle::bind(r, result.map(|()| response), Mode::Async)
            }
        })
        .await;
        return Ok(response::json(StatusCode::OK, &body));
    }
    Ok(answer(
        &app.state,
        record.operation.as_ref(),
        record.intent.is_some(),
    ))
}
