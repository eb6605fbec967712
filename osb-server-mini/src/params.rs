//! Typed parameters: a request's `parameters` decoded into a Rust type, with the 400 the
//! Platform should see when they do not fit.
//!
//! `#[broker]` calls [`decode`] for operations declared with a fourth argument
//! (`async fn provision(&self, ctx: &RequestContext, request: ProvisionRequest, params: MyParams)`),
//! so bad parameters never reach broker code. Hand-written brokers call it themselves.

use osb_types::Parameters;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::BrokerError;

/// Decodes `parameters` into `T`; absent parameters decode as `{}`, as they are validated
/// against the plan's schema.
///
/// The runtime has already checked them against the schema the plan advertises; this catches
/// what a schema cannot say (a `u32` sent as `10.0`, a `#[serde(try_from)]` check, ...).
///
/// # Errors
///
/// 400 `BadRequest` whose description names the failing field and the serde error, e.g.
/// ``invalid parameters at `max_bytes`: invalid type: floating point `10.0`, expected u32``.
///
/// ```
/// use osb_server_mini::params;
/// use serde_json::json;
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Params { size: u32 }
///
/// let ok = json!({ "size": 3 });
/// assert_eq!(params::decode::<Params>(ok.as_object()).unwrap(), Params { size: 3 });
///
/// let bad = json!({ "size": 1.5 });
/// let err = params::decode::<Params>(bad.as_object()).unwrap_err();
/// assert_eq!(err.status(), 400);
/// assert!(err.body().description.as_deref().unwrap().starts_with("invalid parameters at `size`: "));
/// ```
pub fn decode<T: DeserializeOwned>(parameters: Option<&Parameters>) -> Result<T, BrokerError> {
    let value = Value::Object(parameters.cloned().unwrap_or_default());
    serde_path_to_error::deserialize::<_, T>(&value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            BrokerError::bad_request(format!("invalid parameters: {inner}"))
        } else {
            BrokerError::bad_request(format!("invalid parameters at `{path}`: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::decode;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        #[serde(default)]
        name: String,
        limits: Option<Limits>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Limits {
        bytes: u32,
    }

    fn description(v: serde_json::Value) -> String {
        let err = decode::<Params>(v.as_object()).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.code().unwrap().as_str(), "BadRequest");
        err.body().description.clone().unwrap()
    }

    #[test]
    fn a_root_error_names_no_field() {
        let err = decode::<Vec<u8>>(None).unwrap_err();
        assert_eq!(
            err.body().description.as_deref(),
            Some("invalid parameters: invalid type: map, expected a sequence")
        );
    }

    #[test]
    fn absent_parameters_decode_as_an_empty_object() {
        assert_eq!(
            decode::<Params>(None).unwrap(),
            Params {
                name: String::new(),
                limits: None
            }
        );
    }

    #[test]
    fn the_error_names_the_nested_field() {
        assert_eq!(
            description(json!({ "limits": { "bytes": 10.0 } })),
            "invalid parameters at `limits.bytes`: invalid type: floating point `10.0`, expected u32"
        );
        assert_eq!(
            description(json!({ "limits": {} })),
            "invalid parameters at `limits`: missing field `bytes`"
        );
        assert_eq!(
            description(json!({ "nme": "x" })),
            "invalid parameters at `nme`: unknown field `nme`, expected `name` or `limits`"
        );
        assert_eq!(
            description(json!({ "name": 1 })),
            "invalid parameters at `name`: invalid type: integer `1`, expected a string"
        );
    }
}
