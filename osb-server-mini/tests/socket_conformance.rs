//! Socket-level conformance tests of the runtime: CHECKLIST part A items the runtime owns,
//! each against a real `Server` on 127.0.0.1:0, over HTTP with reqwest. Every test checks the
//! status, the JSON body, the relevant headers and the state afterwards.
//!
//! Every response is checked by [`Harness::send`]: its body is a JSON object (A16) and the
//! request identity is echoed (A6).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::binding::{BindResponse, RotateBindingRequest};
use osb_server_mini::types::catalog::{
    InputParametersSchema, MaintenanceInfo, Schemas, ServiceInstanceSchema,
};
use osb_server_mini::types::{
    ApiVersion, BindRequest, Catalog, ProvisionRequest, ServiceOffering, ServicePlan, UpdateRequest,
};
use osb_server_mini::{Broker, BrokerError, PlanPolicy, RequestContext, Running, ServeError, Server};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------------------
// The broker under test.

struct Shared {
    provisions: AtomicUsize,
    updates: AtomicUsize,
    binds: AtomicUsize,
    deprovisions: AtomicUsize,
    unbinds: AtomicUsize,
    dropped_work_ran: AtomicBool,
    release: Semaphore,
    originating_platform: Mutex<Option<String>>,
    /// Background work finishes by itself after this long instead of waiting for
    /// [`Harness::release`], and the async plan's updates and binds run in the background too:
    /// the broker the `osb-conformance` checks run against.
    finish_after: Option<Duration>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            provisions: AtomicUsize::new(0),
            updates: AtomicUsize::new(0),
            binds: AtomicUsize::new(0),
            deprovisions: AtomicUsize::new(0),
            unbinds: AtomicUsize::new(0),
            dropped_work_ran: AtomicBool::new(false),
            release: Semaphore::new(0),
            originating_platform: Mutex::new(None),
            finish_after: None,
        }
    }
}

#[derive(Clone, Default)]
struct TestBroker(Arc<Shared>);

fn param<'a>(params: Option<&'a serde_json::Map<String, Value>>, key: &str) -> Option<&'a Value> {
    params.and_then(|p| p.get(key))
}

fn has(params: Option<&serde_json::Map<String, Value>>, key: &str) -> bool {
    param(params, key).is_some()
}

