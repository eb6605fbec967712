//! `App`: the request handler. Everything between "the request head arrived" and "the response
//! is ready": routing, headers, reading the body (through the caller), catalog checks, the state
//! machine over the store, async operations.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{ALLOW, HeaderValue};
use http::request::Parts;
use http::{Request, StatusCode};
use osb_types::catalog::{ServiceOffering, ServicePlan};
use osb_types::{ApiVersion, BindingId, Catalog, InstanceId, OriginatingIdentity, RequestIdentity};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::broker::{Broker, PlanPolicy};
use crate::config::Config;
use crate::context::RequestContext;
use crate::error::{BrokerError, ServeError};
use crate::headers;
use crate::operation::Operations;
use crate::response::{self, HttpResponse};
use crate::router::{self, Route, RouteError};
use crate::schema::Schemas;
use crate::store::{InstanceRecord, Store};

/// The request handler shared by every connection.
pub(crate) struct App<B: Broker> {
    pub(crate) broker: B,
    pub(crate) config: Config,
    pub(crate) catalog: Catalog,
    catalog_bytes: Bytes,
    /// Plan id → its offering and plan, shared (not cloned) with every request context.
    plans: HashMap<String, (Arc<ServiceOffering>, Arc<ServicePlan>)>,
    pub(crate) schemas: Schemas,
    policies: HashMap<String, PlanPolicy>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) gates: Gates,
    pub(crate) ops: Operations,
    /// Ids deleted by an asynchronous delete, so `last_operation` answers 410 rather than 404.
    gone: Mutex<HashSet<(String, String)>>,
}

const MAX_TOMBSTONES: usize = 100_000;

/// What every operation needs besides its body: the parsed headers and path ids.
pub(crate) struct Incoming {
    pub(crate) route: Route,
    pub(crate) query: String,
    pub(crate) body: Bytes,
    pub(crate) api_version: ApiVersion,
    pub(crate) originating_identity: Option<OriginatingIdentity>,
    pub(crate) request_identity: Option<RequestIdentity>,
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
            accepts_incomplete,
            offering: None,
            plan: None,
            instance: None,
            last_operation: None,
        }
    }

    /// Decodes the JSON body: 400 with the failing field path.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<(T, serde_json::Value), HttpResponse> {
        self.content_type_ok.clone()?;
        let value = self.json_value()?;
        let typed = serde_path_to_error::deserialize::<_, T>(&value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = if path == "." || path.is_empty() {
                format!("invalid request body: {inner}")
            } else {
                format!("invalid request body at `{path}`: {inner}")
            };
            bad_request(msg)
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

/// 400 `BadRequest` with this description.
pub(crate) fn bad_request(description: impl Into<String>) -> HttpResponse {
    response::error(StatusCode::BAD_REQUEST, "BadRequest", description)
}

/// Which operation failed, to decide which of `instance_usable`/`update_repeatable` may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failed {
    Update,
    Deprovision,
    Other,
}

/// The response of a broker error, without the fields the spec forbids for this operation.
pub(crate) fn broker_error(err: BrokerError, op: Failed) -> HttpResponse {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = err.into_body();
    match op {
        Failed::Update => {}
        Failed::Deprovision => body.update_repeatable = None,
        Failed::Other => {
            body.instance_usable = None;
            body.update_repeatable = None;
        }
    }
    if status == StatusCode::GONE {
        return response::empty_object(StatusCode::GONE);
    }
    response::json(status, &body)
}

/// 422 `ConcurrencyError`.
pub(crate) fn concurrency_error() -> HttpResponse {
    broker_error(BrokerError::concurrency_error(), Failed::Other)
}

/// 422 `AsyncRequired`.
pub(crate) fn async_required() -> HttpResponse {
    broker_error(BrokerError::async_required(), Failed::Other)
}

