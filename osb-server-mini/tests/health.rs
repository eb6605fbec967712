//! Liveness and readiness on the operations listener: `/healthz` answers while the process
//! serves; `/readyz` is 503 while the store cannot be reached, and 200 again once it can.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::store::{
    BindingRecord, InstanceRecord, LeaseKey, MemoryStore, Store, StoreError, StoreFuture, Tombstone,
    Versioned, Write,
};
use osb_server_mini::types::{
    BindingId, Catalog, InstanceId, ProvisionRequest, ServiceOffering, ServicePlan,
};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
use serde_json::Value;

struct Tiny;

impl Broker for Tiny {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "tiny",
            "A service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
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

/// A memory store that can be switched off: every call fails while `down`.
#[derive(Default)]
struct Switchable {
    inner: MemoryStore,
    down: AtomicBool,
}

impl Switchable {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("connection refused (test switch)"))
        } else {
            Ok(())
        }
    }
}

macro_rules! guarded {
    ($self:ident, $call:expr) => {{
        let checked = $self.check();
        Box::pin(async move {
            checked?;
            $call.await
        })
    }};
}

impl Store for Switchable {
    fn instance<'a>(&'a self, id: &'a InstanceId) -> StoreFuture<'a, Option<Versioned<InstanceRecord>>> {
        guarded!(self, self.inner.instance(id))
    }
    fn insert_instance<'a>(&'a self, record: &'a InstanceRecord) -> StoreFuture<'a, Write> {
        guarded!(self, self.inner.insert_instance(record))
    }
    fn replace_instance<'a>(&'a self, record: &'a InstanceRecord, expected: u64) -> StoreFuture<'a, Write> {
        guarded!(self, self.inner.replace_instance(record, expected))
    }
    fn remove_instance<'a>(
        &'a self,
        id: &'a InstanceId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        guarded!(self, self.inner.remove_instance(id, expected, tombstone))
    }
    fn binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Versioned<BindingRecord>>> {
        guarded!(self, self.inner.binding(instance_id, binding_id))
    }
    fn insert_binding<'a>(&'a self, record: &'a BindingRecord) -> StoreFuture<'a, Write> {
        guarded!(self, self.inner.insert_binding(record))
    }
    fn replace_binding<'a>(&'a self, record: &'a BindingRecord, expected: u64) -> StoreFuture<'a, Write> {
        guarded!(self, self.inner.replace_binding(record, expected))
    }
    fn remove_binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        guarded!(
            self,
            self.inner
                .remove_binding(instance_id, binding_id, expected, tombstone)
        )
    }
    fn bindings<'a>(&'a self, instance_id: &'a InstanceId) -> StoreFuture<'a, Vec<Versioned<BindingRecord>>> {
        guarded!(self, self.inner.bindings(instance_id))
    }
    fn tombstone<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Tombstone>> {
        guarded!(self, self.inner.tombstone(instance_id, binding_id))
    }
    fn purge_tombstones(&self, now_ms: u64) -> StoreFuture<'_, u64> {
        guarded!(self, self.inner.purge_tombstones(now_ms))
    }
    fn expired_leases<'a>(
        &'a self,
        now_ms: u64,
        other_than: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<LeaseKey>> {
        guarded!(self, self.inner.expired_leases(now_ms, other_than, limit))
    }
    fn ping(&self) -> StoreFuture<'_, ()> {
        guarded!(self, self.inner.ping())
    }
}

async fn get(running: &Running, path: &str) -> (u16, Value) {
    let res = reqwest::get(format!("http://{}{path}", running.ops_addr().unwrap()))
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    (status, body)
}

