//! One module per OSB operation; this one holds what they share.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub(crate) mod bind;
pub(crate) mod deprovision;
pub(crate) mod fetch;
pub(crate) mod last_operation;
pub(crate) mod provision;
pub(crate) mod unbind;
pub(crate) mod update;

use std::sync::Arc;

use http::StatusCode;
use osb_types::OperationId;
use osb_types::catalog::{MaintenanceInfo, ServicePlan};
use tracing::Instrument;

use crate::app::App;
use crate::broker::Broker;
use crate::error::BrokerError;
use crate::operation::run_caught;
use crate::reply::{Background, Progress};
use crate::response::{self, HttpResponse};

/// What an operation handler returns: the answer, or an early error answer.
pub(crate) type Answer = Result<HttpResponse, HttpResponse>;

/// The identity of a mutation, to recognise an identical repeat.
pub(crate) fn fingerprint(kind: &str, binding: &str, body: &serde_json::Value) -> String {
    format!("{kind}\u{0}{binding}\u{0}{body}")
}

/// 422 `MaintenanceInfoConflict` when the request's version differs from the plan's (no
/// check when the request carries no version).
pub(crate) fn check_maintenance(
    plan: &ServicePlan,
    requested: Option<&MaintenanceInfo>,
) -> Result<(), HttpResponse> {
    let Some(version) = requested.and_then(|m| m.version.as_deref()) else {
        return Ok(());
    };
    let expected = plan.maintenance_info.as_ref().and_then(|m| m.version.as_deref());
    if expected == Some(version) {
        return Ok(());
    }
    let description = match expected {
        Some(expected) => format!(
            "The maintenance information for the requested Service Plan has changed: version {version:?} was requested, the plan has {expected:?}."
        ),
        None => format!(
            "The requested Service Plan has no maintenance information, but version {version:?} was requested."
        ),
    };
    Err(crate::app::broker_error(
        BrokerError::maintenance_info_conflict(description),
        crate::app::Failed::Other,
    ))
}

/// Runs the background work of an accepted asynchronous operation; `done` records the outcome.
pub(crate) fn spawn_operation<B, T, D>(app: &Arc<App<B>>, background: Background<T>, id: OperationId, done: D)
where
    B: Broker,
    T: Send + 'static,
    D: FnOnce(&App<B>, Result<T, BrokerError>) + Send + 'static,
{
    let progress = Progress::default();
    app.ops.start(&id, progress.clone());
    let work = (background.work)(progress);
    let app = Arc::clone(app);
    tokio::spawn(
        async move {
            let result = run_caught(work).await;
            if let Err(e) = &result {
                tracing::info!(operation = %id, status = e.status(), "asynchronous operation failed");
            } else {
                tracing::info!(operation = %id, "asynchronous operation succeeded");
            }
            done(&app, result);
            app.ops.finish(&id);
        }
        .instrument(tracing::Span::current()),
    );
}

/// A JSON answer.
pub(crate) fn ok_json<T: serde::Serialize>(status: StatusCode, body: &T) -> Answer {
    Ok(response::json(status, body))
}

/// 400 from an `osb_types` query parsing error.
pub(crate) fn bad_query(e: &osb_types::Error) -> HttpResponse {
    crate::app::bad_request(e.to_string())
}

/// Whether a broker error on a create may have left something behind: a 5xx (or a panic,
/// which becomes 500). The runtime then keeps a failed record, so the Platform's orphan
/// mitigation `DELETE` (spec "Orphan Mitigation") reaches the broker instead of a 410.
pub(crate) fn may_leave_orphan(e: &BrokerError) -> bool {
    e.status() >= 500
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
