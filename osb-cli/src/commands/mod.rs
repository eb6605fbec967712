//! One module per group of subcommands; shared helpers here.

pub(crate) mod binding;
pub(crate) mod catalog;
pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod instance;
pub(crate) mod rotate;

use std::time::Instant;

use osb_client::types::{ApiVersion, Catalog, Context, Parameters, ServiceOffering, ServicePlan};
use osb_client::{Client, WaitOptions};

use crate::Failure;
use crate::cli::MaybeServicePlan;
use crate::progress::Waiting;
use osb_client::version::Capability;

/// What every command gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) json: bool,
    /// Whether the API version is still to be negotiated (no `--api-version`).
    pub(crate) negotiate: bool,
}

impl Ctx {
    /// Prints a command's result: `json` with `--json`, else `human`.
    pub(crate) fn emit(&self, human: impl FnOnce() -> String, json: impl FnOnce() -> serde_json::Value) {
        if self.json {
            println!("{}", crate::render::json(&json()));
        } else {
            crate::style::print_result(&human());
        }
    }

    /// `GET /v2/catalog`; the first call negotiates the API version unless one was pinned
    /// (see [`Ctx::negotiate`]).
    pub(crate) async fn catalog(&mut self) -> Result<Catalog, Failure> {
        if !self.negotiate {
            return Ok(self.client.catalog().await?);
        }
        let (client, catalog) = self.client.negotiate().await?;
        self.negotiated(client);
        Ok(catalog)
    }

    /// Negotiates the API version now (unless pinned or done): for commands that do not
    /// fetch the catalog, after the broker refused a request with `412`.
    pub(crate) async fn negotiate(&mut self) -> Result<(), Failure> {
        if self.negotiate {
            let (client, _) = self.client.negotiate().await?;
            self.negotiated(client);
        }
        Ok(())
    }

    fn negotiated(&mut self, client: Client) {
        self.negotiate = false;
        let (ours, theirs) = (self.client.api_version(), client.api_version());
        if theirs != ours && !self.json {
            crate::style::note(&format!(
                "the broker does not speak API {ours}; using {theirs} (pin a version with --api-version or OSB_API_VERSION)"
            ));
        }
        self.client = client;
    }

    /// Shows the progress of a `--wait` on stderr (see [`crate::progress`]).
    pub(crate) fn progress(&self, label: &str, plan: Option<&ServicePlan>) -> (Waiting, WaitOptions) {
        crate::progress::start(label, plan, self.json)
    }

    /// A warning on stderr, unless `--json` asked for a quiet stderr.
    pub(crate) fn warn(&self, message: &str) {
        if !self.json {
            crate::style::warning(message);
        }
    }

    /// Warns when the `context` of `call` (`provision`, `update`, `bind`) lacks fields the
    /// profile requires at the API version in use.
    pub(crate) fn check_context(&self, context: Option<&Context>, call: &str) {
        if let Some(c) = context {
            let version: ApiVersion = self.client.api_version();
            let missing = crate::context::missing_required(c, call, version);
            if !missing.is_empty() {
                let article = if call.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                self.warn(&format!(
                    "the {} context of {article} {call} lacks {}, which the profile requires at API {version}",
                    c.platform().unwrap_or("?"),
                    missing.join(", ")
                ));
            }
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

/// Reads `--params` (`JSON`, `@FILE` or `@-`), which must be a JSON object.
pub(crate) fn parse_params(raw: Option<&str>) -> Result<Option<Parameters>, Failure> {
    raw.map(|s| crate::input::object("--params", s)).transpose()
}

/// Seconds with one decimal.
pub(crate) fn secs(since: Instant) -> String {
    format!("{:.1}s", since.elapsed().as_secs_f64())
}
