//! The osb-server-mini request handling, without a socket: a short sequence of requests
//! (method, path, query, headers, body all from the fuzz input) against a fresh
//! `BrokerService` of a small test broker. Every answer must not be a 500 and must carry a
//! JSON object body. A panic anywhere in the runtime (even one it turns into a 500) aborts.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::binding::RotateBindingRequest;
use osb_server_mini::types::catalog::{
    InputParametersSchema, MaintenanceInfo, Schemas, ServiceBindingSchema, ServiceInstanceSchema,
};
use osb_server_mini::types::{
    BindRequest, Catalog, ProvisionRequest, ServiceOffering, ServicePlan, UpdateRequest,
};
use osb_server_mini::{Broker, BrokerError, PlanPolicy, RequestContext, Server};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// The test broker.

const SVC: &str = "svc-1";
const SVC_UNBINDABLE: &str = "svc-2";
const PLAN_SYNC: &str = "plan-sync";
const PLAN_ASYNC: &str = "plan-async";
const PLAN_ROTATE: &str = "plan-rotate";
const PLAN_OTHER: &str = "plan-other";

struct FuzzBroker;

fn schema() -> InputParametersSchema {
    InputParametersSchema::new(json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {
            "size": { "type": "integer", "minimum": 1, "maximum": 10 },
            "name": { "type": "string", "maxLength": 16 }
        },
        "additionalProperties": false
    }))
}

impl Broker for FuzzBroker {
    fn catalog(&self) -> Catalog {
        let mut sync = ServicePlan::new(PLAN_SYNC, "sync", "Synchronous plan with schemas");
        sync.schemas = Some(Schemas {
            service_instance: Some(ServiceInstanceSchema {
                create: Some(schema()),
                update: Some(schema()),
                ..Default::default()
            }),
            service_binding: Some(ServiceBindingSchema {
                create: Some(schema()),
                ..Default::default()
            }),
            ..Default::default()
        });
        let mut asynchronous = ServicePlan::new(PLAN_ASYNC, "async", "Asynchronous plan");
        asynchronous.maintenance_info = Some(MaintenanceInfo::new("1.2.3"));
        let mut rotate = ServicePlan::new(PLAN_ROTATE, "rotate", "Rotatable bindings");
        rotate.binding_rotatable = Some(true);
        let mut svc = ServiceOffering::new(SVC, "fuzz", "Fuzzed offering", vec![sync, asynchronous, rotate])
            .bindable(true);
        svc.instances_retrievable = Some(true);
        svc.bindings_retrievable = Some(true);
        svc.plan_updateable = Some(true);
        svc.allow_context_updates = Some(true);
        let other = ServiceOffering::new(
            SVC_UNBINDABLE,
            "other",
            "Not bindable",
            vec![ServicePlan::new(PLAN_OTHER, "other", "Other plan")],
        );
        Catalog::new(vec![svc, other])
    }

    fn plan_policy(&self, _: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        if plan.id == PLAN_ASYNC {
            PlanPolicy::async_only()
        } else {
            PlanPolicy::default()
        }
    }

    async fn provision(&self, ctx: &RequestContext, req: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        refuse(req.parameters.as_ref())?;
        if req.plan_id == PLAN_ASYNC {
            let fail = ctx.instance_id().as_str().ends_with('f');
            Ok(Provisioned::later(async move {
                if fail { Err(BrokerError::bad_request("background failure")) } else { Ok(()) }
            }))
        } else {
            Ok(Provisioned::done().dashboard_url("https://dash.example/i"))
        }
    }

    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        refuse(req.parameters.as_ref())?;
        if ctx.plan().is_some_and(|p| p.id == PLAN_ASYNC) {
            Ok(Updated::later(async { Ok(()) }))
        } else {
            Ok(Updated::done())
        }
    }

    async fn deprovision(&self, _: &RequestContext, req: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        if req.plan_id == PLAN_ASYNC {
            Ok(Deprovisioned::later(async { Ok(()) }))
        } else {
            Ok(Deprovisioned::done())
        }
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        refuse(req.parameters.as_ref())?;
        if req.plan_id == PLAN_ASYNC {
            let id = ctx.binding_id().to_string();
            Ok(Bound::later(async move {
                Ok(osb_server_mini::types::BindResponse {
                    credentials: Some(osb_server_mini::types::Credentials::new(
                        json!({ "id": id }).as_object().cloned().unwrap_or_default(),
                    )),
                    ..Default::default()
                })
            }))
        } else {
            Ok(Bound::credentials(json!({ "uri": format!("fuzz://{}", ctx.binding_id()) })))
        }
    }

    async fn rotate_binding(&self, ctx: &RequestContext, req: RotateBindingRequest) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(json!({ "rotated_from": req.predecessor_binding_id.as_str(), "id": ctx.binding_id().as_str() })))
    }

    async fn unbind(&self, _: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        if req.plan_id == PLAN_ASYNC {
            Ok(Unbound::later(async { Ok(()) }))
        } else {
            Ok(Unbound::done())
        }
    }
}

