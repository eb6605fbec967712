//! Broker state survives `kill -9` (issue 11): the echo broker runs as a real child process
//! on an SQLite file in a temporary directory, is killed with `SIGKILL` in the middle of an
//! operation, and is started again on the same file. Every endpoint is then asked over real
//! sockets, and the echo broker's call log counts how many times the broker's own code ran,
//! with a `resume` operation and without one (`OSB_RESUME=0`).
//!
//! No test bounds how fast anything must be; waits are bounded only by a generous hang guard
//! (an operation `in progress` past it fails the test: nothing may stay in progress forever).

use osb_tests::process::{CallLog, CrashDir, EchoProcess, LARGE, Launch, SMALL, operation_of};
use serde_json::Value;

/// The description of an operation a restart interrupted and the broker could not resume.
const INTERRUPTED: &str =
    "The operation was interrupted by a restart of the service broker and could not be resumed.";

fn assert_interrupted(body: &Value) {
    assert_eq!(body["state"], "failed", "{body}");
    assert_eq!(body["description"], INTERRUPTED, "{body}");
}

/// Starts a request in the background that the kill will cut off; returns once the broker's
/// own code is running it (`what instance binding` in the call log).
async fn kill_during<F>(
    process: EchoProcess,
    log: &CallLog,
    what: &str,
    instance: &str,
    binding: &str,
    request: F,
) where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let pending = tokio::spawn(request);
    log.wait_for(what, instance, binding, 1).await;
    process.kill9();
    // The request was cut off by the kill (no answer), or — never for the slow plans used
    // here — answered before it; either way it is over.
    let _ = pending.await;
}

// ---------------------------------------------------------------------------------------
// kill -9 during a synchronous provision
// ---------------------------------------------------------------------------------------

async fn kill_during_sync_provision(resume: bool) -> (CrashDir, EchoProcess) {
    let dir = CrashDir::new("sync-provision");
    let log = dir.call_log();
    let first = EchoProcess::start(&dir, Launch::default().slow()).await;
    let api = first.api.clone();
    kill_during(first, &log, "provision", "i-1", "", async move {
        // Killed inside the broker call: no answer.
        let answer = api
            .try_send(
                reqwest::Method::PUT,
                "/v2/service_instances/i-1",
                Some(&serde_json::json!({
                    "service_id": osb_tests::process::SERVICE,
                    "plan_id": SMALL,
                    "organization_guid": "org",
                    "space_guid": "space",
                    "parameters": {"size": 1},
                })),
            )
            .await;
        assert!(
            answer.is_err(),
            "the provision answered before the kill: {answer:?}"
        );
    })
    .await;
    let second = EchoProcess::start(&dir, Launch::default().resume(resume)).await;
    (dir, second)
}

#[tokio::test]
async fn kill9_during_sync_provision_with_resume_ends_succeeded_and_identical_put_is_200_without_the_broker()
{
    let (dir, broker) = kill_during_sync_provision(true).await;
    let log = dir.call_log();
    let api = &broker.api;

    // The interrupted synchronous call became an operation of its own, reported by
    // last_operation (finished, never left in progress).
    let last = api.await_operation("i-1", "", None).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("resume-provision", "i-1", ""), 1, "{:?}", log.lines());

    let (status, body) = api.instance("i-1").await;
    assert_eq!(status, 200, "GET instance after recovery: {body}");
    assert_eq!(body["plan_id"], SMALL, "{body}");

    // The Platform retries the provision it never got an answer for: 200, no second call.
    let (status, body) = api.provision("i-1", SMALL, false).await;
    assert_eq!(status, 200, "identical PUT after recovery: {body}");
    assert_eq!(log.count("provision", "i-1", ""), 1, "{:?}", log.lines());

    let (status, body) = api.deprovision("i-1", SMALL, false).await;
    assert_eq!(status, 200, "deprovision after recovery: {body}");
    assert_eq!(log.count("deprovision", "i-1", ""), 1, "{:?}", log.lines());
    assert_eq!(api.instance("i-1").await.0, 404);
}

