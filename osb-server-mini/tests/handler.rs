//! Handler-level tests of the OSB rules (CHECKLIST part A), without sockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use osb_server_mini::auth::BasicAuth;
use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::test_support::{Handler, handler};
use osb_server_mini::types::binding::{BindResponse, RotateBindingRequest};
use osb_server_mini::types::catalog::{
    InputParametersSchema, MaintenanceInfo, Schemas, ServiceInstanceSchema,
};
use osb_server_mini::types::{
    ApiVersion, BindRequest, Catalog, ProvisionRequest, ServiceOffering, ServicePlan, UpdateRequest,
};
use osb_server_mini::{Broker, BrokerError, PlanPolicy, RequestContext};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

struct Shared {
    provisions: AtomicUsize,
    dropped_work_ran: AtomicBool,
    release: Semaphore,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            provisions: AtomicUsize::new(0),
            dropped_work_ran: AtomicBool::new(false),
            release: Semaphore::new(0),
        }
    }
}

#[derive(Clone, Default)]
struct TestBroker(Arc<Shared>);

fn has(params: Option<&serde_json::Map<String, Value>>, key: &str) -> bool {
    params.is_some_and(|p| p.contains_key(key))
}

impl Broker for TestBroker {
    fn catalog(&self) -> Catalog {
        let mut sync = ServicePlan::new("sync", "sync", "Synchronous plan");
        sync.maintenance_info = Some(MaintenanceInfo::new("1.0.0"));
        sync.binding_rotatable = Some(true);
        let asyn = ServicePlan::new("async", "async", "Asynchronous-only plan");
        let mut schema = ServicePlan::new("schema", "schema", "Plan with a schema");
        schema.schemas = Some(Schemas {
            service_instance: Some(ServiceInstanceSchema {
                create: Some(InputParametersSchema::new(json!({
                    "$schema": "http://json-schema.org/draft-04/schema#",
                    "type": "object",
                    "properties": { "size": { "type": "integer", "maximum": 10 } },
                }))),
                ..ServiceInstanceSchema::default()
            }),
            ..Schemas::default()
        });
        let mut nobind = ServicePlan::new("nobind", "nobind", "Not bindable");
        nobind.bindable = Some(false);
        let mut svc = ServiceOffering::new("svc", "svc", "Test offering", vec![sync, asyn, schema, nobind])
            .bindable(true);
        svc.instances_retrievable = Some(true);
        svc.bindings_retrievable = Some(true);
        svc.plan_updateable = Some(true);
        svc.allow_context_updates = Some(true);
        let mut fixed = ServiceOffering::new(
            "fixed",
            "fixed",
            "Fixed offering",
            vec![
                ServicePlan::new("fixed-a", "a", "A"),
                ServicePlan::new("fixed-b", "b", "B"),
            ],
        );
        fixed.plan_updateable = Some(false);
        fixed.allow_context_updates = Some(false);
        Catalog::new(vec![svc, fixed])
    }

