//! Plans a catalog dropped, across a restart (issue 14, "records on plans that disappeared
//! keep answering as the spec says"; checklist A26): the runtime remembers the plans it
//! served in its store, so a server started later on the same SQLite file with a catalog
//! that no longer has a plan still serves the instances of that plan — fetched, polled,
//! bound (with the plan's own `bindable`, which only its remembered definition carries),
//! unbound, deprovisioned — and still provisions none.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::store::{SqliteStore, Store};
use osb_server_mini::types::{BindRequest, Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
use serde_json::{Value, json};

/// Counts the broker's calls; serves the catalog it is given.
#[derive(Clone)]
struct Shop {
    catalog: Catalog,
    calls: Arc<Calls>,
}

#[derive(Default)]
struct Calls {
    provisions: AtomicUsize,
    binds: AtomicUsize,
    unbinds: AtomicUsize,
    deprovisions: AtomicUsize,
}

impl Broker for Shop {
    fn catalog(&self) -> Catalog {
        self.catalog.clone()
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        self.calls.provisions.fetch_add(1, Ordering::SeqCst);
        Ok(Provisioned::done())
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.calls.deprovisions.fetch_add(1, Ordering::SeqCst);
        Ok(Deprovisioned::done())
    }
    async fn bind(&self, _: &RequestContext, _: BindRequest) -> Result<Bound, BrokerError> {
        self.calls.binds.fetch_add(1, Ordering::SeqCst);
        Ok(Bound::credentials(json!({"user": "u"})))
    }
    async fn unbind(&self, _: &RequestContext, _: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.calls.unbinds.fetch_add(1, Ordering::SeqCst);
        Ok(Unbound::done())
    }
}

/// An offering that is not bindable, whose plan `large` is (a plan-level override), and
/// whose instances can be fetched.
fn catalog(with_large: bool) -> Catalog {
    let mut plans = vec![ServicePlan::new("small", "small", "A small plan")];
    if with_large {
        let mut large = ServicePlan::new("large", "large", "A large plan");
        large.bindable = Some(true);
        plans.push(large);
    }
    let mut offering = ServiceOffering::new("svc", "shop", "A shop", plans);
    offering.instances_retrievable = Some(true);
    Catalog::new(vec![offering])
}

/// A directory of its own, removed at the end of the test.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("osb-retired-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens the state file, waiting (bounded) until the previous server has let go of it.
async fn open(path: &Path) -> SqliteStore {
    for _ in 0..250 {
        match SqliteStore::open(path) {
            Ok(store) => return store,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("the state file {} stayed locked", path.display());
}

async fn start(path: &Path, with_large: bool, calls: &Arc<Calls>) -> Running {
    let shop = Shop {
        catalog: catalog(with_large),
        calls: Arc::clone(calls),
    };
    Server::new(shop)
        .basic_auth("admin", "secret")
        .store(open(path).await)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts")
}

/// Sends one request; answers the status and the JSON body (`null` when empty).
async fn call(running: &Running, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client
        .request(method.parse().unwrap(), format!("{}{path}", running.url()))
        .basic_auth("admin", Some("secret"))
        .header("X-Broker-API-Version", "2.17");
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).expect("JSON"));
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, body)
}

fn provision_body(plan: &str) -> Value {
    json!({"service_id": "svc", "plan_id": plan, "organization_guid": "o", "space_guid": "s"})
}

fn bind_body(plan: &str) -> Value {
    json!({"service_id": "svc", "plan_id": plan})
}

#[tokio::test]
async fn a26_instances_of_a_plan_dropped_before_a_restart_keep_being_served() {
    let dir = TempDir::new("restart");
    let path = dir.0.join("state.db");
    let calls = Arc::new(Calls::default());

    // The first server serves both plans: an instance of `large`, bound once.
    let first = start(&path, true, &calls).await;
    let (status, body) = call(
        &first,
        "PUT",
        "/v2/service_instances/i-large",
        Some(provision_body("large")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        &first,
        "PUT",
        "/v2/service_instances/i-large/service_bindings/b-1",
        Some(bind_body("large")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    first.shutdown().await;

    // The next server's catalog has no `large`.
    let second = start(&path, false, &calls).await;
    let (status, body) = call(&second, "GET", "/v2/catalog", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["services"][0]["plans"].as_array().unwrap().len(),
        1,
        "{body}"
    );

    // No new instance of the dropped plan; the broker is not asked.
    let (status, body) = call(
        &second,
        "PUT",
        "/v2/service_instances/i-new",
        Some(provision_body("large")),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["description"].as_str().unwrap().contains("large"), "{body}");
    assert_eq!(calls.provisions.load(Ordering::SeqCst), 1);

    // The existing instance is served: fetched, polled, bound (the plan's own `bindable`
    // comes from its remembered definition: the offering is not bindable), unbound.
    let (status, body) = call(&second, "GET", "/v2/service_instances/i-large", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plan_id"], "large", "{body}");
    let (status, body) = call(
        &second,
        "GET",
        "/v2/service_instances/i-large/last_operation",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &second,
        "PUT",
        "/v2/service_instances/i-large/service_bindings/b-2",
        Some(bind_body("large")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["credentials"]["user"], "u", "{body}");
    assert_eq!(calls.binds.load(Ordering::SeqCst), 2);
    let (status, body) = call(
        &second,
        "DELETE",
        "/v2/service_instances/i-large/service_bindings/b-1?service_id=svc&plan_id=large",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(calls.unbinds.load(Ordering::SeqCst), 1);
    second.shutdown().await;

    // A third server (same catalog without `large`) still knows the plan: the second one
    // did not forget what it had read, and deprovisioning reaches the broker.
    let third = start(&path, false, &calls).await;
    let (status, body) = call(
        &third,
        "DELETE",
        "/v2/service_instances/i-large?service_id=svc&plan_id=large",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(calls.deprovisions.load(Ordering::SeqCst), 1);
    let (status, _) = call(&third, "GET", "/v2/service_instances/i-large", None).await;
    assert_eq!(status, 404, "the instance is gone");
    third.shutdown().await;

    // What the store holds: both plans, each with its definition.
    let store = open(&path).await;
    let mut known: Vec<String> = store
        .known_plans()
        .await
        .expect("known plans")
        .into_iter()
        .map(|p| p.plan_id)
        .collect();
    known.sort();
    assert_eq!(known, ["large", "small"]);
}

#[tokio::test]
async fn a26_the_plans_served_are_remembered_with_their_definitions() {
    let dir = TempDir::new("definitions");
    let path = dir.0.join("state.db");
    let calls = Arc::new(Calls::default());
    let first = start(&path, true, &calls).await;
    let (status, _) = call(&first, "GET", "/v2/catalog", None).await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &first,
        "PUT",
        "/v2/service_instances/i-1",
        Some(provision_body("large")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    first.shutdown().await;
    let store = open(&path).await;
    let large = store
        .known_plans()
        .await
        .expect("known plans")
        .into_iter()
        .find(|p| p.plan_id == "large")
        .expect("large is remembered");
    let definition: Value = serde_json::from_str(&large.definition).expect("JSON");
    assert_eq!(definition["plan"]["bindable"], true, "{definition}");
    assert_eq!(definition["offering"]["id"], "svc", "{definition}");
}
