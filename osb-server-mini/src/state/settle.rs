//! What the outcome of each operation does to its record: the spec's lifecycle in one place.
//!
//! - A create (provision, bind) that succeeded leaves the resource `Ready`. One that failed in
//!   the background, or with a 5xx (which may have left something behind), leaves it `Failed`
//!   so the Platform's orphan-mitigation `DELETE` reaches the broker; a synchronous 4xx leaves
//!   nothing.
//! - An update that succeeded applies the request; one that failed leaves the instance as it
//!   was (with `instance_usable` / `update_repeatable` from the broker's error).
//! - A delete that succeeded removes the record (and, after an asynchronous delete, leaves a
//!   tombstone naming the operation); one that failed leaves the resource as it was.

use osb_types::{OperationId, OperationState, UpdateRequest};

use crate::error::BrokerError;
use crate::store::{BindingRecord, InstanceRecord, OperationRecord, ResourceState};

/// What becomes of a record when its operation ends.
#[derive(Debug, Clone)]
pub(crate) enum Fate<R> {
    /// Write this record (its intent cleared).
    Keep(R),
    /// Remove the record; `Some(operation)`: leave a tombstone naming the delete operation.
    Remove(Option<OperationId>),
    /// Put the record back as it was before the call (remove it if there was none).
    Restore,
}

/// Whether the Platform is waiting for the answer (a synchronous call) or polls for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sync,
    Async,
}

/// Whether a broker error on a create may have left something behind: a 5xx (or a panic,
/// which becomes 500). The runtime then keeps a failed record, so the Platform's orphan
/// mitigation `DELETE` (spec "Orphan Mitigation") reaches the broker instead of a 410.
pub(crate) fn may_leave_orphan(e: &BrokerError) -> bool {
    e.status() >= 500
}

/// The description of an operation that a restart interrupted, when the broker cannot
/// resume it.
pub(crate) const INTERRUPTED: &str =
    "The operation was interrupted by a restart of the service broker and could not be resumed.";

/// The error an interrupted operation ends with.
pub(crate) fn interrupted() -> BrokerError {
    BrokerError::new(500, "InternalError", INTERRUPTED)
}

fn succeed(op: &mut Option<OperationRecord>) {
    if let Some(op) = op.as_mut().filter(|o| o.state == OperationState::InProgress) {
        op.state = OperationState::Succeeded;
        op.description = None;
        op.lease = None;
    }
}

fn fail(op: &mut Option<OperationRecord>, e: &BrokerError, with_usable: bool, with_repeatable: bool) {
    if let Some(op) = op.as_mut().filter(|o| o.state == OperationState::InProgress) {
        op.state = OperationState::Failed;
        op.description.clone_from(&e.body().description);
        op.lease = None;
        if with_usable {
            op.instance_usable = e.body().instance_usable;
        }
        if with_repeatable {
            op.update_repeatable = e.body().update_repeatable;
        }
    }
}

fn running_op_id(op: Option<&OperationRecord>) -> Option<OperationId> {
    op.filter(|o| o.state == OperationState::InProgress)
        .map(|o| o.id.clone())
}

fn previous(op: Option<&OperationRecord>) -> ResourceState {
    op.and_then(|o| o.previous_state).unwrap_or(ResourceState::Ready)
}

/// A provision ended.
pub(crate) fn provision(
    mut rec: InstanceRecord,
    result: Result<(), BrokerError>,
    mode: Mode,
) -> Fate<InstanceRecord> {
    match (result, mode) {
        (Ok(()), _) => {
            rec.state = ResourceState::Ready;
            succeed(&mut rec.operation);
            Fate::Keep(rec)
        }
        (Err(e), Mode::Async) => {
            rec.state = ResourceState::Failed;
            fail(&mut rec.operation, &e, false, false);
            Fate::Keep(rec)
        }
        (Err(e), Mode::Sync) if may_leave_orphan(&e) => {
            rec.state = ResourceState::Failed;
            Fate::Keep(rec)
        }
        (Err(_), Mode::Sync) => Fate::Restore,
    }
}

/// Applies an update that succeeded to the record.
fn apply(rec: &mut InstanceRecord, req: &UpdateRequest) {
    if let Some(plan) = &req.plan_id {
        rec.plan_id = plan.clone();
    }
    if let Some(p) = &req.parameters {
        rec.parameters = Some(p.clone());
    }
    if let Some(c) = &req.context {
        rec.context = Some(c.clone());
    }
    if let Some(m) = &req.maintenance_info {
        rec.maintenance_info = Some(m.clone());
    }
}

