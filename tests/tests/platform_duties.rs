//! Platform duties (CHECKLIST B) through the real client and a hand-written recording broker:
//! polling, maximum polling duration, orphan mitigation and when not to mitigate.

use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use osb_client::types::{BindRequest, ProvisionRequest};
use osb_client::{BindOutcome, MitigationTarget, ProvisionOutcome, UnbindOutcome};
use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::{Catalog, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
use osb_tests::e2e::{Recorder, builder, client, fast_wait, quick_mitigation};
use osb_tests::{PASSWORD, USER};
use serde_json::json;

const SVC: &str = "duty-svc";
const PLAN: &str = "duty-plan";
const FOREVER: &str = "forever-plan";
const FAILING: &str = "failing-plan";

#[derive(Debug, Clone, Default)]
struct Duty {
    rec: Recorder,
    unbind_failures: Arc<AtomicU32>,
}

impl Broker for Duty {
    fn catalog(&self) -> Catalog {
        let mut forever = ServicePlan::new(FOREVER, "forever", "Never finishes");
        forever.maximum_polling_duration = Some(1);
        let failing = ServicePlan::new(FAILING, "failing", "Asynchronous provisions fail");
        let mut offering = ServiceOffering::new(
            SVC,
            "duty",
            "Misbehaves on request",
            vec![ServicePlan::new(PLAN, "plan", "The plan"), forever, failing],
        )
        .bindable(true);
        offering.instances_retrievable = Some(true);
        offering.bindings_retrievable = Some(true);
        Catalog::new(vec![offering])
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        let id = ctx.instance_id().as_str().to_owned();
        self.rec.push("provision", json!(id));
        if req.plan_id.as_str() == FOREVER {
            return Ok(Provisioned::later(std::future::pending()));
        }
        if req.plan_id.as_str() == FAILING {
            return Ok(Provisioned::later(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(BrokerError::internal("late boom"))
            }));
        }
        if id.starts_with("fail5xx") {
            return Err(BrokerError::internal("boom"));
        }
        if id.starts_with("fail4xx") {
            return Err(BrokerError::bad_request("no such thing"));
        }
        if id.starts_with("conc") {
            return Err(BrokerError::concurrency_error());
        }
        if id.starts_with("slow") {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(Provisioned::done())
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        _req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.rec.push("deprovision", json!(ctx.instance_id().as_str()));
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, _req: BindRequest) -> Result<Bound, BrokerError> {
        let id = ctx.binding_id().as_str().to_owned();
        self.rec.push("bind", json!(id));
        if id.starts_with("fail5xx") {
            return Err(BrokerError::internal("bind boom"));
        }
        if id.starts_with("slow") {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(Bound::credentials(json!({"id": id})))
    }

    async fn unbind(&self, ctx: &RequestContext, _req: UnbindRequest) -> Result<Unbound, BrokerError> {
        let id = ctx.binding_id().as_str().to_owned();
        self.rec.push("unbind", json!(id));
        if id.starts_with("flaky") && self.unbind_failures.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(BrokerError::internal("unbind boom (once)"));
        }
        if id.starts_with("slowunbind") {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(Unbound::done())
    }
}

async fn start() -> (Running, Recorder) {
    let broker = Duty::default();
    let rec = broker.rec.clone();
    let running = Server::new(broker)
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    (running, rec)
}

fn req(plan: &str) -> ProvisionRequest {
    ProvisionRequest::new(SVC, plan).with_org_space("org-1", "space-1")
}

#[tokio::test]
async fn b79_provision_5xx_triggers_orphan_mitigation_deprovision() {
    let (running, rec) = start().await;
    let e = client(&running)
        .instance("fail5xx-1")
        .provision(&req(PLAN))
        .await
        .expect_err("500");
    assert_eq!(e.status(), Some(500), "{e:?}");
    assert_eq!(e.error_code().map(|c| c.as_str()), Some("InternalError"), "{e:?}");
    let om = e.orphan_mitigation().expect("mitigation after a 5xx");
    assert_eq!(om.target, MitigationTarget::Instance("fail5xx-1".into()));
    assert!(om.succeeded(), "the mitigation DELETE was answered: {om:?}");
    assert_eq!(rec.count("provision"), 1, "the provision is not retried");
    // The runtime keeps a failed record after a broker 5xx, so the mitigation DELETE
    // reaches the broker's `deprovision` (the broker may have created something).
    assert_eq!(
        rec.of("deprovision"),
        [json!("fail5xx-1")],
        "the broker saw the deprovision"
    );
    assert!(
        client(&running)
            .instance("fail5xx-1")
            .get_opt()
            .await
            .expect("get")
            .is_none(),
        "the Platform forgets the instance"
    );
}

#[tokio::test]
async fn b37_b79_failed_async_provision_is_deprovisioned_and_the_broker_sees_it() {
    let (running, rec) = start().await;
    let i = client(&running).instance("late-1");
    let out = i.provision(&req(FAILING)).await.expect("202");
    assert!(matches!(out, ProvisionOutcome::Accepted { .. }), "{out:?}");
    let e = i.wait_with(&out, &fast_wait()).await.expect_err("failed");
    assert!(matches!(e, osb_client::Error::OperationFailed { .. }), "{e:?}");
    let om = e.orphan_mitigation().expect("mitigation after `failed`");
    assert!(om.succeeded(), "{om:?}");
    assert_eq!(
        rec.of("deprovision"),
        [json!("late-1")],
        "the broker saw the deprovision"
    );
    assert!(i.get_opt().await.expect("get").is_none());
}

#[tokio::test]
async fn b77_provision_timeout_triggers_orphan_mitigation() {
    let (running, rec) = start().await;
    let c = builder(&running)
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let e = c
        .instance("slow-1")
        .provision(&req(PLAN))
        .await
        .expect_err("timeout");
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        e.orphan_mitigation().is_some(),
        "a mitigation DELETE was attempted after the timeout: {e:?}"
    );
    assert_eq!(rec.count("provision"), 1);
    assert_eq!(
        rec.of("deprovision"),
        [json!("slow-1")],
        "the broker saw the mitigation deprovision"
    );
}

#[tokio::test]
async fn b80_no_orphan_mitigation_after_concurrency_error() {
    let (running, rec) = start().await;
    let e = client(&running)
        .instance("conc-1")
        .provision(&req(PLAN))
        .await
        .expect_err("422");
    assert!(e.is_concurrency_error(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "{e:?}");
    assert_eq!(rec.count("deprovision"), 0);
}

#[tokio::test]
async fn b25_no_orphan_mitigation_after_a_4xx() {
    let (running, rec) = start().await;
    let e = client(&running)
        .instance("fail4xx-1")
        .provision(&req(PLAN))
        .await
        .expect_err("400");
    assert_eq!(e.status(), Some(400), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "{e:?}");
    assert_eq!(rec.count("deprovision"), 0);
}

#[tokio::test]
async fn b32_maximum_polling_duration_expiry_is_a_failure() {
    let (running, rec) = start().await;
    // The instance stays `Creating` forever, so every mitigation DELETE gets 422: try twice.
    let c = builder(&running)
        .orphan_mitigation(osb_client::OrphanMitigation {
            max_attempts: 2,
            ..quick_mitigation()
        })
        .build()
        .expect("client");
    let catalog = c.catalog().await.expect("catalog");
    let plan = catalog.services[0]
        .plans
        .iter()
        .find(|p| p.id.as_str() == FOREVER)
        .expect("forever plan")
        .clone();
    let i = c.instance("forever-1");
    let out = i.provision(&req(FOREVER)).await.expect("202");
    assert!(matches!(out, ProvisionOutcome::Accepted { .. }), "{out:?}");
    let e = i
        .wait_with(&out, &fast_wait().plan(&plan))
        .await
        .expect_err("never finishes");
    assert!(matches!(e, osb_client::Error::PollingTimedOut { .. }), "{e:?}");
    // B32: the expired operation counts as failed, so the provision is mitigated; the runtime
    // refuses to delete an instance that is still being created (422), so it is reported.
    let om = e.orphan_mitigation().expect("a mitigation was attempted");
    assert!(!om.succeeded(), "{om:?}");
    assert_eq!(rec.count("deprovision"), 0, "the broker never saw a delete");
}

#[tokio::test]
async fn b31_polling_honours_retry_after_of_the_async_plan() {
    // The large plan sends `Retry-After: 1` while in progress; its operations take 3 s here.
    let running = osb_tests::slow_echo_broker(Duration::from_secs(3)).await;
    let i = client(&running).instance("ra-1");
    let out = i
        .provision(
            &ProvisionRequest::new(osb_tests::echo_ids::SERVICE, osb_tests::echo_ids::LARGE)
                .with_org_space("org-1", "space-1"),
        )
        .await
        .expect("202");
    assert!(matches!(out, ProvisionOutcome::Accepted { .. }), "{out:?}");
    let in_progress = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&in_progress);
    // A 20 ms interval would poll about 150 times in 3 s; honouring Retry-After, about 3.
    let opts = fast_wait().on_progress(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let done = i.wait_with(&out, &opts).await.expect("completes");
    assert!(matches!(done, osb_client::WaitOutcome::Succeeded(_)), "{done:?}");
    let polls = in_progress.load(Ordering::SeqCst);
    assert!(
        (2..=6).contains(&polls),
        "{polls} `in progress` polls: the 1 s Retry-After replaced the 20 ms interval"
    );
}

async fn bound_instance(running: &Running) -> osb_client::InstanceApi {
    let i = client(running).instance("inst-ok");
    i.provision(&req(PLAN)).await.expect("provision");
    i
}

fn bind_req() -> BindRequest {
    BindRequest::new(SVC, PLAN)
}

#[tokio::test]
async fn b79_bind_5xx_triggers_orphan_mitigation_unbind() {
    let (running, rec) = start().await;
    let i = bound_instance(&running).await;
    let e = i.binding("fail5xx-b").bind(&bind_req()).await.expect_err("500");
    assert_eq!(e.status(), Some(500), "{e:?}");
    let om = e.orphan_mitigation().expect("mitigation after a 5xx");
    assert_eq!(
        om.target,
        MitigationTarget::Binding {
            instance: "inst-ok".into(),
            binding: "fail5xx-b".into()
        }
    );
    assert!(om.succeeded(), "{om:?}");
    assert_eq!(rec.count("bind"), 1);
    // As for provision: the failed record sends the mitigation unbind to the broker.
    assert_eq!(
        rec.of("unbind"),
        [json!("fail5xx-b")],
        "the broker saw the unbind"
    );
    assert!(i.binding("fail5xx-b").get_opt().await.expect("get").is_none());
    assert!(
        i.get_opt().await.expect("get").is_some(),
        "the instance is untouched"
    );
}

#[tokio::test]
async fn b79_bind_timeout_triggers_orphan_mitigation_and_the_broker_sees_the_unbind() {
    let (running, rec) = start().await;
    bound_instance(&running).await;
    let c = builder(&running)
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let b = c.instance("inst-ok").binding("slow-b");
    let e = b.bind(&bind_req()).await.expect_err("timeout");
    assert!(e.is_timeout(), "{e:?}");
    let om = e.orphan_mitigation().expect("mitigation after a bind timeout");
    // The bind is still running when the first unbind arrives (422 ConcurrencyError);
    // the mitigation keeps trying until the broker has created and deleted the binding.
    assert!(om.succeeded(), "{om:?}");
    assert_eq!(rec.of("bind"), [json!("slow-b")]);
    assert_eq!(
        rec.of("unbind"),
        [json!("slow-b")],
        "the broker saw the mitigation unbind"
    );
    assert!(
        client(&running)
            .instance("inst-ok")
            .binding("slow-b")
            .get_opt()
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn b79_unbind_5xx_is_repeated_as_orphan_mitigation() {
    let (running, rec) = start().await;
    let i = bound_instance(&running).await;
    let b = i.binding("flaky-b");
    assert!(matches!(
        b.bind(&bind_req()).await.expect("bind"),
        BindOutcome::Created(_)
    ));
    let e = b.unbind(SVC, PLAN).await.expect_err("500 once");
    assert_eq!(e.status(), Some(500), "{e:?}");
    let om = e.orphan_mitigation().expect("mitigation after an unbind 5xx");
    assert!(om.succeeded(), "the repeated unbind worked: {om:?}");
    assert_eq!(
        rec.count("unbind"),
        2,
        "the broker saw the unbind and its repetition"
    );
    assert!(
        b.get_opt().await.expect("get").is_none(),
        "B65: the binding is gone"
    );
}

#[tokio::test]
async fn b79_unbind_timeout_is_not_mitigated() {
    let (running, rec) = start().await;
    let i = bound_instance(&running).await;
    i.binding("slowunbind-b").bind(&bind_req()).await.expect("bind");
    let c = builder(&running)
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let e = c
        .instance("inst-ok")
        .binding("slowunbind-b")
        .unbind(SVC, PLAN)
        .await
        .expect_err("timeout");
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        e.orphan_mitigation().is_none(),
        "the table says no for an unbind timeout: {e:?}"
    );
    // The runtime finishes the unbind the client gave up on; a later identical unbind waits
    // for it and then finds nothing (410).
    let again = client(&running)
        .instance("inst-ok")
        .binding("slowunbind-b")
        .unbind(SVC, PLAN)
        .await
        .expect("unbind again");
    assert_eq!(again, UnbindOutcome::AlreadyGone);
    assert_eq!(
        rec.of("unbind"),
        [json!("slowunbind-b")],
        "no mitigation unbind was sent"
    );
}

#[tokio::test]
async fn b80_no_orphan_mitigation_after_a_bind_concurrency_error() {
    let (running, rec) = start().await;
    let i = bound_instance(&running).await;
    let slow = i.binding("slow-c");
    let other = i.binding("other-c");
    let r = bind_req();
    let (a, b) = tokio::join!(slow.bind(&r), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        other.bind(&bind_req()).await
    });
    assert!(matches!(a, Ok(BindOutcome::Created(_))), "{a:?}");
    let e = b.expect_err("422 while the other bind runs");
    assert!(e.is_concurrency_error(), "{e:?}");
    assert!(e.orphan_mitigation().is_none(), "{e:?}");
    assert_eq!(rec.count("unbind"), 0);
}
