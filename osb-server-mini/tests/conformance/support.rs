//! What the conformance tests share: the one test broker and its catalog ([`TestBroker`]),
//! the socket harness ([`Harness`]: a real `Server` on 127.0.0.1:0, every answer checked
//! for a JSON object body, the request-identity echo and the A11 error shape), the
//! handler-level helpers (no sockets: [`new_handler`], [`call`], [`send`]) and
//! [`library_checks`], which runs the `osb-conformance` checks against the runtime.
//!
//! The modules use it with `use crate::support::*;`, so the imports every test needs are
//! re-exported here too.

pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
pub(crate) use std::sync::{Arc, Mutex};
pub(crate) use std::time::Duration;

pub(crate) use bytes::Bytes;
pub(crate) use http::{HeaderMap, Method, Request, StatusCode};
pub(crate) use http_body_util::BodyExt;
pub(crate) use osb_server_mini::auth::BasicAuth;
pub(crate) use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
pub(crate) use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
pub(crate) use osb_server_mini::test_support::{Handler, handler};
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

// ---------------------------------------------------------------------------------------
// The broker under test.

pub(crate) struct Shared {
    pub(crate) provisions: AtomicUsize,
    pub(crate) updates: AtomicUsize,
    pub(crate) binds: AtomicUsize,
    pub(crate) deprovisions: AtomicUsize,
    pub(crate) unbinds: AtomicUsize,
    pub(crate) dropped_work_ran: AtomicBool,
    pub(crate) release: Semaphore,
    pub(crate) originating_platform: Mutex<Option<String>>,
    /// Background work finishes by itself after this long instead of waiting for
    /// [`Harness::release`], and the async plan's updates and binds run in the background too:
    /// the broker the `osb-conformance` checks run against.
    pub(crate) finish_after: Option<Duration>,
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
pub(crate) struct TestBroker(pub(crate) Arc<Shared>);

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
        let mut nobind = ServicePlan::new("nobind", "nobind", "Not bindable");
        nobind.bindable = Some(false);
        let mut svc = ServiceOffering::new(
            "svc",
            "svc",
            "Test offering",
            vec![sync, asyn, schema, pinned, nobind],
        )
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
            assert!(
                ctx.accepts_incomplete(),
                "the runtime only calls with accepts_incomplete"
            );
            let progress_text = param(p, "progress")
                .and_then(Value::as_str)
                .unwrap_or("halfway there")
                .to_owned();
            // `"async_fail": "why"` fails with that description, any other value with "it broke"
            let fail = param(p, "async_fail").map(|d| {
                BrokerError::new(400, "ProvisionFailed", d.as_str().unwrap_or("it broke"))
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            let bg_panic = has(p, "bg_panic");
            let work = self.held(fail);
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set(progress_text);
                let outcome = work.await;
                assert!(!bg_panic, "background bug");
                outcome
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

pub(crate) struct Harness {
    pub(crate) running: Running,
    pub(crate) http: reqwest::Client,
    pub(crate) shared: Arc<Shared>,
    pub(crate) next_id: AtomicUsize,
}

/// One answer: status, headers, JSON object body.
#[derive(Debug)]
pub(crate) struct Res {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Res {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub(crate) fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    pub(crate) fn description(&self) -> &str {
        self.body["description"].as_str().unwrap_or_default()
    }
}

pub(crate) const I: &str = "/v2/service_instances";

/// A JSON request body (this reqwest has no `json` feature).
pub(crate) trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

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

impl Harness {
    pub(crate) async fn new() -> Self {
        Self::with(|s| s).await
    }

    pub(crate) async fn with(configure: impl FnOnce(Server<TestBroker>) -> Server<TestBroker>) -> Self {
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
    pub(crate) fn bare(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.http
            .request(method, format!("{}{path}", self.running.url()))
            .header("X-Broker-API-Request-Identity", format!("rid-{n}"))
    }

    /// A request as a 2.17 Platform sends it.
    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.bare(method, path).header("X-Broker-API-Version", "2.17")
    }

    /// Sends, then checks what every answer must satisfy: a JSON object body (A16), the
    /// request identity echoed (A6), and an error body of the A11 shape for every 4xx/5xx
    /// other than 410.
    pub(crate) async fn send(&self, rb: reqwest::RequestBuilder) -> Res {
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

    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut rb = self.request(method, path);
        if let Some(b) = body {
            rb = rb.json_body(&b);
        }
        self.send(rb).await
    }

    pub(crate) async fn get(&self, path: &str) -> Res {
        self.call(Method::GET, path, None).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> Res {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Res {
        self.call(Method::DELETE, path, None).await
    }

    pub(crate) async fn provision_sync(&self, id: &str, plan: &str) {
        let res = self.put(&format!("{I}/{id}"), prov(plan)).await;
        assert_eq!(res.status, 201, "{res:?}");
    }

    /// Provisions on the async-only plan and waits until it has succeeded.
    pub(crate) async fn provision_async_done(&self, id: &str) {
        let res = self
            .put(&format!("{I}/{id}?accepts_incomplete=true"), prov("async"))
            .await;
        assert_eq!(res.status, 202, "{res:?}");
        self.release(1);
        self.wait_state(&format!("{I}/{id}/last_operation"), "succeeded")
            .await;
    }

    pub(crate) fn release(&self, n: usize) {
        self.shared.release.add_permits(n);
    }

    /// Polls a last_operation endpoint until `state` (panics on anything but 200 on the way).
    pub(crate) async fn wait_state(&self, path: &str, state: &str) -> Res {
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
    pub(crate) async fn poll_until_done(&self, path: &str) -> Res {
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
pub(crate) fn assert_a11_error_body(body: &Value, what: &str) {
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

pub(crate) fn assert_operation_id(body: &Value) -> String {
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
pub(crate) const FINISH_AFTER: Duration = Duration::from_millis(1000);

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
pub(crate) async fn library_checks(names: &[&str]) -> osb_conformance::Report {
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
// Handler level: the request handler called directly, without sockets.

/// The handler of a default [`TestBroker`] (no authentication, no minimum version), and its
/// shared state.
pub(crate) fn new_handler() -> (Handler<TestBroker>, Arc<Shared>) {
    let broker = TestBroker::default();
    let shared = Arc::clone(&broker.0);
    (handler(broker, None, None, None).expect("valid catalog"), shared)
}

pub(crate) fn request(method: Method, uri: &str, body: Option<Value>) -> Request<Bytes> {
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

pub(crate) async fn send(h: &Handler<TestBroker>, req: Request<Bytes>) -> (StatusCode, HeaderMap, Value) {
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

pub(crate) async fn call(
    h: &Handler<TestBroker>,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, _, v) = send(h, request(method, uri, body)).await;
    (s, v)
}

pub(crate) async fn provision_sync(h: &Handler<TestBroker>, id: &str) {
    let (s, _) = call(
        h,
        Method::PUT,
        &format!("/v2/service_instances/{id}"),
        Some(prov("sync")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
}

pub(crate) async fn wait_state(h: &Handler<TestBroker>, uri: &str, state: &str) -> Value {
    for _ in 0..200 {
        let (s, v) = call(h, Method::GET, uri, None).await;
        if s == StatusCode::OK && v["state"] == state {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{uri} never reached {state}");
}

/// A binding of instance `bi`.
pub(crate) const B1: &str = "/v2/service_instances/bi/service_bindings/b1";
