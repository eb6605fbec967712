//! CHECKLIST A.5 Update: `PATCH /v2/service_instances/:instance_id`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a61_a62_update_catalog_rules() {
    let (h, _) = new_handler();
    call(&h, Method::PUT, "/v2/service_instances/u", Some(prov("fixed-a"))).await;
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "plan_id": "fixed-b" })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "A69: {v}");
    assert_eq!(v["error"], "PlanChangeNotSupported");
    assert!(v["description"].as_str().unwrap().contains("plan_updateable"));
    let ctx = json!({ "platform": "kubernetes", "namespace": "ns" });
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "context": ctx })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "A69: {v}");
    assert_eq!(v["error"], "ContextUpdateNotSupported");
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("allow_context_updates")
    );
    // Not context-only: parameters change too.
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "context": ctx, "parameters": { "a": 1 } })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u",
        Some(json!({ "service_id": "fixed", "plan_id": "sync" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "plan of another offering");
}

#[tokio::test]
async fn a66_update_applies_changes_and_a71_checks_maintenance_info() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["update.parameters", "maintenance.update_conflict"]).await;
    let (h, _) = new_handler();
    provision_sync(&h, "u2").await;
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u2",
        Some(json!({ "service_id": "svc", "plan_id": "schema" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({}));
    let (_, v) = call(&h, Method::GET, "/v2/service_instances/u2", None).await;
    assert_eq!(v["plan_id"], "schema");
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/u2",
        Some(json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "9.9.9" } })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "MaintenanceInfoConflict");
    let (_, v) = call(&h, Method::GET, "/v2/service_instances/u2", None).await;
    assert_eq!(v["plan_id"], "schema", "A73: a 4xx applies nothing");
}

