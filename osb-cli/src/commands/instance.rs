//! `osb provision | update | deprovision | instance | last-operation`.

use std::time::Instant;

use osb_client::types::instance::PreviousValues;
use osb_client::types::operation::LastOperationParams;
use osb_client::types::{
    ApiVersion, Context, LastOperationResponse, ProvisionRequest, ServicePlan, UpdateRequest,
};
use osb_client::version::Capability;
use osb_client::{DeprovisionOutcome, LastOperation, ProvisionOutcome, UpdateOutcome, WaitOutcome};
use serde_json::json;

use crate::Failure;
use crate::cli::{DEFAULT_ORG_GUID, DEFAULT_SPACE_GUID, LastOp, Provision, Target, Update};
use crate::commands::{Ctx, instance_service_plan, parse_params, resolve, resolve_service, secs};
use crate::render::fields;

/// `osb provision`.
pub(crate) async fn provision(ctx: &mut Ctx, args: &Provision) -> Result<(), Failure> {
    let params = parse_params(args.params.as_deref())?;
    let context = crate::context::build(
        &args.context,
        args.org_guid.as_deref(),
        args.space_guid.as_deref(),
    )?;
    let catalog = ctx.catalog().await?;
    let (offering, plan) = resolve(&catalog, &args.sp.service, &args.sp.plan)?;
    ctx.check_context(context.as_ref(), "provision");
    // the deprecated top-level GUIDs: given, else the context's (as the client would take
    // them), else the defaults
    let (ctx_org, ctx_space) = match &context {
        Some(Context::CloudFoundry(cf)) => (cf.organization_guid.as_deref(), cf.space_guid.as_deref()),
        Some(Context::Kubernetes(k)) => (k.clusterid.as_deref(), k.namespace.as_deref()),
        _ => (None, None),
    };
    let (org, org_default) = guid_or_default(args.org_guid.as_deref().or(ctx_org), DEFAULT_ORG_GUID);
    let (space, space_default) =
        guid_or_default(args.space_guid.as_deref().or(ctx_space), DEFAULT_SPACE_GUID);
    let mut req = ProvisionRequest::new(offering.id.clone(), plan.id.clone()).with_org_space(org, space);
    req.parameters = params;
    req.context.clone_from(&context);
    let start = Instant::now();
    let instance = ctx.client.instance(args.instance.as_str());
    let outcome = instance.provision(&req).await?;
    let (status, operation) = match &outcome {
        ProvisionOutcome::Created(_) => ("created", None),
        ProvisionOutcome::AlreadyExists(_) => ("already exists", None),
        ProvisionOutcome::Accepted { operation, .. } => {
            ("accepted", operation.as_ref().map(ToString::to_string))
        }
        _ => ("unknown", None),
    };
    let dashboard = outcome.dashboard_url().map(str::to_owned);
    let mut state = None;
    if args.wait && matches!(outcome, ProvisionOutcome::Accepted { .. }) {
        let label = format!("provisioning {} ({}/{})", args.instance, offering.name, plan.name);
        let (pb, opts) = ctx.progress(&label, Some(plan));
        let r = instance.wait_with(&outcome, &opts).await;
        pb.finish();
        state = Some(final_state(r?));
    }
    let done = !matches!(outcome, ProvisionOutcome::Accepted { .. }) || state.is_some();
    ctx.emit(
        || {
            let head = if done {
                let how = if state.is_some() { "asynchronously" } else { status };
                format!("✔ {} provisioned in {} ({how})\n", args.instance, secs(start))
            } else {
                format!(
                    "… {} is being provisioned asynchronously; poll with `osb last-operation {}{}`\n",
                    args.instance,
                    args.instance,
                    operation
                        .as_ref()
                        .map(|o| format!(" --operation '{o}'"))
                        .unwrap_or_default()
                )
            };
            head + &fields(&[
                ("service", Some(format!("{} ({})", offering.name, offering.id))),
                ("plan", Some(format!("{} ({})", plan.name, plan.id))),
                ("operation", operation.clone()),
                ("dashboard_url", dashboard.clone()),
                (
                    "organization_guid",
                    Some(shown(org, org_default, "--org-guid or OSB_ORG_GUID")),
                ),
                (
                    "space_guid",
                    Some(shown(space, space_default, "--space-guid or OSB_SPACE_GUID")),
                ),
                (
                    "context",
                    context.as_ref().and_then(|c| serde_json::to_string(c).ok()),
                ),
            ])
        },
        || {
            json!({
                "instance_id": args.instance, "status": status, "operation": operation,
                "dashboard_url": dashboard, "state": state,
                "service_id": offering.id, "plan_id": plan.id,
                "organization_guid": org, "space_guid": space, "context": context,
            })
        },
    );
    Ok(())
}

