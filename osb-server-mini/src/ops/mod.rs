//! One module per OSB operation (and `recover`, which resumes work whose owner is gone);
//! this one holds what they share. The handlers decode and check the request, decide the
//! answer from the catalog and the records, and make outcomes durable only through `state`.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub(crate) mod bind;
mod delete;
pub(crate) mod deprovision;
pub(crate) mod fetch;
pub(crate) mod last_operation;
pub(crate) mod provision;
pub(crate) mod recover;
pub(crate) mod unbind;
pub(crate) mod update;

use std::sync::Arc;

use http::StatusCode;
use osb_types::catalog::{MaintenanceInfo, ServicePlan};

use crate::answers::{Answer, Failed, broker_error};
use crate::app::App;
use crate::broker::Broker;
use crate::error::BrokerError;
use crate::response;
use crate::state::progress::run_caught;

/// The identity of a mutation, to recognise an identical repeat.
pub(crate) fn fingerprint(kind: &str, binding: &str, body: &serde_json::Value) -> String {
    format!("{kind}\u{0}{binding}\u{0}{body}")
}

/// 422 `MaintenanceInfoConflict` when the request's version differs from the plan's (no
/// check when the request carries no version).
pub(crate) fn check_maintenance(
    plan: &ServicePlan,
    requested: Option<&MaintenanceInfo>,
) -> Result<(), crate::response::HttpResponse> {
    let Some(version) = requested.and_then(|m| m.version.as_deref()) else {
        return Ok(());
    };
    let expected = plan.maintenance_info.as_ref().and_then(|m| m.version.as_deref());
    if expected == Some(version) {
        return Ok(());
    }
    let description = match expected {
        Some(expected) => format!(
            "The maintenance information for the requested Service Plan has changed: version {version} was requested, the plan has {expected}."
        ),
        None => format!(
            "The requested Service Plan has no maintenance information, but version {version} was requested."
        ),
    };
    Err(broker_error(
        BrokerError::maintenance_info_conflict(description),
        Failed::Other,
    ))
}

/// A JSON answer.
pub(crate) fn ok_json<T: serde::Serialize>(status: StatusCode, body: &T) -> Answer {
    Ok(response::json(status, body))
}

/// Runs a broker method on its own task (a panic becomes 500).
pub(crate) async fn call<B, T, F, Fut>(app: &Arc<App<B>>, f: F) -> Result<T, BrokerError>
where
    B: Broker,
    T: Send + 'static,
    F: FnOnce(Arc<App<B>>) -> Fut,
    Fut: std::future::Future<Output = Result<T, BrokerError>> + Send + 'static,
{
    run_caught(f(Arc::clone(app))).await
}
