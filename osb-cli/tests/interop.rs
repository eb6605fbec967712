//! Interoperability: the `osb` binary against a broker built on the Python `openbrokerapi`
//! package (PyPI), run as a child process from `tests/interop/openbrokerapi_broker.py`.
//!
//! Needs `python3` with `openbrokerapi` installed (`python3 -m pip install openbrokerapi==4.7.3`).
//! Without them each test prints that it was skipped and why, and passes; with
//! `OSB_REQUIRE_PYTHON_INTEROP=1` it fails instead.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

const SERVICE_ID: &str = "5a1d3c2e-7b4f-4e0a-9c6d-py0000000001";
const SYNC_PLAN: &str = "5a1d3c2e-7b4f-4e0a-9c6d-py0000000002";
const ASYNC_PLAN: &str = "5a1d3c2e-7b4f-4e0a-9c6d-py0000000003";

/// The Python broker; killed when dropped.
struct PyBroker {
    child: Child,
    port: u16,
}

impl Drop for PyBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the broker, or says why it cannot (python3 or openbrokerapi missing).
fn start(test: &str) -> Option<PyBroker> {
    let required = std::env::var("OSB_REQUIRE_PYTHON_INTEROP").is_ok_and(|v| v == "1");
    let probe = Command::new("python3")
        .args(["-c", "import openbrokerapi, flask, werkzeug"])
        .output();
    let reason = match probe {
        Err(e) => Some(format!("python3 cannot be run ({e})")),
        Ok(out) if !out.status.success() => Some(format!(
            "the Python package openbrokerapi is not installed (python3 -m pip install openbrokerapi==4.7.3): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        )),
        Ok(_) => None,
    };
    if let Some(reason) = reason {
        assert!(!required, "{test}: OSB_REQUIRE_PYTHON_INTEROP=1 but {reason}");
        // straight to the process's stderr: visible even though libtest captures `eprintln!`
        let _ = writeln!(std::io::stderr(), "skipped {test}: {reason}");
        return None;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/openbrokerapi_broker.py"
    );
    let mut child = Command::new("python3")
        .args([script, "admin", "secret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("the broker prints its port");
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected `PORT <n>`, got {line:?}"));
    Some(PyBroker { child, port })
}

impl PyBroker {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `osb --json ARGS` against the broker.
    fn osb(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_osb"))
            .env_remove("OSB_ORG_GUID")
            .env_remove("OSB_SPACE_GUID")
            .args(["--url", &self.url(), "-u", "admin", "-p", "secret", "--json"])
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> serde_json::Value {
        let out = self.osb(args);
        assert!(
            out.status.success(),
            "osb {args:?}: exit {:?}\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// A raw `PUT /v2/service_instances/:id` with this body: (status, body).
    fn raw_provision(&self, id: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        // admin:secret
        write!(
            s,
            "PUT /v2/service_instances/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\n\
             X-Broker-API-Version: 2.17\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        (status, body)
    }
}

#[test]
fn b21_openbrokerapi_requires_organization_and_space_guid() {
    let Some(py) = start("b21_openbrokerapi_requires_organization_and_space_guid") else {
        return;
    };
    // what the CLI used to send: refused by the broker
    let (status, body) = py.raw_provision(
        "bare",
        &format!(r#"{{"service_id":"{SERVICE_ID}","plan_id":"{SYNC_PLAN}"}}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Organization and space guid are required."),
        "{body}"
    );
    // what it sends now: the stable defaults, accepted
    let v = py.ok(&["provision", "p-1", "--service", "py-kv", "--plan", "sync"]);
    assert_eq!(v["status"], "created");
    assert_eq!(v["dashboard_url"], "http://py-kv.test/p-1");
    let bound = py.ok(&["bind", "p-1", "b-1", "--service", "py-kv", "--plan", "sync"]);
    let credentials = &bound["binding"]["credentials"];
    assert_eq!(credentials["organization_guid"], v["organization_guid"]);
    assert_eq!(credentials["space_guid"], v["space_guid"]);
    // explicit ones reach the broker as given
    let v = py.ok(&[
        "provision",
        "p-2",
        "--service",
        "py-kv",
        "--plan",
        "sync",
        "--org-guid",
        "org-py",
        "--space-guid",
        "space-py",
    ]);
    assert_eq!(v["status"], "created");
    let bound = py.ok(&["bind", "p-2", "b-1", "--service", "py-kv", "--plan", "sync"]);
    assert_eq!(bound["binding"]["credentials"]["organization_guid"], "org-py");
    assert_eq!(bound["binding"]["credentials"]["space_guid"], "space-py");
}

#[test]
fn openbrokerapi_full_lifecycle_with_the_cli() {
    let Some(py) = start("openbrokerapi_full_lifecycle_with_the_cli") else {
        return;
    };
    let catalog = py.ok(&["catalog"]);
    assert_eq!(catalog["services"][0]["name"], "py-kv");
    for (plan, plan_id) in [("sync", SYNC_PLAN), ("async", ASYNC_PLAN)] {
        let id = format!("life-{plan}");
        let v = py.ok(&["provision", &id, "--service", "py-kv", "--plan", plan, "--wait"]);
        let expected = if plan == "sync" { "created" } else { "accepted" };
        assert_eq!(v["status"], expected, "{v}");
        if plan == "async" {
            assert_eq!(v["state"], "succeeded", "{v}");
        }
        let fetched = py.ok(&["instance", &id]);
        assert_eq!(fetched["plan_id"], plan_id);
        let v = py.ok(&[
            "update",
            &id,
            "--service",
            "py-kv",
            "--params",
            r#"{"max_keys":5}"#,
        ]);
        assert_eq!(v["status"], "updated");
        // bind, unbind and deprovision without --service/--plan: looked up from the instance
        let bound = py.ok(&["bind", &id, "b-1"]);
        assert_eq!(bound["status"], "created");
        assert_eq!(bound["plan_id"], plan_id);
        assert_eq!(bound["binding"]["credentials"]["uri"], format!("kv://{id}/b-1"));
        let v = py.ok(&["unbind", &id, "b-1"]);
        assert_eq!(v["status"], "deleted");
        let v = py.ok(&["deprovision", &id, "--wait"]);
        let expected = if plan == "sync" { "deleted" } else { "accepted" };
        assert_eq!(v["status"], expected, "{v}");
        // gone for the broker too
        let out = py.osb(&["instance", &id]);
        assert_eq!(out.status.code(), Some(1));
        let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(err["status"], 404, "{err}");
    }
}
