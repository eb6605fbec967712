//! One module per group of subcommands; shared helpers here.

pub(crate) mod binding;
pub(crate) mod catalog;
pub(crate) mod check;
pub(crate) mod instance;
pub(crate) mod rotate;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use osb_client::types::{Catalog, Parameters, ServiceOffering, ServicePlan};
use osb_client::{Client, WaitOptions};

use crate::Failure;
use crate::cli::MaybeServicePlan;
use osb_client::version::Capability;

/// What every command gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) json: bool,
}

impl Ctx {
    /// Prints a command's result: `json` with `--json`, else `human`.
    pub(crate) fn emit(&self, human: impl FnOnce() -> String, json: impl FnOnce() -> serde_json::Value) {
        if self.json {
            println!("{}", crate::render::json(&json()));
        } else {
            print!("{}", human());
        }
    }
}

/// Finds an offering and plan by id or (case-sensitive) name; ids win over names.
pub(crate) fn resolve<'c>(
    catalog: &'c Catalog,
    service: &str,
    plan: &str,
) -> Result<(&'c ServiceOffering, &'c ServicePlan), Failure> {
    let offering = resolve_service(catalog, service)?;
    let p = offering
        .plans
        .iter()
        .find(|p| p.id == plan)
        .or_else(|| offering.plans.iter().find(|p| p.name == plan))
        .ok_or_else(|| {
            let names: Vec<&str> = offering.plans.iter().map(|p| p.name.as_str()).collect();
            Failure::usage(format!(
                "no plan {plan:?} in service {:?}; plans: {}",
                offering.name,
                names.join(", ")
            ))
        })?;
    Ok((offering, p))
}

/// Finds an offering by id or name.
pub(crate) fn resolve_service<'c>(
    catalog: &'c Catalog,
    service: &str,
) -> Result<&'c ServiceOffering, Failure> {
    catalog
        .services
        .iter()
        .find(|s| s.id == service)
        .or_else(|| catalog.services.iter().find(|s| s.name == service))
        .ok_or_else(|| {
            let names: Vec<&str> = catalog.services.iter().map(|s| s.name.as_str()).collect();
            Failure::usage(format!(
                "no service {service:?} in the catalog; services: {}",
                names.join(", ")
            ))
        })
}

/// The offering and plan of an existing instance: from `--service`/`--plan` when both are
/// given; otherwise the missing ones come from `GET /v2/service_instances/:id`, which the
/// broker serves for offerings that are `instances_retrievable` (API 2.14 and later).
pub(crate) async fn instance_service_plan<'c>(
    ctx: &Ctx,
    catalog: &'c Catalog,
    instance: &str,
    sp: &MaybeServicePlan,
) -> Result<(&'c ServiceOffering, &'c ServicePlan), Failure> {
    if let (Some(service), Some(plan)) = (&sp.service, &sp.plan) {
        return resolve(catalog, service, plan);
    }
    let given = sp
        .service
        .as_deref()
        .map(|s| resolve_service(catalog, s))
        .transpose()?;
    let candidates: Vec<&ServiceOffering> = match given {
        Some(o) => vec![o],
        None => catalog.services.iter().collect(),
    };
    let missing = if sp.service.is_none() {
        "--service and --plan"
    } else {
        "--plan"
    };
    if !candidates.iter().any(|o| o.is_instances_retrievable()) {
        let why = match given {
            Some(o) => format!("offering {:?} is not instances_retrievable", o.name),
            None => "no offering in the catalog is instances_retrievable".to_owned(),
        };
        return Err(Failure::usage(format!(
            "pass {missing}: {why}, so the instance's plan cannot be looked up"
        )));
    }
    if !Capability::FetchInstance.supported_by(ctx.client.api_version()) {
        return Err(Failure::usage(format!(
            "pass {missing}: looking up an instance needs API version 2.14 or later"
        )));
    }
    let fetched = ctx.client.instance(instance).get().await?;
    let Some(plan_id) = fetched.plan_id else {
        return Err(Failure::usage(format!(
            "pass {missing}: the broker did not say which plan instance {instance} is on"
        )));
    };
    let found = match (&fetched.service_id, given) {
        (_, Some(o)) => o.plan(plan_id.as_str()).map(|p| (o, p)),
        (Some(s), None) => catalog.plan(s.as_str(), plan_id.as_str()),
        (None, None) => catalog.find_plan(plan_id.as_str()),
    };
    let Some((offering, fetched_plan)) = found else {
        return Err(Failure::usage(format!(
            "instance {instance} is on plan {plan_id}, which the catalog does not have; pass {missing}"
        )));
    };
    match &sp.plan {
        Some(p) => resolve(catalog, offering.id.as_str(), p),
        None => Ok((offering, fetched_plan)),
    }
}

/// Parses `--params` as a JSON object.
pub(crate) fn parse_params(raw: Option<&str>) -> Result<Option<Parameters>, Failure> {
    raw.map(|s| match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(Failure::usage("--params must be a JSON object".to_owned())),
        Err(e) => Err(Failure::usage(format!("--params is not valid JSON: {e}"))),
    })
    .transpose()
}

/// A spinner on stderr (hidden when stderr is not a terminal) and wait options that feed it.
pub(crate) fn spinner(label: &str, plan: Option<&ServicePlan>) -> (ProgressBar, WaitOptions) {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(format!("{label} …"));
    pb.enable_steady_tick(Duration::from_millis(100));
    let pb2 = pb.clone();
    let label = label.to_owned();
    let mut opts = WaitOptions::default()
        .interval(Duration::from_secs(1))
        .on_progress(move |p| {
            let d = p
                .description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            pb2.set_message(format!("{label} … {}{d}", p.state));
        });
    if let Some(plan) = plan {
        opts = opts.plan(plan);
    }
    (pb, opts)
}

/// Seconds with one decimal.
pub(crate) fn secs(since: Instant) -> String {
    format!("{:.1}s", since.elapsed().as_secs_f64())
}
