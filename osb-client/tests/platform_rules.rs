//! The platform's MUST / MUST NOT rules of CHECKLIST part B, over a real socket: what is sent
//! (or refused before sending) and what the caller gets back.

mod support;

use std::time::Duration;

use osb_client::types::binding::BindResource;
use osb_client::types::context::{CloudFoundryContext, Context};
use osb_client::types::identity::{CloudFoundryIdentity, KubernetesIdentity};
use osb_client::types::instance::PreviousValues;
use osb_client::types::{
    ApiVersion, BindRequest, Catalog, OriginatingIdentity, ProvisionRequest, RotateBindingRequest,
    ServiceOffering, ServicePlan, UpdateRequest,
};
use osb_client::{
    BindOutcome, Error, ProvisionOutcome, UnbindOutcome, UpdateOutcome, WaitOptions, WaitOutcome,
};
use serde_json::{Value, json};
use support::{Recorded, Reply, Stub};

fn body(r: &Recorded) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

fn cf_identity() -> OriginatingIdentity {
    OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("user-1"))
}

fn fast() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(10))
        .backoff(1.0)
}

fn offering(json: Value) -> ServiceOffering {
    serde_json::from_value(json).unwrap()
}

// ---------------------------------------------------------------- B.1 transport and headers

#[tokio::test]
async fn b5_originating_identity_platform_must_equal_context_platform() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let client = stub.client().originating_identity(cf_identity()).build().unwrap();
    let inst = client.instance("i-1");
    let k8s = Context::kubernetes("ns", "cluster");

    let e = inst
        .provision(
            &ProvisionRequest::new("s", "p")
                .with_org_space("org-1", "space-1")
                .with_context(k8s.clone()),
        )
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("\"cloudfoundry\"") && msg.contains("\"kubernetes\""),
        "{msg}"
    );
    let e = inst
        .update(&UpdateRequest::new("s").with_context(k8s.clone()))
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    let e = inst
        .binding("b")
        .bind(&BindRequest::new("s", "p").with_context(k8s))
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert!(
        e.orphan_mitigation().is_none(),
        "nothing was sent, nothing to mitigate"
    );
    assert!(stub.requests().is_empty(), "refused before sending");

    // same platform: sent, with the header `<platform> <base64 JSON object>`
    inst.provision(
        &ProvisionRequest::new("s", "p")
            .with_org_space("org-1", "space-1")
            .with_context(Context::cloud_foundry("o", "sp")),
    )
    .await
    .unwrap();
    // no context: nothing to compare with
    inst.provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        let header = r.header("x-broker-api-originating-identity").unwrap();
        assert!(header.starts_with("cloudfoundry "), "{header}");
        assert_eq!(OriginatingIdentity::parse(header).unwrap(), cf_identity());
    }
    assert_eq!(body(&reqs[0])["context"]["platform"], "cloudfoundry");
}

#[tokio::test]
async fn b5_identity_platform_must_be_a_non_empty_token() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    for platform in ["", "two words"] {
        let client = stub
            .client()
            .originating_identity(OriginatingIdentity::Other {
                platform: platform.to_owned(),
                value: Default::default(),
            })
            .build()
            .unwrap();
        let e = client
            .instance("i")
            .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
            .await
            .unwrap_err();
        assert!(e.is_invalid_request(), "{platform:?}: {e}");
    }
    assert!(stub.requests().is_empty());
    // an unknown platform matching an unknown context platform is fine
    let client = stub
        .client()
        .originating_identity(OriginatingIdentity::Other {
            platform: "nomad".to_owned(),
            value: serde_json::from_value(json!({"user": "u"})).unwrap(),
        })
        .build()
        .unwrap();
    let ctx: Context = serde_json::from_value(json!({"platform": "nomad", "job": "j"})).unwrap();
    client
        .instance("i")
        .provision(
            &ProvisionRequest::new("s", "p")
                .with_org_space("org-1", "space-1")
                .with_context(ctx),
        )
        .await
        .unwrap();
    let r = &stub.requests()[0];
    assert!(
        r.header("x-broker-api-originating-identity")
            .unwrap()
            .starts_with("nomad ")
    );
}