    fn plan_policy(&self, _: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        if plan.id == "async" {
            PlanPolicy::async_only().retry_after(Duration::from_secs(2))
        } else {
            PlanPolicy::default()
        }
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.0.provisions.fetch_add(1, Ordering::SeqCst);
        let p = req.parameters.as_ref();
        if has(p, "panic") {
            panic!("broker bug");
        }
        if has(p, "fail") {
            return Err(BrokerError::unprocessable("QuotaExceeded", "over quota").instance_usable(false));
        }
        if has(p, "slow") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if has(p, "later") {
            let shared = Arc::clone(&self.0);
            return Ok(Provisioned::later(async move {
                shared.dropped_work_ran.store(true, Ordering::SeqCst);
                Ok(())
            }));
        }
        if req.plan_id == "async" {
            assert!(ctx.accepts_incomplete());
            let shared = Arc::clone(&self.0);
            let fail = has(p, "async_fail");
            let bg_panic = has(p, "bg_panic");
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set("halfway there");
                shared.release.acquire().await.expect("open").forget();
                assert!(!bg_panic, "background bug");
                if fail {
                    Err(BrokerError::bad_request("it broke").instance_usable(false))
                } else {
                    Ok(())
                }
            })
            .dashboard_url("https://dash/async"));
        }
        Ok(Provisioned::done().dashboard_url(format!("https://dash/{}", ctx.instance_id())))
    }

    async fn update(&self, _: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        let p = req.parameters.as_ref();
        if has(p, "async") {
            let shared = Arc::clone(&self.0);
            let fail = has(p, "fail");
            return Ok(Updated::later(async move {
                shared.release.acquire().await.expect("open").forget();
                if fail {
                    Err(BrokerError::unprocessable("Broken", "update failed")
                        .instance_usable(false)
                        .update_repeatable(false))
                } else {
                    Ok(())
                }
            }));
        }
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        _: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        if req.plan_id == "async" {
            let shared = Arc::clone(&self.0);
            return Ok(Deprovisioned::later(async move {
                shared.release.acquire().await.expect("open").forget();
                Ok(())
            }));
        }
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        let creds = json!({ "uri": format!("test://{}/{}", ctx.instance_id(), ctx.binding_id()) });
        if has(req.parameters.as_ref(), "async") {
            let shared = Arc::clone(&self.0);
            return Ok(Bound::later(async move {
                shared.release.acquire().await.expect("open").forget();
                Ok(BindResponse {
                    credentials: osb_server_mini::types::Credentials::from_value(creds),
                    ..BindResponse::default()
                })
            }));
        }
        Ok(Bound::credentials(creds))
    }

    async fn unbind(&self, _: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        if req.plan_id == "async" {
            let shared = Arc::clone(&self.0);
            return Ok(Unbound::later(async move {
                shared.release.acquire().await.expect("open").forget();
                Ok(())
            })
            .retry_after(Duration::from_millis(1500)));
        }
        Ok(Unbound::done())
    }

    async fn rotate_binding(
        &self,
        _: &RequestContext,
        req: RotateBindingRequest,
    ) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(
            json!({ "rotated_from": req.predecessor_binding_id.as_str() }),
        ))
    }
}

fn new_handler() -> (Handler<TestBroker>, Arc<Shared>) {
    let broker = TestBroker::default();
    let shared = Arc::clone(&broker.0);
    (handler(broker, None, None, None).expect("valid catalog"), shared)
}

fn request(method: Method, uri: &str, body: Option<Value>) -> Request<Bytes> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("X-Broker-API-Version", "2.17")
        .header("X-Broker-API-Request-Identity", "rid-1");
    if body.is_some() {
        b = b.header("Content-Type", "application/json");
    }
    let bytes = body.map(|v| Bytes::from(v.to_string())).unwrap_or_default();
    b.body(bytes).expect("request")
}

async fn send(h: &Handler<TestBroker>, req: Request<Bytes>) -> (StatusCode, HeaderMap, Value) {
    let res = h.handle(req).await;
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let value: Value = serde_json::from_slice(&bytes).expect("every response is JSON");
    assert!(value.is_object(), "every response body is an object: {value}");
    assert_eq!(
        parts
            .headers
            .get("X-Broker-API-Request-Identity")
            .map(|v| v.to_str().unwrap()),
        Some("rid-1"),
        "request identity echoed"
    );
    (parts.status, parts.headers, value)
}

async fn call(
    h: &Handler<TestBroker>,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, _, v) = send(h, request(method, uri, body)).await;
    (s, v)
}

fn prov(plan: &str) -> Value {
    json!({ "service_id": if plan.starts_with("fixed") { "fixed" } else { "svc" }, "plan_id": plan })
}

