//! Every check can fail: a mutating HTTP proxy in front of a real broker breaks one rule at a
//! time, and the run must then fail (or, for a SHOULD, warn) exactly the checks of that rule,
//! compared with the same broker unmutated.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use osb_conformance::{Checker, Config, Report, Status};
use osb_server_mini::reply::{Bound, Deprovisioned, Interrupted, Provisioned, Resumed, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::binding::RotateBindingRequest;
use osb_server_mini::types::{
    BindRequest, Catalog, ProvisionRequest, ServiceOffering, ServicePlan, UpdateRequest,
};
use osb_server_mini::{Broker, BrokerError, PlanPolicy, RequestContext, Running, Server};
use serde_json::{Value, json};

const USER: &str = "admin";
const PASSWORD: &str = "test-password";

/// A request as the proxy saw it (and may change before forwarding).
#[derive(Debug, Clone)]
struct PReq {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl PReq {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }
    fn is(&self, method: &str) -> bool {
        self.method == method
    }
    fn last_op(&self) -> bool {
        self.path.ends_with("/last_operation")
    }
    fn binding(&self) -> bool {
        self.path.contains("/service_bindings/")
    }
    fn instance_only(&self) -> bool {
        self.path.starts_with("/v2/service_instances/") && !self.binding() && !self.last_op()
    }
}

/// An answer as the proxy got it (and may change before returning it).
#[derive(Debug)]
struct PResp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl PResp {
    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
    fn set_header(&mut self, name: &str, value: &str) {
        self.remove_header(name);
        self.headers.push((name.to_owned(), value.to_owned()));
    }
    fn edit<R>(&mut self, f: impl FnOnce(&mut serde_json::Map<String, Value>) -> R) {
        if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&self.body) {
            f(&mut m);
            self.body = Value::Object(m).to_string().into_bytes();
        }
    }
    fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .get("error")?
            .as_str()
            .map(str::to_owned)
    }
}

fn edit_req(body: &mut Vec<u8>, f: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(body) {
        f(&mut m);
        *body = Value::Object(m).to_string().into_bytes();
    }
}

type State = Mutex<HashMap<String, String>>;

/// One broken rule.
struct Mutant {
    name: &'static str,
    before: fn(&mut PReq),
    after: fn(&PReq, &mut PResp, &State),
    /// Checks that must fail (in addition to the baseline's).
    fail: &'static [&'static str],
    /// Checks that must warn.
    warn: &'static [&'static str],
}

fn same(_: &mut PReq) {}
fn keep(_: &PReq, _: &mut PResp, _: &State) {}

async fn forward(
    req: hyper::Request<hyper::body::Incoming>,
    client: &reqwest::Client,
    upstream: &str,
    m: &Mutant,
    state: &State,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let mut p = PReq {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .filter(|(k, _)| *k != "host" && *k != "content-length")
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
    };
    (m.before)(&mut p);
    let mut url = format!("{upstream}{}", p.path);
    if !p.query.is_empty() {
        url = format!("{url}?{}", p.query);
    }
    let method = reqwest::Method::from_bytes(p.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut rb = client.request(method, url).body(p.body.clone());
    for (k, v) in &p.headers {
        rb = rb.header(k, v);
    }
    let mut out = match rb.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .filter(|(k, _)| *k != "content-length" && *k != "transfer-encoding" && *k != "connection")
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let body = res.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            PResp {
                status,
                headers,
                body,
            }
        }
        Err(e) => PResp {
            status: 502,
            headers: vec![],
            body: e.to_string().into_bytes(),
        },
    };
    (m.after)(&p, &mut out, state);
    let mut res = hyper::Response::new(Full::new(Bytes::from(out.body)));
    *res.status_mut() = hyper::StatusCode::from_u16(out.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (k, v) in out.headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            res.headers_mut().append(k, v);
        }
    }
    res
}

