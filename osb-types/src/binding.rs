//! Service Binding bodies: bind (and rotate), unbind and fetch, with their query parameters.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::instance::{PARAMETERS, ParametersError, check_parameters, set_parameters, to_parameters};
use crate::query::{params_impl, required_ids_impl};
use crate::{BindingId, Extra, OperationId, Parameters, PlanId, ServiceId, Timestamp};

/// Body of `PUT /v2/service_instances/:instance_id/service_bindings/:binding_id`.
///
/// ```
/// use osb_types::binding::{BindRequest, BindResource};
/// let req = BindRequest::new("svc", "plan").with_bind_resource(BindResource::app("app-1"));
/// assert_eq!(serde_json::to_value(&req).unwrap()["bind_resource"]["app_guid"], "app-1");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BindRequest {
    /// Platform context (profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The instance's offering.
    pub service_id: ServiceId,
    /// The instance's plan.
    pub plan_id: PlanId,
    /// Deprecated in favour of `bind_resource.app_guid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_guid: Option<String>,
    /// The Platform resource the binding is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_resource: Option<BindResource>,
    /// Configuration parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// Set on a rotation (2.17): the non-expired binding of the same instance whose
    /// credentials the new binding replaces. A rotation may carry only this field (see
    /// [`RotateBindingRequest`]) or the create fields as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predecessor_binding_id: Option<BindingId>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl BindRequest {
    /// A bind request for this offering and plan.
    pub fn new(service_id: impl Into<ServiceId>, plan_id: impl Into<PlanId>) -> Self {
        Self {
            service_id: service_id.into(),
            plan_id: plan_id.into(),
            ..Self::default()
        }
    }

    /// Sets `bind_resource`.
    #[must_use]
    pub fn with_bind_resource(mut self, resource: BindResource) -> Self {
        self.bind_resource = Some(resource);
        self
    }

    /// Sets `context`.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Makes this a rotation of `predecessor` (sets `predecessor_binding_id`).
    ///
    /// ```
    /// use osb_types::BindRequest;
    /// let req = BindRequest::new("svc", "plan").with_predecessor("old-binding");
    /// assert_eq!(serde_json::to_value(&req).unwrap()["predecessor_binding_id"], "old-binding");
    /// ```
    #[must_use]
    pub fn with_predecessor(mut self, predecessor: impl Into<BindingId>) -> Self {
        self.predecessor_binding_id = Some(predecessor.into());
        self
    }
}

crate::instance::parameters_builders!(
    BindRequest,
    "let req = osb_types::BindRequest::new(\"svc\", \"plan\").with_parameters(json!({\"size\": 3}));"
);

/// Body of a binding rotation (spec "Rotating a Service Binding"), sent to the same route as a bind.
///
/// ```
/// use osb_types::binding::RotateBindingRequest;
/// let r = RotateBindingRequest::new("old-binding");
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"predecessor_binding_id":"old-binding"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RotateBindingRequest {
    /// A non-expired binding of the same instance whose credentials are being rotated.
    pub predecessor_binding_id: BindingId,
    /// Fields not defined by the specification (some platforms add `service_id`, `plan_id`, `context`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl RotateBindingRequest {
    /// A rotation of this predecessor binding.
    pub fn new(predecessor: impl Into<BindingId>) -> Self {
        Self {
            predecessor_binding_id: predecessor.into(),
            extra: Extra::new(),
        }
    }
}

/// `bind_resource` of a bind request (spec, plus the Cloud Foundry profile's fields).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BindResource {
    /// The application (CF) or scope (e.g. K8s namespace) the binding is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_guid: Option<String>,
    /// The route to intermediate (route services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// CF profile: the space of the binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_guid: Option<String>,
    /// CF profile (2.16): the application's annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_annotations: Option<Extra>,
    /// CF profile (2.16): the CredHub client to grant read access (service keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_client_id: Option<String>,
    /// Fields not defined by the specification or profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl BindResource {
    /// A bind resource for an application.
    pub fn app(app_guid: impl Into<String>) -> Self {
        Self {
            app_guid: Some(app_guid.into()),
            ..Self::default()
        }
    }
}

