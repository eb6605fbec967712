//! Every endpoint of the derived echo broker through `osb_client::Client`: each success status
//! (201/200/202) and each error status the specification defines, with the state afterwards.

use osb_client::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_client::{
    BindOutcome, DeprovisionOutcome, Error, LastOperation, ProvisionOutcome, UnbindOutcome, UpdateOutcome,
    WaitOutcome,
};
use osb_tests::e2e::{client, fast_wait, from_json};
use osb_tests::{PASSWORD, USER, basic_header, echo_broker, echo_ids};
use osb_types::operation::{LastOperationParams, OperationState};
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
        .provision(&ProvisionRequest::new(SVC, "no-such-plan"))
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
async fn a133_deprovision_async_is_202_and_polling_ends_gone_or_succeeded() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-del-async");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let out = i.deprovision(SVC, LARGE).await.expect("deprovision");
    assert!(matches!(out, DeprovisionOutcome::Accepted { .. }), "{out:?}");
    let done = i.wait_with(&out, &fast_wait()).await.expect("wait");
    assert!(
        matches!(done, WaitOutcome::Gone | WaitOutcome::Succeeded(_)),
        "{done:?}"
    );
    assert!(i.get_opt().await.expect("get").is_none());
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
async fn a123_unbind_async_is_202_then_polling_ends() {
    let running = echo_broker().await;
    let i = client(&running).instance("i-unbind-a");
    let p = i.provision(&provision_req(LARGE)).await.expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let b = i.binding("b");
    let bound = b.bind(&BindRequest::new(SVC, LARGE)).await.expect("bind");
    b.wait_with(&bound, &fast_wait()).await.expect("bound");
    let out = b.unbind(SVC, LARGE).await.expect("unbind");
    assert!(matches!(out, UnbindOutcome::Accepted { .. }), "{out:?}");
    let done = b.wait_with(&out, &fast_wait()).await.expect("wait");
    assert!(
        matches!(done, WaitOutcome::Gone | WaitOutcome::Succeeded(_)),
        "{done:?}"
    );
    assert!(b.get_opt().await.expect("get").is_none());
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