#[tokio::test]
async fn kill9_during_sync_provision_without_resume_fails_and_the_orphan_mitigation_delete_reaches_the_broker()
 {
    let (dir, broker) = kill_during_sync_provision(false).await;
    let log = dir.call_log();
    let api = &broker.api;

    assert_interrupted(&api.await_operation("i-1", "", None).await);
    // A failed provision is not an instance (spec: GET answers 404 until it exists).
    let (status, body) = api.instance("i-1").await;
    assert_eq!(status, 404, "GET of a failed provision: {body}");

    // Orphan mitigation: the DELETE reaches the broker's deprovision (no 410).
    let (status, body) = api.deprovision("i-1", SMALL, false).await;
    assert_eq!(status, 200, "orphan-mitigation DELETE: {body}");
    assert_eq!(log.count("deprovision", "i-1", ""), 1, "{:?}", log.lines());
    assert_eq!(log.count("provision", "i-1", ""), 1, "{:?}", log.lines());
    assert_eq!(api.instance("i-1").await.0, 404);
    let (status, _) = api.deprovision("i-1", SMALL, false).await;
    assert_eq!(status, 410, "the instance is gone after the mitigation");
}

// ---------------------------------------------------------------------------------------
// kill -9 during an asynchronous provision
// ---------------------------------------------------------------------------------------

async fn kill_during_async_provision(resume: bool) -> (CrashDir, EchoProcess, String) {
    let dir = CrashDir::new("async-provision");
    let log = dir.call_log();
    let first = EchoProcess::start(&dir, Launch::default().slow()).await;
    let accepted = first.api.provision("i-2", LARGE, true).await;
    assert_eq!(accepted.0, 202, "{accepted:?}");
    let op = operation_of(&accepted);
    log.wait_for("provision", "i-2", "", 1).await;
    first.kill9();
    let second = EchoProcess::start(&dir, Launch::default().resume(resume)).await;
    (dir, second, op)
}

#[tokio::test]
async fn kill9_during_async_provision_with_resume_a_last_operation_ends_succeeded_and_resume_runs_once() {
    let (dir, broker, op) = kill_during_async_provision(true).await;
    let log = dir.call_log();
    let api = &broker.api;

    let last = api.await_operation("i-2", "", Some(&op)).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("resume-provision", "i-2", ""), 1, "{:?}", log.lines());
    assert_eq!(log.count("provision-done", "i-2", ""), 1, "{:?}", log.lines());

    let (status, body) = api.instance("i-2").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.provision("i-2", LARGE, true).await;
    assert_eq!(status, 200, "identical PUT after the resumed provision: {body}");
    assert_eq!(log.count("provision", "i-2", ""), 1, "{:?}", log.lines());

    let deleting = api.deprovision("i-2", LARGE, true).await;
    assert_eq!(deleting.0, 202, "{deleting:?}");
    let delete_op = operation_of(&deleting);
    let last = api.await_operation("i-2", "", Some(&delete_op)).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("deprovision-done", "i-2", ""), 1, "{:?}", log.lines());
    assert_eq!(api.instance("i-2").await.0, 404);
    // Resume ran once in all: the sweeper does not recover the same work twice.
    assert_eq!(log.count("resume-provision", "i-2", ""), 1, "{:?}", log.lines());
}

#[tokio::test]
async fn kill9_during_async_provision_without_resume_a_last_operation_ends_failed_and_delete_reaches_the_broker()
 {
    let (dir, broker, op) = kill_during_async_provision(false).await;
    let log = dir.call_log();
    let api = &broker.api;

    assert_interrupted(&api.await_operation("i-2", "", Some(&op)).await);
    assert_eq!(log.count("provision-done", "i-2", ""), 0, "{:?}", log.lines());
    assert_eq!(
        api.instance("i-2").await.0,
        404,
        "a failed provision is no instance"
    );

    let deleting = api.deprovision("i-2", LARGE, true).await;
    assert_eq!(
        deleting.0, 202,
        "orphan-mitigation DELETE reaches the broker: {deleting:?}"
    );
    let last = api
        .await_operation("i-2", "", Some(&operation_of(&deleting)))
        .await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("deprovision", "i-2", ""), 1, "{:?}", log.lines());
    assert_eq!(log.count("deprovision-done", "i-2", ""), 1, "{:?}", log.lines());
}

// ---------------------------------------------------------------------------------------
// kill -9 during an asynchronous deprovision
// ---------------------------------------------------------------------------------------