#[tokio::test]
async fn b9_unknown_fields_in_responses_are_ignored() {
    let stub = Stub::start(|r, _| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/v2/catalog") => Reply::json(
            200,
            r#"{"x-top":1,"services":[{"id":"s","name":"n","description":"d","bindable":true,
               "x-offering":{"a":[1]},"plans":[{"id":"p","name":"n","description":"d","x-plan":true}]}]}"#,
        ),
        ("GET", p) if p.ends_with("last_operation") => Reply::json(
            200,
            r#"{"state":"succeeded","x-progress":99,"nested":{"deep":[null]}}"#,
        ),
        ("PUT", p) if p.contains("service_bindings") => Reply::json(
            201,
            r#"{"credentials":{"u":"x"},"x-bind":"extra","metadata":{"x-meta":1}}"#,
        ),
        ("PUT", _) => Reply::json(201, r#"{"dashboard_url":"http://d","x-vendor":{"k":"v"}}"#),
        _ => Reply::json(
            422,
            r#"{"error":"ConcurrencyError","description":"busy","x-err":[1,2]}"#,
        ),
    })
    .await;
    let client = stub.client().build().unwrap();
    let catalog = client.catalog().await.unwrap();
    assert_eq!(catalog.services[0].plans[0].id, "p");
    let inst = client.instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    assert_eq!(out.dashboard_url(), Some("http://d"));
    match inst.binding("b").bind(&BindRequest::new("s", "p")).await.unwrap() {
        BindOutcome::Created(r) => assert_eq!(r.credentials.unwrap()["u"], "x"),
        other => panic!("{other:?}"),
    }
    match inst.last_operation(&Default::default()).await.unwrap() {
        osb_client::LastOperation::Reported { response, .. } => {
            assert_eq!(response.state, osb_client::types::OperationState::Succeeded);
        }
        other => panic!("{other:?}"),
    }
    let e = inst.deprovision("s", "p").await.unwrap_err();
    assert!(e.is_concurrency_error(), "{e}");
    assert_eq!(e.description(), Some("busy"));
}

// ---------------------------------------------------------------- B.2 catalog consumption

#[tokio::test]
async fn b13_offerings_and_plans_are_told_apart_by_id_only() {
    // two offerings identical except for their ids, each with a plan identical except for its id
    let stub = Stub::script(vec![Reply::json(
        200,
        r#"{"services":[
          {"id":"svc-a","name":"db","description":"d","bindable":true,"plans":[{"id":"plan-a","name":"small","description":"d"}]},
          {"id":"svc-b","name":"db","description":"d","bindable":true,"plans":[{"id":"plan-b","name":"small","description":"d"}]}]}"#,
    )])
    .await;
    let client = stub.client().build().unwrap();
    let catalog = client.catalog().await.unwrap();
    assert_eq!(
        catalog.services.len(),
        2,
        "equal metadata does not merge offerings"
    );
    let (o, p) = catalog.plan("svc-b", "plan-b").unwrap();
    assert_eq!((o.id.as_str(), p.id.as_str()), ("svc-b", "plan-b"));
    assert!(
        catalog.plan("svc-a", "plan-b").is_none(),
        "plan-b is not a plan of svc-a"
    );
    assert!(
        client
            .check_provision(
                &catalog,
                &ProvisionRequest::new("svc-a", "plan-b").with_org_space("org-1", "space-1")
            )
            .unwrap_err()
            .is_invalid_request()
    );
    client
        .check_provision(
            &catalog,
            &ProvisionRequest::new("svc-b", "plan-b").with_org_space("org-1", "space-1"),
        )
        .unwrap();
}

#[tokio::test]
async fn b15_names_are_kept_and_compared_case_sensitively() {
    let stub = Stub::script(vec![Reply::json(
        200,
        r#"{"services":[
          {"id":"s1","name":"Echo","description":"d","bindable":true,"plans":[{"id":"p1","name":"Small","description":"d"}]},
          {"id":"s2","name":"echo","description":"d","bindable":true,"plans":[{"id":"p2","name":"small","description":"d"}]}]}"#,
    )])
    .await;
    let catalog = stub.client().build().unwrap().catalog().await.unwrap();
    let named = |n: &str| catalog.services.iter().filter(|s| s.name == n).count();
    assert_eq!((named("Echo"), named("echo"), named("ECHO")), (1, 1, 0));
    assert_eq!(catalog.services[0].plans[0].name, "Small");
    assert_eq!(catalog.services[1].plans[0].name, "small");
}

