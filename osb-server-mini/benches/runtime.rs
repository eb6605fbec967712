//! Benchmark (not a test) of the runtime against bare hyper, measured from outside the
//! process with `wrk` (an external load generator: an in-process client shares the two cores
//! with the server and hides the server's cost).
//!
//! ```sh
//! bench/run                     # installs wrk, starts a throwaway PostgreSQL, runs this
//! cargo bench -p osb-server-mini --bench runtime [--features postgres]
//! ```
//!
//! Every figure comes with its baseline, measured in the same run in alternating rounds (so a
//! burst of noise on the shared cores hits both sides; the order reversed every other
//! round), median of the rounds (the catalog also shows the median of the paired rounds'
//! ratios):
//!
//! - `GET /v2/catalog` against a bare hyper server answering the same bytes;
//! - a synchronous provision (new instance ids every request) on the memory store and on
//!   SQLite, against a bare hyper server that reads the same JSON body and decodes it into a
//!   `ProvisionRequest`; beside them the disk's raw fsync rate (write + fsync in a loop), the
//!   ceiling a store committing once per request would hit;
//! - the operations features: metrics on against off (catalog and provision), and a Basic
//!   user with an argon2id hash (verified once, then from the cache) against a plain password;
//! - the per-request store cost with 1,000 and with 100,000 recorded instances (a ratio);
//! - with `--features postgres` and `OSB_BENCH_POSTGRES_URL` (or `OSB_TEST_POSTGRES_URL`): a
//!   provision on PostgreSQL with one replica and with two replicas sharing the database
//!   (distinct instances spread over both), against the same bare hyper.
//!
//! Settings: `OSB_BENCH_SECONDS` (per round, default 2), `OSB_BENCH_ROUNDS` (default 9: on two shared
//! cores single rounds vary by ±15 %, the median of nine is stable to about 2 %),
//! `OSB_BENCH_CONNECTIONS` (default 16), `OSB_BENCH_ONLY` (comma-separated sections:
//! `catalog,provision,ops,flat,postgres`), `OSB_BENCH_SERVE=<seconds>` (no measurement: start
//! bare hyper and our server, print their catalog URLs and this process's id, and serve that
//! long, for `perf` or `strace` from outside; `OSB_BENCH_BARE_BODY=<file>` adds a bare
//! server answering that file, e.g. another broker's catalog).
//!
//! Each row also shows the hypervisor's `steal` during its rounds (the share of the
//! machine's CPU time given to other guests): on a shared host, figures measured under a
//! few percent of steal or more are noise, whatever their medians say.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::store::{InstanceRecord, MemoryStore, SqliteStore, Store, Write};
use osb_server_mini::types::catalog::{InputParametersSchema, Schemas, ServiceInstanceSchema};
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};

struct Bench;

fn catalog() -> Catalog {
    let services = (0..5)
        .map(|s| {
            let plans = (0..4)
                .map(|p| {
                    let mut plan = ServicePlan::new(format!("plan-{s}-{p}"), format!("plan-{p}"), "A plan");
                    plan.schemas = Some(Schemas {
                        service_instance: Some(ServiceInstanceSchema {
                            create: Some(InputParametersSchema::new(serde_json::json!({
                                "$schema": "http://json-schema.org/draft-04/schema#",
                                "type": "object",
                                "properties": { "size": { "type": "integer" } }
                            }))),
                            ..Default::default()
                        }),
                        ..Default::default()
                    });
                    plan
                })
                .collect();
            ServiceOffering::new(format!("svc-{s}"), format!("service-{s}"), "A service", plans)
                .bindable(true)
        })
        .collect();
    Catalog::new(services)
}

