//! The checks against our own brokers: the derived echo broker, the hand-written echo broker
//! and the file broker pass every check that applies to them, and leave nothing behind.

use std::time::Duration;

use osb_conformance::{Checker, Config, Report, Status};
use osb_server_mini::{Running, Server};

const USER: &str = "admin";
const PASSWORD: &str = "test-password";

/// The async plan's operations take this long: long enough to act while one runs.
const DELAY: Duration = Duration::from_millis(800);

async fn derived_echo() -> Running {
    Server::new(osb_examples::echo::EchoBroker::new("http://dash.test", DELAY))
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("echo broker starts")
}

fn config(url: &str) -> Config {
    Config::new(url).basic_auth(USER, PASSWORD)
}

async fn check(url: &str) -> Report {
    let checker = Checker::new(config(url)).expect("checker");
    checker.run(&|_| {}).await
}

fn print(report: &Report) {
    for r in &report.results {
        println!("{}", r.line());
    }
    println!("{}", report.summary());
}

/// Every instance the run created is gone: GET answers 404.
async fn assert_nothing_left(url: &str, report: &Report) {
    assert!(
        report.cleanup_problems.is_empty(),
        "{:?}",
        report.cleanup_problems
    );
    assert!(!report.created.is_empty());
    let http = reqwest::Client::new();
    for id in &report.created {
        assert!(id.starts_with(osb_conformance::ID_PREFIX), "{id}");
        let res = http
            .get(format!("{url}/v2/service_instances/{id}"))
            .basic_auth(USER, Some(PASSWORD))
            .header("X-Broker-API-Version", "2.17")
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status().as_u16(), 404, "instance {id} was left behind");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_echo_broker_passes_every_check() {
    let broker = derived_echo().await;
    let url = broker.url();
    let report = check(&url).await;
    print(&report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.names(Status::Warn), Vec::<&str>::new());
    assert_eq!(report.plans, "sync: echo/small, async: echo/large");
    // what the echo catalog does not declare is skipped, nothing else
    let skipped = report.names(Status::Skip);
    for s in &skipped {
        assert!(
            s.starts_with("params.") || *s == "bind.rotation",
            "unexpected skip {s}"
        );
    }
    assert_nothing_left(&url, &report).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_echo_broker_passes_every_check() {
    let broker = Server::new(osb_examples::hand_written::EchoBroker::new(
        "http://dash.test",
        DELAY,
    ))
    .basic_auth(USER, PASSWORD)
    .spawn("127.0.0.1:0")
    .await
    .expect("hand-written echo broker starts");
    let url = broker.url();
    let report = check(&url).await;
    print(&report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.names(Status::Warn), Vec::<&str>::new());
    assert_nothing_left(&url, &report).await;
}

/// The file broker declares a parameter schema, so the parameter checks run (and pass); it
/// has no asynchronous plan and no update, so those checks are skipped, not failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_broker_passes_the_parameter_checks() {
    let dir = std::env::temp_dir().join(format!("osbcheck-brokers-{}", std::process::id()));
    let broker = Server::new(osb_examples::file::FileBroker::new(&dir).expect("data dir"))
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("file broker starts");
    let url = broker.url();
    let report = check(&url).await;
    print(&report);
    for name in [
        "params.valid",
        "params.invalid",
        "provision.created",
        "bind.created",
    ] {
        assert_eq!(report.get(name).map(|r| r.status), Some(Status::Pass), "{name}");
    }
    assert_eq!(report.get("async.accepted").map(|r| r.status), Some(Status::Skip));
    assert!(
        report.cleanup_problems.is_empty(),
        "{:?}",
        report.cleanup_problems
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `only` / `skip` select by name, family or CHECKLIST item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_and_skip_select_by_item_family_or_name() {
    let broker = derived_echo().await;
    let mut c = config(&broker.url());
    c.only = vec!["a44".into(), "catalog".into()];
    c.skip = vec!["catalog.stable_ids".into()];
    let report = Checker::new(c).expect("checker").run(&|_| {}).await;
    let names: Vec<&str> = report.results.iter().map(|r| r.check.name).collect();
    assert_eq!(
        names,
        [
            "catalog.fetch",
            "catalog.valid",
            "async.accepted",
            "async.repeat_in_progress"
        ]
    );
    assert!(report.passed());
}

/// A broker that accepts connections and never answers fails the checks with a timeout
/// message; the run ends and reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_never_answers_fails_by_timeout_without_hanging() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let c = Config::new(format!("http://{addr}")).timeout(Duration::from_millis(300));
    let report = Checker::new(c).expect("checker").run(&|_| {}).await;
    let r = report.get("catalog.fetch").expect("catalog.fetch");
    assert_eq!(r.status, Status::Fail);
    let got = r.finding.as_ref().and_then(|f| f.got.clone()).unwrap_or_default();
    assert!(got.contains("timeout"), "{got}");
    assert!(!report.passed());
}

/// A broker that answers garbage (not HTTP) fails, and the run does not crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_answers_garbage_fails_without_crashing() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"\x00\xffthis is not http\r\n\r\n").await;
        }
    });
    let report = check(&format!("http://{addr}")).await;
    assert_eq!(report.get("catalog.fetch").map(|r| r.status), Some(Status::Fail));
    assert!(report.results.iter().skip(1).all(|r| r.status == Status::Skip));
}
