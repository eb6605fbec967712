//! API version negotiation: without `--api-version` / `OSB_API_VERSION`, `osb` sends the
//! highest version both sides speak, stepping down from 2.17 while the broker answers `412`
//! (the client's `Client::negotiate`). Against a std-only stub broker that speaks 2.11–2.14.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use support::{json_out, ok, osb, osb_env, text};

const CATALOG: &str = r#"{"services":[{"id":"svc-id","name":"old","description":"An old broker","bindable":true,
 "instances_retrievable":true,"plans":[{"id":"plan-id","name":"basic","description":"Synchronous"}]}]}"#;

/// One request: method, target, `X-Broker-API-Version`, whether a request identity came.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    target: String,
    version: String,
    request_identity: bool,
}

/// A broker that speaks API 2.11–2.14: `412` for any newer `X-Broker-API-Version`.
fn old_broker() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_owned();
            let target = parts.next().unwrap_or("").to_owned();
            let (mut len, mut version, mut request_identity) = (0usize, String::new(), false);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap_or(("", ""));
                let (k, v) = (k.to_ascii_lowercase(), v.trim().to_owned());
                match k.as_str() {
                    "content-length" => len = v.parse().unwrap_or(0),
                    "x-broker-api-version" => version = v,
                    "x-broker-api-request-identity" => request_identity = true,
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let minor: u32 = version
                .strip_prefix("2.")
                .and_then(|m| m.parse().ok())
                .unwrap_or(99);
            log2.lock().unwrap().push(Seen {
                method: method.clone(),
                target: target.clone(),
                version: version.clone(),
                request_identity,
            });
            let (status, body) = if minor > 14 {
                (
                    412,
                    r#"{"error":"PreconditionFailed","description":"this broker speaks API 2.11 to 2.14"}"#
                        .to_owned(),
                )
            } else {
                match (method.as_str(), target.split('?').next().unwrap_or("")) {
                    ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
                    ("PUT", _) => (201, "{}".to_owned()),
                    ("GET", _) => (200, r#"{"service_id":"svc-id","plan_id":"plan-id"}"#.to_owned()),
                    _ => (200, "{}".to_owned()),
                }
            };
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    (url, log)
}

fn versions(log: &Mutex<Vec<Seen>>) -> Vec<(String, String)> {
    log.lock()
        .unwrap()
        .iter()
        .map(|s| (s.target.clone(), s.version.clone()))
        .collect()
}

fn catalog_at(v: &str) -> (String, String) {
    ("/v2/catalog".to_owned(), v.to_owned())
}

#[test]
fn a1_catalog_negotiates_down_to_the_brokers_highest_version() {
    let (url, log) = old_broker();
    let out = osb(&url, &["--json", "catalog"]);
    ok(&out);
    assert_eq!(json_out(&out)["services"][0]["name"], "old");
    assert_eq!(
        versions(&log),
        [
            catalog_at("2.17"),
            catalog_at("2.16"),
            catalog_at("2.15"),
            catalog_at("2.14")
        ]
    );
    // --json keeps stderr quiet; without it a note says what happened
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let out = osb(&url, &["catalog"]);
    ok(&out);
    assert_eq!(
        text(&out.stderr),
        "note: the broker does not speak API 2.17; using 2.14 (pin a version with --api-version or \
         OSB_API_VERSION)\n"
    );
}

#[test]
fn provision_after_negotiation_sends_the_negotiated_version_only() {
    let (url, log) = old_broker();
    let out = osb(
        &url,
        &[
            "--json",
            "provision",
            "i-1",
            "--service",
            "old",
            "--plan",
            "basic",
        ],
    );
    ok(&out);
    assert_eq!(json_out(&out)["status"], "created");
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 5, "{seen:?}");
    let put = &seen[4];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.target, "/v2/service_instances/i-1?accepts_incomplete=true");
    assert_eq!(put.version, "2.14");
    // X-Broker-API-Request-Identity is a 2.15 header: not sent to a 2.14 broker
    assert!(!put.request_identity);
}

#[test]
fn a_read_without_catalog_negotiates_after_a_412_and_retries() {
    let (url, log) = old_broker();
    let out = osb(&url, &["--json", "instance", "i-1"]);
    ok(&out);
    assert_eq!(json_out(&out)["plan_id"], "plan-id");
    let instance = ("/v2/service_instances/i-1".to_owned(), "2.17".to_owned());
    let mut retried = instance.clone();
    retried.1 = "2.14".to_owned();
    assert_eq!(
        versions(&log),
        [
            instance,
            catalog_at("2.17"),
            catalog_at("2.16"),
            catalog_at("2.15"),
            catalog_at("2.14"),
            retried
        ]
    );
}

#[test]
fn a_pinned_version_is_never_negotiated() {
    let (url, log) = old_broker();
    // --api-version
    let out = osb(&url, &["--json", "--api-version", "2.16", "catalog"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_out(&out)["status"], 412);
    assert_eq!(versions(&log), [catalog_at("2.16")]);
    // OSB_API_VERSION
    let out = osb_env(
        &[("OSB_API_VERSION", "2.13")],
        &["--url", &url, "-u", "a", "-p", "b", "catalog"],
    );
    ok(&out);
    assert_eq!(versions(&log)[1], catalog_at("2.13"));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    // the flag wins over the environment
    let out = osb_env(
        &[("OSB_API_VERSION", "2.13")],
        &["--url", &url, "--api-version", "2.12", "catalog"],
    );
    ok(&out);
    assert_eq!(versions(&log)[2], catalog_at("2.12"));
    let out = osb_env(&[("OSB_API_VERSION", "3.0")], &["--url", &url, "catalog"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --api-version: 3.0 is not supported; use 2.11 to 2.17\n"
    );
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[test]
fn v1_a_context_needs_2_12_and_is_refused_before_sending_at_2_11() {
    let (url, log) = old_broker();
    let out = osb(
        &url,
        &[
            "--api-version",
            "2.11",
            "provision",
            "i-1",
            "--service",
            "old",
            "--plan",
            "basic",
            "--cf-org",
            "acme",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: context on instance requests is not supported by OSB API version 2.11\n"
    );
    // only the catalog was fetched: the provision was never sent
    assert_eq!(versions(&log), [catalog_at("2.11")]);
}
