//! Every endpoint of the derived echo broker through `osb_client::Client`: each success status
//! (201/200/202) and each error status the specification defines, with the state afterwards.

use osb_client::types::{BindRequest, ProvisionRequest, UpdateRequest};
use std::time::Duration;

use osb_client::{
    BindOutcome, DeprovisionOutcome, Error, LastOperation, Pollable, ProvisionOutcome, UnbindOutcome,
    UpdateOutcome, WaitOutcome,
};
use osb_server_mini::Plan as _;
use osb_tests::e2e::{Answer, JsonBody, client, client_v, fast_wait, from_json, http, to_value};
use osb_tests::rules::{QUOTA_EXCEEDED, Roomy, SERVICE_ID as RULES, Tiny, rules_broker};
use osb_tests::{PASSWORD, USER, basic_header, echo_broker, echo_ids, slow_echo_broker};
use osb_types::ApiVersion;
use osb_types::operation::{LastOperationParams, OperationState};
use reqwest::Method;
use serde_json::json;

const SVC: &str = echo_ids::SERVICE;
const SMALL: &str = echo_ids::SMALL;
const LARGE: &str = echo_ids::LARGE;

fn provision_req(plan: &str) -> ProvisionRequest {
    from_json(json!({
        "service_id": SVC, "plan_id": plan,
        "organization_guid": "org", "space_guid": "space",
        "context": {"platform": "cloudfoundry", "organization_guid": "org", "space_guid": "space"},
        "parameters": {"size": 1}
    }))
}

fn broker_err(e: &Error, status: u16) {
    assert_eq!(e.status(), Some(status), "{e:?}");
    assert!(
        e.description().is_some_and(|d| !d.is_empty()),
        "no description: {e:?}"
    );
}

#[tokio::test]
async fn a29_catalog_is_200_with_both_echo_plans() {
    let running = echo_broker().await;
    let catalog = client(&running).catalog().await.expect("catalog");
    assert_eq!(catalog.services.len(), 1);
    let echo = &catalog.services[0];
    assert_eq!(echo.id.as_str(), SVC);
    assert_eq!(echo.name, "echo");
    let plans: Vec<&str> = echo.plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(plans, [SMALL, LARGE]);
    assert_eq!(
        echo.plans[1].maximum_polling_duration,
        Some(600),
        "large plan polling limit"
    );
}

#[tokio::test]
async fn a4_wrong_credentials_are_401_on_every_endpoint() {
    let running = echo_broker().await;
    let bad = osb_client::Client::builder(running.url())
        .basic_auth(USER, "wrong")
        .build()
        .expect("client");
    assert_eq!(bad.catalog().await.unwrap_err().status(), Some(401));
    let i = bad.instance("i-401");
    assert_eq!(
        i.provision(&provision_req(SMALL)).await.unwrap_err().status(),
        Some(401)
    );
    assert_eq!(i.get().await.unwrap_err().status(), Some(401));
    assert_eq!(i.deprovision(SVC, SMALL).await.unwrap_err().status(), Some(401));
    assert_eq!(i.binding("b").get().await.unwrap_err().status(), Some(401));
    // Nothing was created by the rejected provision.
    let good = client(&running);
    assert!(good.instance("i-401").get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a43_provision_sync_plan_is_201_and_instance_is_fetchable() {
    let running = echo_broker().await;
    let c = client(&running);
    let i = c.instance("i-201");
    let out = i.provision(&provision_req(SMALL)).await.expect("provision");
    let ProvisionOutcome::Created(body) = &out else {
        panic!("expected 201: {out:?}")
    };
    assert_eq!(body.dashboard_url.as_deref(), Some("http://dash.test/echo/i-201"));
    let got = i.get().await.expect("fetch");
    assert_eq!(got.service_id.as_ref().map(|s| s.as_str()), Some(SVC));
    assert_eq!(got.plan_id.as_ref().map(|s| s.as_str()), Some(SMALL));
    assert_eq!(got.dashboard_url.as_deref(), Some("http://dash.test/echo/i-201"));
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(1))
    );
}

#[tokio::test]
async fn a42_identical_provision_again_is_200() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-200");
    let first = i.provision(&provision_req(SMALL)).await.expect("first");
    assert!(matches!(first, ProvisionOutcome::Created(_)), "{first:?}");
    let again = i.provision(&provision_req(SMALL)).await.expect("again");
    assert!(matches!(again, ProvisionOutcome::AlreadyExists(_)), "{again:?}");
}

#[tokio::test]
async fn a46_provision_same_id_different_attributes_is_409_and_instance_unchanged() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-409");
    i.provision(&provision_req(SMALL)).await.expect("first");
    let mut other = provision_req(SMALL);
    other.parameters = Some(from_json(json!({"size": 2})));
    let e = i.provision(&other).await.unwrap_err();
    broker_err(&e, 409);
    assert!(e.is_conflict());
    assert!(e.orphan_mitigation().is_none(), "no mitigation after 409");
    let got = i.get().await.expect("fetch");
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(1)),
        "A14: a 4xx leaves the instance unchanged"
    );
}

#[tokio::test]
async fn a45_provision_unknown_plan_is_400_and_nothing_is_created() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-400");
    let e = i
        .provision(&ProvisionRequest::new(SVC, "no-such-plan").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    broker_err(&e, 400);
    assert!(e.orphan_mitigation().is_none());
    assert!(i.get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a47_async_only_plan_without_accepts_incomplete_is_422_async_required() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-422a").accepts_incomplete(false);
    let e = i.provision(&provision_req(LARGE)).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_async_required(), "{e:?}");
    assert!(e.orphan_mitigation().is_none());
    assert!(
        client(&running)
            .instance("i-422a")
            .get_opt()
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn a48_provision_with_other_maintenance_info_is_422_conflict() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-422m");
    let mut req = provision_req(SMALL);
    req.maintenance_info = Some(from_json(json!({"version": "9.9.9"})));
    let e = i.provision(&req).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_maintenance_info_conflict(), "{e:?}");
    assert!(i.get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a44_async_provision_is_202_then_polls_to_succeeded() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-202");
    let out = i.provision(&provision_req(LARGE)).await.expect("provision");
    let ProvisionOutcome::Accepted { dashboard_url, .. } = &out else {
        panic!("expected 202: {out:?}")
    };
    assert_eq!(
        dashboard_url.as_deref(),
        Some("http://dash.test/echo/i-202"),
        "A50: dashboard in the 202"
    );
    // A58: still provisioning → 404 on fetch.
    let e = i.get().await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    let done = i.wait_with(&out, &fast_wait()).await.expect("wait");
    let WaitOutcome::Succeeded(last) = done else {
        panic!("{done:?}")
    };
    assert_eq!(last.state, OperationState::Succeeded);
    let got = i.get().await.expect("fetch after success");
    assert_eq!(got.plan_id.as_ref().map(|s| s.as_str()), Some(LARGE));
}

#[tokio::test]
async fn a58_fetch_unknown_instance_is_404() {
    let running = echo_broker().await;
    let e = client(&running).instance("nope").get().await.unwrap_err();
    broker_err(&e, 404);
    assert!(e.is_not_found());
}

#[tokio::test]
async fn a83_last_operation_of_unknown_instance_is_404() {
    let running = echo_broker().await;
    let e = client(&running)
        .instance("nope")
        .last_operation(&LastOperationParams::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
}

#[tokio::test]
async fn a66_update_sync_plan_is_200_and_parameters_change() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-upd");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let req: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 5}}));
    let out = i.update(&req).await.expect("update");
    assert!(matches!(out, UpdateOutcome::Updated(_)), "{out:?}");
    let got = i.get().await.expect("fetch");
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(5))
    );
    assert_eq!(
        got.plan_id.as_ref().map(|s| s.as_str()),
        Some(SMALL),
        "A63: no plan_id → plan unchanged"
    );
}

