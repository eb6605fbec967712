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
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
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
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap_or(("", ""));
                headers.push((k.to_owned(), v.trim().to_owned()));
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
                headers,
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
    osb_env(url, &[], &[&["-u", "admin", "-p", "secret"], args].concat())
}

/// Runs `osb` with only `OSB_BROKER_URL` and `env` set from the OSB_* variables.
fn osb_env(url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_osb"));
    cmd.env_remove("OSB_USERNAME")
        .env_remove("OSB_PASSWORD")
        .env("OSB_BROKER_URL", url);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

fn json_out(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?} stderr {:?}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Asserts exit code 2 (nothing sent) and exactly this error line on stderr.
fn usage_error(out: &Output, message: &str) {
    assert_eq!(text(&out.stderr), format!("error: {message}\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
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

/// Offering `db` (not bindable itself): `fixed` (default flags), `flex` (plan_updateable,
/// bindable, binding_rotatable), `big` (bindable only).
const DB_CATALOG: &str = r#"{"services":[{"id":"svc-db","name":"db","description":"d","bindable":false,
 "plans":[{"id":"p-fixed","name":"fixed","description":"d"},
          {"id":"p-flex","name":"flex","description":"d","plan_updateable":true,"bindable":true,"binding_rotatable":true},
          {"id":"p-big","name":"big","description":"d","bindable":true}]}]}"#;

fn db_stub() -> (String, Arc<Mutex<Vec<Seen>>>) {
    stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, DB_CATALOG.to_owned()),
        ("GET", t) if t.contains("last_operation") => (200, r#"{"state":"succeeded"}"#.to_owned()),
        ("PATCH", _) => (202, r#"{"operation":"upd-1"}"#.to_owned()),
        _ => (201, r#"{"credentials":{"k":"rotated"}}"#.to_owned()),
    })
}

fn sent(log: &Arc<Mutex<Vec<Seen>>>, method: &str) -> Vec<Seen> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == method)
        .cloned()
        .collect()
}

#[test]
fn b44_update_plan_change_from_an_updateable_plan() {
    let (url, log) = db_stub();
    let out = osb(
        &url,
        &[
            "--json",
            "update",
            "i-1",
            "--service",
            "db",
            "--current-plan",
            "flex",
            "--plan",
            "big",
            "--wait",
        ],
    );
    ok(&out);
    let v = json_out(&out);
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["state"], "succeeded");
    assert_eq!(v["operation"], "upd-1");
    let patch = &sent(&log, "PATCH")[0];
    assert_eq!(patch.target, "/v2/service_instances/i-1?accepts_incomplete=true");
    assert_eq!(
        patch.json(),
        serde_json::json!({"service_id": "svc-db", "plan_id": "p-big", "previous_values": {"plan_id": "p-flex"}})
    );
    // B29: polled with the plan from before the update
    let poll = sent(&log, "GET")
        .into_iter()
        .find(|r| r.target.contains("last_operation"))
        .unwrap();
    assert!(poll.target.contains("plan_id=p-flex"), "{}", poll.target);
    assert!(poll.target.contains("operation=upd-1"), "{}", poll.target);
}

#[test]
fn b44_update_refuses_a_plan_change_of_a_non_updateable_plan() {
    let (url, log) = db_stub();
    let out = osb(
        &url,
        &[
            "update",
            "i-1",
            "--service",
            "db",
            "--current-plan",
            "fixed",
            "--plan",
            "big",
        ],
    );
    usage_error(
        &out,
        "request not sent: plan \"fixed\" of \"db\" is not plan_updateable: it cannot be changed to another \
         plan (parameters can still be updated)",
    );
    assert!(sent(&log, "PATCH").is_empty());
    // without --current-plan the flags of the plans disagree: the CLI asks for it
    let out = osb(&url, &["update", "i-1", "--service", "db", "--plan", "big"]);
    usage_error(
        &out,
        "only some plans of \"db\" are plan_updateable: pass --current-plan so that the plan change can \
         be checked",
    );
    // parameters alone are always fine
    let out = osb(
        &url,
        &[
            "--json",
            "update",
            "i-1",
            "--service",
            "db",
            "--params",
            r#"{"a":1}"#,
        ],
    );
    ok(&out);
    assert_eq!(json_out(&out)["status"], "accepted");
    let patches = sent(&log, "PATCH");
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0].json(),
        serde_json::json!({"service_id": "svc-db", "parameters": {"a": 1}})
    );
}

