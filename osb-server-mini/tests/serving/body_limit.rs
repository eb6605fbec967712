//! The body limit, and the answers that come before it (401, 412, routing errors), logged inside the request span.

use crate::*;

#[tokio::test]
async fn a4_unauthenticated_over_limit_body_is_401_not_413() {
    let running = start(Server::new(Tiny).basic_auth("admin", "secret").body_limit(1024)).await;
    // Declared too large, and streamed (chunked, never finished): 401 either way, at once.
    for framing in ["content-length: 100000000", "transfer-encoding: chunked"] {
        let res = answer_to_head(
            &running,
            &format!(
                "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\nx-broker-api-request-identity: rid-401\r\ncontent-type: application/json\r\n{framing}\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(res.status, 401, "{framing}: {res:?}");
        assert!(
            res.header("www-authenticate").unwrap().starts_with("Basic"),
            "{res:?}"
        );
        assert_eq!(res.header("x-broker-api-request-identity"), Some("rid-401"));
        assert_eq!(res.json()["error"], "Unauthorized");
    }
    // The same with credentials reaches the body checks.
    let res = answer_to_head(
        &running,
        &format!(
            "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 413, "{res:?}");
}

#[tokio::test]
async fn a1_wrong_version_with_big_body_is_412() {
    let running = start(Server::new(Tiny).body_limit(1024)).await;
    for version in ["1.0", "2.1"] {
        let res = answer_to_head(
            &running,
            &format!(
                "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: {version}\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(res.status, 412, "{version}: {res:?}");
        let body = res.json();
        assert_eq!(body["error"], "PreconditionFailed");
        assert!(
            body["description"].as_str().unwrap().contains("2.13 or later"),
            "{body}"
        );
    }
    // A big body that really is sent in full: still 412, and the server stays healthy.
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    let big = vec![b' '; 2 * 1024 * 1024];
    let head = format!(
        "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        big.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        // The server may close before it has all of it.
        let _ = wr.write_all(&big).await;
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let res = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(a) = parse_answer(&buf) {
                return a;
            }
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => return parse_answer(&buf).expect("a complete answer"),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .expect("answered");
    assert_eq!(res.status, 412, "missing version: {res:?}");
    assert!(
        res.json()["description"]
            .as_str()
            .unwrap()
            .contains("is required")
    );
    writer.abort();
    catalog_ok(&running).await;
}

#[tokio::test]
async fn head_errors_come_before_the_body_limit() {
    let running = start(Server::new(Tiny).body_limit(16)).await;
    let cases = [
        ("GET /v2/nope HTTP/1.1", "", 404, "NotFound"),
        ("POST /v2/catalog HTTP/1.1", "", 405, "MethodNotAllowed"),
        (
            "PUT /v2/service_instances/i1 HTTP/1.1",
            "x-broker-api-originating-identity: cloudfoundry not-base64!\r\n",
            400,
            "BadRequest",
        ),
    ];
    for (line, extra, status, code) in cases {
        let res = answer_to_head(
            &running,
            &format!(
                "{line}\r\nhost: x\r\nx-broker-api-version: 2.17\r\n{extra}content-type: application/json\r\ncontent-length: 100000\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(res.status, status, "{line}: {res:?}");
        assert_eq!(res.json()["error"], code, "{line}");
    }
}

#[tokio::test]
async fn authenticated_over_limit_body_is_413_json() {
    let running = start(Server::new(Tiny).basic_auth("admin", "secret").body_limit(64)).await;
    let res = answer_to_head(
        &running,
        &format!(
            "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ncontent-length: 65\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 413, "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["error"], "PayloadTooLarge");
    assert!(
        body["description"].as_str().unwrap().contains("64 bytes"),
        "{body}"
    );
    // Streamed past the limit: 413 too.
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    let chunk = "x".repeat(100);
    s.write_all(
        format!(
            "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n",
            chunk.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let res = read_answer(&mut s, Duration::from_secs(5)).await;
    assert_eq!(res.status, 413, "{res:?}");
    assert_eq!(res.json()["error"], "PayloadTooLarge");
}

#[tokio::test(flavor = "current_thread")]
async fn early_errors_are_logged_inside_the_request_span() {
    let logs = crate::tracing_support::global(tracing::Level::DEBUG);
    let running = start(Server::new(Tiny).basic_auth("admin", "secret")).await;
    let res = answer_to_head(
        &running,
        "PUT /v2/service_instances/span-1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\nx-broker-api-request-identity: rid-span\r\ncontent-length: 100000000\r\n\r\n",
    )
    .await;
    assert_eq!(res.status, 401);
    let res = answer_to_head(
        &running,
        &format!(
            "PUT /v2/service_instances/span-2 HTTP/1.1\r\nhost: x\r\nauthorization: {BASIC}\r\nx-broker-api-version: 2.17\r\ncontent-length: 100000000\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 413);
    let too_large = logs
        .line_with(&["request answered", "status=413", "span-2"])
        .unwrap_or_else(|| panic!("413 not logged: {}", logs.text()));
    assert!(too_large.contains("osb_request{"), "{too_large}");
    let line = logs
        .line_with(&["request not authenticated", "span-1"])
        .unwrap_or_else(|| panic!("no log line: {}", logs.text()));
    assert!(line.contains("osb_request{"), "{line}");
    assert!(
        line.contains("route=\"provision\"") || line.contains("route=provision"),
        "{line}"
    );
    assert!(
        line.contains("instance_id=\"span-1\"") || line.contains("instance_id=span-1"),
        "{line}"
    );
    assert!(line.contains("rid-span"), "{line}");
    assert!(!logs.text().contains("YWRtaW46"), "credentials never logged");
    assert!(
        logs.line_with(&["request answered", "status=401", "span-1"])
            .is_some(),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn declared_body_over_limit_is_413_without_reading_it() {
    let running = start(Server::new(Tiny).body_limit(1024)).await;
    // Claims 100 MB but sends nothing more: the answer must come without waiting for it
    // (within `raw`'s 2 s read window; the body read timeout is 30 s).
    let res = raw(
        &running,
        b"PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\nx-broker-api-request-identity: rid-413\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{",
        Duration::from_secs(2),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
    assert!(
        res.to_ascii_lowercase()
            .contains("x-broker-api-request-identity: rid-413"),
        "{res}"
    );
    let body = json_body(&res);
    assert_eq!(body["error"], "PayloadTooLarge");
    assert!(body["description"].as_str().unwrap().contains("1024 bytes"));
    catalog_ok(&running).await;
}

#[tokio::test]
async fn chunked_body_over_limit_is_413() {
    let running = start(Server::new(Tiny).body_limit(64)).await;
    let chunk = "x".repeat(100);
    let req = format!(
        "PUT /v2/service_instances/i1 HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let res = raw(&running, req.as_bytes(), Duration::from_secs(2)).await;
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
    assert_eq!(json_body(&res)["error"], "PayloadTooLarge");
}