/// Credentials of a binding: a free-form JSON object whose `Debug` never shows values.
///
/// ```
/// use osb_types::binding::Credentials;
/// let c: Credentials = serde_json::from_str(r#"{"password":"hunter2","uri":"x"}"#).unwrap();
/// assert_eq!(c.get("uri").unwrap(), "x");
/// assert!(!format!("{c:?}").contains("hunter2"));
/// ```
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credentials(pub Extra);

impl Credentials {
    /// Wraps a JSON object.
    #[must_use]
    pub fn new(map: Extra) -> Self {
        Self(map)
    }

    /// Credentials from any JSON value that is an object (`None` otherwise).
    #[must_use]
    pub fn from_value(value: serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::Object(m) => Some(Self(m)),
            _ => None,
        }
    }
}

impl std::ops::Deref for Credentials {
    type Target = Extra;
    fn deref(&self) -> &Extra {
        &self.0
    }
}

impl std::ops::DerefMut for Credentials {
    fn deref_mut(&mut self) -> &mut Extra {
        &mut self.0
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, crate::REDACTED)))
            .finish()
    }
}

/// Body of a 200/201 bind response (a 202 carries only `operation`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BindResponse {
    /// Binding metadata (expiry, renewal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BindingMetadata>,
    /// Credentials for the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// Where logs must be streamed (requires `syslog_drain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syslog_drain_url: Option<String>,
    /// Where the Platform proxies requests (requires `route_forwarding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_service_url: Option<String>,
    /// Volumes to mount (requires `volume_mount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<VolumeMount>>,
    /// Network endpoints of the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<Endpoint>>,
    /// Operation id of an asynchronous bind (202 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationId>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Binding metadata (spec "Binding Metadata Object").
///
/// The timestamps are typed [`Timestamp`]s: any RFC 3339 date-time is accepted (any number of
/// fractional digits), and they are written as `yyyy-mm-ddThh:mm:ss.sZ`. A value that is not a
/// date-time makes the whole body malformed.
///
/// ```
/// use osb_types::binding::BindingMetadata;
/// let m: BindingMetadata = serde_json::from_str(
///     r#"{"expires_at":"2019-12-31T23:59:59.0Z","renew_before":"2019-12-01T00:00:00.0Z"}"#,
/// ).unwrap();
/// assert!(m.is_consistent());
/// assert!(m.renewal_due("2019-12-02T00:00:00Z".parse().unwrap()));
/// assert!(!m.renewal_due("2019-11-30T00:00:00Z".parse().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BindingMetadata {
    /// When the binding becomes invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// When the binding should be renewed (≤ `expires_at`, 2.17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before: Option<Timestamp>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl BindingMetadata {
    /// Metadata with these timestamps.
    #[must_use]
    pub fn new(expires_at: Option<Timestamp>, renew_before: Option<Timestamp>) -> Self {
        Self {
            expires_at,
            renew_before,
            extra: Extra::new(),
        }
    }

    /// A109/A106: `renew_before` is not after `expires_at` (true when either is absent).
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        match (self.renew_before, self.expires_at) {
            (Some(renew), Some(expires)) => renew <= expires,
            _ => true,
        }
    }

    /// Whether the binding has expired at `now` (`expires_at` ≤ `now`).
    #[must_use]
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// B61: whether the binding should be renewed at `now`: `renew_before` has been reached,
    /// or (without `renew_before`) the binding has expired. `false` without timestamps.
    #[must_use]
    pub fn renewal_due(&self, now: Timestamp) -> bool {
        match self.renew_before {
            Some(at) => at <= now,
            None => self.expired(now),
        }
    }
}

