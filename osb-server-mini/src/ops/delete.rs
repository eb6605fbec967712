//! What a deprovision and an unbind share once the record to delete is found and checked:
//! the intent is recorded, the broker is called, and its answer becomes the record's fate
//! and the HTTP answer.
//!
//! - done: the record is removed, `200 {}`;
//! - the broker answers 410: the record is removed, `410 {}`;
//! - another error: the record is restored (or failed, when it may have left an orphan) and
//!   the error is answered;
//! - work in the background without `accepts_incomplete=true`: the record is restored, 422
//!   `AsyncRequired`;
//! - work in the background: the operation is recorded and its id returned for the 202.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use osb_types::OperationId;

use crate::answers::{Failed, async_required, broker_error};
use crate::error::BrokerError;
use crate::reply::Background;
use crate::response::{self, HttpResponse};
use crate::state::settle::Mode;
use crate::state::{Call, Fate, GateGuard, Resource, State};
use crate::store::{OperationKind, ResourceState, Versioned};

/// Which delete runs, and how its outcomes are settled.
pub(super) struct Delete<R> {
    /// `Deprovision` or `Unbind`.
    pub(super) kind: OperationKind,
    /// The record's fate from the broker's outcome (`settle::deprovision` or `settle::unbind`).
    pub(super) settle: fn(R, Result<(), BrokerError>, Mode) -> Fate<R>,
    /// Which fields a broker error's answer may carry.
    pub(super) failed: Failed,
    /// The request's `accepts_incomplete=true`.
    pub(super) accepts: bool,
    /// The plan's `Retry-After`, unless the broker's background work names its own.
    pub(super) retry_after: Option<Duration>,
}

/// Runs the delete of `found` under `gate`: `broker` is the broker's call, answering its
/// background work if any. `Ok(None)`: answer `200 {}`; `Ok(Some(op))`: answer 202 with
/// `op`; `Err`: the answer.
pub(super) async fn run<R: Resource>(
    state: &Arc<State>,
    gate: GateGuard,
    found: Versioned<R>,
    delete: Delete<R>,
    broker: impl Future<Output = Result<Option<Background<()>>, BrokerError>>,
) -> Result<Option<OperationId>, HttpResponse> {
    let record = found.record.clone();
    let (kind, settle, accepts) = (delete.kind, delete.settle, delete.accepts);
    let call = Call {
        kind,
        request: serde_json::Value::Null,
        accepts_incomplete: accepts,
        running: ResourceState::Deleting,
    };
    let mut ticket = state.begin(gate, Some(found), record, call).await?;
    let background = match ticket.run(broker).await {
        Ok(background) => background,
        Err(e) => {
            let gone = e.status() == 410;
            let fate = settle(ticket.record().clone(), Err(e.clone()), Mode::Sync);
            ticket.finish(fate).await?;
            if gone {
                return Err(response::empty_object(StatusCode::GONE));
            }
            return Err(broker_error(e, delete.failed));
        }
    };
    let Some(background) = background else {
        let fate = settle(ticket.record().clone(), Ok(()), Mode::Sync);
        ticket.finish(fate).await?;
        return Ok(None);
    };
    if !accepts {
        ticket.finish(Fate::Restore).await?;
        return Err(async_required());
    }
    let retry_after = background.retry_after.or(delete.retry_after);
    let op_id = ticket
        .go_async(kind, background, retry_after, move |rec, result| {
            settle(rec, result, Mode::Async)
        })
        .await?;
    Ok(Some(op_id))
}
