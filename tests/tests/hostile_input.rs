//! Hostile input against a running derived broker (issue 7): every request gets a 4xx with a
//! JSON `{"error","description"}` body, and the broker keeps serving afterwards.

use osb_tests::{assert_healthy, basic_header, echo_broker, echo_ids, send_raw};
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
    // `..` and an encoded slash are opaque ids: they work end to end and touch nothing else.
    for id in ["..", "a%2Fb"] {
        let res = send_raw(
            &b,
            &put(&format!("/v2/service_instances/{id}"), JSON, &provision_body()),
        )
        .await;
        assert_eq!(res.status, 201, "{id}: {res:?}");
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
}
