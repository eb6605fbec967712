//! Binding rotation (2.17) and binding metadata rules the runtime enforces, through
//! `osb_server_mini::testing::TestBroker` and its client:
//!
//! - C50/A109: the predecessor must be an existing, non-expired binding of the same
//!   instance (400 otherwise, the broker never runs);
//! - B60/A109: a plan that is not `binding_rotatable` refuses rotations with 400;
//! - A106: `renew_before` after `expires_at` in a broker's answer is the broker author's bug:
//!   500 `InternalError` with a description naming the fields, an error log, and the binding
//!   left `Failed` so the Platform's orphan mitigation unbinds it.

mod tracing_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_client::BindOutcome;
use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::testing::TestBroker;
use osb_server_mini::types::binding::{BindingMetadata, RotateBindingRequest};
use osb_server_mini::types::{
    BindRequest, BindResponse, Catalog, Credentials, ProvisionRequest, ServiceOffering, ServicePlan,
    Timestamp,
};
use osb_server_mini::{Broker, BrokerError, PlanPolicy, RequestContext};
use serde_json::json;

const SVC: &str = "svc-rot";
/// Synchronous, `binding_rotatable`.
const ROT: &str = "plan-rot";
/// Bindable but not `binding_rotatable`.
const FIXED: &str = "plan-fixed";
/// Asynchronous binds, `binding_rotatable`.
const LATER: &str = "plan-later";

/// A broker whose bind answers carry the `expires_at` / `renew_before` given as bind
/// parameters, and which counts its calls.
#[derive(Debug, Clone, Default)]
struct Rot {
    calls: Arc<Mutex<Vec<String>>>,
}

impl Rot {
    fn log(&self, what: &str, ctx: &RequestContext) {
        self.calls
            .lock()
            .expect("lock")
            .push(format!("{what} {}", ctx.binding_id()));
    }

    fn count(&self, what: &str) -> usize {
        let calls = self.calls.lock().expect("lock");
        calls.iter().filter(|c| c.split(' ').next() == Some(what)).count()
    }

    fn response(
        ctx: &RequestContext,
        parameters: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> BindResponse {
        let at = |key: &str| {
            parameters
                .and_then(|p| p.get(key))
                .and_then(|v| v.as_str())
                .map(|s| s.parse::<Timestamp>().expect("a timestamp parameter"))
        };
        let metadata = BindingMetadata::new(at("expires_at"), at("renew_before"));
        BindResponse {
            credentials: Credentials::from_value(json!({ "user": ctx.binding_id().as_str() })),
            metadata: (metadata != BindingMetadata::default()).then_some(metadata),
            ..BindResponse::default()
        }
    }

    fn answer(ctx: &RequestContext, response: BindResponse) -> Bound {
        if ctx.plan().is_some_and(|p| p.id == LATER) {
            Bound::later(async move { Ok(response) })
        } else {
            Bound::done(response)
        }
    }
}

impl Broker for Rot {
    fn catalog(&self) -> Catalog {
        let mut rot = ServicePlan::new(ROT, "rot", "Rotatable bindings");
        rot.binding_rotatable = Some(true);
        let fixed = ServicePlan::new(FIXED, "fixed", "Bindings that cannot be rotated");
        let mut later = ServicePlan::new(LATER, "later", "Asynchronous rotatable bindings");
        later.binding_rotatable = Some(true);
        let mut offering =
            ServiceOffering::new(SVC, "rot", "Rotation", vec![rot, fixed, later]).bindable(true);
        offering.bindings_retrievable = Some(true);
        Catalog::new(vec![offering])
    }

    fn plan_policy(&self, _: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        if plan.id == LATER {
            PlanPolicy::default().retry_after(Duration::from_millis(10))
        } else {
            PlanPolicy::default()
        }
    }

    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }

    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.log("bind", ctx);
        Ok(Self::answer(ctx, Self::response(ctx, req.parameters.as_ref())))
    }

    async fn rotate_binding(
        &self,
        ctx: &RequestContext,
        req: RotateBindingRequest,
    ) -> Result<Bound, BrokerError> {
        self.log("rotate", ctx);
        assert_eq!(
            ctx.predecessor().map(|p| p.id.as_str()),
            Some(req.predecessor_binding_id.as_str()),
            "the runtime hands the predecessor's record to the broker"
        );
        let parameters = ctx.predecessor().and_then(|p| p.parameters.clone());
        Ok(Self::answer(ctx, Self::response(ctx, parameters.as_ref())))
    }

    async fn unbind(&self, ctx: &RequestContext, _: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.log("unbind", ctx);
        Ok(Unbound::done())
    }
}