#[tokio::test]
async fn b16_draft_04_and_later_parameter_schemas_arrive_verbatim() {
    let draft4 = json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}},
        "required": ["n"]
    });
    let draft2020 = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"size": {"enum": ["s", "m"]}},
        "properties": {"size": {"$ref": "#/$defs/size"}},
        "unevaluatedProperties": false
    });
    let catalog = json!({"services": [{"id": "s", "name": "n", "description": "d", "bindable": true,
        "plans": [{"id": "p", "name": "n", "description": "d", "schemas": {
            "service_instance": {"create": {"parameters": draft4}, "update": {"parameters": draft2020}},
            "service_binding": {"create": {"parameters": draft4}}}}]}]});
    let stub = Stub::script(vec![Reply::json(200, &catalog.to_string())]).await;
    let got = stub.client().build().unwrap().catalog().await.unwrap();
    let plan = &got.services[0].plans[0];
    assert_eq!(plan.instance_create_schema(), Some(&draft4));
    assert_eq!(plan.instance_update_schema(), Some(&draft2020));
    assert_eq!(plan.binding_create_schema(), Some(&draft4));
}

// ---------------------------------------------------------------- B.3 provision

#[tokio::test]
async fn b20_empty_instance_id_is_refused_before_sending() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("");
    let errors = [
        inst.provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
            .await
            .unwrap_err(),
        inst.update(&UpdateRequest::new("s")).await.unwrap_err(),
        inst.deprovision("s", "p").await.unwrap_err(),
        inst.get().await.unwrap_err(),
        inst.last_operation(&Default::default()).await.unwrap_err(),
        inst.binding("b")
            .bind(&BindRequest::new("s", "p"))
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        assert!(
            matches!(e, Error::InvalidRequest(m) if m == "the instance id must be a non-empty string"),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "request not sent: the instance id must be a non-empty string"
        );
    }
    assert!(stub.requests().is_empty(), "no /v2/service_instances/ request");
}

#[tokio::test]
async fn b21_cloud_foundry_context_also_fills_organization_and_space_guid() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("i");
    // absent top-level fields: taken from the CF context
    inst.provision(&ProvisionRequest::new("s", "p").with_context(Context::cloud_foundry("org-1", "space-1")))
        .await
        .unwrap();
    // explicit values win
    let mut req = ProvisionRequest::new("s", "p").with_context(Context::cloud_foundry("org-1", "space-1"));
    req.organization_guid = Some("org-x".into());
    inst.provision(&req).await.unwrap();
    // Kubernetes, as Kubernetes Service Catalog did: organization = cluster id, space = namespace
    inst.provision(&ProvisionRequest::new("s", "p").with_context(Context::kubernetes("ns", "cluster-7")))
        .await
        .unwrap();
    // set explicitly, without a context
    inst.provision(&ProvisionRequest::new("s", "p").with_org_space("org-e", "space-e"))
        .await
        .unwrap();
    let reqs = stub.requests();
    let guids = |i: usize| {
        let b = body(&reqs[i]);
        (
            b["organization_guid"].as_str().map(str::to_owned),
            b["space_guid"].as_str().map(str::to_owned),
        )
    };
    let pair = |o: &str, s: &str| (Some(o.to_owned()), Some(s.to_owned()));
    assert_eq!(guids(0), pair("org-1", "space-1"));
    assert_eq!(
        body(&reqs[0])["context"]["organization_guid"],
        "org-1",
        "context is sent as well"
    );
    assert_eq!(guids(1), pair("org-x", "space-1"));
    assert_eq!(guids(2), pair("cluster-7", "ns"));
    assert_eq!(body(&reqs[2])["context"]["clusterid"], "cluster-7");
    assert_eq!(guids(3), pair("org-e", "space-e"));
    assert_eq!(reqs.len(), 4);
}

