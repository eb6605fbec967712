//! `PUT /v2/service_instances/:instance_id`.

use std::sync::Arc;

use http::StatusCode;
use osb_types::ProvisionRequest;
use osb_types::instance::{ProvisionParams, ProvisionResponse};

use super::{call, check_maintenance, fingerprint, ok_json};
use crate::answers::{
    Answer, Failed, async_required, bad_query, bad_request, broker_error, concurrency_error,
};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::schema::SchemaKind;
use crate::state::settle::{self, Mode};
use crate::store::{InstanceRecord, OperationKind, ResourceState};

pub(crate) async fn handle<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    let (req, value): (ProvisionRequest, _) = inc.json()?;
    if let Some(field) = req.empty_required_field() {
        return Err(bad_request(format!(
            "{field} must be a non-empty string when present (leave it out instead)"
        )));
    }
    let params = ProvisionParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let accepts = params.accepts_incomplete == Some(true);
    let (offering, plan) = app
        .catalog
        .known_plan(req.service_id.as_str(), req.plan_id.as_str())?;
    check_maintenance(&plan, req.maintenance_info.as_ref())?;
    app.catalog
        .current()
        .schemas
        .check(
            plan.id.as_str(),
            SchemaKind::InstanceCreate,
            req.parameters.as_ref(),
        )
        .map_err(bad_request)?;
    let id = inc.instance_id();
    let gate = app
        .state
        .enter(&id, fingerprint("provision", "", &value))
        .await?
        .ok_or_else(concurrency_error)?;

    let current = app.state.instance(&id).await?;
    if let Some(found) = &current {
        let rec = &found.record;
        let same = rec.service_id == req.service_id
            && rec.plan_id == req.plan_id
            && rec.parameters == req.parameters
            && rec.context == req.context;
        let conflict = || {
            broker_error(
                crate::BrokerError::conflict(format!(
                    "Service Instance {id} already exists with different attributes."
                )),
                Failed::Other,
            )
        };
        let running_async = rec.intent.is_none();
        match rec.state {
            ResourceState::Failed => {}
            ResourceState::Creating if same && running_async => {
                let body = ProvisionResponse {
                    dashboard_url: rec.dashboard_url.clone(),
                    operation: rec.operation.as_ref().map(|o| o.id.clone()),
                    metadata: rec.metadata.clone(),
                    ..ProvisionResponse::default()
                };
                return ok_json(StatusCode::ACCEPTED, &body);
            }
            ResourceState::Ready if same => {
                let body = ProvisionResponse {
                    dashboard_url: rec.dashboard_url.clone(),
                    metadata: rec.metadata.clone(),
                    ..ProvisionResponse::default()
                };
                return ok_json(StatusCode::OK, &body);
            }
            ResourceState::Creating if same => return Err(concurrency_error()),
            ResourceState::Creating | ResourceState::Ready => return Err(conflict()),
            _ if same => return Err(concurrency_error()),
            _ => return Err(conflict()),
        }
    }

    let policy = app.catalog.policy(plan.id.as_str());
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
    let mut ticket = app
        .state
        .begin(
            gate,
            current,
            rec,
            crate::state::Call {
                kind: OperationKind::Provision,
                request: value,
                accepts_incomplete: accepts,
                running: ResourceState::Creating,
            },
        )
        .await?;
    let reply = ticket
        .run(call(app, move |app| async move {
            app.broker.provision(&ctx, req).await
        }))
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let fate = settle::provision(ticket.record().clone(), Err(e.clone()), Mode::Sync);
            ticket.finish(fate).await?;
            return Err(broker_error(e, Failed::Other));
        }
    };
    {
        let rec = ticket.record_mut();
        rec.dashboard_url.clone_from(&reply.dashboard_url);
        rec.metadata.clone_from(&reply.metadata);
    }
    let Some(background) = reply.later else {
        let fate = settle::provision(ticket.record().clone(), Ok(()), Mode::Sync);
        ticket.finish(fate).await?;
        let body = ProvisionResponse {
            dashboard_url: reply.dashboard_url,
            metadata: reply.metadata,
            ..ProvisionResponse::default()
        };
        return ok_json(StatusCode::CREATED, &body);
    };
    if !accepts {
        // The work is dropped without ever being polled; nothing was created.
        ticket.finish(crate::state::Fate::Restore).await?;
        return Err(async_required());
    }
    let retry_after = background.retry_after.or(policy.retry_after);
    let op_id = ticket
        .go_async(
            OperationKind::Provision,
            background,
            retry_after,
            |rec, result| settle::provision(rec, result, Mode::Async),
        )
        .await?;
    let body = ProvisionResponse {
        dashboard_url: reply.dashboard_url,
        operation: Some(op_id),
        metadata: reply.metadata,
        ..ProvisionResponse::default()
    };
    ok_json(StatusCode::ACCEPTED, &body)
}
