//! Binding rotation end to end: osb-client against the derived echo broker (A108, B60, B61).

use std::time::Duration;

use osb_client::types::{BindRequest, ProvisionRequest, Timestamp};
use osb_client::{BindOutcome, BindingApi};
use osb_examples::echo::EchoBroker;
use osb_server_mini::testing::TestBroker;
use osb_tests::echo_ids::{LARGE, SERVICE, SMALL};
use serde_json::json;

/// The echo broker with bindings valid for 10 hours (due for renewal after 5).
async fn echo() -> TestBroker {
    let broker = EchoBroker::new("http://dash.test", Duration::from_millis(50))
        .with_binding_lifetime(Duration::from_secs(10 * 3600));
    TestBroker::start(broker).await
}

async fn bound(kit: &TestBroker, instance: &str, plan: &str) -> (BindingApi, BindOutcome) {
    let i = kit.client().instance(instance);
    let p = i
        .provision(&ProvisionRequest::new(SERVICE, plan).with_org_space("org", "space"))
        .await
        .expect("provision");
    i.wait(&p).await.expect("provisioned");
    let old = i.binding("b-old");
    let req = BindRequest::new(SERVICE, plan).with_parameters(json!({ "colour": "green" }));
    let outcome = old.bind(&req).await.expect("bind");
    (old, outcome)
}

#[tokio::test]
async fn a108_rotation_through_the_client_gives_new_credentials_and_the_old_binding_works_until_unbound() {
    let kit = echo().await;
    let (old, first) = bound(&kit, "i-1", SMALL).await;
    let rotated = old.rotate_into("b-new", SERVICE, SMALL).await.expect("rotate");
    let new_credentials = rotated.outcome.credentials().expect("created with credentials");
    let old_credentials = first.credentials().expect("credentials");
    assert_ne!(new_credentials, old_credentials, "new credentials");
    assert_eq!(new_credentials["uri"], "echo://i-1/b-new");
    assert_eq!(new_credentials["rotated_from"], "b-old");
    assert_eq!(
        new_credentials["echo"],
        json!({ "colour": "green" }),
        "the rotation keeps the predecessor's parameters"
    );
    let metadata = rotated.outcome.response().metadata.clone().expect("metadata");
    assert!(metadata.is_consistent(), "{metadata:?}");

    // Both bindings are valid in parallel ...
    let still = old.get().await.expect("the old binding still works");
    assert_eq!(still.credentials.as_ref(), Some(old_credentials));
    // ... until the old one is unbound.
    old.unbind(SERVICE, SMALL).await.expect("unbind the old binding");
    assert!(
        old.get_opt().await.expect("get").is_none(),
        "the old binding is gone"
    );
    let new = rotated.successor.get().await.expect("the new binding is there");
    assert_eq!(new.credentials.as_ref(), Some(new_credentials));
}

#[tokio::test]
async fn b61_renew_if_due_rotates_the_echo_binding_only_once_it_is_due() {
    let kit = echo().await;
    let (old, first) = bound(&kit, "i-2", SMALL).await;
    let metadata = first
        .response()
        .metadata
        .clone()
        .expect("the echo broker sends metadata");
    let renew_before = metadata.renew_before.expect("renew_before");
    let now = Timestamp::now();
    assert!(renew_before > now, "due in five hours");

    let not_yet = old
        .renew_if_due(Some(&metadata), now, "b-early", SERVICE, SMALL)
        .await
        .expect("not due");
    assert!(not_yet.is_none());
    let early = kit.client().instance("i-2").binding("b-early");
    assert!(
        early.get_opt().await.expect("get").is_none(),
        "nothing was created"
    );

    let rotated = old
        .renew_if_due(Some(&metadata), renew_before, "b-due", SERVICE, SMALL)
        .await
        .expect("due")
        .expect("rotated");
    assert_eq!(rotated.successor.id(), "b-due");
    assert_eq!(
        rotated.outcome.credentials().expect("c")["uri"],
        "echo://i-2/b-due"
    );
    assert!(
        old.get_opt().await.expect("get").is_some(),
        "the old binding still works"
    );
}

#[tokio::test]
async fn b60_rotating_an_echo_binding_of_the_large_plan_is_refused_with_400() {
    let kit = echo().await;
    let (old, bound) = bound(&kit, "i-3", LARGE).await;
    old.wait(&bound).await.expect("bound");
    let e = old
        .rotate_into("b-new", SERVICE, LARGE)
        .await
        .expect_err("large is not rotatable");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.description().expect("d").contains("not binding_rotatable"),
        "{e}"
    );
}