async fn kill_during_async_deprovision(resume: bool) -> (CrashDir, EchoProcess, String) {
    let dir = CrashDir::new("async-deprovision");
    let log = dir.call_log();
    let first = EchoProcess::start(&dir, Launch::default()).await;
    let accepted = first.api.provision("i-3", LARGE, true).await;
    assert_eq!(accepted.0, 202, "{accepted:?}");
    let last = first
        .api
        .await_operation("i-3", "", Some(&operation_of(&accepted)))
        .await;
    assert_eq!(last["state"], "succeeded", "{last}");
    first.kill9();

    let second = EchoProcess::start(&dir, Launch::default().slow()).await;
    let deleting = second.api.deprovision("i-3", LARGE, true).await;
    assert_eq!(deleting.0, 202, "{deleting:?}");
    log.wait_for("deprovision", "i-3", "", 1).await;
    second.kill9();

    let third = EchoProcess::start(&dir, Launch::default().resume(resume)).await;
    (dir, third, operation_of(&deleting))
}

#[tokio::test]
async fn kill9_during_async_deprovision_with_resume_ends_succeeded_and_the_instance_is_gone() {
    let (dir, broker, op) = kill_during_async_deprovision(true).await;
    let log = dir.call_log();
    let api = &broker.api;

    let last = api.await_operation("i-3", "", Some(&op)).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("resume-deprovision", "i-3", ""), 1, "{:?}", log.lines());
    assert_eq!(log.count("deprovision-done", "i-3", ""), 1, "{:?}", log.lines());
    assert_eq!(api.instance("i-3").await.0, 404);
    let (status, _) = api.deprovision("i-3", LARGE, true).await;
    assert_eq!(status, 410, "the deleted instance is gone");
    assert_eq!(log.count("deprovision", "i-3", ""), 1, "{:?}", log.lines());
}

#[tokio::test]
async fn kill9_during_async_deprovision_without_resume_fails_instance_usable_and_a_new_delete_reaches_the_broker()
 {
    let (dir, broker, op) = kill_during_async_deprovision(false).await;
    let log = dir.call_log();
    let api = &broker.api;

    let last = api.await_operation("i-3", "", Some(&op)).await;
    assert_interrupted(&last);
    assert_eq!(last["instance_usable"], true, "{last}");
    assert_eq!(log.count("deprovision-done", "i-3", ""), 0, "{:?}", log.lines());
    let (status, body) = api.instance("i-3").await;
    assert_eq!(status, 200, "the instance is as it was: {body}");

    let deleting = api.deprovision("i-3", LARGE, true).await;
    assert_eq!(deleting.0, 202, "{deleting:?}");
    let last = api
        .await_operation("i-3", "", Some(&operation_of(&deleting)))
        .await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("deprovision", "i-3", ""), 2, "{:?}", log.lines());
    assert_eq!(api.instance("i-3").await.0, 404);
}

// ---------------------------------------------------------------------------------------
// kill -9 during a bind (synchronous on `small`, asynchronous on `large`)
// ---------------------------------------------------------------------------------------

async fn kill_during_sync_bind(resume: bool) -> (CrashDir, EchoProcess) {
    let dir = CrashDir::new("sync-bind");
    let log = dir.call_log();
    let first = EchoProcess::start(&dir, Launch::default()).await;
    let (status, body) = first.api.provision("i-4", SMALL, false).await;
    assert_eq!(status, 201, "{body}");
    first.kill9();

    let second = EchoProcess::start(&dir, Launch::default().slow()).await;
    let api = second.api.clone();
    kill_during(second, &log, "bind", "i-4", "b-1", async move {
        let answer = api
            .try_send(
                reqwest::Method::PUT,
                "/v2/service_instances/i-4/service_bindings/b-1",
                Some(&serde_json::json!({
                    "service_id": osb_tests::process::SERVICE,
                    "plan_id": SMALL,
                    "parameters": {"role": "reader"},
                })),
            )
            .await;
        assert!(answer.is_err(), "the bind answered before the kill: {answer:?}");
    })
    .await;
    let third = EchoProcess::start(&dir, Launch::default().resume(resume)).await;
    (dir, third)
}