#[tokio::test]
async fn b21_a_provision_without_organization_or_space_guid_is_not_sent() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("i");
    let cases = [
        (
            ProvisionRequest::new("s", "p"),
            "request not sent: a provision must carry organization_guid and space_guid (required by the \
             specification, and by many brokers); the request has no context to take it from: set them \
             with ProvisionRequest::with_org_space or give a context that has them",
        ),
        (
            ProvisionRequest::new("s", "p")
                .with_context(Context::CloudFoundry(CloudFoundryContext::default())),
            "request not sent: a provision must carry organization_guid and space_guid (required by the \
             specification, and by many brokers); the Cloud Foundry context does not have it: set them \
             with ProvisionRequest::with_org_space or give a context that has them",
        ),
    ];
    for (req, message) in cases {
        let e = inst.provision(&req).await.unwrap_err();
        assert!(e.is_invalid_request(), "{e}");
        assert_eq!(e.to_string(), message);
    }
    // one of the two missing: named alone (a Kubernetes context before 2.14 has no clusterid)
    let ns_only = osb_client::types::context::KubernetesContext {
        namespace: Some("ns".into()),
        ..Default::default()
    };
    let e = inst
        .provision(&ProvisionRequest::new("s", "p").with_context(Context::Kubernetes(ns_only)))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("must carry organization_guid (") && !e.to_string().contains("and space_guid"),
        "{e}"
    );
    // another platform's context has no such fields
    let nomad: Context = serde_json::from_value(json!({"platform": "nomad"})).unwrap();
    let e = inst
        .provision(&ProvisionRequest::new("s", "p").with_context(nomad))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("not a Cloud Foundry or Kubernetes one"),
        "{e}"
    );

    // "MUST be a non-empty string"
    let mut req = ProvisionRequest::new("s", "p").with_org_space("org", "space");
    req.space_guid = Some(String::new());
    let e = inst.provision(&req).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: space_guid must be a non-empty string"
    );
    assert!(stub.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn b21_check_provision_requires_ids_from_the_catalog() {
    let catalog: Catalog = serde_json::from_value(json!({"services": [
        {"id": "s1", "name": "a", "description": "d", "bindable": true, "plans": [{"id": "p1", "name": "x", "description": "d"}]},
        {"id": "s2", "name": "b", "description": "d", "bindable": true, "plans": [{"id": "p2", "name": "x", "description": "d"}]}]}))
    .unwrap();
    let client = osb_client::Client::builder("http://127.0.0.1:9").build().unwrap();
    client
        .check_provision(
            &catalog,
            &ProvisionRequest::new("s1", "p1").with_org_space("org-1", "space-1"),
        )
        .unwrap();
    let e = client
        .check_provision(
            &catalog,
            &ProvisionRequest::new("nope", "p1").with_org_space("org-1", "space-1"),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: no service offering with id nope in the catalog"
    );
    let e = client
        .check_provision(
            &catalog,
            &ProvisionRequest::new("s1", "p2").with_org_space("org-1", "space-1"),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: offering \"a\" has no plan with id p2"
    );
    // empty ids never reach the wire either
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let e = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .provision(&ProvisionRequest::new("s", "").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: plan_id must be a non-empty string"
    );
    assert!(stub.requests().is_empty());
}

// ---------------------------------------------------------------- B.4 polling

#[tokio::test]
async fn b29_polling_after_a_plan_change_uses_the_pre_update_plan_id() {
    let stub = Stub::start(|r, _| {
        if r.path.ends_with("last_operation") {
            Reply::json(200, r#"{"state":"succeeded"}"#)
        } else {
            Reply::json(202, r#"{"operation":"upd"}"#)
        }
    })
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let req = UpdateRequest::new("s")
        .with_plan("plan-new")
        .with_previous_values(PreviousValues {
            plan_id: Some("plan-old".into()),
            ..PreviousValues::default()
        });
    let out = inst.update(&req).await.unwrap();
    assert!(matches!(
        inst.wait_with(&out, &fast()).await.unwrap(),
        WaitOutcome::Succeeded(_)
    ));
    // without previous_values the old plan is unknown: no plan_id rather than the new one
    let out = inst
        .update(&UpdateRequest::new("s").with_plan("plan-new"))
        .await
        .unwrap();
    inst.wait_with(&out, &fast()).await.unwrap();
    let polls: Vec<Recorded> = stub
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("last_operation"))
        .collect();
    assert_eq!(polls.len(), 2);
    assert_eq!(polls[0].param("plan_id").as_deref(), Some("plan-old"));
    assert_eq!(polls[0].param("service_id").as_deref(), Some("s"));
    assert_eq!(polls[0].param("operation").as_deref(), Some("upd"));
    assert_eq!(polls[1].param("plan_id"), None);
    assert_eq!(body(&stub.requests()[0])["plan_id"], "plan-new");
}

// ---------------------------------------------------------------- B.6 update

fn two_plans(offering_flag: Option<bool>, plan_flag: Option<bool>) -> ServiceOffering {
    let mut o = offering(
        json!({"id": "s", "name": "db", "description": "d", "bindable": true,
        "plans": [{"id": "p1", "name": "small", "description": "d"}, {"id": "p2", "name": "large", "description": "d"}]}),
    );
    o.plan_updateable = offering_flag;
    o.plans[0].plan_updateable = plan_flag;
    o
}

#[test]
fn b44_plan_change_only_when_the_current_plan_is_plan_updateable() {
    let client = osb_client::Client::builder("http://127.0.0.1:9").build().unwrap();
    let change = UpdateRequest::new("s").with_plan("p2");
    let cases = [
        (None, None, false),              // default false
        (Some(true), None, true),         // offering flag
        (Some(true), Some(false), false), // the plan's own value wins
        (Some(false), Some(true), true),
        (None, Some(true), true),
    ];
    for (o_flag, p_flag, allowed) in cases {
        let o = two_plans(o_flag, p_flag);
        let r = client.check_update(&o, &o.plans[0], &change);
        assert_eq!(r.is_ok(), allowed, "offering {o_flag:?} plan {p_flag:?}: {r:?}");
        if let Err(e) = r {
            assert_eq!(
                e.to_string(),
                "request not sent: plan \"small\" of \"db\" is not plan_updateable: it cannot be \
                 changed to another plan (parameters can still be updated)"
            );
        }
    }
    // MAY still update parameters, perform maintenance, or "change" to the same plan
    let o = two_plans(None, None);
    let mut params = serde_json::Map::new();
    params.insert("a".into(), json!(1));
    client
        .check_update(&o, &o.plans[0], &UpdateRequest::new("s").with_parameters(params))
        .unwrap();
    client
        .check_update(
            &o,
            &o.plans[0],
            &UpdateRequest::new("s")
                .with_maintenance_info(osb_client::types::catalog::MaintenanceInfo::new("2")),
        )
        .unwrap();
    client
        .check_update(&o, &o.plans[0], &UpdateRequest::new("s").with_plan("p1"))
        .unwrap();
    // an unknown target plan or another offering's service_id is refused too
    assert!(
        client
            .check_update(&o, &o.plans[0], &UpdateRequest::new("s").with_plan("p9"))
            .is_err()
    );
    assert!(
        client
            .check_update(&o, &o.plans[0], &UpdateRequest::new("other"))
            .is_err()
    );
    // before 2.15 only the offering flag exists (V16)
    let old = osb_client::Client::builder("http://127.0.0.1:9")
        .api_version(ApiVersion::V2_14)
        .build()
        .unwrap();
    let o = two_plans(None, Some(true));
    assert!(old.check_update(&o, &o.plans[0], &change).is_err());
    let o = two_plans(Some(true), Some(false));
    assert!(old.check_update(&o, &o.plans[0], &change).is_ok());
}

#[tokio::test]
async fn b45_update_body_carries_only_what_the_caller_set() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("i");
    inst.update(&UpdateRequest::new("s")).await.unwrap();
    let mut params = serde_json::Map::new();
    params.insert("size".into(), json!(3));
    inst.update(
        &UpdateRequest::new("s")
            .with_plan("p2")
            .with_parameters(params)
            .with_previous_values(PreviousValues {
                plan_id: Some("p1".into()),
                ..PreviousValues::default()
            }),
    )
    .await
    .unwrap();
    let reqs = stub.requests();
    assert_eq!(
        body(&reqs[0]),
        json!({"service_id": "s"}),
        "no plan_id = no plan change"
    );
    assert_eq!(
        body(&reqs[1]),
        json!({"service_id": "s", "plan_id": "p2", "parameters": {"size": 3},
               "previous_values": {"plan_id": "p1"}})
    );
    assert_eq!(reqs[1].method, "PATCH");
    assert_eq!(reqs[1].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn b46_organization_and_space_go_in_the_top_level_context() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("i");
    inst.update(
        &UpdateRequest::new("s")
            .with_context(Context::cloud_foundry("org-1", "space-1"))
            .with_previous_values(PreviousValues {
                plan_id: Some("p1".into()),
                ..PreviousValues::default()
            }),
    )
    .await
    .unwrap();
    let b = body(&stub.requests()[0]);
    assert_eq!(
        b["context"],
        json!({"platform": "cloudfoundry", "organization_guid": "org-1", "space_guid": "space-1"})
    );
    assert_eq!(
        b["previous_values"],
        json!({"plan_id": "p1"}),
        "no deprecated organization_id/space_id/service_id"
    );
}

#[tokio::test]
async fn v16_context_only_update_needs_2_15_and_b47_allow_context_updates() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let ctx_only = UpdateRequest::new("s").with_context(Context::cloud_foundry("o", "sp"));
    let old = stub.client().api_version(ApiVersion::V2_14).build().unwrap();
    let e = old.instance("i").update(&ctx_only).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                feature: "a context-only update",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "a context-only update is not supported by OSB API version 2.14"
    );
    // with another change the context rides along at 2.14
    old.instance("i")
        .update(&ctx_only.clone().with_plan("p2"))
        .await
        .unwrap();
    assert_eq!(stub.requests().len(), 1);
    // at 2.15 it is sent ...
    let client = stub.client().api_version(ApiVersion::V2_15).build().unwrap();
    client.instance("i").update(&ctx_only).await.unwrap();
    assert_eq!(stub.requests().len(), 2);
    // ... and check_update wants the offering's allow_context_updates
    let mut o = two_plans(None, None);
    let e = client.check_update(&o, &o.plans[0], &ctx_only).unwrap_err();
    assert!(e.to_string().contains("allow_context_updates"), "{e}");
    o.allow_context_updates = Some(true);
    client.check_update(&o, &o.plans[0], &ctx_only).unwrap();
    assert!(old.check_update(&o, &o.plans[0], &ctx_only).is_err());
}

