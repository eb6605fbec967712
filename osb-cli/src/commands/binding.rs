//! `osb bind | unbind | binding`.

use std::time::Instant;

use osb_client::types::{BindRequest, FetchBindingResponse, RotateBindingRequest};
use osb_client::{BindOutcome, UnbindOutcome, WaitOutcome};
use serde_json::json;

use crate::Failure;
use crate::cli::{Bind, BindingTarget};
use crate::commands::{Ctx, instance_service_plan, parse_params, secs};
use crate::render::fields;

/// `osb bind`: prints the credentials.
pub(crate) async fn bind(ctx: &mut Ctx, args: &Bind) -> Result<(), Failure> {
    let params = parse_params(args.params.as_deref())?;
    let context = crate::context::build(&args.context, None, None)?;
    if args.rotate.is_some() && context.is_some() {
        return Err(Failure::usage(
            "--context and the --cf-*/--k8s-* flags cannot be used with --rotate".to_owned(),
        ));
    }
    let catalog = ctx.catalog().await?;
    let (offering, plan) = instance_service_plan(ctx, &catalog, &args.instance, &args.sp).await?;
    ctx.check_context(context.as_ref(), "bind");
    // B52: never bind a plan that is not bindable
    ctx.client.check_bind(offering, plan)?;
    let start = Instant::now();
    let binding = ctx
        .client
        .instance(args.instance.as_str())
        .binding(args.binding.as_str());
    let outcome = match &args.rotate {
        Some(predecessor) => {
            // B60: only binding_rotatable plans, from 2.17
            ctx.client.check_rotate(plan)?;
            if params.is_some() {
                return Err(Failure::usage("--params cannot be used with --rotate".to_owned()));
            }
            let req = RotateBindingRequest::new(predecessor.as_str());
            binding
                .rotate_with_ids(&req, offering.id.clone(), plan.id.clone())
                .await?
        }
        None => {
            let mut req = BindRequest::new(offering.id.clone(), plan.id.clone());
            req.parameters = params;
            req.context = context;
            binding.bind(&req).await?
        }
    };
    let (status, body, operation): (_, Option<FetchBindingResponse>, _) = match &outcome {
        BindOutcome::Created(r) => ("created", Some(r.clone().into()), None),
        BindOutcome::AlreadyExists(r) => ("already exists", Some(r.clone().into()), None),
        BindOutcome::Accepted { operation, .. } => {
            ("accepted", None, operation.as_ref().map(ToString::to_string))
        }
        _ => ("unknown", None, None),
    };
    let mut body = body;
    if args.wait && body.is_none() {
        let label = format!("binding {}/{}", args.instance, args.binding);
        let (pb, opts) = ctx.progress(&label, Some(plan));
        let r = binding.wait_with(&outcome, &opts).await;
        pb.finish();
        r?;
        // B38: an asynchronous bind delivers its credentials through GET.
        body = Some(binding.get().await?);
    }
    let done = body.is_some();
    ctx.emit(
        || {
            let head = if done {
                format!(
                    "✔ {}/{} bound in {} ({status})\n",
                    args.instance,
                    args.binding,
                    secs(start)
                )
            } else {
                format!(
                    "… {}/{} is being bound asynchronously\n",
                    args.instance, args.binding
                )
            };
            head + &binding_fields(body.as_ref(), operation.clone())
        },
        || {
            json!({"instance_id": args.instance, "binding_id": args.binding, "status": status,
                "operation": operation, "binding": body, "service_id": offering.id, "plan_id": plan.id})
        },
    );
    Ok(())
}

pub(crate) fn binding_fields(b: Option<&FetchBindingResponse>, operation: Option<String>) -> String {
    let Some(b) = b else {
        return fields(&[("operation", operation)]);
    };
    fields(&[
        (
            "credentials",
            b.credentials
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default()),
        ),
        ("syslog_drain_url", b.syslog_drain_url.clone()),
        ("route_service_url", b.route_service_url.clone()),
        (
            "expires_at",
            b.metadata
                .as_ref()
                .and_then(|m| m.expires_at.map(|t| t.to_string())),
        ),
        (
            "renew_before",
            b.metadata
                .as_ref()
                .and_then(|m| m.renew_before.map(|t| t.to_string())),
        ),
        ("operation", operation),
    ])
}

/// `osb unbind`.
pub(crate) async fn unbind(ctx: &mut Ctx, args: &BindingTarget) -> Result<(), Failure> {
    let catalog = ctx.catalog().await?;
    let (offering, plan) = instance_service_plan(ctx, &catalog, &args.instance, &args.sp).await?;
    let start = Instant::now();
    let binding = ctx
        .client
        .instance(args.instance.as_str())
        .binding(args.binding.as_str());
    let outcome = binding.unbind(offering.id.clone(), plan.id.clone()).await?;
    let (status, operation) = match &outcome {
        UnbindOutcome::Unbound(_) => ("deleted", None),
        UnbindOutcome::AlreadyGone => ("gone", None),
        UnbindOutcome::Accepted { operation, .. } => {
            ("accepted", operation.as_ref().map(ToString::to_string))
        }
        _ => ("unknown", None),
    };
    let mut state = None;
    if args.wait && matches!(outcome, UnbindOutcome::Accepted { .. }) {
        let (pb, opts) = ctx.progress(
            &format!("unbinding {}/{}", args.instance, args.binding),
            Some(plan),
        );
        let r = binding.wait_with(&outcome, &opts).await;
        pb.finish();
        state = Some(match r? {
            WaitOutcome::Gone => "gone",
            _ => "succeeded",
        });
    }
    let done = !matches!(outcome, UnbindOutcome::Accepted { .. }) || state.is_some();
    ctx.emit(
        || {
            let verb = if done {
                "✔ unbound"
            } else {
                "… unbind accepted for"
            };
            format!(
                "{verb} {}/{} in {} ({status})\n",
                args.instance,
                args.binding,
                secs(start)
            ) + &fields(&[("operation", operation.clone())])
        },
        || {
            json!({"instance_id": args.instance, "binding_id": args.binding, "status": status,
                "operation": operation, "state": state, "service_id": offering.id, "plan_id": plan.id})
        },
    );
    Ok(())
}

/// `osb binding`.
pub(crate) async fn get(ctx: &Ctx, instance: &str, binding: &str) -> Result<(), Failure> {
    let r = ctx.client.instance(instance).binding(binding).get().await?;
    ctx.emit(
        || binding_fields(Some(&r), None),
        || serde_json::to_value(&r).unwrap_or_default(),
    );
    Ok(())
}
