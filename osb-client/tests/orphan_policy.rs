//! The orphan-mitigation policy (B76 "keep trying", B77 platform-internal errors, B78) against
//! a stub broker: retries with backoff, polling after a `202`, the time budget, and the
//! outcome reported in the error.

mod support;

use std::time::{Duration, Instant};

use osb_client::types::identity::CloudFoundryIdentity;
use osb_client::types::{OriginatingIdentity, ProvisionRequest};
use osb_client::{MitigationResult, MitigationTarget, OrphanMitigation};
use support::{Recorded, Reply, Stub};

fn quick() -> OrphanMitigation {
    OrphanMitigation::default()
        .retry_delay(Duration::from_millis(20))
        .poll_interval(Duration::from_millis(10))
        .max_duration(Duration::from_secs(20))
}

fn of(stub: &Stub, method: &str) -> Vec<Recorded> {
    stub.requests()
        .into_iter()
        .filter(|r| r.method == method)
        .collect()
}

/// PUT → 500; DELETE and last_operation answered by `delete(n)` / `poll(n)` (n-th of each).
async fn failing_provision(
    delete: impl Fn(usize) -> Reply + Send + Sync + 'static,
    poll: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> Stub {
    let counts = std::sync::Arc::new(std::sync::Mutex::new((0usize, 0usize)));
    Stub::start(move |r, _| {
        let mut c = counts.lock().unwrap();
        if r.path.ends_with("last_operation") {
            c.1 += 1;
            poll(c.1 - 1)
        } else if r.method == "DELETE" {
            c.0 += 1;
            delete(c.0 - 1)
        } else {
            Reply::json(500, r#"{"description":"provision blew up"}"#)
        }
    })
    .await
}

async fn provision(stub: &Stub, policy: OrphanMitigation) -> osb_client::Error {
    stub.client()
        .orphan_mitigation(policy)
        .originating_identity(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("u")))
        .build()
        .unwrap()
        .instance("i-1")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn b76_mitigation_retries_with_growing_pauses_until_the_broker_succeeds() {
    let stub = failing_provision(
        |n| {
            if n < 3 {
                Reply::json(503, "busy")
            } else {
                Reply::json(200, "{}")
            }
        },
        |_| Reply::json(500, "{}"),
    )
    .await;
    let policy = quick().retry_delay(Duration::from_millis(40)).backoff(2.0);
    let err = provision(&stub, policy).await;
    let om = err.orphan_mitigation().unwrap();
    assert_eq!(om.result, MitigationResult::Deleted);
    assert_eq!(om.attempts, 4);
    assert!(!err.needs_orphan_mitigation());
    assert!(
        err.to_string()
            .ends_with("(orphan mitigation: deprovision of i-1 succeeded (4 attempt(s)))"),
        "{err}"
    );
    let d = of(&stub, "DELETE");
    assert_eq!(d.len(), 4);
    // pauses of at least 40, 80 and 160 ms (sleeps never end early; no upper bounds)
    let gaps: Vec<Duration> = d.windows(2).map(|w| w[1].at - w[0].at).collect();
    for (gap, min) in gaps.iter().zip([40u64, 80, 160]) {
        assert!(*gap >= Duration::from_millis(min), "{gaps:?}");
    }
    for r in &d {
        assert_eq!(r.path, "/v2/service_instances/i-1");
        assert_eq!(r.param("service_id").as_deref(), Some("s"));
        assert_eq!(r.param("plan_id").as_deref(), Some("p"));
        assert!(r.header("x-broker-api-originating-identity").is_none(), "B78");
    }
}

#[test]
fn b76_default_policy_keeps_trying_for_minutes_with_capped_backoff() {
    let p = OrphanMitigation::default();
    assert!(p.enabled);
    assert_eq!(p.max_duration, Duration::from_secs(300));
    let pauses: Vec<u64> = (1..=8).map(|a| p.delay_after(a).as_secs()).collect();
    assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30, 30]);
    let total: Duration = (1..p.max_attempts).map(|a| p.delay_after(a)).sum();
    assert!(
        total >= p.max_duration,
        "attempts alone do not end it early: {total:?}"
    );
    let flat = p.backoff(0.5);
    assert_eq!(
        flat.delay_after(5),
        Duration::from_secs(1),
        "backoff below 1 counts as 1"
    );
}