#[tokio::test]
async fn a67_update_async_plan_is_202_then_succeeds() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-upd-async");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let req: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 7}}));
    let out = i.update(&req).await.expect("update");
    assert!(matches!(out, UpdateOutcome::Accepted { .. }), "{out:?}");
    let done = i.wait_with(&out, &fast_wait()).await.expect("wait");
    assert!(matches!(done, WaitOutcome::Succeeded(_)), "{done:?}");
    let got = i.get().await.expect("fetch");
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(7))
    );
}

#[tokio::test]
async fn a70_update_async_plan_without_accepts_incomplete_is_422_async_required() {
    let running = echo_broker().await;
    let c = client(&running);
    let i = c.instance("i-upd-422");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let req: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 9}}));
    let e = i
        .clone()
        .accepts_incomplete(false)
        .update(&req)
        .await
        .unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_async_required(), "{e:?}");
    let got = i.get().await.expect("fetch");
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(1)),
        "A73: unchanged after 4xx"
    );
}

#[tokio::test]
async fn a71_update_with_other_maintenance_info_is_422_conflict() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-upd-mi");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let req: UpdateRequest = from_json(json!({
        "service_id": SVC, "maintenance_info": {"version": "2.0.0"}, "parameters": {"size": 3}
    }));
    let e = i.update(&req).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_maintenance_info_conflict(), "{e:?}");
    let got = i.get().await.expect("fetch");
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(1))
    );
}

#[tokio::test]
async fn a68_update_to_unknown_plan_is_400() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-upd-400");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let req: UpdateRequest = from_json(json!({"service_id": SVC, "plan_id": "no-such-plan"}));
    let e = i.update(&req).await.unwrap_err();
    broker_err(&e, 400);
    let got = i.get().await.expect("fetch");
    assert_eq!(got.plan_id.as_ref().map(|s| s.as_str()), Some(SMALL));
}

#[tokio::test]
async fn a72_update_while_async_provision_runs_is_422_concurrency_error() {
    let running = osb_tests::echo_server()
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    let i = client(&running).instance("i-conc");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    assert!(matches!(p, ProvisionOutcome::Accepted { .. }));
    let req: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 2}}));
    let e = i.update(&req).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_concurrency_error(), "{e:?}");
    i.wait_with(&p, &fast_wait()).await.expect("provision completes");
}

#[tokio::test]
async fn a132_deprovision_sync_is_200_then_instance_gone() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-del");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let out = i.deprovision(SVC, SMALL).await.expect("deprovision");
    assert!(matches!(out, DeprovisionOutcome::Deleted(_)), "{out:?}");
    assert!(i.get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a133_deprovision_async_is_202_and_polling_ends_succeeded_then_410() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-del-async");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let out = i.deprovision(SVC, LARGE).await.expect("deprovision");
    assert!(matches!(out, DeprovisionOutcome::Accepted { .. }), "{out:?}");
    // A84: once the asynchronous delete is done, a poll naming it is "succeeded" (the
    // client names the operation) and any other poll is 410 Gone.
    let done = i.wait_with(&out, &fast_wait()).await.expect("wait");
    assert!(matches!(done, WaitOutcome::Succeeded(_)), "{done:?}");
    assert!(i.get_opt().await.expect("get").is_none());
    let lo = Answer::of(http(
        &running,
        Method::GET,
        "/v2/service_instances/i-del-async/last_operation",
    ))
    .await;
    assert_eq!(lo.status, 410, "{lo:?}");
}

#[tokio::test]
async fn a135_deprovision_unknown_instance_is_410() {
    let running = echo_broker().await;
    let out = client(&running)
        .instance("never")
        .deprovision(SVC, SMALL)
        .await
        .expect("410 is a success for the client");
    assert!(matches!(out, DeprovisionOutcome::AlreadyGone), "{out:?}");
}

#[tokio::test]
async fn a136_deprovision_async_plan_without_accepts_incomplete_is_422() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-del-422");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let e = i
        .clone()
        .accepts_incomplete(false)
        .deprovision(SVC, LARGE)
        .await
        .unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_async_required(), "{e:?}");
    assert!(e.orphan_mitigation().is_none());
    assert!(i.get_opt().await.expect("get").is_some(), "still there");
}

#[tokio::test]
async fn a134_deprovision_without_service_and_plan_is_400() {
    let running = echo_broker().await;
    let c = client(&running);
    c.instance("i-del-400")
        .provision(&provision_req(SMALL))
        .await
        .expect("provision");
    let res = reqwest::Client::new()
        .delete(format!("{}/v2/service_instances/i-del-400", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .header("Authorization", basic_header())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&res.bytes().await.expect("body")).expect("json");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(c.instance("i-del-400").get_opt().await.expect("get").is_some());
}

#[tokio::test]
async fn a93_bind_sync_is_201_with_credentials_and_binding_is_fetchable() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-bind");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let b = i.binding("b-1");
    let req: BindRequest = from_json(json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"x": "y"}}));
    let out = b.bind(&req).await.expect("bind");
    let BindOutcome::Created(body) = &out else {
        panic!("expected 201: {out:?}")
    };
    let creds = serde_json::to_value(&body.credentials).expect("json");
    assert_eq!(creds["uri"], "echo://i-bind/b-1");
    assert_eq!(creds["echo"], json!({"x": "y"}));
    let got = b.get().await.expect("fetch binding");
    assert_eq!(
        serde_json::to_value(&got.credentials).expect("json")["uri"],
        "echo://i-bind/b-1"
    );
    // A92: identical again → 200.
    let again = b.bind(&req).await.expect("bind again");
    assert!(matches!(again, BindOutcome::AlreadyExists(_)), "{again:?}");
}

