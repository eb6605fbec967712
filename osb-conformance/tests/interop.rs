//! `osb check` against a broker we did not write: a minimal broker on Python's
//! `openbrokerapi` (tests/interop/openbrokerapi_broker.py). The run must need nothing but the
//! URL and credentials, finish, clean up, and not crash; what it finds is printed (the test
//! asserts that the run worked, not that their broker conforms). Skipped, saying why, when
//! python3 or openbrokerapi is missing.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use osb_conformance::{Checker, Config, Status};

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python_with_openbrokerapi() -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import openbrokerapi"])
        .output()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err("the Python package openbrokerapi is not installed (pip install openbrokerapi)".to_owned())
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn osb_check_runs_against_an_openbrokerapi_broker() {
    if let Err(why) = python_with_openbrokerapi() {
        assert!(
            std::env::var("OSB_REQUIRE_PYTHON_INTEROP").as_deref() != Ok("1"),
            "osb_check_runs_against_an_openbrokerapi_broker: OSB_REQUIRE_PYTHON_INTEROP=1 but {why}"
        );
        eprintln!("SKIP osb_check_runs_against_an_openbrokerapi_broker: {why}");
        return;
    }
    let port = free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/openbrokerapi_broker.py"
    );
    let _broker = Broker(
        Command::new("python3")
            .args([script, &port.to_string(), "admin", "py-password"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the openbrokerapi broker did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("http://127.0.0.1:{port}");
    let report = Checker::new(Config::new(&url).basic_auth("admin", "py-password"))
        .expect("checker")
        .run(&|_| {})
        .await;
    for r in &report.results {
        println!("{}", r.line());
    }
    println!("plans: {}\n{}", report.plans, report.summary());
    // it ran through: the catalog was read, both plans were found, every check has a verdict
    assert_eq!(report.get("catalog.fetch").map(|r| r.status), Some(Status::Pass));
    assert_eq!(report.plans, "sync: pyecho/small, async: pyecho/large");
    assert_eq!(report.results.len(), osb_conformance::checks().len());
    assert!(
        report.cleanup_problems.is_empty(),
        "{:?}",
        report.cleanup_problems
    );
}