#[test]
fn b44_update_learns_the_current_plan_from_a_retrievable_instance() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (
            200,
            DB_CATALOG.replace(
                r#""bindable":false,"#,
                r#""bindable":false,"instances_retrievable":true,"#,
            ),
        ),
        ("GET", "/v2/service_instances/i-1") => {
            (200, r#"{"service_id":"svc-db","plan_id":"p-fixed"}"#.to_owned())
        }
        _ => (200, "{}".to_owned()),
    });
    let out = osb(&url, &["update", "i-1", "--service", "db", "--plan", "flex"]);
    usage_error(
        &out,
        "request not sent: plan \"fixed\" of \"db\" is not plan_updateable: it cannot be changed to another \
         plan (parameters can still be updated)",
    );
    assert!(sent(&log, "PATCH").is_empty());
}

#[test]
fn b52_bind_refuses_a_plan_that_is_not_bindable() {
    let (url, log) = db_stub();
    let out = osb(&url, &["bind", "i", "b", "--service", "db", "--plan", "fixed"]);
    usage_error(&out, "request not sent: plan \"fixed\" of \"db\" is not bindable");
    assert!(sent(&log, "PUT").is_empty());
}

#[test]
fn b60_bind_rotate_needs_a_rotatable_plan_and_2_17() {
    let (url, log) = db_stub();
    let out = osb(
        &url,
        &[
            "bind",
            "i",
            "b-2",
            "--service",
            "db",
            "--plan",
            "big",
            "--rotate",
            "b-1",
        ],
    );
    usage_error(
        &out,
        "request not sent: plan \"big\" is not binding_rotatable: its bindings cannot be rotated",
    );
    let out = osb(
        &url,
        &[
            "--api-version",
            "2.16",
            "bind",
            "i",
            "b-2",
            "--service",
            "db",
            "--plan",
            "flex",
            "--rotate",
            "b-1",
        ],
    );
    usage_error(&out, "binding rotation is not supported by OSB API version 2.16");
    assert!(sent(&log, "PUT").is_empty());
    let out = osb(
        &url,
        &[
            "--json",
            "bind",
            "i",
            "b-2",
            "--service",
            "db",
            "--plan",
            "flex",
            "--rotate",
            "b-1",
        ],
    );
    ok(&out);
    let v = json_out(&out);
    assert_eq!(v["status"], "created");
    assert_eq!(v["binding"]["credentials"]["k"], "rotated");
    let put = &sent(&log, "PUT")[0];
    assert_eq!(
        put.target,
        "/v2/service_instances/i/service_bindings/b-2?accepts_incomplete=true"
    );
    assert_eq!(put.json(), serde_json::json!({"predecessor_binding_id": "b-1"}));
}

#[test]
fn instance_prints_its_fields() {
    let (url, log) = stub(|_, _| {
        (
            200,
            r#"{"service_id":"svc-echo-id","plan_id":"plan-small-id","dashboard_url":"http://d/1","parameters":{"a":1}}"#
                .to_owned(),
        )
    });
    let out = osb(&url, &["instance", "i-1"]);
    ok(&out);
    assert_eq!(
        text(&out.stdout),
        "instance       i-1\nservice_id     svc-echo-id\nplan_id        plan-small-id\n\
         dashboard_url  http://d/1\nparameters     {\"a\":1}\n"
    );
    assert_eq!(log.lock().unwrap()[0].target, "/v2/service_instances/i-1");
    let out = osb(&url, &["--json", "instance", "i-1"]);
    ok(&out);
    assert_eq!(json_out(&out)["parameters"]["a"], 1);
}