/// A broker-side refusal (a 4xx), driven by the parameters.
fn refuse(params: Option<&serde_json::Map<String, Value>>) -> Result<(), BrokerError> {
    match params.and_then(|p| p.get("name")).and_then(Value::as_str) {
        Some("conflict") => Err(BrokerError::conflict("name taken")),
        Some("gone") => Err(BrokerError::gone()),
        Some("concurrency") => Err(BrokerError::concurrency_error()),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// The fuzz input.

#[derive(Arbitrary, Debug)]
struct Input {
    requests: Vec<Req>,
}

#[derive(Arbitrary, Debug)]
struct Req {
    method: Method,
    path: Path,
    query: Vec<(QueryKey, Id)>,
    raw_query: Option<String>,
    version: Version,
    auth: Auth,
    originating_identity: Option<String>,
    request_identity: Option<String>,
    content_type: Option<String>,
    content_length: Option<u64>,
    body: Body,
}

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Put,
    Patch,
    Delete,
    Post,
    Head,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Id {
    Svc,
    SvcUnbindable,
    PlanSync,
    PlanAsync,
    PlanRotate,
    PlanOther,
    I1,
    I2,
    IFail,
    B1,
    B2,
    True,
    False,
    Raw(String),
}

impl Id {
    fn as_str(&self) -> &str {
        match self {
            Id::Svc => SVC,
            Id::SvcUnbindable => SVC_UNBINDABLE,
            Id::PlanSync => PLAN_SYNC,
            Id::PlanAsync => PLAN_ASYNC,
            Id::PlanRotate => PLAN_ROTATE,
            Id::PlanOther => PLAN_OTHER,
            Id::I1 => "inst-1",
            Id::I2 => "inst-2",
            Id::IFail => "inst-f",
            Id::B1 => "bind-1",
            Id::B2 => "bind-2",
            Id::True => "true",
            Id::False => "false",
            Id::Raw(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum QueryKey {
    AcceptsIncomplete,
    ServiceId,
    PlanId,
    Operation,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Path {
    Catalog,
    Instance(Id),
    InstanceLastOperation(Id),
    Binding(Id, Id),
    BindingLastOperation(Id, Id),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Version {
    Latest,
    Minor(u8),
    Missing,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Auth {
    Good,
    None,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Empty,
    Raw(Vec<u8>),
    Provision { service: Id, plan: Id, context: Ctx, params: Option<Params>, maintenance: Option<Id> },
    Update { service: Id, plan: Option<Id>, context: Ctx, params: Option<Params>, previous_plan: Option<Id>, maintenance: Option<Id> },
    Bind { service: Id, plan: Id, app_guid: Option<Id>, params: Option<Params> },
    Rotate { predecessor: Id },
}

#[derive(Arbitrary, Debug)]
enum Ctx {
    None,
    CloudFoundry,
    Kubernetes,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Params {
    Size(i64),
    Name(Id),
    Raw(String),
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn ctx_json(c: &Ctx) -> Option<Value> {
    match c {
        Ctx::None => None,
        Ctx::CloudFoundry => Some(json!({"platform": "cloudfoundry", "organization_guid": "o", "space_guid": "s"})),
        Ctx::Kubernetes => Some(json!({"platform": "kubernetes", "namespace": "ns", "clusterid": "c"})),
        Ctx::Raw(s) => Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))),
    }
}

fn params_json(p: &Params) -> Value {
    match p {
        Params::Size(n) => json!({ "size": n }),
        Params::Name(id) => json!({ "name": id.as_str() }),
        Params::Raw(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
    }
}

fn body_bytes(b: &Body) -> Vec<u8> {
    let mut obj = serde_json::Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            obj.insert(k.to_owned(), v);
        }
    };
    let id = |i: &Id| Value::String(i.as_str().to_owned());
    match b {
        Body::Empty => return Vec::new(),
        Body::Raw(bytes) => return bytes.clone(),
        Body::Provision { service, plan, context, params, maintenance } => {
            put("service_id", Some(id(service)));
            put("plan_id", Some(id(plan)));
            put("context", ctx_json(context));
            put("parameters", params.as_ref().map(params_json));
            put("maintenance_info", maintenance.as_ref().map(|m| json!({ "version": m.as_str() })));
        }
        Body::Update { service, plan, context, params, previous_plan, maintenance } => {
            put("service_id", Some(id(service)));
            put("plan_id", plan.as_ref().map(id));
            put("context", ctx_json(context));
            put("parameters", params.as_ref().map(params_json));
            put("previous_values", previous_plan.as_ref().map(|p| json!({ "plan_id": p.as_str() })));
            put("maintenance_info", maintenance.as_ref().map(|m| json!({ "version": m.as_str() })));
        }
        Body::Bind { service, plan, app_guid, params } => {
            put("service_id", Some(id(service)));
            put("plan_id", Some(id(plan)));
            put("bind_resource", app_guid.as_ref().map(|a| json!({ "app_guid": a.as_str() })));
            put("parameters", params.as_ref().map(params_json));
        }
        Body::Rotate { predecessor } => {
            put("predecessor_binding_id", Some(id(predecessor)));
        }
    }
    serde_json::to_vec(&Value::Object(obj)).unwrap_or_default()
}

fn build(r: &Req) -> Option<http::Request<Full<Bytes>>> {
    let method = match &r.method {
        Method::Get => http::Method::GET,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
        Method::Post => http::Method::POST,
        Method::Head => http::Method::HEAD,
        Method::Other(m) => http::Method::from_bytes(m.as_bytes()).ok()?,
    };
    let mut uri = match &r.path {
        Path::Catalog => "/v2/catalog".to_owned(),
        Path::Instance(i) => format!("/v2/service_instances/{}", pct(i.as_str())),
        Path::InstanceLastOperation(i) => format!("/v2/service_instances/{}/last_operation", pct(i.as_str())),
        Path::Binding(i, b) => format!("/v2/service_instances/{}/service_bindings/{}", pct(i.as_str()), pct(b.as_str())),
        Path::BindingLastOperation(i, b) => format!(
            "/v2/service_instances/{}/service_bindings/{}/last_operation",
            pct(i.as_str()),
            pct(b.as_str())
        ),
        Path::Raw(p) => p.clone(),
    };
    let mut query: Vec<String> = r
        .query
        .iter()
        .take(6)
        .map(|(k, v)| {
            let k = match k {
                QueryKey::AcceptsIncomplete => "accepts_incomplete",
                QueryKey::ServiceId => "service_id",
                QueryKey::PlanId => "plan_id",
                QueryKey::Operation => "operation",
                QueryKey::Raw(s) => s,
            };
            format!("{}={}", pct(k), pct(v.as_str()))
        })
        .collect();
    if let Some(raw) = &r.raw_query {
        query.push(raw.clone());
    }
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query.join("&"));
    }
    let mut b = http::Request::builder().method(method).uri(uri);
    let version = match &r.version {
        Version::Latest => Some("2.17".to_owned()),
        Version::Minor(m) => Some(format!("2.{m}")),
        Version::Missing => None,
        Version::Raw(s) => Some(s.clone()),
    };
    if let Some(v) = version {
        b = b.header("X-Broker-API-Version", v);
    }
    match &r.auth {
        Auth::Good => b = b.header("Authorization", "Basic dXNlcjpwYXNz"), // user:pass
        Auth::None => {}
        Auth::Raw(s) => b = b.header("Authorization", s.as_str()),
    }
    if let Some(s) = &r.originating_identity {
        b = b.header("X-Broker-API-Originating-Identity", s.as_str());
    }
    if let Some(s) = &r.request_identity {
        b = b.header("X-Broker-API-Request-Identity", s.as_str());
    }
    if let Some(s) = &r.content_type {
        b = b.header("Content-Type", s.as_str());
    } else if !matches!(r.body, Body::Empty) {
        b = b.header("Content-Type", "application/json");
    }
    if let Some(n) = r.content_length {
        b = b.header("Content-Length", n);
    }
    b.body(Full::new(Bytes::from(body_bytes(&r.body)))).ok()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fuzz_target!(|input: Input| {
    let requests: Vec<_> = input.requests.iter().take(8).filter_map(|r| build(r).map(|h| (r, h))).collect();
    if requests.is_empty() {
        return;
    }
    runtime().block_on(async move {
        let service = Server::new(FuzzBroker)
            .basic_auth("user", "pass")
            .into_service()
            .expect("the test catalog is valid");
        for (spec, req) in requests {
            let method = req.method().clone();
            let uri = req.uri().clone();
            let res = service.call(req).await;
            let status = res.status();
            let body = res.into_body().collect().await.expect("in-memory body").to_bytes();
            assert_ne!(
                status.as_u16(),
                500,
                "500 for {method} {uri}: {}\nrequest: {spec:?}",
                String::from_utf8_lossy(&body)
            );
            let parsed: Result<Value, _> = serde_json::from_slice(&body);
            assert!(
                matches!(parsed, Ok(Value::Object(_))),
                "{status} for {method} {uri}: body is not a JSON object: {:?}\nrequest: {spec:?}",
                String::from_utf8_lossy(&body)
            );
        }
        // Let background operations of this input finish before the next one.
        tokio::task::yield_now().await;
    });
});