impl Broker for Bench {
    fn catalog(&self) -> Catalog {
        catalog()
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

/// The credentials every request carries (bare hyper ignores them).
const USER: &str = "bench";
const PASSWORD: &str = "bench-password";

/// The provision body every case sends.
const PROVISION_BODY: &str = r#"{"service_id":"svc-0","plan_id":"plan-0-0","organization_guid":"org","space_guid":"space","parameters":{"size":1}}"#;

/// A bare hyper server: answers `GET` with the catalog bytes, and a `PUT` by reading its body
/// and decoding it into a `ProvisionRequest` (what any broker has to do), with `201 {}`.
async fn bare_hyper(catalog: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let catalog = catalog.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let catalog = catalog.clone();
                    async move {
                        let is_put = req.method() == hyper::Method::PUT;
                        let body = req.into_body().collect().await.map(|b| b.to_bytes());
                        let (status, body) = if is_put {
                            match body
                                .ok()
                                .and_then(|b| serde_json::from_slice::<ProvisionRequest>(&b).ok())
                            {
                                Some(_) => (StatusCode::CREATED, Bytes::from_static(b"{}")),
                                None => (StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
                            }
                        } else {
                            (StatusCode::OK, catalog)
                        };
                        let mut res = Response::new(Full::new(body));
                        *res.status_mut() = status;
                        res.headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(res)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Non-2xx answers plus socket errors.
    errors: u64,
    /// Requests answered in the run.
    requests: u64,
    /// CPU time this process (the servers; wrk is another process) spent per request, in
    /// microseconds: the servers' cost, which throughput on two cores shared with wrk
    /// shows only blurred.
    cpu_us: f64,
    /// The share of the machine's CPU time its hypervisor gave to others during the run
    /// (`steal` in `/proc/stat`), in percent: a figure measured under much steal is noise.
    steal_pct: f64,
}

/// A `wrk` invocation: `-t1 -cN -dS --latency`, with a Lua script for provisions.
struct Wrk {
    seconds: u64,
    script: PathBuf,
}

impl Wrk {
    /// Runs wrk against `url`; `prefix` (when set) makes the script send provisions of new
    /// instance ids `{prefix}-{n}` with [`PROVISION_BODY`].
    fn run(&self, url: &str, prefix: Option<&str>, connections: usize) -> Figures {
        let mut cmd = Command::new("wrk");
        cmd.args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{}s", self.seconds),
            "--latency",
        ]);
        cmd.args(["-H", "X-Broker-API-Version: 2.17"]);
        cmd.args(["-H", &format!("Authorization: Basic {}", basic(USER, PASSWORD))]);
        if let Some(prefix) = prefix {
            cmd.arg("-s")
                .arg(&self.script)
                .env("OSB_BENCH_PREFIX", prefix)
                .env("OSB_BENCH_BODY", PROVISION_BODY);
        }
        cmd.arg(url);
        let cpu_before = process_cpu_seconds();
        let machine_before = machine_ticks();
        let out = cmd.output().expect("wrk runs (install it: bench/run does)");
        let cpu = process_cpu_seconds() - cpu_before;
        let machine_after = machine_ticks();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut f = parse_wrk(&text);
        f.cpu_us = 1e6 * cpu / f.requests.max(1) as f64;
        let total = machine_after.0.saturating_sub(machine_before.0).max(1);
        f.steal_pct = 100.0 * machine_after.1.saturating_sub(machine_before.1) as f64 / total as f64;
        f
    }

    /// Synchronous provisions of new instance ids `{prefix}-{n}` against the server at `url`.
    fn provision(&self, url: &str, prefix: &str, connections: usize) -> Figures {
        self.run(&format!("{url}/v2/service_instances"), Some(prefix), connections)
    }
}

/// Reads `Requests/sec`, the 50 % and 99 % latencies, non-2xx answers and socket errors.
fn parse_wrk(text: &str) -> Figures {
    let mut f = Figures::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rps] => f.rps = rps.parse().unwrap_or(0.0),
            [n, "requests", "in", ..] => f.requests = n.parse().unwrap_or(0),
            ["50%", t] => f.p50_ms = millis(t),
            ["99%", t] => f.p99_ms = millis(t),
            ["Non-2xx", "or", "3xx", "responses:", n] => f.errors += n.parse::<u64>().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                f.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    f
}

/// `base64(user:password)`.
fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

fn millis(t: &str) -> f64 {
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let v: f64 = num.parse().unwrap_or(0.0);
    match unit {
        "us" => v / 1000.0,
        "s" => v * 1000.0,
        _ => v,
    }
}

const SCRIPT: &str = r#"
-- One synchronous provision of a new instance id per request.
local prefix = os.getenv("OSB_BENCH_PREFIX") or "i"
local n = 0
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Broker-API-Version"] = "2.17"
wrk.body = os.getenv("OSB_BENCH_BODY")
request = function()
  n = n + 1
  return wrk.format(nil, "/v2/service_instances/" .. prefix .. "-" .. n)
end
"#;

/// The median round by throughput, with the median CPU per request and the mean steal of
/// all rounds.
fn median(mut v: Vec<Figures>) -> Figures {
    let steal_pct = v.iter().map(|f| f.steal_pct).sum::<f64>() / v.len() as f64;
    v.sort_by(|a, b| a.cpu_us.total_cmp(&b.cpu_us));
    let cpu_us = v[v.len() / 2].cpu_us;
    v.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let mut m = v[v.len() / 2];
    m.errors = v.iter().map(|f| f.errors).sum();
    m.cpu_us = cpu_us;
    m.steal_pct = steal_pct;
    m
}

/// User plus system CPU time of this process so far, in seconds (`/proc/self/stat`, in
/// clock ticks of 1/100 s, the Linux `USER_HZ`).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// All CPU ticks of the machine so far and the stolen ones among them (the `cpu` line of
/// `/proc/stat`: user nice system idle iowait irq softirq steal ...).
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    (ticks.iter().sum(), ticks.get(7).copied().unwrap_or(0))
}

