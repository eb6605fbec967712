//! Error bodies on the wire (`ErrorResponse`, `ErrorCode`) and this crate's own `Error`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Extra;

/// The `error` codes the specification defines, plus any other string a broker sends.
///
/// ```
/// use osb_types::ErrorCode;
/// let code: ErrorCode = serde_json::from_str(r#""AsyncRequired""#).unwrap();
/// assert_eq!(code, ErrorCode::AsyncRequired);
/// let other: ErrorCode = serde_json::from_str(r#""QuotaExceeded""#).unwrap();
/// assert_eq!(other, ErrorCode::Other("QuotaExceeded".into()));
/// assert_eq!(other.as_str(), "QuotaExceeded");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The plan can only be served asynchronously and the request lacked `accepts_incomplete=true`.
    AsyncRequired,
    /// Another operation on the same resource is in progress.
    ConcurrencyError,
    /// The binding requires an application (`app_guid`) and none was given.
    RequiresApp,
    /// The `maintenance_info.version` sent does not match the catalog's.
    MaintenanceInfoConflict,
    /// Any other CamelCase code.
    Other(String),
}

impl ErrorCode {
    /// The code as it appears on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::AsyncRequired => "AsyncRequired",
            Self::ConcurrencyError => "ConcurrencyError",
            Self::RequiresApp => "RequiresApp",
            Self::MaintenanceInfoConflict => "MaintenanceInfoConflict",
            Self::Other(s) => s,
        }
    }

    /// Parses a wire code; unknown codes become [`ErrorCode::Other`].
    #[must_use]
    pub fn from_wire(s: &str) -> Self {
        match s {
            "AsyncRequired" => Self::AsyncRequired,
            "ConcurrencyError" => Self::ConcurrencyError,
            "RequiresApp" => Self::RequiresApp,
            "MaintenanceInfoConflict" => Self::MaintenanceInfoConflict,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_wire(&String::deserialize(d)?))
    }
}

/// The JSON body of a broker error response (spec "Service Broker Errors").
///
/// It implements [`std::error::Error`] so clients can carry it as a source.
///
/// ```
/// use osb_types::{ErrorCode, ErrorResponse};
/// let e = ErrorResponse::new(ErrorCode::ConcurrencyError, "Another operation is in progress.");
/// let json = serde_json::to_value(&e).unwrap();
/// assert_eq!(json["error"], "ConcurrencyError");
/// assert_eq!(e.to_string(), "ConcurrencyError: Another operation is in progress.");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// A single CamelCase word identifying the condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// A user-facing message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only on failed update or deprovision: whether the instance is still usable (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_usable: Option<bool>,
    /// Only on failed update: whether repeating the update may succeed (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_repeatable: Option<bool>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ErrorResponse {
    /// An error body with a code and a description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            error: Some(code),
            description: Some(description.into()),
            ..Self::default()
        }
    }

    /// An error body with a code given as a string (e.g. `"BadRequest"`) and a description.
    pub fn with_code(code: &str, description: impl Into<String>) -> Self {
        Self::new(ErrorCode::from_wire(code), description)
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.error, &self.description) {
            (Some(c), Some(d)) => write!(f, "{c}: {d}"),
            (Some(c), None) => write!(f, "{c}"),
            (None, Some(d)) => f.write_str(d),
            (None, None) => f.write_str("broker error without description"),
        }
    }
}

impl std::error::Error for ErrorResponse {}

/// Failures of this crate's parsers (headers, query strings, versions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The value is not an API version of the form `MAJOR.MINOR`.
    #[error("invalid API version {value:?}: expected MAJOR.MINOR, e.g. 2.17")]
    InvalidApiVersion {
        /// The offending value (at most 64 characters of it).
        value: String,
    },
    /// The `X-Broker-API-Originating-Identity` header is malformed.
    #[error("invalid originating identity: {reason}")]
    InvalidOriginatingIdentity {
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// A `Retry-After` value is neither integer seconds nor an HTTP-date.
    #[error("invalid Retry-After value {value:?}: expected a number of seconds or an HTTP-date")]
    InvalidRetryAfter {
        /// The value (at most 64 characters of it).
        value: String,
    },
    /// A query string is malformed (unknown boolean, duplicate or missing parameter).
    #[error("invalid query parameter `{name}`: {reason}")]
    InvalidQuery {
        /// The parameter name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}
