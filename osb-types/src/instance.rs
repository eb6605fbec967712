//! Service Instance bodies: provision, update, deprovision and fetch, with their query parameters.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::MaintenanceInfo;
use crate::context::Context;
use crate::query::{params_impl, required_ids_impl};
use crate::{Extra, OperationId, Parameters, PlanId, ServiceId};

/// Body of `PUT /v2/service_instances/:instance_id`.
///
/// ```
/// use osb_types::{context::Context, instance::ProvisionRequest};
/// let req = ProvisionRequest::new("svc", "plan").with_context(Context::kubernetes("default", "cluster-1"));
/// let json = serde_json::to_value(&req).unwrap();
/// assert_eq!(json["context"]["platform"], "kubernetes");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProvisionRequest {
    /// Id of a Service Offering of the catalog.
    pub service_id: ServiceId,
    /// Id of a plan of that offering.
    pub plan_id: PlanId,
    /// Platform context (profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Deprecated in favour of `context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_guid: Option<String>,
    /// Deprecated in favour of `context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_guid: Option<String>,
    /// Configuration parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// The maintenance info the Platform expects the plan to have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ProvisionRequest {
    /// A request for this offering and plan.
    pub fn new(service_id: impl Into<ServiceId>, plan_id: impl Into<PlanId>) -> Self {
        Self {
            service_id: service_id.into(),
            plan_id: plan_id.into(),
            ..Self::default()
        }
    }

    /// Sets `context`.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets `maintenance_info`.
    #[must_use]
    pub fn with_maintenance_info(mut self, maintenance_info: MaintenanceInfo) -> Self {
        self.maintenance_info = Some(maintenance_info);
        self
    }

    /// The fields the specification says MUST be non-empty when present
    /// (`organization_guid`, `space_guid`) that are present and empty: a broker answers such
    /// a request 400. Leaving them out is accepted.
    ///
    /// ```
    /// use osb_types::ProvisionRequest;
    /// let mut req = ProvisionRequest::new("svc", "plan");
    /// assert_eq!(req.empty_required_field(), None);
    /// req.organization_guid = Some(String::new());
    /// assert_eq!(req.empty_required_field(), Some("organization_guid"));
    /// ```
    #[must_use]
    pub fn empty_required_field(&self) -> Option<&'static str> {
        if self.organization_guid.as_deref() == Some("") {
            return Some("organization_guid");
        }
        if self.space_guid.as_deref() == Some("") {
            return Some("space_guid");
        }
        None
    }

    /// Sets the top-level `organization_guid` and `space_guid`. Deprecated in favour of
    /// `context` but still required by the specification in every version, and by many
    /// brokers: set them when the request has no Cloud Foundry or Kubernetes context to take
    /// them from.
    ///
    /// ```
    /// let req = osb_types::ProvisionRequest::new("svc", "plan").with_org_space("org-1", "space-1");
    /// let json = serde_json::to_value(&req).unwrap();
    /// assert_eq!((json["organization_guid"].as_str(), json["space_guid"].as_str()), (Some("org-1"), Some("space-1")));
    /// ```
    #[must_use]
    pub fn with_org_space(
        mut self,
        organization_guid: impl Into<String>,
        space_guid: impl Into<String>,
    ) -> Self {
        self.organization_guid = Some(organization_guid.into());
        self.space_guid = Some(space_guid.into());
        self
    }
}

/// Body of a 200/201/202 provision response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProvisionResponse {
    /// Dashboard URL; `null` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// Operation id of an asynchronous provision; `null` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationId>,
    /// Instance metadata (labels, attributes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<InstanceMetadata>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Service Instance metadata (spec "Service Instance Metadata").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceMetadata {
    /// Key-value labels meaningful to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Extra>,
    /// Broker-generated attributes that may change Platform behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Extra>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `PATCH /v2/service_instances/:instance_id`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateRequest {
    /// Platform context (profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Id of the instance's Service Offering.
    pub service_id: ServiceId,
    /// The new plan; absent means "do not change the plan".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    /// Parameters the user specified; absent means "do not change parameters".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// The instance before the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_values: Option<PreviousValues>,
    /// The maintenance info to update to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl UpdateRequest {
    /// An update of an instance of this offering that changes nothing yet.
    pub fn new(service_id: impl Into<ServiceId>) -> Self {
        Self {
            service_id: service_id.into(),
            ..Self::default()
        }
    }

    /// Sets the new `plan_id`.
    #[must_use]
    pub fn with_plan(mut self, plan_id: impl Into<PlanId>) -> Self {
        self.plan_id = Some(plan_id.into());
        self
    }

    /// Sets `context`.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets `previous_values`.
    #[must_use]
    pub fn with_previous_values(mut self, previous: PreviousValues) -> Self {
        self.previous_values = Some(previous);
        self
    }

    /// Sets `maintenance_info`.
    #[must_use]
    pub fn with_maintenance_info(mut self, maintenance_info: MaintenanceInfo) -> Self {
        self.maintenance_info = Some(maintenance_info);
        self
    }
}

