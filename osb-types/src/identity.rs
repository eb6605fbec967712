//! The `X-Broker-API-Originating-Identity` and `X-Broker-API-Request-Identity` headers.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::{CLOUD_FOUNDRY, KUBERNETES};
use crate::{Error, Extra};

/// Standard base64, accepting values with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The user behind a request: `<platform> <base64 of a JSON object>` (profile
/// "Originating Identity Header"), decoded and typed per platform.
///
/// ```
/// use osb_types::identity::{CloudFoundryIdentity, OriginatingIdentity};
/// let id = OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("user-1"));
/// let header = id.to_header_value();
/// assert!(header.starts_with("cloudfoundry "));
/// assert_eq!(header.parse::<OriginatingIdentity>().unwrap(), id);
/// assert!("cloudfoundry !!!".parse::<OriginatingIdentity>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OriginatingIdentity {
    /// `cloudfoundry` platform.
    CloudFoundry(CloudFoundryIdentity),
    /// `kubernetes` platform.
    Kubernetes(KubernetesIdentity),
    /// Any other platform, with its decoded JSON object.
    Other {
        /// The platform string.
        platform: String,
        /// The decoded value.
        value: Extra,
    },
}

/// Cloud Foundry originating identity value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloudFoundryIdentity {
    /// `user_id` from the CF JWT token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Properties not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CloudFoundryIdentity {
    /// An identity for a CF user id.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()),
            extra: Extra::new(),
        }
    }
}

/// Kubernetes originating identity value (the `user.info` object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KubernetesIdentity {
    /// `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `groups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// The profile's `extra` property (map of arrays of strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, Vec<String>>>,
    /// Properties not defined by the profile, kept as they came.
    #[serde(flatten)]
    pub unknown: Extra,
}

impl OriginatingIdentity {
    /// The platform string.
    #[must_use]
    pub fn platform(&self) -> &str {
        match self {
            Self::CloudFoundry(_) => CLOUD_FOUNDRY,
            Self::Kubernetes(_) => KUBERNETES,
            Self::Other { platform, .. } => platform,
        }
    }

    /// The decoded value as a JSON object.
    #[must_use]
    pub fn value(&self) -> Extra {
        let v = match self {
            Self::CloudFoundry(c) => serde_json::to_value(c),
            Self::Kubernetes(k) => serde_json::to_value(k),
            Self::Other { value, .. } => return value.clone(),
        };
        match v {
            Ok(Value::Object(m)) => m,
            _ => Extra::new(),
        }
    }

    /// Renders the header value: `<platform> <base64(JSON)>`.
    #[must_use]
    pub fn to_header_value(&self) -> String {
        let json = serde_json::to_vec(&Value::Object(self.value())).unwrap_or_default();
        format!(
            "{} {}",
            self.platform(),
            base64::engine::general_purpose::STANDARD.encode(json)
        )
    }

    /// Parses a header value.
    ///
    /// # Errors
    /// [`Error::InvalidOriginatingIdentity`] for an empty platform, a missing value, bad base64,
    /// JSON that is not an object, or typed properties of the wrong JSON type.
    pub fn parse(header: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::InvalidOriginatingIdentity { reason };
        let header = header.trim_end();
        if header.is_empty() {
            return Err(bad(
                "the header is empty; expected `<platform> <base64-encoded JSON object>`".to_owned(),
            ));
        }
        if header.starts_with(|c: char| c.is_ascii_whitespace()) {
            return Err(bad(
                "the platform is empty; expected `<platform> <base64-encoded JSON object>`".to_owned(),
            ));
        }
        let (platform, value) = header
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or_else(|| bad("expected `<platform> <base64-encoded JSON object>`".to_owned()))?;
        let bytes = BASE64
            .decode(value.trim())
            .map_err(|e| bad(format!("the value is not valid base64 ({e})")))?;
        let json: Value = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("the decoded value is not JSON ({e})")))?;
        let Value::Object(map) = json else {
            return Err(bad("the decoded value must be a JSON object".to_owned()));
        };
        let typed = |e: serde_json::Error| bad(format!("invalid {platform} identity: {e}"));
        Ok(match platform {
            CLOUD_FOUNDRY => Self::CloudFoundry(serde_json::from_value(Value::Object(map)).map_err(typed)?),
            KUBERNETES => Self::Kubernetes(serde_json::from_value(Value::Object(map)).map_err(typed)?),
            _ => Self::Other {
                platform: platform.to_owned(),
                value: map,
            },
        })
    }
}

impl FromStr for OriginatingIdentity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for OriginatingIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

/// The value of `X-Broker-API-Request-Identity`: an opaque id (usually a UUID) that the
/// broker echoes in its response and may log.
///
/// ```
/// let id = osb_types::identity::RequestIdentity::new("e26cea1c-4e0e-4b7c-9f0e-8f3a2b0b6c11");
/// assert_eq!(id.as_str().len(), 36);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestIdentity(String);

impl RequestIdentity {
    /// Wraps a request id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_profile_cf_example_decodes() {
        let h =
            "cloudfoundry eyANCiAgInVzZXJfaWQiOiAiNjgzZWE3NDgtMzA5Mi00ZmY0LWI2NTYtMzljYWNjNGQ1MzYwIg0KfQ==";
        let OriginatingIdentity::CloudFoundry(cf) = OriginatingIdentity::parse(h).unwrap() else {
            panic!("not cf")
        };
        assert_eq!(
            cf.user_id.as_deref(),
            Some("683ea748-3092-4ff4-b656-39cacc4d5360")
        );
    }

    #[test]
    fn c_profile_k8s_example_decodes() {
        let h = "kubernetes ew0KICAidXNlcm5hbWUiOiAiZHVrZSIsDQogICJ1aWQiOiAiYzJkZGUyNDItNWNlNC0xMWU3LTk4OGMtMDAwYzI5NDZmMTRmIiwNCiAgImdyb3VwcyI6IFsgImFkbWluIiwgImRldiIgXSwNCiAgImV4dHJhIjogew0KICAgICJteWRhdGEiOiBbICJkYXRhMSIsICJkYXRhMyIgXQ0KICB9DQp9";
        let OriginatingIdentity::Kubernetes(k) = OriginatingIdentity::parse(h).unwrap() else {
            panic!("not k8s")
        };
        assert_eq!(k.username.as_deref(), Some("duke"));
        assert_eq!(k.groups.unwrap(), ["admin", "dev"]);
        assert_eq!(k.extra.unwrap()["mydata"], ["data1", "data3"]);
    }

    #[test]
    fn bad_headers_have_clear_errors() {
        let msg = |h: &str| OriginatingIdentity::parse(h).unwrap_err().to_string();
        assert!(msg("cloudfoundry").contains("expected `<platform>"));
        assert!(msg(" eyJ9").contains("expected"));
        assert!(msg("cloudfoundry %%%").contains("not valid base64"));
        let array = base64::engine::general_purpose::STANDARD.encode("[1]");
        assert!(msg(&format!("cloudfoundry {array}")).contains("must be a JSON object"));
        let not_json = base64::engine::general_purpose::STANDARD.encode("nope");
        assert!(msg(&format!("kubernetes {not_json}")).contains("not JSON"));
        let wrong = base64::engine::general_purpose::STANDARD.encode(r#"{"user_id":5}"#);
        assert!(msg(&format!("cloudfoundry {wrong}")).contains("invalid cloudfoundry identity"));
    }
}
