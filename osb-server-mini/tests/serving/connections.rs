//! The connection cap, HTTP/2, graceful shutdown, mounting as a tower service, refusing an invalid catalog.

use crate::*;

#[tokio::test]
async fn connections_past_the_cap_get_503() {
    let running = start(Server::new(Tiny).max_connections(2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(TcpStream::connect(running.local_addr()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    s.write_all(b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut all))
        .await
        .expect("closed after the answer")
        .unwrap();
    let res = parse_answer(&all).unwrap_or_else(|| panic!("{:?}", String::from_utf8_lossy(&all)));
    assert_eq!(res.status, 503);
    let declared: usize = res.header("content-length").unwrap().parse().unwrap();
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(declared, all.len() - end, "Content-Length is the body's length");
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("retry-after"), Some("1"));
    let body = res.json();
    assert_eq!(body["error"], "ServiceUnavailable");
    assert!(!body["description"].as_str().unwrap().is_empty());
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
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
async fn shutdown_closes_kept_alive_connections_that_have_served_requests() {
    // The idle timeout is an hour: only the stop signal can close these connections. Each
    // has served requests first, so its task was woken (and the signal polled) many times.
    let running = start(Server::new(Tiny).header_read_timeout(Duration::from_secs(3600))).await;
    let mut kept = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
        for _ in 0..5 {
            s.write_all(b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\n\r\n")
                .await
                .unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let n = s.read(&mut buf).await.unwrap();
            assert!(
                buf[..n].starts_with(b"HTTP/1.1 200"),
                "{:?}",
                String::from_utf8_lossy(&buf[..n])
            );
        }
        kept.push(s);
    }
    // A guard against a hang, not a timing assertion: without the signal this waits an hour.
    tokio::time::timeout(Duration::from_secs(30), running.shutdown())
        .await
        .expect("shutdown waited for idle kept-alive connections");
    for mut s in kept {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut rest))
            .await
            .expect("the server closed the connection");
        assert!(
            read.is_err() || rest.is_empty(),
            "nothing more was sent: {rest:?}"
        );
    }
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
