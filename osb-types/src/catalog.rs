//! The catalog (`GET /v2/catalog`): offerings, plans, schemas, maintenance info, and
//! [`Catalog::validate`] for the specification's MUSTs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Extra, PlanId, ServiceId};

/// The body of `GET /v2/catalog`.
///
/// ```
/// use osb_types::catalog::{Catalog, ServiceOffering, ServicePlan};
/// let catalog = Catalog::new(vec![
///     ServiceOffering::new("svc-1", "echo", "Echoes", vec![ServicePlan::new("plan-1", "small", "Small")])
///         .bindable(true),
/// ]);
/// assert!(catalog.validate().is_ok());
/// assert_eq!(catalog.plan("svc-1", "plan-1").unwrap().1.name, "small");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// The Service Offerings. MAY be empty.
    pub services: Vec<ServiceOffering>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Service Offering (`services[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceOffering {
    /// Name, unique across the catalog, non-empty.
    pub name: String,
    /// Globally unique id, non-empty.
    pub id: ServiceId,
    /// Short description, non-empty.
    pub description: String,
    /// Classification tags (e.g. `mysql`, `relational`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Permissions the service needs: `syslog_drain`, `route_forwarding`, `volume_mount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Vec<String>>,
    /// Whether instances can be bound; the default for all plans.
    pub bindable: bool,
    /// Whether `GET /v2/service_instances/:id` is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances_retrievable: Option<bool>,
    /// Whether `GET .../service_bindings/:id` is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindings_retrievable: Option<bool>,
    /// Whether context-only updates are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_context_updates: Option<bool>,
    /// Display metadata (profile "Service Metadata").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<OfferingMetadata>,
    /// Cloud Foundry dashboard SSO client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_client: Option<DashboardClient>,
    /// Default plan updateability (misspelled on purpose by the spec); default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_updateable: Option<bool>,
    /// The plans; at least one.
    pub plans: Vec<ServicePlan>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Service Plan (`services[].plans[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServicePlan {
    /// Globally unique id, non-empty.
    pub id: PlanId,
    /// Name, unique within the offering, non-empty.
    pub name: String,
    /// Short description, non-empty.
    pub description: String,
    /// Display metadata (profile "Plan Metadata Fields").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PlanMetadata>,
    /// `false` when instances have a cost; default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<bool>,
    /// Overrides the offering's `bindable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindable: Option<bool>,
    /// Whether bindings support rotation; default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_rotatable: Option<bool>,
    /// Overrides the offering's `plan_updateable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_updateable: Option<bool>,
    /// Parameter schemas for instances and bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schemas: Option<Schemas>,
    /// Seconds the Platform should poll at most; positive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_polling_duration: Option<i64>,
    /// Maintenance information; its `version` is SemVer 2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameter schemas of a plan.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schemas {
    /// Schemas for creating and updating instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_instance: Option<ServiceInstanceSchema>,
    /// Schema for creating bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_binding: Option<ServiceBindingSchema>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `schemas.service_instance`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceInstanceSchema {
    /// Schema of provision parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<InputParametersSchema>,
    /// Schema of update parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<InputParametersSchema>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `schemas.service_binding`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceBindingSchema {
    /// Schema of bind parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<InputParametersSchema>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An Input Parameters Schema object: `{ "parameters": <JSON schema> }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InputParametersSchema {
    /// The JSON schema (with `$schema`, no external `$ref`, at most 64 kB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InputParametersSchema {
    /// Wraps a JSON schema.
    #[must_use]
    pub fn new(parameters: Value) -> Self {
        Self {
            parameters: Some(parameters),
            extra: Extra::new(),
        }
    }
}

/// Maintenance information of a plan or instance.
///
/// `version` is REQUIRED in the catalog; it is optional here because platforms send
/// `maintenance_info: {}` in requests and receivers must be lenient.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaintenanceInfo {
    /// SemVer 2.0 version string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What the maintenance update changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl MaintenanceInfo {
    /// Maintenance info with a version.
    pub fn new(version: impl Into<String>) -> Self {
        Self {
            version: Some(version.into()),
            ..Self::default()
        }
    }
}

