//! The echo broker as a real child process, for the crash tests: a temporary directory with
//! the SQLite state file and the call log, a child started on a free port and killed with
//! `SIGKILL`, and a small HTTP client for the endpoints.
//!
//! The binary is `target/<profile>/examples/echo_broker`; it is built once per test binary
//! (`cargo build -p osb-examples --example echo_broker`, a no-op when it is fresh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::echo_ids::{LARGE, SERVICE, SMALL};

/// How long a bounded wait may take before a test fails as hung (generous: the machine is
/// shared). It never bounds how fast something must be, only that it ends.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

/// The path of the echo broker binary, built on first use.
///
/// # Panics
/// The binary cannot be built or found.
pub fn echo_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary is in target/<profile>/deps")
            .to_path_buf();
        let bin = profile_dir
            .join("examples")
            .join(format!("echo_broker{}", std::env::consts::EXE_SUFFIX));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace")
            .to_path_buf();
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&workspace).args([
            "build",
            "--quiet",
            "-p",
            "osb-examples",
            "--example",
            "echo_broker",
        ]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        let status = cmd.status();
        assert!(
            bin.exists(),
            "{} missing and `cargo build -p osb-examples --example echo_broker` failed: {status:?}",
            bin.display()
        );
        bin
    })
}

/// A temporary directory with the state file and the call log, removed when dropped.
#[derive(Debug)]
pub struct CrashDir {
    dir: PathBuf,
}

impl CrashDir {
    /// A new empty directory under the system's temporary directory.
    ///
    /// # Panics
    /// The directory cannot be created.
    #[must_use]
    pub fn new(name: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "osb-crash-{name}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self { dir }
    }

    /// The SQLite state file.
    #[must_use]
    pub fn state(&self) -> PathBuf {
        self.dir.join("state.sqlite")
    }

