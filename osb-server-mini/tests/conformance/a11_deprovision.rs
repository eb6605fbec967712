//! CHECKLIST A.11 Deprovision: `DELETE /v2/service_instances/:instance_id`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a132_a134_a135_deprovision() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["deprovision.missing_params"]).await;
    let (h, _) = new_handler();
    provision_sync(&h, "d").await;
    let (s, _) = call(&h, Method::DELETE, "/v2/service_instances/d?service_id=svc", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/d?service_id=svc&plan_id=nope",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/d?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({}));
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/d?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(v, json!({}));
}

#[tokio::test]
async fn a135_delete_unknown_instance_is_410() {
    let (h, _) = new_handler();
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/never?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(v, json!({}));
}

#[tokio::test]
async fn a136_deprovision_while_provisioning_is_422_concurrency_and_async_only_is_422() {
    let (h, shared) = new_handler();
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/c?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/c?service_id=svc&plan_id=async&accepts_incomplete=true",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/c/last_operation", "succeeded").await;
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/c?service_id=svc&plan_id=async",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
}

// ---- over sockets

#[tokio::test]
async fn a131_deprovision_while_provisioning_is_422_concurrency_error_and_the_create_goes_on() {
    library_checks(&[
        "concurrency.delete_during_provision",
        "k8s.concurrency_error_text",
    ])
    .await;
    // The runtime rejects the delete (allowed by A.12) instead of halting the creation.
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a131?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    let res = h
        .delete(&format!(
            "{I}/a131?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "ConcurrencyError"));
    let lo = h.get(&format!("{I}/a131/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    h.release(1);
    h.wait_state(&format!("{I}/a131/last_operation"), "succeeded")
        .await;
    assert_eq!(h.get(&format!("{I}/a131")).await.status, 200);
    let res = h
        .delete(&format!(
            "{I}/a131?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202, "accepted once the create is done");
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{I}/a131/last_operation"))
            .await
            .status,
        410
    );
}

#[tokio::test]
async fn a133_resent_deprovision_while_in_progress_is_202_with_the_same_operation() {
    library_checks(&["async.deprovision"]).await;
    let h = Harness::new().await;
    h.provision_async_done("a133").await;
    let del = format!("{I}/a133?service_id=svc&plan_id=async&accepts_incomplete=true");
    let first = h.delete(&del).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    for _ in 0..2 {
        let again = h.delete(&del).await;
        assert_eq!(again.status, 202, "not 200 while in progress");
        assert_eq!(again.body["operation"], op.as_str());
    }
    let res = h
        .patch(
            &format!("{I}/a133"),
            json!({ "service_id": "svc", "parameters": {} }),
        )
        .await;
    assert_eq!(
        (res.status, res.error()),
        (422, "ConcurrencyError"),
        "no update during a delete"
    );
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{I}/a133/last_operation"))
            .await
            .status,
        410
    );
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
}

#[tokio::test]
async fn a135_deprovision_unknown_instance_is_410() {
    library_checks(&["deprovision.gone", "deprovision.sync"]).await;
    let h = Harness::new().await;
    let del = format!("{I}/a135?service_id=svc&plan_id=sync");
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "never existed");
    h.provision_sync("a135", "sync").await;
    assert_eq!(h.delete(&del).await.status, 200);
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "already deleted");
    assert_eq!(h.get(&format!("{I}/a135")).await.status, 404);
}