/// Cloud Foundry dashboard SSO client (profile "Dashboard Client Object").
///
/// `Debug` never prints the secret:
/// ```
/// let c = osb_types::catalog::DashboardClient { id: "c".into(), secret: "s3cr3t".into(), ..Default::default() };
/// assert!(!format!("{c:?}").contains("s3cr3t"));
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DashboardClient {
    /// OAuth client id.
    pub id: String,
    /// OAuth client secret.
    pub secret: String,
    /// Redirect URI for the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for DashboardClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DashboardClient")
            .field("id", &self.id)
            .field("secret", &crate::REDACTED)
            .field("redirect_uri", &self.redirect_uri)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Offering display metadata (profile "Service Metadata Fields").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OfferingMetadata {
    /// `displayName`.
    #[serde(rename = "displayName", default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `imageUrl`.
    #[serde(rename = "imageUrl", default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// `longDescription`.
    #[serde(rename = "longDescription", default, skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    /// `providerDisplayName`.
    #[serde(
        rename = "providerDisplayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provider_display_name: Option<String>,
    /// `documentationUrl`.
    #[serde(rename = "documentationUrl", default, skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    /// `supportUrl`.
    #[serde(rename = "supportUrl", default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    /// Cloud Foundry: instances may be shared across orgs and spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shareable: Option<bool>,
    /// Fields not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Plan display metadata (profile "Plan Metadata Fields").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanMetadata {
    /// Features of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bullets: Option<Vec<String>>,
    /// What the plan costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub costs: Option<Vec<Cost>>,
    /// `displayName`.
    #[serde(rename = "displayName", default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Fields not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One cost of a plan (profile "Cost Object").
///
/// Amounts are kept as JSON numbers so `649.0` stays `649.0` and `10` stays `10`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cost {
    /// Currency code → amount.
    pub amount: BTreeMap<String, serde_json::Number>,
    /// Unit, e.g. `MONTHLY`.
    pub unit: String,
    /// Fields not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Catalog {
    /// A catalog of these offerings.
    #[must_use]
    pub fn new(services: Vec<ServiceOffering>) -> Self {
        Self {
            services,
            extra: Extra::new(),
        }
    }

    /// The offering with this id.
    #[must_use]
    pub fn offering(&self, service_id: &str) -> Option<&ServiceOffering> {
        self.services.iter().find(|s| s.id == service_id)
    }

    /// The offering and plan with these ids, if the plan belongs to that offering.
    #[must_use]
    pub fn plan(&self, service_id: &str, plan_id: &str) -> Option<(&ServiceOffering, &ServicePlan)> {
        let offering = self.offering(service_id)?;
        offering.plan(plan_id).map(|p| (offering, p))
    }

    /// The offering with this `name` (names are unique in a valid catalog; the first wins).
    ///
    /// ```
    /// use osb_types::catalog::{Catalog, ServiceOffering, ServicePlan};
    /// let catalog = Catalog::new(vec![ServiceOffering::new("svc-1", "kv", "Key-value store", vec![
    ///     ServicePlan::new("plan-1", "free", "Shared"),
    ///     ServicePlan::new("plan-2", "dedicated", "Own server"),
    /// ])]);
    /// assert_eq!(catalog.offering_by_name("kv").unwrap().id, "svc-1");
    /// let (kv, dedicated) = catalog.plan_by_name("kv", "dedicated").unwrap();
    /// assert_eq!((kv.id.as_str(), dedicated.id.as_str()), ("svc-1", "plan-2"));
    /// assert!(catalog.plan_by_name("kv", "plan-2").is_none(), "names only, not ids");
    /// assert!(catalog.offering_by_name("KV").is_none(), "names are case-sensitive");
    /// ```
    #[must_use]
    pub fn offering_by_name(&self, name: &str) -> Option<&ServiceOffering> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The offering named `offering` and its plan named `plan`.
    #[must_use]
    pub fn plan_by_name(&self, offering: &str, plan: &str) -> Option<(&ServiceOffering, &ServicePlan)> {
        let o = self.offering_by_name(offering)?;
        o.plan_by_name(plan).map(|p| (o, p))
    }

    /// The plan with this id in any offering, with its offering.
    #[must_use]
    pub fn find_plan(&self, plan_id: &str) -> Option<(&ServiceOffering, &ServicePlan)> {
        self.services.iter().find_map(|s| s.plan(plan_id).map(|p| (s, p)))
    }

    /// Checks every MUST of spec "Catalog Management" and the offering/plan objects, and
    /// returns all problems at once.
    ///
    /// The rules: non-empty `id`, `name` and `description` on every offering and plan;
    /// globally unique ids (offering and plan ids share one namespace, so an offering may not
    /// reuse a plan's id: stricter than the letter of the spec, and what Cloud Foundry
    /// enforces); unique offering names and plan names unique within their offering; at least
    /// one plan per offering; `maintenance_info.version` present and SemVer 2.0;
    /// `maximum_polling_duration` positive; non-empty `dashboard_client.id` and `secret`; each
    /// schema's `parameters` a JSON object with a non-empty string `$schema`, at most 64 kB,
    /// and no external `$ref`.
    ///
    /// # Errors
    /// [`CatalogErrors`] lists each problem with the offering, plan and field it concerns.
    ///
    /// ```
    /// use osb_types::catalog::{Catalog, ServiceOffering};
    /// let bad = Catalog::new(vec![ServiceOffering::new("", "echo", "Echoes", vec![])]);
    /// let errors = bad.validate().unwrap_err();
    /// assert_eq!(errors.problems().len(), 2);
    /// assert!(errors.to_string().contains("`id` must be a non-empty string"));
    /// ```
    pub fn validate(&self) -> Result<(), CatalogErrors> {
        crate::validate::catalog(self)
    }
}

impl ServiceOffering {
    /// An offering with the required fields; `bindable` is `false` until set.
    pub fn new(
        id: impl Into<ServiceId>,
        name: impl Into<String>,
        description: impl Into<String>,
        plans: Vec<ServicePlan>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            plans,
            ..Self::default()
        }
    }

    /// Sets `bindable`.
    #[must_use]
    pub fn bindable(mut self, bindable: bool) -> Self {
        self.bindable = bindable;
        self
    }

    /// The plan with this id.
    #[must_use]
    pub fn plan(&self, plan_id: &str) -> Option<&ServicePlan> {
        self.plans.iter().find(|p| p.id == plan_id)
    }

    /// The plan with this `name` (plan names are unique within an offering).
    #[must_use]
    pub fn plan_by_name(&self, name: &str) -> Option<&ServicePlan> {
        self.plans.iter().find(|p| p.name == name)
    }

    /// Effective `bindable` of a plan: the plan's own value, else the offering's.
    #[must_use]
    pub fn plan_is_bindable(&self, plan: &ServicePlan) -> bool {
        plan.bindable.unwrap_or(self.bindable)
    }

    /// Effective `plan_updateable` of a plan: the plan's own value, else the offering's, else `false`.
    #[must_use]
    pub fn plan_is_updateable(&self, plan: &ServicePlan) -> bool {
        plan.plan_updateable.or(self.plan_updateable).unwrap_or(false)
    }

    /// `instances_retrievable`, default `false`.
    #[must_use]
    pub fn is_instances_retrievable(&self) -> bool {
        self.instances_retrievable.unwrap_or(false)
    }

    /// `bindings_retrievable`, default `false`.
    #[must_use]
    pub fn is_bindings_retrievable(&self) -> bool {
        self.bindings_retrievable.unwrap_or(false)
    }

    /// `allow_context_updates`, default `false`.
    #[must_use]
    pub fn allows_context_updates(&self) -> bool {
        self.allow_context_updates.unwrap_or(false)
    }
}

