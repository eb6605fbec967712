//! Socket-level tests of the serving layer: body limit, slow clients, connection cap,
//! HTTP/2, graceful shutdown, mounting as a tower service.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Tiny;

impl Broker for Tiny {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "tiny",
            "A tiny service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
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

async fn start(server: Server<Tiny>) -> Running {
    server.spawn("127.0.0.1:0").await.expect("server starts")
}

/// Sends raw bytes and reads until the server closes or `wait` passes.
async fn raw(running: &Running, request: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

fn json_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {response}"))
}

async fn catalog_ok(running: &Running) {
    let res = reqwest::Client::new()
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(body["services"][0]["name"], "tiny");
}

#[tokio::test]
async fn declared_body_over_limit_is_413_without_reading_it() {
    let running = start(Server::new(Tiny).body_limit(1024)).await;
    // Claims 100 MB but sends nothing more: the answer must come without waiting for it.
    let started = Instant::now();
    let res = raw(
        &running,
        b"PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\nx-broker-api-request-identity: rid-413\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{",
        Duration::from_secs(2),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
    assert!(
        res.to_ascii_lowercase()
            .contains("x-broker-api-request-identity: rid-413"),
        "{res}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let body = json_body(&res);
    assert_eq!(body["error"], "PayloadTooLarge");
    assert!(body["description"].as_str().unwrap().contains("1024 bytes"));
    catalog_ok(&running).await;
}

#[tokio::test]
async fn chunked_body_over_limit_is_413() {
    let running = start(Server::new(Tiny).body_limit(64)).await;
    let chunk = "x".repeat(100);
    let req = format!(
        "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let res = raw(&running, req.as_bytes(), Duration::from_secs(2)).await;
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
    assert_eq!(json_body(&res)["error"], "PayloadTooLarge");
}

#[tokio::test]
async fn slow_body_is_408() {
    let running = start(Server::new(Tiny).body_read_timeout(Duration::from_millis(200))).await;
    let res = raw(
        &running,
        b"PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{\"service_id\"",
        Duration::from_secs(3),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 408"), "{res}");
    assert_eq!(json_body(&res)["error"], "RequestTimeout");
    catalog_ok(&running).await;
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_others_are_served() {
    let running = start(Server::new(Tiny).header_read_timeout(Duration::from_millis(300))).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
        s.write_all(b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        idle.push(s);
    }
    catalog_ok(&running).await;
    // After the timeout the server has closed the trickling connections.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), idle[0].read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "a connection that never finished its headers stayed open"
    );
    catalog_ok(&running).await;
}

#[tokio::test]
async fn connections_past_the_cap_get_503() {
    let running = start(Server::new(Tiny).max_connections(2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(TcpStream::connect(running.local_addr()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let res = raw(
        &running,
        b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 503"), "{res}");
    assert_eq!(json_body(&res)["error"], "ServiceUnavailable");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    catalog_ok(&running).await;
}

#[tokio::test]
async fn http2_is_served() {
    let running = start(Server::new(Tiny)).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = client
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let running = start(Server::new(Tiny)).await;
    let url = format!("{}/v2/service_instances/in-flight", running.url());
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .put(url)
            .header("X-Broker-API-Version", "2.17")
            .header("content-type", "application/json")
            .body(r#"{"service_id":"svc","plan_id":"plan"}"#)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = running.local_addr();
    running.shutdown().await;
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        201,
        "the in-flight provision was cut off"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn usable_as_a_tower_service() {
    let mut svc = Server::new(Tiny).into_service().unwrap();
    let req = http::Request::get("/v2/catalog")
        .header("X-Broker-API-Version", "2.17")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = tower_service::Service::call(&mut svc, req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["services"][0]["id"], "svc");
}

#[tokio::test]
async fn invalid_catalog_refuses_to_start_with_every_problem() {
    struct Broken;
    impl Broker for Broken {
        fn catalog(&self) -> Catalog {
            Catalog::new(vec![ServiceOffering::new("", "x", "", vec![])])
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
    let err = Server::new(Broken)
        .spawn("127.0.0.1:0")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid catalog (3 problems)"), "{err}");
    assert!(err.contains("`id` must be a non-empty string"), "{err}");
    assert!(err.contains("`plans` must contain at least one plan"), "{err}");
}