    /// The echo broker's call log.
    #[must_use]
    pub fn call_log(&self) -> CallLog {
        CallLog {
            path: self.dir.join("calls.log"),
        }
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for CrashDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The lines the echo broker appends for each call of its own code (`provision i-1 `,
/// `bind i-1 b-1`, `provision-done i-2 `, `resume-provision i-2 `), across restarts.
#[derive(Debug, Clone)]
pub struct CallLog {
    /// The file.
    pub path: PathBuf,
}

impl CallLog {
    /// The lines so far, trimmed.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_owned())
            .collect()
    }

    /// How many times `what` ran for `instance` (and `binding`, `""` for an instance).
    #[must_use]
    pub fn count(&self, what: &str, instance: &str, binding: &str) -> usize {
        let want = format!("{what} {instance} {binding}");
        let want = want.trim();
        self.lines().iter().filter(|l| l.as_str() == want).count()
    }

    /// Waits (bounded by [`HANG_GUARD`]) until `what` ran at least `n` times.
    ///
    /// # Panics
    /// It did not within the guard.
    pub async fn wait_for(&self, what: &str, instance: &str, binding: &str, n: usize) {
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        while self.count(what, instance, binding) < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "`{what} {instance} {binding}` never logged {n} times; log: {:?}",
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// How to start the echo broker.
#[derive(Debug, Clone, Copy)]
pub struct Launch {
    /// `OSB_ASYNC_DELAY_MS`: how long the `large` plan's work takes.
    pub async_delay_ms: u64,
    /// `OSB_SYNC_DELAY_MS`: how long the `small` plan's calls take.
    pub sync_delay_ms: u64,
    /// `OSB_RESUME=0` when false.
    pub resume: bool,
    /// `OSB_LEASE_MS` (also the sweep interval, half of it).
    pub lease_ms: u64,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            async_delay_ms: 300,
            sync_delay_ms: 0,
            resume: true,
            lease_ms: 1_000,
        }
    }
}

impl Launch {
    /// Work that takes long enough to be killed in (`large` and `small` alike).
    #[must_use]
    pub fn slow(self) -> Self {
        Self {
            async_delay_ms: 20_000,
            sync_delay_ms: 20_000,
            ..self
        }
    }

    /// The broker does not resume interrupted work (`OSB_RESUME=0`).
    #[must_use]
    pub fn without_resume(self) -> Self {
        Self {
            resume: false,
            ..self
        }
    }

    /// With `resume` as given.
    #[must_use]
    pub fn resume(self, resume: bool) -> Self {
        Self { resume, ..self }
    }
}

/// A running echo broker child process; killed (`SIGKILL`) when dropped, so a failing test
/// leaves nothing behind.
#[derive(Debug)]
pub struct EchoProcess {
    child: Child,
    /// A client for it.
    pub api: Api,
}

impl EchoProcess {
    /// Starts the echo broker on `dir`'s state file and call log, on a free loopback port,
    /// and waits until it answers the catalog.
    ///
    /// # Panics
    /// It does not start.
    pub async fn start(dir: &CrashDir, launch: Launch) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let bin = echo_binary();
        let mut last = String::new();
        for attempt in 0..5 {
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
                l.local_addr().expect("addr").port()
            };
            // A password of this launch only: a catalog answer proves it is this child.
            let password = format!("pw-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
            let mut child = Command::new(bin)
                .env("OSB_LISTEN", format!("127.0.0.1:{port}"))
                .env("OSB_USERNAME", "admin")
                .env("OSB_PASSWORD", &password)
                .env("OSB_STATE", dir.state())
                .env("OSB_CALL_LOG", &dir.call_log().path)
                .env("OSB_ASYNC_DELAY_MS", launch.async_delay_ms.to_string())
                .env("OSB_SYNC_DELAY_MS", launch.sync_delay_ms.to_string())
                .env("OSB_RESUME", if launch.resume { "1" } else { "0" })
                .env("OSB_LEASE_MS", launch.lease_ms.to_string())
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("echo broker spawns");
            let api = Api::new(format!("http://127.0.0.1:{port}"), "admin", &password);
            let deadline = tokio::time::Instant::now() + HANG_GUARD;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("attempt {attempt}: exited with {status}");
                    break;
                }
                if let Ok((200, _)) = api.try_get("/v2/catalog").await {
                    return Self { child, api };
                }
                if tokio::time::Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the echo broker did not answer the catalog within {HANG_GUARD:?}");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("the echo broker did not start: {last}");
    }

    /// `kill -9`, and waits until the process is gone (its file lock released).
    pub fn kill9(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        // `Child::kill` is SIGKILL on Unix: no destructor, no shutdown code runs.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EchoProcess {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// A minimal OSB client over real sockets: answers as `(status, JSON body)`.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    user: String,
    password: String,
    http: reqwest::Client,
}

/// A JSON answer: status and body (`null` when the body is empty or not JSON).
pub type Reply = (u16, Value);

impl Api {
    /// A client for `base` (`http://host:port`) with Basic auth.
    ///
    /// # Panics
    /// The HTTP client cannot be built.
    #[must_use]
    pub fn new(base: impl Into<String>, user: &str, password: &str) -> Self {
        Self {
            base: base.into(),
            user: user.to_owned(),
            password: password.to_owned(),
            http: reqwest::Client::builder()
                .timeout(HANG_GUARD)
                .build()
                .expect("client"),
        }
    }

    /// Sends a request; `Err` when no answer came (connection refused, reset).
    ///
    /// # Errors
    /// The request could not be sent or its answer read.
    pub async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password))
            .header("X-Broker-API-Version", "2.17");
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn try_get(&self, path: &str) -> Result<Reply, reqwest::Error> {
        self.try_send(reqwest::Method::GET, path, None).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
        let what = format!("{method} {path}");
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"))
    }

    /// `PUT /v2/service_instances/:id` on `plan`.
    pub async fn provision(&self, id: &str, plan: &str, accepts_incomplete: bool) -> Reply {
        let body = json!({
            "service_id": SERVICE,
            "plan_id": plan,
            "organization_guid": "org",
            "space_guid": "space",
            "parameters": {"size": 1},
        });
        self.send(
            reqwest::Method::PUT,
            &format!("/v2/service_instances/{id}?accepts_incomplete={accepts_incomplete}"),
            Some(&body),
        )
        .await
    }

