//! Concurrent requests through the real client and server (CHECKLIST A24, A72, A136).

use std::time::Duration;

use futures_util::future::join_all;
use osb_client::types::{ProvisionRequest, UpdateRequest};
use osb_client::{DeprovisionOutcome, ProvisionOutcome, UpdateOutcome};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Server};
use osb_tests::e2e::{Recorder, client, fast_wait, from_json};
use osb_tests::{PASSWORD, USER, echo_broker, echo_ids};
use serde_json::json;

#[derive(Debug, Clone, Default)]
struct Counting {
    rec: Recorder,
}

impl Broker for Counting {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "counting",
            "Counts provisions",
            vec![ServicePlan::new("plan", "plan", "The plan")],
        )])
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        _req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.rec.push("provision", json!(ctx.instance_id().as_str()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(Provisioned::done())
    }

    async fn deprovision(
        &self,
        _ctx: &RequestContext,
        _req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a24_200_concurrent_provisions_of_distinct_ids_all_succeed() {
    let running = echo_broker().await;
    let c = client(&running);
    let req = ProvisionRequest::new(echo_ids::SERVICE, echo_ids::SMALL).with_org_space("org-1", "space-1");
    let answers = join_all((0..200).map(|n| {
        let i = c.instance(format!("many-{n}"));
        let req = req.clone();
        async move { i.provision(&req).await }
    }))
    .await;
    let created = answers
        .iter()
        .filter(|a| matches!(a, Ok(ProvisionOutcome::Created(_))))
        .count();
    assert_eq!(created, 200, "{:?}", answers.iter().find(|a| a.is_err()));
    for n in [0, 99, 199] {
        c.instance(format!("many-{n}"))
            .get()
            .await
            .expect("instance exists");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a53_50_identical_concurrent_provisions_run_the_broker_once() {
    let broker = Counting::default();
    let rec = broker.rec.clone();
    let running = Server::new(broker)
        .basic_auth(USER, PASSWORD)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    let c = client(&running);
    let req = ProvisionRequest::new("svc", "plan").with_org_space("org-1", "space-1");
    let answers = join_all((0..50).map(|_| {
        let i = c.instance("same");
        let req = req.clone();
        async move { i.provision(&req).await }
    }))
    .await;
    let (mut created, mut existed, mut accepted, mut other) = (0, 0, 0, Vec::new());
    for a in answers {
        match a {
            Ok(ProvisionOutcome::Created(_)) => created += 1,
            Ok(ProvisionOutcome::AlreadyExists(_)) => existed += 1,
            Ok(ProvisionOutcome::Accepted { .. }) => accepted += 1,
            other_answer => other.push(format!("{other_answer:?}")),
        }
    }
    assert!(other.is_empty(), "only 201/200/202 expected: {other:?}");
    assert_eq!(created + existed + accepted, 50);
    assert_eq!(created, 1, "exactly one 201 (200: {existed}, 202: {accepted})");
    assert_eq!(rec.count("provision"), 1, "the broker's provision ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a72_concurrent_update_and_deprovision_one_is_concurrency_error() {
    let running = echo_broker().await;
    let c = client(&running);
    let i = c.instance("race");
    let p = i
        .provision(
            &ProvisionRequest::new(echo_ids::SERVICE, echo_ids::LARGE).with_org_space("org-1", "space-1"),
        )
        .await
        .expect("provision");
    i.wait_with(&p, &fast_wait()).await.expect("provisioned");
    let upd: UpdateRequest = from_json(json!({"service_id": echo_ids::SERVICE, "parameters": {"a": 1}}));
    let (u, d) = tokio::join!(i.update(&upd), i.deprovision(echo_ids::SERVICE, echo_ids::LARGE));
    let conc = [
        u.as_ref()
            .err()
            .is_some_and(osb_client::Error::is_concurrency_error),
        d.as_ref()
            .err()
            .is_some_and(osb_client::Error::is_concurrency_error),
    ];
    assert_eq!(
        conc.iter().filter(|x| **x).count(),
        1,
        "exactly one 422 ConcurrencyError: update {u:?}, deprovision {d:?}"
    );
    let ok_u = matches!(u, Ok(UpdateOutcome::Accepted { .. }));
    let ok_d = matches!(d, Ok(DeprovisionOutcome::Accepted { .. }));
    assert!(ok_u ^ ok_d, "the other was accepted: {u:?} {d:?}");
    if let Err(e) = &d {
        assert!(e.orphan_mitigation().is_none(), "B80: {e:?}");
    }
}
