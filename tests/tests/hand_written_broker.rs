//! The hand-written echo broker (`osb_examples::hand_written`, no macros) is the derived one:
//! the same catalog and plan policies, and the same full lifecycle for both plans through
//! `osb-client` (catalog → provision → poll → bind → fetch binding → unbind → deprovision).

use std::time::Duration;

use osb_client::types::{BindRequest, ProvisionRequest, context::Context};
use osb_client::{BindOutcome, DeprovisionOutcome, UnbindOutcome};
use osb_examples::{echo, hand_written};
use osb_server_mini::{Broker, Running, Server};
use osb_tests::e2e::{client, fast_wait, provision_and_check, to_value};
use osb_tests::{PASSWORD, USER, echo_broker, echo_ids};
use serde_json::json;

const DASHBOARD: &str = "http://dash.test";

fn derived() -> echo::EchoBroker {
    echo::EchoBroker::new(DASHBOARD, Duration::from_millis(50))
}

fn by_hand() -> hand_written::EchoBroker {
    hand_written::EchoBroker::new(DASHBOARD, Duration::from_millis(50))
}

async fn hand_written_broker() -> Running {
    Server::new(by_hand())
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("hand-written broker starts")
}

#[test]
fn a32_hand_written_catalog_equals_the_derived_one() {
    let (derived, by_hand) = (derived().catalog(), by_hand().catalog());
    assert_eq!(to_value(&by_hand), to_value(&derived));
    by_hand.validate().expect("the hand-written catalog is valid");
    assert_eq!(by_hand.services[0].id, echo_ids::SERVICE);
    assert_eq!(by_hand, hand_written::echo_catalog());
}

#[test]
fn hand_written_plan_policies_equal_the_derived_ones() {
    let catalog = derived().catalog();
    let offering = &catalog.services[0];
    for plan in &offering.plans {
        let policy = by_hand().plan_policy(offering, plan);
        assert_eq!(
            policy,
            derived().plan_policy(offering, plan),
            "plan `{}`",
            plan.name
        );
        assert_eq!(
            policy.async_only,
            plan.id == echo_ids::LARGE,
            "plan `{}`",
            plan.name
        );
    }
}

/// Drives one plan through the lifecycle and checks every answer along the way.
async fn lifecycle(running: &Running, plan_name: &str) {
    let client = client(running);
    let catalog = client.catalog().await.expect("catalog");
    catalog.validate().expect("served catalog is valid");
    let offering = &catalog.services[0];
    let plan = offering
        .plans
        .iter()
        .find(|p| p.name == plan_name)
        .unwrap_or_else(|| panic!("plan `{plan_name}` in {catalog:?}"));
    let is_async = plan.id == echo_ids::LARGE;
    let (service_id, plan_id) = (offering.id.clone(), plan.id.clone());
    let wait = fast_wait().plan(plan);
    let instance_id = format!("hw-{plan_name}");
    let dashboard = format!("{DASHBOARD}/echo/{instance_id}");

    // Provision: 201 for `small`, 202 and a poll for `large`; the dashboard URL either way.
    let instance = client.instance(instance_id.as_str());
    let request = ProvisionRequest::new(service_id.clone(), plan_id.clone())
        .with_org_space("org-1", "space-1")
        .with_context(Context::kubernetes("default", "test-cluster"));
    provision_and_check(&instance, &request, is_async, &dashboard, &wait).await;

    // Bind: credentials with a `uri` echoing the parameters (via fetch when asynchronous).
    let binding_id = format!("{instance_id}-binding");
    let binding = instance.binding(binding_id.as_str());
    let parameters = json!({ "hello": plan_name });
    let bind = BindRequest::new(service_id.clone(), plan_id.clone())
        .with_parameters(parameters.as_object().unwrap().clone());
    let bound = binding.bind(&bind).await.expect("bind");
    match (&bound, is_async) {
        (BindOutcome::Created(r), false) => {
            assert_eq!(r.credentials.as_ref().unwrap()["echo"], parameters);
        }
        (BindOutcome::Accepted { .. }, true) => {}
        other => panic!("plan `{plan_name}`: unexpected bind outcome {other:?}"),
    }
    binding.wait_with(&bound, &wait).await.expect("bind completes");
    let fetched = binding.get().await.expect("fetch binding");
    let credentials = fetched.credentials.expect("credentials");
    assert_eq!(credentials["uri"], format!("echo://{instance_id}/{binding_id}"));
    assert_eq!(credentials["echo"], parameters);

    // Unbind, then deprovision: 200 for `small`, 202 and a poll ending in success or 410.
    let unbound = binding
        .unbind(service_id.clone(), plan_id.clone())
        .await
        .expect("unbind");
    match (&unbound, is_async) {
        (UnbindOutcome::Unbound(_), false) | (UnbindOutcome::Accepted { .. }, true) => {}
        other => panic!("plan `{plan_name}`: unexpected unbind outcome {other:?}"),
    }
    binding
        .wait_with(&unbound, &wait)
        .await
        .expect("unbind completes");
    assert!(
        binding.get_opt().await.expect("fetch binding").is_none(),
        "binding still there"
    );

    let gone = instance
        .deprovision(service_id, plan_id)
        .await
        .expect("deprovision");
    match (&gone, is_async) {
        (DeprovisionOutcome::Deleted(_), false) | (DeprovisionOutcome::Accepted { .. }, true) => {}
        other => panic!("plan `{plan_name}`: unexpected deprovision outcome {other:?}"),
    }
    instance
        .wait_with(&gone, &wait)
        .await
        .expect("deprovision completes");
    assert!(
        instance.get_opt().await.expect("fetch instance").is_none(),
        "instance still there"
    );
}

#[tokio::test]
async fn hand_written_small_plan_full_lifecycle() {
    let running = hand_written_broker().await;
    lifecycle(&running, "small").await;
}

#[tokio::test]
async fn hand_written_large_plan_full_lifecycle() {
    let running = hand_written_broker().await;
    lifecycle(&running, "large").await;
}

/// The same checks against the derived broker: the two answer alike.
#[tokio::test]
async fn derived_broker_passes_the_same_lifecycle() {
    let running = echo_broker().await;
    for plan in ["small", "large"] {
        lifecycle(&running, plan).await;
    }
}
