//! Headers and response mapping of every endpoint, against a stub broker on a real socket.

mod support;

use std::time::Duration;

use osb_client::types::identity::CloudFoundryIdentity;
use osb_client::types::{ApiVersion, BindRequest, OriginatingIdentity, ProvisionRequest, UpdateRequest};
use osb_client::{
    BindOutcome, DeprovisionOutcome, Error, LastOperation, ProvisionOutcome, UnbindOutcome, UpdateOutcome,
};
use support::{Reply, Stub};

const CATALOG: &str = r#"{"services":[{"id":"svc-1","name":"echo","description":"d","bindable":true,
  "x-vendor":1,"plans":[{"id":"plan-1","name":"small","description":"s","maximum_polling_duration":1}]}]}"#;

#[tokio::test]
async fn b1_b6_b7_headers_sent_on_provision() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let client = stub
        .client()
        .originating_identity(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new(
            "user-1",
        )))
        .request_identity(|| "req-42".to_owned())
        .build()
        .unwrap();
    client
        .instance("i-1")
        .provision(&ProvisionRequest::new("svc-1", "plan-1").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.path, "/v2/service_instances/i-1");
    assert_eq!(r.param("accepts_incomplete").as_deref(), Some("true"));
    assert_eq!(r.header("x-broker-api-version"), Some("2.17"));
    assert_eq!(r.header("x-broker-api-request-identity"), Some("req-42"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some("Basic YWRtaW46c2VjcmV0"));
    let oi = OriginatingIdentity::parse(r.header("x-broker-api-originating-identity").unwrap()).unwrap();
    assert_eq!(oi.platform(), "cloudfoundry");
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["service_id"], "svc-1");
}

#[tokio::test]
async fn b6_request_identity_defaults_to_fresh_uuid() {
    let stub = Stub::script(vec![Reply::json(200, CATALOG)]).await;
    let client = stub.client().build().unwrap();
    client.catalog().await.unwrap();
    client.catalog().await.unwrap();
    let reqs = stub.requests();
    let a = reqs[0].header("x-broker-api-request-identity").unwrap();
    let b = reqs[1].header("x-broker-api-request-identity").unwrap();
    assert_eq!(a.len(), 36);
    assert_ne!(a, b);
}

#[tokio::test]
async fn b4_catalog_omits_originating_identity_b9_unknown_fields_ignored() {
    let stub = Stub::script(vec![Reply::json(200, CATALOG)]).await;
    let client = stub
        .client()
        .originating_identity(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("u")))
        .build()
        .unwrap();
    let catalog = client.catalog().await.unwrap();
    assert_eq!(catalog.services[0].name, "echo");
    let r = &stub.requests()[0];
    assert_eq!(r.path, "/v2/catalog");
    assert!(r.header("x-broker-api-originating-identity").is_none());
}

#[tokio::test]
async fn b2_bearer_auth_and_path_prefix() {
    let stub = Stub::script(vec![Reply::json(200, CATALOG)]).await;
    let client = osb_client::Client::builder(format!("{}/broker/", stub.url))
        .bearer_auth("tok-1")
        .build()
        .unwrap();
    client.catalog().await.unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.path, "/broker/v2/catalog");
    assert_eq!(r.header("authorization"), Some("Bearer tok-1"));
}

#[test]
fn builder_reports_bad_config_and_debug_hides_secrets() {
    let err = osb_client::Client::builder("not a url").build().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(osb_client::Client::builder("ftp://x").build().is_err());
    assert!(
        osb_client::Client::builder("http://x")
            .basic_auth("a:b", "p")
            .build()
            .is_err()
    );
    assert!(
        osb_client::Client::builder("http://x")
            .bearer_auth("bad\ntoken")
            .build()
            .is_err()
    );
    let b = osb_client::Client::builder("http://x").basic_auth("admin", "hunter2");
    assert!(!format!("{b:?}").contains("hunter2"));
    let c = b.build().unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
    let c = osb_client::Client::builder("http://x")
        .bearer_auth("tok-secret")
        .build()
        .unwrap();
    assert!(!format!("{c:?}").contains("tok-secret"));
}

