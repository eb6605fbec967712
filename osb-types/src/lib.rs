//! # osb-types
//!
//! The complete, strongly-typed wire model of the [Open Service Broker API] v2.17 and its
//! profile: every request and response body, query parameters, error bodies and codes, the
//! `context` profile, the originating-identity header and API versions. It has no HTTP or
//! async dependency, so any stack can use it.
//!
//! Every body type keeps fields it does not know in an `extra` map (the spec's "Vendor
//! Extension Fields"), so parsing and re-serializing gives back the same JSON. Optional fields
//! are omitted when absent, and `null` is accepted wherever the spec allows it (e.g. a
//! provision response's `dashboard_url` and `operation`). The one normalisation: a spec field
//! sent as `null` means the same as an absent one, so it is re-serialized as absent
//! (`{"operation": null}` → `{}`); `null` inside `extra`, `parameters` or `credentials` is kept.
//!
//! ```
//! use osb_types::{Catalog, ProvisionRequest, context::Context};
//!
//! let catalog: Catalog = serde_json::from_str(r#"{
//!   "services": [{
//!     "id": "svc-1", "name": "echo", "description": "Echoes", "bindable": true,
//!     "x-acme-tier": "gold",
//!     "plans": [{ "id": "plan-1", "name": "small", "description": "Small plan" }]
//!   }]
//! }"#).unwrap();
//! catalog.validate().unwrap();
//! assert_eq!(catalog.services[0].extra["x-acme-tier"], "gold");
//!
//! let req = ProvisionRequest::new("svc-1", "plan-1")
//!     .with_context(Context::kubernetes("default", "cluster-1"));
//! assert_eq!(serde_json::to_value(&req).unwrap()["plan_id"], "plan-1");
//! ```
//!
//! [Open Service Broker API]: https://github.com/openservicebrokerapi/servicebroker

#![deny(missing_docs)]

pub mod binding;
pub mod catalog;
pub mod context;
pub mod error;
pub mod id;
pub mod identity;
pub mod instance;
pub mod operation;
pub mod path;
mod query;
pub mod retry_after;
pub mod schema;
pub mod timestamp;
mod validate;
pub mod version;

pub use binding::{
    BindRequest, BindResponse, Credentials, FetchBindingResponse, RotateBindingRequest, UnbindResponse,
};
pub use catalog::{Catalog, ServiceOffering, ServicePlan};
pub use context::Context;
pub use error::{Error, ErrorCode, ErrorResponse};
pub use id::{BindingId, InstanceId, OperationId, PlanId, ServiceId};
pub use identity::{OriginatingIdentity, RequestIdentity};
pub use instance::{
    DeprovisionResponse, FetchInstanceResponse, ProvisionRequest, ProvisionResponse, UpdateRequest,
    UpdateResponse,
};
pub use operation::{LastOperationResponse, OperationKind, OperationState};
pub use retry_after::RetryAfter;
pub use timestamp::{Timestamp, TimestampError};
pub use version::ApiVersion;

/// A JSON object: how unknown ("vendor extension") fields are kept.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Configuration parameters of an instance or binding: a JSON object.
pub type Parameters = serde_json::Map<String, serde_json::Value>;

/// What `Debug` prints in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// Decodes a request's `parameters` into a typed value (absent parameters decode as `{}`).
fn parameters_as<T: serde::de::DeserializeOwned>(
    parameters: Option<&Parameters>,
) -> Result<T, serde_json::Error> {
    match parameters {
        Some(map) => T::deserialize(serde_json::Value::Object(map.clone())),
        None => T::deserialize(serde_json::Value::Object(Parameters::new())),
    }
}

macro_rules! typed_parameters {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// Decodes `parameters` into `T` (absent parameters decode as `{}`), e.g. a struct
            /// whose schema the plan advertises.
            ///
            /// # Errors
            /// The serde error when the parameters do not fit `T`.
            pub fn parameters_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
                parameters_as(self.parameters.as_ref())
            }
        }
    )*};
}

typed_parameters!(ProvisionRequest, UpdateRequest, BindRequest);
