//! # osb-client
//!
//! An async client for the [Open Service Broker API] v2.17, for platforms: every endpoint,
//! answers as enums that keep the specification's meaning of each status, polling with
//! `Retry-After` and maximum durations, orphan mitigation per the v2.17 table, and version
//! gating.
//!
//! ```
//! use osb_client::types::{BindRequest, ProvisionRequest};
//! use osb_client::{Client, ProvisionOutcome};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // The example's broker: the key-value broker of osb-examples, on a free port.
//! # let broker = osb_server_mini::Server::new(osb_examples::kv::KvBroker::default())
//! #     .basic_auth("admin", "secret")
//! #     .spawn("127.0.0.1:0")
//! #     .await?;
//! let url = "http://127.0.0.1:8080";
//! # let url = broker.url();
//! let client = Client::builder(url)
//!     .basic_auth("admin", "secret")
//!     .build()?;
//!
//! // 1. catalog: find the offering and plan by name
//! let catalog = client.catalog().await?;
//! let Some((offering, plan)) = catalog.plan_by_name("kv", "dedicated") else {
//!     panic!("the broker has no kv/dedicated plan");
//! };
//!
//! // 2. provision (accepts_incomplete=true by default); parameters are anything that
//! //    serializes to a JSON object; organization_guid and space_guid are required (or a
//! //    Cloud Foundry / Kubernetes context to take them from)
//! let instance = client.instance("inst-1");
//! let request = ProvisionRequest::new(offering.id.clone(), plan.id.clone())
//!     .with_org_space("org-1", "space-1")
//!     .with_parameters(serde_json::json!({ "max_keys": 100 }));
//! let outcome = instance.provision(&request).await?;
//! if let Some(operation) = outcome.operation() {
//!     println!("provisioning asynchronously ({operation})");
//! }
//!
//! // 3. wait: polls last_operation, honours Retry-After and the plan's maximum duration;
//! //    a failed provision is deprovisioned (orphan mitigation) and reported in the error.
//! let opts = osb_client::WaitOptions::default().plan(plan);
//! instance.wait_with(&outcome, &opts).await?;
//!
//! // 4. bind, then read the credentials (an asynchronous bind delivers them through `get`)
//! let binding = instance.binding("bind-1");
//! let bound = binding.bind(&BindRequest::new(offering.id.clone(), plan.id.clone())).await?;
//! let credentials = match bound.credentials() {
//!     Some(c) => Some(c.clone()),
//!     None => {
//!         binding.wait(&bound).await?;
//!         binding.get().await?.credentials
//!     }
//! };
//! println!("credentials for {:?}", credentials.as_ref().map(|c| c.keys().cloned().collect::<Vec<_>>()));
//! # assert!(credentials.is_some());
//! # let _ = ProvisionOutcome::Created(Default::default());
//! # broker.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Every future of this crate is `Send`: fan requests out over tasks with `tokio::spawn` or
//! a `tokio::task::JoinSet` (a [`Client`] is cheap to clone).
//!
//! Errors are one [`Error`] with predicates ([`Error::is_async_required`],
//! [`Error::is_concurrency_error`], [`Error::is_gone`], ...). When a failure requires orphan
//! mitigation (see [`orphan`]), the client has already retried the DELETE until the broker
//! confirmed it (or the policy's time ran out) and [`Error::orphan_mitigation`] says how it
//! went; with the policy disabled, [`Error::needs_orphan_mitigation`] tells the caller to run
//! [`InstanceApi::orphan_mitigate`] itself.
//!
//! Requests the specification forbids are refused before sending ([`Error::InvalidRequest`]:
//! empty ids, a provision without `organization_guid`/`space_guid`, `parameters` that are not
//! a JSON object, an originating identity for another platform than `context.platform`, ...); the
//! rules that need the catalog are opt-in checks in [`checks`] ([`Client::check_update`],
//! [`Client::check_bind`], [`Client::check_rotate`], [`Client::check_provision`]).
//!
//! ## Headers
//!
//! Every request carries `X-Broker-API-Version` and (from 2.15) a fresh
//! `X-Broker-API-Request-Identity`; requests tied to a user action carry
//! `X-Broker-API-Originating-Identity` when configured (never the catalog or mitigation).
//!
//! ## Features
//!
//! | Feature | Default | What |
//! |---|---|---|
//! | (rustls) | yes | TLS through `reqwest` with `rustls` |
//!
//! A private CA and a client certificate (mutual TLS) are builder settings
//! ([`ClientBuilder::add_root_certificate_pem`], [`ClientBuilder::client_identity_pem`]); bring
//! your own `reqwest::Client` (native TLS, proxies) with [`ClientBuilder::http_client`].
//!
//! ## Request identity and tracing
//!
//! Every error that followed a request names the `X-Broker-API-Request-Identity` it carried
//! ([`Error::request_identity`], also in its text), to find it in the broker's logs. Each
//! request runs in an `osb_call` tracing span (`method`, `route`, `instance_id`, `binding_id`,
//! `request_identity`, `attempt`, `status`), polling in `osb_wait` and orphan mitigation in
//! `osb_orphan_mitigation`.
//!
//! [Open Service Broker API]: https://github.com/openservicebrokerapi/servicebroker

#![deny(missing_docs)]

mod backoff;
mod binding;
mod builder;
mod catalog_cache;
pub mod checks;
mod client;
mod error;
mod instance;
pub mod orphan;
mod outcome;
mod poll;
mod resource;
pub mod rotation;
mod transport;
pub mod version;

pub use binding::BindingApi;
pub use builder::ClientBuilder;
pub use client::Client;
pub use error::{Error, Result};
pub use instance::InstanceApi;
pub use orphan::OrphanMitigation;
pub use osb_types as types;
pub use osb_types::OperationKind;
pub use outcome::{
    BindOutcome, DeprovisionOutcome, LastOperation, PendingOperation, Pollable, ProvisionOutcome,
    UnbindOutcome, UpdateOutcome,
};
pub use outcome::{MitigationOutcome, MitigationResult, MitigationTarget};
pub use poll::{Progress, ProgressFn, WaitOptions, WaitOutcome};
pub use rotation::Rotated;
pub use transport::{IdentityProvider, RequestIdGenerator, parse_retry_after};
