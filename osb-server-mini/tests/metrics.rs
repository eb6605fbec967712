//! Prometheus metrics on the operations listener: a scrape after a known sequence of
//! requests shows the expected counts, with no ids in labels.

use std::time::Duration;

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};

struct Metered;

impl Broker for Metered {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "metered",
            "A service",
            vec![
                ServicePlan::new("sync", "sync", "Answers at once"),
                ServicePlan::new("async", "async", "Works in the background"),
                ServicePlan::new("broken", "broken", "Always fails"),
            ],
        )])
    }
    async fn provision(&self, _: &RequestContext, req: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        match req.plan_id.as_str() {
            "async" => Ok(Provisioned::later(async { Ok(()) })),
            "broken" => Err(BrokerError::internal("the backend is down")),
            _ => Ok(Provisioned::done()),
        }
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

async fn start() -> Running {
    Server::new(Metered)
        .basic_auth("admin", "secret")
        .ops_listener("127.0.0.1:0".parse().unwrap())
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts")
}

fn request(running: &Running, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", running.url()))
        .basic_auth("admin", Some("secret"))
        .header("X-Broker-API-Version", "2.17")
}

async fn provision(running: &Running, id: &str, plan: &str) -> u16 {
    request(
        running,
        reqwest::Method::PUT,
        &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
    )
    .header("Content-Type", "application/json")
    .body(format!(
        r#"{{"service_id":"svc","plan_id":"{plan}","organization_guid":"o","space_guid":"s"}}"#
    ))
    .send()
    .await
    .unwrap()
    .status()
    .as_u16()
}

async fn scrape(running: &Running) -> String {
    let res = reqwest::get(format!("http://{}/metrics", running.ops_addr().unwrap()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    res.text().await.unwrap()
}

/// The value of the sample `name{labels}` (`labels` as exposed, e.g. `route="catalog"`).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.split_whitespace().next().unwrap().parse().unwrap())
}

#[tokio::test]
async fn a_scrape_after_known_requests_shows_their_counts() {
    let running = start().await;
    for _ in 0..2 {
        assert_eq!(
            request(&running, reqwest::Method::GET, "/v2/catalog")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let unauthenticated = reqwest::Client::new()
        .get(format!("{}/v2/catalog", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(
        request(&running, reqwest::Method::GET, "/v2/nothing")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(provision(&running, "instance-sync-1", "sync").await, 201);
    assert_eq!(provision(&running, "instance-broken-1", "broken").await, 500);
    assert_eq!(provision(&running, "instance-async-1", "async").await, 202);
    // Poll until the background provision has finished (bounded).
    let mut state = String::new();
    for _ in 0..200 {
        let res = request(
            &running,
            reqwest::Method::GET,
            "/v2/service_instances/instance-async-1/last_operation",
        )
        .send()
        .await
        .unwrap();
        state = res.text().await.unwrap();
        if state.contains("succeeded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(state.contains("succeeded"), "{state}");

    let text = scrape(&running).await;
    let count = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(
        count(r#"osb_http_requests_total{route="catalog",method="GET",status="200"}"#),
        2.0
    );
    assert_eq!(
        count(r#"osb_http_requests_total{route="catalog",method="GET",status="401"}"#),
        1.0
    );
    assert_eq!(
        count(r#"osb_http_requests_total{route="unmatched",method="GET",status="404"}"#),
        1.0
    );
    assert_eq!(
        count(r#"osb_http_requests_total{route="provision",method="PUT",status="201"}"#),
        1.0
    );
    assert_eq!(
        count(r#"osb_http_requests_total{route="provision",method="PUT",status="500"}"#),
        1.0
    );
    assert_eq!(
        count(r#"osb_http_requests_total{route="provision",method="PUT",status="202"}"#),
        1.0
    );
    assert!(
        count(r#"osb_http_requests_total{route="instance_last_operation",method="GET",status="200"}"#) >= 1.0
    );
    assert_eq!(
        count(r#"osb_http_request_duration_seconds_count{route="catalog"}"#),
        3.0
    );
    assert_eq!(
        count(r#"osb_http_request_duration_seconds_count{route="provision"}"#),
        3.0
    );
    assert_eq!(
        count(r#"osb_http_request_duration_seconds_bucket{le="+Inf",route="catalog"}"#),
        3.0
    );
    // Every route's latency series exists from the start; answers are listed once they
    // happened.
    assert_eq!(
        count(r#"osb_http_request_duration_seconds_count{route="unbind"}"#),
        0.0
    );
    assert!(
        !text.contains(r#"osb_http_requests_total{route="unbind""#),
        "{text}"
    );
    // Three provision calls into broker code, one of which failed; the background work is a
    // call of its own.
    assert_eq!(
        count(r#"osb_broker_call_duration_seconds_count{operation="provision"}"#),
        4.0
    );
    assert_eq!(
        count(r#"osb_broker_call_errors_total{operation="provision"}"#),
        1.0
    );
    assert_eq!(
        count(r#"osb_async_operations_running{operation="provision"}"#),
        0.0
    );
    assert_eq!(
        count(r#"osb_async_operations_finished_total{operation="provision",state="succeeded"}"#),
        1.0
    );
    assert!(count(r#"osb_store_call_duration_seconds_count{call="instance"}"#) >= 3.0);
    assert!(count(r#"osb_store_call_duration_seconds_count{call="insert_instance"}"#) >= 2.0);
    assert!(sample(&text, r#"osb_store_call_errors_total{call="instance"}"#).is_none_or(|v| v == 0.0));
    assert!(count("osb_connections_open") >= 0.0);
    assert_eq!(count("osb_connections_refused_total"), 0.0);
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );
    // Bounded labels: no ids, no credentials.
    for leak in ["instance-", "admin", "secret", "svc"] {
        assert!(!text.contains(leak), "{leak} leaked into the metrics:\n{text}");
    }
}

#[tokio::test]
async fn connections_past_the_cap_are_counted_as_refused() {
    let running = Server::new(Metered)
        .max_connections(1)
        .ops_listener("127.0.0.1:0".parse().unwrap())
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let first = tokio::net::TcpStream::connect(running.local_addr())
        .await
        .unwrap();
    // Wait until the first connection is counted, then a second one is refused.
    let mut open = 0.0;
    for _ in 0..200 {
        open = sample(&scrape(&running).await, "osb_connections_open").unwrap();
        if open == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(open, 1.0);
    let mut second = tokio::net::TcpStream::connect(running.local_addr())
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut second, &mut answer)
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let text = scrape(&running).await;
    assert_eq!(sample(&text, "osb_connections_refused_total"), Some(1.0));
    drop(first);
}

#[tokio::test]
async fn without_an_ops_listener_there_are_no_metrics_and_ops_paths_are_not_on_the_broker_port() {
    let running = Server::new(Metered).spawn("127.0.0.1:0").await.unwrap();
    assert!(running.ops_addr().is_none());
    for path in ["/metrics", "/healthz", "/readyz"] {
        let res = reqwest::get(format!("{}{path}", running.url())).await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

/// Serves `broker` under `/v2` and `ops` elsewhere, both on one hyper server of the test's
/// own (a host that mounts the broker with `into_service`).
async fn mount(
    broker: osb_server_mini::BrokerService<Metered>,
    ops: osb_server_mini::OpsService,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (broker, ops) = (broker.clone(), ops.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (broker, ops) = (broker.clone(), ops.clone());
                    async move {
                        let res = if req.uri().path().starts_with("/v2/") {
                            broker.call(req).await
                        } else {
                            ops.answer(req.method(), req.uri().path()).await
                        };
                        Ok::<_, std::convert::Infallible>(res)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_mounted_service_has_metrics_health_and_readiness_through_its_operations_service() {
    let broker = Server::new(Metered).metrics().into_service().unwrap();
    let ops = broker.operations_service();
    let addr = mount(broker, ops.clone()).await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let res = http
            .get(format!("http://{addr}/v2/catalog"))
            .header("X-Broker-API-Version", "2.17")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let text = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &text,
            r#"osb_http_requests_total{route="catalog",method="GET",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    let readyz = |http: reqwest::Client| async move {
        http.get(format!("http://{addr}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(readyz(http.clone()).await, 200);
    ops.begin_shutdown();
    assert_eq!(readyz(http.clone()).await, 503, "the host marks the drain");

    let without = Server::new(Metered).into_service().unwrap().operations_service();
    let res = without.answer(&http::Method::GET, "/metrics").await;
    assert_eq!(res.status(), 404, "no metrics unless turned on");
    assert_eq!(without.answer(&http::Method::GET, "/healthz").await.status(), 200);
}
