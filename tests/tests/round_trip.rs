//! Lossless round trips: what the broker declares/returns is what the client gets; what the
//! client sends is what the broker method receives (bodies, contexts, originating identity).

use osb_client::LastOperation;
use osb_client::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_client::{BindOutcome, Client, ProvisionOutcome, UpdateOutcome};
use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Updated};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{BindResponse, Catalog};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
use osb_tests::e2e::{Recorder, from_json, to_value};
use osb_tests::{PASSWORD, USER};
use osb_types::LastOperationResponse;
use osb_types::identity::{CloudFoundryIdentity, OriginatingIdentity};
use osb_types::operation::LastOperationParams;
use serde_json::{Value, json};

fn catalog_json() -> Value {
    json!({"services": [{
        "id": "rt-svc", "name": "round-trip", "description": "Every field",
        "tags": ["a", "b"], "requires": ["syslog_drain", "route_forwarding", "volume_mount"], "bindable": true,
        "instances_retrievable": true, "bindings_retrievable": true,
        "allow_context_updates": true, "plan_updateable": true,
        "metadata": {"displayName": "RT", "x-anything": {"deep": [1, 2]}},
        "dashboard_client": {"id": "dc", "secret": "s3cret", "redirect_uri": "http://dash.test/cb"},
        "x-vendor-offering": "kept",
        "plans": [{
            "id": "rt-plan", "name": "full", "description": "Every plan field",
            "free": false, "bindable": true, "plan_updateable": true,
            "maximum_polling_duration": 30,
            "maintenance_info": {"version": "1.2.3+build", "description": "patch"},
            "metadata": {"costs": [{"amount": {"usd": 9.5}, "unit": "MONTHLY"}], "bullets": ["x"]},
            "schemas": {
                "service_instance": {
                    "create": {"parameters": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}},
                    "update": {"parameters": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}}
                },
                "service_binding": {
                    "create": {"parameters": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}}
                }
            },
            "x-vendor-plan": {"n": 1}
        }]
    }], "x-vendor-catalog": true})
}

fn bind_response() -> Value {
    json!({
        "credentials": {"uri": "rt://x", "password": "p"},
        "syslog_drain_url": "syslog://drain.test",
        "route_service_url": "https://route.test/proxy",
        "volume_mounts": [{
            "driver": "nfsdriver", "container_dir": "/data", "mode": "rw", "device_type": "shared",
            "device": {"volume_id": "vol-1", "mount_config": {"uid": "1000"}}
        }],
        "metadata": {"expires_at": "2030-01-01T00:00:00Z", "renew_before": "2029-12-01T00:00:00.0Z"},
        "endpoints": [{"host": "h", "ports": ["443", "9000-9010"], "protocol": "tcp"}, {"host": "10.0.0.1", "ports": ["53"], "protocol": "udp"}],
        "x-vendor-bind": "kept"
    })
}

/// What the broker answers to instance `last_operation` (it tracks operations itself).
fn last_operation_body() -> Value {
    json!({"state": "in progress", "description": "Half way", "x-vendor-lo": {"n": 1}})
}

#[derive(Debug, Clone, Default)]
struct Rt {
    rec: Recorder,
}

impl Rt {
    fn record(&self, method: &str, ctx: &RequestContext, body: Value) {
        let identity = ctx.originating_identity();
        let header = identity.map(OriginatingIdentity::to_header_value);
        let decoded = identity.map(|i| to_value(&i.value()));
        self.rec.push(
            method,
            json!({"body": body, "identity": header, "decoded": decoded}),
        );
    }
}

impl Broker for Rt {
    fn catalog(&self) -> Catalog {
        from_json(catalog_json())
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.record("provision", ctx, to_value(&req));
        Ok(Provisioned::done()
            .dashboard_url("http://dash.test/rt")
            .metadata(from_json(json!({"labels": {"l": "v"}, "attributes": {"a": 1}}))))
    }

    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        self.record("update", ctx, to_value(&req));
        Ok(Updated::done().dashboard_url("http://dash.test/rt2"))
    }

    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.record("bind", ctx, to_value(&req));
        Ok(Bound::done(from_json::<BindResponse>(bind_response())))
    }

    async fn instance_last_operation(
        &self,
        ctx: &RequestContext,
    ) -> Result<Option<LastOperationResponse>, BrokerError> {
        self.record("last_operation", ctx, Value::Null);
        Ok(Some(from_json(last_operation_body())))
    }
}

async fn start() -> (Running, Recorder) {
    let broker = Rt::default();
    let rec = broker.rec.clone();
    let running = Server::new(broker)
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    (running, rec)
}

fn client_as(running: &Running, identity: OriginatingIdentity) -> Client {
    Client::builder(running.url())
        .basic_auth(USER, PASSWORD)
        .originating_identity(identity)
        .build()
        .expect("client")
}

fn cf_identity() -> OriginatingIdentity {
    OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("user-42"))
}

