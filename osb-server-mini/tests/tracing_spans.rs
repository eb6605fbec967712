//! Tracing: the broker call and the store calls run in spans inside the request span, which
//! names the route, the ids, the request identity and the caller; credentials never appear.
//! (One test in this binary: it installs the global subscriber.)

mod tracing_support;

use osb_server_mini::Server;
use tracing_support::{Captured, Traced};

#[tokio::test]
async fn broker_and_store_calls_run_in_spans_inside_the_request_span_without_credentials() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    let running = Server::new(Traced)
        .basic_auth("platform", "pa55-SECRET")
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .put(format!("{}/v2/service_instances/inst-7", running.url()))
        .basic_auth("platform", Some("pa55-SECRET"))
        .header("X-Broker-API-Version", "2.17")
        .header("X-Broker-API-Request-Identity", "req-42")
        .header("Content-Type", "application/json")
        .body(r#"{"service_id":"svc","plan_id":"plan","organization_guid":"o","space_guid":"s"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    running.shutdown().await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let broker_line = text
        .lines()
        .find(|l| l.contains("inside the broker"))
        .unwrap_or_else(|| panic!("no broker event in\n{text}"));
    // The fmt layer prints the span stack: request span, then broker-call span.
    for part in [
        "osb_request{",
        "route=\"provision\"",
        "instance_id=\"inst-7\"",
        "request_identity=\"req-42\"",
        "caller=basic:platform",
        "osb_broker_call{operation=\"provision\"}",
    ] {
        assert!(broker_line.contains(part), "{part} missing from: {broker_line}");
    }
    let store_line = text
        .lines()
        .find(|l| l.contains("osb_store{call=\"insert_instance\"}"))
        .unwrap_or_else(|| panic!("no store span in\n{text}"));
    assert!(store_line.contains("instance_id=\"inst-7\""), "{store_line}");
    assert!(!text.contains("pa55-SECRET"), "a credential was logged:\n{text}");
    assert!(
        !text.contains("cGxhdGZvcm06cGE1NS1TRUNSRVQ="),
        "the Authorization header was logged"
    );
}
