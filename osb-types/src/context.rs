//! The `context` object of the profile, tagged by its `platform` property.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Extra;

/// `platform` value of Cloud Foundry.
pub const CLOUD_FOUNDRY: &str = "cloudfoundry";
/// `platform` value of Kubernetes.
pub const KUBERNETES: &str = "kubernetes";

/// Contextual data of a request (profile "Context Object"), by platform.
///
/// An unknown platform (or a context without `platform`) is kept whole in [`Context::Other`]
/// and serializes back unchanged.
///
/// ```
/// use osb_types::context::Context;
/// let ctx: Context = serde_json::from_str(r#"{"platform":"kubernetes","namespace":"ns","clusterid":"c1"}"#).unwrap();
/// match &ctx {
///     Context::Kubernetes(k) => assert_eq!(k.namespace.as_deref(), Some("ns")),
///     _ => unreachable!(),
/// }
/// let other: Context = serde_json::from_str(r#"{"platform":"nomad","job":"x"}"#).unwrap();
/// assert_eq!(other.platform(), Some("nomad"));
/// assert_eq!(serde_json::to_string(&other).unwrap(), r#"{"job":"x","platform":"nomad"}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Context {
    /// `"platform": "cloudfoundry"`.
    CloudFoundry(CloudFoundryContext),
    /// `"platform": "kubernetes"`.
    Kubernetes(KubernetesContext),
    /// Any other platform, kept as the whole JSON object (including `platform`).
    Other(RawContext),
}

/// Cloud Foundry context properties (profile "Cloud Foundry Context Object").
///
/// All are optional here: which are mandatory depends on the API version and the call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloudFoundryContext {
    /// The organization GUID (2.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_guid: Option<String>,
    /// The organization name (2.15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_name: Option<String>,
    /// The organization's annotations (2.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_annotations: Option<Extra>,
    /// The space GUID (2.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_guid: Option<String>,
    /// The space name (2.15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_name: Option<String>,
    /// The space's annotations (2.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_annotations: Option<Extra>,
    /// The instance name (2.15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// The instance's annotations (2.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_annotations: Option<Extra>,
    /// Properties not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Kubernetes context properties (profile "Kubernetes Context Object").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KubernetesContext {
    /// The namespace (2.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The namespace's annotations (2.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_annotations: Option<Extra>,
    /// The instance's annotations (2.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_annotations: Option<Extra>,
    /// The cluster id (2.14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusterid: Option<String>,
    /// The instance name (2.15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// Properties not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The context of a platform this crate has no type for: the whole JSON object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawContext(pub Extra);

impl RawContext {
    /// The `platform` property, if it is a string.
    #[must_use]
    pub fn platform(&self) -> Option<&str> {
        self.0.get("platform").and_then(Value::as_str)
    }
}

impl Context {
    /// A Cloud Foundry context with organization and space GUIDs.
    pub fn cloud_foundry(organization_guid: impl Into<String>, space_guid: impl Into<String>) -> Self {
        Self::CloudFoundry(CloudFoundryContext {
            organization_guid: Some(organization_guid.into()),
            space_guid: Some(space_guid.into()),
            ..CloudFoundryContext::default()
        })
    }

    /// A Kubernetes context with namespace and cluster id.
    pub fn kubernetes(namespace: impl Into<String>, clusterid: impl Into<String>) -> Self {
        Self::Kubernetes(KubernetesContext {
            namespace: Some(namespace.into()),
            clusterid: Some(clusterid.into()),
            ..KubernetesContext::default()
        })
    }

    /// The `platform` value (`None` only for an `Other` context without a string `platform`).
    #[must_use]
    pub fn platform(&self) -> Option<&str> {
        match self {
            Self::CloudFoundry(_) => Some(CLOUD_FOUNDRY),
            Self::Kubernetes(_) => Some(KUBERNETES),
            Self::Other(raw) => raw.platform(),
        }
    }

    /// The instance name, for the platforms that define one.
    #[must_use]
    pub fn instance_name(&self) -> Option<&str> {
        match self {
            Self::CloudFoundry(c) => c.instance_name.as_deref(),
            Self::Kubernetes(k) => k.instance_name.as_deref(),
            Self::Other(raw) => raw.0.get("instance_name").and_then(Value::as_str),
        }
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tagged = |platform: &str, v: Result<Value, serde_json::Error>| -> Result<Extra, S::Error> {
            let Value::Object(mut m) = v.map_err(serde::ser::Error::custom)? else {
                return Err(serde::ser::Error::custom("context properties must be an object"));
            };
            m.insert("platform".to_owned(), Value::String(platform.to_owned()));
            Ok(m)
        };
        match self {
            Self::CloudFoundry(c) => tagged(CLOUD_FOUNDRY, serde_json::to_value(c))?.serialize(s),
            Self::Kubernetes(k) => tagged(KUBERNETES, serde_json::to_value(k))?.serialize(s),
            Self::Other(raw) => raw.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = Extra::deserialize(d)?;
        let platform = map.get("platform").and_then(Value::as_str).map(str::to_owned);
        match platform.as_deref() {
            Some(CLOUD_FOUNDRY) => {
                map.remove("platform");
                serde_json::from_value(Value::Object(map))
                    .map(Self::CloudFoundry)
                    .map_err(|e| D::Error::custom(format!("invalid cloudfoundry context: {e}")))
            }
            Some(KUBERNETES) => {
                map.remove("platform");
                serde_json::from_value(Value::Object(map))
                    .map(Self::Kubernetes)
                    .map_err(|e| D::Error::custom(format!("invalid kubernetes context: {e}")))
            }
            _ => Ok(Self::Other(RawContext(map))),
        }
    }
}
