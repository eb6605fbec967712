//! Runs the `osb` binary against a tiny std-only stub broker.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const CATALOG: &str = r#"{"services":[{"id":"svc-echo-id","name":"echo","description":"Echoes","bindable":true,
 "plans":[{"id":"plan-small-id","name":"small","description":"Synchronous"},
          {"id":"plan-large-id","name":"large","description":"Asynchronous","free":false}]}]}"#;

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    body: String,
    auth: Option<String>,
}

/// Serves `handler(method, target) -> (status, body)` on a thread; returns the URL and a log.
fn stub(handler: fn(&str, &str) -> (u16, String)) -> (String, Arc<Mutex<Vec<Seen>>>) {
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
            let mut len = 0usize;
            let mut auth = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap_or(("", ""));
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if k.eq_ignore_ascii_case("authorization") {
                    auth = Some(v.trim().to_owned());
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            log2.lock().unwrap().push(Seen {
                method: method.clone(),
                target: target.clone(),
                body: String::from_utf8_lossy(&body).into_owned(),
                auth,
            });
            let (status, body) = handler(&method, &target);
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    (url, log)
}

fn osb(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osb"))
        .env_remove("OSB_USERNAME")
        .env_remove("OSB_PASSWORD")
        .env("OSB_BROKER_URL", url)
        .args(["-u", "admin", "-p", "secret"])
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn catalog_prints_a_table() {
    let (url, log) = stub(|_, _| (200, CATALOG.to_owned()));
    let out = osb(&url, &["catalog"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("SERVICE"), "{s}");
    assert!(lines[0].contains("PLAN ID"));
    assert!(lines[1].starts_with("echo") && lines[1].contains("small") && lines[1].contains("plan-small-id"));
    assert!(lines[2].contains("large") && lines[2].contains("no"));
    let seen = log.lock().unwrap();
    assert_eq!(seen[0].target, "/v2/catalog");
    assert_eq!(seen[0].auth.as_deref(), Some("Basic YWRtaW46c2VjcmV0"));
}

#[test]
fn catalog_json() {
    let (url, _) = stub(|_, _| (200, CATALOG.to_owned()));
    let out = osb(&url, &["--json", "catalog"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["services"][0]["plans"][1]["id"], "plan-large-id");
}

#[test]
fn provision_by_name_resolves_ids() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (201, r#"{"dashboard_url":"http://dash/inst-1"}"#.to_owned()),
    });
    let out = osb(
        &url,
        &[
            "provision",
            "inst-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--params",
            r#"{"size":3}"#,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("inst-1 provisioned"), "{s}");
    assert!(s.contains("http://dash/inst-1"));
    let seen = log.lock().unwrap();
    let put = seen.iter().find(|r| r.method == "PUT").unwrap();
    assert!(put.target.starts_with("/v2/service_instances/inst-1"));
    let body: serde_json::Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(body["service_id"], "svc-echo-id");
    assert_eq!(body["plan_id"], "plan-small-id");
    assert_eq!(body["parameters"]["size"], 3);
}

#[test]
fn provision_wait_polls_until_succeeded() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        ("GET", _) => (200, r#"{"state":"succeeded"}"#.to_owned()),
        _ => (202, r#"{"operation":"op-1"}"#.to_owned()),
    });
    let out = osb(
        &url,
        &[
            "--json",
            "provision",
            "inst-2",
            "--service",
            "svc-echo-id",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["state"], "succeeded");
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|r| r.target.contains("last_operation?") && r.target.contains("operation=op-1"))
    );
}

#[test]
fn broker_error_exits_non_zero_with_code_and_description() {
    let (url, log) = stub(|m, t| {
        match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (422, r#"{"error":"ConcurrencyError","description":"Another operation for this instance is in progress."}"#.to_owned()),
    }
    });
    let out = osb(
        &url,
        &["provision", "inst-1", "--service", "echo", "--plan", "small"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("ConcurrencyError"), "{err}");
    assert!(
        err.contains("Another operation for this instance is in progress."),
        "{err}"
    );
    // B80: no orphan mitigation after ConcurrencyError
    assert!(!log.lock().unwrap().iter().any(|r| r.method == "DELETE"));
}

#[test]
fn unknown_plan_is_a_usage_error() {
    let (url, _) = stub(|_, _| (200, CATALOG.to_owned()));
    let out = osb(&url, &["provision", "i", "--service", "echo", "--plan", "Small"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no plan \"Small\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn deprovision_gone_and_last_operation() {
    let (url, _) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        ("DELETE", _) => (410, "{}".to_owned()),
        _ => (200, r#"{"state":"in progress","description":"50%"}"#.to_owned()),
    });
    let out = osb(
        &url,
        &["deprovision", "i", "--service", "echo", "--plan", "small"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("gone"));
    let out = osb(&url, &["last-operation", "i", "--operation", "a b"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("in progress"));
    assert!(text(&out.stdout).contains("50%"));
}

#[test]
fn bind_prints_credentials() {
    let (url, _) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (201, r#"{"credentials":{"uri":"echo://x"}}"#.to_owned()),
    });
    let out = osb(&url, &["bind", "i", "b", "--service", "echo", "--plan", "small"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("echo://x"));
}
