//! Handler level: the request handler called directly, without sockets.

use super::*;

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
