//! Broker state survives `kill -9`: the echo broker runs as a real child process on a real
//! SQLite file, is killed with SIGKILL in the middle of its work, and is started again on the
//! same file. Every answer afterwards, and how often the broker's own code ran (its call log,
//! `OSB_CALL_LOG`), is checked — with the broker's `resume` and without it (`OSB_RESUME=0`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use osb_tests::echo_ids::{LARGE, SERVICE, SMALL};
use reqwest::Method;
use serde_json::{Value, json};

/// The echo broker example binary, built once if a test run has not built it yet.
fn echo_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let debug = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/debug")
            .to_path_buf();
        let bin = debug.join("examples").join("echo_broker");
        if !bin.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "osb-examples", "--example", "echo_broker"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the echo broker failed");
        }
        bin
    })
}

/// A broker process; killed (SIGKILL) when dropped.
struct Broker {
    child: Child,
    url: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("osb-crash-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    Dir(dir)
}

/// Starts the echo broker on the state file of `dir`, waits until it answers.
async fn start(dir: &Path, env: &[(&str, String)]) -> Broker {
    for _ in 0..20 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut cmd = Command::new(echo_binary());
        cmd.env("OSB_LISTEN", format!("127.0.0.1:{port}"))
            .env("OSB_PASSWORD", "crash-password")
            .env("OSB_STATE", dir.join("state.sqlite"))
            .env("OSB_CALL_LOG", dir.join("calls"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("echo broker starts");
        let broker = Broker {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok((200, _)) = request(&broker.url, Method::GET, "/v2/catalog", None).await {
                return broker;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        // The port was taken between probing and binding, or the file still locked: retry.
    }
    panic!("the echo broker did not start");
}

async fn request(
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Result<(u16, Value)> {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("X-Broker-API-Version", "2.17")
        .basic_auth("admin", Some("crash-password"))
        .timeout(Duration::from_secs(10));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let bytes = res.bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, body))
}

async fn call(base: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    request(base, method, path, body)
        .await
        .expect("the broker answers")
}

fn provision_body(plan: &str) -> Value {
    json!({"service_id": SERVICE, "plan_id": plan, "organization_guid": "org", "space_guid": "space"})
}

fn bind_body(plan: &str) -> Value {
    json!({"service_id": SERVICE, "plan_id": plan})
}

/// How many times the broker's own code logged `line` (e.g. `provision i-1 `).
fn calls(dir: &Path, line: &str) -> usize {
    std::fs::read_to_string(dir.join("calls"))
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == line)
        .count()
}

/// Waits until the call log has `line`.
async fn wait_for_call(dir: &Path, line: &str) {
    for _ in 0..1000 {
        if calls(dir, line) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the broker never logged {line:?}");
}

/// Polls last_operation until it is no longer `in progress` (bounded: never forever).
async fn final_state(base: &str, path: &str) -> (u16, Value) {
    for _ in 0..400 {
        let (status, body) = call(base, Method::GET, path, None).await;
        if !(status == 200 && body["state"] == "in progress") {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{path} stayed in progress");
}

fn q(plan: &str) -> String {
    format!("service_id={SERVICE}&plan_id={plan}")
}

/// The restart scenario of the issue: provision i-1 (sync), bind b-1, start an async
/// provision of i-2, `kill -9`, start again on the same file.
async fn restart_scenario(resume: bool) {
    let dir = temp_dir(if resume { "scenario" } else { "scenario-noresume" });
    let mut env = vec![("OSB_ASYNC_DELAY_MS", "60000".to_owned())];
    if !resume {
        env.push(("OSB_RESUME", "0".to_owned()));
    }
    let first = start(&dir.0, &env).await;
    let i = "/v2/service_instances/i-1";
    assert_eq!(
        call(&first.url, Method::PUT, i, Some(provision_body(SMALL)))
            .await
            .0,
        201
    );
    let b = "/v2/service_instances/i-1/service_bindings/b-1";
    let (status, bound) = call(&first.url, Method::PUT, b, Some(bind_body(SMALL))).await;
    assert_eq!(status, 201);
    let (status, started) = call(
        &first.url,
        Method::PUT,
        "/v2/service_instances/i-2?accepts_incomplete=true",
        Some(provision_body(LARGE)),
    )
    .await;
    assert_eq!(status, 202);
    let operation = started["operation"].as_str().expect("operation").to_owned();
    drop(first); // SIGKILL, while i-2's provision runs

    env[0].1 = "200".to_owned();
    let second = start(&dir.0, &env).await;
    // The instance is still there.
    let (status, got) = call(&second.url, Method::GET, i, None).await;
    assert_eq!((status, got["plan_id"].as_str()), (200, Some(SMALL)), "{got}");
    // The async provision is never lost: it finished (resumed) or failed (not resumable).
    let (status, lo) = final_state(
        &second.url,
        &format!("/v2/service_instances/i-2/last_operation?operation={operation}"),
    )
    .await;
    assert_eq!(status, 200, "{lo}");
    assert_eq!(
        calls(&dir.0, "resume-provision i-2 "),
        1,
        "resume was offered once"
    );
    if resume {
        assert_eq!(lo["state"], "succeeded", "{lo}");
        assert_eq!(
            calls(&dir.0, "provision-done i-2 "),
            1,
            "the resumed work ran once"
        );
    } else {
        assert_eq!(lo["state"], "failed", "{lo}");
        assert!(
            lo["description"]
                .as_str()
                .unwrap_or("")
                .contains("interrupted by a restart"),
            "{lo}"
        );
        // A failed provision can be deleted: the orphan-mitigation DELETE reaches the broker.
        let (status, _) = call(
            &second.url,
            Method::DELETE,
            &format!("/v2/service_instances/i-2?{}&accepts_incomplete=true", q(LARGE)),
            None,
        )
        .await;
        assert!(status == 200 || status == 202, "{status}");
        assert_eq!(calls(&dir.0, "deprovision i-2 "), 1);
    }
    // An identical provision is 200, and the broker is not called again.
    assert_eq!(
        call(&second.url, Method::PUT, i, Some(provision_body(SMALL)))
            .await
            .0,
        200
    );
    assert_eq!(calls(&dir.0, "provision i-1 "), 1, "provision ran once");
    // The binding is still there with its credentials.
    let (status, fetched) = call(&second.url, Method::GET, b, None).await;
    assert_eq!((status, &fetched["credentials"]), (200, &bound["credentials"]));
    // Unbind and deprovision reach the broker (credentials revoked, resources freed).
    let (status, _) = call(&second.url, Method::DELETE, &format!("{b}?{}", q(SMALL)), None).await;
    assert_eq!(status, 200);
    assert_eq!(calls(&dir.0, "unbind i-1 b-1"), 1, "the broker's unbind ran");
    let (status, _) = call(&second.url, Method::DELETE, &format!("{i}?{}", q(SMALL)), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        calls(&dir.0, "deprovision i-1 "),
        1,
        "the broker's deprovision ran"
    );
}

#[tokio::test]
async fn restart_scenario_with_resume_answers_from_the_records() {
    restart_scenario(true).await;
}

#[tokio::test]
async fn restart_scenario_without_resume_fails_the_interrupted_operation() {
    restart_scenario(false).await;
}

#[tokio::test]
async fn kill_during_a_synchronous_provision_is_recovered_and_never_stays_in_progress() {
    for resume in [true, false] {
        let dir = temp_dir("sync-provision");
        let mut env = vec![("OSB_SYNC_DELAY_MS", "60000".to_owned())];
        if !resume {
            env.push(("OSB_RESUME", "0".to_owned()));
        }
        let first = start(&dir.0, &env).await;
        let url = format!("{}/v2/service_instances/s-1", first.url);
        let pending = tokio::spawn(async move {
            reqwest::Client::new()
                .put(url)
                .header("X-Broker-API-Version", "2.17")
                .basic_auth("admin", Some("crash-password"))
                .header("content-type", "application/json")
                .body(provision_body(SMALL).to_string())
                .send()
                .await
        });
        wait_for_call(&dir.0, "provision s-1 ").await;
        drop(first); // SIGKILL inside the broker's provision
        assert!(
            pending.await.expect("task").is_err(),
            "the Platform got no answer"
        );

        env[0].1 = "0".to_owned();
        let second = start(&dir.0, &env).await;
        let (status, lo) = final_state(&second.url, "/v2/service_instances/s-1/last_operation").await;
        assert_eq!(status, 200, "{lo}");
        assert_eq!(calls(&dir.0, "resume-provision s-1 "), 1, "resume offered once");
        if resume {
            assert_eq!(lo["state"], "succeeded", "{lo}");
            // The Platform retries: identical provision is 200, the broker not called again.
            let (status, _) = call(
                &second.url,
                Method::PUT,
                "/v2/service_instances/s-1",
                Some(provision_body(SMALL)),
            )
            .await;
            assert_eq!(status, 200);
        } else {
            assert_eq!(lo["state"], "failed", "{lo}");
            // The Platform's orphan mitigation: the DELETE reaches the broker.
            let (status, _) = call(
                &second.url,
                Method::DELETE,
                &format!("/v2/service_instances/s-1?{}", q(SMALL)),
                None,
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(calls(&dir.0, "deprovision s-1 "), 1);
        }
        assert_eq!(
            calls(&dir.0, "provision s-1 "),
            1,
            "the broker's provision ran once"
        );
    }
}

#[tokio::test]
async fn kill_during_an_async_deprovision_finishes_it_after_the_restart() {
    for resume in [true, false] {
        let dir = temp_dir("async-deprovision");
        let mut env = vec![("OSB_ASYNC_DELAY_MS", "100".to_owned())];
        if !resume {
            env.push(("OSB_RESUME", "0".to_owned()));
        }
        let first = start(&dir.0, &env).await;
        let path = "/v2/service_instances/d-1";
        let (status, _) = call(
            &first.url,
            Method::PUT,
            &format!("{path}?accepts_incomplete=true"),
            Some(provision_body(LARGE)),
        )
        .await;
        assert_eq!(status, 202);
        let (status, lo) = final_state(&first.url, &format!("{path}/last_operation")).await;
        assert_eq!((status, &lo["state"]), (200, &json!("succeeded")));
        drop(first);
        env[0].1 = "60000".to_owned();
        let second = start(&dir.0, &env).await;
        let (status, del) = call(
            &second.url,
            Method::DELETE,
            &format!("{path}?{}&accepts_incomplete=true", q(LARGE)),
            None,
        )
        .await;
        assert_eq!(status, 202, "{del}");
        let operation = del["operation"].as_str().expect("operation").to_owned();
        drop(second); // SIGKILL during the delete

        env[0].1 = "100".to_owned();
        let third = start(&dir.0, &env).await;
        let (status, lo) = final_state(
            &third.url,
            &format!("{path}/last_operation?operation={operation}"),
        )
        .await;
        assert_eq!(calls(&dir.0, "resume-deprovision d-1 "), 1);
        if resume {
            assert_eq!((status, &lo["state"]), (200, &json!("succeeded")), "{lo}");
            assert_eq!(call(&third.url, Method::GET, path, None).await.0, 404, "deleted");
        } else {
            // The delete failed; the instance is usable and can be deleted again.
            assert_eq!((status, &lo["state"]), (200, &json!("failed")), "{lo}");
            assert_eq!(lo["instance_usable"], true, "{lo}");
            assert_eq!(
                call(&third.url, Method::GET, path, None).await.0,
                200,
                "still there"
            );
        }
    }
}

#[tokio::test]
async fn kill_during_a_bind_leaves_no_operation_behind() {
    let dir = temp_dir("bind");
    let env = vec![
        ("OSB_SYNC_DELAY_MS", "0".to_owned()),
        ("OSB_ASYNC_DELAY_MS", "100".to_owned()),
    ];
    let first = start(&dir.0, &env).await;
    let i = "/v2/service_instances/bi-1";
    let (status, _) = call(
        &first.url,
        Method::PUT,
        &format!("{i}?accepts_incomplete=true"),
        Some(provision_body(LARGE)),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        final_state(&first.url, &format!("{i}/last_operation")).await.1["state"],
        "succeeded"
    );
    drop(first);
    let slow = vec![("OSB_ASYNC_DELAY_MS", "60000".to_owned())];
    let second = start(&dir.0, &slow).await;
    let b = format!("{i}/service_bindings/bb-1");
    let (status, _) = call(
        &second.url,
        Method::PUT,
        &format!("{b}?accepts_incomplete=true"),
        Some(bind_body(LARGE)),
    )
    .await;
    assert_eq!(status, 202);
    drop(second); // SIGKILL while the async bind runs

    let third = start(&dir.0, &env).await;
    let (status, lo) = final_state(&third.url, &format!("{b}/last_operation")).await;
    assert_eq!((status, &lo["state"]), (200, &json!("succeeded")), "{lo}");
    assert_eq!(calls(&dir.0, "resume-bind bi-1 bb-1"), 1);
    let (status, got) = call(&third.url, Method::GET, &b, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["credentials"]["uri"], "echo://bi-1/bb-1", "{got}");
    assert_eq!(calls(&dir.0, "bind bi-1 bb-1"), 1, "the broker's bind ran once");
}

/// A store that fails (a full database) is answered 503 with a JSON body, the broker's code
/// does not run, and the same request succeeds once the store works again.
#[tokio::test]
async fn a_failing_store_is_503_json_and_the_server_recovers_by_itself() {
    let dir = temp_dir("store-failure");
    let store = osb_server_mini::store::SqliteStore::open(dir.0.join("state.sqlite")).expect("open");
    let broker = osb_examples::echo::EchoBroker::new("http://dash.test", Duration::from_millis(50))
        .with_call_log(dir.0.join("calls"));
    let running = osb_server_mini::Server::new(broker)
        .basic_auth("admin", "crash-password")
        .store(store.clone())
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    let me = running.url();
    // Fill the database to a tiny cap with other instances' records.
    store.set_max_size(48 * 1024);
    let mut n = 0;
    let (status, body) = loop {
        let (status, body) = call(
            &me,
            Method::PUT,
            &format!("/v2/service_instances/fill-{n}"),
            Some(provision_body(SMALL)),
        )
        .await;
        if status != 201 {
            break (status, body);
        }
        n += 1;
        assert!(n < 5_000, "the cap never took effect");
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "StoreUnavailable", "{body}");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        calls(&dir.0, &format!("provision fill-{n} ")),
        0,
        "the intent could not be written, so the broker did not run"
    );
    store.set_max_size(1 << 30);
    let (status, _) = call(
        &me,
        Method::PUT,
        &format!("/v2/service_instances/fill-{n}"),
        Some(provision_body(SMALL)),
    )
    .await;
    assert_eq!(status, 201, "the server serves again without a restart");
    assert_eq!(calls(&dir.0, &format!("provision fill-{n} ")), 1);
}
