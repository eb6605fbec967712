//! CHECKLIST part V through the real client and server: per-version gating of endpoints,
//! body fields and headers, and 412.

use osb_client::Error;
use osb_client::types::{BindRequest, ProvisionRequest, RotateBindingRequest, UpdateRequest};
use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::{Catalog, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Server};
use osb_tests::e2e::{Recorder, builder, client_v, from_json, to_value};
use osb_tests::{PASSWORD, USER, echo_ids, echo_server};
use osb_types::ApiVersion;
use osb_types::identity::{CloudFoundryIdentity, OriginatingIdentity};
use serde_json::json;

const VERSIONS: [ApiVersion; 7] = [
    ApiVersion::V2_11,
    ApiVersion::V2_12,
    ApiVersion::V2_13,
    ApiVersion::V2_14,
    ApiVersion::V2_15,
    ApiVersion::V2_16,
    ApiVersion::V2_17,
];

fn unsupported(e: &Error) -> bool {
    matches!(e, Error::Unsupported { .. })
}

#[tokio::test]
async fn v3_v15_v18_each_version_gates_get_async_bind_and_rotation() {
    let running = echo_server()
        .min_api_version(ApiVersion::V2_11)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    for v in VERSIONS {
        let c = client_v(&running, v);
        let catalog = c.catalog().await.unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(catalog.services[0].id.as_str(), echo_ids::SERVICE, "{v}");
        let i = c.instance(format!("inst-{}", v.minor));
        let req = from_json(json!({
            "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL,
            "organization_guid": "org", "space_guid": "space"
        }));
        i.provision(&req)
            .await
            .unwrap_or_else(|e| panic!("{v}: provision {e}"));
        let b = i.binding("b-1");
        b.bind(&BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL))
            .await
            .unwrap_or_else(|e| panic!("{v}: bind {e}"));
        let fetch_i = i.get().await;
        let fetch_b = b.get().await;
        let rotate = i.binding("b-2").rotate(&RotateBindingRequest::new("b-1")).await;
        if v < ApiVersion::V2_14 {
            assert!(fetch_i.as_ref().is_err_and(unsupported), "{v}: {fetch_i:?}");
            assert!(fetch_b.as_ref().is_err_and(unsupported), "{v}: {fetch_b:?}");
            let lo = b
                .last_operation(&Default::default())
                .await
                .expect_err("binding last_operation gated");
            assert!(unsupported(&lo), "{v}: {lo:?}");
        } else {
            fetch_i.unwrap_or_else(|e| panic!("{v}: fetch instance {e}"));
            fetch_b.unwrap_or_else(|e| panic!("{v}: fetch binding {e}"));
        }
        if v < ApiVersion::V2_17 {
            assert!(rotate.as_ref().is_err_and(unsupported), "{v}: {rotate:?}");
        } else {
            // The echo `small` plan is binding_rotatable: 2.17 sends the rotation, which succeeds.
            let r = rotate.unwrap_or_else(|e| panic!("{v}: rotate {e}"));
            assert!(r.credentials().is_some(), "{v}: {r:?}");
        }
    }
}

#[tokio::test]
async fn v23_server_with_min_2_15_answers_412_to_a_2_14_client_with_description() {
    let running = echo_server()
        .min_api_version(ApiVersion::V2_15)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    let e = client_v(&running, ApiVersion::V2_14)
        .catalog()
        .await
        .expect_err("412");
    assert_eq!(e.status(), Some(412), "{e:?}");
    assert!(e.is_version_mismatch());
    assert!(
        e.description().is_some_and(|d| !d.is_empty()),
        "the broker's description reaches the caller: {e:?}"
    );
    assert!(e.to_string().contains(e.description().unwrap_or("")));
    client_v(&running, ApiVersion::V2_15)
        .catalog()
        .await
        .expect("2.15 accepted");
}

// ---------------------------------------------------------------------------------------------
// Field gating (CHECKLIST V1, V2, V16, V24, V25): what the client sends at each version, and
// what the broker method receives.
// ---------------------------------------------------------------------------------------------

