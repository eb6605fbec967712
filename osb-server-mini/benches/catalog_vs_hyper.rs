//! Benchmark (not a test): `cargo bench -p osb-server-mini --bench catalog_vs_hyper`
//!
//! Serves `GET /v2/catalog` and a synchronous provision from osb-server-mini, and the same
//! bytes from a bare hyper server, in the same run, on loopback; prints req/s and p99 for
//! both and the ratio. `OSB_BENCH_REQUESTS` (default 20000), `OSB_BENCH_CONNECTIONS`
//! (default 16) and `OSB_BENCH_ROUNDS` (default 5; the two servers alternate, and each
//! side's best round is reported) size the run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::catalog::{InputParametersSchema, Schemas, ServiceInstanceSchema};
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Server};

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
                        let _ = req.into_body().collect().await;
                        let (status, body) = if is_put {
                            (StatusCode::CREATED, Bytes::from_static(b"{}"))
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

#[derive(Clone, Copy)]
enum Kind {
    Catalog,
    Provision,
}

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

/// Sends `requests` requests over `connections` connections. Provisions use the instance ids
/// `{run}-0..`, so that every run creates new instances (a repeated id would hit the cheaper
/// "identical repeat" 200 path).
async fn load(addr: SocketAddr, kind: Kind, run: &str, requests: usize, connections: usize) -> Figures {
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
                let builder = Request::builder()
                    .header("host", "bench")
                    .header("x-broker-api-version", "2.17");
                let req = match kind {
                    Kind::Catalog => builder
                        .method("GET")
                        .uri("/v2/catalog")
                        .body(Full::new(Bytes::new())),
                    Kind::Provision => builder
                        .method("PUT")
                        .uri(format!("/v2/service_instances/{run}-{n}"))
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from_static(
                            br#"{"service_id":"svc-0","plan_id":"plan-0-0"}"#,
                        ))),
                }
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
    let _ = Empty::<Bytes>::new();
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
    let bytes = Bytes::from(serde_json::to_vec(&catalog()).unwrap());
    let ours = Server::new(Bench)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts");
    let bare = bare_hyper(bytes.clone()).await;
    println!(
        "{requests} requests over {connections} connections, best of {rounds} alternating rounds, catalog body {} bytes",
        bytes.len()
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>7}",
        "case", "req/s", "p50", "p99", "errors"
    );
    for (name, kind) in [
        ("GET /v2/catalog", Kind::Catalog),
        ("PUT provision (sync)", Kind::Provision),
    ] {
        // Warm both up, then measure bare hyper and ours in alternating rounds (so a burst of
        // noise on the shared cores hits both), keeping each side's best round. Every round
        // has its own instance ids.
        load(bare, kind, "warm", requests / 10, connections).await;
        load(ours.local_addr(), kind, "warm", requests / 10, connections).await;
        let mut b: Option<Figures> = None;
        let mut o: Option<Figures> = None;
        for round in 0..rounds {
            let fb = load(bare, kind, &format!("bare-{round}"), requests, connections).await;
            let fo = load(
                ours.local_addr(),
                kind,
                &format!("ours-{round}"),
                requests,
                connections,
            )
            .await;
            b = Some(best(b, fb));
            o = Some(best(o, fo));
        }
        let (b, o) = (b.expect("at least one round"), o.expect("at least one round"));
        for (who, f) in [("bare hyper", &b), ("osb-server-mini", &o)] {
            println!(
                "{:<28} {:>10.0} {:>10.2?} {:>10.2?} {:>7}",
                format!("{name} {who}"),
                f.rps,
                f.p50,
                f.p99,
                f.errors
            );
        }
        let ratio = 100.0 * o.rps / b.rps;
        println!("{:<28} {:>9.1}%", format!("{name} ratio"), ratio);
        for (who, f) in [("bare hyper", &b), ("osb-server-mini", &o)] {
            if f.errors > 0 {
                println!(
                    "WARNING: {name} {who}: {} of {} requests failed; its figures are not comparable",
                    f.errors,
                    requests * rounds
                );
            }
        }
        if matches!(kind, Kind::Catalog) {
            let verdict = if ratio >= 95.0 { "met" } else { "NOT met" };
            println!("catalog goal (>= 95% of bare hyper req/s): {verdict} ({ratio:.1}%)");
        }
    }
    ours.shutdown().await;
}
