//! Building requests the way a platform program does: parameters from any `Serialize` value,
//! offerings and plans looked up by name, credentials read from the bind answer.

mod support;

use osb_client::types::{BindRequest, Catalog, ProvisionRequest, UpdateRequest};
use serde_json::{Value, json};
use support::{Recorded, Reply, Stub};

fn body(r: &Recorded) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

#[derive(serde::Serialize)]
struct KvParams {
    max_keys: u32,
    eviction: &'static str,
}

#[tokio::test]
async fn parameters_from_a_struct_are_sent_as_an_object() {
    let stub = Stub::start(|r, _| match r.method.as_str() {
        "PATCH" => Reply::json(200, "{}"),
        _ => Reply::json(201, r#"{"credentials":{"uri":"kv://1","password":"p"}}"#),
    })
    .await;
    let client = stub.client().build().unwrap();
    let inst = client.instance("i-1");
    let params = KvParams {
        max_keys: 100,
        eviction: "lru",
    };
    inst.provision(
        &ProvisionRequest::new("s", "p")
            .with_org_space("o", "sp")
            .with_parameters(&params),
    )
    .await
    .unwrap();
    inst.update(&UpdateRequest::new("s").with_parameters(json!({"max_keys": 200})))
        .await
        .unwrap();
    let bound = inst
        .binding("b-1")
        .bind(&BindRequest::new("s", "p").with_parameters(json!({"read_only": true})))
        .await
        .unwrap();
    // a synchronous bind's credentials, without matching on the outcome
    assert_eq!(bound.credentials().unwrap()["uri"], "kv://1");
    assert!(!bound.is_accepted() && bound.operation().is_none());
    let reqs = stub.requests();
    assert_eq!(
        body(&reqs[0])["parameters"],
        json!({"max_keys": 100, "eviction": "lru"})
    );
    assert_eq!(body(&reqs[1])["parameters"], json!({"max_keys": 200}));
    assert_eq!(body(&reqs[2])["parameters"], json!({"read_only": true}));
}

#[tokio::test]
async fn parameters_that_are_not_an_object_are_refused_before_sending() {
    let stub = Stub::script(vec![Reply::json(201, "{}")]).await;
    let client = stub.client().build().unwrap();
    let inst = client.instance("i-1");
    let e = inst
        .provision(
            &ProvisionRequest::new("s", "p")
                .with_org_space("o", "sp")
                .with_parameters(vec![1, 2]),
        )
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert_eq!(
        e.to_string(),
        "request not sent: parameters must be a JSON object, not an array"
    );
    let e = inst
        .update(&UpdateRequest::new("s").with_parameters(7))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: parameters must be a JSON object, not a number"
    );
    let e = inst
        .binding("b")
        .bind(&BindRequest::new("s", "p").with_parameters("x"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "request not sent: parameters must be a JSON object, not a string"
    );
    assert!(e.orphan_mitigation().is_none());
    assert!(stub.requests().is_empty(), "nothing was sent");

    // the fallible form says so at once; a later object replaces the bad value
    let err = BindRequest::new("s", "p")
        .try_with_parameters(json!(null))
        .unwrap_err();
    assert_eq!(err.found(), "null");
    let fixed = BindRequest::new("s", "p")
        .with_parameters(3)
        .with_parameters(json!({"a": 1}));
    assert!(fixed.check_parameters().is_ok());
    assert_eq!(
        serde_json::to_value(&fixed).unwrap()["parameters"],
        json!({"a": 1})
    );
}

#[test]
fn offerings_and_plans_are_found_by_name() {
    let catalog: Catalog = serde_json::from_value(json!({"services": [
        {"id": "s-kv", "name": "kv", "description": "d", "bindable": true,
         "plans": [{"id": "p-free", "name": "free", "description": "d"},
                   {"id": "p-ded", "name": "dedicated", "description": "d"}]},
        {"id": "s-db", "name": "db", "description": "d", "bindable": true,
         "plans": [{"id": "p-db-free", "name": "free", "description": "d"}]}]}))
    .unwrap();
    let (kv, dedicated) = catalog.plan_by_name("kv", "dedicated").unwrap();
    assert_eq!((kv.id.as_str(), dedicated.id.as_str()), ("s-kv", "p-ded"));
    // plan names are looked up within their offering
    assert_eq!(catalog.plan_by_name("db", "free").unwrap().1.id, "p-db-free");
    assert_eq!(
        catalog
            .offering_by_name("db")
            .unwrap()
            .plan_by_name("free")
            .unwrap()
            .id,
        "p-db-free"
    );
    assert!(catalog.plan_by_name("db", "dedicated").is_none());
    assert!(catalog.offering_by_name("s-kv").is_none(), "by name, not id");
}
