//! Macros for [`osb-server-mini`](https://docs.rs/osb-server-mini): declare an Open Service
//! Broker catalog as Rust structs (`#[derive(Offering)]`, `#[derive(Plan)]`) and a broker as an
//! annotated impl block (`#[broker]`).
//!
//! ```
//! use osb_server_mini::{Offering, Plan};
//!
//! #[derive(Offering)]
//! #[osb(id = "db", name = "db", description = "A database", bindable, plans(Small, Large))]
//! struct Db;
//!
//! #[derive(Plan)]
//! #[osb(id = "db-small", name = "small", description = "One node", free)]
//! struct Small;
//!
//! #[derive(Plan)]
//! #[osb(id = "db-large", name = "large", description = "Three nodes", async_only)]
//! struct Large;
//!
//! // The catalog entry the runtime serves, built from the attributes.
//! let offering = Db::offering();
//! assert_eq!(offering.name, "db");
//! assert_eq!(offering.bindable, true);
//! let plans: Vec<&str> = offering.plans.iter().map(|p| p.name.as_str()).collect();
//! assert_eq!(plans, ["small", "large"]);
//! assert_eq!(Small::plan().free, Some(true));
//! ```
//!
//! Use them through `osb_server_mini` (feature `macros`, on by default): generated code names
//! only `::osb_server_mini::__private`, so this crate is never a direct dependency.
//!
//! The macros are sugar over the `Broker`, `Offering` and `Plan` traits: anything they write
//! can be written by hand. Set `OSB_MACROS_DEBUG=1` to print the generated code to stderr.

mod broker;
mod catalog;
mod crate_path;
#[cfg(test)]
mod snapshot;
mod suggest;

use proc_macro::TokenStream;