#[tokio::test]
async fn a96_bind_same_id_different_parameters_is_409() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-bind-409");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let b = i.binding("b-1");
    let req: BindRequest = from_json(json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"x": 1}}));
    b.bind(&req).await.expect("bind");
    let other: BindRequest = from_json(json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"x": 2}}));
    let e = b.bind(&other).await.unwrap_err();
    broker_err(&e, 409);
    assert!(e.orphan_mitigation().is_none());
    let got = b.get().await.expect("fetch");
    assert_eq!(
        serde_json::to_value(&got.credentials).expect("json")["echo"],
        json!({"x": 1})
    );
}

#[tokio::test]
async fn a95_bind_on_unknown_plan_is_400() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-bind-400");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let e = i
        .binding("b")
        .bind(&BindRequest::new(SVC, "no-such-plan"))
        .await
        .unwrap_err();
    broker_err(&e, 400);
    assert!(i.binding("b").get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a94_bind_async_is_202_then_credentials_via_fetch() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-bind-async");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b-a");
    let out = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    let BindOutcome::Accepted { response, .. } = &out else {
        panic!("expected 202: {out:?}")
    };
    assert!(response.credentials.is_none(), "A94: no credentials in a 202");
    // A113: in progress → 404.
    assert!(b.get().await.unwrap_err().is_not_found());
    let done = b.wait_with(&out, &fast_wait()).await.expect("wait");
    assert!(matches!(done, WaitOutcome::Succeeded(_)), "{done:?}");
    let got = b.get().await.expect("fetch");
    assert_eq!(
        serde_json::to_value(&got.credentials).expect("json")["uri"],
        "echo://i-bind-async/b-a"
    );
}

#[tokio::test]
async fn a99_bind_async_plan_without_accepts_incomplete_is_422_async_required() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-bind-422");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b").accepts_incomplete(false);
    let e = b.bind(&BindRequest::new(SVC, LARGE)).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_async_required(), "{e:?}");
    assert!(e.orphan_mitigation().is_none());
    assert!(i.binding("b").get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a113_fetch_unknown_binding_is_404() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-b404");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let e = i.binding("nope").get().await.unwrap_err();
    broker_err(&e, 404);
}

#[tokio::test]
async fn a116_last_operation_of_unknown_binding_is_404() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-blo404");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let e = i
        .binding("nope")
        .last_operation(&LastOperationParams::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
}

#[tokio::test]
async fn a122_unbind_sync_is_200_then_binding_gone_and_a125_again_is_410() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-unbind");
    i.provision(&provision_req(SMALL)).await.expect("provision");
    let b = i.binding("b");
    b.bind(&BindRequest::new(SVC, SMALL)).await.expect("bind");
    let out = b.unbind(SVC, SMALL).await.expect("unbind");
    assert!(matches!(out, UnbindOutcome::Unbound(_)), "{out:?}");
    assert!(b.get_opt().await.expect("get").is_none());
    let again = b.unbind(SVC, SMALL).await.expect("410 is success");
    assert!(matches!(again, UnbindOutcome::AlreadyGone), "{again:?}");
}

#[tokio::test]
async fn a123_unbind_async_is_202_then_polling_ends_succeeded_then_410() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-unbind-a");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    let out = b.unbind(SVC, LARGE).await.expect("unbind");
    assert!(matches!(out, UnbindOutcome::Accepted { .. }), "{out:?}");
    // A84: once the asynchronous unbind is done, a poll naming it is "succeeded", any
    // other poll 410 Gone.
    let done = b.wait_with(&out, &fast_wait()).await.expect("wait");
    assert!(matches!(done, WaitOutcome::Succeeded(_)), "{done:?}");
    assert!(b.get_opt().await.expect("get").is_none());
    let lo = Answer::of(http(
        &running,
        Method::GET,
        "/v2/service_instances/i-unbind-a/service_bindings/b/last_operation",
    ))
    .await;
    assert_eq!(lo.status, 410, "{lo:?}");
}

#[tokio::test]
async fn a126_unbind_async_plan_without_accepts_incomplete_is_422() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-unbind-422");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    let e = b
        .clone()
        .accepts_incomplete(false)
        .unbind(SVC, LARGE)
        .await
        .unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_async_required(), "{e:?}");
    assert!(b.get_opt().await.expect("get").is_some(), "still bound");
}

#[tokio::test]
async fn a78_last_operation_reports_state_and_description() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-lo");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    let ProvisionOutcome::Accepted { pending, .. } = &p else {
        panic!("{p:?}")
    };
    let params = LastOperationParams {
        service_id: pending.service_id.clone(),
        plan_id: pending.plan_id.clone(),
        operation: pending.operation.clone(),
    };
    let first = i.last_operation(&params).await.expect("poll");
    let LastOperation::Reported { response, .. } = first else {
        panic!("{first:?}")
    };
    assert!(matches!(
        response.state,
        OperationState::InProgress | OperationState::Succeeded
    ));
    i.wait_with(&p, &fast_wait()).await.expect("done");
    let LastOperation::Reported { response, .. } = i.last_operation(&params).await.expect("poll") else {
        panic!("not reported")
    };
    assert_eq!(response.state, OperationState::Succeeded);
    assert!(response.instance_usable.is_none(), "A81");
}

#[tokio::test]
async fn a6_request_identity_is_echoed_in_the_response() {
    let running = echo_broker().await;
    let res = reqwest::Client::new()
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .header("X-Broker-API-Request-Identity", "e2e-req-42")
        .header("Authorization", basic_header())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("x-broker-api-request-identity")
            .and_then(|v| v.to_str().ok()),
        Some("e2e-req-42")
    );
    assert!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    );
    let _ = PASSWORD;
}

// ---------------------------------------------------------------------------------------------
// Error matrix: global errors (401, 412, 413) on every endpoint, then per-endpoint 400/410/422,
// re-sent requests during asynchronous operations, request identity and Retry-After.
// ---------------------------------------------------------------------------------------------

/// How long the `large` plan's operations take in tests that act while one is running.
const SLOW: Duration = Duration::from_millis(700);

