//! Orphan mitigation as a Platform sees it, with `osb_fake::FakeBroker`: the broker fails a
//! bind in the ways the specification's table lists, and the test asserts that the client
//! then sent the unbind (B79: "a DELETE with these query parameters after the failed PUT"),
//! and that it sends none where the table says never.
//!
//! This file is the documented example of the fake broker: copy it for your own platform code.

use std::time::Duration;

use http::Method;
use osb_client::types::BindRequest;
use osb_client::{Client, OrphanMitigation};
use osb_fake::{Expect, FakeBroker, Reply};
use serde_json::json;

const BINDING: &str = "/v2/service_instances/i-1/service_bindings/b-1";

/// A client for the fake broker whose mitigation retries quickly.
fn client(fake: &FakeBroker) -> Client {
    Client::builder(fake.url())
        .timeout(Duration::from_millis(500))
        .orphan_mitigation(
            OrphanMitigation::default()
                .retry_delay(Duration::from_millis(10))
                .max_duration(Duration::from_secs(5)),
        )
        .build()
        .expect("client")
}

/// The DELETE the table asks for: the binding, with the ids of the failed bind.
fn unbind() -> Expect {
    Expect::delete(BINDING)
        .query("service_id", "svc")
        .query("plan_id", "plan")
}

async fn bind(fake: &FakeBroker) -> osb_client::Error {
    client(fake)
        .instance("i-1")
        .binding("b-1")
        .bind(&BindRequest::new("svc", "plan"))
        .await
        .expect_err("the bind fails")
}

#[tokio::test]
async fn b79_a_500_to_a_bind_is_followed_by_an_unbind_with_the_same_ids() {
    let fake = FakeBroker::start().await;
    fake.on(Method::PUT, BINDING, Reply::error(500, "InternalError", "boom"));
    // the first DELETE fails too; the client retries until the broker confirms
    fake.on_each(Method::DELETE, BINDING, [Reply::status(503), Reply::status(200)]);

    let e = bind(&fake).await;
    assert_eq!(e.status(), Some(500));
    let om = e.orphan_mitigation().expect("mitigation ran");
    assert!(om.succeeded(), "{om}");
    assert_eq!(om.attempts, 2);

    fake.assert_in_order(&[
        Expect::put(BINDING).body_field("plan_id", json!("plan")),
        unbind(),
        unbind(),
    ]);
    assert_eq!(fake.count(&unbind()), 2);
    // mitigation requests carry no originating identity
    let deletes = fake.received(&unbind());
    assert!(
        deletes
            .iter()
            .all(|r| r.header("X-Broker-API-Originating-Identity").is_none())
    );
}

#[tokio::test]
async fn b79_a_malformed_201_is_mitigated() {
    let fake = FakeBroker::start().await;
    fake.on(Method::PUT, BINDING, Reply::raw(201, "{\"credentials\": "));
    fake.on(Method::DELETE, BINDING, Reply::status(410));
    let e = bind(&fake).await;
    let om = e.orphan_mitigation().expect("mitigation ran");
    assert!(om.succeeded(), "{om}");
    fake.assert_in_order(&[Expect::put(BINDING), unbind()]);
}

/// A connection closed without an answer is not a row of the table (unlike a timeout): the
/// client reports a transport error and sends no DELETE.
#[tokio::test]
async fn a_closed_connection_is_a_transport_error_without_mitigation() {
    let fake = FakeBroker::start().await;
    fake.on(Method::PUT, BINDING, Reply::close());
    let e = bind(&fake).await;
    assert!(matches!(e, osb_client::Error::Transport { .. }), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "{e}");
    fake.assert_none(&Expect::delete(BINDING));
}

#[tokio::test]
async fn b79_a_timeout_is_mitigated() {
    let fake = FakeBroker::start().await;
    fake.on(
        Method::PUT,
        BINDING,
        Reply::status(201).delay(Duration::from_secs(3)),
    );
    fake.on(Method::DELETE, BINDING, Reply::status(200));
    let e = bind(&fake).await;
    assert!(e.orphan_mitigation().is_some_and(|om| om.succeeded()), "{e}");
    fake.assert_in_order(&[Expect::put(BINDING), unbind()]);
}

#[tokio::test]
async fn b79_a_4xx_or_a_concurrency_error_is_never_mitigated() {
    for refusal in [
        Reply::error(400, "BadRequest", "no"),
        Reply::error(422, "ConcurrencyError", "busy"),
        Reply::status(408),
    ] {
        let fake = FakeBroker::start().await;
        fake.on(Method::PUT, BINDING, refusal.clone());
        let e = bind(&fake).await;
        assert!(e.orphan_mitigation().is_none(), "{refusal:?}: {e}");
        fake.assert_none(&Expect::delete(BINDING));
        assert_eq!(fake.requests().len(), 1);
    }
}

#[tokio::test]
async fn b79_a_failed_asynchronous_bind_is_mitigated_after_polling() {
    let fake = FakeBroker::start().await;
    fake.on(
        Method::PUT,
        BINDING,
        Reply::json(202, json!({ "operation": "op-1" })),
    );
    let poll = format!("{BINDING}/last_operation");
    fake.on_each(
        Method::GET,
        &poll,
        [
            Reply::json(200, json!({ "state": "in progress" })).header("Retry-After", "0"),
            Reply::json(200, json!({ "state": "failed", "description": "no capacity" })),
        ],
    );
    fake.on(Method::DELETE, BINDING, Reply::status(200));
    let c = client(&fake);
    let b = c.instance("i-1").binding("b-1");
    let accepted = b.bind(&BindRequest::new("svc", "plan")).await.expect("202");
    let e = b.wait(&accepted).await.expect_err("failed");
    assert!(e.orphan_mitigation().is_some_and(|om| om.succeeded()), "{e}");
    fake.assert_in_order(&[
        Expect::put(BINDING),
        Expect::get(&poll).query("operation", "op-1"),
        Expect::get(&poll).query("operation", "op-1"),
        unbind(),
    ]);
}

#[tokio::test]
async fn an_unscripted_route_is_404_with_an_osb_error_naming_it() {
    let fake = FakeBroker::start().await;
    let e = client(&fake).catalog().await.expect_err("nothing scripted");
    assert_eq!(e.status(), Some(404));
    assert!(
        e.description().is_some_and(|d| d.contains("GET /v2/catalog")),
        "{e}"
    );
}