#[tokio::test]
async fn b49_absent_or_null_dashboard_url_keeps_the_previous_one() {
    let stub = Stub::script(vec![
        Reply::json(200, r#"{"dashboard_url":null}"#),
        Reply::json(200, "{}"),
        Reply::json(202, r#"{"operation":"u"}"#),
        Reply::json(202, r#"{"operation":"u","dashboard_url":"http://new"}"#),
        Reply::json(200, r#"{"dashboard_url":"http://new"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let old = Some("http://old");
    let mut got = Vec::new();
    for _ in 0..5 {
        let out = inst.update(&UpdateRequest::new("s")).await.unwrap();
        got.push(out.dashboard_url_or(old).map(str::to_owned));
        if let UpdateOutcome::Accepted { dashboard_url, .. } = &out {
            assert_eq!(dashboard_url.is_some(), got.len() == 4);
        }
    }
    let want: Vec<Option<String>> = [
        "http://old",
        "http://old",
        "http://old",
        "http://new",
        "http://new",
    ]
    .iter()
    .map(|s| Some((*s).to_owned()))
    .collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------- B.7 bind

#[test]
fn b52_bind_only_when_the_plan_is_bindable() {
    let client = osb_client::Client::builder("http://127.0.0.1:9").build().unwrap();
    let mk = |offering_bindable: bool, plan_bindable: Option<bool>| {
        let mut o = two_plans(None, None);
        o.bindable = offering_bindable;
        o.plans[0].bindable = plan_bindable;
        o
    };
    for (ob, pb, ok) in [
        (true, None, true),
        (false, None, false),
        (true, Some(false), false),
        (false, Some(true), true),
    ] {
        let o = mk(ob, pb);
        let r = client.check_bind(&o, &o.plans[0]);
        assert_eq!(r.is_ok(), ok, "offering {ob} plan {pb:?}");
        if let Err(e) = r {
            assert_eq!(
                e.to_string(),
                "request not sent: plan \"small\" of \"db\" is not bindable"
            );
        }
    }
}

#[tokio::test]
async fn b53_empty_binding_id_is_refused_before_sending() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let b = stub.client().build().unwrap().instance("i").binding("");
    let errors = [
        b.bind(&BindRequest::new("s", "p")).await.unwrap_err(),
        b.rotate(&RotateBindingRequest::new("old")).await.unwrap_err(),
        b.unbind("s", "p").await.unwrap_err(),
        b.get().await.unwrap_err(),
        b.last_operation(&Default::default()).await.unwrap_err(),
    ];
    for e in &errors {
        assert_eq!(
            e.to_string(),
            "request not sent: the binding id must be a non-empty string"
        );
    }
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn b54_route_service_binding_sends_bind_resource_route() {
    let stub = Stub::script(vec![Reply::json(
        201,
        r#"{"route_service_url":"https://proxy.example/route"}"#,
    )])
    .await;
    let b = stub.client().build().unwrap().instance("i").binding("b");
    let req = BindRequest::new("s", "p").with_bind_resource(BindResource {
        route: Some("app.example.com/path".into()),
        ..BindResource::default()
    });
    b.bind(&req).await.unwrap();
    let sent = body(&stub.requests()[0]);
    assert_eq!(sent["bind_resource"], json!({"route": "app.example.com/path"}));
}

#[tokio::test]
async fn b57_syslog_drain_and_route_service_urls_are_returned() {
    let stub = Stub::script(vec![Reply::json(
        201,
        r#"{"syslog_drain_url":"syslog://logs.example:514","route_service_url":"https://proxy.example"}"#,
    )])
    .await;
    let out = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .binding("b")
        .bind(&BindRequest::new("s", "p"))
        .await
        .unwrap();
    let BindOutcome::Created(r) = out else {
        panic!("{out:?}")
    };
    assert_eq!(r.syslog_drain_url.as_deref(), Some("syslog://logs.example:514"));
    assert_eq!(r.route_service_url.as_deref(), Some("https://proxy.example"));
}

#[tokio::test]
async fn b60_rotation_needs_binding_rotatable_and_a_new_binding_id() {
    let client = osb_client::Client::builder("http://127.0.0.1:9").build().unwrap();
    let mut plan = ServicePlan::new("p", "small", "d");
    let e = client.check_rotate(&plan).unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: plan \"small\" is not binding_rotatable: its bindings cannot be rotated"
    );
    plan.binding_rotatable = Some(true);
    client.check_rotate(&plan).unwrap();
    let v16 = osb_client::Client::builder("http://127.0.0.1:9")
        .api_version(ApiVersion::V2_16)
        .build()
        .unwrap();
    assert!(matches!(
        v16.check_rotate(&plan).unwrap_err(),
        Error::Unsupported { .. }
    ));

    let stub = Stub::script(vec![Reply::json(201, r#"{"credentials":{"k":"new"}}"#)]).await;
    let b = stub.client().build().unwrap().instance("i").binding("b-2");
    let e = b.rotate(&RotateBindingRequest::new("b-2")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: a rotation needs a new binding id; b-2 is the predecessor itself"
    );
    let e = b.rotate(&RotateBindingRequest::new("")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: predecessor_binding_id must be a non-empty string"
    );
    assert!(stub.requests().is_empty());
    b.rotate(&RotateBindingRequest::new("b-1")).await.unwrap();
    let r = &stub.requests()[0];
    assert_eq!(r.path, "/v2/service_instances/i/service_bindings/b-2");
    assert_eq!(body(r), json!({"predecessor_binding_id": "b-1"}));
}

// ---------------------------------------------------------------- B.8 fetch binding

#[tokio::test]
async fn b62_fetch_binding_200_404_and_other_statuses() {
    let stub = Stub::script(vec![
        Reply::json(200, r#"{"credentials":{"p":"s"}}"#),
        Reply::json(404, "{}"),
        Reply::json(404, "{}"),
        Reply::json(500, r#"{"description":"db down"}"#),
        Reply::json(204, ""),
    ])
    .await;
    let b = stub.client().build().unwrap().instance("i").binding("b");
    assert_eq!(b.get().await.unwrap().credentials.unwrap()["p"], "s");
    // 404: absent *or* still being created — not a proof of deletion
    assert!(b.get_opt().await.unwrap().is_none());
    assert!(b.get().await.unwrap_err().is_not_found());
    let e = b.get().await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(e.description(), Some("db down"));
    assert!(e.orphan_mitigation().is_none());
    assert!(matches!(
        b.get().await.unwrap_err(),
        Error::UnexpectedStatus { status: 204, .. }
    ));
    let reqs = stub.requests();
    assert!(
        reqs.iter().all(|r| r.method == "GET"),
        "a failed GET deletes nothing"
    );
    assert_eq!(reqs[0].path, "/v2/service_instances/i/service_bindings/b");
}

// ---------------------------------------------------------------- B.9 unbind, B.10 deprovision

#[tokio::test]
async fn b64_unbind_sends_service_id_and_plan_id() {
    let stub = Stub::script(vec![Reply::json(200, "{}")]).await;
    let b = stub.client().build().unwrap().instance("i").binding("b");
    assert!(matches!(
        b.unbind("svc-1", "plan-1").await.unwrap(),
        UnbindOutcome::Unbound(_)
    ));
    let r = &stub.requests()[0];
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, "/v2/service_instances/i/service_bindings/b");
    assert_eq!(r.param("service_id").as_deref(), Some("svc-1"));
    assert_eq!(r.param("plan_id").as_deref(), Some("plan-1"));
    assert_eq!(r.param("accepts_incomplete").as_deref(), Some("true"));
    let e = b.unbind("svc-1", "").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: plan_id must be a non-empty string"
    );
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn b66_bindings_are_deleted_before_the_instance() {
    let stub = Stub::start(|r, _| {
        if r.path.ends_with("last_operation") {
            Reply::json(200, r#"{"state":"succeeded"}"#)
        } else if r.path.ends_with("/b-async") {
            Reply::json(202, r#"{"operation":"ub"}"#)
        } else if r.path.ends_with("/b-gone") {
            Reply::json(410, "{}")
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    inst.deprovision_after_unbinding(["b-1", "b-async", "b-gone"], "s", "p", &fast())
        .await
        .unwrap();
    let seen: Vec<String> = stub
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        seen,
        [
            "DELETE /v2/service_instances/i/service_bindings/b-1",
            "DELETE /v2/service_instances/i/service_bindings/b-async",
            "GET /v2/service_instances/i/service_bindings/b-async/last_operation",
            "DELETE /v2/service_instances/i/service_bindings/b-gone",
            "DELETE /v2/service_instances/i",
        ]
    );

    // a failing unbind stops before the deprovision
    let stub = Stub::start(|r, _| {
        if r.path.contains("service_bindings") {
            Reply::json(422, r#"{"error":"ConcurrencyError"}"#)
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let e = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .deprovision_after_unbinding(["b-1"], "s", "p", &fast())
        .await
        .unwrap_err();
    assert!(e.is_concurrency_error());
    assert_eq!(stub.requests().len(), 1, "the instance is not deleted");
}

// ---------------------------------------------------------------- B.11 error codes

#[tokio::test]
async fn b71_concurrency_error_on_update_and_deletes_is_reported_without_mitigation() {
    let stub = Stub::script(vec![Reply::json(
        422,
        r#"{"error":"ConcurrencyError","description":"an operation is in progress"}"#,
    )])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let errors = [
        inst.update(&UpdateRequest::new("s")).await.unwrap_err(),
        inst.deprovision("s", "p").await.unwrap_err(),
        inst.binding("b").unbind("s", "p").await.unwrap_err(),
    ];
    for e in &errors {
        assert!(e.is_concurrency_error(), "{e}");
        assert_eq!(e.status(), Some(422));
        assert!(e.orphan_mitigation().is_none());
        assert!(!e.needs_orphan_mitigation());
    }
    assert_eq!(stub.requests().len(), 3, "one request each: no mitigation DELETE");
}

#[tokio::test]
async fn b72_requires_app_then_retry_with_app_guid() {
    let stub = Stub::start(|r, _| {
        let b: Value = serde_json::from_str(&r.body).unwrap_or_default();
        if b["bind_resource"]["app_guid"].is_string() {
            Reply::json(201, r#"{"credentials":{"k":"v"}}"#)
        } else {
            Reply::json(422, r#"{"error":"RequiresApp","description":"bind an app"}"#)
        }
    })
    .await;
    let b = stub.client().build().unwrap().instance("i").binding("b");
    let e = b.bind(&BindRequest::new("s", "p")).await.unwrap_err();
    assert!(e.is_requires_app());
    assert!(e.orphan_mitigation().is_none(), "a 4xx is never mitigated");
    let out = b
        .bind(&BindRequest::new("s", "p").with_bind_resource(BindResource::app("app-1")))
        .await
        .unwrap();
    assert!(matches!(out, BindOutcome::Created(_)));
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(body(&reqs[1])["bind_resource"]["app_guid"], "app-1");
}

#[tokio::test]
async fn b24_provision_200_and_201_need_no_polling() {
    let stub = Stub::script(vec![Reply::json(201, "{}"), Reply::json(200, "{}")]).await;
    let inst = stub.client().build().unwrap().instance("i");
    for _ in 0..2 {
        let out = inst
            .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
            .await
            .unwrap();
        assert!(!matches!(out, ProvisionOutcome::Accepted { .. }));
        assert_eq!(inst.wait(&out).await.unwrap(), WaitOutcome::Completed);
    }
    assert_eq!(stub.requests().len(), 2, "no last_operation request");
}

#[tokio::test]
async fn b4_kubernetes_identity_with_kubernetes_context() {
    let id = OriginatingIdentity::Kubernetes(KubernetesIdentity {
        username: Some("alice".into()),
        ..KubernetesIdentity::default()
    });
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let client = stub.client().originating_identity(id.clone()).build().unwrap();
    client
        .instance("i")
        .binding("b")
        .bind(&BindRequest::new("s", "p").with_context(Context::kubernetes("ns", "c")))
        .await
        .unwrap();
    let h = stub.requests()[0]
        .header("x-broker-api-originating-identity")
        .unwrap()
        .to_owned();
    assert_eq!(OriginatingIdentity::parse(&h).unwrap(), id);
}
