//! Benchmark (not a test): `cargo bench -p osb-server-mini --no-default-features --bench ops_overhead`
//!
//! The cost of the operations features on a synchronous provision, in one run: metrics on
//! (an operations listener) against off, and a Basic user with an argon2id hash (verified
//! once, then from the cache) against a plain password. Three servers, alternating rounds,
//! each side's best round; `OSB_BENCH_REQUESTS` (default 20000), `OSB_BENCH_CONNECTIONS`
//! (default 16), `OSB_BENCH_ROUNDS` (default 5).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Server};

struct Bench;

impl Broker for Bench {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "bench",
            "A service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
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

/// `admin:secret`.
const AUTH: &str = "Basic YWRtaW46c2VjcmV0";

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

/// Sends `requests` provisions over `connections` connections, with the instance ids
/// `{run}-0..` (every run creates new instances) and this `Authorization` header.
async fn load(
    addr: SocketAddr,
    auth: &'static str,
    run: &str,
    requests: usize,
    connections: usize,
) -> Figures {
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let counter = Arc::clone(&counter);
        let errors = Arc::clone(&errors);
        let run = run.to_owned();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut latencies = Vec::new();
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= requests as u64 {
                    break;
                }
                let req = Request::builder()
                    .header("host", "bench")
                    .header("x-broker-api-version", "2.17")
                    .header("authorization", auth)
                    .method("PUT")
                    .uri(format!("/v2/service_instances/{run}-{n}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(
                        br#"{"service_id":"svc","plan_id":"plan"}"#,
                    )))
                    .unwrap();
                let t = Instant::now();
                match sender.send_request(req).await {
                    Ok(res) => {
                        let ok = res.status().is_success();
                        let _ = res.into_body().collect().await;
                        if !ok {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        rps: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// The round with the higher throughput; errors add up over all rounds.
fn best(kept: Option<Figures>, new: Figures) -> Figures {
    match kept {
        None => new,
        Some(k) => {
            let errors = k.errors + new.errors;
            let mut winner = if new.rps > k.rps { new } else { k };
            winner.errors = errors;
            winner
        }
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let requests = env("OSB_BENCH_REQUESTS", 20_000);
    let connections = env("OSB_BENCH_CONNECTIONS", 16);
    let rounds = env("OSB_BENCH_ROUNDS", 5).max(1);
    let plain = Server::new(Bench)
        .basic_auth("admin", "secret")
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let metrics = Server::new(Bench)
        .basic_auth("admin", "secret")
        .ops_listener("127.0.0.1:0".parse().unwrap())
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let hashed = Server::new(Bench)
        .basic_auth_hash("admin", &osb_server_mini::auth::hash_password("secret"))
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    // `OSB_BENCH_ORDER=reversed` runs the sides in the other order within each round.
    let sides = [
        ("plain, metrics off", plain.local_addr()),
        ("plain, metrics on", metrics.local_addr()),
        ("hashed (cached), metrics off", hashed.local_addr()),
    ];
    let order: Vec<usize> = match std::env::var("OSB_BENCH_ORDER").as_deref() {
        Ok("reversed") => vec![2, 1, 0],
        _ => vec![0, 1, 2],
    };
    println!(
        "{requests} sync provisions over {connections} connections, best of {rounds} alternating rounds"
    );
    for (i, (_, addr)) in sides.iter().enumerate() {
        load(*addr, AUTH, &format!("warm-{i}"), requests / 10, connections).await;
    }
    let mut kept: Vec<Option<Figures>> = vec![None, None, None];
    for round in 0..rounds {
        for &i in &order {
            let addr = sides[i].1;
            let f = load(addr, AUTH, &format!("r{round}-{i}"), requests, connections).await;
            kept[i] = Some(best(kept[i].take(), f));
        }
    }
    let figures: Vec<Figures> = kept.into_iter().map(|f| f.expect("a round")).collect();
    println!(
        "{:<30} {:>10} {:>10} {:>10} {:>7}",
        "case", "req/s", "p50", "p99", "errors"
    );
    for ((name, _), f) in sides.iter().zip(&figures) {
        println!(
            "{name:<30} {:>10.0} {:>10.2?} {:>10.2?} {:>7}",
            f.rps, f.p50, f.p99, f.errors
        );
    }
    let cost = |f: &Figures| 100.0 * (1.0 - f.rps / figures[0].rps);
    println!("metrics cost: {:.1}% (goal <= 3%)", cost(&figures[1]));
    println!(
        "hashed-credential cost after the first request: {:.1}% (goal <= 3%)",
        cost(&figures[2])
    );
    plain.shutdown().await;
    metrics.shutdown().await;
    hashed.shutdown().await;
}