#[tokio::test]
async fn b8_ids_are_percent_encoded_in_paths() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let client = stub.client().build().unwrap();
    client
        .instance("a b/c")
        .binding("x?y")
        .unbind("s", "p")
        .await
        .unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.path, "/v2/service_instances/a%20b%2Fc/service_bindings/x%3Fy");
}

#[tokio::test]
async fn b24_provision_status_mapping() {
    let stub = Stub::script(vec![
        Reply::json(201, r#"{"dashboard_url":"http://d/1"}"#),
        Reply::json(200, "{}"),
        Reply::json(202, r#"{"operation":"op-1","dashboard_url":null}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i-1");
    let req = ProvisionRequest::new("svc-1", "plan-1").with_org_space("org-1", "space-1");
    let created = inst.provision(&req).await.unwrap();
    assert!(matches!(&created, ProvisionOutcome::Created(_)));
    assert_eq!(created.dashboard_url(), Some("http://d/1"));
    assert!(matches!(
        inst.provision(&req).await.unwrap(),
        ProvisionOutcome::AlreadyExists(_)
    ));
    match inst.provision(&req).await.unwrap() {
        ProvisionOutcome::Accepted {
            operation,
            dashboard_url,
            pending,
            ..
        } => {
            assert_eq!(operation.unwrap(), "op-1");
            assert_eq!(dashboard_url, None);
            assert_eq!(pending.service_id.unwrap(), "svc-1");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn b48_update_status_mapping() {
    let stub = Stub::script(vec![
        Reply::json(200, "{}"),
        Reply::json(202, r#"{"operation":"u-1"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i-1");
    let req = UpdateRequest::new("svc-1").with_plan("plan-2");
    assert!(matches!(
        inst.update(&req).await.unwrap(),
        UpdateOutcome::Updated(_)
    ));
    assert!(matches!(
        inst.update(&req).await.unwrap(),
        UpdateOutcome::Accepted { .. }
    ));
    assert_eq!(stub.requests()[0].method, "PATCH");
}

#[tokio::test]
async fn b68_deprovision_status_mapping_410_is_already_gone() {
    let stub = Stub::script(vec![
        Reply::json(410, "{}"),
        Reply::json(200, "{}"),
        Reply::json(202, r#"{"operation":"d-1"}"#),
        Reply::json(400, r#"{"description":"bad"}"#),
        Reply::json(422, r#"{"error":"AsyncRequired"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i-1");
    assert_eq!(
        inst.deprovision("svc-1", "plan-1").await.unwrap(),
        DeprovisionOutcome::AlreadyGone
    );
    assert!(matches!(
        inst.deprovision("svc-1", "plan-1").await.unwrap(),
        DeprovisionOutcome::Deleted(_)
    ));
    match inst.deprovision("svc-1", "plan-1").await.unwrap() {
        DeprovisionOutcome::Accepted { operation, pending } => {
            assert_eq!(operation.unwrap(), "d-1");
            assert_eq!(pending.plan_id.unwrap(), "plan-1");
        }
        other => panic!("{other:?}"),
    }
    let e = inst.deprovision("svc-1", "plan-1").await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.description(), Some("bad"));
    let e = inst.deprovision("svc-1", "plan-1").await.unwrap_err();
    assert!(e.is_async_required());
    assert!(e.orphan_mitigation().is_none(), "4xx: the instance is unchanged");
    assert_eq!(stub.requests().len(), 5);
}

#[tokio::test]
async fn b67_deprovision_sends_service_id_and_plan_id() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("i-1");
    inst.deprovision("svc-1", "plan-1").await.unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, "/v2/service_instances/i-1");
    assert_eq!(r.param("service_id").as_deref(), Some("svc-1"));
    assert_eq!(r.param("plan_id").as_deref(), Some("plan-1"));
    assert_eq!(r.param("accepts_incomplete").as_deref(), Some("true"));
    let e = inst.deprovision("", "plan-1").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: service_id must be a non-empty string"
    );
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn b56_bind_status_mapping() {
    let stub = Stub::script(vec![
        Reply::json(201, r#"{"credentials":{"uri":"x"}}"#),
        Reply::json(200, "{}"),
        Reply::json(202, r#"{"operation":"b-1"}"#),
    ])
    .await;
    let b = stub.client().build().unwrap().instance("i-1").binding("b-1");
    let req = BindRequest::new("svc-1", "plan-1");
    match b.bind(&req).await.unwrap() {
        BindOutcome::Created(r) => assert_eq!(r.credentials.unwrap()["uri"], "x"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        b.bind(&req).await.unwrap(),
        BindOutcome::AlreadyExists(_)
    ));
    assert!(matches!(
        b.bind(&req).await.unwrap(),
        BindOutcome::Accepted { .. }
    ));
    assert_eq!(
        stub.requests()[0].path,
        "/v2/service_instances/i-1/service_bindings/b-1"
    );
}

#[tokio::test]
async fn b65_unbind_status_mapping_410_is_already_gone() {
    let stub = Stub::script(vec![
        Reply::json(410, "{}"),
        Reply::json(200, "{}"),
        Reply::json(202, "{}"),
    ])
    .await;
    let b = stub.client().build().unwrap().instance("i-1").binding("b-1");
    assert_eq!(
        b.unbind("svc-1", "plan-1").await.unwrap(),
        UnbindOutcome::AlreadyGone
    );
    assert!(matches!(
        b.unbind("svc-1", "plan-1").await.unwrap(),
        UnbindOutcome::Unbound(_)
    ));
    assert!(matches!(
        b.unbind("svc-1", "plan-1").await.unwrap(),
        UnbindOutcome::Accepted { operation: None, .. }
    ));
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn b42_b62_get_and_get_opt() {
    let stub = Stub::script(vec![
        Reply::json(200, r#"{"service_id":"svc-1","parameters":{"a":1}}"#),
        Reply::json(404, "{}"),
        Reply::json(404, "{}"),
        Reply::json(200, r#"{"credentials":{"p":"s"}}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i-1");
    assert_eq!(inst.get().await.unwrap().service_id.unwrap(), "svc-1");
    assert!(inst.get_opt().await.unwrap().is_none());
    assert!(inst.get().await.unwrap_err().is_not_found());
    assert!(
        inst.binding("b")
            .get_opt()
            .await
            .unwrap()
            .unwrap()
            .credentials
            .is_some()
    );
}

#[tokio::test]
async fn b36_last_operation_mapping() {
    let stub = Stub::script(vec![
        Reply::json(200, r#"{"state":"in progress","description":"10%"}"#).header("Retry-After", "7"),
        Reply::json(410, "{}"),
        Reply::json(404, "{}"),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i-1");
    let p = Default::default();
    match inst.last_operation(&p).await.unwrap() {
        LastOperation::Reported {
            response,
            retry_after,
        } => {
            assert_eq!(response.description.as_deref(), Some("10%"));
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        inst.last_operation(&p).await.unwrap(),
        LastOperation::Gone { .. }
    ));
    assert!(inst.last_operation(&p).await.unwrap_err().is_not_found());
    assert_eq!(
        stub.requests()[0].path,
        "/v2/service_instances/i-1/last_operation"
    );
}

#[tokio::test]
async fn b28_operation_echoed_verbatim_and_percent_encoded() {
    let op = "a b/c+d%e&f";
    let stub = Stub::script(vec![Reply::json(200, r#"{"state":"succeeded"}"#)]).await;
    let b = stub.client().build().unwrap().instance("i-1").binding("b-1");
    let params = osb_client::types::operation::LastOperationParams {
        operation: Some(op.into()),
        ..Default::default()
    };
    b.last_operation(&params).await.unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.query.as_deref(), Some("operation=a+b%2Fc%2Bd%25e%26f"));
    assert_eq!(r.param("operation").as_deref(), Some(op));
}

#[tokio::test]
async fn b11_412_description_is_surfaced() {
    let stub = Stub::script(vec![Reply::json(
        412,
        r#"{"error":"PreconditionFailed","description":"API version 2.13 is not supported; use 2.14-2.17"}"#,
    )])
    .await;
    let err = stub.client().build().unwrap().catalog().await.unwrap_err();
    assert_eq!(err.status(), Some(412));
    assert!(err.is_version_mismatch());
    let msg = err.to_string();
    assert!(msg.contains("use 2.14-2.17"), "{msg}");
    assert!(err.orphan_mitigation().is_none());
}

#[tokio::test]
async fn b70_b72_b73_error_code_predicates() {
    let stub = Stub::script(vec![
        Reply::json(422, r#"{"error":"AsyncRequired","description":"async only"}"#),
        Reply::json(422, r#"{"error":"RequiresApp"}"#),
        Reply::json(422, r#"{"error":"MaintenanceInfoConflict"}"#),
        Reply::json(409, "{}"),
        Reply::json(500, "not json at all"),
    ])
    .await;
    let inst = stub
        .client()
        .orphan_mitigation(osb_client::OrphanMitigation::disabled())
        .build()
        .unwrap()
        .instance("i");
    let req = ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1");
    let e = inst.provision(&req).await.unwrap_err();
    assert!(e.is_async_required());
    assert_eq!(e.description(), Some("async only"));
    assert!(inst.provision(&req).await.unwrap_err().is_requires_app());
    assert!(
        inst.provision(&req)
            .await
            .unwrap_err()
            .is_maintenance_info_conflict()
    );
    assert!(inst.provision(&req).await.unwrap_err().is_conflict());
    let e = inst.provision(&req).await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert!(e.to_string().contains("not json at all"));
    assert!(e.error_code().is_none());
}

#[tokio::test]
async fn v24_version_gating_fails_before_sending() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let old = stub.client().api_version(ApiVersion::V2_13).build().unwrap();
    let inst = old.instance("i");
    assert!(matches!(
        inst.get().await.unwrap_err(),
        Error::Unsupported {
            feature: "fetching a service instance",
            ..
        }
    ));
    assert!(matches!(
        inst.binding("b").get().await.unwrap_err(),
        Error::Unsupported { .. }
    ));
    assert!(matches!(
        inst.binding("b")
            .last_operation(&Default::default())
            .await
            .unwrap_err(),
        Error::Unsupported { .. }
    ));
    let v16 = stub.client().api_version(ApiVersion::V2_16).build().unwrap();
    let rot = osb_client::types::RotateBindingRequest::new("b-0");
    let e = v16.instance("i").binding("b").rotate(&rot).await.unwrap_err();
    assert!(e.to_string().contains("binding rotation"), "{e}");
    let v14 = stub.client().api_version(ApiVersion::V2_14).build().unwrap();
    let req = ProvisionRequest::new("s", "p")
        .with_org_space("org-1", "space-1")
        .with_maintenance_info(osb_client::types::catalog::MaintenanceInfo::new("1.0"));
    assert!(matches!(
        v14.instance("i").provision(&req).await.unwrap_err(),
        Error::Unsupported { .. }
    ));
    assert!(stub.requests().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn v2_v25_old_versions_get_old_headers_and_sync_bindings() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let old = stub
        .client()
        .api_version(ApiVersion::V2_13)
        .originating_identity(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("u")))
        .build()
        .unwrap();
    old.instance("i")
        .binding("b")
        .bind(&BindRequest::new("s", "p"))
        .await
        .unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.header("x-broker-api-version"), Some("2.13"));
    assert!(r.param("accepts_incomplete").is_none(), "async bindings are 2.14");
    assert!(
        r.header("x-broker-api-request-identity").is_none(),
        "request identity is 2.15"
    );
    assert!(r.header("x-broker-api-originating-identity").is_some());
}

#[tokio::test]
async fn b23_accepts_incomplete_can_be_turned_off() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let client = stub.client().accepts_incomplete(false).build().unwrap();
    client
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    client
        .instance("i")
        .accepts_incomplete(true)
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let reqs = stub.requests();
    assert!(reqs[0].query.is_none());
    assert_eq!(reqs[1].param("accepts_incomplete").as_deref(), Some("true"));
}

#[tokio::test]
async fn v23_negotiation_steps_down_on_412() {
    let stub = Stub::start(|r, _| {
        if r.header("x-broker-api-version") == Some("2.14") {
            Reply::json(200, CATALOG)
        } else {
            Reply::json(412, r#"{"description":"supported: 2.14"}"#)
        }
    })
    .await;
    let client = stub.client().build().unwrap();
    let (pinned, catalog) = client.negotiate().await.unwrap();
    assert_eq!(pinned.api_version(), ApiVersion::V2_14);
    assert_eq!(catalog.services.len(), 1);
    assert_eq!(stub.requests().len(), 4, "2.17, 2.16, 2.15, 2.14");

    let never = Stub::script(vec![Reply::json(412, "{}")]).await;
    let err = never.client().build().unwrap().negotiate().await.unwrap_err();
    assert!(err.is_version_mismatch());
    assert_eq!(never.requests().len(), 7);
}

#[tokio::test]
async fn b4_originating_identity_provider_is_asked_per_request() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let n2 = n.clone();
    let client = stub
        .client()
        .originating_identity_provider(move || {
            let i = n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new(
                format!("user-{i}"),
            )))
        })
        .build()
        .unwrap();
    client.instance("i").deprovision("s", "p").await.unwrap();
    client
        .instance("i")
        .update(&UpdateRequest::new("s"))
        .await
        .unwrap();
    let reqs = stub.requests();
    let user = |k: usize| match OriginatingIdentity::parse(
        reqs[k].header("x-broker-api-originating-identity").unwrap(),
    )
    .unwrap()
    {
        OriginatingIdentity::CloudFoundry(cf) => cf.user_id.unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(user(0), "user-0");
    assert_eq!(user(1), "user-1");
}

#[tokio::test]
async fn b3_custom_http_client_is_used_with_per_request_timeout() {
    let stub = Stub::script(vec![Reply::json(200, CATALOG).delay(Duration::from_millis(2000))]).await;
    let client = osb_client::Client::builder(&stub.url)
        .http_client(reqwest::Client::new())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(client.catalog().await.unwrap_err().is_timeout());
}

#[tokio::test]
async fn b50_b69_instance_usable_and_update_repeatable() {
    let stub = Stub::script(vec![
        Reply::json(
            400,
            r#"{"error":"Bad","instance_usable":false,"update_repeatable":false}"#,
        ),
        Reply::json(500, "{}"),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let e = inst.update(&UpdateRequest::new("s")).await.unwrap_err();
    assert!(!e.instance_usable());
    assert!(!e.update_repeatable());
    let e = inst.update(&UpdateRequest::new("s")).await.unwrap_err();
    assert!(e.instance_usable(), "absent means usable");
    assert!(e.update_repeatable());
}

#[test]
fn v22_build_refuses_versions_outside_2_11_to_2_17() {
    for v in [
        ApiVersion::new(2, 10),
        ApiVersion::new(2, 18),
        ApiVersion::new(3, 0),
        ApiVersion::new(1, 17),
    ] {
        let e = osb_client::Client::builder("http://x")
            .api_version(v)
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{v}: {e}");
        assert_eq!(
            e.to_string(),
            format!(
                "invalid client configuration: OSB API version {v} is not supported; this client sends 2.11 to 2.17"
            )
        );
    }
    for v in ApiVersion::ALL {
        let c = osb_client::Client::builder("http://x")
            .api_version(v)
            .build()
            .unwrap();
        assert_eq!(c.api_version(), v);
    }
    let c = osb_client::Client::builder("http://x").build().unwrap();
    assert_eq!(c.api_version(), ApiVersion::V2_17, "default");
    assert!(c.with_api_version(ApiVersion::new(2, 18)).is_err());
    assert_eq!(
        c.with_api_version(ApiVersion::V2_12).unwrap().api_version(),
        ApiVersion::V2_12
    );
}

#[test]
fn v24_capabilities_and_their_first_versions() {
    use osb_client::version::Capability::*;
    let rows = [
        (InstanceContext, "2.12"),
        (BindingContext, "2.13"),
        (OriginatingIdentity, "2.13"),
        (FetchInstance, "2.14"),
        (FetchBinding, "2.14"),
        (AsyncBindings, "2.14"),
        (BindingLastOperation, "2.14"),
        (RequestIdentity, "2.15"),
        (MaintenanceInfo, "2.15"),
        (ContextOnlyUpdate, "2.15"),
        (BindingRotation, "2.17"),
    ];
    for (cap, since) in rows {
        assert_eq!(cap.since().to_string(), since, "{cap:?}");
        let before = ApiVersion::new(2, cap.since().minor - 1);
        assert!(!cap.supported_by(before) && cap.supported_by(cap.since()));
        let e = cap.require(before).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{} is not supported by OSB API version {before}", cap.name())
        );
    }
}