#[tokio::test]
async fn readiness_flips_while_the_store_fails_and_liveness_stays() {
    let store = Arc::new(Switchable::default());
    let running = Server::new(Tiny)
        .basic_auth("admin", "secret")
        .shared_store(Arc::clone(&store) as Arc<dyn Store>)
        .sweep_interval(Duration::from_secs(3600))
        .ops_listener("127.0.0.1:0".parse().unwrap())
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(
        get(&running, "/healthz").await,
        (200, serde_json::json!({"status": "ok"}))
    );
    assert_eq!(
        get(&running, "/readyz").await,
        (200, serde_json::json!({"status": "ready"}))
    );

    store.down.store(true, Ordering::SeqCst);
    let (status, body) = get(&running, "/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "NotReady");
    assert!(body["description"].as_str().unwrap().contains("store"), "{body}");
    assert_eq!(
        get(&running, "/healthz").await.0,
        200,
        "liveness does not depend on the store"
    );
    // The failed pings are counted as store errors.
    let metrics = reqwest::get(format!("http://{}/metrics", running.ops_addr().unwrap()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"osb_store_call_errors_total{call="ping"} 1"#),
        "{metrics}"
    );

    store.down.store(false, Ordering::SeqCst);
    assert_eq!(get(&running, "/readyz").await.0, 200);
}

#[tokio::test]
async fn ops_endpoints_need_no_credentials_and_refuse_other_paths_and_methods() {
    let running = Server::new(Tiny)
        .basic_auth("admin", "secret")
        .ops_listener("127.0.0.1:0".parse().unwrap())
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(get(&running, "/readyz").await.0, 200);
    let (status, body) = get(&running, "/v2/catalog").await;
    assert_eq!(status, 404, "the broker API is not on the operations listener");
    assert_eq!(body["error"], "NotFound");
    let res = reqwest::Client::new()
        .post(format!("http://{}/healthz", running.ops_addr().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    // The broker port still wants credentials.
    let res = reqwest::get(format!("{}/v2/catalog", running.url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Provisions wait until released, so a request is in flight while the server shuts down.
#[derive(Clone, Default)]
struct Held {
    release: Arc<tokio::sync::Notify>,
    started: Arc<tokio::sync::Notify>,
}

impl Broker for Held {
    fn catalog(&self) -> Catalog {
        Tiny.catalog()
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        self.started.notify_one();
        self.release.notified().await;
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

#[tokio::test]
async fn readiness_is_503_while_the_server_drains_and_the_request_in_flight_finishes() {
    let broker = Held::default();
    let running = Server::new(broker.clone())
        .ops_listener("127.0.0.1:0".parse().unwrap())
        .shutdown_grace(Duration::from_secs(10))
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let (url, ops) = (running.url(), running.ops_addr().unwrap());
    assert_eq!(get(&running, "/readyz").await.0, 200);
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .put(format!("{url}/v2/service_instances/i-drain"))
            .header("X-Broker-API-Version", "2.17")
            .header("Content-Type", "application/json")
            .body(r#"{"service_id": "svc", "plan_id": "plan", "organization_guid": "o", "space_guid": "s"}"#)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    broker.started.notified().await;
    let stopping = tokio::spawn(running.shutdown());
    let readyz = format!("http://{ops}/readyz");
    let mut drained = None;
    for _ in 0..200 {
        let res = reqwest::get(&readyz).await.unwrap();
        if res.status() == 503 {
            drained = Some(serde_json::from_slice::<Value>(&res.bytes().await.unwrap()).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let body = drained.expect("readiness turns 503 once shutdown begins");
    assert_eq!(body["error"], "NotReady");
    assert!(
        body["description"].as_str().unwrap().contains("shutting down"),
        "{body}"
    );
    let healthz = reqwest::get(format!("http://{ops}/healthz")).await.unwrap();
    assert_eq!(healthz.status(), 200, "still alive while draining");
    broker.release.notify_one();
    assert_eq!(in_flight.await.unwrap(), 201, "the request in flight is answered");
    stopping.await.unwrap();
    assert!(
        reqwest::get(&readyz).await.is_err(),
        "the operations listener closes once the server is down"
    );
}
