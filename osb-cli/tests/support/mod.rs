//! Shared by the platform-flag tests: the real derived echo broker served in-process on
//! loopback (with its request log), and the real `osb` binary run as a child process.
//! Each test file uses a part of it.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use osb_examples::echo::EchoBroker;
use osb_server_mini::{Running, Server};

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "osb-cli-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Writes `contents` to `name` in the directory; returns the path.
    pub(crate) fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The echo broker on 127.0.0.1, with its request log (`EchoBroker::with_request_log`).
pub(crate) struct Echo {
    running: Option<Running>,
    rt: tokio::runtime::Runtime,
    pub(crate) dir: TempDir,
}

impl Echo {
    /// Basic auth `admin` / `secret`; the `large` plan takes `async_delay`.
    pub(crate) fn start(async_delay: Duration) -> Self {
        Self::start_with(async_delay, |s| s.basic_auth("admin", "secret"))
    }

    /// With the server configured by `configure` (authentication, TLS, …).
    pub(crate) fn start_with(
        async_delay: Duration,
        configure: impl FnOnce(Server<EchoBroker>) -> Server<EchoBroker>,
    ) -> Self {
        let dir = TempDir::new("echo");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let broker =
            EchoBroker::new("http://dash.test", async_delay).with_request_log(dir.0.join("requests.jsonl"));
        let running =
            rt.block_on(async { configure(Server::new(broker)).spawn("127.0.0.1:0").await.unwrap() });
        Self {
            running: Some(running),
            rt,
            dir,
        }
    }

    pub(crate) fn url(&self) -> String {
        self.running.as_ref().unwrap().url()
    }

    pub(crate) fn port(&self) -> u16 {
        self.running.as_ref().unwrap().local_addr().port()
    }

    /// What the broker's code received, one JSON object per call.
    pub(crate) fn requests(&self) -> Vec<serde_json::Value> {
        let Ok(text) = std::fs::read_to_string(self.dir.0.join("requests.jsonl")) else {
            return Vec::new();
        };
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The one request of `call` the broker received.
    pub(crate) fn only(&self, call: &str) -> serde_json::Value {
        let mut found: Vec<_> = self
            .requests()
            .into_iter()
            .filter(|r| r["call"] == call)
            .collect();
        assert_eq!(found.len(), 1, "{call}: {found:?}");
        found.remove(0)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.running.take();
    }
}

/// Runs `osb` with no OSB_* or colour variables from the test's environment, then `env`.
pub(crate) fn osb_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    osb_stdin(env, args, None)
}

/// [`osb_env`] with `stdin` written to its standard input.
pub(crate) fn osb_stdin(env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_osb"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("OSB_") || ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"].contains(&k.as_str()) {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// `osb --url URL -u admin -p secret ARGS`.
pub(crate) fn osb(url: &str, args: &[&str]) -> Output {
    osb_env(
        &[],
        &[&["--url", url, "-u", "admin", "-p", "secret"], args].concat(),
    )
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts exit 0.
pub(crate) fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Asserts exit code 2 (nothing sent) and exactly this error line on stderr.
pub(crate) fn usage_error(out: &Output, message: &str) {
    assert_eq!(text(&out.stderr), format!("error: {message}\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

/// stdout as JSON.
pub(crate) fn json_out(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?} stderr {:?}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

pub(crate) fn path_str(p: &Path) -> String {
    p.display().to_string()
}