async fn provision_sync(h: &Handler<TestBroker>, id: &str) {
    let (s, _) = call(
        h,
        Method::PUT,
        &format!("/v2/service_instances/{id}"),
        Some(prov("sync")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
}

async fn wait_state(h: &Handler<TestBroker>, uri: &str, state: &str) -> Value {
    for _ in 0..200 {
        let (s, v) = call(h, Method::GET, uri, None).await;
        if s == StatusCode::OK && v["state"] == state {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{uri} never reached {state}");
}

// ---- A.1 cross-cutting ----

#[tokio::test]
async fn a1_version_below_minimum_is_412_naming_range() {
    let h = handler(TestBroker::default(), None, Some(ApiVersion::V2_15), None).unwrap();
    let mut req = request(Method::GET, "/v2/catalog", None);
    req.headers_mut()
        .insert("X-Broker-API-Version", "2.14".parse().unwrap());
    let (s, _, v) = send(&h, req).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert!(
        v["description"].as_str().unwrap().contains("2.15 or later"),
        "{v}"
    );
}

#[tokio::test]
async fn a2_missing_or_empty_version_is_412() {
    let (h, _) = new_handler();
    for value in [None, Some(""), Some("abc"), Some("3.0"), Some("2.9")] {
        let mut req = request(Method::GET, "/v2/catalog", None);
        req.headers_mut().remove("X-Broker-API-Version");
        if let Some(v) = value {
            req.headers_mut()
                .insert("X-Broker-API-Version", v.parse().unwrap());
        }
        let (s, _, body) = send(&h, req).await;
        assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{value:?}");
        assert!(body["description"].as_str().unwrap().contains("2.13 or later"));
    }
}

#[tokio::test]
async fn a3_newer_minor_versions_are_accepted_numerically() {
    let (h, _) = new_handler();
    for value in ["2.13", "2.17", "2.18", "2.100"] {
        let mut req = request(Method::GET, "/v2/catalog", None);
        req.headers_mut()
            .insert("x-broker-api-version", value.parse().unwrap());
        let (s, _, _) = send(&h, req).await;
        assert_eq!(s, StatusCode::OK, "{value}");
    }
}

#[tokio::test]
async fn a4_unauthenticated_is_401_with_challenge() {
    let auth: Arc<dyn osb_server_mini::auth::Authenticator> = Arc::new(BasicAuth::new("admin", "secret"));
    let h = handler(TestBroker::default(), Some(auth), None, None).unwrap();
    let (s, headers, v) = send(&h, request(Method::GET, "/v2/catalog", None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        headers
            .get("WWW-Authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(v["error"], "Unauthorized");
    let mut ok = request(Method::GET, "/v2/catalog", None);
    ok.headers_mut()
        .insert("Authorization", "Basic YWRtaW46c2VjcmV0".parse().unwrap());
    let (s, _, _) = send(&h, ok).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a6_request_identity_echoed_on_every_response() {
    // `send` asserts the echo; exercise a success and several error paths.
    let (h, _) = new_handler();
    call(&h, Method::GET, "/v2/catalog", None).await;
    call(&h, Method::GET, "/nope", None).await;
    call(&h, Method::POST, "/v2/catalog", None).await;
    call(&h, Method::DELETE, "/v2/service_instances/x", None).await;
    call(&h, Method::PUT, "/v2/service_instances/x", Some(json!([]))).await;
}

#[tokio::test]
async fn a7_originating_identity_optional_but_validated() {
    let (h, _) = new_handler();
    let mut req = request(Method::PUT, "/v2/service_instances/oi", Some(prov("sync")));
    req.headers_mut().insert(
        "X-Broker-API-Originating-Identity",
        "cloudfoundry not-base64!".parse().unwrap(),
    );
    let (s, _, v) = send(&h, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("Originating-Identity"),
        "{v}"
    );
    let mut req = request(Method::PUT, "/v2/service_instances/oi", Some(prov("sync")));
    req.headers_mut().insert(
        "X-Broker-API-Originating-Identity",
        "cloudfoundry eyJ1c2VyX2lkIjoiMTIzIn0=".parse().unwrap(),
    );
    let (s, _, _) = send(&h, req).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a8_unknown_fields_are_ignored() {
    let (h, _) = new_handler();
    let body = json!({
        "service_id": "svc", "plan_id": "sync", "x-acme-foo": 1,
        "context": { "platform": "kubernetes", "namespace": "ns", "x-acme-foo": 1 },
        "maintenance_info": { "version": "1.0.0", "x-acme-foo": 1 }
    });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/a8", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a10_routing_404_and_405_with_allow() {
    let (h, _) = new_handler();
    let (s, _, v) = send(&h, request(Method::GET, "/v2/nope", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "NotFound");
    let (s, headers, _) = send(&h, request(Method::POST, "/v2/service_instances/x", None)).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers.get("Allow").unwrap(), "GET, PUT, PATCH, DELETE");
}

#[tokio::test]
async fn a12_instance_usable_stripped_from_provision_errors() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "fail": true } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a12", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "QuotaExceeded");
    assert!(v.get("instance_usable").is_none(), "{v}");
}

#[tokio::test]
async fn a15_content_type_and_body_shape() {
    let (h, _) = new_handler();
    let mut req = request(Method::PUT, "/v2/service_instances/ct", Some(prov("sync")));
    req.headers_mut()
        .insert("Content-Type", "text/plain".parse().unwrap());
    let (s, _, _) = send(&h, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut req = request(Method::PUT, "/v2/service_instances/ct", Some(prov("sync")));
    req.headers_mut().remove("Content-Type");
    let (s, _, _) = send(&h, req).await;
    assert_eq!(s, StatusCode::CREATED, "a missing Content-Type is accepted");
    for body in [None, Some(json!([1])), Some(json!("x"))] {
        let (s, v) = call(&h, Method::PUT, "/v2/service_instances/ct2", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
    let bad = json!({ "service_id": "svc", "plan_id": "sync", "parameters": 5 });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/ct3", Some(bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["description"].as_str().unwrap().contains("(at `/parameters`)"),
        "{v}"
    );
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/ct3",
        Some(json!({ "plan_id": "sync" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("service_id"), "{v}");
}

#[tokio::test]
async fn a17_percent_encoded_ids() {
    let (h, _) = new_handler();
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/a%2Fb%20c",
        Some(prov("sync")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/a%2Fb%20c", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["dashboard_url"], "https://dash/a/b c");
}

#[tokio::test]
async fn a19_later_without_accepts_incomplete_is_422_and_work_never_runs() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "later": true } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a19", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!shared.dropped_work_ran.load(Ordering::SeqCst));
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a19", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a 4xx leaves nothing behind");
}

#[tokio::test]
async fn a21_async_only_plan_without_accepts_incomplete_is_422_before_the_broker() {
    let (h, shared) = new_handler();
    for uri in [
        "/v2/service_instances/a21",
        "/v2/service_instances/a21?accepts_incomplete=false",
    ] {
        let (s, v) = call(&h, Method::PUT, uri, Some(prov("async"))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["error"], "AsyncRequired");
    }
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 0);
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/a21?accepts_incomplete=maybe",
        Some(prov("async")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "A23: a malformed boolean is 400");
}

#[tokio::test]
async fn a24_fifty_concurrent_identical_provisions_call_the_broker_once() {
    let (h, shared) = new_handler();
    let h = Arc::new(h);
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "slow": true } });
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let h = Arc::clone(&h);
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            call(&h, Method::PUT, "/v2/service_instances/a24", Some(body))
                .await
                .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 49);
}

#[tokio::test]
async fn a24_different_request_during_a_running_one_is_422_concurrency() {
    let (h, _) = new_handler();
    let h = Arc::new(h);
    let slow = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "slow": true } });
    let h2 = Arc::clone(&h);
    let first = tokio::spawn(async move {
        call(&h2, Method::PUT, "/v2/service_instances/c1", Some(slow))
            .await
            .0
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/c1", Some(prov("sync"))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    assert_eq!(first.await.unwrap(), StatusCode::CREATED);
}

#[tokio::test]
async fn broker_panic_is_500_and_the_handler_keeps_working() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "panic": true } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/p", Some(body)).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(v["error"], "InternalError");
    provision_sync(&h, "p").await;
}

// ---- A.2 catalog ----

#[tokio::test]
async fn a29_catalog_is_200_with_services() {
    let (h, _) = new_handler();
    let (s, v) = call(&h, Method::GET, "/v2/catalog", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["services"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a32_invalid_catalog_is_rejected_at_start() {
    struct Bad;
    impl Broker for Bad {
        fn catalog(&self) -> Catalog {
            Catalog::new(vec![ServiceOffering::new("s", "s", "no plans", vec![])])
        }
        async fn provision(
            &self,
            _: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
    }
    assert!(matches!(
        handler(Bad, None, None, None),
        Err(osb_server_mini::ServeError::InvalidCatalog(_))
    ));
}

// ---- A.3 provision ----

#[tokio::test]
async fn a39_unknown_service_or_plan_is_400() {
    let (h, shared) = new_handler();
    for body in [
        json!({ "service_id": "nope", "plan_id": "sync" }),
        json!({ "service_id": "svc", "plan_id": "nope" }),
        json!({ "service_id": "svc", "plan_id": "fixed-a" }),
    ] {
        let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a39", Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a41_parameters_are_validated_against_the_plan_schema() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "size": 11 } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a41", Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("size"), "{v}");
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 0);
    let body = json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "size": 3 } });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/a41", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a42_a43_a46_provision_idempotency() {
    let (h, shared) = new_handler();
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/i", Some(prov("sync"))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["dashboard_url"], "https://dash/i");
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/i", Some(prov("sync"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["dashboard_url"], "https://dash/i");
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "a": 1 } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/i", Some(body)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["error"], "Conflict");
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a44_repeat_put_while_in_progress_is_202_with_the_same_operation() {
    let (h, shared) = new_handler();
    let uri = "/v2/service_instances/a44?accepts_incomplete=true";
    let (s, v1) = call(&h, Method::PUT, uri, Some(prov("async"))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v1["dashboard_url"], "https://dash/async");
    let op = v1["operation"].as_str().unwrap().to_owned();
    assert!(!op.is_empty() && op.len() <= 10_000);
    let (s, v2) = call(&h, Method::PUT, uri, Some(prov("async"))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v2["operation"], op.as_str());
    let other = json!({ "service_id": "svc", "plan_id": "async", "parameters": { "x": 1 } });
    let (s, _) = call(&h, Method::PUT, uri, Some(other)).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "A46: different attributes while being provisioned"
    );
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/a44/last_operation", "succeeded").await;
}