/// A case: a name and how one round of it runs.
struct Case<'a> {
    name: String,
    run: Box<dyn FnMut(usize) -> Figures + 'a>,
}

/// Runs the cases in alternating rounds and returns each case's median round.
fn alternate(rounds: usize, cases: &mut [Case<'_>]) -> Vec<Figures> {
    alternate_rounds(rounds, cases).into_iter().map(median).collect()
}

/// Runs the cases in alternating rounds, in reverse order every other round (so that no
/// case always runs right after the same one), and returns every case's rounds.
fn alternate_rounds(rounds: usize, cases: &mut [Case<'_>]) -> Vec<Vec<Figures>> {
    let mut all: Vec<Vec<Figures>> = cases.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..cases.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            all[i].push((cases[i].run)(round));
        }
    }
    all
}

/// The median, lowest and highest of the per-round ratios `ours / base` (rounds paired by
/// index: run back to back, so a slow drift of the shared cores cancels out).
fn paired_ratios(ours: &[Figures], base: &[Figures]) -> (f64, f64, f64) {
    let mut r: Vec<f64> = ours
        .iter()
        .zip(base)
        .map(|(o, b)| o.rps / b.rps.max(1.0))
        .collect();
    r.sort_by(f64::total_cmp);
    (r[r.len() / 2], r[0], r[r.len() - 1])
}

fn print_row(name: &str, f: &Figures) {
    println!(
        "{name:<44} {:>9.0} {:>8.2} {:>8.2} {:>9.1} {:>7} {:>7.1}",
        f.rps, f.p50_ms, f.p99_ms, f.cpu_us, f.errors, f.steal_pct
    );
    if f.errors > 0 {
        println!(
            "  WARNING: {name}: {} requests failed; its figure is not comparable",
            f.errors
        );
    }
}

fn header(title: &str) {
    println!("\n## {title}");
    println!(
        "{:<44} {:>9} {:>8} {:>8} {:>9} {:>7} {:>7}",
        "case", "req/s", "p50 ms", "p99 ms", "cpu us/rq", "errors", "steal %"
    );
}