impl ServicePlan {
    /// A plan with the required fields.
    pub fn new(id: impl Into<PlanId>, name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            ..Self::default()
        }
    }

    /// `free`, default `true`.
    #[must_use]
    pub fn is_free(&self) -> bool {
        self.free.unwrap_or(true)
    }

    /// `binding_rotatable`, default `false`.
    #[must_use]
    pub fn is_binding_rotatable(&self) -> bool {
        self.binding_rotatable.unwrap_or(false)
    }

    /// The instance-create parameter schema, if any.
    #[must_use]
    pub fn instance_create_schema(&self) -> Option<&Value> {
        self.schemas
            .as_ref()?
            .service_instance
            .as_ref()?
            .create
            .as_ref()?
            .parameters
            .as_ref()
    }

    /// The instance-update parameter schema, if any.
    #[must_use]
    pub fn instance_update_schema(&self) -> Option<&Value> {
        self.schemas
            .as_ref()?
            .service_instance
            .as_ref()?
            .update
            .as_ref()?
            .parameters
            .as_ref()
    }

    /// The binding-create parameter schema, if any.
    #[must_use]
    pub fn binding_create_schema(&self) -> Option<&Value> {
        self.schemas
            .as_ref()?
            .service_binding
            .as_ref()?
            .create
            .as_ref()?
            .parameters
            .as_ref()
    }
}

/// One problem found by [`Catalog::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogProblem {
    /// Where: e.g. ``service `echo` (services[0]), plan `large` (plans[1])``.
    pub location: String,
    /// The field, as a path inside that object, e.g. `maintenance_info.version`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CatalogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: `{}` {}", self.location, self.field, self.message)
    }
}

/// Every problem [`Catalog::validate`] found, in catalog order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogErrors(pub(crate) Vec<CatalogProblem>);

impl CatalogErrors {
    /// The problems.
    #[must_use]
    pub fn problems(&self) -> &[CatalogProblem] {
        &self.0
    }
}

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid catalog ({} problem", self.0.len())?;
        if self.0.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("):")?;
        for p in &self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CatalogErrors {}

/// Lookup of the plans by id, for runtimes that check many requests against one catalog.
#[derive(Debug, Clone, Default)]
pub struct PlanIndex {
    by_plan: HashMap<String, (usize, usize)>,
}

impl PlanIndex {
    /// Indexes every plan of the catalog.
    #[must_use]
    pub fn new(catalog: &Catalog) -> Self {
        let mut by_plan = HashMap::new();
        for (si, s) in catalog.services.iter().enumerate() {
            for (pi, p) in s.plans.iter().enumerate() {
                by_plan.entry(p.id.as_str().to_owned()).or_insert((si, pi));
            }
        }
        Self { by_plan }
    }

    /// Where a plan id is: the index of its offering in `services` and of the plan in that
    /// offering's `plans` (the first, should ids repeat in an invalid catalog).
    #[must_use]
    pub fn position(&self, plan_id: &str) -> Option<(usize, usize)> {
        self.by_plan.get(plan_id).copied()
    }

    /// The offering and plan of a plan id.
    #[must_use]
    pub fn get<'c>(
        &self,
        catalog: &'c Catalog,
        plan_id: &str,
    ) -> Option<(&'c ServiceOffering, &'c ServicePlan)> {
        let (si, pi) = self.position(plan_id)?;
        let s = catalog.services.get(si)?;
        Some((s, s.plans.get(pi)?))
    }
}
