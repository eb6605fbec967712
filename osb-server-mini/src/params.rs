//! Typed parameters: a request's `parameters` decoded into a Rust type, with the 400 the
//! Platform should see when they do not fit.
//!
//! `#[broker]` calls [`decode`] for operations declared with a fourth argument
//! (`async fn provision(&self, ctx: &RequestContext, request: ProvisionRequest, params: MyParams)`),
//! and [`decode_for_plan`] when that argument is an `Option<MyParams>`, so bad parameters never
//! reach broker code. Hand-written brokers call them themselves.
//!
//! # Parameters follow their plan
//!
//! A plan declares its parameter types (`#[derive(Plan)]`'s `provision_params = T`,
//! `update_params = T`, `bind_params = T`), and only those plans advertise a schema. When some
//! plans of an offering declare none, take the parameters as an `Option<T>`: it is `None` for
//! the plans that declare none. A plain `T` there is a compile error naming the plan (see
//! [`TypedParams`]).
//!
//! # Field locations
//!
//! Every parameter error reads ``invalid parameters: <problem> (at `<JSON pointer>`)``, the
//! location left out for a problem with the whole object, and problems joined by `; `: the
//! schema check of the runtime and serde's decoding here say it the same way.

use std::fmt::Display;

use osb_types::Parameters;
use osb_types::catalog::ServicePlan;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{BrokerError, RequestContext};

/// The operations whose requests carry `parameters`, so may take typed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamsKind {
    /// `provision` (`provision_params`, the plan's `schemas.service_instance.create`).
    Provision,
    /// `update` (`update_params`, the plan's `schemas.service_instance.update`).
    Update,
    /// `bind` (`bind_params`, the plan's `schemas.service_binding.create`).
    Bind,
}

impl ParamsKind {
    /// The operation: `provision`, `update` or `bind`.
    #[must_use]
    pub const fn operation(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::Update => "update",
            Self::Bind => "bind",
        }
    }

    /// The `#[derive(Plan)]` attribute naming the type: `provision_params`, ...
    #[must_use]
    pub const fn attribute(self) -> &'static str {
        match self {
            Self::Provision => "provision_params",
            Self::Update => "update_params",
            Self::Bind => "bind_params",
        }
    }

    /// The schema `plan` advertises for these parameters, if any.
    #[must_use]
    pub fn schema(self, plan: &ServicePlan) -> Option<&Value> {
        match self {
            Self::Provision => plan.instance_create_schema(),
            Self::Update => plan.instance_update_schema(),
            Self::Bind => plan.binding_create_schema(),
        }
    }
}

/// Which operations of a plan take typed parameters: [`Plan::TYPED_PARAMS`](crate::Plan::TYPED_PARAMS),
/// which `#[derive(Plan)]` sets from `provision_params`, `update_params` and `bind_params`.
///
/// `#[derive(Offering)]` lists its plans' in [`Offering::PLAN_PARAMS`](crate::Offering::PLAN_PARAMS),
/// and `#[broker]` checks them at compile time: an operation taking a plain `params: T` on
/// an offering with a plan that declares no such type does not compile, and the message
/// names that plan (take `Option<T>` instead, `None` for that plan).
///
/// ```
/// use osb_server_mini::params::{ParamsKind, TypedParams};
/// let typed = TypedParams { provision: true, ..TypedParams::NONE };
/// assert!(typed.declares(ParamsKind::Provision));
/// assert!(!typed.declares(ParamsKind::Bind));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TypedParams {
    /// The plan declares `provision_params`.
    pub provision: bool,
    /// The plan declares `update_params`.
    pub update: bool,
    /// The plan declares `bind_params`.
    pub bind: bool,
}

impl TypedParams {
    /// No typed parameters.
    pub const NONE: Self = Self {
        provision: false,
        update: false,
        bind: false,
    };

