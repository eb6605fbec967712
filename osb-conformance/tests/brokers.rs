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
