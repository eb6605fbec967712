//! `osb rotate`: replace a binding by a successor with new credentials (2.17).

use std::time::Instant;

use osb_client::types::{FetchBindingResponse, Timestamp};
use osb_client::{BindOutcome, Rotated};
use serde_json::json;

use crate::Failure;
use crate::cli::Rotate;
use crate::commands::binding::binding_fields;
use crate::commands::{Ctx, instance_service_plan, secs};

/// `osb rotate`: prints the successor's credentials (or that the binding is not due).
pub(crate) async fn run(ctx: &Ctx, args: &Rotate) -> Result<(), Failure> {
    let catalog = ctx.client.catalog().await?;
    let (offering, plan) = instance_service_plan(ctx, &catalog, &args.instance, &args.sp).await?;
    // B52 and B60: a bindable, binding_rotatable plan, from 2.17
    ctx.client.check_bind(offering, plan)?;
    ctx.client.check_rotate(plan)?;
    let successor = args
        .to
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let current = ctx
        .client
        .instance(args.instance.as_str())
        .binding(args.binding.as_str());
    let start = Instant::now();
    let rotated = if args.if_due {
        // B61: the binding's own metadata says when it is due
        let fetched = current.get().await?;
        let now = Timestamp::now();
        let due = current
            .renew_if_due(
                fetched.metadata.as_ref(),
                now,
                successor.as_str(),
                offering.id.clone(),
                plan.id.clone(),
            )
            .await?;
        let Some(rotated) = due else {
            not_due(ctx, args, &fetched);
            return Ok(());
        };
        rotated
    } else {
        current
            .rotate_into(successor.as_str(), offering.id.clone(), plan.id.clone())
            .await?
    };
    let Rotated {
        successor: next,
        outcome,
        ..
    } = rotated;
    let (status, mut body): (_, Option<FetchBindingResponse>) = match &outcome {
        BindOutcome::Created(r) => ("created", Some(r.clone().into())),
        BindOutcome::AlreadyExists(r) => ("already exists", Some(r.clone().into())),
        _ => ("accepted", None),
    };
    let operation = outcome.operation().map(ToString::to_string);
    if args.wait && body.is_none() {
        let label = format!("rotating {}/{} into {successor}", args.instance, args.binding);
        let (pb, opts) = ctx.progress(&label, Some(plan));
        let r = next.wait_with(&outcome, &opts).await;
        pb.finish();
        r?;
        body = Some(next.get().await?);
    }
    let done = body.is_some();
    ctx.emit(
        || {
            let head = if done {
                format!(
                    "✔ {}/{} rotated into {successor} in {} ({status}); unbind {} once nothing uses it\n",
                    args.instance,
                    args.binding,
                    secs(start),
                    args.binding
                )
            } else {
                format!(
                    "… {}/{} is being rotated into {successor} asynchronously\n",
                    args.instance, args.binding
                )
            };
            head + &binding_fields(body.as_ref(), operation.clone())
        },
        || {
            json!({"instance_id": args.instance, "predecessor_binding_id": args.binding,
                "binding_id": successor, "status": status, "operation": operation,
                "binding": body, "service_id": offering.id, "plan_id": plan.id})
        },
    );
    Ok(())
}

fn not_due(ctx: &Ctx, args: &Rotate, fetched: &FetchBindingResponse) {
    let metadata = fetched.metadata.as_ref();
    let renew_before = metadata.and_then(|m| m.renew_before.map(|t| t.to_string()));
    let expires_at = metadata.and_then(|m| m.expires_at.map(|t| t.to_string()));
    ctx.emit(
        || {
            let when = renew_before.as_ref().map_or_else(
                || "the broker set no renew_before".to_owned(),
                |t| format!("renew before {t}"),
            );
            format!(
                "✔ {}/{} is not due for rotation ({when}); nothing sent\n",
                args.instance, args.binding
            )
        },
        || {
            json!({"instance_id": args.instance, "binding_id": args.binding, "status": "not due",
                "renew_before": renew_before, "expires_at": expires_at})
        },
    );
}