/// `previous_values` of an update request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PreviousValues {
    /// Deprecated: the offering id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    /// The plan before the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    /// Deprecated: the organization id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Deprecated: the space id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    /// The maintenance info before the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of a 200/202 update response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateResponse {
    /// The new dashboard URL; absent or `null` means "keep the previous one".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// Operation id of an asynchronous update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationId>,
    /// Instance metadata (labels, attributes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<InstanceMetadata>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of a 200/202 deprovision response (`{}` or `{"operation": ...}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeprovisionResponse {
    /// Operation id of an asynchronous deprovision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationId>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `GET /v2/service_instances/:instance_id`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FetchInstanceResponse {
    /// The instance's offering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    /// The instance's plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    /// The dashboard URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// The instance's parameters (brokers may omit sensitive ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// The instance's maintenance info.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_info: Option<MaintenanceInfo>,
    /// Instance metadata (labels, attributes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<InstanceMetadata>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Why a value given as `parameters` cannot be sent: the specification requires a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParametersError {
    found: &'static str,
}

impl ParametersError {
    /// What the value was instead of an object: `"a number"`, `"an array"`, `"null"`, ...
    #[must_use]
    pub fn found(&self) -> &'static str {
        self.found
    }
}

impl fmt::Display for ParametersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.found == "unserializable" {
            f.write_str("parameters could not be serialized to JSON; they must be a JSON object")
        } else {
            write!(f, "parameters must be a JSON object, not {}", self.found)
        }
    }
}

impl std::error::Error for ParametersError {}

/// Serializes `value` as request `parameters`: anything that serializes to a JSON object (a
/// struct, a map, `serde_json::json!({..})`, a [`Parameters`] map).
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Size { gb: u32 }
/// let p = osb_types::instance::to_parameters(Size { gb: 3 }).unwrap();
/// assert_eq!(p["gb"], 3);
/// let e = osb_types::instance::to_parameters(vec![1, 2]).unwrap_err();
/// assert_eq!(e.to_string(), "parameters must be a JSON object, not an array");
/// ```
///
/// # Errors
/// [`ParametersError`] when the value is not an object or cannot be serialized.
pub fn to_parameters(value: impl Serialize) -> Result<Parameters, ParametersError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(other) => Err(ParametersError {
            found: json_kind(&other),
        }),
        Err(_) => Err(ParametersError {
            found: "unserializable",
        }),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The key under which a non-object `parameters` value is kept in `extra`.
pub(crate) const PARAMETERS: &str = "parameters";

/// `with_parameters` of the three request types: an object goes to `parameters`; anything
/// else is kept, as given, in `extra["parameters"]` (`null` when it cannot be serialized), so
/// that it is never silently dropped and [`check_parameters`] reports it.
pub(crate) fn set_parameters(
    parameters: &mut Option<Parameters>,
    extra: &mut crate::Extra,
    value: impl Serialize,
) {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => {
            *parameters = Some(map);
            extra.remove(PARAMETERS);
        }
        other => {
            *parameters = None;
            extra.insert(PARAMETERS.to_owned(), other.unwrap_or(serde_json::Value::Null));
        }
    }
}

/// `Err` when `with_parameters` was given something other than a JSON object.
pub(crate) fn check_parameters(extra: &crate::Extra) -> Result<(), ParametersError> {
    match extra.get(PARAMETERS) {
        None => Ok(()),
        Some(serde_json::Value::Null) => Err(ParametersError {
            found: "unserializable",
        }),
        Some(v) => Err(ParametersError { found: json_kind(v) }),
    }
}

