//! CHECKLIST A.2 Catalog: `GET /v2/catalog`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a29_catalog_is_200_with_services() {
    let (h, _) = new_handler();
    let (s, v) = call(&h, Method::GET, "/v2/catalog", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["services"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a32_invalid_catalog_is_rejected_at_start() {
    struct Bad;
    impl Broker for Bad {
        fn catalog(&self) -> Catalog {
            Catalog::new(vec![ServiceOffering::new("s", "s", "no plans", vec![])])
        }
        async fn provision(
            &self,
            _: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
    }
    assert!(matches!(
        handler(Bad, None, None, None),
        Err(osb_server_mini::ServeError::InvalidCatalog(_))
    ));
}

#[tokio::test]
async fn a32_invalid_plan_schema_is_rejected_at_start() {
    struct BadSchema;
    impl Broker for BadSchema {
        fn catalog(&self) -> Catalog {
            let mut plan = ServicePlan::new("p", "p", "plan");
            plan.schemas = Some(Schemas {
                service_instance: Some(ServiceInstanceSchema {
                    create: Some(InputParametersSchema::new(json!({
                        "$schema": "http://json-schema.org/draft-04/schema#",
                        "type": "no-such-type",
                    }))),
                    ..ServiceInstanceSchema::default()
                }),
                ..Schemas::default()
            });
            Catalog::new(vec![ServiceOffering::new("s", "s", "svc", vec![plan])])
        }
        async fn provision(
            &self,
            _: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
    }
    match handler(BadSchema, None, None, None) {
        Err(osb_server_mini::ServeError::InvalidSchema { location, .. }) => {
            assert!(
                location.contains("schemas.service_instance.create.parameters"),
                "{location}"
            );
        }
        other => panic!("expected InvalidSchema, got {other:?}"),
    }
}

// ---- over sockets

#[tokio::test]
async fn a32_invalid_catalog_or_schema_refuses_to_start() {
    library_checks(&["catalog.fetch", "catalog.valid", "catalog.stable_ids"]).await;
    struct Broken(Catalog);
    impl Broker for Broken {
        fn catalog(&self) -> Catalog {
            self.0.clone()
        }
        async fn provision(
            &self,
            _: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
    }
    let dup = Catalog::new(vec![
        ServiceOffering::new("s", "same", "one", vec![ServicePlan::new("p", "p", "plan")]),
        ServiceOffering::new("s", "same", "two", vec![]),
    ]);
    match Server::new(Broken(dup)).spawn("127.0.0.1:0").await {
        Err(ServeError::InvalidCatalog(errors)) => {
            let text = errors.to_string();
            assert!(text.contains("problems"), "{text}");
            assert!(text.contains("plans"), "{text}");
        }
        other => panic!("expected InvalidCatalog, got {other:?}"),
    }
    let mut plan = ServicePlan::new("p", "p", "plan");
    plan.schemas = Some(Schemas {
        service_instance: Some(ServiceInstanceSchema {
            create: Some(InputParametersSchema::new(json!({
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "no-such-type",
            }))),
            ..ServiceInstanceSchema::default()
        }),
        ..Schemas::default()
    });
    let bad_schema = Catalog::new(vec![ServiceOffering::new("s", "s", "svc", vec![plan])]);
    match Server::new(Broken(bad_schema)).spawn("127.0.0.1:0").await {
        Err(ServeError::InvalidSchema { location, .. }) => {
            assert!(location.contains("service_instance.create"), "{location}");
        }
        other => panic!("expected InvalidSchema, got {other:?}"),
    }
    // A valid catalog is served as it was given.
    let h = Harness::new().await;
    let res = h.get("/v2/catalog").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let ids: Vec<&str> = res.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["svc", "fixed"]);
}
