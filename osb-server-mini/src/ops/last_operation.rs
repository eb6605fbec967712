//! `GET .../last_operation` for instances and bindings.
//!
//! The runtime answers from the store unless the broker overrides the method. The
//! `operation` query value is only a hint to the runtime: its answer is about the current or
//! last operation. A broker that overrides the method sees the query parameters in
//! [`RequestContext::last_operation`](crate::RequestContext::last_operation).

use std::sync::Arc;

use http::StatusCode;
use http::header::HeaderValue;
use osb_types::operation::LastOperationParams;
use osb_types::{LastOperationResponse, OperationState};

use super::{Answer, bad_query, call};
use crate::app::{App, Failed, Incoming, broker_error};
use crate::broker::Broker;
use crate::error::BrokerError;
use crate::response::{self, HttpResponse};
use crate::store::{OperationKind, OperationRecord};

fn answer<B: Broker>(app: &App<B>, op: Option<&OperationRecord>) -> HttpResponse {
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
            if let Some(d) = app.ops.description(&op.id).filter(|d| !d.is_empty()) {
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
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        res.headers_mut().insert(
            osb_types::version::RETRY_AFTER_HEADER,
            HeaderValue::from(secs.max(1)),
        );
    }
    res
}

pub(crate) async fn instance<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = LastOperationParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let id = inc.instance_id();
    let Some(rec) = app.store.instance(&id) else {
        if app.is_gone(id.as_str(), "") {
            return Ok(response::empty_object(StatusCode::GONE));
        }
        return Err(broker_error(
            BrokerError::not_found(format!("Service Instance {id:?} does not exist.")),
            Failed::Other,
        ));
    };
    let mut ctx = inc.context(false);
    ctx.last_operation = Some(params);
    if let Some((o, p)) = app.record_plan(&rec) {
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
        return Ok(response::json(StatusCode::OK, &body));
    }
    Ok(answer(app, rec.operation.as_ref()))
}

pub(crate) async fn binding<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let params = LastOperationParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let Some(record) = app.store.binding(&id, &bid) else {
        if app.is_gone(id.as_str(), bid.as_str()) {
            return Ok(response::empty_object(StatusCode::GONE));
        }
        return Err(broker_error(
            BrokerError::not_found(format!("Service Binding {bid:?} does not exist.")),
            Failed::Other,
        ));
    };
    let mut ctx = inc.context(false);
    ctx.last_operation = Some(params);
    if let Some(instance) = app.store.instance(&id) {
        if let Some((o, p)) = app.record_plan(&instance) {
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
        return Ok(response::json(StatusCode::OK, &body));
    }
    Ok(answer(app, record.operation.as_ref()))
}
