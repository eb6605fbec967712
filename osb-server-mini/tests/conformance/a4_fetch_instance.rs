//! CHECKLIST A.4 Fetch instance: `GET /v2/service_instances/:instance_id`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a57_fetch_instance_answers_from_the_record() {
    let (h, _) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "schema", "parameters": { "size": 3 } });
    call(&h, Method::PUT, "/v2/service_instances/f", Some(body)).await;
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/f", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["service_id"], "svc");
    assert_eq!(v["plan_id"], "schema");
    assert_eq!(v["parameters"], json!({ "size": 3 }));
    assert_eq!(v["dashboard_url"], "https://dash/f");
}

#[tokio::test]
async fn a58_fetch_unknown_or_creating_instance_is_404() {
    let (h, shared) = new_handler();
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/none", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/a58?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a58", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/a58/last_operation", "succeeded").await;
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a58", None).await;
    assert_eq!(s, StatusCode::OK, "A55: available right after succeeded");
}

#[tokio::test]
async fn a59_fetch_instance_being_updated_is_422_concurrency() {
    let (h, shared) = new_handler();
    provision_sync(&h, "a59").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true } });
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a59?accepts_incomplete=true",
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/a59", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError");
    // A67: a re-sent PATCH gets 202 with the same operation; a different one 422.
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a59?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["operation"], op);
    let (s, v) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a59",
        Some(json!({ "service_id": "svc", "parameters": {} })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "ConcurrencyError", "A72");
    shared.release.add_permits(1);
    wait_state(&h, "/v2/service_instances/a59/last_operation", "succeeded").await;
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/a59", None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a55_fetch_instance_of_non_retrievable_offering_is_400() {
    let (h, _) = new_handler();
    call(&h, Method::PUT, "/v2/service_instances/fx", Some(prov("fixed-a"))).await;
    let (s, v) = call(&h, Method::GET, "/v2/service_instances/fx", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("instances_retrievable")
    );
}

// ---- over sockets

#[tokio::test]
async fn a55_fetch_instance_is_available_right_after_succeeded() {
    library_checks(&[
        "fetch.instance",
        "fetch.instance_unknown",
        "concurrency.fetch_during_provision",
    ])
    .await;
    let h = Harness::new().await;
    let res = h
        .put(
            &format!("{I}/a55?accepts_incomplete=true"),
            prov_with("async", json!({ "n": 1 })),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    h.wait_state(&format!("{I}/a55/last_operation"), "succeeded")
        .await;
    let res = h.get(&format!("{I}/a55")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["service_id"], "svc");
    assert_eq!(res.body["plan_id"], "async");
    assert_eq!(res.body["parameters"], json!({ "n": 1 }));
    assert_eq!(res.body["dashboard_url"], "https://dash/async");
    // An offering without instances_retrievable does not support the endpoint.
    h.provision_sync("a55-fixed", "fixed-a").await;
    let res = h.get(&format!("{I}/a55-fixed")).await;
    assert_eq!(res.status, 400);
    assert!(res.description().contains("instances_retrievable"), "{res:?}");
}

#[tokio::test]
async fn a59_fetch_instance_being_updated_is_422_concurrency_error() {
    library_checks(&["concurrency.fetch_during_update"]).await;
    let h = Harness::new().await;
    h.provision_sync("a59", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a59?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    h.wait_state(&format!("{I}/a59/last_operation"), "succeeded")
        .await;
    let res = h.get(&format!("{I}/a59")).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body["parameters"],
        json!({ "async": true }),
        "the update was applied"
    );
}