#[tokio::test]
async fn update_or_bind_of_unknown_instance_is_404() {
    let (h, _) = new_handler();
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/nope",
        Some(json!({ "service_id": "svc" })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/nope/service_bindings/b",
        Some(bind_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a62_context_only_update_allowed_when_declared() {
    let (h, _) = new_handler();
    provision_sync(&h, "cx").await;
    let ctx = json!({ "platform": "kubernetes", "namespace": "new-ns" });
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/cx",
        Some(json!({ "service_id": "svc", "context": ctx })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The new context is now part of the record: an identical PUT with it is a repeat.
    let body = json!({ "service_id": "svc", "plan_id": "sync", "context": ctx });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/cx", Some(body)).await;
    assert_eq!(s, StatusCode::OK);
}

// ---- over sockets

#[tokio::test]
async fn a61_plan_changes_follow_plan_updateable_with_the_plan_value_first() {
    library_checks(&["update.plan_change"]).await;
    let h = Harness::new().await;
    // Offering not plan_updateable: refused, and the plan stays.
    h.provision_sync("a61", "fixed-a").await;
    let res = h
        .patch(
            &format!("{I}/a61"),
            json!({ "service_id": "fixed", "plan_id": "fixed-b" }),
        )
        .await;
    assert_eq!(res.status, 422, "A69: a change the catalog does not support");
    assert_eq!(res.body["error"], "PlanChangeNotSupported");
    assert!(res.description().contains("plan_updateable"), "{res:?}");
    assert_eq!(
        h.put(&format!("{I}/a61"), prov("fixed-a")).await.status,
        200,
        "still fixed-a"
    );
    // A plan that says plan_updateable: true in that offering can be changed.
    h.provision_sync("a61-up", "fixed-up").await;
    let res = h
        .patch(
            &format!("{I}/a61-up"),
            json!({ "service_id": "fixed", "plan_id": "fixed-b" }),
        )
        .await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(
        h.put(&format!("{I}/a61-up"), prov("fixed-b")).await.status,
        200,
        "now fixed-b"
    );
    // A plan that says false in an updateable offering cannot.
    h.provision_sync("a61-pinned", "pinned").await;
    let res = h
        .patch(
            &format!("{I}/a61-pinned"),
            json!({ "service_id": "svc", "plan_id": "sync" }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["error"].as_str()),
        (422, Some("PlanChangeNotSupported"))
    );
    assert_eq!(h.get(&format!("{I}/a61-pinned")).await.body["plan_id"], "pinned");
    // An updateable one can.
    h.provision_sync("a61-svc", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a61-svc"),
            json!({ "service_id": "svc", "plan_id": "schema" }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    assert_eq!(h.get(&format!("{I}/a61-svc")).await.body["plan_id"], "schema");
}

#[tokio::test]
async fn a62_context_only_updates_need_allow_context_updates() {
    let h = Harness::new().await;
    let ctx = json!({ "platform": "kubernetes", "namespace": "new-ns" });
    h.provision_sync("a62-fixed", "fixed-a").await;
    let res = h
        .patch(
            &format!("{I}/a62-fixed"),
            json!({ "service_id": "fixed", "context": ctx }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["error"].as_str()),
        (422, Some("ContextUpdateNotSupported"))
    );
    assert!(res.description().contains("allow_context_updates"), "{res:?}");
    assert_eq!(h.shared.updates.load(Ordering::SeqCst), 0);
    h.provision_sync("a62", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a62"),
            json!({ "service_id": "svc", "context": ctx }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    // The new context is in the record: a PUT with it is an identical repeat.
    let res = h
        .put(
            &format!("{I}/a62"),
            json!({ "service_id": "svc", "plan_id": "sync", "context": ctx }),
        )
        .await;
    assert_eq!(res.status, 200);
}

#[tokio::test]
async fn a63_update_without_plan_id_keeps_the_plan() {
    let h = Harness::new().await;
    h.provision_sync("a63", "schema").await;
    let res = h
        .patch(
            &format!("{I}/a63"),
            json!({ "service_id": "svc", "parameters": { "size": 2 } }),
        )
        .await;
    assert_eq!(res.status, 200);
    let res = h.get(&format!("{I}/a63")).await;
    assert_eq!(res.body["plan_id"], "schema");
    assert_eq!(res.body["parameters"], json!({ "size": 2 }));
}

#[tokio::test]
async fn a64_update_without_parameters_keeps_them() {
    let h = Harness::new().await;
    assert_eq!(
        h.put(&format!("{I}/a64"), prov_with("schema", json!({ "size": 3 })))
            .await
            .status,
        201
    );
    let res = h
        .patch(
            &format!("{I}/a64"),
            json!({ "service_id": "svc", "plan_id": "sync" }),
        )
        .await;
    assert_eq!(res.status, 200);
    let res = h.get(&format!("{I}/a64")).await;
    assert_eq!(res.body["plan_id"], "sync");
    assert_eq!(res.body["parameters"], json!({ "size": 3 }));
}

#[tokio::test]
async fn a67_resent_patch_while_updating_is_202_with_the_same_operation() {
    library_checks(&["update.repeat_in_progress"]).await;
    let h = Harness::new().await;
    h.provision_sync("a67", "sync").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true } });
    let uri = format!("{I}/a67?accepts_incomplete=true");
    let first = h.patch(&uri, body.clone()).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    let again = h.patch(&uri, body.clone()).await;
    assert_eq!(again.status, 202, "not 200 while in progress");
    assert_eq!(again.body["operation"], op.as_str());
    let other = h
        .patch(&uri, json!({ "service_id": "svc", "parameters": {} }))
        .await;
    assert_eq!((other.status, other.error()), (422, "ConcurrencyError"), "A72");
    assert_eq!(h.shared.updates.load(Ordering::SeqCst), 1);
    h.release(1);
    h.wait_state(&format!("{I}/a67/last_operation"), "succeeded")
        .await;
    let after = h.patch(&uri, body).await;
    assert_eq!(after.status, 202, "a new update once the last one completed");
    assert_ne!(after.body["operation"], op.as_str());
    h.release(1);
    h.wait_state(&format!("{I}/a67/last_operation"), "succeeded")
        .await;
}

#[tokio::test]
async fn a73_a_failed_update_applies_none_of_its_changes() {
    let h = Harness::new().await;
    assert_eq!(
        h.put(&format!("{I}/a73"), prov_with("sync", json!({ "keep": 1 })))
            .await
            .status,
        201
    );
    let before = h.get(&format!("{I}/a73")).await.body;
    let attempts = [
        (
            json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "reject": true } }),
            422,
        ),
        (
            json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "panic": true } }),
            500,
        ),
        (
            json!({ "service_id": "svc", "plan_id": "schema", "maintenance_info": { "version": "0.1" } }),
            422,
        ),
    ];
    for (body, status) in attempts {
        let res = h.patch(&format!("{I}/a73"), body.clone()).await;
        assert_eq!(res.status, status, "{body}: {res:?}");
        assert_eq!(h.get(&format!("{I}/a73")).await.body, before, "after {body}");
    }
    // A failed asynchronous update applies nothing either.
    let res = h
        .patch(
            &format!("{I}/a73?accepts_incomplete=true"),
            json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "async": true, "fail": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    h.wait_state(&format!("{I}/a73/last_operation"), "failed").await;
    assert_eq!(h.get(&format!("{I}/a73")).await.body, before);
}
