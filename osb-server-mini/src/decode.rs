//! Request decoding: what every operation needs besides its body (the parsed headers and
//! path ids), and the JSON body decoded with the failing field named.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use bytes::Bytes;
use osb_types::{ApiVersion, BindingId, InstanceId, OriginatingIdentity, RequestIdentity};
use serde::de::DeserializeOwned;

use crate::answers::bad_request;
use crate::context::RequestContext;
use crate::response::HttpResponse;
use crate::router::Route;

/// A request that passed the head checks, with its body.
pub(crate) struct Incoming {
    pub(crate) route: Route,
    pub(crate) query: String,
    pub(crate) body: Bytes,
    pub(crate) api_version: ApiVersion,
    pub(crate) originating_identity: Option<OriginatingIdentity>,
    pub(crate) request_identity: Option<RequestIdentity>,
    /// Who the authenticator said the caller is (`None` without authentication).
    pub(crate) caller: Option<crate::auth::Caller>,
    pub(crate) content_type_ok: Result<(), HttpResponse>,
}

impl Incoming {
    pub(crate) fn instance_id(&self) -> InstanceId {
        InstanceId::from(self.route.instance_id().unwrap_or_default())
    }

    pub(crate) fn binding_id(&self) -> BindingId {
        BindingId::from(self.route.binding_id().unwrap_or_default())
    }

    /// A context for the broker, without catalog entries yet.
    pub(crate) fn context(&self, accepts_incomplete: bool) -> RequestContext {
        RequestContext {
            instance_id: self.instance_id(),
            binding_id: self.binding_id(),
            api_version: self.api_version,
            originating_identity: self.originating_identity.clone(),
            request_identity: self.request_identity.clone(),
            caller: self.caller.clone(),
            accepts_incomplete,
            offering: None,
            plan: None,
            instance: None,
            predecessor: None,
            last_operation: None,
        }
    }

    /// Decodes the JSON body: 400 with the failing field path.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<(T, serde_json::Value), HttpResponse> {
        self.content_type_ok.clone()?;
        let value = self.json_value()?;
        // One style for every field error: the problem, then the JSON pointer of the field
        // (as typed parameters and schema checks report them).
        let typed = serde_path_to_error::deserialize::<_, T>(&value).map_err(|e| {
            bad_request(format!(
                "invalid request body: {}",
                crate::params::serde_problem(&e)
            ))
        })?;
        Ok((typed, value))
    }

    /// The body as a JSON object value.
    pub(crate) fn json_value(&self) -> Result<serde_json::Value, HttpResponse> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(bad_request("a JSON object request body is required"));
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let value: serde_json::Value = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| bad_request(format!("invalid request body: {}", e.into_inner())))?;
        de.end()
            .map_err(|e| bad_request(format!("invalid request body: {e}")))?;
        if !value.is_object() {
            return Err(bad_request("the request body must be a JSON object"));
        }
        Ok(value)
    }
}
