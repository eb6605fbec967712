//! Platform duties (CHECKLIST B) through the real client and a hand-written recording broker:
//! polling, maximum polling duration, orphan mitigation and when not to mitigate.

use std::time::Duration;

use osb_client::types::ProvisionRequest;
use osb_client::{Client, ProvisionOutcome};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, Server};
use osb_tests::e2e::{Recorder, client, fast_wait};
use osb_tests::{PASSWORD, USER};
use serde_json::json;

const SVC: &str = "duty-svc";
const PLAN: &str = "duty-plan";
const FOREVER: &str = "forever-plan";

#[derive(Debug, Clone, Default)]
struct Duty {
    rec: Recorder,
}

impl Broker for Duty {
    fn catalog(&self) -> Catalog {
        let mut forever = ServicePlan::new(FOREVER, "forever", "Never finishes");
        forever.maximum_polling_duration = Some(1);
        Catalog::new(vec![ServiceOffering::new(
            SVC,
            "duty",
            "Misbehaves on request",
            vec![ServicePlan::new(PLAN, "plan", "The plan"), forever],
        )])
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
    ProvisionRequest::new(SVC, plan)
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
    let om = e.orphan_mitigation().expect("mitigation after a 5xx");
    assert!(om.succeeded(), "the mitigation DELETE was answered: {om:?}");
    // The runtime has no record of a failed provision, so it answers the DELETE (410) itself:
    // the broker's `deprovision` is not called (see the report, issue 6).
    assert_eq!(rec.count("provision"), 1);
}

#[tokio::test]
async fn b77_provision_timeout_triggers_orphan_mitigation() {
    let (running, rec) = start().await;
    let c = Client::builder(running.url())
        .basic_auth(USER, PASSWORD)
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
    let (running, _rec) = start().await;
    let c = client(&running);
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
}

#[tokio::test]
async fn b31_polling_honours_retry_after_of_the_async_plan() {
    let running = osb_tests::echo_broker().await;
    let i = client(&running).instance("ra-1");
    let out = i
        .provision(&ProvisionRequest::new(
            osb_tests::echo_ids::SERVICE,
            osb_tests::echo_ids::LARGE,
        ))
        .await
        .expect("202");
    let ProvisionOutcome::Accepted { pending, .. } = &out else {
        panic!("{out:?}")
    };
    let params = osb_types::operation::LastOperationParams {
        service_id: pending.service_id.clone(),
        plan_id: pending.plan_id.clone(),
        operation: pending.operation.clone(),
    };
    if let osb_client::LastOperation::Reported {
        response,
        retry_after,
    } = i.last_operation(&params).await.expect("poll")
    {
        if response.state == osb_types::operation::OperationState::InProgress {
            assert_eq!(retry_after, Some(Duration::from_secs(1)), "plan's Retry-After");
        }
    }
    i.wait_with(&out, &fast_wait()).await.expect("completes");
}
