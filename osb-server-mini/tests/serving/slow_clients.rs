//! Slow, silent, trickling and half-sent clients: read timeouts, idle connections, HTTP/2 idle timeout.

use crate::*;

/// Waits until the server closes `s` (EOF, a reset, or a 408 answer), at most `wait`.
/// Bytes of `trickle` are sent one per `every` meanwhile.
pub(crate) async fn closed_by_server(
    mut s: TcpStream,
    trickle: &[u8],
    every: Duration,
    wait: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if sent < trickle.len() && s.write_all(&trickle[sent..=sent]).await.is_ok() {
            sent += 1;
        }
        let until = (tokio::time::Instant::now() + every).min(deadline);
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                let text = String::from_utf8_lossy(&got);
                return if got.is_empty() || text.starts_with("HTTP/1.1 408") {
                    Ok(())
                } else {
                    Err(format!("unexpected answer before close: {text}"))
                };
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("still open after {wait:?} ({sent} bytes sent)"));
            }
            Err(_) => {}
        }
    }
}

#[tokio::test]
async fn slow_body_is_408() {
    let running = start(Server::new(Tiny).body_read_timeout(Duration::from_millis(200))).await;
    let res = raw(
        &running,
        b"PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{\"service_id\"",
        Duration::from_secs(3),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 408"), "{res}");
    assert_eq!(json_body(&res)["error"], "RequestTimeout");
    catalog_ok(&running).await;
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_others_are_served() {
    let running = start(Server::new(Tiny).header_read_timeout(Duration::from_millis(300))).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
        s.write_all(b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        idle.push(s);
    }
    catalog_ok(&running).await;
    // After the timeout the server has closed the trickling connections.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), idle[0].read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "a connection that never finished its headers stayed open"
    );
    catalog_ok(&running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_closed_and_others_are_served() {
    let running = start(
        Server::new(Tiny)
            .header_read_timeout(Duration::from_millis(300))
            .max_connections(4096),
    )
    .await;
    let addr = running.local_addr();
    let mut idle = Vec::new();
    let mut trickling = Vec::new();
    for _ in 0..500 {
        idle.push(TcpStream::connect(addr).await.unwrap());
        trickling.push(TcpStream::connect(addr).await.unwrap());
    }
    catalog_ok(&running).await;
    let request = b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\n\r\n";
    let mut tasks = Vec::new();
    for s in idle {
        tasks.push(tokio::spawn(closed_by_server(
            s,
            b"",
            Duration::from_secs(1),
            Duration::from_secs(6),
        )));
    }
    for s in trickling {
        // One header byte per second: never a complete head within the timeout.
        tasks.push(tokio::spawn(closed_by_server(
            s,
            request,
            Duration::from_secs(1),
            Duration::from_secs(6),
        )));
    }
    catalog_ok(&running).await;
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 1000 connections were not closed, e.g. {}",
        failures.len(),
        failures[0]
    );
    catalog_ok(&running).await;
}

#[tokio::test]
async fn silent_connections_cannot_lock_others_out() {
    let running = start(
        Server::new(Tiny)
            .header_read_timeout(Duration::from_millis(300))
            .max_connections(20),
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(running.local_addr()).await.unwrap());
    }
    // Once the silent connections time out, a real client gets its answer.
    let client = reqwest::Client::new();
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let res = client
                .get(format!("{}/v2/catalog", running.url()))
                .header("X-Broker-API-Version", "2.17")
                .send()
                .await;
            if let Ok(res) = res {
                if res.status() == 200 {
                    return;
                }
                assert_eq!(res.status(), 503, "only the cap may refuse it");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "20 silent connections locked every client out");
    drop(silent);
}

#[tokio::test]
async fn idle_http2_connection_is_closed_after_the_timeout() {
    let running = start(Server::new(Tiny).header_read_timeout(Duration::from_millis(300))).await;
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame, then nothing.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "an idle HTTP/2 connection stayed open");
    // The server's SETTINGS, then GOAWAY (frame type 7) before it closed.
    assert!(
        got.windows(4)
            .any(|w| w[3] == 7 && w[0] == 0 && w[1] == 0 && w[2] == 8),
        "no GOAWAY frame: {got:?}"
    );
}

#[tokio::test]
async fn timeouts_of_duration_max_mean_never_and_do_not_overflow() {
    let running = start(
        Server::new(Tiny)
            .header_read_timeout(Duration::MAX)
            .body_read_timeout(Duration::MAX),
    )
    .await;
    // Two requests on one keep-alive connection: the idle deadline is computed after each.
    let client = reqwest::Client::new();
    for _ in 0..2 {
        catalog_ok(&running).await;
        let res = client
            .put(format!("{}/v2/service_instances/i-max", running.url()))
            .header("X-Broker-API-Version", "2.17")
            .header("content-type", "application/json")
            .body(r#"{"service_id":"svc","plan_id":"plan"}"#)
            .send()
            .await
            .unwrap();
        assert!(matches!(res.status().as_u16(), 200 | 201), "{res:?}");
    }
}

/// Issue "slow clients are held twice as long as documented": 50 connections that each send
/// half a request head and stop are closed within the header read timeout plus a small grace,
/// not after twice the timeout (the bug: every one closed at 2.0x). Lower bound: none is
/// closed before the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_heads_are_closed_within_the_header_read_timeout_not_twice_it() {
    let timeout = Duration::from_secs(2);
    let running = start(Server::new(Tiny).header_read_timeout(timeout)).await;
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(running.local_addr()).await.expect("connect");
        s.write_all(b"GET /v2/catalog HTTP/1.1\r\nHost: x\r\nX-Broker-API-")
            .await
            .expect("half a head");
        tasks.push(tokio::spawn(async move {
            let mut buf = [0u8; 256];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return tokio::time::Instant::now(),
                    Ok(_) => {}
                }
            }
        }));
    }
    let mut latest = Duration::ZERO;
    for t in tasks {
        let closed = tokio::time::timeout(timeout * 4, t)
            .await
            .expect("hang guard: closed at all")
            .expect("task");
        let after = closed - started;
        assert!(
            after >= timeout - Duration::from_millis(100),
            "closed too early: {after:?}"
        );
        latest = latest.max(after);
    }
    // The bug closed every connection at exactly twice the timeout; the grace is at most 1 s.
    assert!(
        latest < timeout * 2 - Duration::from_millis(300),
        "held until {latest:?}, about twice the {timeout:?} timeout"
    );
    catalog_ok(&running).await;
}
