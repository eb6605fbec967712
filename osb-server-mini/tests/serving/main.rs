//! Socket-level tests of the serving layer, one module per concern: the body limit
//! ([`body_limit`]), slow clients ([`slow_clients`]), connections, HTTP/2, shutdown and
//! mounting ([`connections`]); here the tiny broker they all serve and the raw-socket helpers.

pub(crate) use std::time::Duration;

pub(crate) use bytes::Bytes;
pub(crate) use http_body_util::{BodyExt, Full};
pub(crate) use osb_server_mini::reply::{Deprovisioned, Provisioned};
pub(crate) use osb_server_mini::request::DeprovisionRequest;
pub(crate) use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
pub(crate) use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
pub(crate) use serde_json::Value;
pub(crate) use tokio::io::{AsyncReadExt, AsyncWriteExt};
pub(crate) use tokio::net::TcpStream;

mod body_limit;
mod connections;
mod slow_clients;
#[path = "../tracing_support/mod.rs"]
mod tracing_support;

pub(crate) struct Tiny;

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

pub(crate) async fn start(server: Server<Tiny>) -> Running {
    server.spawn("127.0.0.1:0").await.expect("server starts")
}

/// Sends raw bytes and reads until the server closes or `wait` passes.
pub(crate) async fn raw(running: &Running, request: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

pub(crate) fn json_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {response}"))
}

pub(crate) async fn catalog_ok(running: &Running) {
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
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// Header names lowercased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Parses a complete response (head and `Content-Length` body) from `buf`, if there is one.
pub(crate) fn parse_answer(buf: &[u8]) -> Option<Answer> {
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
pub(crate) async fn read_answer(s: &mut TcpStream, wait: Duration) -> Answer {
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
pub(crate) async fn answer_to_head(running: &Running, head: &str) -> Answer {
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(b"{\"service_id\":").await.unwrap();
    read_answer(&mut s, Duration::from_secs(5)).await
}

pub(crate) const BASIC: &str = "Basic YWRtaW46c2VjcmV0"; // admin:secret