impl<B: Broker> App<B> {
    /// Validates the catalog, compiles every plan schema, reads the plan policies.
    pub(crate) fn new(broker: B, config: Config) -> Result<Self, ServeError> {
        let catalog = broker.catalog();
        catalog.validate()?;
        let schemas = Schemas::compile(&catalog)?;
        let catalog_bytes =
            Bytes::from(
                serde_json::to_vec(&catalog).map_err(|e| ServeError::InvalidSchema {
                    location: "catalog".to_owned(),
                    message: format!("the catalog could not be serialized: {e}"),
                })?,
            );
        let mut plans = HashMap::new();
        let mut policies = HashMap::new();
        for offering in &catalog.services {
            let shared = Arc::new(offering.clone());
            for plan in &offering.plans {
                policies.insert(plan.id.as_str().to_owned(), broker.plan_policy(offering, plan));
                plans.insert(
                    plan.id.as_str().to_owned(),
                    (Arc::clone(&shared), Arc::new(plan.clone())),
                );
            }
        }
        let store = Arc::clone(&config.store);
        Ok(Self {
            broker,
            config,
            catalog,
            catalog_bytes,
            plans,
            schemas,
            policies,
            store,
            gates: Gates::default(),
            ops: Operations::default(),
            gone: Mutex::new(HashSet::new()),
        })
    }

    /// The offering and plan of a plan id, if the plan belongs to `service_id`.
    pub(crate) fn plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Option<(&Arc<ServiceOffering>, &Arc<ServicePlan>)> {
        self.plans
            .get(plan_id)
            .filter(|(o, _)| o.id.as_str() == service_id)
            .map(|(o, p)| (o, p))
    }