/// Every endpoint as `(method, path)`, for instance `i` and binding `b`.
fn every_endpoint(i: &str, b: &str) -> Vec<(Method, String)> {
    let inst = format!("/v2/service_instances/{i}");
    let bind = format!("{inst}/service_bindings/{b}");
    let ids = format!("service_id={SVC}&plan_id={SMALL}");
    vec![
        (Method::GET, "/v2/catalog".to_owned()),
        (Method::PUT, inst.clone()),
        (Method::GET, inst.clone()),
        (Method::PATCH, inst.clone()),
        (Method::DELETE, format!("{inst}?{ids}")),
        (Method::GET, format!("{inst}/last_operation")),
        (Method::PUT, bind.clone()),
        (Method::GET, bind.clone()),
        (Method::DELETE, format!("{bind}?{ids}")),
        (Method::GET, format!("{bind}/last_operation")),
    ]
}

/// A request with this API version and password (the `http` helper sets both already).
fn bare(
    running: &osb_server_mini::Running,
    method: Method,
    path: &str,
    version: &str,
    password: &str,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", running.url()))
        .header("X-Broker-API-Version", version)
        .basic_auth(USER, Some(password))
}

fn with_body(method: &Method, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    if *method == Method::PUT || *method == Method::PATCH {
        rb.json_body(&json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"size": 99}}))
    } else {
        rb
    }
}

/// Provisions `id` on the small plan with `size: 1` and binds `b`.
async fn small_instance_with_binding(c: &osb_client::Client, id: &str, b: &str) {
    let i = c.instance(id);
    i.provision(&provision_req(SMALL)).await.expect("provision");
    i.binding(b)
        .bind(&BindRequest::new(SVC, SMALL))
        .await
        .expect("bind");
}

async fn size_of(c: &osb_client::Client, id: &str) -> Option<serde_json::Value> {
    let got = c.instance(id).get().await.expect("fetch");
    got.parameters.as_ref().and_then(|p| p.get("size")).cloned()
}

#[tokio::test]
async fn a4_every_endpoint_answers_401_json_with_a_basic_challenge_and_changes_nothing() {
    let running = echo_broker().await;
    let good = client(&running);
    small_instance_with_binding(&good, "i-401all", "b").await;
    for (method, path) in every_endpoint("i-401all", "b") {
        let rb = bare(&running, method.clone(), &path, "2.17", "wrong");
        let ans = Answer::of(with_body(&method, rb)).await;
        ans.assert_error(401, "Unauthorized");
        assert!(
            ans.header("www-authenticate")
                .is_some_and(|v| v.to_ascii_lowercase().starts_with("basic")),
            "{method} {path}: {ans:?}"
        );
    }
    // The same through the client, for the endpoints the first test did not cover.
    let bad = osb_client::Client::builder(running.url())
        .basic_auth(USER, "wrong")
        .build()
        .expect("client");
    let i = bad.instance("i-401all");
    let b = i.binding("b");
    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 99}}));
    let errors = [
        i.update(&upd).await.unwrap_err(),
        i.last_operation(&LastOperationParams::default())
            .await
            .unwrap_err(),
        b.bind(&BindRequest::new(SVC, SMALL)).await.unwrap_err(),
        b.unbind(SVC, SMALL).await.unwrap_err(),
        b.last_operation(&LastOperationParams::default())
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        broker_err(e, 401);
        assert_eq!(e.error_code().map(|c| c.as_str()), Some("Unauthorized"), "{e:?}");
        assert!(
            e.orphan_mitigation().is_none(),
            "B79: no mitigation after 401: {e:?}"
        );
    }
    // State afterwards: nothing changed.
    assert_eq!(size_of(&good, "i-401all").await, Some(json!(1)));
    assert!(
        good.instance("i-401all")
            .binding("b")
            .get_opt()
            .await
            .expect("get")
            .is_some()
    );
}

#[tokio::test]
async fn a1_a2_old_or_missing_api_version_is_412_with_json_and_changes_nothing() {
    let running = echo_broker().await;
    let good = client(&running);
    small_instance_with_binding(&good, "i-412", "b").await;
    let old = client_v(&running, ApiVersion::new(2, 12));
    let e = old
        .instance("i-412-new")
        .provision(&ProvisionRequest::new(SVC, SMALL).with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    broker_err(&e, 412);
    assert!(e.is_version_mismatch(), "{e:?}");
    assert!(
        e.description().is_some_and(|d| d.contains("2.13")),
        "the description names the supported version: {e:?}"
    );
    assert!(e.orphan_mitigation().is_none(), "{e:?}");
    let e = old
        .instance("i-412")
        .binding("b")
        .unbind(SVC, SMALL)
        .await
        .unwrap_err();
    broker_err(&e, 412);
    for (method, path) in every_endpoint("i-412", "b") {
        let rb = reqwest::Client::new()
            .request(method.clone(), format!("{}{path}", running.url()))
            .basic_auth(USER, Some(PASSWORD));
        let ans = Answer::of(with_body(&method, rb)).await;
        let body = ans.assert_error(412, "PreconditionFailed");
        assert!(
            body["description"]
                .as_str()
                .unwrap_or("")
                .contains("X-Broker-API-Version"),
            "{method} {path}: {ans:?}"
        );
    }
    assert!(good.instance("i-412-new").get_opt().await.expect("get").is_none());
    assert_eq!(size_of(&good, "i-412").await, Some(json!(1)));
    assert!(
        good.instance("i-412")
            .binding("b")
            .get_opt()
            .await
            .expect("get")
            .is_some()
    );
}

#[tokio::test]
async fn a14_body_over_the_limit_is_413_through_the_client_and_changes_nothing() {
    let running = osb_tests::echo_server()
        .body_limit(64 * 1024)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    let c = client(&running);
    small_instance_with_binding(&c, "i-413", "b").await;
    let big = "x".repeat(128 * 1024);
    let mut req = provision_req(SMALL);
    req.parameters = Some(from_json(json!({"blob": big})));
    let e = c.instance("i-413-new").provision(&req).await.unwrap_err();
    broker_err(&e, 413);
    assert_eq!(
        e.error_code().map(|c| c.as_str()),
        Some("PayloadTooLarge"),
        "{e:?}"
    );
    assert!(e.description().is_some_and(|d| d.contains("65536")), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "a 4xx is not mitigated: {e:?}");
    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"blob": big}}));
    broker_err(&c.instance("i-413").update(&upd).await.unwrap_err(), 413);
    let bind: BindRequest =
        from_json(json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"blob": big}}));
    broker_err(
        &c.instance("i-413").binding("b2").bind(&bind).await.unwrap_err(),
        413,
    );
    assert!(c.instance("i-413-new").get_opt().await.expect("get").is_none());
    assert_eq!(size_of(&c, "i-413").await, Some(json!(1)));
    assert!(
        c.instance("i-413")
            .binding("b2")
            .get_opt()
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn a11_every_error_body_has_a_camelcase_code_and_a_description() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    small_instance_with_binding(&c, "i-a11", "b").await;
    let slow = c.instance("i-a11-slow");
    slow.provision(&provision_req(LARGE)).await.expect("202");
    let mut answers = Vec::new();
    let get = |path: &str| http(&running, Method::GET, path);
    answers.push(Answer::of(get("/v2/nope")).await);
    answers.push(Answer::of(get("/v2/service_instances/nope")).await);
    answers.push(Answer::of(get("/v2/service_instances/i-a11-slow/service_bindings/x")).await);
    answers.push(Answer::of(http(&running, Method::POST, "/v2/catalog")).await);
    answers.push(Answer::of(bare(&running, Method::GET, "/v2/catalog", "1.0", PASSWORD)).await);
    answers.push(
        Answer::of(
            http(&running, Method::PUT, "/v2/service_instances/i-a11")
                .json_body(&json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"size": 2}})),
        )
        .await,
    );
    answers.push(
        Answer::of(
            http(&running, Method::PUT, "/v2/service_instances/i-a11-x")
                .json_body(&json!({"service_id": SVC, "plan_id": LARGE})),
        )
        .await,
    );
    answers.push(
        Answer::of(
            http(
                &running,
                Method::PATCH,
                "/v2/service_instances/i-a11-slow?accepts_incomplete=true",
            )
            .json_body(&json!({"service_id": SVC, "parameters": {"size": 3}})),
        )
        .await,
    );
    answers.push(
        Answer::of(
            http(&running, Method::PUT, "/v2/service_instances/i-a11-m").json_body(
                &json!({"service_id": SVC, "plan_id": SMALL, "maintenance_info": {"version": "0.0.1"}}),
            ),
        )
        .await,
    );
    answers.push(Answer::of(http(&running, Method::DELETE, "/v2/service_instances/i-a11")).await);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [404, 404, 404, 405, 412, 409, 422, 422, 422, 400]);
    for a in &answers {
        let code = a.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error: {a:?}"));
        let mut chars = code.chars();
        assert!(
            chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric()),
            "A11: `error` is one CamelCase word: {a:?}"
        );
        assert!(
            a.body["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{a:?}"
        );
        assert!(
            a.body.get("instance_usable").is_none() && a.body.get("update_repeatable").is_none(),
            "A12: {a:?}"
        );
    }
    assert_eq!(answers[6].body["error"], "AsyncRequired");
    assert_eq!(answers[7].body["error"], "ConcurrencyError");
    assert_eq!(answers[8].body["error"], "MaintenanceInfoConflict");
}