const SVC: &str = "v-svc";
const PLAN: &str = "v-plan";

/// Records, per call, the version, headers and body the broker method received.
#[derive(Debug, Clone, Default)]
struct Gauge {
    rec: Recorder,
}

impl Gauge {
    fn record(&self, method: &str, ctx: &RequestContext, body: serde_json::Value) {
        self.rec.push(
            method,
            json!({
                "version": ctx.api_version().to_string(),
                "accepts_incomplete": ctx.accepts_incomplete(),
                "request_identity": ctx.request_identity().map(|r| r.as_str().to_owned()),
                "originating_identity": ctx.originating_identity().map(|o| o.platform().to_owned()),
                "body": body,
            }),
        );
    }
}

impl Broker for Gauge {
    fn catalog(&self) -> Catalog {
        let mut plan = ServicePlan::new(PLAN, "plan", "Records everything");
        plan.maintenance_info = Some(from_json(json!({"version": "1.0.0"})));
        let mut offering =
            ServiceOffering::new(SVC, "gauge", "Records what arrives", vec![plan]).bindable(true);
        offering.allow_context_updates = Some(true);
        Catalog::new(vec![offering])
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.record("provision", ctx, to_value(&req));
        Ok(Provisioned::done())
    }

    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        self.record("update", ctx, to_value(&req));
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.record("deprovision", ctx, serde_json::Value::Null);
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.record("bind", ctx, to_value(&req));
        Ok(Bound::credentials(json!({"v": ctx.api_version().to_string()})))
    }

    async fn unbind(&self, ctx: &RequestContext, _: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.record("unbind", ctx, serde_json::Value::Null);
        Ok(Unbound::done())
    }
}

fn cf_context() -> serde_json::Value {
    json!({"platform": "cloudfoundry", "organization_guid": "o", "space_guid": "s"})
}

