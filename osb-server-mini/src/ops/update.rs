//! `PATCH /v2/service_instances/:instance_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::UpdateRequest;
use osb_types::instance::{UpdateParams, UpdateResponse};

use super::{call, check_maintenance, fingerprint, ok_json};
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
use crate::store::{OperationKind, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let (req, value): (UpdateRequest, _) = inc.json()?;
    let params = UpdateParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let id = inc.instance_id();
    let gate = app
        .state
        .enter(&id, fingerprint("update", "", &value))
        .await?
        .ok_or_else(concurrency_error)?;
    let Some(found) = app.state.instance(&id).await? else {
        return Err(instance_not_found(&id));
    };
    let rec = found.record.clone();
    match rec.state {
        ResourceState::Ready => {}
        ResourceState::Updating if rec.intent.is_none() => {
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
            "service_id {} is not the offering of Service Instance {id}",
            req.service_id
        )));
    }
    let Some((offering, current)) = app.catalog.record_plan(&rec) else {
        return Err(bad_request(format!(
            "the plan {} of Service Instance {id} is no longer in the catalog",
            rec.plan_id
        )));
    };
    let target_id = req.plan_id.clone().unwrap_or_else(|| rec.plan_id.clone());
    let (_, target) = app
        .catalog
        .known_plan(req.service_id.as_str(), target_id.as_str())?;
    let plan_change = target.id != rec.plan_id;
    // A change the catalog does not support is 422 (spec "Updating a Service Instance ›
    // Response": "MUST be returned if the requested change is not supported"), not 400: the
    // request is well-formed.
    if plan_change && !offering.plan_is_updateable(&current) {
        return Err(broker_error(
            BrokerError::unprocessable(
                "PlanChangeNotSupported",
                format!(
                    "the plan of this Service Instance cannot be changed: plan {} is not plan_updateable",
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
        app.catalog
            .current()
            .schemas
            .check(
                target.id.as_str(),
                SchemaKind::InstanceUpdate,
                req.parameters.as_ref(),
            )
            .map_err(bad_request)?;
    }
    let policy = app.catalog.policy(target.id.as_str());
    if policy.async_only && !accepts {
        return Err(async_required());
    }
    let mut ctx = inc.context(accepts);
    ctx.offering = Some(offering);
    ctx.plan = Some(target);
    ctx.instance = Some(rec.clone());
    let mut ticket = app
        .state
        .begin(
            gate,
            Some(found),
            rec,
            crate::state::Call {
                kind: OperationKind::Update,
                request: value,
                accepts_incomplete: accepts,
                running: ResourceState::Updating,
            },
        )
        .await?;
    let reply = ticket
        .run(call(
            app,
            move |app| async move { app.broker.update(&ctx, req).await },
        ))
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let fate = settle::update(ticket.record().clone(), Err(e.clone()), Mode::Sync);
            ticket.finish(fate).await?;
            return Err(broker_error(e, Failed::Update));
        }
    };
    {
        let rec = ticket.record_mut();
        if reply.dashboard_url.is_some() {
            rec.dashboard_url.clone_from(&reply.dashboard_url);
        }
        if reply.metadata.is_some() {
            rec.metadata.clone_from(&reply.metadata);
        }
    }
    let Some(background) = reply.later else {
        let fate = settle::update(ticket.record().clone(), Ok(()), Mode::Sync);
        ticket.finish(fate).await?;
        let body = UpdateResponse {
            dashboard_url: reply.dashboard_url,
            metadata: reply.metadata,
            ..UpdateResponse::default()
        };
        return ok_json(StatusCode::OK, &body);
    };
    if !accepts {
        ticket.finish(crate::state::Fate::Restore).await?;
        return Err(async_required());
    }
    let retry_after = background.retry_after.or(policy.retry_after);
    let op_id = ticket
        .go_async(OperationKind::Update, background, retry_after, |rec, result| {
            settle::update(rec, result, Mode::Async)
        })
        .await?;
    let body = UpdateResponse {
        dashboard_url: reply.dashboard_url,
        operation: Some(op_id),
        metadata: reply.metadata,
        ..UpdateResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
