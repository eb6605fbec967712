//! The broker shown in the README ("Writing a broker with the macros") is a real, working
//! broker: the README shows `examples/readme/broker.rs` verbatim, and that code, included here
//! as it is, serves the full lifecycle of both its plans through `osb-client`.

// The included file's `main` is the example's entry point, not this test's.
#![allow(dead_code)]

include!("../../examples/readme/broker.rs");

use osb_client::types::BindRequest as ClientBindRequest;
use osb_client::{BindOutcome, DeprovisionOutcome, UnbindOutcome};
use osb_tests::e2e::{client, fast_wait, provision_and_check};
use osb_tests::{PASSWORD, USER};

const BROKER_SOURCE: &str = include_str!("../../examples/readme/broker.rs");
const README: &str = include_str!("../../README.md");

#[test]
fn the_readme_shows_the_tested_broker_verbatim() {
    let block = format!("```rust,no_run\n{BROKER_SOURCE}```\n");
    assert!(
        README.contains(&block),
        "README.md must show examples/readme/broker.rs verbatim in a ```rust,no_run block"
    );
    let lines = BROKER_SOURCE.lines().count();
    assert!(lines <= 40, "the README broker should stay short: {lines} lines");
}

async fn readme_broker() -> osb_server_mini::Running {
    Server::new(EchoBroker)
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("the README broker starts")
}

/// catalog → provision → poll → bind → fetch binding → unbind → deprovision for one plan.
async fn lifecycle(plan_name: &str) {
    let running = readme_broker().await;
    let client = client(&running);
    let catalog = client.catalog().await.expect("catalog");
    let offering = &catalog.services[0];
    assert_eq!((offering.id.as_str(), offering.name.as_str()), ("echo", "echo"));
    let plan = offering
        .plans
        .iter()
        .find(|p| p.name == plan_name)
        .expect("plan in the catalog");
    let is_async = plan.id == Large::ID;
    let (service_id, plan_id) = (offering.id.clone(), plan.id.clone());
    let wait = fast_wait().plan(plan);
    let instance_id = format!("readme-{plan_name}");
    let dashboard = format!("https://dash.example/{instance_id}");

    let instance = client.instance(instance_id.as_str());
    let request = osb_client::types::ProvisionRequest::new(service_id.clone(), plan_id.clone())
        .with_org_space("org-1", "space-1");
    provision_and_check(&instance, &request, is_async, &dashboard, &wait).await;

    let binding_id = format!("{instance_id}-b");
    let binding = instance.binding(binding_id.as_str());
    let bound = binding
        .bind(&ClientBindRequest::new(service_id.clone(), plan_id.clone()))
        .await
        .expect("bind");
    let BindOutcome::Created(body) = &bound else {
        panic!("plan `{plan_name}`: the README broker binds synchronously, got {bound:?}");
    };
    let uri = format!("echo://{binding_id}");
    assert_eq!(
        body.credentials.as_ref().expect("credentials")["uri"],
        uri.as_str()
    );
    let fetched = binding.get().await.expect("fetch binding");
    assert_eq!(fetched.credentials.expect("credentials")["uri"], uri.as_str());

    let unbound = binding
        .unbind(service_id.clone(), plan_id.clone())
        .await
        .expect("unbind (the trait's default)");
    assert!(matches!(unbound, UnbindOutcome::Unbound(_)), "{unbound:?}");
    assert!(binding.get_opt().await.expect("fetch binding").is_none());

    let gone = instance
        .deprovision(service_id, plan_id)
        .await
        .expect("deprovision");
    assert!(matches!(gone, DeprovisionOutcome::Deleted(_)), "{gone:?}");
    assert!(instance.get_opt().await.expect("fetch instance").is_none());
}

#[tokio::test]
async fn readme_broker_small_plan_full_lifecycle() {
    lifecycle("small").await;
}

#[tokio::test]
async fn readme_broker_large_plan_full_lifecycle() {
    lifecycle("large").await;
}
