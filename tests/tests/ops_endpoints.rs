//! The echo broker as an operator runs it: `echo_broker hash-password` makes the hash,
//! `OSB_PASSWORD_HASH` holds it (no password in the environment), and
//! `OSB_METRICS_LISTEN` serves `/metrics`, `/healthz` and `/readyz` (real child process).

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use osb_tests::process::{HANG_GUARD, echo_binary};

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hash_password(password: &str) -> String {
    let mut child = Command::new(echo_binary())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn echo_broker_with_a_password_hash_and_metrics_listen() {
    let phc = hash_password("op-SECRET-pw");
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(!phc.contains("op-SECRET-pw"));
    let (port, ops_port) = (free_port(), free_port());
    let _child = Killed(
        Command::new(echo_binary())
            .env("OSB_LISTEN", format!("127.0.0.1:{port}"))
            .env("OSB_USERNAME", "ops")
            .env_remove("OSB_PASSWORD")
            .env("OSB_PASSWORD_HASH", &phc)
            .env("OSB_METRICS_LISTEN", format!("127.0.0.1:{ops_port}"))
            .env("OSB_STATE", "memory")
            .env("RUST_LOG", "warn")
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let ops = format!("http://127.0.0.1:{ops_port}");
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while !client
        .get(format!("{ops}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the echo broker did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        client.get(format!("{ops}/readyz")).send().await.unwrap().status(),
        200
    );
    let catalog = |password: &'static str| {
        client
            .get(format!("http://127.0.0.1:{port}/v2/catalog"))
            .basic_auth("ops", Some(password))
            .header("X-Broker-API-Version", "2.17")
            .send()
    };
    assert_eq!(catalog("op-SECRET-pw").await.unwrap().status(), 200);
    assert_eq!(catalog("op-SECRET-pw").await.unwrap().status(), 200);
    assert_eq!(catalog("password").await.unwrap().status(), 401);
    let metrics = client
        .get(format!("{ops}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"osb_http_requests_total{route="catalog",method="GET",status="200"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"osb_http_requests_total{route="catalog",method="GET",status="401"} 1"#),
        "{metrics}"
    );
    assert!(!metrics.contains("op-SECRET-pw") && !metrics.contains("argon2"));
}

#[test]
fn a_bad_metrics_address_or_hash_stops_the_echo_broker() {
    for (var, value) in [
        ("OSB_METRICS_LISTEN", "not-an-address"),
        ("OSB_PASSWORD_HASH", "plain-SECRET-not-a-hash"),
    ] {
        let out = Command::new(echo_binary())
            .env("OSB_LISTEN", format!("127.0.0.1:{}", free_port()))
            .env("OSB_STATE", "memory")
            .env(var, value)
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} must stop the broker");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("plain-SECRET"), "{stderr}");
        if var == "OSB_METRICS_LISTEN" {
            assert!(stderr.contains("OSB_METRICS_LISTEN"), "{stderr}");
        } else {
            assert!(stderr.contains("PHC"), "{stderr}");
        }
    }
}