/// An update ended.
pub(crate) fn update(
    mut rec: InstanceRecord,
    result: Result<(), BrokerError>,
    mode: Mode,
) -> Fate<InstanceRecord> {
    let request = match mode {
        Mode::Sync => rec.intent.as_ref().map(|i| i.request.clone()),
        Mode::Async => rec
            .operation
            .as_ref()
            .filter(|o| o.state == OperationState::InProgress)
            .map(|o| o.request.clone()),
    };
    match (result, mode) {
        (Ok(()), _) => {
            if let Some(req) = request.and_then(|v| serde_json::from_value::<UpdateRequest>(v).ok()) {
                apply(&mut rec, &req);
            }
            rec.state = ResourceState::Ready;
            succeed(&mut rec.operation);
            Fate::Keep(rec)
        }
        (Err(e), Mode::Async) => {
            rec.state = previous(rec.operation.as_ref());
            fail(&mut rec.operation, &e, true, true);
            Fate::Keep(rec)
        }
        (Err(_), Mode::Sync) => Fate::Restore,
    }
}

/// A deprovision ended.
pub(crate) fn deprovision(
    mut rec: InstanceRecord,
    result: Result<(), BrokerError>,
    mode: Mode,
) -> Fate<InstanceRecord> {
    match (result, mode) {
        (Ok(()), Mode::Async) => Fate::Remove(running_op_id(rec.operation.as_ref())),
        (Ok(()), Mode::Sync) => Fate::Remove(None),
        (Err(e), Mode::Sync) if e.status() == 410 => Fate::Remove(None),
        (Err(e), Mode::Async) => {
            rec.state = previous(rec.operation.as_ref());
            fail(&mut rec.operation, &e, true, false);
            Fate::Keep(rec)
        }
        (Err(_), Mode::Sync) => Fate::Restore,
    }
}

/// The description of the 500 a bind ends with when the broker's binding metadata has
/// `renew_before` after `expires_at` (A106): a bug in broker code, logged for its author.
pub(crate) const RENEW_AFTER_EXPIRY: &str = "The service broker answered with binding metadata \
     whose renew_before is after its expires_at; the binding cannot be used.";

/// A106: a response whose `metadata.renew_before` is after `metadata.expires_at` is the
/// broker's bug; it becomes a 500 (the binding `Failed`, so the Platform's orphan mitigation
/// unbinds it) and an error log naming the binding.
pub(crate) fn checked_metadata(
    rec: &BindingRecord,
    response: osb_types::BindResponse,
) -> Result<osb_types::BindResponse, BrokerError> {
    match &response.metadata {
        Some(m) if !m.is_consistent() => {
            tracing::error!(
                instance_id = %rec.instance_id,
                binding_id = %rec.id,
                renew_before = ?m.renew_before.map(|t| t.to_string()),
                expires_at = ?m.expires_at.map(|t| t.to_string()),
                "broker bug: bind response has metadata.renew_before after metadata.expires_at \
                 (the specification requires renew_before <= expires_at); answering 500"
            );
            Err(BrokerError::new(500, "InternalError", RENEW_AFTER_EXPIRY))
        }
        _ => Ok(response),
    }
}

/// A bind ended; `Ok(response)` carries the binding (checked with [`checked_metadata`]).
pub(crate) fn bind(
    mut rec: BindingRecord,
    result: Result<osb_types::BindResponse, BrokerError>,
    mode: Mode,
) -> Fate<BindingRecord> {
    let result = result.and_then(|r| checked_metadata(&rec, r));
    match (result, mode) {
        (Ok(mut response), _) => {
            response.operation = None;
            rec.response = Some(response);
            rec.state = ResourceState::Ready;
            succeed(&mut rec.operation);
            Fate::Keep(rec)
        }
        (Err(e), Mode::Async) => {
            rec.state = ResourceState::Failed;
            fail(&mut rec.operation, &e, false, false);
            Fate::Keep(rec)
        }
        (Err(e), Mode::Sync) if may_leave_orphan(&e) => {
            rec.state = ResourceState::Failed;
            Fate::Keep(rec)
        }
        (Err(_), Mode::Sync) => Fate::Restore,
    }
}

/// An unbind ended.
pub(crate) fn unbind(
    mut rec: BindingRecord,
    result: Result<(), BrokerError>,
    mode: Mode,
) -> Fate<BindingRecord> {
    match (result, mode) {
        (Ok(()), Mode::Async) => Fate::Remove(running_op_id(rec.operation.as_ref())),
        (Ok(()), Mode::Sync) => Fate::Remove(None),
        (Err(e), Mode::Sync) if e.status() == 410 => Fate::Remove(None),
        (Err(e), Mode::Async) => {
            rec.state = previous(rec.operation.as_ref());
            fail(&mut rec.operation, &e, false, false);
            Fate::Keep(rec)
        }
        (Err(_), Mode::Sync) => Fate::Restore,
    }
}
