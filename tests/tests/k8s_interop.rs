//! Interop with the Go OSB client of Kubernetes Service Catalog
//! (`sigs.k8s.io/go-open-service-broker-client/v2`).
//!
//! Its `IsAsyncRequiredError` and `IsConcurrencyError` predicates compare the `description`
//! of a 422 word for word, not only the `error` code. The spec makes descriptions free text,
//! but matching that client costs nothing, so the runtime's default descriptions are exactly
//! the strings it requires (`RequiresApp` matched already). Our own client recognises errors
//! by their code alone.

use std::time::Duration;

use osb_tests::e2e::{Answer, JsonBody, http};
use osb_tests::{echo_ids, slow_echo_broker};
use reqwest::Method;
use serde_json::json;

/// The text `IsAsyncRequiredError` compares.
const GO_CLIENT_ASYNC_REQUIRED: &str =
    "This service plan requires client support for asynchronous service operations.";
/// The text `IsConcurrencyError` compares.
const GO_CLIENT_CONCURRENCY: &str =
    "The Service Broker does not support concurrent requests that mutate the same resource.";

#[tokio::test]
async fn a21_async_required_description_is_the_one_the_go_client_matches() {
    let running = slow_echo_broker(Duration::from_millis(50)).await;
    let res = Answer::of(
        http(&running, Method::PUT, "/v2/service_instances/k8s-1")
            .json_body(&json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::LARGE})),
    )
    .await;
    let body = res.assert_error(422, "AsyncRequired");
    assert_eq!(body["description"], GO_CLIENT_ASYNC_REQUIRED);
    assert_eq!(
        osb_server_mini::error::ASYNC_REQUIRED_DESCRIPTION,
        GO_CLIENT_ASYNC_REQUIRED
    );
}

#[tokio::test]
async fn a59_concurrency_error_description_is_the_one_the_go_client_matches() {
    let running = slow_echo_broker(Duration::from_secs(5)).await;
    let started = Answer::of(
        http(
            &running,
            Method::PUT,
            "/v2/service_instances/k8s-2?accepts_incomplete=true",
        )
        .json_body(&json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::LARGE})),
    )
    .await;
    assert_eq!(started.status, 202, "{started:?}");
    let path = format!(
        "/v2/service_instances/k8s-2?accepts_incomplete=true&service_id={}&plan_id={}",
        echo_ids::SERVICE,
        echo_ids::LARGE
    );
    let res = Answer::of(http(&running, Method::DELETE, &path)).await;
    let body = res.assert_error(422, "ConcurrencyError");
    assert_eq!(body["description"], GO_CLIENT_CONCURRENCY);
    assert_eq!(
        osb_server_mini::error::CONCURRENCY_ERROR_DESCRIPTION,
        GO_CLIENT_CONCURRENCY
    );
}

#[tokio::test]
async fn a_broker_supplied_description_is_kept() {
    let e = osb_server_mini::BrokerError::unprocessable("ConcurrencyError", "my own words");
    assert_eq!(e.body().description.as_deref(), Some("my own words"));
}