    /// Whether the plan declares a type for these parameters.
    #[must_use]
    pub const fn declares(self, kind: ParamsKind) -> bool {
        match kind {
            ParamsKind::Provision => self.provision,
            ParamsKind::Update => self.update,
            ParamsKind::Bind => self.bind,
        }
    }
}

/// One plan of an offering, by name, with the typed parameters it declares (`None`: not
/// known at compile time, e.g. a hand-written `Plan` that keeps the default
/// [`Plan::TYPED_PARAMS`](crate::Plan::TYPED_PARAMS)). The entries of
/// [`Offering::PLAN_PARAMS`](crate::Offering::PLAN_PARAMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanParams {
    /// The offering's name.
    pub offering: &'static str,
    /// The plan's name.
    pub plan: &'static str,
    /// What the plan declares.
    pub typed: Option<TypedParams>,
}

impl PlanParams {
    /// An entry.
    #[must_use]
    pub const fn new(offering: &'static str, plan: &'static str, typed: Option<TypedParams>) -> Self {
        Self {
            offering,
            plan,
            typed,
        }
    }
}

/// Decodes `parameters` into `T`; absent parameters decode as `{}`, as they are validated
/// against the plan's schema.
///
/// The runtime has already checked them against the schema the plan advertises; this catches
/// what a schema cannot say (a `u32` sent as `10.0`, a `#[serde(try_from)]` check, ...).
///
/// # Errors
///
/// 400 `BadRequest` whose description names the failing field (as a JSON pointer) after the
/// serde error, e.g.
/// ``invalid parameters: invalid type: floating point `10.0`, expected u32 (at `/max_bytes`)``.
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
/// assert_eq!(err.body().description.as_deref(),
///            Some("invalid parameters: invalid type: floating point `1.5`, expected u32 (at `/size`)"));
/// ```
pub fn decode<T: DeserializeOwned>(parameters: Option<&Parameters>) -> Result<T, BrokerError> {
    let value = Value::Object(parameters.cloned().unwrap_or_default());
    serde_path_to_error::deserialize::<_, T>(&value)
        .map_err(|e| BrokerError::bad_request(invalid([serde_problem(&e)])))
}

/// Decodes `parameters` into `T` when the request's plan declares a type for them, else
/// `None`: what `#[broker]` does for an `Option<T>` parameters argument.
///
/// The plan is [`ctx.plan()`](RequestContext::plan) (for an update, the plan the instance
/// moves to); it declares a type when it advertises a schema of this kind, as
/// `#[derive(Plan)]`'s `provision_params`/`update_params`/`bind_params` do. Then the
/// parameters decode as with [`decode`] (absent ones as `{}`), except for an update that
/// carries none: that update changes no parameters, so it gets `None`. Without a plan in the
/// context (a unit test's [`RequestContext::for_tests`]), parameters decode when the request
/// carries some.
///
/// # Errors
///
/// As [`decode`].
///
/// ```
/// use osb_server_mini::{params, params::ParamsKind, RequestContext};
/// use serde_json::json;
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Params { size: u32 }
///
/// let ctx = RequestContext::for_tests("i-1");
/// let none = params::decode_for_plan::<Params>(&ctx, ParamsKind::Provision, None).unwrap();
/// assert_eq!(none, None);
/// let some = json!({ "size": 3 });
/// let some = params::decode_for_plan::<Params>(&ctx, ParamsKind::Provision, some.as_object());
/// assert_eq!(some.unwrap(), Some(Params { size: 3 }));
/// ```
pub fn decode_for_plan<T: DeserializeOwned>(
    ctx: &RequestContext,
    kind: ParamsKind,
    parameters: Option<&Parameters>,
) -> Result<Option<T>, BrokerError> {
    let declared = match ctx.plan() {
        Some(plan) => kind.schema(plan).is_some(),
        None => parameters.is_some(),
    };
    if !declared || (kind == ParamsKind::Update && parameters.is_none()) {
        return Ok(None);
    }
    decode(parameters).map(Some)
}

