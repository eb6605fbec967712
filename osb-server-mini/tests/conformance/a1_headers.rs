//! CHECKLIST A.1 Cross-cutting, A1–A7: the API version, authentication and the identity headers.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a1_version_below_minimum_is_412_naming_range() {
    let h = handler(TestBroker::default(), None, Some(ApiVersion::V2_15), None).unwrap();
    let mut req = request(Method::GET, "/v2/catalog", None);
    req.headers_mut()
        .insert("X-Broker-API-Version", "2.14".parse().unwrap());
    let (s, _, v) = send(&h, req).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert!(
        v["description"].as_str().unwrap().contains("2.15 or later"),
        "{v}"
    );
}

#[tokio::test]
async fn a2_missing_or_empty_version_is_412() {
    let (h, _) = new_handler();
    for value in [None, Some(""), Some("abc"), Some("3.0"), Some("2.9")] {
        let mut req = request(Method::GET, "/v2/catalog", None);
        req.headers_mut().remove("X-Broker-API-Version");
        if let Some(v) = value {
            req.headers_mut()
                .insert("X-Broker-API-Version", v.parse().unwrap());
        }
        let (s, _, body) = send(&h, req).await;
        assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{value:?}");
        assert!(body["description"].as_str().unwrap().contains("2.13 or later"));
    }
}

#[tokio::test]
async fn a3_newer_minor_versions_are_accepted_numerically() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["version.newer_minor"]).await;
    let (h, _) = new_handler();
    for value in ["2.13", "2.17", "2.18", "2.100"] {
        let mut req = request(Method::GET, "/v2/catalog", None);
        req.headers_mut()
            .insert("x-broker-api-version", value.parse().unwrap());
        let (s, _, _) = send(&h, req).await;
        assert_eq!(s, StatusCode::OK, "{value}");
    }
}

#[tokio::test]
async fn a4_unauthenticated_is_401_with_challenge() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks_with(
        &["auth.required", "auth.challenge"],
        Setup {
            basic_auth: true,
            ..Setup::default()
        },
    )
    .await;
    let auth: Arc<dyn osb_server_mini::auth::Authenticator> = Arc::new(BasicAuth::new("admin", "secret"));
    let h = handler(TestBroker::default(), Some(auth), None, None).unwrap();
    let (s, headers, v) = send(&h, request(Method::GET, "/v2/catalog", None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        headers
            .get("WWW-Authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(v["error"], "Unauthorized");
    let mut ok = request(Method::GET, "/v2/catalog", None);
    ok.headers_mut()
        .insert("Authorization", "Basic YWRtaW46c2VjcmV0".parse().unwrap());
    let (s, _, _) = send(&h, ok).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a6_request_identity_echoed_on_every_response() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["headers.request_identity"]).await;
    // `send` asserts the echo; exercise a success and several error paths.
    let (h, _) = new_handler();
    call(&h, Method::GET, "/v2/catalog", None).await;
    call(&h, Method::GET, "/nope", None).await;
    call(&h, Method::POST, "/v2/catalog", None).await;
    call(&h, Method::DELETE, "/v2/service_instances/x", None).await;
    call(&h, Method::PUT, "/v2/service_instances/x", Some(json!([]))).await;
}

#[tokio::test]
async fn a7_originating_identity_optional_but_validated() {
    let (h, _) = new_handler();
    let mut req = request(Method::PUT, "/v2/service_instances/oi", Some(prov("sync")));
    req.headers_mut().insert(
        "X-Broker-API-Originating-Identity",
        "cloudfoundry not-base64!".parse().unwrap(),
    );
    let (s, _, v) = send(&h, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("Originating-Identity"),
        "{v}"
    );
    let mut req = request(Method::PUT, "/v2/service_instances/oi", Some(prov("sync")));
    req.headers_mut().insert(
        "X-Broker-API-Originating-Identity",
        "cloudfoundry eyJ1c2VyX2lkIjoiMTIzIn0=".parse().unwrap(),
    );
    let (s, _, _) = send(&h, req).await;
    assert_eq!(s, StatusCode::CREATED);
}

// ---- over sockets

#[tokio::test]
async fn a1_version_below_minimum_is_412_naming_the_range() {
    library_checks(&["version.lower"]).await;
    let h = Harness::with(|s| s.min_api_version(ApiVersion::V2_15)).await;
    for old in ["2.14", "2.9", "1.17"] {
        let res = h
            .send(
                h.bare(Method::GET, "/v2/catalog")
                    .header("X-Broker-API-Version", old),
            )
            .await;
        assert_eq!(res.status, 412, "{old}");
        assert_eq!(res.error(), "PreconditionFailed");
        assert!(res.description().contains("2.15 or later"), "{res:?}");
    }
    // A mutation with an old version is refused before anything happens.
    let res = h
        .send(
            h.bare(Method::PUT, &format!("{I}/a1"))
                .header("X-Broker-API-Version", "2.14")
                .json_body(&prov("sync")),
        )
        .await;
    assert_eq!(res.status, 412);
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 0);
    for ok in ["2.15", "2.17", "2.100"] {
        let res = h
            .send(
                h.bare(Method::GET, "/v2/catalog")
                    .header("X-Broker-API-Version", ok),
            )
            .await;
        assert_eq!(res.status, 200, "{ok}");
    }
    assert_eq!(
        h.get(&format!("{I}/a1")).await.status,
        404,
        "nothing was provisioned"
    );
}