#[tokio::test]
async fn a30_catalog_ids_are_the_same_on_every_fetch() {
    let running = echo_broker().await;
    let c = client(&running);
    let ids = |cat: &osb_client::types::Catalog| -> Vec<String> {
        cat.services
            .iter()
            .flat_map(|s| {
                std::iter::once(s.id.as_str().to_owned())
                    .chain(s.plans.iter().map(|p| p.id.as_str().to_owned()))
            })
            .collect()
    };
    let first = ids(&c.catalog().await.expect("catalog"));
    assert_eq!(first, [SVC, SMALL, LARGE]);
    // Across requests that change the broker's state.
    c.instance("i-a30")
        .provision(&provision_req(SMALL))
        .await
        .expect("provision");
    for _ in 0..3 {
        assert_eq!(ids(&c.catalog().await.expect("catalog")), first);
    }
}

#[tokio::test]
async fn a124_unbind_without_service_id_or_plan_id_is_400_and_the_binding_stays() {
    let running = echo_broker().await;
    let c = client(&running);
    small_instance_with_binding(&c, "i-a124", "b").await;
    let path = "/v2/service_instances/i-a124/service_bindings/b";
    for query in [
        String::new(),
        format!("?service_id={SVC}"),
        format!("?plan_id={SMALL}"),
        format!("?service_id=&plan_id={SMALL}"),
        format!("?service_id={SVC}&plan_id=&accepts_incomplete=true"),
    ] {
        let ans = Answer::of(http(&running, Method::DELETE, &format!("{path}{query}"))).await;
        let body = ans.assert_error(400, "BadRequest");
        assert!(
            body["description"].as_str().unwrap_or("").contains("_id"),
            "{query}: names the parameter: {ans:?}"
        );
    }
    let got = c
        .instance("i-a124")
        .binding("b")
        .get()
        .await
        .expect("binding still there");
    assert_eq!(
        serde_json::to_value(&got.credentials).expect("json")["uri"],
        "echo://i-a124/b"
    );
}

#[tokio::test]
async fn a125_unbind_unknown_binding_is_410_with_an_empty_object() {
    let running = echo_broker().await;
    let c = client(&running);
    small_instance_with_binding(&c, "i-a125", "b").await;
    let i = c.instance("i-a125");
    let out = i
        .binding("never")
        .unbind(SVC, SMALL)
        .await
        .expect("410 is success");
    assert_eq!(out, UnbindOutcome::AlreadyGone);
    let ans = Answer::of(http(
        &running,
        Method::DELETE,
        &format!("/v2/service_instances/i-a125/service_bindings/never?service_id={SVC}&plan_id={SMALL}"),
    ))
    .await;
    assert_eq!((ans.status, &ans.body), (410, &json!({})), "{ans:?}");
    // The other binding was not touched.
    assert!(i.binding("b").get_opt().await.expect("get").is_some());
}

#[tokio::test]
async fn a82_a116_last_operation_with_a_malformed_query_is_400() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-a82");
    i.provision(&provision_req(LARGE)).await.expect("202");
    let inst = "/v2/service_instances/i-a82/last_operation";
    for query in [
        "operation=a&operation=b",
        "service_id=a&service_id=b",
        "plan_id=x&plan_id=y",
    ] {
        let ans = Answer::of(http(&running, Method::GET, &format!("{inst}?{query}"))).await;
        let body = ans.assert_error(400, "BadRequest");
        assert!(
            body["description"]
                .as_str()
                .unwrap_or("")
                .contains("more than once"),
            "{query}: {ans:?}"
        );
    }
    // Unknown parameters are ignored (A8 in spirit): the answer is about the operation.
    let ans = Answer::of(http(&running, Method::GET, &format!("{inst}?x-vendor=1"))).await;
    assert_eq!(ans.status, 200, "{ans:?}");
    assert_eq!(ans.body["state"], "in progress");
    let p = i.provision(&provision_req(LARGE)).await.expect("202 again");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    let blo = "/v2/service_instances/i-a82/service_bindings/b/last_operation";
    let ans = Answer::of(http(
        &running,
        Method::GET,
        &format!("{blo}?operation=a&operation=b"),
    ))
    .await;
    ans.assert_error(400, "BadRequest");
    // The 400s changed nothing.
    assert_eq!(size_of(&c, "i-a82").await, Some(json!(1)));
    assert!(b.get_opt().await.expect("get").is_some());
}