/// Implements `osb_server_mini::Broker` for the type of an inherent impl block.
///
/// # Example
///
/// ```
/// use osb_server_mini::{broker, BrokerError, Offering, Plan, RequestContext};
/// use osb_server_mini::reply::{Deprovisioned, Provisioned};
/// use osb_server_mini::request::DeprovisionRequest;
/// use osb_server_mini::types::ProvisionRequest;
///
/// #[derive(Offering)]
/// #[osb(id = "6c3e0a52-0000-4000-8000-000000000001", name = "echo",
///       description = "Echoes what you send", bindable, plans(Small))]
/// struct Echo;
///
/// #[derive(Plan)]
/// #[osb(id = "1f0a0a52-0000-4000-8000-000000000002", name = "small", description = "Small")]
/// struct Small;
///
/// struct EchoBroker;
///
/// #[broker(catalog(Echo))]
/// impl EchoBroker {
///     async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
///         Ok(Provisioned::done())
///     }
///     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
///         Ok(Deprovisioned::done())
///     }
/// }
///
/// use osb_server_mini::Broker;
/// assert_eq!(EchoBroker.catalog().services[0].name, "echo");
/// ```
///
/// # Attributes
///
/// ## `catalog(A, B, ..)` (required)
///
/// The `Offering` types served by `GET /v2/catalog`, in order. The generated
/// `Broker::plan_policy` reads their plans' `async_only` and `retry_after_secs`.
///
/// ## `crate = "path"`
///
/// Where `osb_server_mini` is, when it is re-exported under another name
/// (e.g. `crate = "my_sdk::osb"`).
///
/// # Operations
///
/// Every method of the impl block is an operation of the `Broker` trait, by name:
/// `provision` and `deprovision` (required), `update`, `fetch_instance`,
/// `instance_last_operation`, `bind`, `rotate_binding`, `unbind`, `fetch_binding`,
/// `binding_last_operation`, `resume` (an operation a restart interrupted). Each is an `async fn` taking `&self`, `&RequestContext` and,
/// where the trait has one, the request. Operations left out keep the trait's default.
/// Helper methods go in a second, plain `impl` block.
///
/// # Typed parameters
///
/// `provision`, `update` and `bind` may take a fourth argument: the request's `parameters`
/// decoded into your type (`T: serde::de::DeserializeOwned`; absent parameters decode as `{}`).
/// The runtime first checks them against the schema the plan advertises (name the same type
/// in the plan's `provision_params`/`update_params`/`bind_params`); then the generated code
/// decodes them, and when serde refuses them (what a schema cannot say: a
/// `#[serde(try_from)]` check, a `u32` field sent a value past `u32::MAX`, ...) answers
/// 400 `BadRequest` with the failing field, e.g.
/// ``invalid parameters: invalid type: string "big", expected u32 (at `/size`)``,
/// without calling your method. The request keeps its raw `parameters`. The same decoding is
/// `osb_server_mini::params::decode`, for hand-written brokers.
///
/// Parameters follow their plan. Written `Option<T>` (`Option`, `std::option::Option` or
/// `core::option::Option`; not an alias), the argument is `None` for plans that declare no
/// type for these parameters (no schema of that kind) and for an update that carries no
/// parameters, else `Some` of the decoded parameters (`osb_server_mini::params::decode_for_plan`).
/// A plain `T` on an offering where some derived plan declares no such type does not compile:
/// the error, at your type, names the plan
/// (``the `params` argument of `provision` is `KvParams`, but plan `free` of offering `kv`
/// declares no `provision_params`: take `Option<KvParams>` ...``). Plans whose typed
/// parameters the macros cannot see (a hand-written `Plan` keeping
/// `Plan::TYPED_PARAMS = None`, a hand-written `Offering`) are not checked. When plans declare
/// different types, take no typed argument and call `params::decode::<TheirType>` per
/// `request.plan_id`.
///
/// ```
/// use osb_server_mini::{broker, Broker, BrokerError, Offering, Plan, RequestContext};
/// use osb_server_mini::reply::{Deprovisioned, Provisioned};
/// use osb_server_mini::request::DeprovisionRequest;
/// use osb_server_mini::types::ProvisionRequest;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct DiskParams {
///     /// Size in GB.
///     size: u32,
/// }
///
/// #[derive(Offering)]
/// #[osb(id = "6c3e0a52-0000-4000-8000-000000000011", name = "disk", description = "Disks",
///       plans(Standard))]
/// struct Disk;
///
/// #[derive(Plan)]
/// #[osb(id = "1f0a0a52-0000-4000-8000-000000000012", name = "standard", description = "Standard",
///       provision_params = DiskParams)]
/// struct Standard;
///
/// struct DiskBroker;
///
/// #[broker(catalog(Disk))]
/// impl DiskBroker {
///     async fn provision(&self, _: &RequestContext, _: ProvisionRequest, params: DiskParams)
///         -> Result<Provisioned, BrokerError> {
///         assert!(params.size > 0);
///         Ok(Provisioned::done())
///     }
///     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest)
///         -> Result<Deprovisioned, BrokerError> {
///         Ok(Deprovisioned::done())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = RequestContext::for_tests("instance-1");
/// let size = serde_json::json!({ "size": "big" }).as_object().unwrap().clone();
/// let request = ProvisionRequest::new(Disk::offering().id, Standard::ID).with_parameters(size);
/// // Through the `Broker` trait, as the runtime calls it:
/// let err = Broker::provision(&DiskBroker, &ctx, request).await.unwrap_err();
/// assert_eq!(err.status(), 400);
/// assert_eq!(err.body().description.as_deref(),
///            Some("invalid parameters: invalid type: string \"big\", expected u32 (at `/size`)"));
/// # });
/// ```
///
/// # What it generates
///
/// The impl block unchanged, and in a `const _: () = { .. };` an `impl Broker` whose methods
/// call the inherent ones and check that their futures are `Send`.
///
/// # Errors
///
/// Spanned compile errors for: a non-impl item, a trait impl, a generic impl, a missing
/// `catalog(..)`, an unknown or repeated argument, an unknown operation (with a suggestion),
/// a non-`async` operation, a receiver other than `&self`, a wrong number of parameters, a
/// missing `provision` or `deprovision`, an argument that visibly names the wrong type
/// (another operation's request: ``the second argument of `unbind` is `UnbindRequest`
/// (`osb_server_mini::request::UnbindRequest`), not `BindRequest` ``; a request by reference;
/// a context by value), and a plain typed-parameters argument on an offering with a plan that
/// declares none (naming the plan). rustc reports, at your code, a request or return type that
/// does not match the trait (through an alias), a typed-parameters type that is not
/// `Deserialize`, and a future that is not `Send`.
///
/// ```compile_fail
/// # use osb_server_mini::{broker, BrokerError, RequestContext, reply::Provisioned, types::ProvisionRequest};
/// # struct Echo;
/// struct B;
/// #[broker(catalog(Echo))]
/// impl B {
///     // error: unknown broker operation `provison`; did you mean `provision`?
///     async fn provison(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
///         Ok(Provisioned::done())
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn broker(args: TokenStream, item: TokenStream) -> TokenStream {
    broker::expand(args.into(), item.into()).into()
}

