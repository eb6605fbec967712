//! What the conformance tests share: the one test broker and its catalog ([`TestBroker`]),
//! the socket harness ([`Harness`]: a real `Server` on 127.0.0.1:0, every answer checked
//! for a JSON object body, the request-identity echo and the A11 error shape), the
//! handler-level helpers (no sockets: [`new_handler`], [`call`], [`send`]) and
//! [`library_checks`], which runs the `osb-conformance` checks against the runtime.
//!
//! The test modules use it with `use crate::support::*;`, so the imports every test needs are
//! re-exported here too.
//!
//! - `broker`: the broker under test and its catalog;
//! - `socket`: the socket harness;
//! - `direct`: the handler-level helpers;
//! - `library`: the `osb-conformance` checks against the runtime.

pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
pub(crate) use std::sync::{Arc, Mutex};
pub(crate) use std::time::Duration;

pub(crate) use bytes::Bytes;
pub(crate) use http::{HeaderMap, Method, Request, StatusCode};
pub(crate) use http_body_util::BodyExt;
pub(crate) use osb_server_mini::auth::BasicAuth;
pub(crate) use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
pub(crate) use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
pub(crate) use osb_server_mini::testing::{Handler, handler};
pub(crate) use osb_server_mini::types::binding::{BindResponse, RotateBindingRequest};
pub(crate) use osb_server_mini::types::catalog::{
    InputParametersSchema, MaintenanceInfo, Schemas, ServiceInstanceSchema,
};
pub(crate) use osb_server_mini::types::{
    ApiVersion, BindRequest, Catalog, ProvisionRequest, ServiceOffering, ServicePlan, UpdateRequest,
};
pub(crate) use osb_server_mini::{
    Broker, BrokerError, PlanPolicy, RequestContext, Running, ServeError, Server,
};
pub(crate) use serde_json::{Value, json};
pub(crate) use tokio::sync::Semaphore;

mod broker;
mod direct;
mod library;
mod socket;

pub(crate) use broker::*;
pub(crate) use direct::*;
pub(crate) use library::*;
pub(crate) use socket::*;

// ---------------------------------------------------------------------------------------
// Request bodies and paths, for both levels.

pub(crate) const I: &str = "/v2/service_instances";

pub(crate) fn prov(plan: &str) -> Value {
    json!({ "service_id": if plan.starts_with("fixed") { "fixed" } else { "svc" }, "plan_id": plan })
}

pub(crate) fn prov_with(plan: &str, parameters: Value) -> Value {
    let mut body = prov(plan);
    body["parameters"] = parameters;
    body
}

pub(crate) fn bind_body(parameters: Value) -> Value {
    json!({ "service_id": "svc", "plan_id": "sync", "parameters": parameters })
}

/// A binding of instance `bi`.
pub(crate) const B1: &str = "/v2/service_instances/bi/service_bindings/b1";