#[tokio::test]
async fn v1_v2_v16_v25_fields_and_headers_are_gated_per_version() {
    let broker = Gauge::default();
    let rec = broker.rec.clone();
    let running = Server::new(broker)
        .basic_auth(USER, PASSWORD)
        .min_api_version(ApiVersion::V2_11)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    for v in VERSIONS {
        let c = builder(&running)
            .api_version(v)
            .originating_identity(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new(
                "u-1",
            )))
            .request_identity(move || format!("req-{v}"))
            .build()
            .expect("client");
        let i = c.instance(format!("g-{}", v.minor));
        let before = rec.all().len();

        // context on provision (2.12, V1): refused before sending, else received as sent.
        let with_context: ProvisionRequest = from_json(json!({
            "service_id": SVC, "plan_id": PLAN, "organization_guid": "o", "space_guid": "s",
            "context": cf_context()
        }));
        let sent = i.provision(&with_context).await;
        if v < ApiVersion::new(2, 12) {
            assert!(sent.as_ref().is_err_and(unsupported), "{v}: {sent:?}");
            assert_eq!(rec.all().len(), before, "{v}: nothing reached the broker");
            let plain = ProvisionRequest::new(SVC, PLAN).with_org_space("org-1", "space-1");
            i.provision(&plain).await.unwrap_or_else(|e| panic!("{v}: {e}"));
        } else {
            sent.unwrap_or_else(|e| panic!("{v}: provision {e}"));
        }
        let got = rec.of("provision").pop().expect("provision recorded");
        assert_eq!(got["version"], v.to_string(), "{v}: X-Broker-API-Version");
        assert_eq!(
            got["body"].get("context").cloned(),
            (v >= ApiVersion::new(2, 12)).then(cf_context),
            "{v}"
        );
        // Headers: originating identity from 2.13, request identity from 2.15 (V24).
        let expect_oi = (v >= ApiVersion::V2_13).then_some("cloudfoundry");
        assert_eq!(got["originating_identity"].as_str(), expect_oi, "{v}");
        let expect_rid = (v >= ApiVersion::V2_15).then(|| format!("req-{v}"));
        assert_eq!(got["request_identity"].as_str(), expect_rid.as_deref(), "{v}");

        // maintenance_info on update, also in previous_values (2.15, V16/V25).
        let mi: UpdateRequest = from_json(json!({
            "service_id": SVC, "maintenance_info": {"version": "1.0.0"},
            "previous_values": {"maintenance_info": {"version": "1.0.0"}}
        }));
        let prev_only: UpdateRequest = from_json(json!({
            "service_id": SVC, "parameters": {"a": 1},
            "previous_values": {"maintenance_info": {"version": "1.0.0"}}
        }));
        let count = rec.count("update");
        let (a, b) = (i.update(&mi).await, i.update(&prev_only).await);
        if v < ApiVersion::V2_15 {
            assert!(a.as_ref().is_err_and(unsupported), "{v}: {a:?}");
            assert!(b.as_ref().is_err_and(unsupported), "{v}: {b:?}");
            assert_eq!(rec.count("update"), count, "{v}: nothing sent");
        } else {
            a.unwrap_or_else(|e| panic!("{v}: {e}"));
            b.unwrap_or_else(|e| panic!("{v}: {e}"));
            let got = rec.of("update");
            assert_eq!(
                got[count]["body"]["maintenance_info"],
                json!({"version": "1.0.0"}),
                "{v}"
            );
        }
        // context on update (2.12); a context-only update (2.15, V16).
        let ctx_update: UpdateRequest = from_json(json!({
            "service_id": SVC, "context": cf_context(), "parameters": {"b": 2}
        }));
        let r = i.update(&ctx_update).await;
        assert_eq!(
            r.as_ref().is_err_and(unsupported),
            v < ApiVersion::new(2, 12),
            "{v}: {r:?}"
        );
        let ctx_only: UpdateRequest = from_json(json!({"service_id": SVC, "context": cf_context()}));
        let count = rec.count("update");
        let r = i.update(&ctx_only).await;
        assert_eq!(
            r.as_ref().is_err_and(unsupported),
            v < ApiVersion::V2_15,
            "{v}: {r:?}"
        );
        assert_eq!(
            rec.count("update") - count,
            usize::from(v >= ApiVersion::V2_15),
            "{v}"
        );

        // context on bind (2.13, V14), accepts_incomplete on bind and unbind (2.14, V2).
        let b = i.binding("b");
        let bind_ctx: BindRequest = from_json(json!({
            "service_id": SVC, "plan_id": PLAN, "context": cf_context()
        }));
        let r = b.bind(&bind_ctx).await;
        if v < ApiVersion::V2_13 {
            assert!(r.as_ref().is_err_and(unsupported), "{v}: {r:?}");
            b.bind(&BindRequest::new(SVC, PLAN))
                .await
                .unwrap_or_else(|e| panic!("{v}: {e}"));
        } else {
            r.unwrap_or_else(|e| panic!("{v}: bind {e}"));
        }
        let got = rec.of("bind").pop().expect("bind recorded");
        assert_eq!(
            got["body"].get("context").cloned(),
            (v >= ApiVersion::V2_13).then(cf_context),
            "{v}"
        );
        let async_bindings = v >= ApiVersion::V2_14;
        assert_eq!(got["accepts_incomplete"], async_bindings, "{v}: bind");
        b.unbind(SVC, PLAN)
            .await
            .unwrap_or_else(|e| panic!("{v}: unbind {e}"));
        let got = rec.of("unbind").pop().expect("unbind recorded");
        assert_eq!(got["accepts_incomplete"], async_bindings, "{v}: unbind");
        // Instances were asynchronous-capable in every version.
        i.deprovision(SVC, PLAN)
            .await
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        let got = rec.of("deprovision").pop().expect("deprovision recorded");
        assert_eq!(got["accepts_incomplete"], true, "{v}: deprovision");
        assert_eq!(got["originating_identity"].as_str(), expect_oi, "{v}");
    }
}
