//! Socket-level tests of the serving layer: body limit, slow clients, connection cap,
//! HTTP/2, graceful shutdown, mounting as a tower service.

use std::time::Duration;

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

/// One parsed HTTP/1.1 response.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Parses a complete response (head and `Content-Length` body) from `buf`, if there is one.
fn parse_answer(buf: &[u8]) -> Option<Answer> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body = buf.get(end + 4..end + 4 + len)?.to_vec();
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// Reads one response from `s`, stopping as soon as it is complete (a reset after it, as
/// when the server closes with unread request bytes, does not matter).
async fn read_answer(s: &mut TcpStream, wait: Duration) -> Answer {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(a) = parse_answer(&buf) {
                return Some(a);
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return parse_answer(&buf),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    match tokio::time::timeout(wait, read).await {
        Ok(Some(a)) => a,
        _ => panic!(
            "no complete response within {wait:?}: {:?}",
            String::from_utf8_lossy(&buf)
        ),
    }
}

/// Sends a request head and the first bytes of a body that is never finished, and returns
/// the answer: it must come from the head alone.
async fn answer_to_head(running: &Running, head: &str) -> Answer {
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(b"{\"service_id\":").await.unwrap();
    read_answer(&mut s, Duration::from_secs(5)).await
}

const BASIC: &str = "Basic YWRtaW46c2VjcmV0"; // admin:secret

#[tokio::test]
async fn a4_unauthenticated_over_limit_body_is_401_not_413() {
    let running = start(Server::new(Tiny).basic_auth("admin", "secret").body_limit(1024)).await;
    // Declared too large, and streamed (chunked, never finished): 401 either way, at once.
    for framing in ["content-length: 100000000", "transfer-encoding: chunked"] {
        let res = answer_to_head(
            &running,
            &format!(
                "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\nx-broker-api-request-identity: rid-401\r\ncontent-type: application/json\r\n{framing}\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(res.status, 401, "{framing}: {res:?}");
        assert!(
            res.header("www-authenticate").unwrap().starts_with("Basic"),
            "{res:?}"
        );
        assert_eq!(res.header("x-broker-api-request-identity"), Some("rid-401"));
        assert_eq!(res.json()["error"], "Unauthorized");
    }
    // The same with credentials reaches the body checks.
    let res = answer_to_head(
        &running,
        &format!(
            "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 413, "{res:?}");
}

#[tokio::test]
async fn a1_wrong_version_with_big_body_is_412() {
    let running = start(Server::new(Tiny).body_limit(1024)).await;
    for version in ["1.0", "2.1"] {
        let res = answer_to_head(
            &running,
            &format!(
                "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: {version}\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(res.status, 412, "{version}: {res:?}");
        let body = res.json();
        assert_eq!(body["error"], "PreconditionFailed");
        assert!(
            body["description"].as_str().unwrap().contains("2.13 or later"),
            "{body}"
        );
    }
    // A big body that really is sent in full: still 412, and the server stays healthy.
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    let big = vec![b' '; 2 * 1024 * 1024];
    let head = format!(
        "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        big.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        // The server may close before it has all of it.
        let _ = wr.write_all(&big).await;
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let res = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(a) = parse_answer(&buf) {
                return a;
            }
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => return parse_answer(&buf).expect("a complete answer"),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .expect("answered");
    assert_eq!(res.status, 412, "missing version: {res:?}");
    assert!(
        res.json()["description"]
            .as_str()
            .unwrap()
            .contains("is required")
    );
    writer.abort();
    catalog_ok(&running).await;
}

#[tokio::test]
async fn head_errors_come_before_the_body_limit() {
    let running = start(Server::new(Tiny).body_limit(16)).await;
    let cases = [
        ("GET /v2/nope HTTP/1.1", "", 404, "NotFound"),
        ("POST /v2/catalog HTTP/1.1", "", 405, "MethodNotAllowed"),
        (
            "PUT /v2/service_instances/i1 HTTP/1.1",
            "x-broker-api-originating-identity: cloudfoundry not-base64!\r\n",
            400,
            "BadRequest",
        ),
    ];
    for (line, extra, status, code) in cases {
        let res = answer_to_head(
            &running,
            &format!(
                "{line}\r\nhost: x\r\nx-broker-api-version: 2.17\r\n{extra}content-type: application/json\r\ncontent-length: 100000\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(res.status, status, "{line}: {res:?}");
        assert_eq!(res.json()["error"], code, "{line}");
    }
}

#[tokio::test]
async fn authenticated_over_limit_body_is_413_json() {
    let running = start(Server::new(Tiny).basic_auth("admin", "secret").body_limit(64)).await;
    let res = answer_to_head(
        &running,
        &format!(
            "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ncontent-length: 65\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 413, "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["error"], "PayloadTooLarge");
    assert!(
        body["description"].as_str().unwrap().contains("64 bytes"),
        "{body}"
    );
    // Streamed past the limit: 413 too.
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    let chunk = "x".repeat(100);
    s.write_all(
        format!(
            "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n",
            chunk.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let res = read_answer(&mut s, Duration::from_secs(5)).await;
    assert_eq!(res.status, 413, "{res:?}");
    assert_eq!(res.json()["error"], "PayloadTooLarge");
}

#[tokio::test(flavor = "current_thread")]
async fn early_errors_are_logged_inside_the_request_span() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Everything runs on this thread (current-thread runtime), under this subscriber.
    let running = start(Server::new(Tiny).basic_auth("admin", "secret")).await;
    let res = answer_to_head(
        &running,
        "PUT /v2/service_instances/span-1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\nx-broker-api-request-identity: rid-span\r\ncontent-length: 100000000\r\n\r\n",
    )
    .await;
    assert_eq!(res.status, 401);
    let res = answer_to_head(
        &running,
        &format!(
            "PUT /v2/service_instances/span-2 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-length: 100000000\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 413);
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let too_large = logs
        .lines()
        .find(|l| l.contains("request answered") && l.contains("status=413"))
        .unwrap_or_else(|| panic!("413 not logged: {logs}"));
    assert!(
        too_large.contains("osb_request{") && too_large.contains("span-2"),
        "{too_large}"
    );
    let line = logs
        .lines()
        .find(|l| l.contains("request not authenticated"))
        .unwrap_or_else(|| panic!("no log line: {logs}"));
    assert!(line.contains("osb_request{"), "{line}");
    assert!(
        line.contains("route=\"provision\"") || line.contains("route=provision"),
        "{line}"
    );
    assert!(
        line.contains("instance_id=\"span-1\"") || line.contains("instance_id=span-1"),
        "{line}"
    );
    assert!(line.contains("rid-span"), "{line}");
    assert!(!logs.contains("YWRtaW46"), "credentials never logged");
    assert!(
        logs.lines()
            .any(|l| l.contains("request answered") && l.contains("status=401")),
        "{logs}"
    );
}

#[tokio::test]
async fn declared_body_over_limit_is_413_without_reading_it() {
    let running = start(Server::new(Tiny).body_limit(1024)).await;
    // Claims 100 MB but sends nothing more: the answer must come without waiting for it
    // (within `raw`'s 2 s read window; the body read timeout is 30 s).
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

/// Waits until the server closes `s` (EOF, a reset, or a 408 answer), at most `wait`.
/// Bytes of `trickle` are sent one per `every` meanwhile.
async fn closed_by_server(
    mut s: TcpStream,
    trickle: &[u8],
    every: Duration,
    wait: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if sent < trickle.len() && s.write_all(&trickle[sent..=sent]).await.is_ok() {
            sent += 1;
        }
        let until = (tokio::time::Instant::now() + every).min(deadline);
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                let text = String::from_utf8_lossy(&got);
                return if got.is_empty() || text.starts_with("HTTP/1.1 408") {
                    Ok(())
                } else {
                    Err(format!("unexpected answer before close: {text}"))
                };
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("still open after {wait:?} ({sent} bytes sent)"));
            }
            Err(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_closed_and_others_are_served() {
    let running = start(
        Server::new(Tiny)
            .header_read_timeout(Duration::from_millis(300))
            .max_connections(4096),
    )
    .await;
    let addr = running.local_addr();
    let mut idle = Vec::new();
    let mut trickling = Vec::new();
    for _ in 0..500 {
        idle.push(TcpStream::connect(addr).await.unwrap());
        trickling.push(TcpStream::connect(addr).await.unwrap());
    }
    catalog_ok(&running).await;
    let request = b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\n\r\n";
    let mut tasks = Vec::new();
    for s in idle {
        tasks.push(tokio::spawn(closed_by_server(
            s,
            b"",
            Duration::from_secs(1),
            Duration::from_secs(6),
        )));
    }
    for s in trickling {
        // One header byte per second: never a complete head within the timeout.
        tasks.push(tokio::spawn(closed_by_server(
            s,
            request,
            Duration::from_secs(1),
            Duration::from_secs(6),
        )));
    }
    catalog_ok(&running).await;
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 1000 connections were not closed, e.g. {}",
        failures.len(),
        failures[0]
    );
    catalog_ok(&running).await;
}

#[tokio::test]
async fn silent_connections_cannot_lock_others_out() {
    let running = start(
        Server::new(Tiny)
            .header_read_timeout(Duration::from_millis(300))
            .max_connections(20),
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(running.local_addr()).await.unwrap());
    }
    // Once the silent connections time out, a real client gets its answer.
    let client = reqwest::Client::new();
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let res = client
                .get(format!("{}/v2/catalog", running.url()))
                .header("X-Broker-API-Version", "2.17")
                .send()
                .await;
            if let Ok(res) = res {
                if res.status() == 200 {
                    return;
                }
                assert_eq!(res.status(), 503, "only the cap may refuse it");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "20 silent connections locked every client out");
    drop(silent);
}

#[tokio::test]
async fn idle_http2_connection_is_closed_after_the_timeout() {
    let running = start(Server::new(Tiny).header_read_timeout(Duration::from_millis(300))).await;
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame, then nothing.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "an idle HTTP/2 connection stayed open");
    // The server's SETTINGS, then GOAWAY (frame type 7) before it closed.
    assert!(
        got.windows(4)
            .any(|w| w[3] == 7 && w[0] == 0 && w[1] == 0 && w[2] == 8),
        "no GOAWAY frame: {got:?}"
    );
}

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

#[tokio::test]
async fn timeouts_of_duration_max_mean_never_and_do_not_overflow() {
    let running = start(
        Server::new(Tiny)
            .header_read_timeout(Duration::MAX)
            .body_read_timeout(Duration::MAX),
    )
    .await;
    // Two requests on one keep-alive connection: the idle deadline is computed after each.
    let client = reqwest::Client::new();
    for _ in 0..2 {
        catalog_ok(&running).await;
        let res = client
            .put(format!("{}/v2/service_instances/i-max", running.url()))
            .header("X-Broker-API-Version", "2.17")
            .header("content-type", "application/json")
            .body(r#"{"service_id":"svc","plan_id":"plan"}"#)
            .send()
            .await
            .unwrap();
        assert!(matches!(res.status().as_u16(), 200 | 201), "{res:?}");
    }
}

/// Issue "slow clients are held twice as long as documented": 50 connections that each send
/// half a request head and stop are closed within the header read timeout plus a small grace,
/// not after twice the timeout (the bug: every one closed at 2.0x). Lower bound: none is
/// closed before the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_heads_are_closed_within_the_header_read_timeout_not_twice_it() {
    let timeout = Duration::from_secs(2);
    let running = start(Server::new(Tiny).header_read_timeout(timeout)).await;
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(running.local_addr()).await.expect("connect");
        s.write_all(b"GET /v2/catalog HTTP/1.1\r\nHost: x\r\nX-Broker-API-")
            .await
            .expect("half a head");
        tasks.push(tokio::spawn(async move {
            let mut buf = [0u8; 256];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return tokio::time::Instant::now(),
                    Ok(_) => {}
                }
            }
        }));
    }
    let mut latest = Duration::ZERO;
    for t in tasks {
        let closed = tokio::time::timeout(timeout * 4, t)
            .await
            .expect("hang guard: closed at all")
            .expect("task");
        let after = closed - started;
        assert!(
            after >= timeout - Duration::from_millis(100),
            "closed too early: {after:?}"
        );
        latest = latest.max(after);
    }
    // The bug closed every connection at exactly twice the timeout; the grace is at most 1 s.
    assert!(
        latest < timeout * 2 - Duration::from_millis(300),
        "held until {latest:?}, about twice the {timeout:?} timeout"
    );
    catalog_ok(&running).await;
}