#[tokio::test]
async fn a79_a80_a115_last_operation_bodies_use_the_spec_strings() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-a79");
    i.provision(&provision_req(LARGE)).await.expect("202");
    let lo = "/v2/service_instances/i-a79/last_operation";
    let during = Answer::of(http(&running, Method::GET, lo)).await;
    assert_eq!(during.status, 200);
    assert_eq!(
        during.body["state"], "in progress",
        "A79: with a space: {during:?}"
    );
    assert_eq!(
        during.body["description"], "Creating echo instance",
        "A80/A87: the broker's progress message"
    );
    assert_eq!(
        during.header("retry-after"),
        Some("1"),
        "A85: the plan's Retry-After"
    );
    let p = i.provision(&provision_req(LARGE)).await.expect("202 again");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let after = Answer::of(http(&running, Method::GET, lo)).await;
    assert_eq!(after.body, json!({"state": "succeeded"}), "{after:?}");
    assert!(after.header("retry-after").is_none(), "{after:?}");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    let blo = "/v2/service_instances/i-a79/service_bindings/b/last_operation";
    let during = Answer::of(http(&running, Method::GET, blo)).await;
    assert_eq!(during.body["state"], "in progress", "{during:?}");
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    let after = Answer::of(http(&running, Method::GET, blo)).await;
    assert_eq!(
        after.body,
        json!({"state": "succeeded"}),
        "A115: state and description only: {after:?}"
    );
}

#[tokio::test]
async fn a59_fetch_instance_during_an_async_update_is_422_concurrency_error() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-a59");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 4}}));
    let out = i.update(&upd).await.expect("update");
    assert!(matches!(out, UpdateOutcome::Accepted { .. }), "{out:?}");
    let e = i.get().await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_concurrency_error(), "{e:?}");
    i.wait_with(&out, &fast_wait()).await.expect("updated");
    assert_eq!(size_of(&c, "i-a59").await, Some(json!(4)));
}

#[tokio::test]
async fn a131_a136_deprovision_during_async_provision_or_update_is_422_concurrency_error() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-a136");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    // The runtime rejects the delete rather than halting the creation (both are allowed).
    let e = i.deprovision(SVC, LARGE).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_concurrency_error(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "B80: {e:?}");
    i.wait_with(&p, &fast_wait()).await.expect("provision goes on");
    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 6}}));
    let out = i.update(&upd).await.expect("update");
    let e = i.deprovision(SVC, LARGE).await.unwrap_err();
    assert!(e.is_concurrency_error(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "B80: {e:?}");
    i.wait_with(&out, &fast_wait()).await.expect("update goes on");
    assert_eq!(
        size_of(&c, "i-a136").await,
        Some(json!(6)),
        "the instance is still there"
    );
}

#[tokio::test]
async fn a98_bind_during_an_async_update_is_422_concurrency_error() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-a98");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 8}}));
    let out = i.update(&upd).await.expect("update");
    let b = i.binding("b");
    let e = b.bind(&BindRequest::new(SVC, LARGE)).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_concurrency_error(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "B80: {e:?}");
    i.wait_with(&out, &fast_wait()).await.expect("updated");
    assert!(
        b.get_opt().await.expect("get").is_none(),
        "no binding was created"
    );
    let bound = b
        .bind(&BindRequest::new(SVC, LARGE))
        .await
        .expect("bind after the update");
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    assert!(b.get_opt().await.expect("get").is_some());
}

#[tokio::test]
async fn a119_a126_unbind_while_the_binding_is_being_created_is_422_concurrency_error() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-a126");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    // The runtime rejects the unbind rather than halting the creation (both are allowed).
    let e = b.unbind(SVC, LARGE).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_concurrency_error(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "B80: {e:?}");
    b.wait_with(&bound, &fast_wait()).await.expect("bind goes on");
    let got = b.get().await.expect("bound");
    assert_eq!(
        serde_json::to_value(&got.credentials).expect("json")["uri"],
        "echo://i-a126/b"
    );
}