#[tokio::test]
async fn c2_catalog_with_every_field_arrives_unchanged() {
    let (running, _rec) = start().await;
    let client = client_as(&running, cf_identity());
    let got = client.catalog().await.expect("catalog");
    assert_eq!(to_value(&got), catalog_json());
}

#[tokio::test]
async fn b4_requests_with_cf_k8s_and_unknown_contexts_arrive_unchanged() {
    let (running, rec) = start().await;
    let k8s: OriginatingIdentity = OriginatingIdentity::Kubernetes(from_json(json!({
        "username": "duke", "uid": "c2dde242-5ce4-11e7-988c-000c2946f14f",
        "groups": ["admin", "dev"], "extra": {"mydata": ["data1", "data3"]}
    })));
    let nomad = OriginatingIdentity::Other {
        platform: "nomad".to_owned(),
        value: from_json(json!({"token_accessor": "t-1", "x-deep": {"a": [1]}})),
    };
    // C72/B5: each context goes with an identity of the same platform.
    let cases = [
        (
            json!({"platform": "cloudfoundry", "organization_guid": "o", "space_guid": "s",
                   "organization_name": "org", "space_name": "sp", "instance_name": "i",
                   "organization_annotations": {"a.io/x": "y"}, "x-cf-extra": 1}),
            cf_identity(),
        ),
        (
            json!({"platform": "kubernetes", "namespace": "ns", "clusterid": "c", "instance_name": "i",
                   "namespace_annotations": {"k": "v"}, "x-k8s-extra": [1]}),
            k8s,
        ),
        (
            json!({"platform": "nomad", "job": "j", "x-nomad": {"deep": true}}),
            nomad,
        ),
    ];
    for (n, (context, identity)) in cases.iter().enumerate() {
        let client = client_as(&running, identity.clone());
        let header = identity.to_header_value();
        let id = format!("rt-{n}");
        let i = client.instance(id.clone());
        let prov = json!({
            "service_id": "rt-svc", "plan_id": "rt-plan", "context": context,
            "organization_guid": "o", "space_guid": "s",
            "parameters": {"p": [1, {"q": null}]},
            "maintenance_info": {"version": "1.2.3+build"},
            "x-vendor-request": "kept"
        });
        let out = i.provision(&from_json(prov.clone())).await.expect("provision");
        let ProvisionOutcome::Created(body) = &out else {
            panic!("{out:?}")
        };
        assert_eq!(
            to_value(body),
            json!({"dashboard_url": "http://dash.test/rt",
                   "metadata": {"labels": {"l": "v"}, "attributes": {"a": 1}}})
        );
        let upd = json!({"service_id": "rt-svc", "context": context, "parameters": {"u": 2},
                         "previous_values": {"plan_id": "rt-plan"}, "x-upd": 3});
        let out = i.update(&from_json(upd.clone())).await.expect("update");
        let UpdateOutcome::Updated(body) = &out else {
            panic!("{out:?}")
        };
        assert_eq!(to_value(body), json!({"dashboard_url": "http://dash.test/rt2"}));
        // The runtime's fetch answer, from what it recorded, compared as a value.
        let fetched = i.get().await.expect("fetch instance");
        assert_eq!(
            to_value(&fetched),
            json!({
                "service_id": "rt-svc", "plan_id": "rt-plan",
                "dashboard_url": "http://dash.test/rt2",
                "parameters": {"u": 2},
                "maintenance_info": {"version": "1.2.3+build"},
                "metadata": {"labels": {"l": "v"}, "attributes": {"a": 1}}
            }),
            "context {n}"
        );
        // The broker's own last_operation answer reaches the client unchanged.
        let lo = i
            .last_operation(&LastOperationParams::default())
            .await
            .expect("last_operation");
        let LastOperation::Reported { response, .. } = &lo else {
            panic!("{lo:?}")
        };
        assert_eq!(to_value(response), last_operation_body());
        let bind = json!({"service_id": "rt-svc", "plan_id": "rt-plan", "context": context,
                          "bind_resource": {"app_guid": "app", "x-br": 1}, "parameters": {"b": 1}, "x-bind": 4});
        let b = i.binding("b");
        let out = b.bind(&from_json(bind.clone())).await.expect("bind");
        let BindOutcome::Created(body) = &out else {
            panic!("{out:?}")
        };
        assert_eq!(to_value(body), bind_response());
        let mut fetched = bind_response();
        fetched["parameters"] = json!({"b": 1});
        assert_eq!(to_value(&b.get().await.expect("fetch binding")), fetched);
        for (method, sent) in [("provision", &prov), ("update", &upd), ("bind", &bind)] {
            let got = rec.of(method);
            let last = got.last().expect("recorded");
            assert_eq!(&last["body"], sent, "{method} body, context {n}");
            assert_eq!(last["identity"], json!(header), "{method} identity, context {n}");
            assert_eq!(
                last["decoded"],
                to_value(&identity.value()),
                "{method}: the identity decodes to what was sent"
            );
        }
        assert_eq!(
            rec.of("last_operation").last().expect("polled")["identity"],
            json!(header)
        );
    }
}
