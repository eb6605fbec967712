//! Hostile input against a running derived broker (issue 7): every request gets a 4xx with a
//! JSON `{"error","description"}` body, and the broker keeps serving afterwards.

use osb_client::types::BindRequest;
use osb_tests::e2e::{Answer, JsonBody, client, from_json, http, to_value};
use osb_tests::{assert_healthy, basic_header, echo_broker, echo_ids, send_raw};
use reqwest::Method;
use serde_json::json;

fn put(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "PUT {path} HTTP/1.1\r\nhost: t\r\nauthorization: {}\r\nx-broker-api-version: 2.17\r\n{headers}content-length: {}\r\n\r\n",
        basic_header(),
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

fn provision_body() -> Vec<u8> {
    serde_json::to_vec(&json!({ "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL })).unwrap()
}

const JSON: &str = "content-type: application/json\r\n";

/// One raw request with the test credentials, exactly this path, and an optional JSON body.
async fn raw(
    b: &osb_server_mini::Running,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> osb_tests::RawResponse {
    let body = body.map(|v| v.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: t\r\nauthorization: {}\r\nx-broker-api-version: 2.17\r\n{JSON}content-length: {}\r\n\r\n{body}",
        basic_header(),
        body.len()
    );
    send_raw(b, req.as_bytes()).await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let b = echo_broker().await;
    let res = send_raw(&b, &put("/v2/service_instances/i1", JSON, b"{\"service_id\": ")).await;
    assert_eq!(res.status, 400);
    let body = res.assert_client_error();
    assert!(body["description"].as_str().unwrap().contains("EOF"), "{body}");
    assert_healthy(&b).await;
}

#[tokio::test]
async fn wrong_json_types_name_the_field() {
    let b = echo_broker().await;
    let cases = [
        (
            json!({ "service_id": 5, "plan_id": echo_ids::SMALL }),
            "service_id",
        ),
        (
            json!({ "service_id": echo_ids::SERVICE, "plan_id": [] }),
            "plan_id",
        ),
        (
            json!({ "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "parameters": 7 }),
            "parameters",
        ),
        (
            json!({ "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "context": "x" }),
            "context",
        ),
        (
            json!({ "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "maintenance_info": 1 }),
            "maintenance_info",
        ),
        (
            json!({ "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "organization_guid": false }),
            "organization_guid",
        ),
        (json!([1, 2, 3]), ""),
        (json!("just a string"), ""),
    ];
    for (i, (body, field)) in cases.iter().enumerate() {
        let res = send_raw(
            &b,
            &put(
                &format!("/v2/service_instances/types-{i}"),
                JSON,
                &serde_json::to_vec(body).unwrap(),
            ),
        )
        .await;
        assert_eq!(res.status, 400, "{body}: {res:?}");
        let err = res.assert_client_error();
        assert!(
            err["description"].as_str().unwrap().contains(field),
            "{body}: {err}"
        );
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn deeply_nested_json_is_400() {
    let b = echo_broker().await;
    let depth = 5000;
    let body = format!(
        "{{\"service_id\":\"{}\",\"plan_id\":\"{}\",\"parameters\":{{\"a\":{}{}}}}}",
        echo_ids::SERVICE,
        echo_ids::SMALL,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let res = send_raw(&b, &put("/v2/service_instances/deep", JSON, body.as_bytes())).await;
    assert_eq!(res.status, 400);
    res.assert_client_error();
    assert_healthy(&b).await;
}

#[tokio::test]
async fn non_utf8_body_is_400() {
    let b = echo_broker().await;
    let res = send_raw(
        &b,
        &put("/v2/service_instances/bytes", JSON, &[0xff, 0xfe, 0x7b, 0x80]),
    )
    .await;
    assert_eq!(res.status, 400);
    res.assert_client_error();
    assert_healthy(&b).await;
}

#[tokio::test]
async fn a15_wrong_content_type_is_400_and_absent_is_accepted() {
    let b = echo_broker().await;
    let res = send_raw(
        &b,
        &put(
            "/v2/service_instances/ct",
            "content-type: text/plain\r\n",
            &provision_body(),
        ),
    )
    .await;
    assert_eq!(res.status, 400);
    assert!(
        res.assert_client_error()["description"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    let res = send_raw(&b, &put("/v2/service_instances/ct", "", &provision_body())).await;
    assert_eq!(res.status, 201, "{res:?}");
    assert_healthy(&b).await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let b = echo_broker().await;
    let big = vec![b' '; 2 * 1024 * 1024];
    let res = send_raw(&b, &put("/v2/service_instances/big", JSON, &big)).await;
    assert_eq!(res.status, 413);
    res.assert_client_error();
    assert_healthy(&b).await;
}

#[tokio::test]
async fn a4_missing_or_garbled_authorization_is_401() {
    let b = echo_broker().await;
    for auth in [
        "",
        "authorization: Basic\r\n",
        "authorization: Basic %%%\r\n",
        "authorization: Bearer x\r\n",
        "authorization: Basic YWRtaW46d3Jvbmc=\r\n",
    ] {
        let res = send_raw(
            &b,
            format!("GET /v2/catalog HTTP/1.1\r\nhost: t\r\nx-broker-api-version: 2.17\r\n{auth}\r\n")
                .as_bytes(),
        )
        .await;
        assert_eq!(res.status, 401, "{auth:?}");
        assert!(res.headers.contains("www-authenticate: basic"), "{res:?}");
        res.assert_client_error();
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn c67_bad_originating_identity_is_400() {
    use base64::Engine as _;
    let b = echo_broker().await;
    let array = base64::engine::general_purpose::STANDARD.encode("[1,2]");
    for identity in [
        "cloudfoundry !!notbase64!!".to_owned(),
        format!("cloudfoundry {array}"),
        "cloudfoundry".to_owned(),
        format!(" {array}"),
    ] {
        let res = send_raw(
            &b,
            &put(
                "/v2/service_instances/oi",
                &format!("{JSON}x-broker-api-originating-identity: {identity}\r\n"),
                &provision_body(),
            ),
        )
        .await;
        assert_eq!(res.status, 400, "{identity:?}: {res:?}");
        assert!(
            res.assert_client_error()["description"]
                .as_str()
                .unwrap()
                .contains("originating identity")
        );
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn a3_absurd_api_versions_are_412() {
    let b = echo_broker().await;
    for v in ["2.", "99999999999.1", "abc", "", "2.17.1", "3.0", "1.99"] {
        let res = send_raw(&b, format!("GET /v2/catalog HTTP/1.1\r\nhost: t\r\nauthorization: {}\r\nx-broker-api-version: {v}\r\n\r\n", basic_header()).as_bytes()).await;
        assert_eq!(res.status, 412, "{v:?}: {res:?}");
        res.assert_client_error();
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn a17_hostile_ids_get_json_answers() {
    let b = echo_broker().await;
    let long = "x".repeat(10_000);
    for id in ["%00", "a%0Ab", "%7F", long.as_str()] {
        let res = send_raw(
            &b,
            &put(&format!("/v2/service_instances/{id}"), JSON, &provision_body()),
        )
        .await;
        assert_eq!(res.status, 400, "{id:.20}: {res:?}");
        res.assert_client_error();
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn a17_dot_dot_and_encoded_slash_ids_are_opaque_and_touch_nothing_else() {
    let b = echo_broker().await;
    let c = client(&b);
    // Siblings a path trick could reach: `a`, `b` (from `a%2Fb`), the parent of `..`.
    for sibling in ["a", "b", "sib"] {
        c.instance(sibling)
            .provision(
                &from_json::<osb_client::types::ProvisionRequest>(json!({
                    "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "parameters": {"size": 1}
                }))
                .with_org_space("org-1", "space-1"),
            )
            .await
            .expect("sibling");
        c.instance(sibling)
            .binding("keep")
            .bind(&BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL))
            .await
            .expect("sibling binding");
    }
    let body = |size: u32| json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "parameters": {"size": size}});
    let ids = format!("service_id={}&plan_id={}", echo_ids::SERVICE, echo_ids::SMALL);
    // Sent raw: an HTTP client library would resolve the dot segments before sending.
    for id in ["..", "a%2Fb", "%2E%2E", "."] {
        let path = format!("/v2/service_instances/{id}");
        let created = raw(&b, "PUT", &path, Some(&body(9))).await;
        assert_eq!(created.status, 201, "{id}: {created:?}");
        let patch = json!({"service_id": echo_ids::SERVICE, "parameters": {"size": 10}});
        let updated = raw(&b, "PATCH", &path, Some(&patch)).await;
        assert_eq!(updated.status, 200, "{id}: {updated:?}");
        let fetched = raw(&b, "GET", &path, None).await;
        assert_eq!(
            fetched.json()["parameters"],
            json!({"size": 10}),
            "{id}: its own record"
        );
        let bind = format!("/v2/service_instances/sib/service_bindings/{id}");
        let bind_body = json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL});
        let bound = raw(&b, "PUT", &bind, Some(&bind_body)).await;
        assert_eq!(bound.status, 201, "binding {id}: {bound:?}");
        let unbound = raw(&b, "DELETE", &format!("{bind}?{ids}"), None).await;
        assert_eq!(unbound.status, 200, "binding {id}: {unbound:?}");
        let deleted = raw(&b, "DELETE", &format!("{path}?{ids}"), None).await;
        assert_eq!(deleted.status, 200, "{id}: {deleted:?}");
        assert_eq!(raw(&b, "GET", &path, None).await.status, 404, "{id}");
    }
    // Nothing else was touched.
    for sibling in ["a", "b", "sib"] {
        let got = c.instance(sibling).get().await.expect("sibling still there");
        assert_eq!(
            got.parameters.as_ref().map(to_value),
            Some(json!({"size": 1})),
            "{sibling}"
        );
        assert!(
            c.instance(sibling)
                .binding("keep")
                .get_opt()
                .await
                .expect("get")
                .is_some(),
            "{sibling}"
        );
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn duplicate_query_parameters_are_400() {
    let b = echo_broker().await;
    let res = send_raw(
        &b,
        &put(
            "/v2/service_instances/dup?accepts_incomplete=true&accepts_incomplete=false",
            JSON,
            &provision_body(),
        ),
    )
    .await;
    assert_eq!(res.status, 400);
    assert!(
        res.assert_client_error()["description"]
            .as_str()
            .unwrap()
            .contains("accepts_incomplete")
    );
    assert_healthy(&b).await;
}

#[tokio::test]
async fn http10_and_pipelined_requests_are_served() {
    let b = echo_broker().await;
    let res = send_raw(
        &b,
        format!(
            "GET /v2/catalog HTTP/1.0\r\nauthorization: {}\r\nx-broker-api-version: 2.17\r\n\r\n",
            basic_header()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(res.status, 200);
    let one = format!(
        "GET /v2/catalog HTTP/1.1\r\nhost: t\r\nauthorization: {}\r\nx-broker-api-version: 2.17\r\n\r\n",
        basic_header()
    );
    let two = format!(
        "GET /v2/nope HTTP/1.1\r\nhost: t\r\nauthorization: {}\r\nx-broker-api-version: 2.17\r\n\r\n",
        basic_header()
    );
    let mut both = osb_tests::send_raw_many(&b, format!("{one}{two}").as_bytes(), 2).await;
    let second = both.pop().unwrap();
    let first = both.pop().unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 404);
    second.assert_client_error();
    assert_healthy(&b).await;
}

#[tokio::test]
async fn wrong_json_types_in_update_bodies_name_the_field_and_change_nothing() {
    let b = echo_broker().await;
    let c = client(&b);
    c.instance("upd")
        .provision(
            &from_json::<osb_client::types::ProvisionRequest>(json!({
                "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "parameters": {"size": 1}
            }))
            .with_org_space("org-1", "space-1"),
        )
        .await
        .expect("provision");
    let svc = echo_ids::SERVICE;
    let cases = [
        (json!({"service_id": 1}), "service_id"),
        (json!({"service_id": svc, "plan_id": 5}), "plan_id"),
        (json!({"service_id": svc, "parameters": [1]}), "parameters"),
        (
            json!({"service_id": svc, "previous_values": "x"}),
            "previous_values",
        ),
        (
            json!({"service_id": svc, "previous_values": {"plan_id": 5}}),
            "previous_values.plan_id",
        ),
        (
            json!({"service_id": svc, "previous_values": {"maintenance_info": []}}),
            "previous_values.maintenance_info",
        ),
        (json!({"service_id": svc, "context": []}), "context"),
        (
            json!({"service_id": svc, "maintenance_info": "1.0.0"}),
            "maintenance_info",
        ),
        (
            json!({"service_id": svc, "maintenance_info": {"version": 1}}),
            "maintenance_info.version",
        ),
    ];
    for (body, field) in cases {
        let ans = Answer::of(http(&b, Method::PATCH, "/v2/service_instances/upd").json_body(&body)).await;
        let err = ans.assert_error(400, "BadRequest");
        assert!(
            err["description"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("(at `/{}`)", field.replace('.', "/"))),
            "{body}: {err}"
        );
    }
    let got = c.instance("upd").get().await.expect("fetch");
    assert_eq!(got.parameters.as_ref().map(to_value), Some(json!({"size": 1})));
    assert_eq!(got.plan_id.as_ref().map(|p| p.as_str()), Some(echo_ids::SMALL));
    assert_healthy(&b).await;
}

#[tokio::test]
async fn wrong_json_types_in_bind_bodies_name_the_field_and_create_nothing() {
    let b = echo_broker().await;
    let c = client(&b);
    let i = c.instance("bnd");
    i.provision(
        &from_json::<osb_client::types::ProvisionRequest>(
            json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL}),
        )
        .with_org_space("org-1", "space-1"),
    )
    .await
    .expect("provision");
    i.binding("b0")
        .bind(&BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL))
        .await
        .expect("bind");
    let (svc, plan) = (echo_ids::SERVICE, echo_ids::SMALL);
    let cases = [
        (
            json!({"service_id": svc, "plan_id": plan, "bind_resource": "x"}),
            "bind_resource",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "bind_resource": {"app_guid": 5}}),
            "bind_resource.app_guid",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "bind_resource": {"route": []}}),
            "bind_resource.route",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "bind_resource": {"space_guid": false}}),
            "bind_resource.space_guid",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "app_guid": 5}),
            "app_guid",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "parameters": "x"}),
            "parameters",
        ),
        (json!({"predecessor_binding_id": 5}), "predecessor_binding_id"),
        (
            json!({"service_id": svc, "plan_id": plan, "predecessor_binding_id": ["b0"]}),
            "predecessor_binding_id",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "context": "x"}),
            "context",
        ),
        (
            json!({"service_id": svc, "plan_id": plan, "context": {"platform": "kubernetes", "namespace": 5}}),
            "context",
        ),
    ];
    for (body, field) in cases {
        let ans = Answer::of(
            http(&b, Method::PUT, "/v2/service_instances/bnd/service_bindings/b1").json_body(&body),
        )
        .await;
        let err = ans.assert_error(400, "BadRequest");
        assert!(
            err["description"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("(at `/{}`)", field.replace('.', "/"))),
            "{body}: {err}"
        );
    }
    assert!(
        i.binding("b1").get_opt().await.expect("get").is_none(),
        "nothing created"
    );
    let kept = i.binding("b0").get().await.expect("b0 untouched");
    assert_eq!(to_value(&kept.credentials)["uri"], "echo://bnd/b0");
    assert_healthy(&b).await;
}

#[tokio::test]
async fn c74_c88_nested_context_fields_with_wrong_types_are_400() {
    let b = echo_broker().await;
    let cf = |extra: serde_json::Value| {
        let mut ctx = json!({"platform": "cloudfoundry", "organization_guid": "o", "space_guid": "s"});
        ctx.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        ctx
    };
    let k8s = |extra: serde_json::Value| {
        let mut ctx = json!({"platform": "kubernetes", "namespace": "ns", "clusterid": "c"});
        ctx.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        ctx
    };
    let contexts = [
        cf(json!({"organization_guid": 5})),
        cf(json!({"space_guid": null, "space_name": []})),
        cf(json!({"organization_name": {}})),
        cf(json!({"instance_name": false})),
        cf(json!({"organization_annotations": "x"})),
        cf(json!({"space_annotations": [1]})),
        k8s(json!({"namespace": 5})),
        k8s(json!({"clusterid": {}})),
        k8s(json!({"instance_name": 1.5})),
        k8s(json!({"namespace_annotations": [1]})),
    ];
    for (n, context) in contexts.iter().enumerate() {
        let body = json!({
            "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL, "context": context
        });
        let path = format!("/v2/service_instances/ctx-{n}");
        let ans = Answer::of(http(&b, Method::PUT, &path).json_body(&body)).await;
        let err = ans.assert_error(400, "BadRequest");
        assert!(
            err["description"]
                .as_str()
                .unwrap_or("")
                .contains("(at `/context`)"),
            "{context}: {err}"
        );
        assert_eq!(
            Answer::of(http(&b, Method::GET, &path)).await.status,
            404,
            "nothing created"
        );
    }
    assert_healthy(&b).await;
}

#[tokio::test]
async fn a23_query_values_other_than_true_or_false_are_400() {
    let b = echo_broker().await;
    let c = client(&b);
    c.instance("q")
        .provision(
            &from_json::<osb_client::types::ProvisionRequest>(
                json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL}),
            )
            .with_org_space("org-1", "space-1"),
        )
        .await
        .expect("provision");
    c.instance("q")
        .binding("qb")
        .bind(&BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL))
        .await
        .expect("bind");
    let ids = format!("service_id={}&plan_id={}", echo_ids::SERVICE, echo_ids::SMALL);
    let provision = json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL});
    for value in [
        "accepts_incomplete=yes",
        "accepts_incomplete=TRUE",
        "accepts_incomplete=",
        "accepts_incomplete",
        "accepts_incomplete=1",
    ] {
        let requests = [
            http(&b, Method::PUT, &format!("/v2/service_instances/q-new?{value}")).json_body(&provision),
            http(&b, Method::PATCH, &format!("/v2/service_instances/q?{value}"))
                .json_body(&json!({"service_id": echo_ids::SERVICE, "parameters": {"x": 1}})),
            http(
                &b,
                Method::DELETE,
                &format!("/v2/service_instances/q?{ids}&{value}"),
            ),
            http(
                &b,
                Method::PUT,
                &format!("/v2/service_instances/q/service_bindings/qb2?{value}"),
            )
            .json_body(&provision),
            http(
                &b,
                Method::DELETE,
                &format!("/v2/service_instances/q/service_bindings/qb?{ids}&{value}"),
            ),
        ];
        for rb in requests {
            let ans = Answer::of(rb).await;
            let err = ans.assert_error(400, "BadRequest");
            assert!(
                err["description"]
                    .as_str()
                    .unwrap_or("")
                    .contains("accepts_incomplete"),
                "{value}: {err}"
            );
        }
    }
    assert_eq!(
        Answer::of(http(&b, Method::GET, "/v2/service_instances/q-new"))
            .await
            .status,
        404
    );
    let got = c.instance("q").get().await.expect("still there");
    assert_eq!(got.parameters, None, "the PATCH was not applied");
    assert!(
        c.instance("q")
            .binding("qb")
            .get_opt()
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        c.instance("q")
            .binding("qb2")
            .get_opt()
            .await
            .expect("get")
            .is_none()
    );
    assert_healthy(&b).await;
}

#[tokio::test]
async fn control_characters_in_the_request_line_are_400_and_the_broker_keeps_serving() {
    let b = echo_broker().await;
    for line in [
        "GET /v2/cat\x01alog HTTP/1.1",
        "GET /v2/catalog\x00 HTTP/1.1",
        "GET /v2/service_instances/a\x7fb HTTP/1.1",
        "GET /v2/service_instances/a\tb HTTP/1.1",
        "GET\x0b/v2/catalog HTTP/1.1",
        "GET /v2/catalog HTTP/1.1\x1b",
    ] {
        let req = format!(
            "{line}\r\nhost: t\r\nauthorization: {}\r\nx-broker-api-version: 2.17\r\n\r\n",
            basic_header()
        );
        let res = send_raw(&b, req.as_bytes()).await;
        // The HTTP parser (hyper) rejects these before the runtime sees a request, with an
        // empty 400 and a closed connection.
        assert_eq!(res.status, 400, "{line:?}: {res:?}");
        assert!(res.headers.contains("connection: close"), "{line:?}: {res:?}");
        assert_healthy(&b).await;
    }
}

#[tokio::test]
async fn c40_empty_organization_or_space_guid_is_400_naming_it_and_creates_nothing() {
    let b = echo_broker().await;
    for field in ["organization_guid", "space_guid"] {
        let mut body = json!({
            "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL,
            "organization_guid": "org", "space_guid": "space"
        });
        body[field] = json!("");
        let path = format!("/v2/service_instances/empty-{field}");
        let ans = Answer::of(http(&b, Method::PUT, &path).json_body(&body)).await;
        let err = ans.assert_error(400, "BadRequest");
        assert!(
            err["description"].as_str().unwrap_or("").starts_with(field),
            "{err}"
        );
        body[field] = json!("valid");
        let ans = Answer::of(http(&b, Method::PUT, &path).json_body(&body)).await;
        assert_eq!(
            ans.status, 201,
            "nothing was created by the refused request: {ans:?}"
        );
    }
    // Leaving both out is accepted (many platforms do).
    let body = json!({"service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL});
    let ans = Answer::of(http(&b, Method::PUT, "/v2/service_instances/no-guids").json_body(&body)).await;
    assert_eq!(ans.status, 201, "{ans:?}");
}