#[tokio::test]
async fn a44_a67_a94_a123_a133_resent_requests_during_async_operations_are_202_with_the_same_operation() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    let i = c.instance("i-resend");
    let op = |o: &dyn Fn() -> Option<osb_client::PendingOperation>| o().and_then(|p| p.operation);

    let first = i.provision(&provision_req(LARGE)).await.expect("provision");
    let again = i.provision(&provision_req(LARGE)).await.expect("provision again");
    assert!(
        matches!(again, ProvisionOutcome::Accepted { .. }),
        "A44: {again:?}"
    );
    assert!(op(&|| first.pending()).is_some());
    assert_eq!(op(&|| first.pending()), op(&|| again.pending()), "A44");
    i.wait_with(&again, &fast_wait()).await.expect("provisioned");

    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 3}}));
    let first = i.update(&upd).await.expect("update");
    let again = i.update(&upd).await.expect("update again");
    assert!(matches!(again, UpdateOutcome::Accepted { .. }), "A67: {again:?}");
    assert_eq!(op(&|| first.pending()), op(&|| again.pending()), "A67");
    i.wait_with(&again, &fast_wait()).await.expect("updated");
    assert_eq!(size_of(&c, "i-resend").await, Some(json!(3)));

    let b = i.binding("b");
    let req = BindRequest::new(SVC, LARGE);
    let first = b.bind(&req).await.expect("bind");
    let again = b.bind(&req).await.expect("bind again");
    assert!(matches!(again, BindOutcome::Accepted { .. }), "A94: {again:?}");
    assert_eq!(op(&|| first.pending()), op(&|| again.pending()), "A94");
    b.wait_with(&again, &fast_wait()).await.expect("bound");
    assert!(b.get_opt().await.expect("get").is_some());

    let first = b.unbind(SVC, LARGE).await.expect("unbind");
    let again = b.unbind(SVC, LARGE).await.expect("unbind again");
    assert!(matches!(again, UnbindOutcome::Accepted { .. }), "A123: {again:?}");
    assert_eq!(op(&|| first.pending()), op(&|| again.pending()), "A123");
    assert!(matches!(
        b.wait_with(&again, &fast_wait()).await.expect("unbound"),
        WaitOutcome::Succeeded(_)
    ));
    assert!(b.get_opt().await.expect("get").is_none());

    let first = i.deprovision(SVC, LARGE).await.expect("deprovision");
    let again = i.deprovision(SVC, LARGE).await.expect("deprovision again");
    assert!(
        matches!(again, DeprovisionOutcome::Accepted { .. }),
        "A133: {again:?}"
    );
    assert_eq!(op(&|| first.pending()), op(&|| again.pending()), "A133");
    assert!(matches!(
        i.wait_with(&again, &fast_wait()).await.expect("gone"),
        WaitOutcome::Succeeded(_)
    ));
    assert!(i.get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn a100_a127_a138_async_operations_are_non_empty_strings_of_at_most_10000_chars() {
    let running = echo_broker().await;
    let c = client(&running);
    let i = c.instance("i-opid");
    let mut ops = Vec::new();
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    ops.push(p.pending());
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    ops.push(bound.pending());
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    let unbound = b.unbind(SVC, LARGE).await.expect("unbind");
    ops.push(unbound.pending());
    b.wait_with(&unbound, &fast_wait()).await.expect("unbound");
    let gone = i.deprovision(SVC, LARGE).await.expect("deprovision");
    ops.push(gone.pending());
    i.wait_with(&gone, &fast_wait()).await.expect("gone");
    for pending in ops {
        let op = pending.and_then(|p| p.operation).expect("an operation id");
        assert!(!op.as_str().is_empty() && op.as_str().len() <= 10_000, "{op:?}");
    }
}

#[tokio::test]
async fn a6_request_identity_is_echoed_on_successes_and_errors_of_every_endpoint() {
    let running = slow_echo_broker(SLOW).await;
    let c = client(&running);
    small_instance_with_binding(&c, "i-rid", "b").await;
    let ids = format!("service_id={SVC}&plan_id={SMALL}");
    let large_ids = format!("service_id={SVC}&plan_id={LARGE}");
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (http(&running, Method::GET, "/v2/catalog"), 200),
        (
            http(
                &running,
                Method::PUT,
                "/v2/service_instances/i-rid-a?accepts_incomplete=true",
            )
            .json_body(&json!({"service_id": SVC, "plan_id": LARGE})),
            202,
        ),
        (
            http(
                &running,
                Method::GET,
                "/v2/service_instances/i-rid-a/last_operation",
            ),
            200,
        ),
        (http(&running, Method::GET, "/v2/service_instances/i-rid-a"), 404),
        (
            http(
                &running,
                Method::DELETE,
                &format!("/v2/service_instances/i-rid-a?{large_ids}"),
            ),
            422,
        ),
        (http(&running, Method::GET, "/v2/service_instances/i-rid"), 200),
        (
            http(&running, Method::PATCH, "/v2/service_instances/i-rid")
                .json_body(&json!({"service_id": SVC})),
            200,
        ),
        (
            http(
                &running,
                Method::PUT,
                "/v2/service_instances/i-rid/service_bindings/b",
            )
            .json_body(&json!({"service_id": SVC, "plan_id": SMALL, "parameters": {"other": 1}})),
            409,
        ),
        (
            http(
                &running,
                Method::GET,
                "/v2/service_instances/i-rid/service_bindings/b",
            ),
            200,
        ),
        (
            http(
                &running,
                Method::GET,
                "/v2/service_instances/i-rid/service_bindings/b/last_operation",
            ),
            200,
        ),
        (
            http(
                &running,
                Method::DELETE,
                "/v2/service_instances/i-rid/service_bindings/b",
            ),
            400,
        ),
        (
            http(
                &running,
                Method::DELETE,
                &format!("/v2/service_instances/i-rid/service_bindings/nope?{ids}"),
            ),
            410,
        ),
        (bare(&running, Method::GET, "/v2/catalog", "2.17", "wrong"), 401),
        (bare(&running, Method::GET, "/v2/catalog", "2.1", PASSWORD), 412),
        (http(&running, Method::GET, "/v2/nowhere"), 404),
    ];
    for (n, (rb, status)) in cases.into_iter().enumerate() {
        let id = format!("rid-{n}");
        let ans = Answer::of(rb.header("X-Broker-API-Request-Identity", id.as_str())).await;
        assert_eq!(ans.status, status, "case {n}: {ans:?}");
        assert_eq!(
            ans.header("x-broker-api-request-identity"),
            Some(id.as_str()),
            "case {n}: {ans:?}"
        );
    }
}

#[tokio::test]
async fn a85_in_progress_last_operation_carries_retry_after_through_the_client() {
    let running = slow_echo_broker(SLOW).await;
    let i = client(&running).instance("i-ra");
    let out = i.provision(&provision_req(LARGE)).await.expect("202");
    let pending = out.pending().expect("pending");
    let params = LastOperationParams {
        service_id: pending.service_id.clone(),
        plan_id: pending.plan_id.clone(),
        operation: pending.operation.clone(),
    };
    let LastOperation::Reported {
        response,
        retry_after,
    } = i.last_operation(&params).await.expect("poll")
    else {
        panic!("not reported")
    };
    assert_eq!(response.state, OperationState::InProgress);
    assert_eq!(retry_after, Some(Duration::from_secs(1)));
    i.wait_with(&out, &fast_wait()).await.expect("done");
}