/// The given GUID, or `default` (and `true`: the default was used). Empty counts as not given.
fn guid_or_default<'a>(given: Option<&'a str>, default: &'a str) -> (&'a str, bool) {
    match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) => (g, false),
        None => (default, true),
    }
}

/// A GUID for the human output, saying when it is the default and how to choose another.
fn shown(guid: &str, default: bool, how: &str) -> String {
    if default {
        format!("{guid} (default; set {how})")
    } else {
        guid.to_owned()
    }
}

fn final_state(w: WaitOutcome) -> String {
    match w {
        WaitOutcome::Succeeded(_) | WaitOutcome::Completed => "succeeded".to_owned(),
        WaitOutcome::Gone => "gone".to_owned(),
        _ => "done".to_owned(),
    }
}

/// `osb update`.
pub(crate) async fn update(ctx: &mut Ctx, args: &Update) -> Result<(), Failure> {
    let params = parse_params(args.params.as_deref())?;
    let context = crate::context::build(&args.context, None, None)?;
    let catalog = ctx.catalog().await?;
    let offering = resolve_service(&catalog, &args.service)?;
    let mut req = UpdateRequest::new(offering.id.clone());
    req.parameters = params;
    req.context = context;
    let context_only =
        req.context.is_some() && req.plan_id.is_none() && req.parameters.is_none() && args.plan.is_none();
    if context_only && !offering.allows_context_updates() {
        // B47: only offerings that declare it take updates that change nothing but the context
        return Err(Failure::usage(format!(
            "offering {:?} does not declare allow_context_updates: an update that changes only the \
             context cannot be sent (add --params or --plan)",
            offering.name
        )));
    }
    ctx.check_context(req.context.as_ref(), "update");
    if let Some(p) = &args.plan {
        let (_, plan) = resolve(&catalog, offering.id.as_str(), p)?;
        req.plan_id = Some(plan.id.clone());
    }
    let mut current = match &args.current_plan {
        Some(p) => Some(resolve(&catalog, offering.id.as_str(), p)?.1),
        None => None,
    };
    if current.is_none()
        && req.plan_id.is_some()
        && offering.is_instances_retrievable()
        && Capability::FetchInstance.supported_by(ctx.client.api_version())
    {
        // B44 needs the current plan; the broker can tell (B40: only when retrievable)
        let fetched = ctx.client.instance(args.instance.as_str()).get_opt().await?;
        current = fetched
            .and_then(|r| r.plan_id)
            .and_then(|id| offering.plan(id.as_str()));
    }
    match current {
        Some(plan) => {
            ctx.client.check_update(offering, plan, &req)?;
            req.previous_values = Some(PreviousValues {
                plan_id: Some(plan.id.clone()),
                ..PreviousValues::default()
            });
        }
        None if req.plan_id.is_some() => {
            // the current plan is unknown: only decidable when all plans agree
            let updateable = |p: &ServicePlan| {
                if ctx.client.api_version() >= ApiVersion::V2_15 {
                    offering.plan_is_updateable(p)
                } else {
                    offering.plan_updateable.unwrap_or(false)
                }
            };
            if offering.plans.iter().all(|p| !updateable(p)) {
                return Err(Failure::usage(format!(
                    "no plan of {:?} is plan_updateable: the plan of an instance cannot be changed",
                    offering.name
                )));
            }
            if !offering.plans.iter().all(updateable) {
                return Err(Failure::usage(format!(
                    "only some plans of {:?} are plan_updateable: pass --current-plan so that the plan \
                     change can be checked",
                    offering.name
                )));
            }
        }
        None => {}
    }
    let plan_for_wait = current;
    let start = Instant::now();
    let instance = ctx.client.instance(args.instance.as_str());
    let outcome = instance.update(&req).await?;
    let (status, operation, dashboard) = match &outcome {
        UpdateOutcome::Updated(r) => ("updated", None, r.dashboard_url.clone()),
        UpdateOutcome::Accepted {
            operation,
            dashboard_url,
            ..
        } => (
            "accepted",
            operation.as_ref().map(ToString::to_string),
            dashboard_url.clone(),
        ),
        _ => ("unknown", None, None),
    };
    let mut state = None;
    if args.wait && matches!(outcome, UpdateOutcome::Accepted { .. }) {
        let (pb, opts) = ctx.progress(&format!("updating {}", args.instance), plan_for_wait);
        let r = instance.wait_with(&outcome, &opts).await;
        pb.finish();
        state = Some(final_state(r?));
    }
    let done = !matches!(outcome, UpdateOutcome::Accepted { .. }) || state.is_some();
    ctx.emit(
        || {
            let verb = if done { "✔ updated" } else { "… update accepted for" };
            format!("{verb} {} in {} ({status})\n", args.instance, secs(start))
                + &fields(&[("operation", operation.clone()), ("dashboard_url", dashboard.clone())])
        },
        || json!({"instance_id": args.instance, "status": status, "operation": operation, "dashboard_url": dashboard, "state": state}),
    );
    Ok(())
}

