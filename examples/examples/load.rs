//! Run with: cargo run --release -p osb-examples --example load
//!
//! A load run, not a test: starts the derived echo broker in-process on a free loopback port
//! and drives `OSB_LOAD_REQUESTS` requests (default 100000) through one shared `osb-client`
//! [`Client`] from `OSB_LOAD_CONNECTIONS` tasks (default 100), each started with
//! `tokio::spawn` (the client's futures are `Send`), sharing the client's keep-alive
//! connection pool. Each task loops over lifecycles of the synchronous `small` plan with
//! unique ids: provision → last_operation → bind → catalog → unbind → deprovision.
//!
//! Prints the total, requests per second, p50 / p99 / max latency (of each client call), the
//! errors (by HTTP status, transport failures and refusals as status 0) and the peak RSS of
//! the process (`VmHWM`). Exits non-zero if any request failed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use osb_client::Client;
use osb_client::types::operation::LastOperationParams;
use osb_client::types::{BindRequest, ProvisionRequest};
use osb_examples::{echo::EchoBroker, echo_ids};
use osb_server_mini::Server;

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
    let rss_idle = peak_rss_kib();
    println!(
        "echo broker on {}; {total} requests through osb-client from {connections} spawned tasks",
        broker.url()
    );

    let client = Client::builder(broker.url()).basic_auth(USER, PASSWORD).build()?;
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(connections);
    for worker in 0..connections {
        let (client, issued) = (client.clone(), Arc::clone(&issued));
        workers.push(tokio::spawn(async move {
            run_worker(worker, &client, &issued, total).await
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
                    format!("transport/refused×{n}")
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

/// One task driving lifecycles through the shared client until the shared budget is spent.
async fn run_worker(worker: usize, client: &Client, issued: &AtomicUsize, total: usize) -> Stats {
    let mut stats = Stats {
        latencies_us: Vec::with_capacity(total / 50 + 16),
        ..Stats::default()
    };
    let (service, plan) = (echo_ids::SERVICE, echo_ids::SMALL);
    let provision = ProvisionRequest::new(service, plan).with_org_space("org", "space");
    let bind = BindRequest::new(service, plan).with_parameters(serde_json::json!({ "worker": worker }));
    let poll = LastOperationParams::default();
    for round in 0usize.. {
        let instance = client.instance(format!("load-{worker}-{round}"));
        let binding = instance.binding(format!("b-{worker}-{round}"));
        for step in 0..6 {
            if issued.fetch_add(1, Ordering::Relaxed) >= total {
                return stats;
            }
            let t0 = Instant::now();
            let result = match step {
                0 => instance.provision(&provision).await.map(drop),
                1 => instance.last_operation(&poll).await.map(drop),
                2 => binding.bind(&bind).await.map(drop),
                3 => client.catalog().await.map(drop),
                4 => binding.unbind(service, plan).await.map(drop),
                _ => instance.deprovision(service, plan).await.map(drop),
            };
            let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
            stats.latencies_us.push(us);
            if let Err(e) = result {
                *stats.errors.entry(e.status().unwrap_or(0)).or_default() += 1;
            }
        }
    }
    stats
}