impl TestBroker {
    /// Background work that waits for `release` and then succeeds, or fails with `fail`.
    fn held(
        &self,
        fail: Option<BrokerError>,
    ) -> impl Future<Output = Result<(), BrokerError>> + Send + 'static {
        let shared = Arc::clone(&self.0);
        async move {
            match shared.finish_after {
                Some(after) => tokio::time::sleep(after).await,
                None => shared.release.acquire().await.expect("open").forget(),
            }
            fail.map_or(Ok(()), Err)
        }
    }

    /// Whether the async plan's updates and binds run in the background (see `finish_after`).
    fn self_finishing(&self, plan_id: Option<&str>) -> bool {
        self.0.finish_after.is_some() && plan_id == Some("async")
    }

    /// Background work that must never run (its 202 is refused).
    fn never(&self) -> impl Future<Output = Result<(), BrokerError>> + Send + 'static {
        let shared = Arc::clone(&self.0);
        async move {
            shared.dropped_work_ran.store(true, Ordering::SeqCst);
            Ok(())
        }
    }
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
        let mut pinned = ServicePlan::new("pinned", "pinned", "Plan that cannot be changed");
        pinned.plan_updateable = Some(false);
        let mut svc = ServiceOffering::new("svc", "svc", "Test offering", vec![sync, asyn, schema, pinned])
            .bindable(true);
        svc.instances_retrievable = Some(true);
        svc.bindings_retrievable = Some(true);
        svc.plan_updateable = Some(true);
        svc.allow_context_updates = Some(true);
        let mut up = ServicePlan::new("fixed-up", "up", "Updateable plan of a fixed offering");
        up.plan_updateable = Some(true);
        let mut fixed = ServiceOffering::new(
            "fixed",
            "fixed",
            "Fixed offering",
            vec![
                ServicePlan::new("fixed-a", "a", "A"),
                ServicePlan::new("fixed-b", "b", "B"),
                up,
            ],
        );
        fixed.plan_updateable = Some(false);
        fixed.allow_context_updates = Some(false);
        Catalog::new(vec![svc, fixed])
    }

    fn plan_policy(&self, _: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        if plan.id == "async" {
            let hint = if self.0.finish_after.is_some() { 1 } else { 2 };
            PlanPolicy::async_only().retry_after(Duration::from_secs(hint))
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
        *self.0.originating_platform.lock().unwrap() =
            ctx.originating_identity().map(|o| o.platform().to_owned());
        let p = req.parameters.as_ref();
        if has(p, "panic") {
            panic!("broker bug");
        }
        if has(p, "crash") {
            return Err(BrokerError::internal("the backend went away halfway"));
        }
        if has(p, "fail") {
            return Err(BrokerError::unprocessable("QuotaExceeded", "over quota")
                .instance_usable(false)
                .update_repeatable(false));
        }
        if has(p, "slow") {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if has(p, "later") {
            return Ok(Provisioned::later(self.never()));
        }
        if req.plan_id == "async" {
            let progress_text = param(p, "progress")
                .and_then(Value::as_str)
                .unwrap_or("halfway there")
                .to_owned();
            let fail = param(p, "async_fail").and_then(Value::as_str).map(|d| {
                BrokerError::new(400, "ProvisionFailed", d)
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            let work = self.held(fail);
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set(progress_text);
                work.await
            })
            .dashboard_url("https://dash/async"));
        }
        Ok(Provisioned::done().dashboard_url(format!("https://dash/{}", ctx.instance_id())))
    }

    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        self.0.updates.fetch_add(1, Ordering::SeqCst);
        if self.self_finishing(ctx.plan().map(|p| p.id.as_str())) {
            return Ok(Updated::later(self.held(None)));
        }
        let p = req.parameters.as_ref();
        if has(p, "panic") {
            panic!("broker bug in update");
        }
        if has(p, "reject") {
            return Err(
                BrokerError::unprocessable("QuotaExceeded", "too big for the new plan")
                    .instance_usable(true)
                    .update_repeatable(false),
            );
        }
        if has(p, "later") {
            return Ok(Updated::later(self.never()));
        }
        if has(p, "async") {
            let fail = has(p, "fail").then(|| {
                BrokerError::unprocessable("Broken", "update failed")
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            return Ok(Updated::later(self.held(fail)));
        }
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.0.deprovisions.fetch_add(1, Ordering::SeqCst);
        let id = ctx.instance_id().as_str();
        if id.starts_with("later-") {
            return Ok(Deprovisioned::later(self.never()));
        }
        if id.starts_with("refuse-") {
            return Err(BrokerError::bad_request("cannot delete now")
                .instance_usable(true)
                .update_repeatable(false));
        }
        if req.plan_id == "async" {
            let fail = id.starts_with("faildel-").then(|| {
                BrokerError::new(500, "DeleteFailed", "the delete failed")
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            return Ok(Deprovisioned::later(self.held(fail)));
        }
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.0.binds.fetch_add(1, Ordering::SeqCst);
        let p = req.parameters.as_ref();
        if has(p, "requires_app")
            && req
                .bind_resource
                .as_ref()
                .and_then(|r| r.app_guid.as_ref())
                .is_none()
        {
            return Err(BrokerError::requires_app());
        }
        if has(p, "crash") {
            return Err(BrokerError::internal("the backend went away halfway"));
        }
        if has(p, "fail_usable") {
            return Err(BrokerError::bad_request("bad binding").instance_usable(false));
        }
        if has(p, "slow") {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        let creds = json!({ "uri": format!("test://{}/{}", ctx.instance_id(), ctx.binding_id()) });
        if has(p, "later") {
            let never = self.never();
            return Ok(Bound::later(async move {
                never.await?;
                Ok(BindResponse::default())
            }));
        }
        if has(p, "async") || self.self_finishing(Some(req.plan_id.as_str())) {
            let fail = param(p, "async_fail").and_then(Value::as_str).map(|d| {
                BrokerError::bad_request(d)
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            let work = self.held(fail);
            return Ok(Bound::later(async move {
                work.await?;
                Ok(BindResponse {
                    credentials: osb_server_mini::types::Credentials::from_value(creds),
                    ..BindResponse::default()
                })
            }));
        }
        Ok(Bound::credentials(creds))
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

    async fn unbind(&self, ctx: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.0.unbinds.fetch_add(1, Ordering::SeqCst);
        if ctx.binding_id().as_str().starts_with("later-") {
            return Ok(Unbound::later(self.never()));
        }
        if req.plan_id == "async" {
            return Ok(Unbound::later(self.held(None)).retry_after(Duration::from_millis(1500)));
        }
        Ok(Unbound::done())
    }
}

// ---------------------------------------------------------------------------------------
// The harness: a server, a client, and checks every response must pass.

struct Harness {
    running: Running,
    http: reqwest::Client,
    shared: Arc<Shared>,
    next_id: AtomicUsize,
}

/// One answer: status, headers, JSON object body.
#[derive(Debug)]
struct Res {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    fn description(&self) -> &str {
        self.body["description"].as_str().unwrap_or_default()
    }
}

const I: &str = "/v2/service_instances";

/// A JSON request body (this reqwest has no `json` feature).
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

fn prov(plan: &str) -> Value {
    json!({ "service_id": if plan.starts_with("fixed") { "fixed" } else { "svc" }, "plan_id": plan })
}

fn prov_with(plan: &str, parameters: Value) -> Value {
    let mut body = prov(plan);
    body["parameters"] = parameters;
    body
}

fn bind_body(parameters: Value) -> Value {
    json!({ "service_id": "svc", "plan_id": "sync", "parameters": parameters })
}

impl Harness {
    async fn new() -> Self {
        Self::with(|s| s).await
    }

    async fn with(configure: impl FnOnce(Server<TestBroker>) -> Server<TestBroker>) -> Self {
        let broker = TestBroker::default();
        let shared = Arc::clone(&broker.0);
        let running = configure(Server::new(broker))
            .spawn("127.0.0.1:0")
            .await
            .expect("server starts");
        Self {
            running,
            http: reqwest::Client::new(),
            shared,
            next_id: AtomicUsize::new(0),
        }
    }

    /// A request with a request identity but no `X-Broker-API-Version`.
    fn bare(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.http
            .request(method, format!("{}{path}", self.running.url()))
            .header("X-Broker-API-Request-Identity", format!("rid-{n}"))
    }

    /// A request as a 2.17 Platform sends it.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.bare(method, path).header("X-Broker-API-Version", "2.17")
    }

    /// Sends, then checks what every answer must satisfy: a JSON object body (A16), the
    /// request identity echoed (A6), and an error body of the A11 shape for every 4xx/5xx
    /// other than 410.
    async fn send(&self, rb: reqwest::RequestBuilder) -> Res {
        let req = rb.build().expect("request");
        let rid = req.headers().get("X-Broker-API-Request-Identity").cloned();
        let what = format!("{} {}", req.method(), req.url());
        let res = self.http.execute(req).await.expect("the server answers");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let body: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{what}: {status} body is not JSON ({e}): {bytes:?}"));
        assert!(body.is_object(), "{what}: body is not an object: {body}");
        assert_eq!(
            headers.get("X-Broker-API-Request-Identity"),
            rid.as_ref(),
            "{what}: request identity echoed"
        );
        if status >= 400 && status != 410 {
            assert_a11_error_body(&body, &what);
        }
        Res {
            status,
            headers,
            body,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut rb = self.request(method, path);
        if let Some(b) = body {
            rb = rb.json_body(&b);
        }
        self.send(rb).await
    }

    async fn get(&self, path: &str) -> Res {
        self.call(Method::GET, path, None).await
    }

    async fn put(&self, path: &str, body: Value) -> Res {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Res {
        self.call(Method::DELETE, path, None).await
    }

    async fn provision_sync(&self, id: &str, plan: &str) {
        let res = self.put(&format!("{I}/{id}"), prov(plan)).await;
        assert_eq!(res.status, 201, "{res:?}");
    }

    /// Provisions on the async-only plan and waits until it has succeeded.
    async fn provision_async_done(&self, id: &str) {
        let res = self
            .put(&format!("{I}/{id}?accepts_incomplete=true"), prov("async"))
            .await;
        assert_eq!(res.status, 202, "{res:?}");
        self.release(1);
        self.wait_state(&format!("{I}/{id}/last_operation"), "succeeded")
            .await;
    }

    fn release(&self, n: usize) {
        self.shared.release.add_permits(n);
    }

    /// Polls a last_operation endpoint until `state` (panics on anything but 200 on the way).
    async fn wait_state(&self, path: &str, state: &str) -> Res {
        for _ in 0..500 {
            let res = self.get(path).await;
            assert_eq!(res.status, 200, "{path} while waiting for {state}: {res:?}");
            if res.body["state"] == state {
                return res;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path} never reached {state}");
    }

    /// Polls a last_operation endpoint while it answers `in progress`; returns the first
    /// other answer.
    async fn poll_until_done(&self, path: &str) -> Res {
        for _ in 0..500 {
            let res = self.get(path).await;
            if !(res.status == 200 && res.body["state"] == "in progress") {
                return res;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path} stayed in progress");
    }
}

/// A11: `error` is one CamelCase word, `description` a non-empty message.
fn assert_a11_error_body(body: &Value, what: &str) {
    let error = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no `error` code: {body}"));
    assert!(
        error.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && error.chars().all(|c| c.is_ascii_alphanumeric()),
        "{what}: `error` is not one CamelCase word: {error:?}"
    );
    let description = body["description"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no `description`: {body}"));
    assert!(!description.trim().is_empty(), "{what}: empty description");
}

fn assert_operation_id(body: &Value) -> String {
    let op = body["operation"]
        .as_str()
        .unwrap_or_else(|| panic!("no operation string: {body}"));
    assert!(!op.is_empty() && op.chars().count() <= 10_000, "{op:?}");
    op.to_owned()
}

// ---------------------------------------------------------------------------------------
// The checks of `osb check` (osb-conformance), against this runtime

/// How long background work takes on the broker the library checks run against: long
/// enough that a check can act while an operation runs.
const FINISH_AFTER: Duration = Duration::from_millis(1000);

/// The only checks that pass with a note on the path this runtime takes (any other note
/// means the check took a spec-legal shortcut, e.g. "bound synchronously", and proved less).
const EXPECTED_NOTES: &[(&str, &str)] = &[
    ("async.deprovision", "last_operation ended 200 succeeded"),
    // the offering's other plan is the asynchronous one
    ("update.plan_change", "updated asynchronously"),
];

/// Runs the `osb-conformance` checks named `names` (the library behind `osb check`, the one
/// implementation of these rules) against a fresh `TestBroker` whose background work
/// finishes by itself, and asserts each one passed on its main path: not skipped, not
/// warned, no unexpected note; and that the run left nothing behind.
async fn library_checks(names: &[&str]) -> osb_conformance::Report {
    use osb_conformance::{Checker, Config, Status};
    let broker = TestBroker(Arc::new(Shared {
        finish_after: Some(FINISH_AFTER),
        ..Shared::default()
    }));
    let running = Server::new(broker)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts");
    let mut config = Config::new(running.url());
    config.only = names.iter().map(|n| (*n).to_owned()).collect();
    let report = Checker::new(config).expect("checker").run(&|_| {}).await;
    let lines: Vec<String> = report.results.iter().map(|r| r.line()).collect();
    let lines = lines.join("\n");
    assert_eq!(report.plans, "sync: svc/sync, async: svc/async", "{lines}");
    let mut ran: Vec<&str> = report.results.iter().map(|r| r.check.name).collect();
    let mut want = names.to_vec();
    ran.sort_unstable();
    want.sort_unstable();
    assert_eq!(ran, want, "every named check exists and ran");
    for r in &report.results {
        assert_eq!(r.status, Status::Pass, "{}\n{lines}", r.check.name);
        let expected = EXPECTED_NOTES
            .iter()
            .find(|(n, _)| *n == r.check.name)
            .map(|(_, note)| *note);
        assert_eq!(r.note.as_deref(), expected, "{}: the main path", r.check.name);
    }
    assert!(
        report.cleanup_problems.is_empty(),
        "{:?}",
        report.cleanup_problems
    );
    for id in &report.created {
        let res = reqwest::Client::new()
            .get(format!("{}{I}/{id}", running.url()))
            .header("X-Broker-API-Version", "2.17")
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status().as_u16(), 404, "{id} was left behind");
    }
    report
}

// ---------------------------------------------------------------------------------------
// A.1 cross-cutting

#[tokio::test]
async fn a1_version_below_minimum_is_412_naming_the_range() {
    library_checks(&["version.lower"]).await;
    let h = Harness::with(|s| s.min_api_version(ApiVersion::V2_15)).await;
    for old in ["2.14", "2.9", "1.17"] {
        let res = h
            .send(
                h.bare(Method::GET, "/v2/catalog")
                    .header("X-Broker-API-Version", old),
            )
            .await;
        assert_eq!(res.status, 412, "{old}");
        assert_eq!(res.error(), "PreconditionFailed");
        assert!(res.description().contains("2.15 or later"), "{res:?}");
    }
    // A mutation with an old version is refused before anything happens.
    let res = h
        .send(
            h.bare(Method::PUT, &format!("{I}/a1"))
                .header("X-Broker-API-Version", "2.14")
                .json_body(&prov("sync")),
        )
        .await;
    assert_eq!(res.status, 412);
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 0);
    for ok in ["2.15", "2.17", "2.100"] {
        let res = h
            .send(
                h.bare(Method::GET, "/v2/catalog")
                    .header("X-Broker-API-Version", ok),
            )
            .await;
        assert_eq!(res.status, 200, "{ok}");
    }
    assert_eq!(
        h.get(&format!("{I}/a1")).await.status,
        404,
        "nothing was provisioned"
    );
}

#[tokio::test]
async fn a2_missing_or_malformed_version_is_412_saying_it_is_required() {
    library_checks(&["version.missing"]).await;
    let h = Harness::new().await;
    let res = h.send(h.bare(Method::GET, "/v2/catalog")).await;
    assert_eq!(res.status, 412);
    assert_eq!(res.error(), "PreconditionFailed");
    assert!(
        res.description()
            .contains("X-Broker-API-Version header is required"),
        "{res:?}"
    );
    assert!(res.description().contains("2.13 or later"), "{res:?}");
    for bad in ["", "abc", "3.0", "2"] {
        let res = h
            .send(
                h.bare(Method::GET, "/v2/catalog")
                    .header("X-Broker-API-Version", bad),
            )
            .await;
        assert_eq!(res.status, 412, "{bad:?}");
        assert!(res.description().contains("2.13 or later"), "{res:?}");
    }
}

#[tokio::test]
async fn a7_originating_identity_is_optional_but_validated() {
    library_checks(&["headers.originating_identity"]).await;
    let h = Harness::new().await;
    // Absent: accepted.
    h.provision_sync("a7-none", "sync").await;
    assert_eq!(*h.shared.originating_platform.lock().unwrap(), None);
    // Well-formed: accepted, and the broker sees it parsed.
    let res = h
        .send(
            h.request(Method::PUT, &format!("{I}/a7-ok"))
                .header(
                    "X-Broker-API-Originating-Identity",
                    "cloudfoundry eyJ1c2VyX2lkIjoiMTIzIn0=",
                )
                .json_body(&prov("sync")),
        )
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(
        h.shared.originating_platform.lock().unwrap().as_deref(),
        Some("cloudfoundry")
    );
    // Malformed: 400 naming the header, and nothing is created.
    for bad in ["cloudfoundry not-base64!", "cloudfoundry", "kubernetes WzFd"] {
        let res = h
            .send(
                h.request(Method::PUT, &format!("{I}/a7-bad"))
                    .header("X-Broker-API-Originating-Identity", bad)
                    .json_body(&prov("sync")),
            )
            .await;
        assert_eq!(res.status, 400, "{bad}: {res:?}");
        assert!(res.description().contains("Originating-Identity"), "{res:?}");
    }
    assert_eq!(h.get(&format!("{I}/a7-bad")).await.status, 404);
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a8_unknown_fields_are_ignored_everywhere() {
    let h = Harness::new().await;
    let body = json!({
        "service_id": "svc", "plan_id": "sync", "x-acme-foo": 1,
        "context": { "platform": "kubernetes", "namespace": "ns", "x-acme-foo": 1 },
        "maintenance_info": { "version": "1.0.0", "x-acme-foo": 1 }
    });
    let res = h.put(&format!("{I}/a8"), body).await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body["dashboard_url"], "https://dash/a8");
    let res = h
        .patch(
            &format!("{I}/a8"),
            json!({
                "service_id": "svc", "parameters": { "a": 1 }, "x-acme-foo": 1,
                "previous_values": { "plan_id": "sync", "x-acme-foo": 1 },
            }),
        )
        .await;
    assert_eq!(res.status, 200, "{res:?}");
    let res = h
        .put(
            &format!("{I}/a8/service_bindings/b"),
            json!({
                "service_id": "svc", "plan_id": "sync", "x-acme-foo": 1,
                "bind_resource": { "app_guid": "app", "x-acme-foo": 1 },
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body["credentials"]["uri"], "test://a8/b");
    let res = h.get(&format!("{I}/a8")).await;
    assert_eq!(res.body["parameters"], json!({ "a": 1 }));
}

#[tokio::test]
async fn a10_routing_is_404_or_405_with_allow() {
    let h = Harness::new().await;
    for path in ["/v2/nope", "/v2/catalog/", "/v3/catalog", &format!("{I}/x/nope")] {
        let res = h.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.error(), "NotFound");
    }
    let cases = [
        (Method::POST, format!("{I}/x"), "GET, PUT, PATCH, DELETE"),
        (
            Method::PATCH,
            format!("{I}/x/service_bindings/b"),
            "GET, PUT, DELETE",
        ),
        (Method::POST, "/v2/catalog".to_owned(), "GET"),
        (Method::DELETE, format!("{I}/x/last_operation"), "GET"),
        (
            Method::PUT,
            format!("{I}/x/service_bindings/b/last_operation"),
            "GET",
        ),
    ];
    for (method, path, allow) in cases {
        let res = h.call(method.clone(), &path, None).await;
        assert_eq!(res.status, 405, "{method} {path}");
        assert_eq!(res.error(), "MethodNotAllowed");
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn a11_every_error_body_has_a_camel_case_code_and_a_description() {
    library_checks(&["errors.json_body", "errors.fields", "errors.description"]).await;
    // `send` applies the A11 check to every 4xx/5xx; this drives one of each kind.
    let h = Harness::with(|s| s.basic_auth("admin", "secret").body_limit(256)).await;
    let auth = |rb: reqwest::RequestBuilder| rb.basic_auth("admin", Some("secret"));
    let mut statuses = Vec::new();
    statuses.push(h.send(h.request(Method::GET, "/v2/catalog")).await.status); // 401
    statuses.push(h.send(auth(h.bare(Method::GET, "/v2/catalog"))).await.status); // 412
    statuses.push(h.send(auth(h.request(Method::GET, "/v2/nope"))).await.status); // 404
    statuses.push(h.send(auth(h.request(Method::POST, "/v2/catalog"))).await.status); // 405
    let big = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "x": "y".repeat(300) } });
    statuses.push(
        h.send(auth(h.request(Method::PUT, &format!("{I}/e")).json_body(&big)))
            .await
            .status,
    ); // 413
    statuses.push(
        h.send(auth(
            h.request(Method::PUT, &format!("{I}/e"))
                .json_body(&json!({ "plan_id": "sync" })),
        ))
        .await
        .status,
    ); // 400
    statuses.push(
        h.send(auth(
            h.request(Method::PUT, &format!("{I}/e"))
                .json_body(&prov("async")),
        ))
        .await
        .status,
    ); // 422
    statuses.push(
        h.send(auth(
            h.request(Method::PUT, &format!("{I}/e"))
                .json_body(&prov_with("sync", json!({ "panic": true }))),
        ))
        .await
        .status,
    ); // 500
    assert_eq!(statuses, [401, 412, 404, 405, 413, 400, 422, 500]);
}

#[tokio::test]
async fn a12_instance_usable_and_update_repeatable_only_in_update_and_deprovision_errors() {
    library_checks(&["errors.failure_metadata"]).await;
    let h = Harness::new().await;
    // Provision error: the broker set both flags; neither reaches the Platform.
    let res = h
        .put(&format!("{I}/a12"), prov_with("sync", json!({ "fail": true })))
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.error(), "QuotaExceeded");
    assert!(res.body.get("instance_usable").is_none(), "{res:?}");
    assert!(res.body.get("update_repeatable").is_none(), "{res:?}");
    assert_eq!(
        h.get(&format!("{I}/a12")).await.status,
        404,
        "A14: nothing created"
    );
    // Bind error: stripped too.
    h.provision_sync("a12", "sync").await;
    let res = h
        .put(
            &format!("{I}/a12/service_bindings/b"),
            bind_body(json!({ "fail_usable": true })),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("instance_usable").is_none(), "{res:?}");
    // Update error: both kept.
    let res = h
        .patch(
            &format!("{I}/a12"),
            json!({ "service_id": "svc", "parameters": { "reject": true } }),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["instance_usable"], true);
    assert_eq!(res.body["update_repeatable"], false);
    // Deprovision error: instance_usable kept (A137), update_repeatable stripped.
    h.provision_sync("refuse-a12", "sync").await;
    let res = h
        .delete(&format!("{I}/refuse-a12?service_id=svc&plan_id=sync"))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["instance_usable"], true);
    assert!(res.body.get("update_repeatable").is_none(), "{res:?}");
    assert_eq!(
        h.get(&format!("{I}/refuse-a12")).await.status,
        200,
        "A14: still there"
    );
}

#[tokio::test]
async fn a13_exact_error_codes_for_their_scenarios() {
    // AsyncRequired, MaintenanceInfoConflict and ConcurrencyError: the library checks above.
    library_checks(&[
        "async.required",
        "maintenance.provision_conflict",
        "concurrency.fetch_during_update",
    ])
    .await;
    let h = Harness::new().await;
    h.provision_sync("a13", "sync").await;
    let res = h
        .put(
            &format!("{I}/a13/service_bindings/b"),
            bind_body(json!({ "requires_app": true })),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "RequiresApp"));
}

#[tokio::test]
async fn a14_a_4xx_leaves_the_resources_unchanged() {
    let h = Harness::new().await;
    let create = prov_with("schema", json!({ "size": 3 }));
    assert_eq!(h.put(&format!("{I}/a14"), create.clone()).await.status, 201);
    let before = h.get(&format!("{I}/a14")).await.body;
    let lo_before = h.get(&format!("{I}/a14/last_operation")).await.body;
    let failures = [
        (Method::PUT, prov_with("schema", json!({ "size": 4 })), 409),
        (Method::PUT, prov_with("schema", json!({ "size": 11 })), 400),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "plan_id": "nope" }),
            400,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "fixed", "plan_id": "fixed-a" }),
            400,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "9" } }),
            422,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "parameters": { "reject": true } }),
            422,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "parameters": "not an object" }),
            400,
        ),
    ];
    for (method, body, status) in failures {
        let res = h
            .call(method.clone(), &format!("{I}/a14"), Some(body.clone()))
            .await;
        assert_eq!(res.status, status, "{method} {body}: {res:?}");
        assert_eq!(
            h.get(&format!("{I}/a14")).await.body,
            before,
            "after {method} {body}"
        );
    }
    let res = h.delete(&format!("{I}/a14?service_id=svc&plan_id=sync")).await;
    assert_eq!(res.status, 400, "wrong plan for this instance");
    let res = h.delete(&format!("{I}/a14?service_id=svc")).await;
    assert_eq!(res.status, 400);
    assert_eq!(h.get(&format!("{I}/a14")).await.body, before);
    assert_eq!(h.get(&format!("{I}/a14/last_operation")).await.body, lo_before);
    assert_eq!(
        h.put(&format!("{I}/a14"), create).await.status,
        200,
        "still the same instance"
    );
}