/// The description of a 400 for bad parameters: ``invalid parameters: <problems joined by `; `>``.
pub(crate) fn invalid(problems: impl IntoIterator<Item = String>) -> String {
    let problems: Vec<String> = problems.into_iter().collect();
    format!("invalid parameters: {}", problems.join("; "))
}

/// One problem: the message, then ``(at `<pointer>`)`` unless it concerns the whole value.
pub(crate) fn problem(message: impl Display, pointer: &str) -> String {
    if pointer.is_empty() {
        message.to_string()
    } else {
        format!("{message} (at `{pointer}`)")
    }
}

/// A serde error with its location, as [`problem`] writes it. The request-body errors of the
/// runtime can use it too, so every location reads the same.
pub(crate) fn serde_problem(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    problem(error.inner(), &pointer(error.path()))
}

/// The JSON pointer (RFC 6901) of a serde path: `/limits/bytes`, `/items/0`; empty at the root.
pub(crate) fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// A message built at compile time (for `#[broker]`'s checks): `&str`s pushed into a
/// fixed buffer, since `format!` cannot run in a `const`.
#[doc(hidden)]
#[derive(Debug)]
pub struct ConstMessage {
    buf: [u8; ConstMessage::CAPACITY],
    len: usize,
}

impl ConstMessage {
    const CAPACITY: usize = 1024;