#[tokio::test]
async fn a48_a49_maintenance_info_conflict() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "2.0.0" } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a48", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "MaintenanceInfoConflict");
    let body =
        json!({ "service_id": "svc", "plan_id": "schema", "maintenance_info": { "version": "1.0.0" } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a49", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "MaintenanceInfoConflict");
    let body = json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "1.0.0" } });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/a48", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
}

// ---- A.4 fetch instance ----

#[tokio::test]
async fn a57_fetch_instance_answers_from_the_record() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "size": 3 } });
    call(&h, Method::PUT, "/v2/service_instances/f", Some(body)).await;
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/f", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["service_id"], "svc");
    assert_eq!(v["plan_id"], "schema");
    assert_eq!(v["parameters"], json!({ "size": 3 }));
    assert_eq!(v["dashboard_url"], "https://dash/f");
}

#[tokio::test]
async fn a58_fetch_unknown_or_creating_instance_is_404() {
    let (h, shared) = new_handler();
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/none", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/a58?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a58", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/a58/last_operation", "succeeded").await;
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a58", None).await;
    assert_eq!(s, StatusCode::OK, "A55: available right after succeeded");
}

#[tokio::test]
async fn a59_fetch_instance_being_updated_is_422_concurrency() {
    let (h, shared) = new_handler();
    provision_sync(&h, "a59").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true } });
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a59?accepts_incomplete=true",
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/a59", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    // A67: a re-sent PATCH gets 202 with the same operation; a different one 422.
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a59?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["operation"], op);
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a59",
        Some(json!({ "service_id": "svc", "parameters": {} })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError", "A72");
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/a59/last_operation", "succeeded").await;
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a59", None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a55_fetch_instance_of_non_retrievable_offering_is_400() {
    let (h, _) = new_handler();
    call(&h, Method::PUT, "/v2/service_instances/fx", Some(prov("fixed-a"))).await;
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/fx", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("instances_retrievable")
    );
}