/// A volume to mount (spec "Volume Mount Object").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VolumeMount {
    /// The volume driver plugin.
    pub driver: String,
    /// Mount path in the container.
    pub container_dir: String,
    /// `r` or `rw`.
    pub mode: String,
    /// Currently always `shared`.
    pub device_type: String,
    /// Device details.
    pub device: Device,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A shared device (spec "Device Object").
///
/// `Debug` shows the keys of `mount_config` but never its values, which often hold the
/// driver's credentials:
///
/// ```
/// use osb_types::binding::Device;
/// let d: Device = serde_json::from_str(r#"{"volume_id":"v1","mount_config":{"password":"s3cret"}}"#).unwrap();
/// let shown = format!("{d:?}");
/// assert!(shown.contains("password") && !shown.contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Device {
    /// The shared volume's id.
    pub volume_id: String,
    /// Driver configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_config: Option<Extra>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mount_config = self.mount_config.as_ref().map(|m| {
            m.keys()
                .map(|k| (k.as_str(), crate::REDACTED))
                .collect::<Vec<_>>()
        });
        f.debug_struct("Device")
            .field("volume_id", &self.volume_id)
            .field("mount_config", &mount_config)
            .field("extra", &self.extra)
            .finish()
    }
}

/// A network endpoint (spec "Endpoint Object").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Endpoint {
    /// Host name or IP address.
    pub host: String,
    /// Ports or ranges, e.g. `"443"`, `"9000-9010"`; non-empty.
    pub ports: Vec<String>,
    /// `tcp` (default), `udp` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `GET .../service_bindings/:binding_id`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FetchBindingResponse {
    /// Binding metadata (expiry, renewal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BindingMetadata>,
    /// Credentials for the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// Where logs must be streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syslog_drain_url: Option<String>,
    /// Where the Platform proxies requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_service_url: Option<String>,
    /// Volumes to mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<VolumeMount>>,
    /// The binding's parameters (brokers may omit sensitive ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// Network endpoints of the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<Endpoint>>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl From<BindResponse> for FetchBindingResponse {
    fn from(r: BindResponse) -> Self {
        // `parameters` is a typed field of the fetch response but only an unknown ("extra")
        // one of the bind response: move an object value over so the result does not keep
        // it in `extra`, where the typed field would reject a non-object on re-parse; a
        // non-object value is dropped (found by the `responses` fuzz target).
        let mut extra = r.extra;
        let parameters = match extra.remove("parameters") {
            Some(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        };
        Self {
            metadata: r.metadata,
            credentials: r.credentials,
            syslog_drain_url: r.syslog_drain_url,
            route_service_url: r.route_service_url,
            volume_mounts: r.volume_mounts,
            parameters,
            endpoints: r.endpoints,
            extra,
        }
    }
}

/// Body of a 200/202 unbind response (`{}` or `{"operation": ...}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UnbindResponse {
    /// Operation id of an asynchronous unbind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationId>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Query of a bind or rotate `PUT`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindParams {
    /// Whether the Platform accepts an asynchronous (202) answer.
    pub accepts_incomplete: Option<bool>,
}
params_impl!(BindParams {
    accepts_incomplete: bool
});

/// Query of an unbind `DELETE` (`service_id` and `plan_id` are REQUIRED).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnbindParams {
    /// The instance's offering.
    pub service_id: Option<ServiceId>,
    /// The instance's plan.
    pub plan_id: Option<PlanId>,
    /// Whether the Platform accepts an asynchronous (202) answer.
    pub accepts_incomplete: Option<bool>,
}
params_impl!(UnbindParams {
    service_id: string,
    plan_id: string,
    accepts_incomplete: bool
});
required_ids_impl!(UnbindParams);

/// Query of `GET .../service_bindings/:binding_id` (hints only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchBindingParams {
    /// The instance's offering.
    pub service_id: Option<ServiceId>,
    /// The instance's plan.
    pub plan_id: Option<PlanId>,
}
params_impl!(FetchBindingParams {
    service_id: string,
    plan_id: string
});
