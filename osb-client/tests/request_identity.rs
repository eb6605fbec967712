//! The request identity in every error (B-section "Request Identity", issue 15): the
//! `X-Broker-API-Request-Identity` the broker received is in the error's text and in
//! `Error::request_identity`, so a platform engineer can find the failure in the broker's logs.

mod support;

use std::time::Duration;

use osb_client::types::{ApiVersion, ProvisionRequest};
use osb_client::{Error, OrphanMitigation, WaitOptions};
use support::{Recorded, Reply, Stub};

const HEADER: &str = "x-broker-api-request-identity";

/// The identity the stub broker logged for request `n`.
fn logged(stub: &Stub, n: usize) -> String {
    let requests: Vec<Recorded> = stub.requests();
    requests[n]
        .header(HEADER)
        .expect("the request carries an identity")
        .to_owned()
}

/// The error names the identity the broker logged, in its text and its accessor.
fn assert_names(err: &Error, identity: &str) {
    assert_eq!(
        err.request_identity().map(|i| i.as_str()),
        Some(identity),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("(request identity {identity})")),
        "{err}"
    );
}

#[tokio::test]
async fn b_request_identity_is_in_broker_decode_and_status_errors() {
    let stub = Stub::script(vec![
        Reply::json(503, r#"{"description":"maintenance"}"#),
        Reply::json(200, "not json"),
        Reply::json(204, ""),
    ])
    .await;
    let client = stub.client().build().unwrap();
    for n in 0..3 {
        let err = client.catalog().await.unwrap_err();
        match n {
            0 => assert!(matches!(err, Error::Broker { status: 503, .. }), "{err}"),
            1 => assert!(matches!(err, Error::Decode { status: 200, .. }), "{err}"),
            _ => assert!(
                matches!(err, Error::UnexpectedStatus { status: 204, .. }),
                "{err}"
            ),
        }
        assert_names(&err, &logged(&stub, n));
    }
    assert_eq!(stub.requests().len(), 3);
    // every request had its own identity
    let ids: std::collections::HashSet<String> = (0..3).map(|n| logged(&stub, n)).collect();
    assert_eq!(ids.len(), 3);
}

#[tokio::test]
async fn b_request_identity_is_in_timeout_and_transport_errors() {
    let stub = Stub::script(vec![Reply::json(200, "{}").delay(Duration::from_millis(500))]).await;
    let client = stub
        .client()
        .timeout(Duration::from_millis(50))
        .request_identity(|| "fixed-id-1".to_owned())
        .build()
        .unwrap();
    let err = client.catalog().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_names(&err, &logged(&stub, 0));
    assert_eq!(logged(&stub, 0), "fixed-id-1");

    // nobody listens: the request never reached a broker, but it had an identity
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let client = osb_client::Client::builder(format!("http://{closed}"))
        .request_identity(|| "fixed-id-2".to_owned())
        .build()
        .unwrap();
    let err = client.catalog().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert_names(&err, "fixed-id-2");
}

#[tokio::test]
async fn b_a_failed_operation_names_the_last_poll_and_keeps_the_mitigation_suffix() {
    let stub = Stub::start(|r, _| match (r.method.as_str(), r.path.as_str()) {
        ("PUT", _) => Reply::json(202, r#"{"operation":"op-1"}"#),
        ("GET", p) if p.ends_with("/last_operation") => {
            Reply::json(200, r#"{"state":"failed","description":"no capacity"}"#)
        }
        _ => Reply::json(200, "{}"),
    })
    .await;
    let client = stub.client().build().unwrap();
    let inst = client.instance("i-1");
    let req = ProvisionRequest::new("s", "p").with_org_space("o", "sp");
    let out = inst.provision(&req).await.unwrap();
    let opts = WaitOptions::default().interval(Duration::from_millis(5));
    let err = inst.wait_with(&out, &opts).await.unwrap_err();
    assert!(matches!(err, Error::OperationFailed { .. }), "{err}");
    let requests = stub.requests();
    let poll = requests
        .iter()
        .position(|r| r.path.ends_with("/last_operation"))
        .unwrap();
    assert_names(&err, &logged(&stub, poll));
    // the mitigation DELETE (another identity) follows, and the text still ends with it
    assert_eq!(requests.last().unwrap().method, "DELETE");
    assert_ne!(logged(&stub, requests.len() - 1), logged(&stub, poll));
    assert!(
        err.to_string()
            .ends_with("(orphan mitigation: deprovision of i-1 succeeded (1 attempt(s)))"),
        "{err}"
    );
}

#[tokio::test]
async fn b_a_provision_error_names_its_request_not_the_mitigation() {
    let stub = Stub::start(|r, _| match r.method.as_str() {
        "PUT" => Reply::json(500, r#"{"description":"boom"}"#),
        _ => Reply::json(200, "{}"),
    })
    .await;
    let client = stub
        .client()
        .orphan_mitigation(OrphanMitigation::default().retry_delay(Duration::from_millis(5)))
        .build()
        .unwrap();
    let req = ProvisionRequest::new("s", "p").with_org_space("o", "sp");
    let err = client.instance("i-1").provision(&req).await.unwrap_err();
    assert_names(&err, &logged(&stub, 0));
    assert_eq!(stub.requests()[0].method, "PUT");
}

#[tokio::test]
async fn b_no_request_identity_before_2_15_or_before_sending() {
    let stub = Stub::script(vec![Reply::json(500, "{}")]).await;
    let client = stub.client().api_version(ApiVersion::V2_14).build().unwrap();
    let err = client.catalog().await.unwrap_err();
    assert!(stub.requests()[0].header(HEADER).is_none());
    assert_eq!(err.request_identity(), None);
    assert!(!err.to_string().contains("request identity"), "{err}");

    let client = stub.client().build().unwrap();
    let err = client.instance("").get().await.unwrap_err();
    assert!(err.is_invalid_request(), "{err}");
    assert_eq!(err.request_identity(), None);
    assert_eq!(stub.requests().len(), 1, "nothing was sent");
}