// ---- A.5 update ----

#[tokio::test]
async fn a61_a62_update_catalog_rules() {
    let (h, _) = new_handler();
    call(&h, Method::PUT, "/v2/service_instances/u", Some(prov("fixed-a"))).await;
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "plan_id": "fixed-b" })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "A69: {v}");
    assert_eq!(v["error"], "PlanChangeNotSupported");
    assert!(v["description"].as_str().unwrap().contains("plan_updateable"));
    let ctx = json!({ "platform": "kubernetes", "namespace": "ns" });
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "context": ctx })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "A69: {v}");
    assert_eq!(v["error"], "ContextUpdateNotSupported");
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("allow_context_updates")
    );
    // Not context-only: parameters change too.
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "context": ctx, "parameters": { "a": 1 } })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "plan_id": "sync" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "plan of another offering");
}

#[tokio::test]
async fn a66_update_applies_changes_and_a71_checks_maintenance_info() {
    let (h, _) = new_handler();
    provision_sync(&h, "u2").await;
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u2",
        Some(json!({ "service_id": "svc", "plan_id": "schema" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({}));
    let (_, v) = call(&h, Method::GET, "/v2/service_instances/u2", None).await;
    assert_eq!(v["plan_id"], "schema");
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u2",
        Some(json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "9.9.9" } })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "MaintenanceInfoConflict");
    let (_, v) = call(&h, Method::GET, "/v2/service_instances/u2", None).await;
    assert_eq!(v["plan_id"], "schema", "A73: a 4xx applies nothing");
}