/// A mutating proxy in front of `upstream`; its base URL.
async fn proxy(upstream: String, m: &'static Mutant) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let client = reqwest::Client::new();
    let state: Arc<State> = Arc::default();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (client, upstream, state) = (client.clone(), upstream.clone(), Arc::clone(&state));
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let (client, upstream, state) = (client.clone(), upstream.clone(), Arc::clone(&state));
                    async move { Ok::<_, Infallible>(forward(req, &client, &upstream, m, &state).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

async fn echo() -> Running {
    Server::new(osb_examples::echo::EchoBroker::new(
        "http://dash.test",
        Duration::from_millis(800),
    ))
    .basic_auth(USER, PASSWORD)
    .spawn("127.0.0.1:0")
    .await
    .expect("echo broker starts")
}

/// The echo broker with binding rotation: its `small` plan is `binding_rotatable`, and a
/// rotation gives the new binding fresh credentials naming its predecessor. Everything else
/// is the echo broker's.
struct RotatingEcho(osb_examples::echo::EchoBroker);

impl Broker for RotatingEcho {
    fn catalog(&self) -> Catalog {
        let mut catalog = self.0.catalog();
        for plan in catalog.services.iter_mut().flat_map(|s| s.plans.iter_mut()) {
            if plan.id == osb_examples::echo_ids::SMALL {
                plan.binding_rotatable = Some(true);
            }
        }
        catalog
    }
    fn plan_policy(&self, offering: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        self.0.plan_policy(offering, plan)
    }
    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.0.provision(ctx, req).await
    }
    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        self.0.update(ctx, req).await
    }
    async fn deprovision(
        &self,
        ctx: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.0.deprovision(ctx, req).await
    }
    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.0.bind(ctx, req).await
    }
    async fn rotate_binding(
        &self,
        ctx: &RequestContext,
        req: RotateBindingRequest,
    ) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(json!({
            "uri": format!("echo://{}/{}", ctx.instance_id(), ctx.binding_id()),
            "rotated_from": req.predecessor_binding_id.as_str(),
        })))
    }
    async fn unbind(&self, ctx: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.0.unbind(ctx, req).await
    }
    async fn resume(&self, ctx: &RequestContext, interrupted: Interrupted) -> Result<Resumed, BrokerError> {
        self.0.resume(ctx, interrupted).await
    }
}

async fn rotating_echo() -> Running {
    Server::new(RotatingEcho(osb_examples::echo::EchoBroker::new(
        "http://dash.test",
        Duration::from_millis(800),
    )))
    .basic_auth(USER, PASSWORD)
    .spawn("127.0.0.1:0")
    .await
    .expect("rotating echo broker starts")
}

async fn file_broker() -> Running {
    let dir = std::env::temp_dir().join(format!("osbcheck-mutants-{}", std::process::id()));
    Server::new(osb_examples::file::FileBroker::new(dir).expect("data dir"))
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("file broker starts")
}

async fn run(url: &str) -> Report {
    Checker::new(Config::new(url).basic_auth(USER, PASSWORD))
        .expect("checker")
        .run(&|_| {})
        .await
}

fn set(report: &Report, s: Status) -> BTreeSet<&'static str> {
    report.names(s).into_iter().collect()
}