/// Implements `osb_server_mini::Offering`: a Service Offering of the catalog.
///
/// # Example
///
/// ```
/// use osb_server_mini::{Offering, Plan};
///
/// #[derive(Offering)]
/// #[osb(id = "6c3e0a52-0000-4000-8000-000000000001", name = "echo", description = "Echoes",
///       bindable, instances_retrievable, tags("demo"),
///       metadata(display_name = "Echo", shareable, extra(vendor = "acme", regions("eu", "us"))),
///       plans(Small))]
/// struct Echo;
///
/// #[derive(Plan)]
/// #[osb(id = "1f0a0a52-0000-4000-8000-000000000002", name = "small", description = "Small")]
/// struct Small;
///
/// let offering = Echo::offering();
/// assert_eq!(offering.plans[0].id, Small::ID);
/// assert_eq!(offering.metadata.unwrap().extra["regions"], serde_json::json!(["eu", "us"]));
/// ```
///
/// # Attributes
///
/// All in `#[osb(...)]`; booleans are a bare key or `key = true|false`.
///
/// ## `id = "…"`, `name = "…"`, `description = "…"` (required, non-empty)
/// ## `tags("a", ..)`, `requires("syslog_drain" | "route_forwarding" | "volume_mount", ..)`
/// ## `bindable`, `instances_retrievable`, `bindings_retrievable`, `allow_context_updates`, `plan_updateable`
/// ## `metadata(display_name, image_url, long_description, provider_display_name, documentation_url, support_url, shareable, extra(..))`
///
/// `extra(key = value, ..)` adds keys the specification leaves open (vendor metadata) beside
/// the defined ones: a value is a string, integer, float or boolean literal, or a list of
/// them (`regions("eu", "us")`, a JSON array). Keys are identifiers (`r#type` for `type`);
/// a key the specification defines (`displayName`, `display_name`, ..) is an error.
/// ## `dashboard_client(id = "…", secret = "…", redirect_uri = "…")`
/// ## `plans(A, B, ..)` (at least one): types deriving `Plan`
/// ## `crate = "path"`: where `osb_server_mini` is
///
/// # What it generates
///
/// `impl Offering` building the `ServiceOffering`, listing each plan's `PlanPolicy`, and
/// `PLAN_PARAMS`: each plan's name and `Plan::TYPED_PARAMS`, for `#[broker]`'s checks.
///
/// # Errors
///
/// Missing or empty `id`/`name`/`description`, unknown keys (with a suggestion), repeated
/// keys, literals of the wrong type, enums and unions, no plans. Rules across items (unique
/// ids and names) are checked by `Catalog::validate()` when the server starts.
///
/// ```compile_fail
/// use osb_server_mini::Offering;
/// #[derive(Offering)]
/// #[osb(id = "", name = "echo", description = "Echoes", plans(Small))] // error: `id` must be a non-empty string
/// struct Echo;
/// ```
#[proc_macro_derive(Offering, attributes(osb))]
pub fn derive_offering(input: TokenStream) -> TokenStream {
    catalog::derive_offering(input.into()).into()
}

/// Implements `osb_server_mini::Plan`: a Service Plan, listed by an offering's `plans(..)`.
///
/// # Example
///
/// ```
/// use osb_server_mini::Plan;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Params { size: u32 }
///
/// #[derive(Plan)]
/// #[osb(id = "9d2b0a52-0000-4000-8000-000000000003", name = "large", description = "Large",
///       free = false, async_only, retry_after_secs = 2,
///       maintenance_info(version = "1.2.0", description = "New engine"),
///       metadata(bullets("2 GB"), display_name = "Large",
///                cost(unit = "MONTHLY", amount(usd = 9.5))),
///       provision_params = Params)]
/// struct Large;
///
/// let plan = Large::plan();
/// assert_eq!(plan.instance_create_schema().unwrap()["$schema"],
///            "http://json-schema.org/draft-04/schema#");
/// assert!(Large::policy().async_only);
/// ```
///
/// # Attributes
///
/// ## `id = "…"`, `name = "…"`, `description = "…"` (required, non-empty)
/// ## `free`, `bindable`, `binding_rotatable`, `plan_updateable`
///
/// A plan is free unless it says `free = false` (the specification's default for `free` is
/// true). `bindable` and `plan_updateable` left out take the offering's value.
/// ## `maximum_polling_duration = 600` (seconds)
/// ## `maintenance_info(version = "1.2.3", description = "…")`: `version` must be SemVer 2.0
/// ## `metadata(bullets("…", ..), display_name = "…", cost(unit = "…", amount(usd = 1.5)), extra(..))`
///
/// `cost(..)` may repeat; `extra(..)` is as for offerings.
/// ## `async_only`, `retry_after_secs = 5`: runtime policy (not in the catalog)
/// ## `provision_params = T`, `update_params = T`, `bind_params = T`
///
/// `T: serde::de::DeserializeOwned + schemars::JsonSchema`; the plan advertises its schema,
/// converted to JSON Schema draft-04 as the specification requires. The generated code reaches
/// `schemars` through `osb_server_mini`, but `#[derive(schemars::JsonSchema)]` on your own
/// parameter types needs `schemars` (1.x) as a dependency of your crate, as `serde` does for
/// `#[derive(Deserialize)]`.
///
/// ## `crate = "path"`: where `osb_server_mini` is
///
/// # What it generates
///
/// `impl Plan` with `ID`, `NAME`, `TYPED_PARAMS` (which of `provision_params`,
/// `update_params`, `bind_params` are given, for `#[broker]`'s compile-time checks), `plan()`
/// and `policy()`.
///
/// # Errors
///
/// As for `Offering`, plus a `maintenance_info` version that is not SemVer.
///
/// ```compile_fail
/// use osb_server_mini::Plan;
/// #[derive(Plan)]
/// #[osb(id = "p", name = "n", description = "d", maintenance_info(version = "1.2"))]
/// struct Small;
/// ```
#[proc_macro_derive(Plan, attributes(osb))]
pub fn derive_plan(input: TokenStream) -> TokenStream {
    catalog::derive_plan(input.into()).into()
}