#[tokio::test]
async fn b76_a_202_to_the_mitigation_delete_is_polled_until_succeeded() {
    let stub = failing_provision(
        |_| Reply::json(202, r#"{"operation":"om 1"}"#),
        |n| {
            if n < 2 {
                Reply::json(200, r#"{"state":"in progress"}"#)
            } else {
                Reply::json(200, r#"{"state":"succeeded"}"#)
            }
        },
    )
    .await;
    let err = provision(&stub, quick()).await;
    let om = err.orphan_mitigation().unwrap();
    assert_eq!(om.result, MitigationResult::Deleted);
    assert_eq!(om.attempts, 1);
    let polls: Vec<Recorded> = of(&stub, "GET");
    assert_eq!(polls.len(), 3);
    for r in &polls {
        assert_eq!(r.path, "/v2/service_instances/i-1/last_operation");
        assert_eq!(r.param("operation").as_deref(), Some("om 1"));
        assert_eq!(r.param("service_id").as_deref(), Some("s"));
        assert_eq!(r.param("plan_id").as_deref(), Some("p"));
        assert!(r.header("x-broker-api-originating-identity").is_none());
    }
}

#[tokio::test]
async fn b76_a_202_then_410_is_gone_and_a_202_then_failed_deletes_again() {
    let stub = failing_provision(|_| Reply::json(202, "{}"), |_| Reply::json(410, "{}")).await;
    let err = provision(&stub, quick()).await;
    assert_eq!(
        err.orphan_mitigation().unwrap().result,
        MitigationResult::AlreadyGone
    );

    let stub = failing_provision(
        |n| {
            if n == 0 {
                Reply::json(202, r#"{"operation":"x"}"#)
            } else {
                Reply::json(200, "{}")
            }
        },
        |_| Reply::json(200, r#"{"state":"failed","description":"stuck volume"}"#),
    )
    .await;
    let err = provision(&stub, quick()).await;
    let om = err.orphan_mitigation().unwrap();
    assert_eq!(om.result, MitigationResult::Deleted);
    assert_eq!(om.attempts, 2, "the failed asynchronous delete was sent again");
    assert_eq!(of(&stub, "DELETE").len(), 2);
}

#[tokio::test]
async fn b76_mitigation_gives_up_when_the_time_allowed_runs_out() {
    let stub = failing_provision(
        |_| Reply::json(500, r#"{"description":"still broken"}"#),
        |_| Reply::json(500, "{}"),
    )
    .await;
    let policy = quick()
        .max_attempts(1000)
        .retry_delay(Duration::from_millis(50))
        .backoff(1.0)
        .max_duration(Duration::from_millis(400));
    let t = Instant::now();
    let err = provision(&stub, policy).await;
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "bounded: {:?}",
        t.elapsed()
    );
    let om = err.orphan_mitigation().unwrap();
    let MitigationResult::Failed { message } = &om.result else {
        panic!("{om:?}")
    };
    assert_eq!(
        without_request_identities(message),
        "broker answered 500: still broken"
    );
    assert!(om.attempts >= 2 && om.attempts < 1000, "{}", om.attempts);
    assert_eq!(of(&stub, "DELETE").len() as u32, om.attempts);
    assert!(err.needs_orphan_mitigation());
    assert!(
        without_request_identities(&err.to_string()).contains(&format!(
            "orphan mitigation: deprovision of i-1 failed after {} attempt(s): broker answered 500: still broken",
            om.attempts
        )),
        "{err}"
    );
}

#[tokio::test]
async fn b76_an_accepted_delete_still_in_progress_at_the_deadline_is_reported() {
    let stub = failing_provision(
        |_| Reply::json(202, r#"{"operation":"slow"}"#),
        |_| Reply::json(200, r#"{"state":"in progress"}"#),
    )
    .await;
    let policy = quick().max_duration(Duration::from_millis(300));
    let err = provision(&stub, policy).await;
    let om = err.orphan_mitigation().unwrap();
    assert_eq!(
        om.result,
        MitigationResult::Failed {
            message: "the DELETE was accepted (202) but had not finished when the time allowed ran out"
                .to_owned()
        }
    );
    assert!(err.needs_orphan_mitigation());
}

#[tokio::test]
async fn b76_max_attempts_bounds_the_deletes() {
    let stub = failing_provision(|_| Reply::json(500, "{}"), |_| Reply::json(500, "{}")).await;
    let err = provision(&stub, quick().max_attempts(2)).await;
    assert_eq!(err.orphan_mitigation().unwrap().attempts, 2);
    assert_eq!(of(&stub, "DELETE").len(), 2);
    // zero counts as one
    let stub = failing_provision(|_| Reply::json(500, "{}"), |_| Reply::json(500, "{}")).await;
    let err = provision(&stub, quick().max_attempts(0)).await;
    assert_eq!(err.orphan_mitigation().unwrap().attempts, 1);
}

#[tokio::test]
async fn b77_disabled_policy_says_mitigation_is_needed_and_the_caller_can_do_it() {
    let stub = failing_provision(|_| Reply::json(200, "{}"), |_| Reply::json(500, "{}")).await;
    let client = stub
        .client()
        .orphan_mitigation(OrphanMitigation::disabled().retry_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    let inst = client.instance("i-1");
    let err = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert!(err.needs_orphan_mitigation());
    let om = err.orphan_mitigation().unwrap();
    assert_eq!(om.target, MitigationTarget::Instance("i-1".into()));
    assert_eq!(om.result, MitigationResult::Disabled);
    assert_eq!(
        without_request_identities(&err.to_string()),
        "broker answered 500: provision blew up (orphan mitigation: deprovision of i-1 needed but not \
         performed (the policy is disabled))"
    );
    assert!(of(&stub, "DELETE").is_empty());

    // the caller mitigates when it sees fit (also for platform-internal errors, B77)
    let done = inst.orphan_mitigate("s", "p").await;
    assert_eq!(done.result, MitigationResult::Deleted);
    assert!(done.succeeded());
    let d = of(&stub, "DELETE");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].param("plan_id").as_deref(), Some("p"));
}

#[tokio::test]
async fn b77_binding_orphan_mitigate_unbinds_and_polls() {
    let stub = Stub::start(|r, _| {
        if r.path.ends_with("last_operation") {
            Reply::json(200, r#"{"state":"succeeded"}"#)
        } else {
            Reply::json(202, r#"{"operation":"ub"}"#)
        }
    })
    .await;
    let client = stub.client().orphan_mitigation(quick()).build().unwrap();
    let done = client.instance("i").binding("b").orphan_mitigate("s", "p").await;
    assert_eq!(done.result, MitigationResult::Deleted);
    assert_eq!(
        done.target,
        MitigationTarget::Binding {
            instance: "i".into(),
            binding: "b".into()
        }
    );
    let reqs = stub.requests();
    assert_eq!(reqs[0].method, "DELETE");
    assert_eq!(reqs[0].path, "/v2/service_instances/i/service_bindings/b");
    assert_eq!(reqs[0].param("accepts_incomplete").as_deref(), Some("true"));
    assert_eq!(
        reqs[1].path,
        "/v2/service_instances/i/service_bindings/b/last_operation"
    );
    assert_eq!(reqs[1].param("operation").as_deref(), Some("ub"));

    // empty ids: nothing is sent
    let skipped = client.instance("i").orphan_mitigate("s", "").await;
    assert!(matches!(skipped.result, MitigationResult::Skipped { .. }));
    assert_eq!(skipped.attempts, 0);
    assert!(skipped.still_needed());
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn b80_concurrency_error_is_still_never_mitigated_with_the_new_policy() {
    let stub = Stub::script(vec![Reply::json(422, r#"{"error":"ConcurrencyError"}"#)]).await;
    let err = provision(&stub, quick()).await;
    assert!(err.is_concurrency_error());
    assert!(err.orphan_mitigation().is_none());
    assert!(!err.needs_orphan_mitigation());
    assert_eq!(stub.requests().len(), 1);
}

/// `text` without the ` (request identity <id>)` each broker error names (one per request).
fn without_request_identities(text: &str) -> String {
    let mut out = text.to_owned();
    while let Some(start) = out.find(" (request identity ") {
        let end = start + out[start..].find(')').expect("closed");
        out.replace_range(start..=end, "");
    }
    out
}
