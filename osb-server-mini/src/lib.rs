//! # osb-server-mini
//!
//! A hyper 1.x runtime for [Open Service Broker API] v2.17 brokers. A broker does the work
//! (create a database, hand out credentials); the runtime owns every rule of the protocol:
//! routing, authentication, the API version and identity headers, 200 vs 201 vs 202, 409,
//! 410, 422 `AsyncRequired` / `ConcurrencyError` / `MaintenanceInfoConflict`, parameter
//! schemas, operation ids, `last_operation`, `Retry-After`, error bodies, and the records
//! that let a broker survive restarts.
//!
//! [Open Service Broker API]: https://github.com/openservicebrokerapi/servicebroker
//!
//! ## A broker
//!
//! Implement [`Broker`] (three methods are required; everything else has a default), hand it
//! to [`Server`], and serve. This one runs: it starts on a free port, answers a Platform's
//! provision and its identical repeat, and shuts down.
//!
//! ```
//! use osb_server_mini::reply::{Deprovisioned, Provisioned};
//! use osb_server_mini::request::DeprovisionRequest;
//! use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
//! use osb_server_mini::{Broker, BrokerError, RequestContext, Server};
//!
//! struct Hello;
//!
//! impl Broker for Hello {
//!     fn catalog(&self) -> Catalog {
//!         Catalog::new(vec![ServiceOffering::new("svc-1", "hello", "Says hello",
//!             vec![ServicePlan::new("plan-1", "default", "The only plan")])])
//!     }
//!     async fn provision(&self, ctx: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
//!         Ok(Provisioned::done().dashboard_url(format!("https://dash.example/{}", ctx.instance_id())))
//!     }
//!     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
//!         Ok(Deprovisioned::done())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let running = Server::new(Hello).basic_auth("admin", "secret").spawn("127.0.0.1:0").await?;
//! let put = || {
//!     reqwest::Client::new()
//!         .put(format!("{}/v2/service_instances/i-1", running.url()))
//!         .basic_auth("admin", Some("secret"))
//!         .header("X-Broker-API-Version", "2.17")
//!         .body(r#"{"service_id": "svc-1", "plan_id": "plan-1"}"#)
//!         .send()
//! };
//! assert_eq!(put().await?.status(), 201, "created");
//! let again = put().await?;
//! assert_eq!(again.status(), 200, "an identical repeat: the broker is not called again");
//! assert_eq!(again.text().await?, r#"{"dashboard_url":"https://dash.example/i-1"}"#);
//! running.shutdown().await; // in a binary: `.serve("0.0.0.0:8080").await?` until SIGTERM
//! # Ok(())
//! # }
//! ```
//!
//! With the `macros` feature (default) the catalog can be Rust items and the broker an
//! annotated `impl`: `#[derive(Offering)]`, `#[derive(Plan)]` and `#[broker]` write the same
//! [`Broker`] implementation (see the `osb-derive` crate and the README).
//!
//! ## Asynchronous work
//!
//! A method that returns `later` instead of `done` ([`reply::Provisioned::later`],
//! [`reply::Bound::later`], ...) hands the runtime a future: the runtime answers 202 with an
//! operation id (or 422 `AsyncRequired` without `accepts_incomplete=true`, and then never
//! starts the work), runs it in the background, answers `last_operation` from it (with the
//! progress text the broker sets), answers repeats of the same request with the same
//! operation and different requests on the same resource with 422 `ConcurrencyError`.
//! [`PlanPolicy`] makes a plan asynchronous-only or sets its `Retry-After` hint.
//!
//! ## Records, restarts and replicas (the store)
//!
//! The protocol is answered from records of every instance and binding, kept in a
//! [`store::Store`]: [`store::MemoryStore`] by default (a restart forgets everything, and a
//! warning says so), `store::SqliteStore::open(path)` (feature `sqlite`, default) for one
//! durable process, `store::PostgresStore` (feature `postgres`) for replicas sharing one
//! database. The runtime records an intent before every broker call; work a crash interrupted
//! is handed once to [`Broker::resume`] at the next start (or when its lease expires), and
//! ends `failed` if the broker does not resume it. A store that fails is answered 503
//! `StoreUnavailable`; the server recovers by itself.
//!
//! ## Where each concern lives
//!
//! | concern | public | inside |
//! |---|---|---|
//! | settings, serving, shutdown | [`Server`], [`Running`], [`config`], [`serve()`] | `server`, `serve` (accept loop, timeouts, connection cap) |
//! | what a broker implements | [`Broker`], [`Offering`], [`Plan`], [`PlanPolicy`] | `broker` |
//! | what it receives and returns | [`RequestContext`], [`request`], [`reply`], [`types`] (the wire model, `osb-types`) | `context` |
//! | failing a request, failing to start | [`BrokerError`], [`ServeError`] | `error` |
//! | typed parameters | [`params`] | `schema` (the plans' JSON schemas, compiled at start) |
//! | authentication | [`auth`] (`BasicAuth`, `BearerToken`, `Authenticator`) | `headers` (version, identity headers) |
//! | the request pipeline | | `app` (routing, headers, body, dispatch), `router`, `decode`, `answers` and `response` (the error answers and their bodies) |
//! | one OSB operation | | `ops/` (one module per endpoint, and `recover`) |
//! | idempotency, concurrency, durability | [`store`] | `state/` (gates, intents, leases, settling outcomes), `catalog_index` |
//! | mounting in another stack (axum, tower) | [`BrokerService`] | `service` |
//! | HTTPS | `tls` (feature `tls`) | `tls` |
//!
//! ## Cargo features
//!
//! - `macros` (default): `#[broker]`, `#[derive(Offering)]` and `#[derive(Plan)]`.
//! - `sqlite` (default): `store::SqliteStore`, SQLite compiled in.
//! - `postgres`: `store::PostgresStore`, records in a PostgreSQL database shared by replicas.
//! - `test-util`: the `testing` module: a broker on a free port with a client wired to it
//!   in one line, and a `RequestContext` builder to call broker methods directly.
//! - `tls`: HTTPS with rustls (the *ring* provider): `Server::tls` with a `tls::TlsConfig`
//!   made from a PEM certificate chain and private key (files or bytes). The server offers
//!   HTTP/2 and HTTP/1.1 by ALPN; plain HTTP is not served on a TLS port. Mutual TLS with
//!   `TlsConfig::with_client_ca` and `auth::ClientCertificate` (the certificate's CN as the
//!   caller).
//!
//! Operating a broker: `Server::ops_listener` (Prometheus metrics, `/healthz`, `/readyz`),
//! hashed credentials (`Server::basic_auth_hash`, `auth::BearerTokens`), the caller's identity
//! (`RequestContext::caller`), catalog caching and reload (`Server::catalog_handle`).
//!
//! ```toml
//! osb-server-mini = { version = "0.1", features = ["tls"] }
//! ```

