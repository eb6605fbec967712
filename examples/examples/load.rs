//! Run with: cargo run --release -p osb-examples --example load
//!
//! A load run, not a test: starts the derived echo broker in-process on a free loopback port
//! and drives `OSB_LOAD_REQUESTS` requests (default 100000) over `OSB_LOAD_CONNECTIONS`
//! keep-alive HTTP/1.1 connections (default 100), one worker per connection. Each worker
//! loops over lifecycles of the synchronous `small` plan with unique ids:
//! provision → last_operation → bind → catalog → unbind → deprovision.
//!
//! Prints the total, requests per second, p50 / p99 / max latency, the errors (any non-2xx
//! status, and transport failures as status 0) and the peak RSS of the process (`VmHWM`).
//! Exits non-zero if any request failed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use osb_examples::{echo::EchoBroker, echo_ids};
use osb_server_mini::Server;
use tokio::net::TcpStream;

const USER: &str = "load";
const PASSWORD: &str = "load-password";

/// What one worker measured.
#[derive(Debug, Default)]
struct Stats {
    latencies_us: Vec<u32>,
    errors: BTreeMap<u16, u64>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total = env_usize("OSB_LOAD_REQUESTS", 100_000);
    let connections = env_usize("OSB_LOAD_CONNECTIONS", 100);
    let broker = Server::new(EchoBroker::new("http://dash", Duration::from_millis(10)))
        .basic_auth(USER, PASSWORD)
        .max_connections(connections + 16)
        .spawn("127.0.0.1:0")
        .await?;
    let addr = broker.local_addr();
    let rss_idle = peak_rss_kib();
    println!(
        "echo broker on {}; {total} requests over {connections} keep-alive connections",
        broker.url()
    );

    let auth = Arc::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    ));
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(connections);
    for worker in 0..connections {
        let (auth, issued) = (Arc::clone(&auth), Arc::clone(&issued));
        workers.push(tokio::spawn(async move {
            run_worker(worker, addr, &auth, &issued, total).await
        }));
    }
    let mut all = Stats::default();
    for w in workers {
        let stats = w.await?;
        all.latencies_us.extend(stats.latencies_us);
        for (status, n) in stats.errors {
            *all.errors.entry(status).or_default() += n;
        }
    }
    let elapsed = started.elapsed();
    broker.shutdown().await;

    let done = all.latencies_us.len();
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> Duration {
        if all.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let i = ((done as f64 * p).ceil() as usize).clamp(1, done) - 1;
        Duration::from_micros(u64::from(all.latencies_us[i]))
    };
    let errors: u64 = all.errors.values().sum();
    let peak = peak_rss_kib();
    println!("requests:     {done}");
    println!("elapsed:      {elapsed:.2?}");
    println!("throughput:   {:.0} req/s", done as f64 / elapsed.as_secs_f64());
    println!("latency p50:  {:.2?}", pct(0.50));
    println!("latency p99:  {:.2?}", pct(0.99));
    println!("latency max:  {:.2?}", pct(1.0));
    if errors == 0 {
        println!("errors:       0");
    } else {
        let by_status = all
            .errors
            .iter()
            .map(|(s, n)| {
                if *s == 0 {
                    format!("transport×{n}")
                } else {
                    format!("{s}×{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        println!("errors:       {errors} ({by_status})");
    }
    let mib = |k: Option<u64>| {
        k.map_or_else(
            || "unknown".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    println!("peak RSS:     {} (after startup: {})", mib(peak), mib(rss_idle));
    if errors > 0 {
        return Err(format!("{errors} request(s) failed").into());
    }
    Ok(())
}

/// One keep-alive connection driving lifecycles until the shared budget is spent.
async fn run_worker(
    worker: usize,
    addr: std::net::SocketAddr,
    auth: &str,
    issued: &AtomicUsize,
    total: usize,
) -> Stats {
    let mut stats = Stats {
        latencies_us: Vec::with_capacity(total / 50 + 16),
        ..Stats::default()
    };
    let mut conn: Option<SendRequest<Full<Bytes>>> = None;
    let q = format!("service_id={}&plan_id={}", echo_ids::SERVICE, echo_ids::SMALL);
    let provision_body = Bytes::from(format!(
        r#"{{"service_id":"{}","plan_id":"{}","organization_guid":"org","space_guid":"space"}}"#,
        echo_ids::SERVICE,
        echo_ids::SMALL
    ));
    let bind_body = Bytes::from(format!(
        r#"{{"service_id":"{}","plan_id":"{}","parameters":{{"worker":{worker}}}}}"#,
        echo_ids::SERVICE,
        echo_ids::SMALL
    ));
    for round in 0usize.. {
        let instance = format!("/v2/service_instances/load-{worker}-{round}");
        let binding = format!("{instance}/service_bindings/b-{worker}-{round}");
        let steps: [(&str, String, Option<&Bytes>); 6] = [
            ("PUT", instance.clone(), Some(&provision_body)),
            ("GET", format!("{instance}/last_operation"), None),
            ("PUT", binding.clone(), Some(&bind_body)),
            ("GET", "/v2/catalog".to_owned(), None),
            ("DELETE", format!("{binding}?{q}"), None),
            ("DELETE", format!("{instance}?{q}"), None),
        ];
        for (method, path, body) in steps {
            if issued.fetch_add(1, Ordering::Relaxed) >= total {
                return stats;
            }
            let req = Request::builder()
                .method(method)
                .uri(path)
                .header("host", addr.to_string())
                .header("authorization", auth)
                .header("x-broker-api-version", "2.17")
                .header("content-type", "application/json")
                .body(Full::new(body.cloned().unwrap_or_default()))
                .expect("a valid request");
            let t0 = Instant::now();
            let status = send(&mut conn, addr, req).await;
            let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
            stats.latencies_us.push(us);
            if !(200..300).contains(&status) {
                *stats.errors.entry(status).or_default() += 1;
            }
        }
    }
    stats
}

/// Sends on the worker's connection (opening it if needed) and reads the whole answer;
/// returns the status, or 0 on a transport failure (the connection is then reopened).
async fn send(
    conn: &mut Option<SendRequest<Full<Bytes>>>,
    addr: std::net::SocketAddr,
    req: Request<Full<Bytes>>,
) -> u16 {
    if conn.as_ref().is_none_or(SendRequest::is_closed) {
        *conn = connect(addr).await;
    }
    let Some(sender) = conn.as_mut() else {
        return 0;
    };
    if sender.ready().await.is_err() {
        *conn = None;
        return 0;
    }
    match sender.send_request(req).await {
        Ok(res) => {
            let status = res.status().as_u16();
            match res.into_body().collect().await {
                Ok(_) => status,
                Err(_) => {
                    *conn = None;
                    0
                }
            }
        }
        Err(_) => {
            *conn = None;
            0
        }
    }
}

async fn connect(addr: std::net::SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Some(sender)
}
