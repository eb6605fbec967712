//! The per-request span of `GET /v2/catalog` is at `debug` (the catalog is fetched often and
//! runs no broker code), every other request's at `info`. (One test in this binary: it installs the global subscriber.)

mod tracing_support;

use osb_server_mini::Server;
use tracing_support::{Captured, Traced};

#[tokio::test]
async fn catalog_requests_are_traced_at_debug_and_operations_at_info() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    let running = Server::new(Traced).spawn("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::new();
    let catalog = http
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .header("X-Broker-API-Request-Identity", "req-catalog")
        .send()
        .await
        .unwrap();
    assert_eq!(catalog.status(), 200);
    let provision = http
        .put(format!("{}/v2/service_instances/inst-8", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .header("X-Broker-API-Request-Identity", "req-provision")
        .header("Content-Type", "application/json")
        .body(r#"{"service_id":"svc","plan_id":"plan","organization_guid":"o","space_guid":"s"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(provision.status(), 201);
    running.shutdown().await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("osb_request{") && l.contains("req-provision") && l.contains("close")),
        "the provision's request span is traced at info:\n{text}"
    );
    assert!(
        !text.contains("req-catalog"),
        "the catalog's request span is not built at info:\n{text}"
    );
}
