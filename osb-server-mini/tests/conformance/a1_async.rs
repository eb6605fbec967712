//! CHECKLIST A.1 Cross-cutting, A19–A27: asynchronous operations, concurrency, orphan mitigation.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a19_later_without_accepts_incomplete_is_422_and_work_never_runs() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "later": true } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a19", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "AsyncRequired");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!shared.dropped_work_ran.load(Ordering::SeqCst));
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a19", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a 4xx leaves nothing behind");
}

#[tokio::test]
async fn a21_async_only_plan_without_accepts_incomplete_is_422_before_the_broker() {
    let (h, shared) = new_handler();
    for uri in [
        "/v2/service_instances/a21",
        "/v2/service_instances/a21?accepts_incomplete=false",
    ] {
        let (s, v) = call(&h, Method::PUT, uri, Some(prov("async"))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["error"], "AsyncRequired");
    }
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 0);
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/a21?accepts_incomplete=maybe",
        Some(prov("async")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "A23: a malformed boolean is 400");
}

#[tokio::test]
async fn a24_fifty_concurrent_identical_provisions_call_the_broker_once() {
    let (h, shared) = new_handler();
    let h = Arc::new(h);
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "slow": true } });
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let h = Arc::clone(&h);
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            call(&h, Method::PUT, "/v2/service_instances/a24", Some(body))
                .await
                .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(shared.provisions.load(Ordering::SeqCst), 1);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 49);
}

#[tokio::test]
async fn a24_different_request_during_a_running_one_is_422_concurrency() {
    let (h, _) = new_handler();
    let h = Arc::new(h);
    let slow = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "slow": true } });
    let h2 = Arc::clone(&h);
    let first = tokio::spawn(async move {
        call(&h2, Method::PUT, "/v2/service_instances/c1", Some(slow))
            .await
            .0
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/c1", Some(prov("sync"))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    assert_eq!(first.await.unwrap(), StatusCode::CREATED);
}

#[tokio::test]
async fn background_panic_fails_the_operation() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "async", "parameters": { "bg_panic": true } });
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bp?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    shared.release.add_permits(1);
    let v = wait_state(&h, "/v2/service_instances/bp/last_operation", "failed").await;
    assert_eq!(
        v["description"],
        "The service broker failed to process the request."
    );
}