    /// `DELETE /v2/service_instances/:id` on `plan`.
    pub async fn deprovision(&self, id: &str, plan: &str, accepts_incomplete: bool) -> Reply {
        self.send(
            reqwest::Method::DELETE,
            &format!(
                "/v2/service_instances/{id}?service_id={SERVICE}&plan_id={plan}&accepts_incomplete={accepts_incomplete}"
            ),
            None,
        )
        .await
    }

    /// `GET /v2/service_instances/:id`.
    pub async fn instance(&self, id: &str) -> Reply {
        self.send(
            reqwest::Method::GET,
            &format!("/v2/service_instances/{id}?service_id={SERVICE}"),
            None,
        )
        .await
    }

    /// `PUT /v2/service_instances/:id/service_bindings/:bid` on `plan`.
    pub async fn bind(&self, id: &str, bid: &str, plan: &str, accepts_incomplete: bool) -> Reply {
        let body = json!({
            "service_id": SERVICE,
            "plan_id": plan,
            "parameters": {"role": "reader"},
        });
        self.send(
            reqwest::Method::PUT,
            &format!(
                "/v2/service_instances/{id}/service_bindings/{bid}?accepts_incomplete={accepts_incomplete}"
            ),
            Some(&body),
        )
        .await
    }

    /// `DELETE /v2/service_instances/:id/service_bindings/:bid` on `plan`.
    pub async fn unbind(&self, id: &str, bid: &str, plan: &str, accepts_incomplete: bool) -> Reply {
        self.send(
            reqwest::Method::DELETE,
            &format!(
                "/v2/service_instances/{id}/service_bindings/{bid}?service_id={SERVICE}&plan_id={plan}&accepts_incomplete={accepts_incomplete}"
            ),
            None,
        )
        .await
    }

    /// `GET /v2/service_instances/:id/service_bindings/:bid`.
    pub async fn binding(&self, id: &str, bid: &str) -> Reply {
        self.send(
            reqwest::Method::GET,
            &format!("/v2/service_instances/{id}/service_bindings/{bid}?service_id={SERVICE}"),
            None,
        )
        .await
    }

    /// `GET .../last_operation` of an instance (`binding` empty) or a binding, with the
    /// `operation` hint when given.
    pub async fn last_operation(&self, id: &str, binding: &str, operation: Option<&str>) -> Reply {
        let mut path = if binding.is_empty() {
            format!("/v2/service_instances/{id}/last_operation?service_id={SERVICE}")
        } else {
            format!(
                "/v2/service_instances/{id}/service_bindings/{binding}/last_operation?service_id={SERVICE}"
            )
        };
        if let Some(op) = operation {
            path.push_str("&operation=");
            path.push_str(op);
        }
        self.send(reqwest::Method::GET, &path, None).await
    }

    /// Polls `last_operation` until it is no longer `in progress` (bounded by
    /// [`HANG_GUARD`]: an operation `in progress` that long fails the test) and returns the
    /// final answer.
    ///
    /// # Panics
    /// Still `in progress` after the guard, or an answer that is not 200.
    pub async fn await_operation(&self, id: &str, binding: &str, operation: Option<&str>) -> Value {
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        loop {
            let (status, body) = self.last_operation(id, binding, operation).await;
            assert_eq!(status, 200, "last_operation of {id}/{binding}: {body}");
            if body["state"] != "in progress" {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "last_operation of {id}/{binding} still `in progress` after {HANG_GUARD:?}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The `operation` of a 202 answer.
///
/// # Panics
/// The body has none.
#[must_use]
pub fn operation_of(reply: &Reply) -> String {
    reply.1["operation"]
        .as_str()
        .unwrap_or_else(|| panic!("no operation in {reply:?}"))
        .to_owned()
}