/// Runs every mutant against a fresh broker from `start` and compares with the baseline.
async fn prove<F, Fut>(start: F, mutants: &'static [Mutant])
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Running>,
{
    let base_broker = start().await;
    let baseline = run(&base_broker.url()).await;
    let base_fail = set(&baseline, Status::Fail);
    let base_warn = set(&baseline, Status::Warn);
    let mut handles = Vec::new();
    let mut brokers = Vec::new();
    for m in mutants {
        let broker = start().await;
        let url = proxy(broker.url(), m).await;
        brokers.push(broker);
        handles.push(tokio::spawn(async move { (m, run(&url).await) }));
    }
    let mut wrong = Vec::new();
    for h in handles {
        let (m, report) = h.await.expect("run");
        let fail: BTreeSet<_> = set(&report, Status::Fail)
            .difference(&base_fail)
            .copied()
            .collect();
        let warn: BTreeSet<_> = set(&report, Status::Warn)
            .difference(&base_warn)
            .copied()
            .collect();
        let want_fail: BTreeSet<_> = m.fail.iter().copied().collect();
        let want_warn: BTreeSet<_> = m.warn.iter().copied().collect();
        if fail != want_fail || warn != want_warn {
            let lines: Vec<String> = report
                .results
                .iter()
                .filter(|r| matches!(r.status, Status::Fail | Status::Warn))
                .map(|r| r.line())
                .collect();
            wrong.push(format!(
                "mutant {}: failed {fail:?} (want {want_fail:?}), warned {warn:?} (want {want_warn:?})\n{}",
                m.name,
                lines.join("\n")
            ));
        }
        assert!(
            report.cleanup_problems.is_empty() || m.name == "gone_as_404",
            "mutant {}: {:?}",
            m.name,
            report.cleanup_problems
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

static ECHO_MUTANTS: &[Mutant] = &[
    Mutant {
        name: "no_version_check",
        before: |r| r.set_header("X-Broker-API-Version", "2.17"),
        after: keep,
        fail: &[],
        warn: &["version.missing", "version.lower"],
    },
    Mutant {
        name: "version_rejected_with_500",
        before: same,
        after: |q, r, _| {
            if matches!(q.header("X-Broker-API-Version"), None | Some("2.0")) {
                r.status = 500;
            }
        },
        fail: &["version.missing", "version.lower"],
        warn: &[],
    },
    Mutant {
        name: "newer_minor_rejected",
        before: same,
        after: |q, r, _| {
            if q.header("X-Broker-API-Version") == Some("2.18") {
                r.status = 412;
            }
        },
        fail: &[],
        warn: &["version.newer_minor"],
    },
    Mutant {
        name: "no_authentication",
        before: |r| r.set_header("Authorization", "Basic YWRtaW46dGVzdC1wYXNzd29yZA=="),
        after: keep,
        fail: &["auth.required"],
        warn: &[],
    },
    Mutant {
        name: "no_www_authenticate",
        before: same,
        after: |_, r, _| r.remove_header("www-authenticate"),
        fail: &[],
        warn: &["auth.challenge"],
    },
    Mutant {
        name: "no_request_identity_echo",
        before: same,
        after: |_, r, _| r.remove_header("X-Broker-API-Request-Identity"),
        fail: &[],
        warn: &["headers.request_identity"],
    },
    Mutant {
        name: "originating_identity_not_validated",
        before: |r| {
            r.headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("X-Broker-API-Originating-Identity"))
        },
        after: keep,
        fail: &[],
        warn: &["headers.originating_identity"],
    },
    Mutant {
        name: "catalog_invalid",
        before: same,
        after: |q, r, _| {
            if q.path == "/v2/catalog" && r.status == 200 {
                r.edit(|m| m["services"][0]["description"] = json!(""));
            }
        },
        fail: &["catalog.valid"],
        warn: &[],
    },
    Mutant {
        name: "catalog_ids_change",
        before: same,
        after: |q, r, s| {
            if q.path == "/v2/catalog" && r.status == 200 {
                let mut s = s.lock().expect("state");
                let n = s.entry("catalog".into()).or_default();
                n.push('x');
                if n.len() > 1 {
                    r.edit(|m| m["services"][0]["plans"][0]["id"] = json!("changed-id"));
                }
            }
        },
        fail: &["catalog.stable_ids"],
        warn: &[],
    },
    Mutant {
        name: "created_as_200",
        before: same,
        after: |q, r, _| {
            if q.is("PUT") && r.status == 201 {
                r.status = 200;
            }
        },
        fail: &["provision.created", "bind.created"],
        warn: &[],
    },
    Mutant {
        name: "identical_repeat_is_201",
        before: same,
        after: |q, r, _| {
            if q.is("PUT") && r.status == 200 {
                r.status = 201;
            }
        },
        fail: &["provision.identical_repeat", "bind.identical_repeat"],
        warn: &[],
    },
    Mutant {
        name: "conflict_as_400",
        before: same,
        after: |_, r, _| {
            if r.status == 409 {
                r.status = 400;
            }
        },
        fail: &[
            "provision.conflict",
            "async.conflict_in_progress",
            "bind.conflict",
        ],
        warn: &[],
    },
    Mutant {
        name: "bad_request_as_422",
        before: same,
        after: |q, r, _| {
            if q.is("PUT") && r.status == 400 {
                r.status = 422;
            }
        },
        fail: &["provision.malformed"],
        warn: &["provision.unknown_plan", "headers.originating_identity"],
    },
    Mutant {
        name: "no_error_code_on_422",
        before: same,
        after: |_, r, _| {
            if r.status == 422 {
                r.edit(|m| {
                    m.remove("error");
                });
            }
        },
        fail: &[
            "async.required",
            "async.deprovision_required",
            "concurrency.delete_during_provision",
            "concurrency.fetch_during_update",
            "update.async_required",
            "maintenance.provision_conflict",
            "maintenance.update_conflict",
            "bind.async_required",
        ],
        warn: &[],
    },
    Mutant {
        name: "async_answer_without_accepts_incomplete",
        before: |r| {
            if !r.query.contains("accepts_incomplete") && !r.is("GET") {
                r.query = if r.query.is_empty() {
                    "accepts_incomplete=true".to_owned()
                } else {
                    format!("{}&accepts_incomplete=true", r.query)
                };
            }
        },
        after: keep,
        fail: &[
            "async.required",
            "async.deprovision_required",
            "update.async_required",
            "bind.async_required",
        ],
        warn: &[],
    },
    Mutant {
        name: "operation_changes_on_repeat",
        before: same,
        after: |q, r, s| {
            if r.status == 202 {
                let key = format!("{} {}", q.method, q.path);
                let mut s = s.lock().expect("state");
                if s.insert(key, String::new()).is_some() {
                    r.edit(|m| m.insert("operation".into(), json!("osbcheck-mutated-operation")));
                }
            }
        },
        fail: &[
            "async.repeat_in_progress",
            "async.deprovision",
            "update.repeat_in_progress",
            "bind.async",
        ],
        warn: &[],
    },
    Mutant {
        name: "gone_as_404",
        before: same,
        after: |q, r, _| {
            if q.is("DELETE") && r.status == 410 {
                r.status = 404;
            }
        },
        fail: &["async.deprovision", "unbind.gone", "deprovision.gone"],
        warn: &[],
    },
    Mutant {
        name: "retry_after_malformed",
        before: same,
        after: |q, r, _| {
            if q.last_op() && r.status == 200 {
                r.set_header("Retry-After", "soon");
            }
        },
        fail: &["last_operation.retry_after"],
        warn: &[],
    },
    Mutant {
        name: "last_operation_empty_description",
        before: same,
        after: |q, r, _| {
            if q.last_op() && r.status == 200 {
                r.edit(|m| m.insert("description".into(), json!("")));
            }
        },
        fail: &["last_operation.states"],
        warn: &[],
    },
    Mutant {
        name: "last_operation_unknown_is_410",
        before: same,
        after: |q, r, _| {
            if q.last_op() && r.status == 404 {
                r.status = 410;
            }
        },
        fail: &[],
        warn: &["last_operation.unknown", "bind.last_operation_unknown"],
    },
    Mutant {
        name: "concurrency_error_as_409",
        before: same,
        after: |_, r, _| {
            if r.status == 422 && r.error_code().as_deref() == Some("ConcurrencyError") {
                r.status = 409;
            }
        },
        fail: &[
            "concurrency.delete_during_provision",
            "concurrency.fetch_during_update",
        ],
        warn: &[],
    },
    Mutant {
        name: "fetch_unknown_instance_is_200",
        before: same,
        after: |q, r, _| {
            if q.is("GET") && q.instance_only() && r.status == 404 {
                r.status = 200;
                r.body = b"{}".to_vec();
            }
        },
        fail: &["concurrency.fetch_during_provision", "fetch.instance_unknown"],
        warn: &[],
    },
    Mutant {
        name: "fetch_instance_broken",
        before: same,
        after: |q, r, _| {
            if q.is("GET") && q.instance_only() && r.status == 200 {
                r.status = 500;
            }
        },
        fail: &["fetch.instance"],
        warn: &[],
    },
    Mutant {
        name: "fetch_binding_broken",
        before: same,
        after: |q, r, _| {
            if q.is("GET") && q.binding() && !q.last_op() && r.status == 200 {
                r.status = 500;
            }
        },
        // The rotation check reads the predecessor back after the rotation.
        fail: &["bind.async", "bind.rotation", "fetch.binding"],
        warn: &[],
    },
    Mutant {
        name: "credentials_in_async_bind",
        before: same,
        after: |q, r, _| {
            if q.is("PUT") && q.binding() && r.status == 202 {
                r.edit(|m| m.insert("credentials".into(), json!({"password": "early"})));
            }
        },
        fail: &["bind.async"],
        warn: &[],
    },
    Mutant {
        name: "maintenance_info_ignored",
        before: |r| {
            if r.is("PUT") || r.is("PATCH") {
                edit_req(&mut r.body, |m| {
                    m.remove("maintenance_info");
                });
            }
        },
        after: keep,
        fail: &["maintenance.provision_conflict", "maintenance.update_conflict"],
        warn: &[],
    },
    Mutant {
        name: "plan_change_refused",
        before: same,
        after: |q, r, _| {
            let changes_plan = serde_json::from_slice::<Value>(&q.body)
                .ok()
                .is_some_and(|v| v.get("plan_id").is_some());
            if q.is("PATCH") && changes_plan {
                r.status = 422;
                r.body = br#"{"description":"no plan changes"}"#.to_vec();
            }
        },
        fail: &["update.plan_change"],
        warn: &[],
    },
    Mutant {
        name: "sync_update_fails",
        before: same,
        after: |q, r, _| {
            if q.is("PATCH") && r.status == 200 {
                r.status = 500;
            }
        },
        fail: &["update.parameters"],
        warn: &[],
    },
    Mutant {
        name: "delete_without_ids_accepted",
        before: |r| {
            if r.is("DELETE") && !r.query.contains("service_id") {
                let plan = osb_examples::echo_ids::SMALL;
                let service = osb_examples::echo_ids::SERVICE;
                r.query = format!("service_id={service}&plan_id={plan}");
            }
        },
        after: keep,
        fail: &["unbind.missing_params", "deprovision.missing_params"],
        warn: &[],
    },
    Mutant {
        name: "delete_body_not_json",
        before: same,
        after: |q, r, _| {
            if q.is("DELETE") && r.status == 200 {
                r.body = b"deleted".to_vec();
            }
        },
        fail: &["unbind.ok", "deprovision.sync"],
        warn: &[],
    },
    Mutant {
        name: "errors_are_text",
        before: same,
        after: |_, r, _| {
            if r.status >= 400 {
                r.set_header("content-type", "text/plain");
            }
        },
        fail: &[],
        warn: &["errors.json_body"],
    },
    Mutant {
        name: "error_code_not_camel_case",
        before: same,
        after: |_, r, _| {
            if r.status == 400 {
                r.edit(|m| m.insert("error".into(), json!("bad request")));
            }
        },
        fail: &["errors.fields"],
        warn: &[],
    },
    Mutant {
        name: "no_error_descriptions",
        before: same,
        after: |_, r, _| {
            if r.status >= 400 {
                r.edit(|m| {
                    m.remove("description");
                });
            }
        },
        fail: &[],
        warn: &[
            "errors.description",
            "k8s.async_required_text",
            "k8s.concurrency_error_text",
        ],
    },
    Mutant {
        name: "failure_metadata_on_provision_errors",
        before: same,
        after: |q, r, _| {
            if q.is("PUT") && r.status == 400 {
                r.edit(|m| m.insert("instance_usable".into(), json!(false)));
            }
        },
        fail: &["errors.failure_metadata"],
        warn: &[],
    },
    Mutant {
        name: "k8s_descriptions_differ",
        before: same,
        after: |_, r, _| {
            if r.status == 422 {
                r.edit(|m| m.insert("description".into(), json!("Another operation is in progress.")));
            }
        },
        fail: &[],
        warn: &["k8s.async_required_text", "k8s.concurrency_error_text"],
    },
];

static FILE_MUTANTS: &[Mutant] = &[
    Mutant {
        name: "parameters_not_validated",
        before: |r| {
            if r.is("PUT") && r.instance_only() {
                edit_req(&mut r.body, |m| {
                    if m.get("parameters").is_some_and(Value::is_object) {
                        m.remove("parameters");
                    }
                });
            }
        },
        after: keep,
        fail: &[],
        warn: &["params.invalid"],
    },
    Mutant {
        name: "valid_optional_parameters_rejected",
        before: same,
        after: |q, r, _| {
            let has_max = serde_json::from_slice::<Value>(&q.body)
                .ok()
                .is_some_and(|v| v["parameters"].get("max_bytes").is_some_and(Value::is_u64));
            if q.is("PUT") && has_max {
                r.status = 400;
                r.body = br#"{"error":"BadRequest","description":"max_bytes rejected"}"#.to_vec();
            }
        },
        fail: &["params.valid"],
        warn: &[],
    },
];

/// The rotation family (`bind.rotation`), against the echo broker with rotation (the
/// plain echo catalog declares no `binding_rotatable` plan, so there the check skips).
static ROTATION_MUTANTS: &[Mutant] = &[
    Mutant {
        name: "rotation_refused",
        before: same,
        after: |q, r, _| {
            if q.is("PUT") && q.binding() && rotates(q) {
                r.status = 400;
                r.body = br#"{"error":"BadRequest","description":"rotation is not supported"}"#.to_vec();
            }
        },
        fail: &["bind.rotation"],
        warn: &[],
    },
    Mutant {
        name: "rotation_drops_the_predecessor",
        before: same,
        after: |q, r, s| {
            let mut s = s.lock().expect("state");
            if q.is("PUT") && q.binding() && rotates(q) && (200..300).contains(&r.status) {
                let predecessor = serde_json::from_slice::<Value>(&q.body)
                    .ok()
                    .and_then(|v| v["predecessor_binding_id"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let (instance, _) = q.path.rsplit_once('/').unwrap_or_default();
                s.insert(format!("{instance}/{predecessor}"), "rotated away".to_owned());
            } else if q.is("GET") && s.contains_key(&q.path) {
                r.status = 404;
                r.body = br#"{"error":"NotFound","description":"binding not found"}"#.to_vec();
            }
        },
        fail: &["bind.rotation"],
        warn: &[],
    },
];

/// Whether the request is a rotation (its body names a predecessor binding).
fn rotates(q: &PReq) -> bool {
    serde_json::from_slice::<Value>(&q.body)
        .ok()
        .is_some_and(|v| v.get("predecessor_binding_id").is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rotation_mutant_fails_exactly_the_rotation_check() {
    // the check runs (and passes) on the unmutated broker, so a failure is the mutant's
    let broker = rotating_echo().await;
    let mut config = Config::new(broker.url()).basic_auth(USER, PASSWORD);
    config.only = vec!["bind.rotation".to_owned()];
    let report = Checker::new(config).expect("checker").run(&|_| {}).await;
    assert_eq!(
        report.get("bind.rotation").map(|r| r.status),
        Some(Status::Pass),
        "{}",
        report.summary()
    );
    prove(rotating_echo, ROTATION_MUTANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_echo_mutant_fails_exactly_the_checks_of_its_rule() {
    prove(echo, ECHO_MUTANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_file_broker_mutant_fails_exactly_the_parameter_checks() {
    prove(file_broker, FILE_MUTANTS).await;
}
