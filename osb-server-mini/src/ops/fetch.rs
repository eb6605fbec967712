//! `GET /v2/service_instances/:instance_id` and `GET .../service_bindings/:binding_id`.
//!
//! When the offering does not declare `instances_retrievable` (`bindings_retrievable`), the
//! endpoint is not supported for it and the runtime answers `400 BadRequest` naming the
//! missing declaration: a 404 would tell the Platform the resource does not exist, and the
//! specification defines no other status for an unsupported fetch.

use std::sync::Arc;

use http::StatusCode;
use osb_types::binding::{FetchBindingParams, FetchBindingResponse};
use osb_types::instance::{FetchInstanceParams, FetchInstanceResponse};

use super::{call, ok_json};
use crate::answers::{
    Answer, Failed, bad_query, bad_request, binding_not_found, broker_error, concurrency_error,
    instance_not_found,
};
use crate::app::App;
use crate::broker::Broker;
use crate::decode::Incoming;
use crate::store::ResourceState;

pub(crate) async fn instance<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    FetchInstanceParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let id = inc.instance_id();
    let not_found = || instance_not_found(&id);
    let Some(rec) = app.state.instance(&id).await?.map(|v| v.record) else {
        return Err(not_found());
    };
    let Some((offering, plan)) = app.catalog.record_plan(&rec) else {
        return Err(not_found());
    };
    if !offering.is_instances_retrievable() {
        return Err(bad_request(format!(
            "service offering {} does not declare instances_retrievable: Service Instances cannot be fetched",
            offering.name
        )));
    }
    match rec.state {
        ResourceState::Creating | ResourceState::Failed => return Err(not_found()),
        ResourceState::Updating => return Err(concurrency_error()),
        _ => {}
    }
    let mut ctx = inc.context(false);
    ctx.offering = Some(offering);
    ctx.plan = Some(plan);
    ctx.instance = Some(rec.clone());
    let answer = call(
        app,
        move |app| async move { app.broker.fetch_instance(&ctx).await },
    )
    .await
    .map_err(|e| broker_error(e, Failed::Other))?;
    let body = answer.unwrap_or_else(|| FetchInstanceResponse {
        service_id: Some(rec.service_id.clone()),
        plan_id: Some(rec.plan_id.clone()),
        dashboard_url: rec.dashboard_url.clone(),
        parameters: rec.parameters.clone(),
        maintenance_info: rec.maintenance_info.clone(),
        metadata: rec.metadata.clone(),
        ..FetchInstanceResponse::default()
    });
    ok_json(StatusCode::OK, &body)
}

pub(crate) async fn binding<B: Broker>(app: &Arc<App<B>>, inc: Incoming) -> Answer {
    FetchBindingParams::from_query(&inc.query).map_err(|e| bad_query(&e))?;
    let (id, bid) = (inc.instance_id(), inc.binding_id());
    let not_found = || binding_not_found(&bid);
    let Some(record) = app.state.binding(&id, &bid).await?.map(|v| v.record) else {
        return Err(not_found());
    };
    let Some(instance) = app.state.instance(&id).await?.map(|v| v.record) else {
        return Err(not_found());
    };
    let Some((offering, plan)) = app.catalog.record_plan(&instance) else {
        return Err(not_found());
    };
    if !offering.is_bindings_retrievable() {
        return Err(bad_request(format!(
            "service offering {} does not declare bindings_retrievable: Service Bindings cannot be fetched",
            offering.name
        )));
    }
    if !matches!(record.state, ResourceState::Ready | ResourceState::Deleting) {
        return Err(not_found());
    }
    let mut ctx = inc.context(false);
    ctx.offering = Some(offering);
    ctx.plan = Some(plan);
    ctx.instance = Some(instance);
    let answer = call(
        app,
        move |app| async move { app.broker.fetch_binding(&ctx).await },
    )
    .await
    .map_err(|e| broker_error(e, Failed::Other))?;
    let body = answer.unwrap_or_else(|| {
        let mut body = FetchBindingResponse::from(record.response.clone().unwrap_or_default());
        body.parameters = record.parameters.clone();
        body
    });
    ok_json(StatusCode::OK, &body)
}
