//! Graceful shutdown (issue 11): it stops accepting, lets in-flight requests finish, gives
//! background work a grace period, and leaves what still runs to be recovered by the next
//! server on the same state file.

use std::time::Duration;

use osb_examples::echo::EchoBroker;
use osb_server_mini::store::SqliteStore;
use osb_server_mini::{Running, Server};
use osb_tests::process::{Api, CallLog, CrashDir, HANG_GUARD, LARGE, SMALL, operation_of};
use osb_tests::{PASSWORD, USER};

/// Opens the state file, waiting (bounded) until the previous server has let go of it.
async fn open(dir: &CrashDir) -> SqliteStore {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        match SqliteStore::open(dir.state()) {
            Ok(store) => return store,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the state file stayed locked after shutdown: {e}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn start(dir: &CrashDir, broker: EchoBroker, background_grace: Duration) -> (Running, Api) {
    let running = Server::new(broker)
        .basic_auth(USER, PASSWORD)
        .store(open(dir).await)
        .background_grace(background_grace)
        .lease(Duration::from_millis(600))
        .sweep_interval(Duration::from_millis(100))
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts");
    let api = Api::new(running.url(), USER, PASSWORD);
    (running, api)
}

fn echo(log: &CallLog, async_delay: Duration) -> EchoBroker {
    EchoBroker::new("http://dash.test", async_delay).with_call_log(&log.path)
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_its_record_survives() {
    let dir = CrashDir::new("shutdown-inflight");
    let log = dir.call_log();
    let broker = echo(&log, Duration::from_millis(50)).with_sync_delay(Duration::from_millis(500));
    let (running, api) = start(&dir, broker, Duration::from_secs(1)).await;
    let addr = running.local_addr();

    let request = {
        let api = api.clone();
        tokio::spawn(async move { api.provision("i-1", SMALL, false).await })
    };
    log.wait_for("provision", "i-1", "", 1).await;
    let stopping = tokio::spawn(running.shutdown());

    let (status, body) = request.await.expect("request task");
    assert_eq!(status, 201, "the in-flight provision finished: {body}");
    stopping.await.expect("shutdown task");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "a stopped server accepts no connections"
    );

    let (next, api) = start(
        &dir,
        echo(&log, Duration::from_millis(50)),
        Duration::from_secs(1),
    )
    .await;
    let (status, body) = api.instance("i-1").await;
    assert_eq!(status, 200, "the record survived the shutdown: {body}");
    let (status, body) = api.provision("i-1", SMALL, false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(log.count("provision", "i-1", ""), 1, "{:?}", log.lines());
    next.shutdown().await;
}

#[tokio::test]
async fn background_work_past_the_grace_period_is_recovered_once_by_the_next_server() {
    let dir = CrashDir::new("shutdown-background");
    let log = dir.call_log();
    // The first server's background work takes far longer than its grace period.
    let (running, api) = start(
        &dir,
        echo(&log, Duration::from_secs(20)),
        Duration::from_millis(200),
    )
    .await;
    let accepted = api.provision("i-2", LARGE, true).await;
    assert_eq!(accepted.0, 202, "{accepted:?}");
    let op = operation_of(&accepted);
    running.shutdown().await;
    assert_eq!(log.count("provision-done", "i-2", ""), 0, "{:?}", log.lines());

    let (next, api) = start(
        &dir,
        echo(&log, Duration::from_millis(100)),
        Duration::from_secs(1),
    )
    .await;
    let last = api.await_operation("i-2", "", Some(&op)).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    assert_eq!(log.count("resume-provision", "i-2", ""), 1, "{:?}", log.lines());
    assert_eq!(log.count("provision-done", "i-2", ""), 1, "{:?}", log.lines());
    assert_eq!(log.count("provision", "i-2", ""), 1, "{:?}", log.lines());

    // A few more sweeps find nothing left to recover: resume ran once.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(log.count("resume-provision", "i-2", ""), 1, "{:?}", log.lines());
    let (status, body) = api.instance("i-2").await;
    assert_eq!(status, 200, "{body}");
    next.shutdown().await;
}
