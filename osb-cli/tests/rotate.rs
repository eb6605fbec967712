//! `osb rotate` as a user runs it: the real binary against the derived echo broker, whose
//! `small` plan is binding_rotatable and whose bindings carry expires_at / renew_before.

use std::process::{Command, Output};
use std::time::Duration;

use osb_examples::echo_ids::{SERVICE, SMALL};

const USER: &str = "admin";
const PASSWORD: &str = "test-password";

/// The echo broker (bindings valid for 10 hours) on a runtime that keeps serving while the
/// test blocks on the binary.
fn echo() -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let running = rt.block_on(async {
        let broker = osb_examples::echo::EchoBroker::new("http://dash.test", Duration::from_millis(50))
            .with_binding_lifetime(Duration::from_secs(10 * 3600));
        osb_server_mini::Server::new(broker)
            .basic_auth(USER, PASSWORD)
            .spawn("127.0.0.1:0")
            .await
            .expect("echo broker starts")
    });
    let url = running.url();
    std::mem::forget(running);
    (rt, url)
}

fn osb(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osb"))
        .args(["--url", url, "-u", USER, "-p", PASSWORD, "--json"])
        .args(args)
        .env_remove("OSB_BROKER_URL")
        .env_remove("OSB_USERNAME")
        .env_remove("OSB_PASSWORD")
        .output()
        .expect("osb runs")
}

fn json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn bound(url: &str) {
    let out = osb(url, &["provision", "i-1", "--service", "echo", "--plan", "small"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", json(&out));
    let out = osb(url, &["bind", "i-1", "b-1", "--params", r#"{"k":"v"}"#]);
    assert_eq!(out.status.code(), Some(0), "{:?}", json(&out));
}

#[test]
fn a108_osb_rotate_creates_the_successor_and_keeps_the_predecessor() {
    let (_rt, url) = echo();
    bound(&url);
    let out = osb(&url, &["rotate", "i-1", "b-1", "--to", "b-2"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", json(&out));
    let v = json(&out);
    assert_eq!(v["status"], "created");
    assert_eq!(v["binding_id"], "b-2");
    assert_eq!(v["predecessor_binding_id"], "b-1");
    assert_eq!(v["service_id"], SERVICE);
    assert_eq!(v["plan_id"], SMALL);
    assert_eq!(v["binding"]["credentials"]["uri"], "echo://i-1/b-2");
    assert_eq!(v["binding"]["credentials"]["echo"]["k"], "v");
    assert!(v["binding"]["metadata"]["renew_before"].is_string(), "{v}");
    let old = json(&osb(&url, &["binding", "i-1", "b-1"]));
    assert_eq!(
        old["credentials"]["uri"], "echo://i-1/b-1",
        "the predecessor still works"
    );
}

#[test]
fn b61_osb_rotate_if_due_sends_nothing_before_renew_before() {
    let (_rt, url) = echo();
    bound(&url);
    let out = osb(&url, &["rotate", "i-1", "b-1", "--to", "b-2", "--if-due"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", json(&out));
    let v = json(&out);
    assert_eq!(v["status"], "not due");
    assert!(
        v["renew_before"].is_string() && v["expires_at"].is_string(),
        "{v}"
    );
    let missing = osb(&url, &["binding", "i-1", "b-2"]);
    assert_eq!(missing.status.code(), Some(1), "no successor was created");
    assert_eq!(json(&missing)["status"], 404);
}

#[test]
fn b60_osb_rotate_refuses_a_plan_that_is_not_binding_rotatable_before_sending() {
    let (_rt, url) = echo();
    let out = osb(
        &url,
        &[
            "provision",
            "i-9",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", json(&out));
    let out = osb(&url, &["rotate", "i-9", "b-1", "--to", "b-2"]);
    assert_eq!(out.status.code(), Some(2), "{:?}", json(&out));
    let v = json(&out);
    assert!(
        v["description"]
            .as_str()
            .is_some_and(|d| d.contains("not binding_rotatable")),
        "{v}"
    );
}
