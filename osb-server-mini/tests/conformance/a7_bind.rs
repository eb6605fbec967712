//! CHECKLIST A.7 Bind: `PUT …/service_bindings/:binding_id`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a92_a93_a96_bind_idempotency() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["bind.created", "bind.identical_repeat", "bind.conflict"]).await;
    let (h, _) = new_handler();
    provision_sync(&h, "bi").await;
    let (s, v) = call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
    let (s, v) = call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
    let (s, _) = call(&h, Method::PUT, B1, Some(bind_body(json!({ "x": 1 })))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
}

#[tokio::test]
async fn a95_bind_on_non_bindable_plan_or_wrong_ids_is_400() {
    let (h, _) = new_handler();
    call(&h, Method::PUT, "/v2/service_instances/nb", Some(prov("nobind"))).await;
    let body = json!({ "service_id": "svc", "plan_id": "nobind" });
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/nb/service_bindings/b",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("not bindable"));
    let body = json!({ "service_id": "svc", "plan_id": "sync" });
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/nb/service_bindings/b",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "plan of another instance");
}

#[tokio::test]
async fn a94_a107_a112_a113_async_bind_then_fetch() {
    let (h, shared) = new_handler();
    provision_sync(&h, "bi").await;
    let (s, v) = call(&h, Method::PUT, B1, Some(bind_body(json!({ "async": true })))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
    let uri = format!("{B1}?accepts_incomplete=true");
    let (s, v) = call(&h, Method::PUT, &uri, Some(bind_body(json!({ "async": true })))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(v.get("credentials").is_none());
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::PUT, &uri, Some(bind_body(json!({ "async": true })))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["operation"], op);
    let (s, _) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "A113: in progress");
    shared.release.add_permits(1);
    wait_state(&h, &format!("{B1}/last_operation"), "succeeded").await;
    let (s, v) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["credentials"]["uri"], "test://bi/b1");
    assert_eq!(v["parameters"], json!({ "async": true }));
}

