//! No operation left behind: recovery of work whose owner is gone.
//!
//! A sweeper runs at start-up and then every `sweep_interval`. It lists the records whose
//! running work (a synchronous call's intent, or an asynchronous operation) has an expired
//! lease — or, on a store only this process can open, any lease of another process: that
//! process is gone. Each is claimed by a conditional write (so across replicas exactly one
//! process recovers it), then handed to [`Broker::resume`]: the broker may finish, continue
//! or re-run the work; without `resume` the operation ends `failed`, saying it was
//! interrupted, and the record ends where the specification needs it (see `state::settle`).
//! The sweeper also forgets expired tombstones.

use std::sync::Arc;

use osb_types::{OperationState, ProvisionRequest};

use crate::app::App;
use crate::broker::Broker;
use crate::context::RequestContext;
use crate::error::BrokerError;
use crate::ops::call;
use crate::reply::{Interrupted, ResumeOutcome};
use crate::state::settle::{self, Mode, interrupted};
use crate::state::{Key, Resource, StateError, new_operation_id};
use crate::store::{
    BindingRecord, InstanceRecord, LeaseKey, OperationKind, OperationRecord, Versioned, now_ms,
};

/// Starts the sweeper task; it stops at shutdown.
pub(crate) fn spawn_sweeper<B: Broker>(app: Arc<App<B>>) {
    tokio::spawn(async move {
        let mut stop = app.state.stopping();
        loop {
            if let Err(e) = sweep(&app).await {
                tracing::warn!(error = %e, "recovery sweep failed; retrying later");
            }
            tokio::select! {
                () = tokio::time::sleep(app.state.settings.sweep_interval) => {}
                _ = stop.changed() => return,
            }
        }
    });
}