/// `osb deprovision`.
pub(crate) async fn deprovision(ctx: &mut Ctx, args: &Target) -> Result<(), Failure> {
    let catalog = ctx.catalog().await?;
    let (offering, plan) = instance_service_plan(ctx, &catalog, &args.instance, &args.sp).await?;
    let start = Instant::now();
    let instance = ctx.client.instance(args.instance.as_str());
    let outcome = instance.deprovision(offering.id.clone(), plan.id.clone()).await?;
    let (status, operation) = match &outcome {
        DeprovisionOutcome::Deleted(_) => ("deleted", None),
        DeprovisionOutcome::AlreadyGone => ("gone", None),
        DeprovisionOutcome::Accepted { operation, .. } => {
            ("accepted", operation.as_ref().map(ToString::to_string))
        }
        _ => ("unknown", None),
    };
    let mut state = None;
    if args.wait && matches!(outcome, DeprovisionOutcome::Accepted { .. }) {
        let (pb, opts) = ctx.progress(&format!("deprovisioning {}", args.instance), Some(plan));
        let r = instance.wait_with(&outcome, &opts).await;
        pb.finish();
        state = Some(final_state(r?));
    }
    let done = !matches!(outcome, DeprovisionOutcome::Accepted { .. }) || state.is_some();
    ctx.emit(
        || {
            let verb = if done {
                "✔ deprovisioned"
            } else {
                "… deprovision accepted for"
            };
            format!("{verb} {} in {} ({status})\n", args.instance, secs(start))
                + &fields(&[("operation", operation.clone())])
        },
        || {
            json!({"instance_id": args.instance, "status": status, "operation": operation, "state": state,
                "service_id": offering.id, "plan_id": plan.id})
        },
    );
    Ok(())
}

/// `osb instance`.
pub(crate) async fn get(ctx: &Ctx, instance: &str) -> Result<(), Failure> {
    let r = ctx.client.instance(instance).get().await?;
    ctx.emit(
        || {
            fields(&[
                ("instance", Some(instance.to_owned())),
                ("service_id", r.service_id.as_ref().map(ToString::to_string)),
                ("plan_id", r.plan_id.as_ref().map(ToString::to_string)),
                ("dashboard_url", r.dashboard_url.clone()),
                (
                    "parameters",
                    r.parameters
                        .as_ref()
                        .map(|p| serde_json::Value::Object(p.clone()).to_string()),
                ),
                (
                    "maintenance",
                    r.maintenance_info.as_ref().and_then(|m| m.version.clone()),
                ),
            ])
        },
        || serde_json::to_value(&r).unwrap_or_default(),
    );
    Ok(())
}

/// `osb last-operation`.
pub(crate) async fn last_operation(ctx: &Ctx, args: &LastOp) -> Result<(), Failure> {
    let params = LastOperationParams {
        service_id: args.service_id.clone().map(Into::into),
        plan_id: args.plan_id.clone().map(Into::into),
        operation: args.operation.clone().map(Into::into),
    };
    let instance = ctx.client.instance(args.instance.as_str());
    let r = match &args.binding {
        Some(b) => instance.binding(b.as_str()).last_operation(&params).await?,
        None => instance.last_operation(&params).await?,
    };
    print_last_operation(ctx, &r);
    Ok(())
}

fn print_last_operation(ctx: &Ctx, r: &LastOperation) {
    let (resp, retry): (Option<&LastOperationResponse>, _) = match r {
        LastOperation::Reported {
            response,
            retry_after,
        } => (Some(response), *retry_after),
        LastOperation::Gone { retry_after } => (None, *retry_after),
        _ => (None, None),
    };
    ctx.emit(
        || match resp {
            Some(resp) => fields(&[
                ("state", Some(resp.state.to_string())),
                ("description", resp.description.clone()),
                ("instance_usable", resp.instance_usable.map(|b| b.to_string())),
                ("update_repeatable", resp.update_repeatable.map(|b| b.to_string())),
                ("retry_after", retry.map(|d| format!("{}s", d.as_secs()))),
            ]),
            None => "gone (410)\n".to_owned(),
        },
        || match resp {
            Some(resp) => {
                let mut v = serde_json::to_value(resp).unwrap_or_default();
                v["retry_after_secs"] = json!(retry.map(|d| d.as_secs()));
                v
            }
            None => json!({"gone": true}),
        },
    );
}