    const fn new() -> Self {
        Self {
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    const fn push(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < Self::CAPACITY {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    /// The message (cut at a character boundary if it overflowed).
    #[must_use]
    pub const fn as_str(&self) -> &str {
        let (bytes, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let (valid, _) = bytes.split_at(e.valid_up_to());
                match core::str::from_utf8(valid) {
                    Ok(s) => s,
                    Err(_) => "",
                }
            }
        }
    }
}

/// For `#[broker]`: the message refusing a non-optional typed-parameters argument (`arg`,
/// e.g. "the `params` argument", of type `ty`) when a plan of `offerings` declares no type
/// for `kind`; `None` when every plan does (or is not known at compile time).
#[doc(hidden)]
#[must_use]
pub const fn missing_params(
    offerings: &[&[PlanParams]],
    kind: ParamsKind,
    arg: &str,
    ty: &str,
) -> Option<ConstMessage> {
    let mut i = 0;
    while i < offerings.len() {
        let plans = offerings[i];
        let mut j = 0;
        while j < plans.len() {
            let plan = plans[j];
            if let Some(typed) = plan.typed
                && !typed.declares(kind)
            {
                let attribute = kind.attribute();
                let mut m = ConstMessage::new();
                m.push(arg);
                m.push(" of `");
                m.push(kind.operation());
                m.push("` is `");
                m.push(ty);
                m.push("`, but plan `");
                m.push(plan.plan);
                m.push("` of offering `");
                m.push(plan.offering);
                m.push("` declares no `");
                m.push(attribute);
                m.push("`: take `Option<");
                m.push(ty);
                m.push(">` (`None` for plans without `");
                m.push(attribute);
                m.push("`), or declare `");
                m.push(attribute);
                m.push(" = ");
                m.push(ty);
                m.push("` on plan `");
                m.push(plan.plan);
                m.push("`");
                return Some(m);
            }
            j += 1;
        }
        i += 1;
    }
    None
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
    fn the_error_names_the_nested_field_as_a_json_pointer() {
        assert_eq!(
            description(json!({ "limits": { "bytes": 10.0 } })),
            "invalid parameters: invalid type: floating point `10.0`, expected u32 (at `/limits/bytes`)"
        );
        assert_eq!(
            description(json!({ "limits": {} })),
            "invalid parameters: missing field `bytes` (at `/limits`)"
        );
        assert_eq!(
            description(json!({ "nme": "x" })),
            "invalid parameters: unknown field `nme`, expected `name` or `limits` (at `/nme`)"
        );
        assert_eq!(
            description(json!({ "name": 1 })),
            "invalid parameters: invalid type: integer `1`, expected a string (at `/name`)"
        );
    }

    #[test]
    fn pointers_escape_and_index() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Odd {
            #[serde(rename = "a/b~c")]
            odd: Vec<u8>,
        }
        let err = decode::<Odd>(json!({ "a/b~c": [1, "x"] }).as_object()).unwrap_err();
        assert_eq!(
            err.body().description.as_deref(),
            Some("invalid parameters: invalid type: string \"x\", expected u8 (at `/a~1b~0c/1`)")
        );
    }

    #[test]
    fn optional_parameters_follow_the_plan_of_the_context() {
        use osb_types::ServicePlan;
        use osb_types::catalog::{InputParametersSchema, Schemas, ServiceInstanceSchema};

        use super::{ParamsKind, decode_for_plan};
        use crate::RequestContext;

        let mut ctx = RequestContext::for_tests("i-1");
        let sent = json!({ "name": "n" });
        // No plan in the context: decoded when sent.
        assert!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Provision, None)
                .unwrap()
                .is_none()
        );
        assert!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Provision, sent.as_object())
                .unwrap()
                .is_some()
        );

        // A plan without a schema: `None`, whatever is sent.
        ctx.plan = Some(std::sync::Arc::new(ServicePlan::new("p", "free", "Free")));
        assert!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Provision, sent.as_object())
                .unwrap()
                .is_none()
        );

        // A plan with a create schema: decoded, absent parameters as `{}`.
        let mut plan = ServicePlan::new("p", "dedicated", "Dedicated");
        plan.schemas = Some(Schemas {
            service_instance: Some(ServiceInstanceSchema {
                create: Some(InputParametersSchema::new(json!({}))),
                update: Some(InputParametersSchema::new(json!({}))),
                ..ServiceInstanceSchema::default()
            }),
            ..Schemas::default()
        });
        ctx.plan = Some(std::sync::Arc::new(plan));
        let absent = decode_for_plan::<Params>(&ctx, ParamsKind::Provision, None).unwrap();
        assert_eq!(
            absent,
            Some(Params {
                name: String::new(),
                limits: None
            })
        );
        let bad = json!({ "name": 1 });
        assert_eq!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Provision, bad.as_object())
                .unwrap_err()
                .status(),
            400
        );
        // No bind schema on that plan; an update without parameters changes none.
        assert!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Bind, sent.as_object())
                .unwrap()
                .is_none()
        );
        assert!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Update, None)
                .unwrap()
                .is_none()
        );
        assert!(
            decode_for_plan::<Params>(&ctx, ParamsKind::Update, sent.as_object())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_compile_time_check_names_the_first_plan_without_a_type() {
        use super::{ParamsKind, PlanParams, TypedParams, missing_params};
        let typed = Some(TypedParams {
            provision: true,
            ..TypedParams::NONE
        });
        let kv = [
            PlanParams::new("kv", "dedicated", typed),
            PlanParams::new("kv", "free", Some(TypedParams::NONE)),
        ];
        let unknown = [PlanParams::new("other", "hand-written", None)];
        let message = missing_params(
            &[&unknown, &kv],
            ParamsKind::Provision,
            "the `params` argument",
            "KvParams",
        );
        assert_eq!(
            message.unwrap().as_str(),
            "the `params` argument of `provision` is `KvParams`, but plan `free` of offering `kv` declares no `provision_params`: take `Option<KvParams>` (`None` for plans without `provision_params`), or declare `provision_params = KvParams` on plan `free`"
        );
        assert!(missing_params(&[&kv[..1], &unknown], ParamsKind::Provision, "x", "T").is_none());
        assert!(missing_params(&[&kv[..1]], ParamsKind::Bind, "x", "T").is_some());
    }
}