// ---------------------------------------------------------------------------------------------
// The `rules` broker: 422 RequiresApp (A97) and a refused plan change (A69).
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a97_b72_bind_without_app_guid_is_422_requires_app_and_with_one_succeeds() {
    let running = rules_broker().await;
    let c = client(&running);
    let i = c.instance("i-a97");
    i.provision(&ProvisionRequest::new(RULES, Roomy::ID).with_org_space("org-1", "space-1"))
        .await
        .expect("provision");
    let b = i.binding("b");
    let e = b.bind(&BindRequest::new(RULES, Roomy::ID)).await.unwrap_err();
    broker_err(&e, 422);
    assert!(e.is_requires_app(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "a 4xx is not mitigated: {e:?}");
    assert!(b.get_opt().await.expect("get").is_none(), "A14: nothing created");
    // B72: repeat with the app; both the bind_resource and the deprecated field work.
    let with_app: BindRequest = from_json(json!({
        "service_id": RULES, "plan_id": Roomy::ID, "bind_resource": {"app_guid": "app-1"}
    }));
    let out = b.bind(&with_app).await.expect("bind with app");
    assert!(matches!(out, BindOutcome::Created(_)), "{out:?}");
    let got = b.get().await.expect("fetch");
    assert_eq!(
        serde_json::to_value(&got.credentials).expect("json")["app"],
        "app-1"
    );
    let legacy: BindRequest = from_json(json!({
        "service_id": RULES, "plan_id": Roomy::ID, "app_guid": "app-2"
    }));
    let out = i.binding("b2").bind(&legacy).await.expect("deprecated app_guid");
    assert!(matches!(out, BindOutcome::Created(_)), "{out:?}");
}

#[tokio::test]
async fn a69_unsupported_plan_change_is_422_and_the_instance_is_unchanged() {
    let running = rules_broker().await;
    let c = client(&running);
    let i = c.instance("i-a69");
    let req: ProvisionRequest = from_json::<osb_client::types::ProvisionRequest>(json!({
        "service_id": RULES, "plan_id": Roomy::ID, "parameters": {"size": 5}
    }))
    .with_org_space("org-1", "space-1");
    i.provision(&req).await.expect("provision");
    let to_tiny: UpdateRequest = from_json(json!({
        "service_id": RULES, "plan_id": Tiny::ID, "previous_values": {"plan_id": Roomy::ID}
    }));
    let e = i.update(&to_tiny).await.unwrap_err();
    broker_err(&e, 422);
    assert_eq!(e.error_code().map(|c| c.as_str()), Some(QUOTA_EXCEEDED), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "{e:?}");
    let got = i.get().await.expect("fetch");
    assert_eq!(got.plan_id.as_ref().map(|p| p.as_str()), Some(Roomy::ID), "A73");
    assert_eq!(
        got.parameters.as_ref().and_then(|p| p.get("size")),
        Some(&json!(5))
    );
}

#[tokio::test]
async fn a36_a64_plan_change_without_parameters_keeps_them() {
    let running = rules_broker().await;
    let c = client(&running);
    let i = c.instance("i-a64");
    let req: ProvisionRequest = from_json::<osb_client::types::ProvisionRequest>(json!({
        "service_id": RULES, "plan_id": Roomy::ID, "parameters": {"size": 1, "tag": "t"}
    }))
    .with_org_space("org-1", "space-1");
    i.provision(&req).await.expect("provision");
    // A36: the offering declares plan_updateable, so the plan change is supported.
    let to_tiny: UpdateRequest = from_json(json!({"service_id": RULES, "plan_id": Tiny::ID}));
    let out = i.update(&to_tiny).await.expect("update");
    assert!(matches!(out, UpdateOutcome::Updated(_)), "{out:?}");
    let got = i.get().await.expect("fetch");
    assert_eq!(got.plan_id.as_ref().map(|p| p.as_str()), Some(Tiny::ID));
    assert_eq!(
        got.parameters.as_ref().map(to_value),
        Some(json!({"size": 1, "tag": "t"})),
        "A64: no parameters in the update, none changed"
    );
}

#[tokio::test]
async fn b49_update_without_dashboard_url_keeps_the_previous_one() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-b49");
    let created = i.provision(&provision_req(SMALL)).await.expect("provision");
    let previous = created.dashboard_url();
    assert_eq!(previous, Some("http://dash.test/echo/i-b49"));
    let upd: UpdateRequest = from_json(json!({"service_id": SVC, "parameters": {"size": 2}}));
    let out = i.update(&upd).await.expect("update");
    let UpdateOutcome::Updated(body) = &out else {
        panic!("{out:?}")
    };
    assert_eq!(body.dashboard_url, None, "the echo broker sends no new dashboard");
    assert_eq!(
        out.dashboard_url_or(previous),
        previous,
        "B49: the client keeps the old one"
    );
    let got = i.get().await.expect("fetch");
    assert_eq!(got.dashboard_url.as_deref(), previous, "and so does the broker");
}

#[tokio::test]
async fn a129_deprovision_forgets_the_instance_and_its_bindings() {
    let running = echo_broker().await;
    let c = client(&running);
    small_instance_with_binding(&c, "i-a129", "b").await;
    let i = c.instance("i-a129");
    let out = i.deprovision(SVC, SMALL).await.expect("deprovision");
    assert!(matches!(out, DeprovisionOutcome::Deleted(_)), "{out:?}");
    assert!(i.get_opt().await.expect("get").is_none());
    let again = i.deprovision(SVC, SMALL).await.expect("again");
    assert_eq!(again, DeprovisionOutcome::AlreadyGone, "A135");
    // Provisioned again under the same id, the instance starts without the old binding.
    i.provision(&provision_req(SMALL)).await.expect("provision again");
    assert!(i.binding("b").get_opt().await.expect("get").is_none());
}

/// A broker with no offerings (the catalog MAY be empty, A29/C8).
#[derive(Debug, Clone, Copy)]
struct Empty;

impl osb_server_mini::Broker for Empty {
    fn catalog(&self) -> osb_server_mini::types::Catalog {
        osb_server_mini::types::Catalog::new(vec![])
    }

    async fn provision(
        &self,
        _: &osb_server_mini::RequestContext,
        _: ProvisionRequest,
    ) -> Result<osb_server_mini::reply::Provisioned, osb_server_mini::BrokerError> {
        Err(osb_server_mini::BrokerError::bad_request("no offerings"))
    }

    async fn deprovision(
        &self,
        _: &osb_server_mini::RequestContext,
        _: osb_server_mini::request::DeprovisionRequest,
    ) -> Result<osb_server_mini::reply::Deprovisioned, osb_server_mini::BrokerError> {
        Ok(osb_server_mini::reply::Deprovisioned::done())
    }
}

#[tokio::test]
async fn c8_c14_catalog_always_carries_services_and_every_offering_bindable() {
    let empty = osb_server_mini::Server::new(Empty)
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("an empty catalog is valid");
    let ans = Answer::of(http(&empty, Method::GET, "/v2/catalog")).await;
    assert_eq!(
        (ans.status, &ans.body),
        (200, &json!({"services": []})),
        "{ans:?}"
    );
    assert!(
        client(&empty)
            .catalog()
            .await
            .expect("catalog")
            .services
            .is_empty()
    );
    // `bindable` is REQUIRED: sent for every offering, `false` included.
    for running in [echo_broker().await, rules_broker().await] {
        let ans = Answer::of(http(&running, Method::GET, "/v2/catalog")).await;
        let services = ans.body["services"].as_array().expect("services array");
        assert!(!services.is_empty());
        for s in services {
            assert!(s["bindable"].is_boolean(), "{s}");
        }
    }
    let not_bindable: osb_client::types::Catalog = from_json(json!({"services": [{
        "id": "s", "name": "n", "description": "d", "bindable": false,
        "plans": [{"id": "p", "name": "p", "description": "d"}]
    }]}));
    assert_eq!(to_value(&not_bindable)["services"][0]["bindable"], false);
}
