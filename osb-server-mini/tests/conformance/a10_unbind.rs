//! CHECKLIST A.10 Unbind: `DELETE …/service_bindings/:binding_id`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a122_a124_a125_unbind() {
    let (h, _) = new_handler();
    provision_sync(&h, "bi").await;
    call(&h, Method::PUT, B1, Some(bind_body(json!({})))).await;
    let (s, _) = call(&h, Method::DELETE, B1, None).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "A124: service_id and plan_id are required"
    );
    let del = format!("{B1}?service_id=svc&plan_id=sync");
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({}));
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(v, json!({}));
    let (s, _) = call(&h, Method::GET, B1, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a123_a116_async_unbind_then_binding_last_operation_is_410() {
    let (h, shared) = new_handler();
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/ua?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/ua/last_operation", "succeeded").await;
    let b = "/v2/service_instances/ua/service_bindings/b";
    let body = json!({ "service_id": "svc", "plan_id": "async" });
    let (s, _) = call(&h, Method::PUT, b, Some(body.clone())).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "async-only plan: bind needs accepts_incomplete"
    );
    let (s, v) = call(
        &h,
        Method::PUT,
        &format!("{b}?accepts_incomplete=true"),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "A22: a synchronous answer is allowed");
    assert!(v.get("operation").is_none());
    let (s, v) = call(&h, Method::GET, &format!("{b}/last_operation"), None).await;
    assert_eq!((s, v["state"].clone()), (StatusCode::OK, json!("succeeded")));
    let del = format!("{b}?service_id=svc&plan_id=async");
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
    let del = format!("{del}&accepts_incomplete=true");
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::DELETE, &del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "A123: re-sent DELETE");
    assert_eq!(v["operation"], op);
    let (s, headers, v) = send(&h, request(Method::GET, &format!("{b}/last_operation"), None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "in progress");
    assert_eq!(
        headers.get("Retry-After").unwrap(),
        "2",
        "rounded up to whole seconds"
    );
    shared.release.add_permits(1);
    for _ in 0..200 {
        let (s, v) = call(&h, Method::GET, &format!("{b}/last_operation"), None).await;
        if s == StatusCode::GONE {
            assert_eq!(v, json!({}));
            let (s, _) = call(&h, Method::DELETE, &del, None).await;
            assert_eq!(s, StatusCode::GONE);
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("binding never gone");
}

// ---- over sockets

#[tokio::test]
async fn a123_resent_unbind_while_in_progress_is_202_with_the_same_operation() {
    let h = Harness::new().await;
    h.provision_async_done("a123").await;
    let b = format!("{I}/a123/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            json!({ "service_id": "svc", "plan_id": "async" }),
        )
        .await;
    assert_eq!(res.status, 201);
    let del = format!("{b}?service_id=svc&plan_id=async&accepts_incomplete=true");
    let first = h.delete(&del).await;
    assert_eq!(first.status, 202);
    let op = assert_operation_id(&first.body);
    let again = h.delete(&del).await;
    assert_eq!(again.status, 202, "not 200 while in progress");
    assert_eq!(again.body["operation"], op.as_str());
    assert_eq!(h.get(&b).await.status, 200, "still fetchable while being deleted");
    h.release(1);
    let last = h.poll_until_done(&format!("{b}/last_operation")).await;
    assert_eq!(
        (last.status, &last.body),
        (410, &json!({})),
        "A116: 410 once unbound"
    );
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    assert_eq!(h.get(&b).await.status, 404);
}

#[tokio::test]
async fn a124_unbind_without_service_id_or_plan_id_is_400() {
    library_checks(&["unbind.missing_params"]).await;
    let h = Harness::new().await;
    h.provision_sync("a124", "sync").await;
    let b = format!("{I}/a124/service_bindings/b");
    assert_eq!(h.put(&b, bind_body(json!({}))).await.status, 201);
    for q in [
        "",
        "?service_id=svc",
        "?plan_id=sync",
        "?service_id=svc&plan_id=",
        "?service_id=svc&plan_id=schema",
    ] {
        let res = h.delete(&format!("{b}{q}")).await;
        assert_eq!((res.status, res.error()), (400, "BadRequest"), "{q:?}: {res:?}");
    }
    let res = h
        .delete(&format!(
            "{b}?service_id=svc&plan_id=sync&accepts_incomplete=maybe"
        ))
        .await;
    assert_eq!(res.status, 400, "A23: a malformed boolean");
    assert_eq!(h.get(&b).await.status, 200, "the binding is still there");
}

#[tokio::test]
async fn a125_unbind_unknown_binding_is_410() {
    library_checks(&["unbind.gone"]).await;
    let h = Harness::new().await;
    h.provision_sync("a125", "sync").await;
    let res = h
        .delete(&format!(
            "{I}/a125/service_bindings/never?service_id=svc&plan_id=sync"
        ))
        .await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    let res = h
        .delete(&format!(
            "{I}/no-instance/service_bindings/never?service_id=svc&plan_id=sync"
        ))
        .await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "unknown instance too");
    let b = format!("{I}/a125/service_bindings/b");
    assert_eq!(h.put(&b, bind_body(json!({}))).await.status, 201);
    let del = format!("{b}?service_id=svc&plan_id=sync");
    assert_eq!(h.delete(&del).await.status, 200);
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})), "already deleted");
    assert_eq!(h.get(&b).await.status, 404);
}