#[tokio::test]
async fn kill9_during_sync_bind_with_resume_the_binding_exists_and_identical_put_is_200_without_the_broker() {
    let (dir, broker) = kill_during_sync_bind(true).await;
    let log = dir.call_log();
    let api = &broker.api;

    let last = api.await_operation("i-4", "b-1", None).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("resume-bind", "i-4", "b-1"), 1, "{:?}", log.lines());

    let (status, body) = api.binding("i-4", "b-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["credentials"]["uri"], "echo://i-4/b-1", "{body}");
    assert_eq!(body["credentials"]["echo"]["role"], "reader", "{body}");

    let (status, again) = api.bind("i-4", "b-1", SMALL, false).await;
    assert_eq!(status, 200, "identical bind after recovery: {again}");
    assert_eq!(again["credentials"], body["credentials"]);
    assert_eq!(log.count("bind", "i-4", "b-1"), 1, "{:?}", log.lines());

    let (status, body) = api.unbind("i-4", "b-1", SMALL, false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(log.count("unbind", "i-4", "b-1"), 1, "{:?}", log.lines());
    assert_eq!(api.binding("i-4", "b-1").await.0, 404);
}

#[tokio::test]
async fn kill9_during_sync_bind_without_resume_fails_and_the_orphan_mitigation_unbind_reaches_the_broker() {
    let (dir, broker) = kill_during_sync_bind(false).await;
    let log = dir.call_log();
    let api = &broker.api;

    assert_interrupted(&api.await_operation("i-4", "b-1", None).await);
    let (status, body) = api.binding("i-4", "b-1").await;
    assert_eq!(status, 404, "a failed bind is no binding: {body}");

    let (status, body) = api.unbind("i-4", "b-1", SMALL, false).await;
    assert_eq!(status, 200, "orphan-mitigation unbind: {body}");
    assert_eq!(log.count("unbind", "i-4", "b-1"), 1, "{:?}", log.lines());
    assert_eq!(log.count("bind", "i-4", "b-1"), 1, "{:?}", log.lines());
    // The instance itself is untouched.
    assert_eq!(api.instance("i-4").await.0, 200);
}

async fn kill_during_async_bind(resume: bool) -> (CrashDir, EchoProcess, String) {
    let dir = CrashDir::new("async-bind");
    let log = dir.call_log();
    let first = EchoProcess::start(&dir, Launch::default()).await;
    let accepted = first.api.provision("i-5", LARGE, true).await;
    assert_eq!(accepted.0, 202, "{accepted:?}");
    let last = first
        .api
        .await_operation("i-5", "", Some(&operation_of(&accepted)))
        .await;
    assert_eq!(last["state"], "succeeded", "{last}");
    first.kill9();

    let second = EchoProcess::start(&dir, Launch::default().slow()).await;
    let binding = second.api.bind("i-5", "b-1", LARGE, true).await;
    assert_eq!(binding.0, 202, "{binding:?}");
    log.wait_for("bind", "i-5", "b-1", 1).await;
    second.kill9();

    let third = EchoProcess::start(&dir, Launch::default().resume(resume)).await;
    (dir, third, operation_of(&binding))
}

#[tokio::test]
async fn kill9_during_async_bind_with_resume_the_binding_last_operation_ends_succeeded_with_credentials() {
    let (dir, broker, op) = kill_during_async_bind(true).await;
    let log = dir.call_log();
    let api = &broker.api;

    let last = api.await_operation("i-5", "b-1", Some(&op)).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("resume-bind", "i-5", "b-1"), 1, "{:?}", log.lines());
    assert_eq!(log.count("bind-done", "i-5", "b-1"), 1, "{:?}", log.lines());

    let (status, body) = api.binding("i-5", "b-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["credentials"]["uri"], "echo://i-5/b-1", "{body}");
    assert_eq!(body["credentials"]["echo"]["role"], "reader", "{body}");

    let unbinding = api.unbind("i-5", "b-1", LARGE, true).await;
    assert_eq!(unbinding.0, 202, "{unbinding:?}");
    let last = api
        .await_operation("i-5", "b-1", Some(&operation_of(&unbinding)))
        .await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("unbind-done", "i-5", "b-1"), 1, "{:?}", log.lines());
    assert_eq!(api.binding("i-5", "b-1").await.0, 404);
}

#[tokio::test]
async fn kill9_during_async_bind_without_resume_fails_and_the_unbind_reaches_the_broker() {
    let (dir, broker, op) = kill_during_async_bind(false).await;
    let log = dir.call_log();
    let api = &broker.api;

    assert_interrupted(&api.await_operation("i-5", "b-1", Some(&op)).await);
    assert_eq!(log.count("bind-done", "i-5", "b-1"), 0, "{:?}", log.lines());
    assert_eq!(
        api.binding("i-5", "b-1").await.0,
        404,
        "a failed bind is no binding"
    );

    let unbinding = api.unbind("i-5", "b-1", LARGE, true).await;
    assert_eq!(
        unbinding.0, 202,
        "orphan-mitigation unbind reaches the broker: {unbinding:?}"
    );
    let last = api
        .await_operation("i-5", "b-1", Some(&operation_of(&unbinding)))
        .await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("unbind", "i-5", "b-1"), 1, "{:?}", log.lines());
}

