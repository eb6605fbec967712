//! `osb check` as a user runs it: the real binary against the derived echo broker on a real
//! socket; exit codes, the text lines, `--json` and `--junit`.

use std::process::{Command, Output};
use std::time::Duration;

const USER: &str = "admin";
const PASSWORD: &str = "test-password";

/// The echo broker (Basic auth) on a runtime that keeps serving while the test blocks on
/// the binary.
fn echo() -> (tokio::runtime::Runtime, String) {
    echo_with(|s| s.basic_auth(USER, PASSWORD))
}

type EchoServer = osb_server_mini::Server<osb_examples::echo::EchoBroker>;

/// [`echo`] with the server configured by `configure`.
fn echo_with(configure: impl FnOnce(EchoServer) -> EchoServer) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let running = rt.block_on(async {
        configure(osb_server_mini::Server::new(osb_examples::echo::EchoBroker::new(
            "http://dash.test",
            Duration::from_millis(800),
        )))
        .spawn("127.0.0.1:0")
        .await
        .expect("echo broker starts")
    });
    let url = running.url();
    // served until the runtime is dropped
    std::mem::forget(running);
    (rt, url)
}

fn osb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osb"))
        .args(args)
        .env_remove("OSB_BROKER_URL")
        .env_remove("OSB_USERNAME")
        .env_remove("OSB_PASSWORD")
        .output()
        .expect("osb runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_passes_the_echo_broker_and_writes_junit() {
    let (_rt, url) = echo();
    let junit = std::env::temp_dir().join(format!("osbcheck-junit-{}.xml", std::process::id()));
    let out = osb(&[
        "check",
        "--url",
        &url,
        "-u",
        USER,
        "-p",
        PASSWORD,
        "--junit",
        junit.to_str().expect("path"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("PASS A38,A43,A50      provision.created"),
        "{stdout}"
    );
    // the echo broker's `small` plan is binding_rotatable
    assert!(stdout.contains("PASS A108             bind.rotation"), "{stdout}");
    assert!(
        stdout.contains("plans: sync: echo/small, async: echo/large"),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 failed, 0 warnings,"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"osb.provision\" name=\"provision.created [A38,A43,A50]"),
        "{xml}"
    );
    assert!(!xml.contains("no chosen plan is binding_rotatable"), "{xml}");
    for s in [&stdout, &text(&out.stderr), &xml] {
        assert!(!s.contains(PASSWORD), "the password leaked");
    }
    let _ = std::fs::remove_file(junit);
}

#[test]
fn check_json_is_one_object_and_a_failed_must_exits_1() {
    let (_rt, url) = echo();
    let out = osb(&[
        "check",
        "--url",
        &url,
        "-u",
        USER,
        "-p",
        PASSWORD,
        "--json",
        "--only",
        "catalog,a135",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["passed"], true);
    let names: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["check"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "catalog.fetch",
            "catalog.valid",
            "catalog.stable_ids",
            "async.deprovision",
            "deprovision.gone"
        ]
    );
    assert_eq!(v["results"][0]["level"], "MUST");
    assert_eq!(v["summary"]["fail"], 0);

    // wrong credentials: the catalog fails (a MUST), the rest is skipped, exit 1
    let out = osb(&[
        "check",
        "--url",
        &url,
        "-u",
        USER,
        "-p",
        "not-the-password",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["passed"], false);
    assert_eq!(v["results"][0]["status"], "FAIL");
    assert!(
        v["results"][0]["got"]
            .as_str()
            .is_some_and(|g| g.starts_with("401")),
        "{v}"
    );
    assert!(!text(&out.stdout).contains("not-the-password"));
}

#[test]
fn check_without_url_is_a_usage_error_and_list_shows_every_check() {
    let out = osb(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no broker URL"));
    let out = osb(&["check", "--list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = v.as_array().expect("array");
    assert_eq!(list.len(), osb_conformance_count());
    assert!(
        list.iter()
            .all(|c| c["items"].as_array().is_some_and(|i| !i.is_empty()))
    );
}

/// How many checks the library defines (from `osb check --list`).
fn osb_conformance_count() -> usize {
    let out = osb(&["check", "--list"]);
    text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("    requires:"))
        .count()
}

#[test]
fn check_authenticates_with_a_bearer_token() {
    let (_rt, url) = echo_with(|s| s.authenticator(osb_server_mini::auth::BearerToken::new("check-token")));
    let out = osb(&[
        "check",
        "--url",
        &url,
        "--token",
        "check-token",
        "--only",
        "auth",
        "--only",
        "catalog",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    // the auth checks ran (a wrong token and none are refused), not skipped
    for check in ["auth.required", "auth.challenge"] {
        let line = stdout.lines().find(|l| l.contains(check)).unwrap_or_default();
        assert!(line.starts_with("PASS"), "{check}: {stdout}");
    }
    assert!(
        !stdout.contains("check-token"),
        "the token is never printed: {stdout}"
    );
    // a wrong token: the catalog cannot be read, so the run fails
    let out = osb(&["check", "--url", &url, "--token", "wrong", "--only", "catalog"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // a token and Basic credentials together are a usage error
    let out = osb(&["check", "--url", &url, "--token", "t", "-u", USER, "-p", PASSWORD]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot be used together"),
        "{}",
        text(&out.stderr)
    );
}