#[tokio::test]
async fn a25_bind_during_an_update_is_422_concurrency() {
    let (h, shared) = new_handler();
    provision_sync(&h, "bu").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true } });
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/bu?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bu/service_bindings/b",
        Some(bind_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    let (s, v) = call(
        &h,
        Method::DELETE,
        "/v2/service_instances/bu?service_id=svc&plan_id=sync",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "A136");
    assert_eq!(v["error"], "ConcurrencyError");
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/bu/last_operation", "succeeded").await;
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/bu/service_bindings/b",
        Some(bind_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
}

// ---- over sockets

#[tokio::test]
async fn a19_async_reply_without_accepts_incomplete_is_422_and_the_work_never_runs() {
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a19"), prov_with("sync", json!({ "later": true })))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/a19")).await.status, 404, "nothing created");
    h.provision_sync("a19", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a19"),
            json!({ "service_id": "svc", "parameters": { "later": true } }),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert!(
        h.get(&format!("{I}/a19")).await.body.get("parameters").is_none(),
        "nothing applied"
    );
    let res = h
        .put(
            &format!("{I}/a19/service_bindings/b"),
            bind_body(json!({ "later": true })),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/a19/service_bindings/b")).await.status, 404);
    assert_eq!(
        h.put(&format!("{I}/a19/service_bindings/later-b"), bind_body(json!({})))
            .await
            .status,
        201
    );
    let res = h
        .delete(&format!(
            "{I}/a19/service_bindings/later-b?service_id=svc&plan_id=sync"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(
        h.get(&format!("{I}/a19/service_bindings/later-b")).await.status,
        200
    );
    h.provision_sync("later-a19", "sync").await;
    let res = h
        .delete(&format!("{I}/later-a19?service_id=svc&plan_id=sync"))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/later-a19")).await.status, 200, "not deleted");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !h.shared.dropped_work_ran.load(Ordering::SeqCst),
        "refused work never runs"
    );
}

#[tokio::test]
async fn a20_accepts_incomplete_and_async_work_is_202_with_an_operation() {
    library_checks(&["async.accepted"]).await;
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a20?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    assert_eq!(res.body["dashboard_url"], "https://dash/async");
    let op = assert_operation_id(&res.body);
    let lo = h.get(&format!("{I}/a20/last_operation?operation={op}")).await;
    assert_eq!((lo.status, &lo.body["state"]), (200, &json!("in progress")));
    h.release(1);
    h.wait_state(&format!("{I}/a20/last_operation"), "succeeded")
        .await;
    let res = h
        .patch(
            &format!("{I}/a20?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    assert_ne!(assert_operation_id(&res.body), op, "a new operation");
    h.release(1);
    h.wait_state(&format!("{I}/a20/last_operation"), "succeeded")
        .await;
}

#[tokio::test]
async fn a21_async_only_plan_without_accepts_incomplete_is_422_never_202() {
    library_checks(&[
        "async.required",
        "async.deprovision_required",
        "update.async_required",
        "bind.async_required",
        "k8s.async_required_text",
    ])
    .await;
    let h = Harness::new().await;
    for q in ["", "?accepts_incomplete=false"] {
        let res = h.put(&format!("{I}/a21{q}"), prov("async")).await;
        assert_eq!((res.status, res.error()), (422, "AsyncRequired"), "{q:?}");
        assert!(res.description().contains("asynchronous"), "{res:?}");
    }
    assert_eq!(
        h.shared.provisions.load(Ordering::SeqCst),
        0,
        "checked before the broker"
    );
    assert_eq!(h.get(&format!("{I}/a21/last_operation")).await.status, 404);
    // The same on update, bind, unbind and deprovision of an async-only instance.
    h.provision_async_done("a21").await;
    let res = h
        .patch(
            &format!("{I}/a21"),
            json!({ "service_id": "svc", "parameters": {} }),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.shared.updates.load(Ordering::SeqCst), 0);
    let b = json!({ "service_id": "svc", "plan_id": "async" });
    let res = h.put(&format!("{I}/a21/service_bindings/b"), b.clone()).await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.shared.binds.load(Ordering::SeqCst), 0);
    let res = h
        .put(&format!("{I}/a21/service_bindings/b?accepts_incomplete=true"), b)
        .await;
    assert_eq!(res.status, 201, "A22: the broker may still answer synchronously");
    let res = h
        .delete(&format!(
            "{I}/a21/service_bindings/b?service_id=svc&plan_id=async"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    let res = h
        .delete(&format!(
            "{I}/a21?service_id=svc&plan_id=async&accepts_incomplete=false"
        ))
        .await;
    assert_eq!((res.status, res.error()), (422, "AsyncRequired"));
    assert_eq!(h.get(&format!("{I}/a21")).await.status, 200);
}

#[tokio::test]
async fn a27_b77_a_5xx_create_keeps_a_failed_record_so_orphan_mitigation_reaches_the_broker() {
    let h = Harness::new().await;
    let crash = || prov_with("sync", json!({ "crash": true }));
    for (body, status) in [(crash(), 500), (prov_with("sync", json!({ "panic": true })), 500)] {
        let res = h.put(&format!("{I}/a27"), body).await;
        assert_eq!(res.status, status, "{res:?}");
        // Not visible as an instance: fetch is 404 and a bind finds no usable instance.
        assert_eq!(h.get(&format!("{I}/a27")).await.status, 404);
        // The Platform's orphan mitigation DELETE is answered by the broker, not by a 410.
        let before = h.shared.deprovisions.load(Ordering::SeqCst);
        let res = h.delete(&format!("{I}/a27?service_id=svc&plan_id=sync")).await;
        assert_eq!((res.status, &res.body), (200, &json!({})));
        assert_eq!(h.shared.deprovisions.load(Ordering::SeqCst), before + 1);
        // Afterwards nothing is left.
        let res = h.delete(&format!("{I}/a27?service_id=svc&plan_id=sync")).await;
        assert_eq!(res.status, 410);
    }
    // A 5xx then a retry of the same provision creates the instance (201, not 200 or 409).
    assert_eq!(h.put(&format!("{I}/a27-retry"), crash()).await.status, 500);
    let res = h.put(&format!("{I}/a27-retry"), prov("sync")).await;
    assert_eq!(res.status, 201, "{res:?}");
    // A 4xx leaves nothing behind: the DELETE is 410 without calling the broker.
    assert_eq!(
        h.put(
            &format!("{I}/a27-4xx"),
            prov_with("sync", json!({ "fail": true }))
        )
        .await
        .status,
        422
    );
    let before = h.shared.deprovisions.load(Ordering::SeqCst);
    let res = h
        .delete(&format!("{I}/a27-4xx?service_id=svc&plan_id=sync"))
        .await;
    assert_eq!(res.status, 410);
    assert_eq!(h.shared.deprovisions.load(Ordering::SeqCst), before);

    // Bindings: the same.
    h.provision_sync("a27-b", "sync").await;
    let b = format!("{I}/a27-b/service_bindings/b1");
    let res = h.put(&b, bind_body(json!({ "crash": true }))).await;
    assert_eq!(res.status, 500, "{res:?}");
    assert_eq!(h.get(&b).await.status, 404, "no credentials for a failed bind");
    let before = h.shared.unbinds.load(Ordering::SeqCst);
    let res = h.delete(&format!("{b}?service_id=svc&plan_id=sync")).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    assert_eq!(h.shared.unbinds.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        h.delete(&format!("{b}?service_id=svc&plan_id=sync")).await.status,
        410
    );
    let res = h.put(&b, bind_body(json!({}))).await;
    assert_eq!(res.status, 201, "a retried bind creates the binding: {res:?}");
}
