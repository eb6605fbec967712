//! CHECKLIST A.3 Provision: `PUT /v2/service_instances/:instance_id`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a39_unknown_service_or_plan_is_400() {
    let (h, shared) = new_handler();
    for body in [
        json!({ "service_id": "nope", "plan_id": "sync" }),
        json!({ "service_id": "svc", "plan_id": "nope" }),
        json!({ "service_id": "svc", "plan_id": "fixed-a" }),
    ] {
        let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a39", Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a41_parameters_are_validated_against_the_plan_schema() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks_with(
        &["params.valid", "params.invalid"],
        Setup {
            sync_plan: "schema",
            ..Setup::default()
        },
    )
    .await;
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "size": 11 } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a41", Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("size"), "{v}");
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 0);
    let body = json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "size": 3 } });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/a41", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a42_a43_a46_provision_idempotency() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&[
        "provision.created",
        "provision.identical_repeat",
        "provision.conflict",
    ])
    .await;
    let (h, shared) = new_handler();
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/i", Some(prov("sync"))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["dashboard_url"], "https://dash/i");
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/i", Some(prov("sync"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["dashboard_url"], "https://dash/i");
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "a": 1 } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/i", Some(body)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["error"], "Conflict");
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a44_repeat_put_while_in_progress_is_202_with_the_same_operation() {
    let (h, shared) = new_handler();
    let uri = "/v2/service_instances/a44?accepts_incomplete=true";
    let (s, v1) = call(&h, Method::PUT, uri, Some(prov("async"))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v1["dashboard_url"], "https://dash/async");
    let op = v1["operation"].as_str().unwrap().to_owned();
    assert!(!op.is_empty() && op.len() <= 10_000);
    let (s, v2) = call(&h, Method::PUT, uri, Some(prov("async"))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v2["operation"], op.as_str());
    let other = json!({ "service_id": "svc", "plan_id": "async", "parameters": { "x": 1 } });
    let (s, _) = call(&h, Method::PUT, uri, Some(other)).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "A46: different attributes while being provisioned"
    );
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/a44/last_operation", "succeeded").await;
}

#[tokio::test]
async fn a48_a49_maintenance_info_conflict() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "2.0.0" } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a48", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "MaintenanceInfoConflict");
    let body =
        json!({ "service_id": "svc", "plan_id": "schema", "maintenance_info": { "version": "1.0.0" } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a49", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "MaintenanceInfoConflict");
    let body = json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "1.0.0" } });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/a48", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a44_concurrent_identical_async_provisions_share_one_operation() {
    let (h, shared) = new_handler();
    let h = Arc::new(h);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            call(
                &h,
                Method::PUT,
                "/v2/service_instances/ca?accepts_incomplete=true",
                Some(prov("async")),
            )
            .await
        }));
    }
    let mut ops = std::collections::HashSet::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert_eq!(s, StatusCode::ACCEPTED);
        ops.insert(v["operation"].as_str().unwrap().to_owned());
    }
    assert_eq!(ops.len(), 1);
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/ca/last_operation", "succeeded").await;
}

// ---- over sockets

#[tokio::test]
async fn a39_unknown_service_or_plan_of_another_service_is_400() {
    library_checks(&["provision.unknown_plan"]).await;
    let h = Harness::new().await;
    for (body, needle) in [
        (
            json!({ "service_id": "nope", "plan_id": "sync" }),
            "unknown service_id",
        ),
        (
            json!({ "service_id": "svc", "plan_id": "nope" }),
            "unknown plan_id",
        ),
        (
            json!({ "service_id": "svc", "plan_id": "fixed-a" }),
            "unknown plan_id",
        ),
    ] {
        let res = h.put(&format!("{I}/a39"), body.clone()).await;
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.error(), "BadRequest");
        assert!(res.description().contains(needle), "{res:?}");
    }
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 0);
    assert_eq!(h.get(&format!("{I}/a39")).await.status, 404);
}

#[tokio::test]
async fn a44_resent_put_while_provisioning_is_202_with_the_same_operation() {
    library_checks(&["async.repeat_in_progress", "async.conflict_in_progress"]).await;
    let h = Harness::new().await;
    let uri = format!("{I}/a44?accepts_incomplete=true");
    let first = h.put(&uri, prov("async")).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    for _ in 0..3 {
        let again = h.put(&uri, prov("async")).await;
        assert_eq!(again.status, 202, "not 200 while in progress");
        assert_eq!(again.body["operation"], op.as_str());
        assert_eq!(again.body["dashboard_url"], "https://dash/async");
    }
    let other = h.put(&uri, prov_with("async", json!({ "x": 1 }))).await;
    assert_eq!(
        other.status, 409,
        "A46: different attributes while being provisioned"
    );
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 1);
    h.release(1);
    h.wait_state(&format!("{I}/a44/last_operation"), "succeeded")
        .await;
    let done = h.put(&uri, prov("async")).await;
    assert_eq!(done.status, 200, "complete now: identical PUT is 200");
    assert!(done.body.get("operation").is_none(), "{done:?}");
}