/// One sweep: recovers what it finds, purges expired tombstones.
pub(crate) async fn sweep<B: Broker>(app: &Arc<App<B>>) -> Result<usize, StateError> {
    let state = &app.state;
    let other_than = (!state.store.shared()).then_some(state.owner.as_str());
    // Interrupted work may be on a plan an earlier catalog had.
    app.catalog.remember(state.store.as_ref()).await?;
    let mut recovered = 0;
    loop {
        let keys = state.store.expired_leases(now_ms(), other_than, 64).await?;
        if keys.is_empty() {
            break;
        }
        let mut progressed = false;
        for key in keys {
            match recover(app, key).await {
                Ok(true) => {
                    recovered += 1;
                    progressed = true;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not recover an interrupted operation"),
            }
        }
        if !progressed {
            break;
        }
    }
    state.store.purge_tombstones(now_ms()).await?;
    Ok(recovered)
}

/// What was interrupted, and the record rewritten as this process's operation in progress.
fn take_over<R: Resource>(mut record: R) -> Option<(R, Interrupted)> {
    if let Some(intent) = record.intent_mut().take() {
        // A synchronous call (or the synchronous part of one that would have gone
        // asynchronous): it becomes an operation of its own, so that its outcome is
        // reported by last_operation.
        let mut op = OperationRecord::new(new_operation_id(), intent.kind, intent.request.clone());
        op.previous_state = intent.previous_state;
        op.lease = Some(intent.lease);
        let interrupted = Interrupted {
            kind: intent.kind,
            synchronous: true,
            operation: None,
            request: intent.request,
        };
        *record.operation_mut() = Some(op);
        return Some((record, interrupted));
    }
    let op = record
        .operation()
        .filter(|o| o.state == OperationState::InProgress)?;
    let interrupted = Interrupted {
        kind: op.kind,
        synchronous: false,
        operation: Some(op.id.clone()),
        request: op.request.clone(),
    };
    Some((record, interrupted))
}

async fn recover<B: Broker>(app: &Arc<App<B>>, key: LeaseKey) -> Result<bool, StateError> {
    match key {
        LeaseKey::Instance(id) => {
            let key = Key::instance(&id);
            let Some(found) = InstanceRecord::read(&*app.state.store, &key).await? else {
                return Ok(false);
            };
            let instance = found.record.clone();
            recover_record(app, found, Some(instance)).await
        }
        LeaseKey::Binding(id, bid) => {
            let key = Key::binding(&id, &bid);
            let Some(found) = BindingRecord::read(&*app.state.store, &key).await? else {
                return Ok(false);
            };
            let instance = app.state.instance(&id).await?.map(|v| v.record);
            recover_record(app, found, instance).await
        }
    }
}

async fn recover_record<B: Broker, R: Resource + Recoverable>(
    app: &Arc<App<B>>,
    found: Versioned<R>,
    instance: Option<InstanceRecord>,
) -> Result<bool, StateError> {
    let Some((record, interrupted_op)) = take_over(found.record) else {
        return Ok(false);
    };
    let Some(claimed) = app
        .state
        .claim(Versioned {
            version: found.version,
            record,
        })
        .await?
    else {
        return Ok(false);
    };
    let kind = interrupted_op.kind;
    tracing::warn!(
        operation = %kind,
        instance_id = %claimed.record.instance_id(),
        binding_id = %claimed.record.binding_id(),
        synchronous = interrupted_op.synchronous,
        "recovering an operation interrupted by a restart"
    );
    let mut ctx = RequestContext::for_tests(claimed.record.instance_id().clone())
        .with_binding_id(claimed.record.binding_id());
    ctx.accepts_incomplete = true;
    if let Some(instance) = instance {
        let plan = if kind == OperationKind::Provision {
            interrupted_op
                .request_as::<ProvisionRequest>()
                .ok()
                .and_then(|r| app.catalog.plan(r.service_id.as_str(), r.plan_id.as_str()))
        } else {
            None
        };
        if let Some((o, p)) = plan.or_else(|| app.catalog.record_plan(&instance)) {
            ctx.offering = Some(o);
            ctx.plan = Some(p);
        }
        ctx.instance = Some(instance);
    }
    let scope = crate::metrics::CallScope::new("resume", app.config.metrics.clone());
    scope
        .run(async move {
            let resumed = call(app, move |app| async move {
                app.broker.resume(&ctx, interrupted_op).await
            })
            .await;
            R::resolve(app, claimed, kind, resumed).await
        })
        .await?;
    Ok(true)
}

/// How a resumed outcome settles each kind of record.
trait Recoverable: Resource + Sized {
    fn resolve<B: Broker>(
        app: &Arc<App<B>>,
        claimed: Versioned<Self>,
        kind: OperationKind,
        resumed: Result<crate::reply::Resumed, BrokerError>,
    ) -> impl std::future::Future<Output = Result<(), StateError>> + Send;
}

fn instance_settler(
    kind: OperationKind,
) -> fn(InstanceRecord, Result<(), BrokerError>, Mode) -> crate::state::Fate<InstanceRecord> {
    match kind {
        OperationKind::Update => settle::update,
        OperationKind::Deprovision => settle::deprovision,
        _ => settle::provision,
    }
}

impl Recoverable for InstanceRecord {
    async fn resolve<B: Broker>(
        app: &Arc<App<B>>,
        claimed: Versioned<Self>,
        kind: OperationKind,
        resumed: Result<crate::reply::Resumed, BrokerError>,
    ) -> Result<(), StateError> {
        let settler = instance_settler(kind);
        let result = match resumed.map(|r| r.outcome) {
            Ok(ResumeOutcome::Later(background)) => {
                app.state
                    .adopt(claimed, background, move |r, res| settler(r, res, Mode::Async));
                return Ok(());
            }
            Ok(ResumeOutcome::Done) => Ok(()),
            Ok(ResumeOutcome::NotSupported) => Err(interrupted().instance_usable(true)),
            Ok(ResumeOutcome::Bound(_) | ResumeOutcome::LaterBound(_)) => Err(BrokerError::internal(
                "resume answered a binding for an instance operation",
            )),
            Err(e) => Err(e),
        };
        let fate = settler(claimed.record.clone(), result, Mode::Async);
        app.state.settle_found(claimed, fate).await?;
        Ok(())
    }
}

impl Recoverable for BindingRecord {
    async fn resolve<B: Broker>(
        app: &Arc<App<B>>,
        claimed: Versioned<Self>,
        kind: OperationKind,
        resumed: Result<crate::reply::Resumed, BrokerError>,
    ) -> Result<(), StateError> {
        let outcome = resumed.map(|r| r.outcome);
        if kind == OperationKind::Unbind {
            let result = match outcome {
                Ok(ResumeOutcome::Later(background)) => {
                    app.state
                        .adopt(claimed, background, |r, res| settle::unbind(r, res, Mode::Async));
                    return Ok(());
                }
                Ok(ResumeOutcome::Done) => Ok(()),
                Ok(ResumeOutcome::NotSupported) => Err(interrupted()),
                Ok(_) => Err(BrokerError::internal("resume answered a binding for an unbind")),
                Err(e) => Err(e),
            };
            let fate = settle::unbind(claimed.record.clone(), result, Mode::Async);
            app.state.settle_found(claimed, fate).await?;
            return Ok(());
        }
        let result = match outcome {
            Ok(ResumeOutcome::LaterBound(background)) => {
                app.state
                    .adopt(claimed, background, |r, res| settle::bind(r, res, Mode::Async));
                return Ok(());
            }
            Ok(ResumeOutcome::Bound(response)) => Ok(*response),
            Ok(ResumeOutcome::NotSupported) => Err(interrupted()),
            Ok(_) => Err(BrokerError::internal(
                "resume of a bind must answer Resumed::bound or Resumed::later_bound",
            )),
            Err(e) => Err(e),
        };
        let fate = settle::bind(claimed.record.clone(), result, Mode::Async);
        app.state.settle_found(claimed, fate).await?;
        Ok(())
    }
}