#[tokio::test]
async fn a16_every_body_is_a_json_object_at_least_empty() {
    library_checks(&["unbind.ok", "deprovision.sync"]).await;
    let h = Harness::new().await;
    h.provision_sync("a16", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a16"),
            json!({ "service_id": "svc", "parameters": {} }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    assert_eq!(
        h.put(&format!("{I}/a16/service_bindings/b"), bind_body(json!({})))
            .await
            .status,
        201
    );
    let unbind = format!("{I}/a16/service_bindings/b?service_id=svc&plan_id=sync");
    let res = h.delete(&unbind).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    let res = h.delete(&unbind).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    let del = format!("{I}/a16?service_id=svc&plan_id=sync");
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    for header in [None, Some("application/json; charset=utf-8")] {
        let mut rb = h.request(Method::DELETE, &del);
        if let Some(ct) = header {
            rb = rb.header("content-type", ct);
        }
        let res = h.send(rb).await;
        assert_eq!(res.body, json!({}));
    }
}

// ---- A.1 asynchronous operations

#[tokio::test]
async fn a19_async_reply_without_accepts_incomplete_is_422_and_the_work_never_runs() {
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a19"), prov_with("sync", json!({ "later": true })))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/a19")).await.status, 404, "nothing created");
    h.provision_sync("a19", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a19"),
            json!({ "service_id": "svc", "parameters": { "later": true } }),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert!(
        h.get(&format!("{I}/a19")).await.body.get("parameters").is_none(),
        "nothing applied"
    );
    let res = h
        .put(
            &format!("{I}/a19/service_bindings/b"),
            bind_body(json!({ "later": true })),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/a19/service_bindings/b")).await.status, 404);
    assert_eq!(
        h.put(&format!("{I}/a19/service_bindings/later-b"), bind_body(json!({})))
            .await
            .status,
        201
    );
    let res = h
        .delete(&format!(
            "{I}/a19/service_bindings/later-b?service_id=svc&plan_id=sync"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(
        h.get(&format!("{I}/a19/service_bindings/later-b")).await.status,
        200
    );
    h.provision_sync("later-a19", "sync").await;
    let res = h
        .delete(&format!("{I}/later-a19?service_id=svc&plan_id=sync"))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/later-a19")).await.status, 200, "not deleted");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !h.shared.dropped_work_ran.load(Ordering::SeqCst),
        "refused work never runs"
    );
}

#[tokio::test]
async fn a20_accepts_incomplete_and_async_work_is_202_with_an_operation() {
    library_checks(&["async.accepted"]).await;
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a20?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    assert_eq!(res.body["dashboard_url"], "https://dash/async");
    let op = assert_operation_id(&res.body);
    let lo = h.get(&format!("{I}/a20/last_operation?operation={op}")).await;
    assert_eq!((lo.status, &lo.body["state"]), (200, &json!("in progress")));
    h.release(1);
    h.wait_state(&format!("{I}/a20/last_operation"), "succeeded")
        .await;
    let res = h
        .patch(
            &format!("{I}/a20?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    assert_ne!(assert_operation_id(&res.body), op, "a new operation");
    h.release(1);
    h.wait_state(&format!("{I}/a20/last_operation"), "succeeded")
        .await;
}

#[tokio::test]
async fn a21_async_only_plan_without_accepts_incomplete_is_422_never_202() {
    library_checks(&[
        "async.required",
        "async.deprovision_required",
        "update.async_required",
        "bind.async_required",
        "k8s.async_required_text",
    ])
    .await;
    let h = Harness::new().await;
    for q in ["", "?accepts_incomplete=false"] {
        let res = h.put(&format!("{I}/a21{q}"), prov("async")).await;
        assert_eq!((res.status, res.error()), (422, "AsyncRequired"), "{q:?}");
        assert!(res.description().contains("asynchronous"), "{res:?}");
    }
    assert_eq!(
        h.shared.provisions.load(Ordering::SeqCst),
        0,
        "checked before the broker"
    );
    assert_eq!(h.get(&format!("{I}/a21/last_operation")).await.status, 404);
    // The same on update, bind, unbind and deprovision of an async-only instance.
    h.provision_async_done("a21").await;
    let res = h
        .patch(
            &format!("{I}/a21"),
            json!({ "service_id": "svc", "parameters": {} }),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.shared.updates.load(Ordering::SeqCst), 0);
    let b = json!({ "service_id": "svc", "plan_id": "async" });
    let res = h.put(&format!("{I}/a21/service_bindings/b"), b.clone()).await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.shared.binds.load(Ordering::SeqCst), 0);
    let res = h
        .put(&format!("{I}/a21/service_bindings/b?accepts_incomplete=true"), b)
        .await;
    assert_eq!(res.status, 201, "A22: the broker may still answer synchronously");
    let res = h
        .delete(&format!(
            "{I}/a21/service_bindings/b?service_id=svc&plan_id=async"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    let res = h
        .delete(&format!(
            "{I}/a21?service_id=svc&plan_id=async&accepts_incomplete=false"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/a21")).await.status, 200);
}

// ---- A.2 catalog

#[tokio::test]
async fn a32_invalid_catalog_or_schema_refuses_to_start() {
    library_checks(&["catalog.fetch", "catalog.valid", "catalog.stable_ids"]).await;
    struct Broken(Catalog);
    impl Broker for Broken {
        fn catalog(&self) -> Catalog {
            self.0.clone()
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
    let dup = Catalog::new(vec![
        ServiceOffering::new("s", "same", "one", vec![ServicePlan::new("p", "p", "plan")]),
        ServiceOffering::new("s", "same", "two", vec![]),
    ]);
    match Server::new(Broken(dup)).spawn("127.0.0.1:0").await {
        Err(ServeError::InvalidCatalog(errors)) => {
            let text = errors.to_string();
            assert!(text.contains("problems"), "{text}");
            assert!(text.contains("plans"), "{text}");
        }
        other => panic!("expected InvalidCatalog, got {other:?}"),
    }
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
    let bad_schema = Catalog::new(vec![ServiceOffering::new("s", "s", "svc", vec![plan])]);
    match Server::new(Broken(bad_schema)).spawn("127.0.0.1:0").await {
        Err(ServeError::InvalidSchema { location, .. }) => {
            assert!(location.contains("service_instance.create"), "{location}");
        }
        other => panic!("expected InvalidSchema, got {other:?}"),
    }
    // A valid catalog is served as it was given.
    let h = Harness::new().await;
    let res = h.get("/v2/catalog").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let ids: Vec<&str> = res.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["svc", "fixed"]);
}

// ---- A.3 provision

#[tokio::test]
async fn a39_unknown_service_or_plan_of_another_service_is_400() {
    library_checks(&["provision.unknown_plan"]).await;
    let h = Harness::new().await;
    for (body, needle) in [
        (
            json!({ "service_id": "nope", "plan_id": "sync" }),
            "unknown service_id",
        ),
        (
            json!({ "service_id": "svc", "plan_id": "nope" }),
            "unknown plan_id",
        ),
        (
            json!({ "service_id": "svc", "plan_id": "fixed-a" }),
            "unknown plan_id",
        ),
    ] {
        let res = h.put(&format!("{I}/a39"), body.clone()).await;
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.error(), "BadRequest");
        assert!(res.description().contains(needle), "{res:?}");
    }
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 0);
    assert_eq!(h.get(&format!("{I}/a39")).await.status, 404);
}

#[tokio::test]
async fn a44_resent_put_while_provisioning_is_202_with_the_same_operation() {
    library_checks(&["async.repeat_in_progress", "async.conflict_in_progress"]).await;
    let h = Harness::new().await;
    let uri = format!("{I}/a44?accepts_incomplete=true");
    let first = h.put(&uri, prov("async")).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    for _ in 0..3 {
        let again = h.put(&uri, prov("async")).await;
        assert_eq!(again.status, 202, "not 200 while in progress");
        assert_eq!(again.body["operation"], op.as_str());
        assert_eq!(again.body["dashboard_url"], "https://dash/async");
    }
    let other = h.put(&uri, prov_with("async", json!({ "x": 1 }))).await;
    assert_eq!(
        other.status, 409,
        "A46: different attributes while being provisioned"
    );
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 1);
    h.release(1);
    h.wait_state(&format!("{I}/a44/last_operation"), "succeeded")
        .await;
    let done = h.put(&uri, prov("async")).await;
    assert_eq!(done.status, 200, "complete now: identical PUT is 200");
    assert!(done.body.get("operation").is_none(), "{done:?}");
}

// ---- A.4 fetch instance

#[tokio::test]
async fn a55_fetch_instance_is_available_right_after_succeeded() {
    library_checks(&[
        "fetch.instance",
        "fetch.instance_unknown",
        "concurrency.fetch_during_provision",
    ])
    .await;
    let h = Harness::new().await;
    let res = h
        .put(
            &format!("{I}/a55?accepts_incomplete=true"),
            prov_with("async", json!({ "n": 1 })),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    h.wait_state(&format!("{I}/a55/last_operation"), "succeeded")
        .await;
    let res = h.get(&format!("{I}/a55")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["service_id"], "svc");
    assert_eq!(res.body["plan_id"], "async");
    assert_eq!(res.body["parameters"], json!({ "n": 1 }));
    assert_eq!(res.body["dashboard_url"], "https://dash/async");
    // An offering without instances_retrievable does not support the endpoint.
    h.provision_sync("a55-fixed", "fixed-a").await;
    let res = h.get(&format!("{I}/a55-fixed")).await;
    assert_eq!(res.status, 400);
    assert!(res.description().contains("instances_retrievable"), "{res:?}");
}

#[tokio::test]
async fn a59_fetch_instance_being_updated_is_422_concurrency_error() {
    library_checks(&["concurrency.fetch_during_update"]).await;
    let h = Harness::new().await;
    h.provision_sync("a59", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a59?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    h.wait_state(&format!("{I}/a59/last_operation"), "succeeded")
        .await;
    let res = h.get(&format!("{I}/a59")).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body["parameters"],
        json!({ "async": true }),
        "the update was applied"
    );
}

// ---- A.5 update

#[tokio::test]
async fn a61_plan_changes_follow_plan_updateable_with_the_plan_value_first() {
    library_checks(&["update.plan_change"]).await;
    let h = Harness::new().await;
    // Offering not plan_updateable: refused, and the plan stays.
    h.provision_sync("a61", "fixed-a").await;
    let res = h
        .patch(
            &format!("{I}/a61"),
            json!({ "service_id": "fixed", "plan_id": "fixed-b" }),
        )
        .await;
    assert_eq!(res.status, 422, "A69: a change the catalog does not support");
    assert_eq!(res.body["error"], "PlanChangeNotSupported");
    assert!(res.description().contains("plan_updateable"), "{res:?}");
    assert_eq!(
        h.put(&format!("{I}/a61"), prov("fixed-a")).await.status,
        200,
        "still fixed-a"
    );
    // A plan that says plan_updateable: true in that offering can be changed.
    h.provision_sync("a61-up", "fixed-up").await;
    let res = h
        .patch(
            &format!("{I}/a61-up"),
            json!({ "service_id": "fixed", "plan_id": "fixed-b" }),
        )
        .await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(
        h.put(&format!("{I}/a61-up"), prov("fixed-b")).await.status,
        200,
        "now fixed-b"
    );
    // A plan that says false in an updateable offering cannot.
    h.provision_sync("a61-pinned", "pinned").await;
    let res = h
        .patch(
            &format!("{I}/a61-pinned"),
            json!({ "service_id": "svc", "plan_id": "sync" }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["error"].as_str()),
        (422, Some("PlanChangeNotSupported"))
    );
    assert_eq!(h.get(&format!("{I}/a61-pinned")).await.body["plan_id"], "pinned");
    // An updateable one can.
    h.provision_sync("a61-svc", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a61-svc"),
            json!({ "service_id": "svc", "plan_id": "schema" }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    assert_eq!(h.get(&format!("{I}/a61-svc")).await.body["plan_id"], "schema");
}

#[tokio::test]
async fn a62_context_only_updates_need_allow_context_updates() {
    let h = Harness::new().await;
    let ctx = json!({ "platform": "kubernetes", "namespace": "new-ns" });
    h.provision_sync("a62-fixed", "fixed-a").await;
    let res = h
        .patch(
            &format!("{I}/a62-fixed"),
            json!({ "service_id": "fixed", "context": ctx }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["error"].as_str()),
        (422, Some("ContextUpdateNotSupported"))
    );
    assert!(res.description().contains("allow_context_updates"), "{res:?}");
    assert_eq!(h.shared.updates.load(Ordering::SeqCst), 0);
    h.provision_sync("a62", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a62"),
            json!({ "service_id": "svc", "context": ctx }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    // The new context is in the record: a PUT with it is an identical repeat.
    let res = h
        .put(
            &format!("{I}/a62"),
            json!({ "service_id": "svc", "plan_id": "sync", "context": ctx }),
        )
        .await;
    assert_eq!(res.status, 200);
}

#[tokio::test]
async fn a63_update_without_plan_id_keeps_the_plan() {
    let h = Harness::new().await;
    h.provision_sync("a63", "schema").await;
    let res = h
        .patch(
            &format!("{I}/a63"),
            json!({ "service_id": "svc", "parameters": { "size": 2 } }),
        )
        .await;
    assert_eq!(res.status, 200);
    let res = h.get(&format!("{I}/a63")).await;
    assert_eq!(res.body["plan_id"], "schema");
    assert_eq!(res.body["parameters"], json!({ "size": 2 }));
}

#[tokio::test]
async fn a64_update_without_parameters_keeps_them() {
    let h = Harness::new().await;
    assert_eq!(
        h.put(&format!("{I}/a64"), prov_with("schema", json!({ "size": 3 })))
            .await
            .status,
        201
    );
    let res = h
        .patch(
            &format!("{I}/a64"),
            json!({ "service_id": "svc", "plan_id": "sync" }),
        )
        .await;
    assert_eq!(res.status, 200);
    let res = h.get(&format!("{I}/a64")).await;
    assert_eq!(res.body["plan_id"], "sync");
    assert_eq!(res.body["parameters"], json!({ "size": 3 }));
}

#[tokio::test]
async fn a67_resent_patch_while_updating_is_202_with_the_same_operation() {
    library_checks(&["update.repeat_in_progress"]).await;
    let h = Harness::new().await;
    h.provision_sync("a67", "sync").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true } });
    let uri = format!("{I}/a67?accepts_incomplete=true");
    let first = h.patch(&uri, body.clone()).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    let again = h.patch(&uri, body.clone()).await;
    assert_eq!(again.status, 202, "not 200 while in progress");
    assert_eq!(again.body["operation"], op.as_str());
    let other = h
        .patch(&uri, json!({ "service_id": "svc", "parameters": {} }))
        .await;
    assert_eq!((other.status, other.error()), (422, "ConcurrencyError"), "A72");
    assert_eq!(h.shared.updates.load(Ordering::SeqCst), 1);
    h.release(1);
    h.wait_state(&format!("{I}/a67/last_operation"), "succeeded")
        .await;
    let after = h.patch(&uri, body).await;
    assert_eq!(after.status, 202, "a new update once the last one completed");
    assert_ne!(after.body["operation"], op.as_str());
    h.release(1);
    h.wait_state(&format!("{I}/a67/last_operation"), "succeeded")
        .await;
}

#[tokio::test]
async fn a73_a_failed_update_applies_none_of_its_changes() {
    let h = Harness::new().await;
    assert_eq!(
        h.put(&format!("{I}/a73"), prov_with("sync", json!({ "keep": 1 })))
            .await
            .status,
        201
    );
    let before = h.get(&format!("{I}/a73")).await.body;
    let attempts = [
        (
            json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "reject": true } }),
            422,
        ),
        (
            json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "panic": true } }),
            500,
        ),
        (
            json!({ "service_id": "svc", "plan_id": "schema", "maintenance_info": { "version": "0.1" } }),
            422,
        ),
    ];
    for (body, status) in attempts {
        let res = h.patch(&format!("{I}/a73"), body.clone()).await;
        assert_eq!(res.status, status, "{body}: {res:?}");
        assert_eq!(h.get(&format!("{I}/a73")).await.body, before, "after {body}");
    }
    // A failed asynchronous update applies nothing either.
    let res = h
        .patch(
            &format!("{I}/a73?accepts_incomplete=true"),
            json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "async": true, "fail": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    h.wait_state(&format!("{I}/a73/last_operation"), "failed").await;
    assert_eq!(h.get(&format!("{I}/a73")).await.body, before);
}

// ---- A.6 instance last operation

#[tokio::test]
async fn a79_a80_states_are_exact_and_descriptions_never_empty() {
    library_checks(&["last_operation.states"]).await;
    let h = Harness::new().await;
    // Progress text empty: no description at all while in progress.
    let res = h
        .put(
            &format!("{I}/a80?accepts_incomplete=true"),
            prov_with("async", json!({ "progress": "", "async_fail": "" })),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a80/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress", "with the space");
    assert!(lo.body.get("description").is_none(), "{lo:?}");
    h.release(1);
    let lo = h.wait_state(&format!("{I}/a80/last_operation"), "failed").await;
    assert!(
        lo.body.get("description").is_none(),
        "empty error description dropped: {lo:?}"
    );
    // With text: sent as given.
    let res = h
        .put(
            &format!("{I}/a79?accepts_incomplete=true"),
            prov_with("async", json!({ "progress": "10% done" })),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a79/last_operation")).await;
    assert_eq!(
        lo.body,
        json!({ "state": "in progress", "description": "10% done" })
    );
    h.release(1);
    let lo = h
        .wait_state(&format!("{I}/a79/last_operation"), "succeeded")
        .await;
    assert_eq!(lo.body, json!({ "state": "succeeded" }));
    // Every state seen is one of the three.
    for id in ["a79", "a80"] {
        let state = h.get(&format!("{I}/{id}/last_operation")).await.body["state"].clone();
        assert!(["in progress", "succeeded", "failed"].contains(&state.as_str().unwrap()));
    }
}

#[tokio::test]
async fn a81_instance_usable_only_for_failed_update_or_deprovision() {
    let h = Harness::new().await;
    // Failed provision: the broker set both flags; neither is sent.
    let res = h
        .put(
            &format!("{I}/a81-p?accepts_incomplete=true"),
            prov_with("async", json!({ "async_fail": "it broke" })),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    let lo = h.wait_state(&format!("{I}/a81-p/last_operation"), "failed").await;
    assert_eq!(lo.body, json!({ "state": "failed", "description": "it broke" }));
    // Failed update: both.
    h.provision_sync("a81-u", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a81-u?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true, "fail": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    let lo = h.wait_state(&format!("{I}/a81-u/last_operation"), "failed").await;
    assert_eq!(
        lo.body,
        json!({ "state": "failed", "description": "update failed", "instance_usable": false, "update_repeatable": false })
    );
    // Failed deprovision: instance_usable only.
    h.provision_async_done("faildel-a81").await;
    let res = h
        .delete(&format!(
            "{I}/faildel-a81?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    let lo = h
        .wait_state(&format!("{I}/faildel-a81/last_operation"), "failed")
        .await;
    assert_eq!(
        lo.body,
        json!({ "state": "failed", "description": "the delete failed", "instance_usable": false })
    );
    assert_eq!(
        h.get(&format!("{I}/faildel-a81")).await.status,
        200,
        "the record is kept"
    );
    // Succeeded: neither.
    h.provision_sync("a81-s", "sync").await;
    let lo = h.get(&format!("{I}/a81-s/last_operation")).await;
    assert_eq!(lo.body, json!({ "state": "succeeded" }));
}

#[tokio::test]
async fn a82_malformed_last_operation_query_is_400() {
    let h = Harness::new().await;
    h.provision_sync("a82", "sync").await;
    let res = h
        .get(&format!("{I}/a82/last_operation?operation=a&operation=b"))
        .await;
    assert_eq!((res.status, res.error()), (400, "BadRequest"));
    assert!(res.description().contains("operation"), "{res:?}");
    let res = h
        .get(&format!(
            "{I}/a82/service_bindings/b/last_operation?plan_id=a&plan_id=b"
        ))
        .await;
    assert_eq!(res.status, 400);
    let res = h
        .get(&format!(
            "{I}/a82/last_operation?service_id=svc&plan_id=sync&operation=x"
        ))
        .await;
    assert_eq!(res.status, 200, "hints are accepted");
}

#[tokio::test]
async fn a84_after_async_deprovision_a_poll_naming_it_is_succeeded_others_410() {
    library_checks(&["async.deprovision"]).await;
    // While the runtime remembers the finished delete (its tombstone), a poll that names the
    // delete's operation is answered 200 "succeeded" (what several platforms and the OSB
    // checker accept); any other poll of the deleted id gets 410 Gone. Both are spec-legal.
    let h = Harness::new().await;
    h.provision_async_done("a84").await;
    let lo_path = format!("{I}/a84/last_operation");
    let res = h
        .delete(&format!(
            "{I}/a84?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202);
    let op = assert_operation_id(&res.body);
    let lo = h
        .get(&format!("{lo_path}?operation={op}&service_id=svc&plan_id=async"))
        .await;
    assert_eq!((lo.status, &lo.body["state"]), (200, &json!("in progress")));
    h.release(1);
    let last = h.poll_until_done(&format!("{lo_path}?operation={op}")).await;
    assert_eq!(
        (last.status, &last.body),
        (200, &json!({"state": "succeeded"})),
        "a poll naming the finished delete: {last:?}"
    );
    let other = h.get(&lo_path).await;
    assert_eq!(
        (other.status, &other.body),
        (410, &json!({})),
        "a poll naming no operation"
    );
    let stale = h.get(&format!("{lo_path}?operation=another-op")).await;
    assert_eq!(stale.status, 410, "a poll naming another operation");
    assert_eq!(
        h.get(&format!("{I}/a84")).await.status,
        404,
        "the instance is gone"
    );
    let res = h
        .delete(&format!(
            "{I}/a84?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    // A84 [IMPLIED]: never 410 while a create or update is polled.
    let res = h
        .put(&format!("{I}/a84?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202, "the id can be provisioned again");
    let lo = h.get(&lo_path).await;
    assert_eq!((lo.status, &lo.body["state"]), (200, &json!("in progress")));
    h.release(1);
    h.wait_state(&lo_path, "succeeded").await;
}

#[tokio::test]
async fn a85_retry_after_on_in_progress_last_operation() {
    library_checks(&["last_operation.retry_after"]).await;
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a85?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a85/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    assert_eq!(
        lo.header("retry-after"),
        Some("2"),
        "the plan policy's hint, in seconds"
    );
    h.release(1);
    let lo = h
        .wait_state(&format!("{I}/a85/last_operation"), "succeeded")
        .await;
    assert_eq!(lo.header("retry-after"), None, "only while in progress");
    // A per-operation hint (1.5 s) is rounded up to whole seconds, for bindings too.
    let b = format!("{I}/a85/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            json!({ "service_id": "svc", "plan_id": "async" }),
        )
        .await;
    assert_eq!(res.status, 201);
    let res = h
        .delete(&format!(
            "{b}?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{b}/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    assert_eq!(lo.header("retry-after"), Some("2"));
    // A plan without a hint sends none.
    h.provision_sync("a85-sync", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a85-sync?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a85-sync/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    assert_eq!(lo.header("retry-after"), None);
    h.release(2);
    assert_eq!(
        h.poll_until_done(&format!("{b}/last_operation")).await.status,
        410
    );
    h.wait_state(&format!("{I}/a85-sync/last_operation"), "succeeded")
        .await;
}

// ---- A.7 bind / A.8 fetch binding / A.9 binding last operation

#[tokio::test]
async fn a94_resent_bind_while_in_progress_is_202_with_the_same_operation_and_no_credentials() {
    library_checks(&["bind.async"]).await;
    let h = Harness::new().await;
    h.provision_sync("a94", "sync").await;
    let uri = format!("{I}/a94/service_bindings/b?accepts_incomplete=true");
    let first = h.put(&uri, bind_body(json!({ "async": true }))).await;
    assert_eq!(first.status, 202);
    assert!(first.body.get("credentials").is_none(), "{first:?}");
    let op = assert_operation_id(&first.body);
    let again = h.put(&uri, bind_body(json!({ "async": true }))).await;
    assert_eq!(again.status, 202, "not 200 while in progress");
    assert_eq!(again.body["operation"], op.as_str());
    assert!(again.body.get("credentials").is_none());
    let other = h.put(&uri, bind_body(json!({ "async": true, "x": 1 }))).await;
    assert_eq!(other.status, 409, "A96: different parameters while being created");
    assert_eq!(h.shared.binds.load(Ordering::SeqCst), 1);
    h.release(1);
    h.wait_state(&format!("{I}/a94/service_bindings/b/last_operation"), "succeeded")
        .await;
    let done = h.put(&uri, bind_body(json!({ "async": true }))).await;
    assert_eq!(done.status, 200);
    assert_eq!(done.body["credentials"]["uri"], "test://a94/b");
}

#[tokio::test]
async fn a98_bind_while_another_binding_is_being_created_is_422_concurrency_error() {
    let h = Arc::new(Harness::new().await);
    h.provision_sync("a98", "sync").await;
    let h1 = Arc::clone(&h);
    let first = tokio::spawn(async move {
        h1.put(
            &format!("{I}/a98/service_bindings/b1"),
            bind_body(json!({ "slow": true })),
        )
        .await
    });
    // Wait until the first bind is inside the broker.
    for _ in 0..200 {
        if h.shared.binds.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = h
        .put(&format!("{I}/a98/service_bindings/b2"), bind_body(json!({})))
        .await;
    assert_eq!((second.status, second.error()), (422, "ConcurrencyError"));
    let first = first.await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(
        h.get(&format!("{I}/a98/service_bindings/b2")).await.status,
        404,
        "not created"
    );
    let second = h
        .put(&format!("{I}/a98/service_bindings/b2"), bind_body(json!({})))
        .await;
    assert_eq!(second.status, 201, "fine once the first one is done");
}

#[tokio::test]
async fn a100_a127_a138_operation_ids_are_strings_of_at_most_10000_characters() {
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a100?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    assert_operation_id(&res.body);
    h.release(1);
    h.wait_state(&format!("{I}/a100/last_operation"), "succeeded")
        .await;
    let b = format!("{I}/a100/service_bindings/b");
    let bind = json!({ "service_id": "svc", "plan_id": "async" });
    let res = h.put(&format!("{b}?accepts_incomplete=true"), bind).await;
    assert_eq!(res.status, 201);
    let res = h
        .delete(&format!(
            "{b}?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202, "A127: unbind");
    assert_operation_id(&res.body);
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{b}/last_operation")).await.status,
        410
    );
    let res = h
        .delete(&format!(
            "{I}/a100?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202, "A138: deprovision");
    assert_operation_id(&res.body);
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{I}/a100/last_operation"))
            .await
            .status,
        410
    );
    h.provision_sync("a100-sync", "sync").await;
    let res = h
        .put(
            &format!("{I}/a100-sync/service_bindings/b?accepts_incomplete=true"),
            bind_body(json!({ "async": true })),
        )
        .await;
    assert_eq!(res.status, 202, "A100: bind");
    assert_operation_id(&res.body);
    h.release(1);
    h.wait_state(
        &format!("{I}/a100-sync/service_bindings/b/last_operation"),
        "succeeded",
    )
    .await;
}

#[tokio::test]
async fn a107_async_bind_answers_without_credentials_and_fetch_has_them() {
    library_checks(&["bind.async"]).await;
    let h = Harness::new().await;
    h.provision_sync("a107", "sync").await;
    let b = format!("{I}/a107/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            bind_body(json!({ "async": true })),
        )
        .await;
    assert_eq!(res.status, 202);
    assert!(res.body.get("credentials").is_none(), "{res:?}");
    assert_eq!(h.get(&b).await.status, 404, "A113: in progress");
    h.release(1);
    let lo = h.wait_state(&format!("{b}/last_operation"), "succeeded").await;
    assert_eq!(lo.body, json!({ "state": "succeeded" }));
    let res = h.get(&b).await;
    assert_eq!(res.status, 200, "available right after succeeded (A110)");
    assert_eq!(res.body["credentials"]["uri"], "test://a107/b");
}

#[tokio::test]
async fn a108_rotation_creates_a_new_binding_and_keeps_the_old_one() {
    library_checks(&["bind.rotation"]).await;
    let h = Harness::new().await;
    h.provision_sync("a108", "sync").await;
    let old = format!("{I}/a108/service_bindings/old");
    assert_eq!(h.put(&old, bind_body(json!({ "p": 1 }))).await.status, 201);
    let new = format!("{I}/a108/service_bindings/new");
    let res = h.put(&new, json!({ "predecessor_binding_id": "old" })).await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body["credentials"]["rotated_from"], "old");
    let res = h.get(&old).await;
    assert_eq!(res.status, 200, "the predecessor stays valid");
    assert_eq!(res.body["credentials"]["uri"], "test://a108/old");
    let res = h.get(&new).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["credentials"]["rotated_from"], "old");
    assert_eq!(
        res.body["parameters"],
        json!({ "p": 1 }),
        "parameters copied (A109)"
    );
    let res = h.put(&new, json!({ "predecessor_binding_id": "old" })).await;
    assert_eq!(res.status, 200, "identical repeat");
    let res = h
        .put(
            &format!("{I}/a108/service_bindings/x"),
            json!({ "predecessor_binding_id": "nope" }),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.description().contains("predecessor_binding_id"), "{res:?}");
    // A plan that is not binding_rotatable refuses rotations.
    h.provision_sync("a108-schema", "schema").await;
    let sb = format!("{I}/a108-schema/service_bindings");
    assert_eq!(
        h.put(
            &format!("{sb}/a"),
            json!({ "service_id": "svc", "plan_id": "schema" })
        )
        .await
        .status,
        201
    );
    let res = h
        .put(&format!("{sb}/b"), json!({ "predecessor_binding_id": "a" }))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.description().contains("binding_rotatable"), "{res:?}");
    assert_eq!(h.get(&format!("{sb}/b")).await.status, 404);
}

#[tokio::test]
async fn a112_fetch_binding_returns_credentials_and_parameters() {
    library_checks(&["fetch.binding", "fetch.binding_unknown"]).await;
    let h = Harness::new().await;
    h.provision_sync("a112", "sync").await;
    let b = format!("{I}/a112/service_bindings/b");
    let res = h.put(&b, bind_body(json!({ "role": "reader" }))).await;
    assert_eq!(res.status, 201);
    let res = h.get(&b).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["credentials"]["uri"], "test://a112/b");
    assert_eq!(res.body["parameters"], json!({ "role": "reader" }));
    assert!(res.body.get("operation").is_none());
}

#[tokio::test]
async fn a115_binding_last_operation_has_state_and_description_only() {
    let h = Harness::new().await;
    h.provision_sync("a115", "sync").await;
    let b = format!("{I}/a115/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            bind_body(json!({ "async": true, "async_fail": "no credentials today" })),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{b}/last_operation")).await;
    assert_eq!(lo.body, json!({ "state": "in progress" }));
    h.release(1);
    let lo = h.wait_state(&format!("{b}/last_operation"), "failed").await;
    assert_eq!(
        lo.body,
        json!({ "state": "failed", "description": "no credentials today" }),
        "no instance_usable/update_repeatable even though the broker set them"
    );
    assert_eq!(h.get(&b).await.status, 404, "a failed binding cannot be fetched");
}

#[tokio::test]
async fn a119_unbind_while_the_binding_is_being_created_is_422_concurrency_error() {
    // The runtime rejects the delete (allowed by A.12) instead of halting the creation.
    let h = Harness::new().await;
    h.provision_sync("a119", "sync").await;
    let b = format!("{I}/a119/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            bind_body(json!({ "async": true })),
        )
        .await;
    assert_eq!(res.status, 202);
    for q in ["", "&accepts_incomplete=true"] {
        let res = h.delete(&format!("{b}?service_id=svc&plan_id=sync{q}")).await;
        assert_eq!((res.status, res.error()), (422, "ConcurrencyError"), "{q:?}");
    }
    let lo = h.get(&format!("{b}/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress", "the creation goes on");
    h.release(1);
    h.wait_state(&format!("{b}/last_operation"), "succeeded").await;
    let res = h.delete(&format!("{b}?service_id=svc&plan_id=sync")).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
}

#[tokio::test]
async fn a123_resent_unbind_while_in_progress_is_202_with_the_same_operation() {
    let h = Harness::new().await;
    h.provision_async_done("a123").await;
    let b = format!("{I}/a123/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            json!({ "service_id": "svc", "plan_id": "async" }),
        )
        .await;
    assert_eq!(res.status, 201);
    let del = format!("{b}?service_id=svc&plan_id=async&accepts_incomplete=true");
    let first = h.delete(&del).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    let again = h.delete(&del).await;
    assert_eq!(again.status, 202, "not 200 while in progress");
    assert_eq!(again.body["operation"], op.as_str());
    assert_eq!(h.get(&b).await.status, 200, "still fetchable while being deleted");
    h.release(1);
    let last = h.poll_until_done(&format!("{b}/last_operation")).await;
    assert_eq!(
        (last.status, &last.body),
        (410, &json!({})),
        "A116: 410 once unbound"
    );
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    assert_eq!(h.get(&b).await.status, 404);
}

#[tokio::test]
async fn a124_unbind_without_service_id_or_plan_id_is_400() {
    library_checks(&["unbind.missing_params"]).await;
    let h = Harness::new().await;
    h.provision_sync("a124", "sync").await;
    let b = format!("{I}/a124/service_bindings/b");
    assert_eq!(h.put(&b, bind_body(json!({}))).await.status, 201);
    for q in [
        "",
        "?service_id=svc",
        "?plan_id=sync",
        "?service_id=svc&plan_id=",
        "?service_id=svc&plan_id=schema",
    ] {
        let res = h.delete(&format!("{b}{q}")).await;
        assert_eq!((res.status, res.error()), (400, "BadRequest"), "{q:?}: {res:?}");
    }
    let res = h
        .delete(&format!(
            "{b}?service_id=svc&plan_id=sync&accepts_incomplete=maybe"
        ))
        .await;
    assert_eq!(res.status, 400, "A23: a malformed boolean");
    assert_eq!(h.get(&b).await.status, 200, "the binding is still there");
}

#[tokio::test]
async fn a125_unbind_unknown_binding_is_410() {
    library_checks(&["unbind.gone"]).await;
    let h = Harness::new().await;
    h.provision_sync("a125", "sync").await;
    let res = h
        .delete(&format!(
            "{I}/a125/service_bindings/never?service_id=svc&plan_id=sync"
        ))
        .await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    let res = h
        .delete(&format!(
            "{I}/no-instance/service_bindings/never?service_id=svc&plan_id=sync"
        ))
        .await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "unknown instance too");
    let b = format!("{I}/a125/service_bindings/b");
    assert_eq!(h.put(&b, bind_body(json!({}))).await.status, 201);
    let del = format!("{b}?service_id=svc&plan_id=sync");
    assert_eq!(h.delete(&del).await.status, 200);
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "already deleted");
    assert_eq!(h.get(&b).await.status, 404);
}

// ---- A.11 deprovision

#[tokio::test]
async fn a131_deprovision_while_provisioning_is_422_concurrency_error_and_the_create_goes_on() {
    library_checks(&[
        "concurrency.delete_during_provision",
        "k8s.concurrency_error_text",
    ])
    .await;
    // The runtime rejects the delete (allowed by A.12) instead of halting the creation.
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a131?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    let res = h
        .delete(&format!(
            "{I}/a131?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "ConcurrencyError"));
    let lo = h.get(&format!("{I}/a131/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    h.release(1);
    h.wait_state(&format!("{I}/a131/last_operation"), "succeeded")
        .await;
    assert_eq!(h.get(&format!("{I}/a131")).await.status, 200);
    let res = h
        .delete(&format!(
            "{I}/a131?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202, "accepted once the create is done");
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{I}/a131/last_operation"))
            .await
            .status,
        410
    );
}

#[tokio::test]
async fn a133_resent_deprovision_while_in_progress_is_202_with_the_same_operation() {
    library_checks(&["async.deprovision"]).await;
    let h = Harness::new().await;
    h.provision_async_done("a133").await;
    let del = format!("{I}/a133?service_id=svc&plan_id=async&accepts_incomplete=true");
    let first = h.delete(&del).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    for _ in 0..2 {
        let again = h.delete(&del).await;
        assert_eq!(again.status, 202, "not 200 while in progress");
        assert_eq!(again.body["operation"], op.as_str());
    }
    let res = h
        .patch(
            &format!("{I}/a133"),
            json!({ "service_id": "svc", "parameters": {} }),
        )
        .await;
    assert_eq!(
        (res.status, res.error()),
        (422, "ConcurrencyError"),
        "no update during a delete"
    );
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{I}/a133/last_operation"))
            .await
            .status,
        410
    );
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
}

#[tokio::test]
async fn a135_deprovision_unknown_instance_is_410() {
    library_checks(&["deprovision.gone", "deprovision.sync"]).await;
    let h = Harness::new().await;
    let del = format!("{I}/a135?service_id=svc&plan_id=sync");
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "never existed");
    h.provision_sync("a135", "sync").await;
    assert_eq!(h.delete(&del).await.status, 200);
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "already deleted");
    assert_eq!(h.get(&format!("{I}/a135")).await.status, 404);
}

// ---- A.6 / A.9: the query of last_operation reaches a broker that answers it itself

#[tokio::test]
async fn a77_a114_last_operation_query_reaches_a_broker_that_answers_it() {
    use osb_server_mini::types::OperationState;
    use osb_server_mini::types::operation::LastOperationResponse;

    /// (endpoint, operation, service_id, plan_id) of each call.
    type Seen = (String, Option<String>, Option<String>, Option<String>);
    #[derive(Clone, Default)]
    struct External(Arc<Mutex<Vec<Seen>>>);
    impl External {
        fn answer(&self, kind: &str, ctx: &RequestContext) -> Option<LastOperationResponse> {
            let params = ctx.last_operation().expect("set for last_operation");
            self.0.lock().unwrap().push((
                kind.to_owned(),
                ctx.operation().map(|o| o.as_str().to_owned()),
                params.service_id.as_ref().map(|s| s.as_str().to_owned()),
                params.plan_id.as_ref().map(|p| p.as_str().to_owned()),
            ));
            let mut res = LastOperationResponse::new(OperationState::InProgress);
            res.description = ctx.operation().map(|o| format!("tracking {}", o.as_str()));
            Some(res)
        }
    }
    impl Broker for External {
        fn catalog(&self) -> Catalog {
            Catalog::new(vec![
                ServiceOffering::new("svc", "svc", "ext", vec![ServicePlan::new("p", "p", "plan")])
                    .bindable(true),
            ])
        }
        async fn provision(
            &self,
            ctx: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            assert!(ctx.last_operation().is_none(), "only for last_operation");
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
        async fn bind(&self, _: &RequestContext, _: BindRequest) -> Result<Bound, BrokerError> {
            Ok(Bound::credentials(json!({})))
        }
        async fn instance_last_operation(
            &self,
            ctx: &RequestContext,
        ) -> Result<Option<LastOperationResponse>, BrokerError> {
            Ok(self.answer("instance", ctx))
        }
        async fn binding_last_operation(
            &self,
            ctx: &RequestContext,
        ) -> Result<Option<LastOperationResponse>, BrokerError> {
            Ok(self.answer("binding", ctx))
        }
    }
    let broker = External::default();
    let seen = Arc::clone(&broker.0);
    let running = Server::new(broker).spawn("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::new();
    let send = |method: Method, path: String, body: Option<Value>| {
        let mut rb = http
            .request(method, format!("{}{path}", running.url()))
            .header("X-Broker-API-Version", "2.17");
        if let Some(b) = body {
            rb = rb.json_body(&b);
        }
        async move {
            let res = rb.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
            (status, body)
        }
    };
    let (s, _) = send(
        Method::PUT,
        format!("{I}/x"),
        Some(json!({ "service_id": "svc", "plan_id": "p" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = send(
        Method::PUT,
        format!("{I}/x/service_bindings/b"),
        Some(json!({ "service_id": "svc", "plan_id": "p" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = send(
        Method::GET,
        format!("{I}/x/last_operation?operation=op%2F1%20a&service_id=svc&plan_id=p"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body,
        json!({ "state": "in progress", "description": "tracking op/1 a" })
    );
    let (s, body) = send(
        Method::GET,
        format!("{I}/x/service_bindings/b/last_operation"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body,
        json!({ "state": "in progress" }),
        "no hints: none passed on"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (
                "instance".to_owned(),
                Some("op/1 a".to_owned()),
                Some("svc".to_owned()),
                Some("p".to_owned())
            ),
            ("binding".to_owned(), None, None, None),
        ]
    );
}

// ---- orphan mitigation reaches the broker

#[tokio::test]
async fn a27_b77_a_5xx_create_keeps_a_failed_record_so_orphan_mitigation_reaches_the_broker() {
    let h = Harness::new().await;
    let crash = || prov_with("sync", json!({ "crash": true }));
    for (body, status) in [(crash(), 500), (prov_with("sync", json!({ "panic": true })), 500)] {
        let res = h.put(&format!("{I}/a27"), body).await;
        assert_eq!(res.status, status, "{res:?}");
        // Not visible as an instance: fetch is 404 and a bind finds no usable instance.
        assert_eq!(h.get(&format!("{I}/a27")).await.status, 404);
        // The Platform's orphan mitigation DELETE is answered by the broker, not by a 410.
        let before = h.shared.deprovisions.load(Ordering::SeqCst);
        let res = h.delete(&format!("{I}/a27?service_id=svc&plan_id=sync")).await;
        assert_eq!((res.status, &res.body), (200, &json!({})));
        assert_eq!(h.shared.deprovisions.load(Ordering::SeqCst), before + 1);
        // Afterwards nothing is left.
        let res = h.delete(&format!("{I}/a27?service_id=svc&plan_id=sync")).await;
        assert_eq!(res.status, 410);
    }
    // A 5xx then a retry of the same provision creates the instance (201, not 200 or 409).
    assert_eq!(h.put(&format!("{I}/a27-retry"), crash()).await.status, 500);
    let res = h.put(&format!("{I}/a27-retry"), prov("sync")).await;
    assert_eq!(res.status, 201, "{res:?}");
    // A 4xx leaves nothing behind: the DELETE is 410 without calling the broker.
    assert_eq!(
        h.put(
            &format!("{I}/a27-4xx"),
            prov_with("sync", json!({ "fail": true }))
        )
        .await
        .status,
        422
    );
    let before = h.shared.deprovisions.load(Ordering::SeqCst);
    let res = h
        .delete(&format!("{I}/a27-4xx?service_id=svc&plan_id=sync"))
        .await;
    assert_eq!(res.status, 410);
    assert_eq!(h.shared.deprovisions.load(Ordering::SeqCst), before);

    // Bindings: the same.
    h.provision_sync("a27-b", "sync").await;
    let b = format!("{I}/a27-b/service_bindings/b1");
    let res = h.put(&b, bind_body(json!({ "crash": true }))).await;
    assert_eq!(res.status, 500, "{res:?}");
    assert_eq!(h.get(&b).await.status, 404, "no credentials for a failed bind");
    let before = h.shared.unbinds.load(Ordering::SeqCst);
    let res = h.delete(&format!("{b}?service_id=svc&plan_id=sync")).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    assert_eq!(h.shared.unbinds.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        h.delete(&format!("{b}?service_id=svc&plan_id=sync")).await.status,
        410
    );
    let res = h.put(&b, bind_body(json!({}))).await;
    assert_eq!(res.status, 201, "a retried bind creates the binding: {res:?}");
}
