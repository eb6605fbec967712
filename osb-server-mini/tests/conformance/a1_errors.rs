//! CHECKLIST A.1 Cross-cutting, A8–A18: unknown fields, routing, error bodies and codes, content types, path ids.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a8_unknown_fields_are_ignored() {
    let (h, _) = new_handler();
    let body = json!({
        "service_id": "svc", "plan_id": "sync", "x-acme-foo": 1,
        "context": { "platform": "kubernetes", "namespace": "ns", "x-acme-foo": 1 },
        "maintenance_info": { "version": "1.0.0", "x-acme-foo": 1 }
    });
    let (s, _) = call(&h, Method::PUT, "/v2/service_instances/a8", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a10_routing_404_and_405_with_allow() {
    let (h, _) = new_handler();
    let (s, _, v) = send(&h, request(Method::GET, "/v2/nope", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "NotFound");
    let (s, headers, _) = send(&h, request(Method::POST, "/v2/service_instances/x", None)).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers.get("Allow").unwrap(), "GET, PUT, PATCH, DELETE");
}

#[tokio::test]
async fn a12_instance_usable_stripped_from_provision_errors() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "fail": true } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/a12", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "QuotaExceeded");
    assert!(v.get("instance_usable").is_none(), "{v}");
}

#[tokio::test]
async fn a15_content_type_and_body_shape() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["provision.malformed"]).await;
    let (h, _) = new_handler();
    let mut req = request(Method::PUT, "/v2/service_instances/ct", Some(prov("sync")));
    req.headers_mut()
        .insert("Content-Type", "text/plain".parse().unwrap());
    let (s, _, _) = send(&h, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut req = request(Method::PUT, "/v2/service_instances/ct", Some(prov("sync")));
    req.headers_mut().remove("Content-Type");
    let (s, _, _) = send(&h, req).await;
    assert_eq!(s, StatusCode::CREATED, "a missing Content-Type is accepted");
    for body in [None, Some(json!([1])), Some(json!("x"))] {
        let (s, v) = call(&h, Method::PUT, "/v2/service_instances/ct2", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
    let bad = json!({ "service_id": "svc", "plan_id": "sync", "parameters": 5 });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/ct3", Some(bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["description"].as_str().unwrap().contains("(at `/parameters`)"),
        "{v}"
    );
    let (s, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/ct3",
        Some(json!({ "plan_id": "sync" })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["description"].as_str().unwrap().contains("service_id"), "{v}");
}

#[tokio::test]
async fn a17_percent_encoded_ids() {
    let (h, _) = new_handler();
    let (s, _) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/a%2Fb%20c",
        Some(prov("sync")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/a%2Fb%20c", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["dashboard_url"], "https://dash/a/b c");
}

#[tokio::test]
async fn broker_panic_is_500_and_the_handler_keeps_working() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "panic": true } });
    let (s, v) = call(&h, Method::PUT, "/v2/service_instances/p", Some(body)).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(v["error"], "InternalError");
    provision_sync(&h, "p").await;
}

// ---- over sockets

