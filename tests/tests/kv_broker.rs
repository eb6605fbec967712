//! Typed parameters follow their plan, through a real socket: the key-value broker of the
//! examples (a synchronous `free` plan without parameters, an asynchronous `dedicated` plan
//! with `provision_params = KvParams`, one `provision` taking `Option<KvParams>`), and a
//! broker whose plans have different parameter types, decoded per plan.

use osb_client::types::{BindRequest, ProvisionRequest};
use osb_client::{BindOutcome, ProvisionOutcome, WaitOutcome};
use osb_examples::kv::{Dedicated, FREE_MAX_KEYS, Free, Kv, KvBroker};
use osb_server_mini::{Offering, Plan, Server};
use osb_tests::e2e::{client, fast_wait};
use osb_tests::{PASSWORD, USER};
use serde_json::{Value, json};

fn params(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().expect("an object").clone()
}

#[tokio::test]
async fn free_provisions_without_parameters_and_dedicated_with_them() {
    let broker = KvBroker::default();
    let running = Server::new(broker.clone())
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let client = client(&running);
    let catalog = client.catalog().await.unwrap();
    let offering = &catalog.services[0];
    let free = offering.plan(Free::ID).unwrap();
    let dedicated = offering.plan(Dedicated::ID).unwrap();
    assert!(
        free.instance_create_schema().is_none(),
        "free declares no parameters"
    );
    assert!(dedicated.instance_create_schema().is_some());
    assert!(
        free.is_free() && !dedicated.is_free(),
        "plans are free unless `free = false`"
    );
    let service = Kv::offering().id;

    // `free` without parameters: `params` is `None`, synchronous.
    let outcome = client
        .instance("kv-free")
        .provision(&ProvisionRequest::new(service.clone(), Free::ID).with_org_space("org-1", "space-1"))
        .await
        .expect("free provisions without parameters");
    assert!(matches!(outcome, ProvisionOutcome::Created(_)), "{outcome:?}");
    assert_eq!(broker.max_keys("kv-free"), Some(FREE_MAX_KEYS));

    // Parameters sent to `free` are not decoded into `KvParams` (it declares none).
    let outcome = client
        .instance("kv-free-2")
        .provision(
            &ProvisionRequest::new(service.clone(), Free::ID)
                .with_org_space("org-1", "space-1")
                .with_parameters(params(json!({ "x": 1 }))),
        )
        .await
        .expect("free ignores parameters it declares no type for");
    assert!(matches!(outcome, ProvisionOutcome::Created(_)), "{outcome:?}");
    assert_eq!(broker.max_keys("kv-free-2"), Some(FREE_MAX_KEYS));

    // `dedicated` with parameters: decoded, in the background.
    let instance = client.instance("kv-dedicated");
    let request = ProvisionRequest::new(service.clone(), Dedicated::ID)
        .with_org_space("org-1", "space-1")
        .with_parameters(params(json!({ "max_keys": 500 })));
    let outcome = instance.provision(&request).await.expect("dedicated provisions");
    assert!(
        matches!(outcome, ProvisionOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    let waited = instance.wait_with(&outcome, &fast_wait()).await.unwrap();
    assert!(matches!(waited, WaitOutcome::Succeeded(_)), "{waited:?}");
    assert_eq!(broker.max_keys("kv-dedicated"), Some(500));
    let bound = instance
        .binding("b-1")
        .bind(&BindRequest::new(service.clone(), Dedicated::ID))
        .await
        .unwrap();
    let BindOutcome::Created(bound) = bound else {
        panic!("expected a synchronous bind, got {bound:?}")
    };
    assert_eq!(bound.credentials.unwrap()["max_keys"], 500);

    // `dedicated` without its required parameter: 400 from the schema, no broker code ran.
    let err = client
        .instance("kv-dedicated-bad")
        .provision(&ProvisionRequest::new(service.clone(), Dedicated::ID).with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(
        err.description(),
        Some("invalid parameters: \"max_keys\" is a required property")
    );
    let err = client
        .instance("kv-dedicated-bad")
        .provision(
            &ProvisionRequest::new(service.clone(), Dedicated::ID)
                .with_org_space("org-1", "space-1")
                .with_parameters(params(json!({ "max_keys": "many" }))),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.description(),
        Some("invalid parameters: \"many\" is not of type \"integer\" (at `/max_keys`)")
    );
    assert_eq!(broker.max_keys("kv-dedicated-bad"), None);

    // Deprovision removes by `ctx.instance_id()` (an `&InstanceId`).
    client
        .instance("kv-free")
        .deprovision(service.clone(), Free::ID)
        .await
        .unwrap();
    assert_eq!(broker.max_keys("kv-free"), None);
    running.shutdown().await;
}

mod per_plan {
    //! Plans with different parameter types: the operation takes no typed argument and
    //! decodes per plan with `params::decode`, choosing the type by `request.plan_id`.
    use std::sync::{Arc, Mutex};

    use osb_server_mini::reply::{Deprovisioned, Provisioned};
    use osb_server_mini::request::DeprovisionRequest;
    use osb_server_mini::types::ProvisionRequest;
    use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker, params};

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    pub(crate) struct SingleParams {
        pub(crate) size_gb: u32,
    }

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    pub(crate) struct ClusterParams {
        pub(crate) nodes: u8,
        #[serde(default)]
        pub(crate) zones: Vec<String>,
    }

    #[derive(Offering)]
    #[osb(id = "db", name = "db", description = "Databases", plans(Single, Cluster))]
    pub(crate) struct Db;

    #[derive(Plan)]
    #[osb(id = "db-single", name = "single", description = "One node", provision_params = SingleParams)]
    pub(crate) struct Single;

    #[derive(Plan)]
    #[osb(id = "db-cluster", name = "cluster", description = "Nodes", provision_params = ClusterParams)]
    pub(crate) struct Cluster;

    #[derive(Clone, Default)]
    pub(crate) struct DbBroker {
        pub(crate) seen: Arc<Mutex<Vec<String>>>,
    }

    #[broker(catalog(Db))]
    impl DbBroker {
        async fn provision(
            &self,
            _: &RequestContext,
            req: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            let seen = match req.plan_id.as_str() {
                Single::ID => {
                    let p: SingleParams = params::decode(req.parameters.as_ref())?;
                    format!("single {} GB", p.size_gb)
                }
                _ => {
                    let p: ClusterParams = params::decode(req.parameters.as_ref())?;
                    format!("cluster of {} in {:?}", p.nodes, p.zones)
                }
            };
            self.seen.lock().unwrap().push(seen);
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
}

#[tokio::test]
async fn plans_with_different_parameter_types_decode_per_plan() {
    use per_plan::{Cluster, Db, DbBroker, Single};
    let broker = DbBroker::default();
    let running = Server::new(broker.clone())
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let client = client(&running);
    let service = Db::offering().id;
    let catalog = client.catalog().await.unwrap();
    let plans = &catalog.services[0].plans;
    assert_eq!(
        plans[0].instance_create_schema().unwrap()["required"],
        json!(["size_gb"])
    );
    assert_eq!(
        plans[1].instance_create_schema().unwrap()["required"],
        json!(["nodes"])
    );

    client
        .instance("one")
        .provision(
            &ProvisionRequest::new(service.clone(), Single::ID)
                .with_org_space("org-1", "space-1")
                .with_parameters(params(json!({ "size_gb": 8 }))),
        )
        .await
        .unwrap();
    client
        .instance("many")
        .provision(
            &ProvisionRequest::new(service.clone(), Cluster::ID)
                .with_org_space("org-1", "space-1")
                .with_parameters(params(json!({ "nodes": 3, "zones": ["a"] }))),
        )
        .await
        .unwrap();
    // Each plan's own schema applies: `single`'s parameters are refused on `cluster`.
    let err = client
        .instance("wrong")
        .provision(
            &ProvisionRequest::new(service.clone(), Cluster::ID)
                .with_org_space("org-1", "space-1")
                .with_parameters(params(json!({ "size_gb": 8 }))),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(
        *broker.seen.lock().unwrap(),
        ["single 8 GB", "cluster of 3 in [\"a\"]"],
        "broker code ran once per valid request"
    );
    running.shutdown().await;
}