#[tokio::test]
async fn a2_missing_or_malformed_version_is_412_saying_it_is_required() {
    library_checks(&["version.missing"]).await;
    let h = Harness::new().await;
    let res = h.send(h.bare(Method::GET, "/v2/catalog")).await;
    assert_eq!(res.status, 412);
    assert_eq!(res.error(), "PreconditionFailed");
    assert!(
        res.description()
            .contains("X-Broker-API-Version header is required"),
        "{res:?}"
    );
    assert!(res.description().contains("2.13 or later"), "{res:?}");
    for bad in ["", "abc", "3.0", "2"] {
        let res = h
            .send(
                h.bare(Method::GET, "/v2/catalog")
                    .header("X-Broker-API-Version", bad),
            )
            .await;
        assert_eq!(res.status, 412, "{bad:?}");
        assert!(res.description().contains("2.13 or later"), "{res:?}");
    }
}

#[tokio::test]
async fn a7_originating_identity_is_optional_but_validated() {
    library_checks(&["headers.originating_identity"]).await;
    let h = Harness::new().await;
    // Absent: accepted.
    h.provision_sync("a7-none", "sync").await;
    assert_eq!(*h.shared.originating_platform.lock().unwrap(), None);
    // Well-formed: accepted, and the broker sees it parsed.
    let res = h
        .send(
            h.request(Method::PUT, &format!("{I}/a7-ok"))
                .header(
                    "X-Broker-API-Originating-Identity",
                    "cloudfoundry eyJ1c2VyX2lkIjoiMTIzIn0=",
                )
                .json_body(&prov("sync")),
        )
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(
        h.shared.originating_platform.lock().unwrap().as_deref(),
        Some("cloudfoundry")
    );
    // Malformed: 400 naming the header, and nothing is created.
    for bad in ["cloudfoundry not-base64!", "cloudfoundry", "kubernetes WzFd"] {
        let res = h
            .send(
                h.request(Method::PUT, &format!("{I}/a7-bad"))
                    .header("X-Broker-API-Originating-Identity", bad)
                    .json_body(&prov("sync")),
            )
            .await;
        assert_eq!(res.status, 400, "{bad}: {res:?}");
        assert!(res.description().contains("Originating-Identity"), "{res:?}");
    }
    assert_eq!(h.get(&format!("{I}/a7-bad")).await.status, 404);
    assert_eq!(h.shared.provisions.load(Ordering::SeqCst), 2);
}