#[tokio::test]
async fn a81_failed_update_carries_instance_usable_and_update_repeatable() {
    let (h, shared) = new_handler();
    provision_sync(&h, "a81").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true, "fail": true } });
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a81?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    shared.release.add_permits(1);
    let v = wait_state(&h, "/v2/service_instances/a81/last_operation", "failed").await;
    assert_eq!(v["instance_usable"], false);
    assert_eq!(v["update_repeatable"], false);
    assert_eq!(v["description"], "update failed");
}

// ---- A.6 last operation ----

#[tokio::test]
async fn a78_a85_a87_last_operation_in_progress_then_succeeded() {
    let (h, shared) = new_handler();
    let (_, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/lo?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    let op = v["operation"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (s, headers, v) = send(
        &h,
        request(
            Method::GET,
            &format!("/v2/service_instances/lo/last_operation?operation={op}"),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "in progress");
    assert_eq!(v["description"], "halfway there");
    assert_eq!(headers.get("Retry-After").unwrap(), "2");
    assert!(v.get("instance_usable").is_none());
    shared.release.add_permits(1);
    let v = wait_state(
        &h,
        "/v2/service_instances/lo/last_operation?operation=stale-hint",
        "succeeded",
    )
    .await;
    assert!(v.get("instance_usable").is_none());
}

#[tokio::test]
async fn a83_last_operation_of_unknown_instance_is_404() {
    let (h, _) = new_handler();
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/zz/last_operation", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a84_failed_async_provision_is_kept_and_async_delete_ends_in_410() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "async", "parameters": { "async_fail": true } });
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/f1?accepts_incomplete=true",
        Some(body),
    )
    .await;
    shared.release.add_permits(1);
    let v = wait_state(&h, "/v2/service_instances/f1/last_operation", "failed").await;
    assert_eq!(v["description"], "it broke");
    assert!(
        v.get("instance_usable").is_none(),
        "A81: not for a failed provision"
    );
    // The failed record is kept: still failed when asked again (A86).
    wait_state(&h, "/v2/service_instances/f1/last_operation", "failed").await;
    let del = "/v2/service_instances/f1?service_id=svc&plan_id=async&accepts_incomplete=true";
    let (s, v) = call(&h, Method::DELETE, del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::DELETE, del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "A133: re-sent DELETE");
    assert_eq!(v["operation"], op);
    shared.release.add_permits(1);
    for _ in 0..200 {
        let (s, v) = call(&h, Method::GET, "/v2/service_instances/f1/last_operation", None).await;
        if s == StatusCode::GONE {
            assert_eq!(v, json!({}));
            let (s, _) = call(&h, Method::DELETE, del, None).await;
            assert_eq!(s, StatusCode::GONE);
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never gone");
}

// ---- A.7 bind / A.8 fetch binding ----

const B1: &str = "/v2/service_instances/bi/service_bindings/b1";

fn bind_body(params: Value) -> Value {
    json!({ "service_id": "svc", "plan_id": "sync", "parameters": params })
}

#[tokio::test]
async fn a92_a93_a96_bind_idempotency() {
    let (h, _) = new_handler();
    provision_sync(&h, "bi").await;
    let (s, v) = call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
    let (s, v) = call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
    let (s, _) = call(&h, Method::PUT, B1, Some(bind_body(json!({ "x": 1 })))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
}

#[tokio::test]
async fn a95_bind_on_non_bindable_plan_or_wrong_ids_is_400() {
    let (h, _) = new_handler();
    call(&h, Method::PUT, "/v2/service_instances/nb", Some(prov("nobind"))).await;
    let body = json!({ "service_id": "svc", "plan_id": "nobind" });
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/nb/service_bindings/b",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("not bindable"));
    let body = json!({ "service_id": "svc", "plan_id": "sync" });
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/nb/service_bindings/b",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "plan of another instance");
}

#[tokio::test]
async fn a94_a107_a112_a113_async_bind_then_fetch() {
    let (h, shared) = new_handler();
    provision_sync(&h, "bi").await;
    let (s, v) = call(&h, Method::PUT, B1, Some(bind_body(json!({ "async": true })))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
    let uri = format!("{B1}?accepts_incomplete=true");
    let (s, v) = call(&h, Method::PUT, &uri, Some(bind_body(json!({ "async": true })))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(v.get("credentials").is_none());
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::PUT, &uri, Some(bind_body(json!({ "async": true })))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["operation"], op);
    let (s, _) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "A113: in progress");
    shared.release.add_permits(1);
    wait_state(&h, &format!("{B1}/last_operation"), "succeeded").await;
    let (s, v) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
    assert_eq!(v["parameters"], json!({ "async": true }));
}

#[tokio::test]
async fn a108_a109_rotation() {
    let (h, _) = new_handler();
    provision_sync(&h, "bi").await;
    call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    let b2 = "/v2/service_instances/bi/service_bindings/b2";
    let (s, v) = call(
        &h,
        Method::PUT,
        b2,
        Some(json!({ "predecessor_binding_id": "b1" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["credentials"]["rotated_from"], "b1");
    let (s, _) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::OK, "the predecessor stays valid");
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bi/service_bindings/b3",
        Some(json!({ "predecessor_binding_id": "nope" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    call(&h, Method::PUT, "/v2/service_instances/sc", Some(prov("schema"))).await;
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/sc/service_bindings/x",
        Some(json!({ "service_id": "svc", "plan_id": "schema" })),
    )
    .await;
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/sc/service_bindings/y",
        Some(json!({ "predecessor_binding_id": "x" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("binding_rotatable"));
}

// ---- A.10 unbind / A.11 deprovision ----

#[tokio::test]
async fn a122_a124_a125_unbind() {
    let (h, _) = new_handler();
    provision_sync(&h, "bi").await;
    call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    let (s, _) = call(&h, Method::DELETE, B1, None).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "A124: service_id and plan_id are required"
    );
    let del = format!("{B1}?service_id=svc&plan_id=sync");
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({}));
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(v, json!({}));
    let (s, _) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a132_a134_a135_deprovision() {
    let (h, _) = new_handler();
    provision_sync(&h, "d").await;
    let (s, _) = call(&h, Method::DELETE, "/v2/service_instances/d?service_id=svc", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/d?service_id=svc&plan_id=nope",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/d?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({}));
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/d?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(v, json!({}));
}

#[tokio::test]
async fn a135_delete_unknown_instance_is_410() {
    let (h, _) = new_handler();
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/never?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(v, json!({}));
}

#[tokio::test]
async fn a136_deprovision_while_provisioning_is_422_concurrency_and_async_only_is_422() {
    let (h, shared) = new_handler();
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/c?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/c?service_id=svc&plan_id=async&accepts_incomplete=true",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/c/last_operation", "succeeded").await;
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/c?service_id=svc&plan_id=async",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
}

#[tokio::test]
async fn a123_a116_async_unbind_then_binding_last_operation_is_410() {
    let (h, shared) = new_handler();
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/ua?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/ua/last_operation", "succeeded").await;
    let b = "/v2/service_instances/ua/service_bindings/b";
    let body = json!({ "service_id": "svc", "plan_id": "async" });
    let (s, _) = call(&h, Method::PUT, b, Some(body.clone())).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "async-only plan: bind needs accepts_incomplete"
    );
    let (s, v) = call(
        &h,
        Method::PUT,
        &format!("{b}?accepts_incomplete=true"),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "A22: a synchronous answer is allowed");
    assert!(v.get("operation").is_none());
    let (s, v) = call(&h, Method::GET, &format!("{b}/last_operation"), None).await;
    assert_eq!((s, v["state"].clone()), (StatusCode::OK, json!("succeeded")));
    let del = format!("{b}?service_id=svc&plan_id=async");
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
    let del = format!("{del}&accepts_incomplete=true");
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "A123: re-sent DELETE");
    assert_eq!(v["operation"], op);
    let (s, headers, v) = send(&h, request(Method::GET, &format!("{b}/last_operation"), None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "in progress");
    assert_eq!(
        headers.get("Retry-After").unwrap(),
        "2",
        "rounded up to whole seconds"
    );
    shared.release.add_permits(1);
    for _ in 0..200 {
        let (s, v) = call(&h, Method::GET, &format!("{b}/last_operation"), None).await;
        if s == StatusCode::GONE {
            assert_eq!(v, json!({}));
            let (s, _) = call(&h, Method::DELETE, &del, None).await;
            assert_eq!(s, StatusCode::GONE);
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("binding never gone");
}

#[tokio::test]
async fn a116_binding_last_operation_of_unknown_binding_is_404() {
    let (h, _) = new_handler();
    let (s, _) = call(
        &h,
        Method::GET,
        "/v2/service_instances/x/service_bindings/y/last_operation",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &h,
        Method::GET,
        "/v2/service_instances/x/service_bindings/y",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn update_or_bind_of_unknown_instance_is_404() {
    let (h, _) = new_handler();
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/nope",
        Some(json!({ "service_id": "svc" })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/nope/service_bindings/b",
        Some(bind_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a32_invalid_plan_schema_is_rejected_at_start() {
    struct BadSchema;
    impl Broker for BadSchema {
        fn catalog(&self) -> Catalog {
            let mut plan = ServicePlan::new("p", "p", "plan");
            plan.schemas = Some(Schemas {
                service_instance: Some(ServiceInstanceSchema {
                    create: Some(InputParametersSchema::new(json!({
                        "$schema": "http://json-schema.org/draft-04/schema#",
                        "type": "no-such-type",
                    }))),
                    ..ServiceInstanceSchema::default()
                }),
                ..Schemas::default()
            });
            Catalog::new(vec![ServiceOffering::new("s", "s", "svc", vec![plan])])
        }
        async fn provision(
            &self,
            _: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
    }
    match handler(BadSchema, None, None, None) {
        Err(osb_server_mini::ServeError::InvalidSchema { location, .. }) => {
            assert!(
                location.contains("schemas.service_instance.create.parameters"),
                "{location}"
            );
        }
        other => panic!("expected InvalidSchema, got {other:?}"),
    }
}

#[tokio::test]
async fn a62_context_only_update_allowed_when_declared() {
    let (h, _) = new_handler();
    provision_sync(&h, "cx").await;
    let ctx = json!({ "platform": "kubernetes", "namespace": "new-ns" });
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/cx",
        Some(json!({ "service_id": "svc", "context": ctx })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The new context is now part of the record: an identical PUT with it is a repeat.
    let body = json!({ "service_id": "svc", "plan_id": "sync", "context": ctx });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/cx", Some(body)).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn background_panic_fails_the_operation() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "async", "parameters": { "bg_panic": true } });
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bp?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    shared.release.add_permits(1);
    let v = wait_state(&h, "/v2/service_instances/bp/last_operation", "failed").await;
    assert_eq!(
        v["description"],
        "The service broker failed to process the request."
    );
}

#[tokio::test]
async fn a44_concurrent_identical_async_provisions_share_one_operation() {
    let (h, shared) = new_handler();
    let h = Arc::new(h);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            call(
                &h,
                Method::PUT,
                "/v2/service_instances/ca?accepts_incomplete=true",
                Some(prov("async")),
            )
            .await
        }));
    }
    let mut ops = std::collections::HashSet::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert_eq!(s, StatusCode::ACCEPTED);
        ops.insert(v["operation"].as_str().unwrap().to_owned());
    }
    assert_eq!(ops.len(), 1);
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/ca/last_operation", "succeeded").await;
}

#[tokio::test]
async fn a25_bind_during_an_update_is_422_concurrency() {
    let (h, shared) = new_handler();
    provision_sync(&h, "bu").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true } });
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/bu?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bu/service_bindings/b",
        Some(bind_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/bu?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "A136");
    assert_eq!(v["error"], "ConcurrencyError");
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/bu/last_operation", "succeeded").await;
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bu/service_bindings/b",
        Some(bind_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
}