// ---------------------------------------------------------------------------------------
// The restart table of issue 11, as one test
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn restart_scenario_of_issue_11_every_answer_comes_from_the_records() {
    let dir = CrashDir::new("restart-scenario");
    let log = dir.call_log();
    let slow_async = Launch {
        async_delay_ms: 20_000,
        ..Launch::default()
    };
    let before = EchoProcess::start(&dir, slow_async).await;
    let (status, body) = before.api.provision("i-1", SMALL, false).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = before.api.bind("i-1", "b-1", SMALL, false).await;
    assert_eq!(status, 201, "{body}");
    let accepted = before.api.provision("i-2", LARGE, true).await;
    assert_eq!(accepted.0, 202, "{accepted:?}");
    let op = operation_of(&accepted);
    before.kill9();

    let after = EchoProcess::start(&dir, Launch::default()).await;
    let api = &after.api;

    // `osb instance i-1`: 200 with the instance.
    let (status, body) = api.instance("i-1").await;
    assert_eq!(status, 200, "GET i-1 after kill -9: {body}");
    assert_eq!(body["plan_id"], SMALL, "{body}");

    // `osb last-operation i-2`: the operation, finished (resumed), never lost.
    let last = api.await_operation("i-2", "", Some(&op)).await;
    assert_eq!(last["state"], "succeeded", "{last}");

    // `osb provision i-1` (identical): 200, the broker not called.
    let (status, body) = api.provision("i-1", SMALL, false).await;
    assert_eq!(status, 200, "identical PUT i-1 after kill -9: {body}");
    assert_eq!(log.count("provision", "i-1", ""), 1, "{:?}", log.lines());

    // `osb unbind i-1 b-1`: the broker's unbind runs (credentials revoked), 200.
    let (status, body) = api.unbind("i-1", "b-1", SMALL, false).await;
    assert_eq!(status, 200, "unbind after kill -9: {body}");
    assert_eq!(log.count("unbind", "i-1", "b-1"), 1, "{:?}", log.lines());

    // `osb deprovision i-1`: the broker's deprovision runs (no leak), 200.
    let (status, body) = api.deprovision("i-1", SMALL, false).await;
    assert_eq!(status, 200, "deprovision after kill -9: {body}");
    assert_eq!(log.count("deprovision", "i-1", ""), 1, "{:?}", log.lines());

    // Ids are printed plainly in error descriptions.
    let (status, body) = api.instance("i-1").await;
    assert_eq!(status, 404, "{body}");
    if let Some(d) = body["description"].as_str() {
        assert!(d.contains("i-1") && !d.contains("InstanceId("), "{d}");
    }
}

// ---------------------------------------------------------------------------------------
// The window before recovery
// ---------------------------------------------------------------------------------------

/// While a synchronous provision's intent is recorded but has no outcome — the broker call
/// is running, or (after `kill -9`) the next process has not yet recovered it — the record
/// may still end `failed`: last_operation answers `in progress` (the state a recovered intent
/// becomes), never `succeeded` early. (It answered `succeeded`, which made the crash tests
/// above racy: right after a restart, before the sweep, a poll saw `succeeded` for a provision
/// that then ended `failed`.)
#[tokio::test]
async fn last_operation_of_a_sync_provision_whose_intent_has_no_outcome_is_in_progress() {
    use std::time::Duration;
    let dir = CrashDir::new("intent-window");
    let log = dir.call_log();
    let broker = osb_examples::echo::EchoBroker::new("http://dash.test", Duration::from_millis(50))
        .with_call_log(&log.path)
        .with_sync_delay(Duration::from_millis(800));
    let running = osb_server_mini::Server::new(broker)
        .basic_auth(osb_tests::USER, osb_tests::PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts");
    let api = osb_tests::process::Api::new(running.url(), osb_tests::USER, osb_tests::PASSWORD);
    let pending = {
        let api = api.clone();
        tokio::spawn(async move { api.provision("i-1", SMALL, false).await })
    };
    log.wait_for("provision", "i-1", "", 1).await;
    let (status, body) = api.last_operation("i-1", "", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["state"], "in progress",
        "last_operation during the provision: {body}"
    );
    assert_eq!(pending.await.expect("request").0, 201);
    running.shutdown().await;
}