#[test]
fn binding_prints_credentials_and_urls() {
    let (url, log) = stub(|_, _| {
        (
            200,
            r#"{"credentials":{"uri":"echo://x"},"syslog_drain_url":"syslog://logs:514"}"#.to_owned(),
        )
    });
    let out = osb(&url, &["binding", "i", "b"]);
    ok(&out);
    assert_eq!(
        text(&out.stdout),
        "credentials        {\"uri\":\"echo://x\"}\nsyslog_drain_url   syslog://logs:514\n"
    );
    assert_eq!(
        log.lock().unwrap()[0].target,
        "/v2/service_instances/i/service_bindings/b"
    );
}

#[test]
fn unbind_sends_ids_and_reports() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (200, "{}".to_owned()),
    });
    let out = osb(
        &url,
        &["unbind", "i", "b", "--service", "echo", "--plan", "small"],
    );
    ok(&out);
    let s = text(&out.stdout);
    assert!(
        s.starts_with("✔ unbound i/b in ") && s.ends_with("s (deleted)\n"),
        "{s}"
    );
    let del = &sent(&log, "DELETE")[0];
    assert_eq!(
        del.target,
        "/v2/service_instances/i/service_bindings/b?service_id=svc-echo-id&plan_id=plan-small-id&accepts_incomplete=true"
    );
}