#![deny(missing_docs)]

mod answers;
mod app;
pub mod auth;
pub mod broker;
pub mod catalog;
mod catalog_answer;
mod catalog_index;
pub mod config;
pub mod context;
mod decode;
pub mod error;
mod headers;
mod metrics;
mod ops;
mod ops_endpoint;
pub mod params;
pub mod reply;
pub mod request;
mod response;
mod router;
mod schema;
mod serve;
mod server;
mod service;
mod shard;
mod state;
pub mod store;
#[cfg(feature = "test-util")]
pub mod testing;
#[cfg(feature = "tls")]
pub mod tls;

pub use broker::{Broker, Offering, Plan, PlanPolicy};
pub use context::RequestContext;
pub use error::{BrokerError, ServeError};
pub use ops_endpoint::OpsService;
/// The OSB wire model, re-exported.
pub use osb_types as types;
pub use serve::Running;
pub use server::{Server, serve};
pub use service::{BrokerService, ResponseBody, ResponseFuture};

/// `#[broker]`, `#[derive(Offering)]` and `#[derive(Plan)]`: see the `osb-derive` crate.
#[cfg(feature = "macros")]
pub use osb_derive::{Offering, Plan, broker};

/// What the code generated by `osb-derive` names. Not public API: no semver guarantees.
#[doc(hidden)]
pub mod __private {
    pub use ::core;
    pub use ::osb_types;
    #[cfg(feature = "macros")]
    pub use ::schemars;
    pub use ::serde;
    pub use ::serde_json;
    pub use ::std::time::Duration;
    pub use ::std::vec::Vec;

    pub use crate::broker::{Broker, Offering, Plan, PlanPolicy};
    pub use crate::context::RequestContext;
    pub use crate::error::BrokerError;
    pub use crate::params::{
        ParamsKind, PlanParams, TypedParams, decode as decode_params,
        decode_for_plan as decode_params_for_plan, missing_params,
    };
    pub use crate::reply::{Bound, Deprovisioned, Interrupted, Provisioned, Resumed, Unbound, Updated};
    pub use crate::request::{DeprovisionRequest, UnbindRequest};
    pub use osb_types::binding::{FetchBindingResponse, RotateBindingRequest};
    pub use osb_types::catalog::{
        Cost, DashboardClient, InputParametersSchema, MaintenanceInfo, OfferingMetadata, PlanMetadata,
        Schemas, ServiceBindingSchema, ServiceInstanceSchema,
    };
    pub use osb_types::instance::FetchInstanceResponse;
    pub use osb_types::operation::LastOperationResponse;
    pub use osb_types::{
        BindRequest, Catalog, PlanId, ProvisionRequest, ServiceId, ServiceOffering, ServicePlan,
        UpdateRequest,
    };

    /// The policy of `plan` among `policies` (from `Offering::plan_policies`), else the default.
    pub fn find_policy(policies: &[Vec<(PlanId, PlanPolicy)>], plan: &ServicePlan) -> PlanPolicy {
        policies
            .iter()
            .flatten()
            .find(|(id, _)| *id == plan.id)
            .map(|(_, policy)| *policy)
            .unwrap_or_default()
    }
}