    /// 400 unless the service and plan are in the catalog and the plan belongs to the service.
    pub(crate) fn known_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        if self.catalog.offering(service_id).is_none() {
            return Err(bad_request(format!(
                "unknown service_id {service_id:?}: not in this broker's catalog"
            )));
        }
        self.plan(service_id, plan_id)
            .map(|(o, p)| (Arc::clone(o), Arc::clone(p)))
            .ok_or_else(|| {
                bad_request(format!(
                    "unknown plan_id {plan_id:?}: not a plan of the service offering {service_id:?}"
                ))
            })
    }

    /// The runtime policy of a plan.
    pub(crate) fn policy(&self, plan_id: &str) -> PlanPolicy {
        self.policies.get(plan_id).copied().unwrap_or_default()
    }

    /// The offering and plan of an existing instance record.
    pub(crate) fn record_plan(
        &self,
        record: &InstanceRecord,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.plan(record.service_id.as_str(), record.plan_id.as_str())
            .map(|(o, p)| (Arc::clone(o), Arc::clone(p)))
    }

    /// Remembers that an id was deleted by an asynchronous delete.
    pub(crate) fn mark_gone(&self, instance: &str, binding: &str) {
        let mut gone = self
            .gone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if gone.len() >= MAX_TOMBSTONES {
            gone.clear();
        }
        gone.insert((instance.to_owned(), binding.to_owned()));
    }

    /// Forgets a tombstone (the id is being created again).
    pub(crate) fn unmark_gone(&self, instance: &str, binding: &str) {
        self.gone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(instance.to_owned(), binding.to_owned()));
    }

    /// Whether an id was deleted by an asynchronous delete.
    pub(crate) fn is_gone(&self, instance: &str, binding: &str) -> bool {
        self.gone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&(instance.to_owned(), binding.to_owned()))
    }

    /// Answers one request whose body has been read (see [`App::respond`]).
    pub(crate) async fn handle(self: &Arc<Self>, req: Request<Bytes>) -> HttpResponse {
        let (parts, body) = req.into_parts();
        self.respond(parts, move || async move { Ok(body) }).await
    }

    /// Answers one request. Never panics: a panic in broker code (or in the runtime) becomes
    /// a 500 JSON answer. The request identity is echoed on every response.
    ///
    /// Everything runs inside the request's tracing span, in this order: routing (404/405),
    /// authentication (401), API version (412) and originating identity (400) on the request
    /// head; only then is the body read by `read_body` (413/408/400 come from it), decoded
    /// (400 with the field path) and the query parsed (400). A client that fails a head check
    /// never has its body read.
    pub(crate) async fn respond<F, Fut>(self: &Arc<Self>, parts: Parts, read_body: F) -> HttpResponse
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, HttpResponse>>,
    {
        let request_identity = parts
            .headers
            .get(osb_types::version::REQUEST_IDENTITY_HEADER)
            .cloned();
        let span = tracing::info_span!(
            "osb_request",
            method = %parts.method,
            route = tracing::field::Empty,
            instance_id = tracing::field::Empty,
            binding_id = tracing::field::Empty,
            request_identity = request_identity.as_ref().and_then(|v| v.to_str().ok()).unwrap_or(""),
            status = tracing::field::Empty,
        );
        let app = Arc::clone(self);
        let mut res = async move {
            let head = match app.check_head(&parts) {
                Ok(head) => head,
                Err(res) => return res,
            };
            let body = match read_body().await {
                Ok(body) => body,
                Err(res) => return res,
            };
            app.dispatch(head, parts, body).await
        }
        .instrument(span.clone())
        .await;
        span.record("status", res.status().as_u16());
        span.in_scope(|| tracing::debug!(status = res.status().as_u16(), "request answered"));
        response::echo_request_identity(&mut res, request_identity.as_ref());
        res
    }

    /// Routing, authentication, API version and originating identity: the checks that need
    /// only the request head. Records the route and ids on the current span.
    fn check_head(&self, parts: &Parts) -> Result<Head, HttpResponse> {
        let route = match router::route(&parts.method, parts.uri.path()) {
            Ok(route) => route,
            Err(RouteError::NotFound) => {
                return Err(response::error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("no Open Service Broker API endpoint at {}", parts.uri.path()),
                ));
            }
            Err(RouteError::MethodNotAllowed(allow)) => {
                let mut res = response::error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    format!("method {} is not allowed here; allowed: {allow}", parts.method),
                );
                res.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
                return Err(res);
            }
            Err(RouteError::BadId(msg)) => return Err(bad_request(msg)),
        };
        let span = tracing::Span::current();
        span.record("route", route.name());
        if let Some(i) = route.instance_id() {
            span.record("instance_id", i);
        }
        if let Some(b) = route.binding_id() {
            span.record("binding_id", b);
        }
        if let Err(res) = headers::check_auth(self.config.authenticator.as_deref(), &parts.headers) {
            tracing::info!("request not authenticated");
            return Err(res);
        }
        let api_version = headers::check_version(self.config.min_api_version, &parts.headers)?;
        let originating_identity = headers::check_identity(&parts.headers)?;
        let request_identity = parts
            .headers
            .get(osb_types::version::REQUEST_IDENTITY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(RequestIdentity::new);
        Ok(Head {
            route,
            api_version,
            originating_identity,
            request_identity,
        })
    }

    /// Runs the operation of a request that passed the head checks. The catalog never
    /// reaches broker code: it is answered inline. Everything else runs on its own task, so
    /// that a panic becomes a 500 and a mutation (which holds the instance's gate while the
    /// broker works) finishes even if the client goes away.
    async fn dispatch(self: Arc<Self>, head: Head, parts: Parts, body: Bytes) -> HttpResponse {
        if head.route == Route::Catalog {
            return response::bytes_json(StatusCode::OK, self.catalog_bytes.clone());
        }
        let task = tokio::spawn(self.operation(head, parts, body).in_current_span());
        match task.await {
            Ok(res) => res,
            Err(e) => {
                if e.is_panic() {
                    tracing::error!("request handler panicked");
                } else {
                    tracing::error!("request handler was cancelled");
                }
                response::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "The service broker failed to process the request.",
                )
            }
        }
    }

    async fn operation(self: Arc<Self>, head: Head, parts: Parts, body: Bytes) -> HttpResponse {
        let content_type_ok = headers::check_content_type(&parts.headers, !body.is_empty());
        let route = head.route;
        let incoming = Incoming {
            route: route.clone(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body,
            api_version: head.api_version,
            originating_identity: head.originating_identity,
            request_identity: head.request_identity,
            content_type_ok,
        };
        // Each handler's future is boxed: otherwise this future is as large as the largest
        // of them (broker futures included), and it is moved when spawned.
        let res = match route {
            Route::Catalog => Ok(response::bytes_json(StatusCode::OK, self.catalog_bytes.clone())),
            Route::Provision(_) => Box::pin(crate::ops::provision::handle(&self, incoming)).await,
            Route::Update(_) => Box::pin(crate::ops::update::handle(&self, incoming)).await,
            Route::FetchInstance(_) => Box::pin(crate::ops::fetch::instance(&self, incoming)).await,
            Route::Deprovision(_) => Box::pin(crate::ops::deprovision::handle(&self, incoming)).await,
            Route::InstanceLastOperation(_) => {
                Box::pin(crate::ops::last_operation::instance(&self, incoming)).await
            }
            Route::Bind(..) => Box::pin(crate::ops::bind::handle(&self, incoming)).await,
            Route::FetchBinding(..) => Box::pin(crate::ops::fetch::binding(&self, incoming)).await,
            Route::Unbind(..) => Box::pin(crate::ops::unbind::handle(&self, incoming)).await,
            Route::BindingLastOperation(..) => {
                Box::pin(crate::ops::last_operation::binding(&self, incoming)).await
            }
        };
        res.unwrap_or_else(|e| e)
    }
}

