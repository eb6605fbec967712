//! The socket harness: a server, a client, and the checks every response must pass.

use super::*;

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