async fn started() -> (Rot, TestBroker) {
    let broker = Rot::default();
    let kit = TestBroker::start(broker.clone()).await;
    for (instance, plan) in [
        ("i-rot", ROT),
        ("i-other", ROT),
        ("i-fixed", FIXED),
        ("i-later", LATER),
    ] {
        kit.client()
            .instance(instance)
            .provision(&ProvisionRequest::new(SVC, plan).with_org_space("org", "space"))
            .await
            .expect("provision");
    }
    (broker, kit)
}

fn bind_req(plan: &str, parameters: serde_json::Value) -> BindRequest {
    BindRequest::new(SVC, plan).with_parameters(parameters)
}

fn user(outcome: &BindOutcome) -> String {
    outcome.credentials().expect("credentials")["user"]
        .as_str()
        .expect("user")
        .to_owned()
}

#[tokio::test]
async fn a108_rotation_creates_new_credentials_and_the_predecessor_stays_valid() {
    let (broker, kit) = started().await;
    let old = kit.client().instance("i-rot").binding("b-old");
    let bound = old
        .bind(&bind_req(ROT, json!({ "expires_at": "2999-01-01T00:00:00.0Z" })))
        .await
        .expect("bind");
    let rotated = old.rotate_into("b-new", SVC, ROT).await.expect("rotate");
    assert!(
        matches!(rotated.outcome, BindOutcome::Created(_)),
        "{:?}",
        rotated.outcome
    );
    assert_eq!(user(&rotated.outcome), "b-new");
    assert_ne!(user(&rotated.outcome), user(&bound), "new credentials");
    let metadata = rotated.outcome.response().metadata.clone().expect("metadata");
    assert_eq!(
        metadata.expires_at.map(|t| t.to_string()).as_deref(),
        Some("2999-01-01T00:00:00.0Z"),
        "the predecessor's parameters were handed to the rotation"
    );
    let still = old.get().await.expect("the predecessor is still there");
    assert_eq!(still.credentials.expect("credentials")["user"], "b-old");
    assert_eq!(
        rotated
            .successor
            .get()
            .await
            .expect("fetch the successor")
            .credentials
            .expect("c")["user"],
        "b-new"
    );
    assert_eq!((broker.count("bind"), broker.count("rotate")), (1, 1));
}

#[tokio::test]
async fn c50_a109_unknown_predecessor_is_400_and_the_broker_never_runs() {
    let (broker, kit) = started().await;
    let e = kit
        .client()
        .instance("i-rot")
        .binding("b-new")
        .rotate_with_ids(&RotateBindingRequest::new("nope"), SVC, ROT)
        .await
        .expect_err("no such predecessor");
    assert_eq!(e.status(), Some(400), "{e}");
    let d = e.description().expect("description");
    assert!(
        d.contains("predecessor_binding_id nope") && d.contains("i-rot"),
        "{d}"
    );
    assert_eq!(broker.count("rotate"), 0);
    assert!(
        kit.client()
            .instance("i-rot")
            .binding("b-new")
            .get_opt()
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn c50_a109_predecessor_of_another_instance_is_400() {
    let (broker, kit) = started().await;
    kit.client()
        .instance("i-other")
        .binding("b-elsewhere")
        .bind(&bind_req(ROT, json!({})))
        .await
        .expect("bind on the other instance");
    let e = kit
        .client()
        .instance("i-rot")
        .binding("b-new")
        .rotate_with_ids(&RotateBindingRequest::new("b-elsewhere"), SVC, ROT)
        .await
        .expect_err("a binding of another instance");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.description()
            .expect("d")
            .contains("not an existing binding of Service Instance i-rot"),
        "{e}"
    );
    assert_eq!(broker.count("rotate"), 0);
}

#[tokio::test]
async fn c50_a109_expired_predecessor_is_400() {
    let (broker, kit) = started().await;
    let old = kit.client().instance("i-rot").binding("b-old");
    old.bind(&bind_req(
        ROT,
        json!({ "expires_at": "2001-01-01T00:00:00.0Z", "renew_before": "2000-12-01T00:00:00.0Z" }),
    ))
    .await
    .expect("a binding that is already expired");
    let e = old.rotate_into("b-new", SVC, ROT).await.expect_err("expired");
    assert_eq!(e.status(), Some(400), "{e}");
    let d = e.description().expect("description");
    assert!(d.contains("expired at 2001-01-01T00:00:00.0Z"), "{d}");
    assert_eq!(broker.count("rotate"), 0);
}

#[tokio::test]
async fn b60_a109_a_plan_that_is_not_binding_rotatable_refuses_rotation_with_400() {
    let (broker, kit) = started().await;
    let old = kit.client().instance("i-fixed").binding("b-old");
    old.bind(&bind_req(FIXED, json!({}))).await.expect("bind");
    let e = old
        .rotate_into("b-new", SVC, FIXED)
        .await
        .expect_err("not rotatable");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.description().expect("d").contains("not binding_rotatable"),
        "{e}"
    );
    assert_eq!(broker.count("rotate"), 0);
}