#[tokio::test]
async fn a8_unknown_fields_are_ignored_everywhere() {
    let h = Harness::new().await;
    let body = json!({
        "service_id": "svc", "plan_id": "sync", "x-acme-foo": 1,
        "context": { "platform": "kubernetes", "namespace": "ns", "x-acme-foo": 1 },
        "maintenance_info": { "version": "1.0.0", "x-acme-foo": 1 }
    });
    let res = h.put(&format!("{I}/a8"), body).await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body["dashboard_url"], "https://dash/a8");
    let res = h
        .patch(
            &format!("{I}/a8"),
            json!({
                "service_id": "svc", "parameters": { "a": 1 }, "x-acme-foo": 1,
                "previous_values": { "plan_id": "sync", "x-acme-foo": 1 },
            }),
        )
        .await;
    assert_eq!(res.status, 200, "{res:?}");
    let res = h
        .put(
            &format!("{I}/a8/service_bindings/b"),
            json!({
                "service_id": "svc", "plan_id": "sync", "x-acme-foo": 1,
                "bind_resource": { "app_guid": "app", "x-acme-foo": 1 },
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body["credentials"]["uri"], "test://a8/b");
    let res = h.get(&format!("{I}/a8")).await;
    assert_eq!(res.body["parameters"], json!({ "a": 1 }));
}

#[tokio::test]
async fn a10_routing_is_404_or_405_with_allow() {
    let h = Harness::new().await;
    for path in ["/v2/nope", "/v2/catalog/", "/v3/catalog", &format!("{I}/x/nope")] {
        let res = h.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.error(), "NotFound");
    }
    let cases = [
        (Method::POST, format!("{I}/x"), "GET, PUT, PATCH, DELETE"),
        (
            Method::PATCH,
            format!("{I}/x/service_bindings/b"),
            "GET, PUT, DELETE",
        ),
        (Method::POST, "/v2/catalog".to_owned(), "GET"),
        (Method::DELETE, format!("{I}/x/last_operation"), "GET"),
        (
            Method::PUT,
            format!("{I}/x/service_bindings/b/last_operation"),
            "GET",
        ),
    ];
    for (method, path, allow) in cases {
        let res = h.call(method.clone(), &path, None).await;
        assert_eq!(res.status, 405, "{method} {path}");
        assert_eq!(res.error(), "MethodNotAllowed");
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn a11_every_error_body_has_a_camel_case_code_and_a_description() {
    library_checks(&["errors.json_body", "errors.fields", "errors.description"]).await;
    // `send` applies the A11 check to every 4xx/5xx; this drives one of each kind.
    let h = Harness::with(|s| s.basic_auth("admin", "secret").body_limit(256)).await;
    let auth = |rb: reqwest::RequestBuilder| rb.basic_auth("admin", Some("secret"));
    let mut statuses = Vec::new();
    statuses.push(h.send(h.request(Method::GET, "/v2/catalog")).await.status); // 401
    statuses.push(h.send(auth(h.bare(Method::GET, "/v2/catalog"))).await.status); // 412
    statuses.push(h.send(auth(h.request(Method::GET, "/v2/nope"))).await.status); // 404
    statuses.push(h.send(auth(h.request(Method::POST, "/v2/catalog"))).await.status); // 405
    let big = json!({ "service_id": "svc", "plan_id": "sync", "parameters": { "x": "y".repeat(300) } });
    statuses.push(
        h.send(auth(h.request(Method::PUT, &format!("{I}/e")).json_body(&big)))
            .await
            .status,
    ); // 413
    statuses.push(
        h.send(auth(
            h.request(Method::PUT, &format!("{I}/e"))
                .json_body(&json!({ "plan_id": "sync" })),
        ))
        .await
        .status,
    ); // 400
    statuses.push(
        h.send(auth(
            h.request(Method::PUT, &format!("{I}/e"))
                .json_body(&prov("async")),
        ))
        .await
        .status,
    ); // 422
    statuses.push(
        h.send(auth(
            h.request(Method::PUT, &format!("{I}/e"))
                .json_body(&prov_with("sync", json!({ "panic": true }))),
        ))
        .await
        .status,
    ); // 500
    assert_eq!(statuses, [401, 412, 404, 405, 413, 400, 422, 500]);
}

#[tokio::test]
async fn a12_instance_usable_and_update_repeatable_only_in_update_and_deprovision_errors() {
    library_checks(&["errors.failure_metadata"]).await;
    let h = Harness::new().await;
    // Provision error: the broker set both flags; neither reaches the Platform.
    let res = h
        .put(&format!("{I}/a12"), prov_with("sync", json!({ "fail": true })))
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.error(), "QuotaExceeded");
    assert!(res.body.get("instance_usable").is_none(), "{res:?}");
    assert!(res.body.get("update_repeatable").is_none(), "{res:?}");
    assert_eq!(
        h.get(&format!("{I}/a12")).await.status,
        404,
        "A14: nothing created"
    );
    // Bind error: stripped too.
    h.provision_sync("a12", "sync").await;
    let res = h
        .put(
            &format!("{I}/a12/service_bindings/b"),
            bind_body(json!({ "fail_usable": true })),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("instance_usable").is_none(), "{res:?}");
    // Update error: both kept.
    let res = h
        .patch(
            &format!("{I}/a12"),
            json!({ "service_id": "svc", "parameters": { "reject": true } }),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["instance_usable"], true);
    assert_eq!(res.body["update_repeatable"], false);
    // Deprovision error: instance_usable kept (A137), update_repeatable stripped.
    h.provision_sync("refuse-a12", "sync").await;
    let res = h
        .delete(&format!("{I}/refuse-a12?service_id=svc&plan_id=sync"))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["instance_usable"], true);
    assert!(res.body.get("update_repeatable").is_none(), "{res:?}");
    assert_eq!(
        h.get(&format!("{I}/refuse-a12")).await.status,
        200,
        "A14: still there"
    );
}