/// write(4 KiB) + fsync in a loop for `secs`: the commit rate the disk allows.
fn raw_fsync_rate(dir: &Path, secs: f64) -> f64 {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = [7u8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        file.write_all(&block).unwrap();
        file.sync_all().unwrap();
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    rate
}

/// Records `n` instances in `store`, 256 writes in flight at a time.
async fn populate(store: &Arc<dyn Store>, n: usize, prefix: &str) {
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..n {
        let store = Arc::clone(store);
        let id = format!("{prefix}-{i}");
        pending.spawn(async move {
            let record = InstanceRecord::new(id.into(), "svc-0".into(), "plan-0-0".into());
            let written = store
                .insert_instance(&record)
                .await
                .expect("store accepts the record");
            assert!(matches!(written, Write::Done(_)), "a new record");
        });
        if pending.len() >= 256 {
            pending.join_next().await;
        }
    }
    while pending.join_next().await.is_some() {}
}

/// Our server as a broker runs in production: basic auth on, inside a tracing subscriber at
/// `info` (see `main`).
async fn serve(store: Arc<dyn Store>) -> Running {
    Server::new(Bench)
        .basic_auth(USER, PASSWORD)
        .shared_store(store)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts")
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::current_dir()
        .unwrap()
        .join("target")
        .join(format!("bench-runtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn main() {
    let seconds = env_num("OSB_BENCH_SECONDS", 2);
    let rounds = env_num("OSB_BENCH_ROUNDS", 9).max(1) as usize;
    let connections = env_num("OSB_BENCH_CONNECTIONS", 16) as usize;
    let only = std::env::var("OSB_BENCH_ONLY").unwrap_or_default();
    let section = |name: &str| only.is_empty() || only.split(',').any(|s| s.trim() == name);
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: run bench/run (it installs wrk), or apt-get install wrk");
        std::process::exit(2);
    }
    // Spans and events are built as in a broker that logs at `info` (the echo broker's
    // default), and written nowhere.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::sink)
        .init();
    // The servers run on their own runtime; this thread only starts wrk and waits for it, so
    // no server worker is ever blocked by the measurement.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = scratch_dir();
    let script = dir.join("provision.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let wrk = Wrk { seconds, script };
    let run_id = std::process::id();
    let bytes = Bytes::from(serde_json::to_vec(&catalog()).unwrap());
    let bare = rt.block_on(bare_hyper(bytes.clone()));
    let bare_url = format!("http://{bare}");
    if let Some(secs) = std::env::var("OSB_BENCH_SERVE").ok().and_then(|v| v.parse().ok()) {
        // Profiling aid: both catalog servers, left running for perf or strace from outside.
        // `OSB_BENCH_BARE_BODY=<file>`: one more bare server, answering that file's bytes
        // (another broker's catalog, to compare that broker with bare hyper).
        if let Some(path) = std::env::var_os("OSB_BENCH_BARE_BODY") {
            let body = std::fs::read(&path).expect("OSB_BENCH_BARE_BODY is a readable file");
            let other = rt.block_on(bare_hyper(Bytes::from(body)));
            println!("bare-file http://{other}/v2/catalog");
        }
        let ours = rt.block_on(serve(Arc::new(MemoryStore::default())));
        println!("pid {}", std::process::id());
        println!("bare {bare_url}/v2/catalog");
        println!("ours {}/v2/catalog", ours.url());
        std::thread::sleep(std::time::Duration::from_secs(secs));
        return;
    }
    println!(
        "wrk -t1, {rounds} alternating rounds of {seconds} s each, median round; catalog body {} bytes, provision body {} bytes",
        bytes.len(),
        PROVISION_BODY.len()
    );
    let provision = |url: &str, prefix: &str, conns: usize| wrk.provision(url, prefix, conns);

    if section("catalog") {
        let ours = rt.block_on(serve(Arc::new(MemoryStore::default())));
        let ours_url = ours.url();
        header("GET /v2/catalog");
        for conns in [connections, 2] {
            let mut cases = [
                Case {
                    name: format!("bare hyper, {conns} connections"),
                    run: Box::new(|_| wrk.run(&format!("{bare_url}/v2/catalog"), None, conns)),
                },
                Case {
                    name: format!("osb-server-mini, {conns} connections"),
                    run: Box::new(|_| wrk.run(&format!("{ours_url}/v2/catalog"), None, conns)),
                },
            ];
            let all = alternate_rounds(rounds, &mut cases);
            let (paired, low, high) = paired_ratios(&all[1], &all[0]);
            let f: Vec<Figures> = all.into_iter().map(median).collect();
            print_row(&cases[0].name, &f[0]);
            print_row(&cases[1].name, &f[1]);
            println!(
                "catalog at {conns} connections: {:.1} % of bare hyper{}",
                100.0 * f[1].rps / f[0].rps,
                if conns == connections {
                    " (goal >= 95 %)"
                } else {
                    ""
                }
            );
            println!(
                "  median of the paired rounds' ratios: {:.1} % (rounds {:.1} to {:.1} %)",
                100.0 * paired,
                100.0 * low,
                100.0 * high
            );
            println!(
                "  server CPU per catalog request: {:.1} us vs {:.1} us bare ({:+.1} %)",
                f[1].cpu_us,
                f[0].cpu_us,
                100.0 * (f[1].cpu_us / f[0].cpu_us - 1.0)
            );
        }
        rt.block_on(ours.shutdown());
    }

    if section("provision") {
        let sqlite = SqliteStore::open(dir.join("provision.sqlite")).unwrap();
        let on_memory = rt.block_on(serve(Arc::new(MemoryStore::default())));
        let on_sqlite = rt.block_on(serve(Arc::new(sqlite)));
        let (mem_url, sql_url) = (on_memory.url(), on_sqlite.url());
        header(&format!(
            "PUT provision (sync, new ids), {connections} connections"
        ));
        let mut cases = [
            Case {
                name: "bare hyper, reads + decodes the body".to_owned(),
                run: Box::new(|r| provision(&bare_url, &format!("bare-{run_id}-{r}"), connections)),
            },
            Case {
                name: "osb-server-mini, MemoryStore".to_owned(),
                run: Box::new(|r| provision(&mem_url, &format!("mem-{run_id}-{r}"), connections)),
            },
            Case {
                name: "osb-server-mini, SqliteStore".to_owned(),
                run: Box::new(|r| provision(&sql_url, &format!("sql-{run_id}-{r}"), connections)),
            },
        ];
        let f = alternate(rounds, &mut cases);
        for (case, f) in cases.iter().zip(&f) {
            print_row(&case.name, f);
        }
        let fsync = raw_fsync_rate(&dir, 2.0);
        println!("{:<44} {fsync:>9.0}", "raw write+fsync rate of the disk (per s)");
        println!(
            "memory store provision: {:.1} % of bare hyper (goal >= 85 %)",
            100.0 * f[1].rps / f[0].rps
        );
        println!(
            "  server CPU per provision: memory store {:.1} us, SQLite {:.1} us, bare {:.1} us",
            f[1].cpu_us, f[2].cpu_us, f[0].cpu_us
        );
        println!(
            "SQLite provision: {:.2}x the raw fsync rate (goal >= 3x: group commit)",
            f[2].rps / fsync
        );
        rt.block_on(on_memory.shutdown());
        rt.block_on(on_sqlite.shutdown());
    }

    if section("ops") {
        let plain = rt.block_on(serve(Arc::new(MemoryStore::default())));
        let metered = rt
            .block_on(
                Server::new(Bench)
                    .basic_auth(USER, PASSWORD)
                    .shared_store(Arc::new(MemoryStore::default()))
                    .ops_listener("127.0.0.1:0".parse().unwrap())
                    .spawn("127.0.0.1:0"),
            )
            .expect("server starts");
        let hashed = rt
            .block_on(
                Server::new(Bench)
                    .basic_auth_hash(USER, &osb_server_mini::auth::hash_password(PASSWORD))
                    .shared_store(Arc::new(MemoryStore::default()))
                    .spawn("127.0.0.1:0"),
            )
            .expect("server starts");
        let (plain_url, metered_url, hashed_url) = (plain.url(), metered.url(), hashed.url());
        // The goal is the cost after the first request: verify the credential once first.
        Wrk {
            seconds: 1,
            script: wrk.script.clone(),
        }
        .run(&format!("{hashed_url}/v2/catalog"), None, 1);
        header(&format!(
            "operations features: metrics on vs off, hashed vs plain Basic password, {connections} connections"
        ));
        let mut cases = [
            Case {
                name: "catalog, metrics off".to_owned(),
                run: Box::new(|_| wrk.run(&format!("{plain_url}/v2/catalog"), None, connections)),
            },
            Case {
                name: "catalog, metrics on".to_owned(),
                run: Box::new(|_| wrk.run(&format!("{metered_url}/v2/catalog"), None, connections)),
            },
            Case {
                name: "provision, metrics off, plain password".to_owned(),
                run: Box::new(|r| provision(&plain_url, &format!("plain-{run_id}-{r}"), connections)),
            },
            Case {
                name: "provision, metrics on".to_owned(),
                run: Box::new(|r| provision(&metered_url, &format!("metered-{run_id}-{r}"), connections)),
            },
            Case {
                name: "provision, hashed password (cached)".to_owned(),
                run: Box::new(|r| provision(&hashed_url, &format!("hashed-{run_id}-{r}"), connections)),
            },
        ];
        let f = alternate(rounds, &mut cases);
        for (case, f) in cases.iter().zip(&f) {
            print_row(&case.name, f);
        }
        let cost = |on: &Figures, off: &Figures| 100.0 * (1.0 - on.rps / off.rps);
        println!(
            "metrics cost: catalog {:.1} %, provision {:.1} % (goal <= 3 %)",
            cost(&f[1], &f[0]),
            cost(&f[3], &f[2])
        );
        println!(
            "hashed password cost after the first request: {:.1} % (goal <= 3 %)",
            cost(&f[4], &f[2])
        );
        let cpu_cost = |on: &Figures, off: &Figures| 100.0 * (on.cpu_us / off.cpu_us - 1.0);
        println!(
            "  in server CPU per request: metrics catalog {:+.1} %, provision {:+.1} %; hashed password {:+.1} %",
            cpu_cost(&f[1], &f[0]),
            cpu_cost(&f[3], &f[2]),
            cpu_cost(&f[4], &f[2])
        );
        drop(cases);
        for s in [plain, metered, hashed] {
            rt.block_on(s.shutdown());
        }
    }

    if section("flat") {
        header(&format!(
            "store cost with 1,000 vs 100,000 recorded instances, {connections} connections"
        ));
        let mut servers = Vec::new();
        for (kind, n) in [
            ("memory", 1_000),
            ("memory", 100_000),
            ("sqlite", 1_000),
            ("sqlite", 100_000),
        ] {
            let store: Arc<dyn Store> = if kind == "memory" {
                Arc::new(MemoryStore::default())
            } else {
                Arc::new(SqliteStore::open(dir.join(format!("flat-{n}.sqlite"))).unwrap())
            };
            let t = Instant::now();
            rt.block_on(populate(&store, n, "seed"));
            println!(
                "(recorded {n} instances in the {kind} store in {:.1} s)",
                t.elapsed().as_secs_f64()
            );
            let name = format!("osb-server-mini, {kind}, {n} instances");
            servers.push((name, rt.block_on(serve(store))));
        }
        let mut cases: Vec<Case<'_>> = servers
            .iter()
            .enumerate()
            .map(|(i, (name, server))| {
                let url = server.url();
                let provision = &provision;
                Case {
                    name: name.clone(),
                    run: Box::new(move |r| provision(&url, &format!("flat{i}-{run_id}-{r}"), connections)),
                }
            })
            .collect();
        let f = alternate(rounds, &mut cases);
        for (case, f) in cases.iter().zip(&f) {
            print_row(&case.name, f);
        }
        println!(
            "req/s at 100,000 / at 1,000 instances: memory {:.2}, SQLite {:.2} (goal: flat, about 1.0)",
            f[1].rps / f[0].rps,
            f[3].rps / f[2].rps
        );
        drop(cases);
        for (_, s) in servers {
            rt.block_on(s.shutdown());
        }
    }

    #[cfg(feature = "postgres")]
    if section("postgres") {
        postgres::run(&rt, &wrk, &bare_url, rounds, connections, run_id);
    }
    #[cfg(not(feature = "postgres"))]
    if section("postgres") && !only.is_empty() {
        println!("\n(PostgreSQL section skipped: build with --features postgres)");
    }

    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use osb_server_mini::store::PostgresStore;

    /// Provisions on PostgreSQL with one replica and with two sharing the database. The
    /// replicas are two servers with their own store (own connection pool, `shared`: every
    /// write goes through the database's locks), as two processes would be.
    pub(super) fn run(
        rt: &tokio::runtime::Runtime,
        wrk: &Wrk,
        bare_url: &str,
        rounds: usize,
        conns: usize,
        run_id: u32,
    ) {
        let Some(url) = std::env::var("OSB_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("OSB_TEST_POSTGRES_URL"))
            .ok()
        else {
            println!("\n(PostgreSQL section skipped: set OSB_BENCH_POSTGRES_URL, or run bench/run)");
            return;
        };
        let replica = || {
            rt.block_on(async {
                let store = PostgresStore::connect(&url).await.expect("PostgreSQL reachable");
                serve(Arc::new(store)).await
            })
        };
        let (a, b) = (replica(), replica());
        let (a_url, b_url) = (a.url(), b.url());
        header(&format!(
            "PUT provision on PostgreSQL, {conns} connections in all"
        ));
        let one = |url: &str, prefix: String, conns: usize| wrk.provision(url, &prefix, conns);
        let mut cases = [
            Case {
                name: "bare hyper, reads + decodes the body".to_owned(),
                run: Box::new(|r| one(bare_url, format!("pgbare-{run_id}-{r}"), conns)),
            },
            Case {
                name: "one replica".to_owned(),
                run: Box::new(|r| one(&a_url, format!("pg1-{run_id}-{r}"), conns)),
            },
            Case {
                name: "two replicas (half the connections each)".to_owned(),
                run: Box::new(|r| {
                    let half = (conns / 2).max(1);
                    std::thread::scope(|s| {
                        let left = s.spawn(|| one(&a_url, format!("pg2a-{run_id}-{r}"), half));
                        let right = one(&b_url, format!("pg2b-{run_id}-{r}"), half);
                        let left = left.join().expect("wrk thread");
                        Figures {
                            rps: left.rps + right.rps,
                            p50_ms: left.p50_ms.max(right.p50_ms),
                            p99_ms: left.p99_ms.max(right.p99_ms),
                            errors: left.errors + right.errors,
                            requests: left.requests + right.requests,
                            // Both runs overlap, so each saw the CPU of both servers: the
                            // longer window's total, shared by all requests.
                            cpu_us: (left.cpu_us * left.requests as f64)
                                .max(right.cpu_us * right.requests as f64)
                                / (left.requests + right.requests).max(1) as f64,
                            steal_pct: left.steal_pct.max(right.steal_pct),
                        }
                    })
                }),
            },
        ];
        let f = alternate(rounds, &mut cases);
        for (case, f) in cases.iter().zip(&f) {
            print_row(&case.name, f);
        }
        println!(
            "two replicas together: {:.1} % of one replica (goal: within 10 %, >= 90 %)",
            100.0 * f[2].rps / f[1].rps
        );
        rt.block_on(a.shutdown());
        rt.block_on(b.shutdown());
    }
}