const BACKWARDS: &str =
    r#"{"expires_at": "2999-01-01T00:00:00.0Z", "renew_before": "2999-06-01T00:00:00.0Z"}"#;

#[tokio::test]
async fn a106_renew_before_after_expires_at_is_500_logged_and_orphan_mitigated() {
    let logs = tracing_support::global(tracing::Level::INFO);
    let (broker, kit) = started().await;
    let binding = kit.client().instance("i-rot").binding("b-backwards");
    let parameters: serde_json::Value = serde_json::from_str(BACKWARDS).expect("json");
    let e = binding
        .bind(&bind_req(ROT, parameters))
        .await
        .expect_err("the broker's bug");
    assert_eq!(e.status(), Some(500), "{e}");
    let d = e.description().expect("description");
    assert!(d.contains("renew_before is after its expires_at"), "{d}");
    // The binding was kept `Failed`, so the client's orphan mitigation reached the broker.
    let om = e.orphan_mitigation().expect("mitigation ran");
    assert!(om.succeeded(), "{om}");
    assert_eq!((broker.count("bind"), broker.count("unbind")), (1, 1));
    assert!(binding.get_opt().await.expect("get").is_none(), "nothing left");
    assert!(
        logs.line_with(&["b-backwards", "ERROR", "renew_before after metadata.expires_at"])
            .is_some(),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn a106_an_asynchronous_bind_with_renew_before_after_expires_at_fails() {
    let (broker, kit) = started().await;
    let binding = kit.client().instance("i-later").binding("b-bad");
    let parameters: serde_json::Value = serde_json::from_str(BACKWARDS).expect("json");
    let outcome = binding.bind(&bind_req(LATER, parameters)).await.expect("202");
    assert!(outcome.is_accepted(), "{outcome:?}");
    let e = binding.wait(&outcome).await.expect_err("the operation fails");
    assert!(
        e.to_string().contains("renew_before is after its expires_at"),
        "{e}"
    );
    // failed ⇒ orphan mitigation unbinds it
    assert_eq!(broker.count("unbind"), 1);
}

#[tokio::test]
async fn a106_consistent_metadata_arrives_as_the_broker_wrote_it() {
    let (_, kit) = started().await;
    let binding = kit.client().instance("i-rot").binding("b-ok");
    let bound = binding
        .bind(&bind_req(
            ROT,
            json!({ "expires_at": "2999-01-01T00:00:00Z", "renew_before": "2999-01-01T00:00:00.000+00:00" }),
        ))
        .await
        .expect("renew_before == expires_at is allowed");
    let m = bound.response().metadata.clone().expect("metadata");
    assert_eq!(
        m.expires_at.map(|t| t.to_string()).as_deref(),
        Some("2999-01-01T00:00:00Z")
    );
    assert_eq!(
        m.renew_before.map(|t| t.to_string()).as_deref(),
        Some("2999-01-01T00:00:00.000Z")
    );
}

#[tokio::test]
async fn b61_renew_if_due_rotates_only_once_renew_before_is_reached() {
    let (broker, kit) = started().await;
    let old = kit.client().instance("i-rot").binding("b-old");
    let bound = old
        .bind(&bind_req(
            ROT,
            json!({ "expires_at": "2999-01-01T00:00:00.0Z", "renew_before": "2998-01-01T00:00:00.0Z" }),
        ))
        .await
        .expect("bind");
    let metadata = bound.response().metadata.clone();
    let before: Timestamp = "2997-12-31T23:59:59.9Z".parse().expect("ts");
    let none = old
        .renew_if_due(metadata.as_ref(), before, "b-new", SVC, ROT)
        .await
        .expect("not due");
    assert!(none.is_none());
    assert_eq!(broker.count("rotate"), 0, "nothing was sent");
    let due: Timestamp = "2998-01-01T00:00:00.0Z".parse().expect("ts");
    let rotated = old
        .renew_if_due(metadata.as_ref(), due, "b-new", SVC, ROT)
        .await
        .expect("due")
        .expect("rotated");
    assert_eq!(user(&rotated.outcome), "b-new");
    assert_eq!(broker.count("rotate"), 1);
    let expired: Timestamp = "2999-01-01T00:00:00.0Z".parse().expect("ts");
    let e = old
        .renew_if_due(metadata.as_ref(), expired, "b-newer", SVC, ROT)
        .await
        .expect_err("expired");
    assert!(matches!(e, osb_client::Error::InvalidRequest(_)), "{e}");
    assert_eq!(
        broker.count("rotate"),
        1,
        "an expired binding is never sent for rotation"
    );
}