#[tokio::test]
async fn a13_exact_error_codes_for_their_scenarios() {
    // AsyncRequired, MaintenanceInfoConflict and ConcurrencyError: the library checks above.
    library_checks(&[
        "async.required",
        "maintenance.provision_conflict",
        "concurrency.fetch_during_update",
    ])
    .await;
    let h = Harness::new().await;
    h.provision_sync("a13", "sync").await;
    let res = h
        .put(
            &format!("{I}/a13/service_bindings/b"),
            bind_body(json!({ "requires_app": true })),
        )
        .await;
    assert_eq!((res.status, res.error()), (422, "RequiresApp"));
}

#[tokio::test]
async fn a14_a_4xx_leaves_the_resources_unchanged() {
    let h = Harness::new().await;
    let create = prov_with("schema", json!({ "size": 3 }));
    assert_eq!(h.put(&format!("{I}/a14"), create.clone()).await.status, 201);
    let before = h.get(&format!("{I}/a14")).await.body;
    let lo_before = h.get(&format!("{I}/a14/last_operation")).await.body;
    let failures = [
        (Method::PUT, prov_with("schema", json!({ "size": 4 })), 409),
        (Method::PUT, prov_with("schema", json!({ "size": 11 })), 400),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "plan_id": "nope" }),
            400,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "fixed", "plan_id": "fixed-a" }),
            400,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "plan_id": "sync", "maintenance_info": { "version": "9" } }),
            422,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "parameters": { "reject": true } }),
            422,
        ),
        (
            Method::PATCH,
            json!({ "service_id": "svc", "parameters": "not an object" }),
            400,
        ),
    ];
    for (method, body, status) in failures {
        let res = h
            .call(method.clone(), &format!("{I}/a14"), Some(body.clone()))
            .await;
        assert_eq!(res.status, status, "{method} {body}: {res:?}");
        assert_eq!(
            h.get(&format!("{I}/a14")).await.body,
            before,
            "after {method} {body}"
        );
    }
    let res = h.delete(&format!("{I}/a14?service_id=svc&plan_id=sync")).await;
    assert_eq!(res.status, 400, "wrong plan for this instance");
    let res = h.delete(&format!("{I}/a14?service_id=svc")).await;
    assert_eq!(res.status, 400);
    assert_eq!(h.get(&format!("{I}/a14")).await.body, before);
    assert_eq!(h.get(&format!("{I}/a14/last_operation")).await.body, lo_before);
    assert_eq!(
        h.put(&format!("{I}/a14"), create).await.status,
        200,
        "still the same instance"
    );
}

#[tokio::test]
async fn a16_every_body_is_a_json_object_at_least_empty() {
    library_checks(&["unbind.ok", "deprovision.sync"]).await;
    let h = Harness::new().await;
    h.provision_sync("a16", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a16"),
            json!({ "service_id": "svc", "parameters": {} }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    assert_eq!(
        h.put(&format!("{I}/a16/service_bindings/b"), bind_body(json!({})))
            .await
            .status,
        201
    );
    let unbind = format!("{I}/a16/service_bindings/b?service_id=svc&plan_id=sync");
    let res = h.delete(&unbind).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    let res = h.delete(&unbind).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    let del = format!("{I}/a16?service_id=svc&plan_id=sync");
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    let res = h.delete(&del).await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    for header in [None, Some("application/json; charset=utf-8")] {
        let mut rb = h.request(Method::DELETE, &del);
        if let Some(ct) = header {
            rb = rb.header("content-type", ct);
        }
        let res = h.send(rb).await;
        assert_eq!(res.body, json!({}));
    }
}
