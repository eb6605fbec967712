//! CHECKLIST A.9 Binding last operation: `GET …/service_bindings/:binding_id/last_operation`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a116_binding_last_operation_of_unknown_binding_is_404() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["bind.last_operation_unknown"]).await;
    let (h, _) = new_handler();
    let (s, _) = call(
        &h,
        Method::GET,
        "/v2/service_instances/x/service_bindings/y/last_operation",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &h,
        Method::GET,
        "/v2/service_instances/x/service_bindings/y",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

// ---- over sockets

#[tokio::test]
async fn a115_binding_last_operation_has_state_and_description_only() {
    let h = Harness::new().await;
    h.provision_sync("a115", "sync").await;
    let b = format!("{I}/a115/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            bind_body(json!({ "async": true, "async_fail": "no credentials today" })),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{b}/last_operation")).await;
    assert_eq!(lo.body, json!({ "state": "in progress" }));
    h.release(1);
    let lo = h.wait_state(&format!("{b}/last_operation"), "failed").await;
    assert_eq!(
        lo.body,
        json!({ "state": "failed", "description": "no credentials today" }),
        "no instance_usable/update_repeatable even though the broker set them"
    );
    assert_eq!(h.get(&b).await.status, 404, "a failed binding cannot be fetched");
}

#[tokio::test]
async fn a119_unbind_while_the_binding_is_being_created_is_422_concurrency_error() {
    // The runtime rejects the delete (allowed by A.12) instead of halting the creation.
    let h = Harness::new().await;
    h.provision_sync("a119", "sync").await;
    let b = format!("{I}/a119/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            bind_body(json!({ "async": true })),
        )
        .await;
    assert_eq!(res.status, 202);
    for q in ["", "&accepts_incomplete=true"] {
        let res = h.delete(&format!("{b}?service_id=svc&plan_id=sync{q}")).await;
        assert_eq!((res.status, res.error()), (422, "ConcurrencyError"), "{q:?}");
    }
    let lo = h.get(&format!("{b}/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress", "the creation goes on");
    h.release(1);
    h.wait_state(&format!("{b}/last_operation"), "succeeded").await;
    let res = h.delete(&format!("{b}?service_id=svc&plan_id=sync")).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
}