#[tokio::test]
async fn a108_a109_rotation() {
    let (h, _) = new_handler();
    provision_sync(&h, "bi").await;
    call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    let b2 = "/v2/service_instances/bi/service_bindings/b2";
    let (s, v) = call(
        &h,
        Method::PUT,
        b2,
        Some(json!({ "predecessor_binding_id": "b1" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["credentials"]["rotated_from"], "b1");
    let (s, _) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::OK, "the predecessor stays valid");
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bi/service_bindings/b3",
        Some(json!({ "predecessor_binding_id": "nope" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    call(&h, Method::PUT, "/v2/service_instances/sc", Some(prov("schema"))).await;
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/sc/service_bindings/x",
        Some(json!({ "service_id": "svc", "plan_id": "schema" })),
    )
    .await;
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/sc/service_bindings/y",
        Some(json!({ "predecessor_binding_id": "x" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("binding_rotatable"));
}

// ---- over sockets

#[tokio::test]
async fn a94_resent_bind_while_in_progress_is_202_with_the_same_operation_and_no_credentials() {
    library_checks(&["bind.async"]).await;
    let h = Harness::new().await;
    h.provision_sync("a94", "sync").await;
    let uri = format!("{I}/a94/service_bindings/b?accepts_incomplete=true");
    let first = h.put(&uri, bind_body(json!({ "async": true }))).await;
    assert_eq!(first.status, 202);
    assert!(first.body.get("credentials").is_none(), "{first:?}");
    let op = assert_operation_id(&first.body);
    let again = h.put(&uri, bind_body(json!({ "async": true }))).await;
    assert_eq!(again.status, 202, "not 200 while in progress");
    assert_eq!(again.body["operation"], op.as_str());
    assert!(again.body.get("credentials").is_none());
    let other = h.put(&uri, bind_body(json!({ "async": true, "x": 1 }))).await;
    assert_eq!(other.status, 409, "A96: different parameters while being created");
    assert_eq!(h.shared.binds.load(Ordering::SeqCst), 1);
    h.release(1);
    h.wait_state(&format!("{I}/a94/service_bindings/b/last_operation"), "succeeded")
        .await;
    let done = h.put(&uri, bind_body(json!({ "async": true }))).await;
    assert_eq!(done.status, 200);
    assert_eq!(done.body["credentials"]["uri"], "test://a94/b");
}

#[tokio::test]
async fn a98_bind_while_another_binding_is_being_created_is_422_concurrency_error() {
    let h = Arc::new(Harness::new().await);
    h.provision_sync("a98", "sync").await;
    let h1 = Arc::clone(&h);
    let first = tokio::spawn(async move {
        h1.put(
            &format!("{I}/a98/service_bindings/b1"),
            bind_body(json!({ "slow": true })),
        )
        .await
    });
    // Wait until the first bind is inside the broker.
    for _ in 0..200 {
        if h.shared.binds.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = h
        .put(&format!("{I}/a98/service_bindings/b2"), bind_body(json!({})))
        .await;
    assert_eq!((second.status, second.error()), (422, "ConcurrencyError"));
    let first = first.await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(
        h.get(&format!("{I}/a98/service_bindings/b2")).await.status,
        404,
        "not created"
    );
    let second = h
        .put(&format!("{I}/a98/service_bindings/b2"), bind_body(json!({})))
        .await;
    assert_eq!(second.status, 201, "fine once the first one is done");
}

#[tokio::test]
async fn a100_a127_a138_operation_ids_are_strings_of_at_most_10000_characters() {
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a100?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    assert_operation_id(&res.body);
    h.release(1);
    h.wait_state(&format!("{I}/a100/last_operation"), "succeeded")
        .await;
    let b = format!("{I}/a100/service_bindings/b");
    let bind = json!({ "service_id": "svc", "plan_id": "async" });
    let res = h.put(&format!("{b}?accepts_incomplete=true"), bind).await;
    assert_eq!(res.status, 201);
    let res = h
        .delete(&format!(
            "{b}?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202, "A127: unbind");
    assert_operation_id(&res.body);
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{b}/last_operation")).await.status,
        410
    );
    let res = h
        .delete(&format!(
            "{I}/a100?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202, "A138: deprovision");
    assert_operation_id(&res.body);
    h.release(1);
    assert_eq!(
        h.poll_until_done(&format!("{I}/a100/last_operation"))
            .await
            .status,
        410
    );
    h.provision_sync("a100-sync", "sync").await;
    let res = h
        .put(
            &format!("{I}/a100-sync/service_bindings/b?accepts_incomplete=true"),
            bind_body(json!({ "async": true })),
        )
        .await;
    assert_eq!(res.status, 202, "A100: bind");
    assert_operation_id(&res.body);
    h.release(1);
    h.wait_state(
        &format!("{I}/a100-sync/service_bindings/b/last_operation"),
        "succeeded",
    )
    .await;
}

#[tokio::test]
async fn a107_async_bind_answers_without_credentials_and_fetch_has_them() {
    library_checks(&["bind.async"]).await;
    let h = Harness::new().await;
    h.provision_sync("a107", "sync").await;
    let b = format!("{I}/a107/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            bind_body(json!({ "async": true })),
        )
        .await;
    assert_eq!(res.status, 202);
    assert!(res.body.get("credentials").is_none(), "{res:?}");
    assert_eq!(h.get(&b).await.status, 404, "A113: in progress");
    h.release(1);
    let lo = h.wait_state(&format!("{b}/last_operation"), "succeeded").await;
    assert_eq!(lo.body, json!({ "state": "succeeded" }));
    let res = h.get(&b).await;
    assert_eq!(res.status, 200, "available right after succeeded (A110)");
    assert_eq!(res.body["credentials"]["uri"], "test://a107/b");
}

#[tokio::test]
async fn a108_rotation_creates_a_new_binding_and_keeps_the_old_one() {
    library_checks(&["bind.rotation"]).await;
    let h = Harness::new().await;
    h.provision_sync("a108", "sync").await;
    let old = format!("{I}/a108/service_bindings/old");
    assert_eq!(h.put(&old, bind_body(json!({ "p": 1 }))).await.status, 201);
    let new = format!("{I}/a108/service_bindings/new");
    let res = h.put(&new, json!({ "predecessor_binding_id": "old" })).await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body["credentials"]["rotated_from"], "old");
    let res = h.get(&old).await;
    assert_eq!(res.status, 200, "the predecessor stays valid");
    assert_eq!(res.body["credentials"]["uri"], "test://a108/old");
    let res = h.get(&new).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["credentials"]["rotated_from"], "old");
    assert_eq!(
        res.body["parameters"],
        json!({ "p": 1 }),
        "parameters copied (A109)"
    );
    let res = h.put(&new, json!({ "predecessor_binding_id": "old" })).await;
    assert_eq!(res.status, 200, "identical repeat");
    let res = h
        .put(
            &format!("{I}/a108/service_bindings/x"),
            json!({ "predecessor_binding_id": "nope" }),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.description().contains("predecessor_binding_id"), "{res:?}");
    // A plan that is not binding_rotatable refuses rotations.
    h.provision_sync("a108-schema", "schema").await;
    let sb = format!("{I}/a108-schema/service_bindings");
    assert_eq!(
        h.put(
            &format!("{sb}/a"),
            json!({ "service_id": "svc", "plan_id": "schema" })
        )
        .await
        .status,
        201
    );
    let res = h
        .put(&format!("{sb}/b"), json!({ "predecessor_binding_id": "a" }))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.description().contains("binding_rotatable"), "{res:?}");
    assert_eq!(h.get(&format!("{sb}/b")).await.status, 404);
}