macro_rules! parameters_builders {
    ($ty:ty, $example:literal) => {
        impl $ty {
            /// Sets `parameters` from anything that serializes to a JSON object: a struct, a
            /// map, `serde_json::json!({..})`.
            ///
            /// Never panics. A value that is not an object (a number, an array, ...) or cannot
            /// be serialized is kept as given outside `parameters`, and
            /// [`check_parameters`](Self::check_parameters) reports it; `osb-client` refuses to
            /// send such a request. Use [`try_with_parameters`](Self::try_with_parameters) to
            /// get the error right away.
            ///
            /// ```
            /// use serde_json::json;
            #[doc = $example]
            /// assert_eq!(req.parameters.as_ref().unwrap()["size"], 3);
            /// assert!(req.check_parameters().is_ok());
            /// let bad = req.with_parameters(json!([1, 2]));
            /// assert!(bad.parameters.is_none());
            /// assert_eq!(bad.check_parameters().unwrap_err().found(), "an array");
            /// ```
            #[must_use]
            pub fn with_parameters(mut self, parameters: impl Serialize) -> Self {
                set_parameters(&mut self.parameters, &mut self.extra, parameters);
                self
            }

            /// Sets `parameters`, or says why `parameters` is not a JSON object.
            ///
            /// # Errors
            /// [`ParametersError`] when the value does not serialize to a JSON object.
            pub fn try_with_parameters(
                mut self,
                parameters: impl Serialize,
            ) -> Result<Self, ParametersError> {
                self.parameters = Some(to_parameters(parameters)?);
                self.extra.remove(PARAMETERS);
                Ok(self)
            }

            /// `Err` when [`with_parameters`](Self::with_parameters) was given something other
            /// than a JSON object (the request must not be sent).
            ///
            /// # Errors
            /// [`ParametersError`] saying what the value was.
            pub fn check_parameters(&self) -> Result<(), ParametersError> {
                check_parameters(&self.extra)
            }
        }
    };
}
pub(crate) use parameters_builders;

parameters_builders!(
    ProvisionRequest,
    "let req = osb_types::ProvisionRequest::new(\"svc\", \"plan\").with_parameters(json!({\"size\": 3}));"
);
parameters_builders!(
    UpdateRequest,
    "let req = osb_types::UpdateRequest::new(\"svc\").with_parameters(json!({\"size\": 3}));"
);

/// Query of `PUT /v2/service_instances/:instance_id`.
///
/// ```
/// use osb_types::instance::ProvisionParams;
/// let p = ProvisionParams::from_query("accepts_incomplete=true").unwrap();
/// assert_eq!(p.accepts_incomplete, Some(true));
/// assert_eq!(p.to_query(), "accepts_incomplete=true");
/// assert!(ProvisionParams::from_query("accepts_incomplete=yes").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvisionParams {
    /// Whether the Platform accepts an asynchronous (202) answer.
    pub accepts_incomplete: Option<bool>,
}
params_impl!(ProvisionParams {
    accepts_incomplete: bool
});

/// Query of `PATCH /v2/service_instances/:instance_id`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateParams {
    /// Whether the Platform accepts an asynchronous (202) answer.
    pub accepts_incomplete: Option<bool>,
}
params_impl!(UpdateParams {
    accepts_incomplete: bool
});

/// Query of `DELETE /v2/service_instances/:instance_id` (`service_id` and `plan_id` are REQUIRED).
///
/// ```
/// use osb_types::instance::DeprovisionParams;
/// let p = DeprovisionParams::from_query("service_id=s&plan_id=p%2F1").unwrap();
/// assert_eq!(p.required_ids().unwrap().1, "p/1");
/// assert!(DeprovisionParams::from_query("plan_id=p").unwrap().required_ids().is_err());
/// assert_eq!(p.plan_id.unwrap(), "p/1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeprovisionParams {
    /// The instance's offering.
    pub service_id: Option<ServiceId>,
    /// The instance's plan.
    pub plan_id: Option<PlanId>,
    /// Whether the Platform accepts an asynchronous (202) answer.
    pub accepts_incomplete: Option<bool>,
}
params_impl!(DeprovisionParams {
    service_id: string,
    plan_id: string,
    accepts_incomplete: bool
});
required_ids_impl!(DeprovisionParams);

/// Query of `GET /v2/service_instances/:instance_id` (hints only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchInstanceParams {
    /// The instance's offering.
    pub service_id: Option<ServiceId>,
    /// The instance's plan.
    pub plan_id: Option<PlanId>,
}
params_impl!(FetchInstanceParams {
    service_id: string,
    plan_id: string
});