#[test]
fn unbind_wait_polls_the_binding_until_gone() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        ("GET", _) => (410, "{}".to_owned()),
        _ => (202, r#"{"operation":"ub-1"}"#.to_owned()),
    });
    let out = osb(
        &url,
        &[
            "--json",
            "unbind",
            "i",
            "b",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    ok(&out);
    let v = json_out(&out);
    assert_eq!(
        (v["status"].as_str(), v["state"].as_str()),
        (Some("accepted"), Some("gone"))
    );
    assert_eq!(v["operation"], "ub-1");
    let poll = sent(&log, "GET").pop().unwrap();
    assert!(
        poll.target
            .starts_with("/v2/service_instances/i/service_bindings/b/last_operation?"),
        "{}",
        poll.target
    );
}

#[test]
fn bind_wait_polls_then_fetches_the_credentials() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        ("GET", t) if t.contains("last_operation") => (200, r#"{"state":"succeeded"}"#.to_owned()),
        ("GET", _) => (200, r#"{"credentials":{"uri":"echo://late"}}"#.to_owned()),
        _ => (202, r#"{"operation":"b-op"}"#.to_owned()),
    });
    let out = osb(
        &url,
        &[
            "--json",
            "bind",
            "i",
            "b",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    ok(&out);
    let v = json_out(&out);
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["binding"]["credentials"]["uri"], "echo://late");
    let gets: Vec<String> = sent(&log, "GET").into_iter().map(|r| r.target).collect();
    assert!(gets[1].contains("/service_bindings/b/last_operation?") && gets[1].contains("operation=b-op"));
    assert_eq!(gets[2], "/v2/service_instances/i/service_bindings/b");
}

#[test]
fn deprovision_wait_polls_until_gone() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        ("GET", _) => (410, "{}".to_owned()),
        _ => (202, r#"{"operation":"d-op"}"#.to_owned()),
    });
    let out = osb(
        &url,
        &[
            "--json",
            "deprovision",
            "i",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    ok(&out);
    let v = json_out(&out);
    assert_eq!(
        (v["status"].as_str(), v["state"].as_str()),
        (Some("accepted"), Some("gone"))
    );
    let poll = sent(&log, "GET").pop().unwrap();
    assert!(
        poll.target.starts_with("/v2/service_instances/i/last_operation?"),
        "{}",
        poll.target
    );
    assert!(poll.target.contains("plan_id=plan-large-id"), "{}", poll.target);
}

#[test]
fn username_and_password_from_the_environment() {
    let (url, log) = stub(|_, _| (200, CATALOG.to_owned()));
    let out = osb_env(
        &url,
        &[("OSB_USERNAME", "envuser"), ("OSB_PASSWORD", "envpass")],
        &["catalog"],
    );
    ok(&out);
    assert_eq!(
        log.lock().unwrap()[0].auth.as_deref(),
        Some("Basic ZW52dXNlcjplbnZwYXNz")
    );
    // flags win over the environment
    let out = osb_env(
        &url,
        &[("OSB_USERNAME", "envuser"), ("OSB_PASSWORD", "envpass")],
        &["-u", "admin", "-p", "secret", "catalog"],
    );
    ok(&out);
    assert_eq!(
        log.lock().unwrap()[1].auth.as_deref(),
        Some("Basic YWRtaW46c2VjcmV0")
    );
    // no credentials at all: no Authorization header
    ok(&osb_env(&url, &[], &["catalog"]));
    assert_eq!(log.lock().unwrap()[2].auth, None);
}

#[test]
fn a_password_without_a_username_is_a_usage_error() {
    let (url, log) = stub(|_, _| (200, CATALOG.to_owned()));
    let message = "a password (--password or OSB_PASSWORD) needs a username (--username or OSB_USERNAME)";
    usage_error(&osb_env(&url, &[], &["-p", "secret", "catalog"]), message);
    usage_error(&osb_env(&url, &[("OSB_PASSWORD", "x")], &["catalog"]), message);
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn api_version_flag_is_sent_and_checked() {
    let (url, log) = stub(|_, _| (200, CATALOG.to_owned()));
    ok(&osb(&url, &["--api-version", "2.14", "catalog"]));
    {
        let seen = log.lock().unwrap();
        assert_eq!(seen[0].header("x-broker-api-version"), Some("2.14"));
        assert_eq!(
            seen[0].header("x-broker-api-request-identity"),
            None,
            "2.15 header"
        );
    }
    ok(&osb(&url, &["catalog"]));
    assert_eq!(
        log.lock().unwrap()[1].header("x-broker-api-version"),
        Some("2.17")
    );
    usage_error(
        &osb(&url, &["--api-version", "2.18", "catalog"]),
        "--api-version: 2.18 is not supported; use 2.11 to 2.17",
    );
    let out = osb(&url, &["--api-version", "two", "catalog"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: --api-version: "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn last_operation_of_a_binding() {
    let (url, log) = stub(|_, _| (200, r#"{"state":"succeeded","description":"done"}"#.to_owned()));
    let out = osb(
        &url,
        &[
            "last-operation",
            "i",
            "--binding",
            "b",
            "--operation",
            "op 1",
            "--plan-id",
            "p",
        ],
    );
    ok(&out);
    assert_eq!(
        text(&out.stdout),
        "state              succeeded\ndescription        done\n"
    );
    assert_eq!(
        log.lock().unwrap()[0].target,
        "/v2/service_instances/i/service_bindings/b/last_operation?plan_id=p&operation=op+1"
    );
}

#[test]
fn json_failures_are_one_object_on_stdout() {
    let (url, _) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        ("PUT", t) if t.contains("/busy") => (
            422,
            r#"{"error":"ConcurrencyError","description":"busy"}"#.to_owned(),
        ),
        ("PUT", _) => (500, "oops".to_owned()),
        _ => (200, "{}".to_owned()),
    });
    let out = osb(
        &url,
        &[
            "--json",
            "provision",
            "busy",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(
        json_out(&out),
        serde_json::json!({"error": "ConcurrencyError", "description": "busy", "status": 422, "exit_code": 1})
    );
    let out = osb(
        &url,
        &[
            "--json",
            "provision",
            "boom",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let mut answer = json_out(&out);
    let description = answer["description"].as_str().unwrap_or_default();
    answer["description"] = without_request_identity(description).into();
    assert_eq!(
        answer,
        serde_json::json!({"error": "BrokerError",
            "description": "broker answered 500: oops (orphan mitigation: deprovision of boom succeeded (1 attempt(s)))",
            "status": 500, "exit_code": 1,
            "orphan_mitigation": "orphan mitigation: deprovision of boom succeeded (1 attempt(s))"})
    );
    let out = osb(
        &url,
        &["--json", "provision", "i", "--service", "echo", "--plan", "Small"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        json_out(&out),
        serde_json::json!({"error": "UsageError",
            "description": "no plan \"Small\" in service \"echo\"; plans: small, large",
            "status": null, "exit_code": 2})
    );
}

#[test]
fn broker_error_message_is_exact() {
    let (url, _) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (
            400,
            r#"{"error":"BadRequest","description":"size must be positive"}"#.to_owned(),
        ),
    });
    let out = osb(
        &url,
        &["update", "i", "--service", "echo", "--params", r#"{"size":-1}"#],
    );
    assert_eq!(out.status.code(), Some(1));
    // once, on one line: the code and the description are not repeated below it
    assert_eq!(
        without_request_identity(&text(&out.stderr)),
        "error: broker answered 400: BadRequest: size must be positive\n"
    );
}

/// `message` without the ` (request identity <id>)` every broker error names, which must be
/// there (the id is a fresh UUID per request).
fn without_request_identity(message: &str) -> String {
    let start = message
        .find(" (request identity ")
        .unwrap_or_else(|| panic!("no request identity in {message:?}"));
    let end = start + message[start..].find(')').expect("closed");
    let id = &message[start + " (request identity ".len()..end];
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
    format!("{}{}", &message[..start], &message[end + 1..])
}

#[test]
fn b21_provision_sends_default_organization_and_space_guid_and_prints_them() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (201, "{}".to_owned()),
    });
    let out = osb(
        &url,
        &["provision", "i-1", "--service", "echo", "--plan", "small"],
    );
    ok(&out);
    let s = text(&out.stdout);
    assert!(
        s.contains("organization_guid  0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0001 (default; set --org-guid or OSB_ORG_GUID)"),
        "{s}"
    );
    assert!(
        s.contains("space_guid         0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0002 (default; set --space-guid or OSB_SPACE_GUID)"),
        "{s}"
    );
    let put = sent(&log, "PUT").remove(0).json();
    assert_eq!(put["organization_guid"], "0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0001");
    assert_eq!(put["space_guid"], "0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0002");
    // the defaults are stable: the same on every run
    let out = osb(
        &url,
        &[
            "--json",
            "provision",
            "i-2",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    let v = json_out(&out);
    assert_eq!(v["organization_guid"], put["organization_guid"]);
    assert_eq!(v["space_guid"], put["space_guid"]);
}

#[test]
fn b21_provision_takes_organization_and_space_guid_from_flags_or_the_environment() {
    let (url, log) = stub(|m, t| match (m, t) {
        ("GET", "/v2/catalog") => (200, CATALOG.to_owned()),
        _ => (201, "{}".to_owned()),
    });
    let out = osb(
        &url,
        &[
            "provision",
            "i-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--org-guid",
            "org-f",
            "--space-guid",
            "space-f",
        ],
    );
    ok(&out);
    let s = text(&out.stdout);
    assert!(
        s.contains("organization_guid  org-f\n") && s.contains("space_guid         space-f\n"),
        "{s}"
    );
    let env = [("OSB_ORG_GUID", "org-e"), ("OSB_SPACE_GUID", "space-e")];
    let out = osb_env(
        &url,
        &env,
        &[
            "-u",
            "admin",
            "-p",
            "secret",
            "--json",
            "provision",
            "i-2",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    let v = json_out(&out);
    assert_eq!(
        (v["organization_guid"].as_str(), v["space_guid"].as_str()),
        (Some("org-e"), Some("space-e"))
    );
    let puts = sent(&log, "PUT");
    assert_eq!(puts.len(), 2);
    assert_eq!(
        (
            puts[0].json()["organization_guid"].as_str(),
            puts[0].json()["space_guid"].as_str()
        ),
        (Some("org-f"), Some("space-f"))
    );
    assert_eq!(
        (
            puts[1].json()["organization_guid"].as_str(),
            puts[1].json()["space_guid"].as_str()
        ),
        (Some("org-e"), Some("space-e"))
    );
}

#[test]
fn deprovision_without_service_and_plan_needs_a_retrievable_offering() {
    let (url, log) = stub(|_, _| (200, CATALOG.to_owned()));
    let out = osb(&url, &["deprovision", "i-1"]);
    usage_error(
        &out,
        "pass --service and --plan: no offering in the catalog is instances_retrievable, so the \
         instance's plan cannot be looked up",
    );
    let out = osb(&url, &["unbind", "i-1", "b-1", "--service", "echo"]);
    usage_error(
        &out,
        "pass --plan: offering \"echo\" is not instances_retrievable, so the instance's plan cannot be \
         looked up",
    );
    assert!(
        log.lock().unwrap().iter().all(|r| r.target == "/v2/catalog"),
        "only the catalog was fetched"
    );
}

// ------------------------------------------------ the real derived echo broker

struct Echo {
    running: Option<osb_server_mini::Running>,
    rt: tokio::runtime::Runtime,
}

impl Echo {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let running = rt.block_on(async {
            osb_server_mini::Server::new(osb_examples::echo::EchoBroker::new(
                "http://dash.test",
                std::time::Duration::from_millis(200),
            ))
            .basic_auth("admin", "secret")
            .spawn("127.0.0.1:0")
            .await
            .unwrap()
        });
        Self {
            running: Some(running),
            rt,
        }
    }

    fn url(&self) -> String {
        self.running.as_ref().unwrap().url()
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.running.take();
    }
}

fn echo_json(url: &str, args: &[&str]) -> serde_json::Value {
    let out = osb(url, &[&["--json"], args].concat());
    ok(&out);
    json_out(&out)
}

#[test]
fn echo_broker_full_lifecycle_synchronous_plan() {
    let echo = Echo::start();
    let url = echo.url();
    let out = osb(&url, &["catalog"]);
    ok(&out);
    let s = text(&out.stdout);
    assert!(s.lines().nth(1).unwrap().starts_with("echo "), "{s}");
    assert!(s.contains("small") && s.contains("large"), "{s}");

    let v = echo_json(
        &url,
        &[
            "provision",
            "e-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--params",
            r#"{"x":1}"#,
        ],
    );
    assert_eq!(v["status"], "created");
    assert_eq!(v["dashboard_url"], "http://dash.test/echo/e-1");
    let v = echo_json(&url, &["instance", "e-1"]);
    assert_eq!(v["plan_id"], "1f0a8d6c-2f4e-4a55-8e1b-3c6b5a7d9e02");
    let v = echo_json(
        &url,
        &["update", "e-1", "--service", "echo", "--params", r#"{"x":2}"#],
    );
    assert_eq!(v["status"], "updated");
    let v = echo_json(
        &url,
        &[
            "bind",
            "e-1",
            "b-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--params",
            r#"{"k":"v"}"#,
        ],
    );
    assert_eq!(v["status"], "created");
    assert_eq!(v["binding"]["credentials"]["uri"], "echo://e-1/b-1");
    assert_eq!(v["binding"]["credentials"]["echo"]["k"], "v");
    let v = echo_json(&url, &["binding", "e-1", "b-1"]);
    assert_eq!(v["credentials"]["uri"], "echo://e-1/b-1");
    let v = echo_json(
        &url,
        &["unbind", "e-1", "b-1", "--service", "echo", "--plan", "small"],
    );
    assert_eq!(v["status"], "deleted");
    let v = echo_json(
        &url,
        &["deprovision", "e-1", "--service", "echo", "--plan", "small"],
    );
    assert_eq!(v["status"], "deleted");
    let v = echo_json(
        &url,
        &["deprovision", "e-1", "--service", "echo", "--plan", "small"],
    );
    assert_eq!(v["status"], "gone", "B68: 410 means already deleted");
    // the instance is gone for the broker too
    let out = osb(&url, &["instance", "e-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: broker answered 404"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn echo_broker_bind_unbind_deprovision_look_up_service_and_plan_from_the_instance() {
    let echo = Echo::start();
    let url = echo.url();
    let v = echo_json(
        &url,
        &[
            "provision",
            "l-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert_eq!(v["state"], "succeeded");
    // neither --service nor --plan: GET the instance (echo is instances_retrievable)
    let v = echo_json(&url, &["bind", "l-1", "b-1", "--wait"]);
    assert_eq!(v["binding"]["credentials"]["uri"], "echo://l-1/b-1");
    assert_eq!(v["plan_id"], osb_examples::echo_ids::LARGE);
    assert_eq!(v["service_id"], osb_examples::echo_ids::SERVICE);
    let v = echo_json(&url, &["unbind", "l-1", "b-1", "--wait"]);
    assert_eq!(v["plan_id"], osb_examples::echo_ids::LARGE);
    assert!(matches!(v["state"].as_str(), Some("succeeded" | "gone")), "{v}");
    // --service alone: the plan still comes from the instance
    let v = echo_json(&url, &["deprovision", "l-1", "--service", "echo", "--wait"]);
    assert_eq!(v["plan_id"], osb_examples::echo_ids::LARGE);
    assert!(matches!(v["state"].as_str(), Some("succeeded" | "gone")), "{v}");
    // an instance the broker does not have: its 404, printed once
    let out = osb(&url, &["deprovision", "l-1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: broker answered 404"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn echo_broker_full_lifecycle_asynchronous_plan() {
    let echo = Echo::start();
    let url = echo.url();
    let v = echo_json(
        &url,
        &[
            "provision",
            "a-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert_eq!(
        (v["status"].as_str(), v["state"].as_str()),
        (Some("accepted"), Some("succeeded"))
    );
    let v = echo_json(
        &url,
        &[
            "bind",
            "a-1",
            "b-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["binding"]["credentials"]["uri"], "echo://a-1/b-1");
    let v = echo_json(
        &url,
        &[
            "update",
            "a-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--params",
            r#"{"y":1}"#,
            "--wait",
        ],
    );
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["state"], "succeeded");
    let v = echo_json(
        &url,
        &[
            "unbind",
            "a-1",
            "b-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert_eq!(v["status"], "accepted");
    assert!(matches!(v["state"].as_str(), Some("succeeded" | "gone")), "{v}");
    let v = echo_json(
        &url,
        &[
            "deprovision",
            "a-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert_eq!(v["status"], "accepted");
    assert!(matches!(v["state"].as_str(), Some("succeeded" | "gone")), "{v}");

    // without --wait: accepted, then last-operation with the echoed operation
    let v = echo_json(
        &url,
        &["provision", "a-2", "--service", "echo", "--plan", "large"],
    );
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["state"], serde_json::Value::Null);
    let mut args = vec!["last-operation", "a-2"];
    if let Some(op) = v["operation"].as_str() {
        args.extend(["--operation", op]);
    }
    let lo = echo_json(&url, &args);
    assert!(
        matches!(lo["state"].as_str(), Some("in progress" | "succeeded")),
        "{lo}"
    );
}