/// What the head checks found: the route and the parsed OSB headers.
pub(crate) struct Head {
    route: Route,
    api_version: ApiVersion,
    originating_identity: Option<OriginatingIdentity>,
    request_identity: Option<RequestIdentity>,
}

/// One gate per instance: serializes the mutations of an instance and its bindings.
///
/// A request that finds the gate taken waits if the request inside is identical to it (it
/// then sees the outcome: 200 or 202 with the same operation), and otherwise gets 422
/// `ConcurrencyError`. A gate is removed from the map when its last user leaves.
#[derive(Default)]
pub(crate) struct Gates {
    map: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
}

#[derive(Default)]
struct Gate {
    lock: Arc<tokio::sync::Mutex<()>>,
    inflight: Mutex<Option<String>>,
}

/// Held while a mutation of an instance is being processed.
pub(crate) struct GateGuard {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    gate: Arc<Gate>,
    key: String,
    map: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.guard = None;
        // Only the map and this guard hold the gate (others clone it under the map lock).
        if Arc::strong_count(&self.gate) == 2 {
            map.remove(&self.key);
        }
    }
}

impl Gates {
    /// Enters the gate of `instance` for a request with this fingerprint; `None`: a
    /// different request is being processed (422 `ConcurrencyError`).
    ///
    /// The fingerprint of the last holder is kept after it leaves: a waiter only waits for
    /// an identical fingerprint, so a stale value always equals the new holder's.
    pub(crate) async fn enter(&self, instance: &str, fingerprint: String) -> Option<GateGuard> {
        let gate = Arc::clone(
            self.map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(instance.to_owned())
                .or_default(),
        );
        let mut held = GateGuard {
            guard: None,
            gate: Arc::clone(&gate),
            key: instance.to_owned(),
            map: Arc::clone(&self.map),
        };
        {
            let mut inflight = gate
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match Arc::clone(&gate.lock).try_lock_owned() {
                Ok(guard) => {
                    *inflight = Some(fingerprint);
                    held.guard = Some(guard);
                    return Some(held);
                }
                Err(_) if inflight.as_deref() != Some(fingerprint.as_str()) => return None,
                Err(_) => {}
            }
        }
        held.guard = Some(Arc::clone(&gate.lock).lock_owned().await);
        *gate
            .inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fingerprint);
        Some(held)
    }

    /// How many instances have a gate (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gates_wait_for_identical_and_refuse_different_requests() {
        let gates = Arc::new(Gates::default());
        let first = gates.enter("i", "a".to_owned()).await.unwrap();
        assert!(gates.enter("i", "b".to_owned()).await.is_none());
        assert!(
            gates.enter("j", "b".to_owned()).await.is_some(),
            "other instances are independent"
        );
        let g2 = Arc::clone(&gates);
        let waiter = tokio::spawn(async move { g2.enter("i", "a".to_owned()).await.is_some() });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        assert!(waiter.await.unwrap());
        assert_eq!(gates.len(), 0, "gates are removed when unused");
    }
}
