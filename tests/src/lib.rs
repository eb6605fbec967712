//! Shared helpers for the osb-rs end-to-end tests: start brokers on loopback, send raw
//! requests, read JSON error bodies.

use std::time::Duration;

use osb_server_mini::{Running, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use osb_examples::echo_ids;

pub mod e2e;
pub mod process;
pub mod rules;

/// Basic-auth user of the test brokers.
pub const USER: &str = "admin";
/// Basic-auth password of the test brokers.
pub const PASSWORD: &str = "test-password";

/// Starts the derived echo broker on `127.0.0.1:0` with Basic auth and a 50 ms async delay.
pub async fn echo_broker() -> Running {
    echo_server()
        .spawn("127.0.0.1:0")
        .await
        .expect("echo broker starts")
}

/// The derived echo broker's server, for tests that tune the settings first.
pub fn echo_server() -> Server<osb_examples::echo::EchoBroker> {
    echo_server_with_delay(Duration::from_millis(50))
}

/// The derived echo broker's server whose `large` plan operations take `delay`: long enough
/// for a test to act while an operation is still in progress.
pub fn echo_server_with_delay(delay: Duration) -> Server<osb_examples::echo::EchoBroker> {
    Server::new(osb_examples::echo::EchoBroker::new("http://dash.test", delay)).basic_auth(USER, PASSWORD)
}

/// The echo broker with a `delay` (e.g. 600 ms) on its `large` plan, spawned on `127.0.0.1:0`.
pub async fn slow_echo_broker(delay: Duration) -> Running {
    echo_server_with_delay(delay)
        .spawn("127.0.0.1:0")
        .await
        .expect("echo broker starts")
}

/// `Basic <base64(admin:test-password)>`.
#[must_use]
pub fn basic_header() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

/// A raw HTTP/1.1 response: status, lower-cased header block, body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// The header lines, lower-cased.
    pub headers: String,
    /// The body.
    pub body: String,
}

impl RawResponse {
    /// The body as JSON; panics with the whole response when it is not.
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?}"))
    }

    /// Asserts a 4xx with a JSON `{"error", "description"}` body and returns the body.
    pub fn assert_client_error(&self) -> Value {
        assert!((400..500).contains(&self.status), "expected 4xx: {self:?}");
        assert!(
            self.headers.contains("content-type: application/json"),
            "{self:?}"
        );
        let body = self.json();
        assert!(body["error"].is_string(), "no `error`: {self:?}");
        assert!(
            body["description"].as_str().is_some_and(|d| !d.is_empty()),
            "no `description`: {self:?}"
        );
        body
    }
}

/// Sends raw bytes on a new connection and parses the first response (with `content-length`).
pub async fn send_raw(running: &Running, request: &[u8]) -> RawResponse {
    send_raw_many(running, request, 1).await.remove(0)
}

/// Sends raw bytes (e.g. pipelined requests) and parses `count` responses in order.
pub async fn send_raw_many(running: &Running, request: &[u8], count: usize) -> Vec<RawResponse> {
    let mut s = TcpStream::connect(running.local_addr()).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(read_response(&mut s, &mut buf).await);
    }
    out
}

/// Reads one HTTP/1.x response with a `content-length` body from a stream; `buf` keeps the
/// bytes read past it for the next call.
pub async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> RawResponse {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                buf.drain(..end + 4 + len);
                return RawResponse {
                    status,
                    headers: head,
                    body,
                };
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("response within 5 s")
            .expect("read");
        assert!(
            n > 0,
            "connection closed before a full response: {:?}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Asserts the broker still answers a normal catalog request.
pub async fn assert_healthy(running: &Running) {
    let res = reqwest::Client::new()
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .header("Authorization", basic_header())
        .send()
        .await
        .expect("catalog request");
    assert_eq!(res.status(), 200, "broker unhealthy after hostile input");
}
