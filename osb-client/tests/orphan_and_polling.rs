//! Orphan mitigation (CHECKLIST B.12) and polling (B.4) against a stub broker.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use osb_client::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_client::{
    DeprovisionOutcome, Error, MitigationResult, MitigationTarget, OperationKind, PendingOperation,
    ProvisionOutcome, UnbindOutcome, WaitOptions, WaitOutcome,
};
use support::{Recorded, Reply, Stub};

fn deletes(stub: &Stub) -> Vec<Recorded> {
    stub.requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect()
}

/// PUT answers with `first`, DELETE with 200.
async fn put_then_delete_ok(first: Reply) -> Stub {
    Stub::start(move |r, _| {
        if r.method == "DELETE" {
            Reply::json(200, "{}")
        } else {
            first.clone()
        }
    })
    .await
}

fn fast() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(10))
        .backoff(1.0)
}

#[tokio::test]
async fn b79_provision_5xx_triggers_deprovision() {
    let stub = put_then_delete_ok(Reply::json(500, r#"{"description":"boom"}"#)).await;
    let err = stub
        .client()
        .originating_identity(osb_client::types::OriginatingIdentity::CloudFoundry(
            osb_client::types::identity::CloudFoundryIdentity::new("u"),
        ))
        .build()
        .unwrap()
        .instance("i-1")
        .provision(&ProvisionRequest::new("svc-1", "plan-1").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    let om = err.orphan_mitigation().expect("mitigation done");
    assert_eq!(om.target, MitigationTarget::Instance("i-1".into()));
    assert_eq!(om.result, MitigationResult::Deleted);
    let d = deletes(&stub);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, "/v2/service_instances/i-1");
    assert_eq!(d[0].param("service_id").as_deref(), Some("svc-1"));
    assert_eq!(d[0].param("plan_id").as_deref(), Some("plan-1"));
    assert!(
        d[0].header("x-broker-api-originating-identity").is_none(),
        "B78: omitted on mitigation"
    );
    assert!(err.to_string().contains("boom"));
}

#[tokio::test]
async fn b79_provision_timeout_triggers_deprovision() {
    let stub = put_then_delete_ok(Reply::json(201, "{}").delay(Duration::from_millis(2000))).await;
    let client = stub.client().timeout(Duration::from_millis(300)).build().unwrap();
    let err = client
        .instance("i-1")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.orphan_mitigation().is_some());
    // the mitigation DELETE itself is answered quickly
    assert_eq!(deletes(&stub).len(), 1);
}

#[tokio::test]
async fn b79_provision_malformed_201_and_202_trigger_deprovision() {
    for status in [201, 202] {
        let stub = put_then_delete_ok(Reply::json(status, "this is not json")).await;
        let err = stub
            .client()
            .build()
            .unwrap()
            .instance("i")
            .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.orphan_mitigation().is_some(), "{status}");
        assert_eq!(deletes(&stub).len(), 1, "{status}");
    }
}

#[tokio::test]
async fn b79_provision_malformed_200_no_mitigation() {
    let stub = put_then_delete_ok(Reply::json(200, "[1,2")).await;
    let err = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }));
    assert!(err.orphan_mitigation().is_none());
    assert!(deletes(&stub).is_empty());
}

#[tokio::test]
async fn b79_provision_other_2xx_triggers_deprovision() {
    let stub = put_then_delete_ok(Reply::json(204, "")).await;
    let err = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedStatus { status: 204, .. }));
    assert_eq!(deletes(&stub).len(), 1);
}

#[tokio::test]
async fn b79_provision_4xx_and_408_no_mitigation() {
    for status in [400, 401, 408, 409, 410, 412, 422] {
        let stub = put_then_delete_ok(Reply::json(status, "{}")).await;
        let err = stub
            .client()
            .build()
            .unwrap()
            .instance("i")
            .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert!(err.orphan_mitigation().is_none());
        assert!(deletes(&stub).is_empty(), "{status}");
    }
}

#[tokio::test]
async fn b80_concurrency_error_never_mitigated() {
    let stub = put_then_delete_ok(Reply::json(
        422,
        r#"{"error":"ConcurrencyError","description":"busy"}"#,
    ))
    .await;
    let client = stub.client().build().unwrap();
    let e = client
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert!(e.is_concurrency_error());
    let e = client
        .instance("i")
        .binding("b")
        .bind(&BindRequest::new("s", "p"))
        .await
        .unwrap_err();
    assert!(e.is_concurrency_error());
    assert!(deletes(&stub).is_empty());
}

#[tokio::test]
async fn b79_update_never_mitigated() {
    for reply in [
        Reply::json(500, "{}"),
        Reply::json(204, ""),
        Reply::json(200, "garbage").delay(Duration::from_millis(2000)),
    ] {
        let stub = Stub::start(move |r, _| {
            if r.method == "PATCH" {
                reply.clone()
            } else {
                Reply::json(200, "{}")
            }
        })
        .await;
        let client = stub.client().timeout(Duration::from_millis(300)).build().unwrap();
        let err = client
            .instance("i")
            .update(&UpdateRequest::new("s"))
            .await
            .unwrap_err();
        assert!(err.orphan_mitigation().is_none());
        assert!(deletes(&stub).is_empty(), "{err}");
    }
}

#[tokio::test]
async fn b79_bind_5xx_timeout_malformed_trigger_unbind() {
    for reply in [
        Reply::json(503, "{}"),
        Reply::json(201, "nope"),
        Reply::json(201, "{}").delay(Duration::from_millis(2000)),
    ] {
        let stub = put_then_delete_ok(reply).await;
        let client = stub.client().timeout(Duration::from_millis(300)).build().unwrap();
        let err = client
            .instance("i")
            .binding("b")
            .bind(&BindRequest::new("s", "p"))
            .await
            .unwrap_err();
        let om = err.orphan_mitigation().expect("mitigated");
        assert!(matches!(om.target, MitigationTarget::Binding { .. }));
        let d = deletes(&stub);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "/v2/service_instances/i/service_bindings/b");
        assert_eq!(d[0].param("plan_id").as_deref(), Some("p"));
    }
}

#[tokio::test]
async fn b79_deprovision_5xx_retries_delete_but_timeout_does_not() {
    let stub = Stub::script(vec![Reply::json(500, "{}"), Reply::json(410, "{}")]).await;
    let err = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .deprovision("s", "p")
        .await
        .unwrap_err();
    assert_eq!(
        err.orphan_mitigation().unwrap().result,
        MitigationResult::AlreadyGone
    );
    assert_eq!(deletes(&stub).len(), 2);

    let stub = Stub::script(vec![Reply::json(200, "{}").delay(Duration::from_millis(2000))]).await;
    let err = stub
        .client()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .instance("i")
        .deprovision("s", "p")
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(err.orphan_mitigation().is_none());
}

#[tokio::test]
async fn b76_mitigation_keeps_trying_then_reports_failure() {
    let stub = Stub::script(vec![Reply::json(500, "{}")]).await;
    let policy = osb_client::OrphanMitigation {
        max_attempts: 3,
        retry_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let err = stub
        .client()
        .orphan_mitigation(policy)
        .build()
        .unwrap()
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    let om = err.orphan_mitigation().unwrap();
    assert!(matches!(om.result, MitigationResult::Failed { .. }), "{om:?}");
    assert_eq!(om.attempts, 3);
    assert!(err.needs_orphan_mitigation());
    assert_eq!(deletes(&stub).len(), 3);
}

#[tokio::test]
async fn b76_mitigation_can_be_turned_off() {
    let stub = put_then_delete_ok(Reply::json(500, "{}")).await;
    let client = stub
        .client()
        .orphan_mitigation(osb_client::OrphanMitigation::disabled())
        .build()
        .unwrap();
    let err = client
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    let om = err.orphan_mitigation().expect("reported as needed");
    assert_eq!(om.result, MitigationResult::Disabled);
    assert_eq!(om.attempts, 0);
    assert!(err.needs_orphan_mitigation());
    assert!(deletes(&stub).is_empty());
}

/// Provision answers 202; last_operation answers by index from `lo` (last repeats).
async fn async_broker(lo: Vec<Reply>) -> Stub {
    let n = Arc::new(AtomicU32::new(0));
    Stub::start(move |r, _| {
        if r.path.ends_with("/last_operation") {
            let i = n.fetch_add(1, Ordering::SeqCst) as usize;
            lo[i.min(lo.len() - 1)].clone()
        } else if r.method == "DELETE" {
            Reply::json(200, "{}")
        } else {
            Reply::json(202, r#"{"operation":"op 1/2"}"#)
        }
    })
    .await
}

#[tokio::test]
async fn b30_wait_polls_until_succeeded_with_progress_and_b29_hints() {
    let stub = async_broker(vec![
        Reply::json(200, r#"{"state":"in progress","description":"1/2"}"#),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let seen = Arc::new(AtomicU32::new(0));
    let s2 = seen.clone();
    let r = inst
        .wait_with(
            &out,
            &fast().on_progress(move |p| {
                assert_eq!(p.description.as_deref(), Some("1/2"));
                s2.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .await
        .unwrap();
    assert!(matches!(r, WaitOutcome::Succeeded(_)));
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    let polls: Vec<_> = stub
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("last_operation"))
        .collect();
    assert_eq!(polls.len(), 2);
    assert_eq!(polls[0].param("operation").as_deref(), Some("op 1/2"));
    assert_eq!(polls[0].param("service_id").as_deref(), Some("s"));
    assert_eq!(polls[0].param("plan_id").as_deref(), Some("p"));
    // synchronous outcomes need no polling
    assert_eq!(
        inst.wait(&ProvisionOutcome::Created(Default::default()))
            .await
            .unwrap(),
        WaitOutcome::Completed
    );
}

#[tokio::test]
async fn b31_retry_after_seconds_honoured() {
    let stub = async_broker(vec![
        Reply::json(200, r#"{"state":"in progress"}"#).header("Retry-After", "1"),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let t = Instant::now();
    inst.wait_with(&out, &fast()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(950), "{:?}", t.elapsed());
}

#[tokio::test]
async fn b31_retry_after_http_date_honoured() {
    let when = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let stub = async_broker(vec![
        Reply::json(200, r#"{"state":"in progress"}"#).header("Retry-After", &when),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let t = Instant::now();
    inst.wait_with(&out, &fast()).await.unwrap();
    // HTTP-dates have one-second resolution
    assert!(t.elapsed() >= Duration::from_millis(900), "{:?}", t.elapsed());
}

#[tokio::test]
async fn b31_absurd_retry_after_ends_at_the_polling_deadline_without_panicking() {
    // u64::MAX seconds: adding it to an Instant or to the elapsed time would overflow.
    let stub = async_broker(vec![
        Reply::json(200, r#"{"state":"in progress"}"#).header("Retry-After", "18446744073709551615"),
    ])
    .await;
    let inst = stub
        .client()
        .orphan_mitigation(osb_client::OrphanMitigation::disabled())
        .build()
        .unwrap()
        .instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let err = inst
        .wait_with(&out, &fast().max_duration(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PollingTimedOut { .. }), "{err}");
    assert!(err.needs_orphan_mitigation(), "{err:?}");
    let polls = stub
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/last_operation"))
        .count();
    assert_eq!(
        polls, 1,
        "the Retry-After was honoured: no second poll before the deadline"
    );
}

#[tokio::test]
async fn b32_maximum_polling_duration_means_failed_and_mitigates_provision() {
    let stub = async_broker(vec![Reply::json(200, r#"{"state":"in progress"}"#)]).await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let mut plan: osb_client::types::ServicePlan =
        serde_json::from_str(r#"{"id":"p","name":"n","description":"d"}"#).unwrap();
    plan.maximum_polling_duration = Some(1);
    // The plan's 1 s applies, not the platform's 30 s: the hang guard (15 s) sits between.
    let t = Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(15),
        inst.wait_with(&out, &fast().max_duration(Duration::from_secs(30)).plan(&plan)),
    )
    .await
    .expect("stopped at the plan's maximum_polling_duration, not the platform's 30 s")
    .unwrap_err();
    assert!(matches!(err, Error::PollingTimedOut { .. }), "{err}");
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "polled for the whole second"
    );
    assert!(err.orphan_mitigation().is_some());
    // platform limit smaller than the plan's wins (200 ms, not 100 s)
    plan.maximum_polling_duration = Some(100);
    let err = tokio::time::timeout(
        Duration::from_secs(15),
        inst.wait_with(&out, &fast().max_duration(Duration::from_millis(200)).plan(&plan)),
    )
    .await
    .expect("stopped at the platform's 200 ms, not the plan's 100 s")
    .unwrap_err();
    assert!(err.is_timeout());
}

#[tokio::test]
async fn b37_failed_provision_triggers_deprovision() {
    let stub = async_broker(vec![Reply::json(
        200,
        r#"{"state":"failed","description":"no capacity"}"#,
    )])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let err = inst.wait_with(&out, &fast()).await.unwrap_err();
    match &err {
        Error::OperationFailed {
            response,
            orphan_mitigation,
            ..
        } => {
            assert_eq!(response.description.as_deref(), Some("no capacity"));
            assert_eq!(
                orphan_mitigation.as_ref().unwrap().result,
                MitigationResult::Deleted
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("no capacity"));
    assert_eq!(deletes(&stub).len(), 1);
}

#[tokio::test]
async fn b37_failed_update_is_not_mitigated() {
    let stub = async_broker(vec![Reply::json(
        200,
        r#"{"state":"failed","instance_usable":true}"#,
    )])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let pending = PendingOperation::new(OperationKind::Update, Some("u".into())).with_ids("s", "p");
    let err = inst.wait_with(&pending, &fast()).await.unwrap_err();
    assert!(err.orphan_mitigation().is_none());
    assert!(deletes(&stub).is_empty());
}

#[tokio::test]
async fn b33_410_while_polling_delete_is_success() {
    let stub = Stub::start(|r, _| {
        if r.path.ends_with("last_operation") {
            Reply::json(410, "{}")
        } else {
            Reply::json(202, r#"{"operation":"d"}"#)
        }
    })
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst.deprovision("s", "p").await.unwrap();
    assert!(matches!(out, DeprovisionOutcome::Accepted { .. }));
    assert_eq!(inst.wait_with(&out, &fast()).await.unwrap(), WaitOutcome::Gone);
}

#[tokio::test]
async fn b33_410_while_polling_create_keeps_polling() {
    let stub = async_broker(vec![
        Reply::json(410, "{}"),
        Reply::json(410, "{}"),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    assert!(matches!(
        inst.wait_with(&out, &fast()).await.unwrap(),
        WaitOutcome::Succeeded(_)
    ));
    assert_eq!(
        stub.requests()
            .iter()
            .filter(|r| r.path.ends_with("last_operation"))
            .count(),
        3
    );
}

#[tokio::test]
async fn b35_invalid_answers_while_polling_keep_polling() {
    let stub = async_broker(vec![
        Reply::json(500, "{}"),
        Reply::json(200, "not json"),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    assert!(matches!(
        inst.wait_with(&out, &fast()).await.unwrap(),
        WaitOutcome::Succeeded(_)
    ));
}

#[tokio::test]
async fn b34_binding_410_while_polling_unbind_is_success_and_failed_bind_unbinds() {
    let stub = Stub::start(|r, _| {
        if r.path.ends_with("last_operation") {
            if r.param("operation").as_deref() == Some("unbind-op") {
                Reply::json(410, "{}")
            } else {
                Reply::json(200, r#"{"state":"failed"}"#)
            }
        } else if r.method == "DELETE" {
            Reply::json(202, r#"{"operation":"unbind-op"}"#)
        } else {
            Reply::json(202, r#"{"operation":"bind-op"}"#)
        }
    })
    .await;
    let b = stub.client().build().unwrap().instance("i").binding("b");
    let out = b.unbind("s", "p").await.unwrap();
    assert!(matches!(out, UnbindOutcome::Accepted { .. }));
    assert_eq!(b.wait_with(&out, &fast()).await.unwrap(), WaitOutcome::Gone);

    let out = b.bind(&BindRequest::new("s", "p")).await.unwrap();
    let err = b.wait_with(&out, &fast()).await.unwrap_err();
    let om = err.orphan_mitigation().unwrap();
    assert!(matches!(om.target, MitigationTarget::Binding { .. }));
    // the mitigation unbind answered 202 and was polled: 410 for "unbind-op" = gone
    assert_eq!(om.result, MitigationResult::AlreadyGone);
    assert!(!err.needs_orphan_mitigation());
}

#[tokio::test]
async fn wait_is_cancelled_by_dropping_the_future() {
    let stub = async_broker(vec![Reply::json(200, r#"{"state":"in progress"}"#)]).await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_millis(100), inst.wait_with(&out, &fast())).await;
    assert!(r.is_err());
    // a request already on the wire when the future was dropped may still be recorded
    tokio::time::sleep(Duration::from_millis(50)).await;
    let n = stub.requests().len();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stub.requests().len(), n, "no polling after drop");
}

// ------------------------------------------------ B79: the remaining table rows, one per test

fn bind(stub: &Stub, timeout: Duration) -> osb_client::BindingApi {
    stub.client()
        .timeout(timeout)
        .build()
        .unwrap()
        .instance("i")
        .binding("b")
}

const BINDING_PATH: &str = "/v2/service_instances/i/service_bindings/b";

#[tokio::test]
async fn b79_bind_malformed_202_triggers_unbind() {
    let stub = put_then_delete_ok(Reply::json(202, "{not json")).await;
    let err = bind(&stub, Duration::from_secs(5))
        .bind(&BindRequest::new("s", "p"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { status: 202, .. }), "{err}");
    let om = err.orphan_mitigation().expect("mitigated");
    assert_eq!(
        om.target,
        MitigationTarget::Binding {
            instance: "i".into(),
            binding: "b".into()
        }
    );
    assert_eq!(om.result, MitigationResult::Deleted);
    let d = deletes(&stub);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, BINDING_PATH);
    assert_eq!(d[0].param("service_id").as_deref(), Some("s"));
}

#[tokio::test]
async fn b79_bind_other_2xx_triggers_unbind() {
    for status in [204, 206] {
        let stub = put_then_delete_ok(Reply::json(status, "")).await;
        let err = bind(&stub, Duration::from_secs(5))
            .bind(&BindRequest::new("s", "p"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedStatus { status: s, .. } if s == status),
            "{err}"
        );
        assert!(err.orphan_mitigation().unwrap().succeeded());
        assert_eq!(deletes(&stub).len(), 1, "{status}");
        assert_eq!(deletes(&stub)[0].path, BINDING_PATH);
    }
}

#[tokio::test]
async fn b79_bind_malformed_200_and_4xx_no_mitigation() {
    for reply in [
        Reply::json(200, "]["),
        Reply::json(400, "{}"),
        Reply::json(408, "{}"),
        Reply::json(409, "{}"),
    ] {
        let stub = put_then_delete_ok(reply).await;
        let err = bind(&stub, Duration::from_secs(5))
            .bind(&BindRequest::new("s", "p"))
            .await
            .unwrap_err();
        assert!(err.orphan_mitigation().is_none(), "{err}");
        assert!(deletes(&stub).is_empty(), "{err}");
    }
}

#[tokio::test]
async fn b79_unbind_5xx_triggers_another_unbind() {
    let stub = Stub::script(vec![Reply::json(502, "bad gateway"), Reply::json(200, "{}")]).await;
    let err = bind(&stub, Duration::from_secs(5))
        .unbind("s", "p")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.orphan_mitigation().unwrap().result, MitigationResult::Deleted);
    let d = deletes(&stub);
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|r| r.path == BINDING_PATH));
    assert!(
        d[1].header("x-broker-api-originating-identity").is_none(),
        "B78: mitigation carries no identity"
    );
}

#[tokio::test]
async fn b79_unbind_other_2xx_triggers_another_unbind() {
    let stub = Stub::script(vec![Reply::json(204, ""), Reply::json(410, "{}")]).await;
    let err = bind(&stub, Duration::from_secs(5))
        .unbind("s", "p")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 204, .. }),
        "{err}"
    );
    assert_eq!(
        err.orphan_mitigation().unwrap().result,
        MitigationResult::AlreadyGone
    );
    assert_eq!(deletes(&stub).len(), 2);
}

#[tokio::test]
async fn b79_unbind_timeout_no_mitigation() {
    let stub = Stub::script(vec![Reply::json(200, "{}").delay(Duration::from_millis(2000))]).await;
    let err = bind(&stub, Duration::from_millis(300))
        .unbind("s", "p")
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.orphan_mitigation().is_none());
    assert_eq!(deletes(&stub).len(), 1, "only the original DELETE");
}

#[tokio::test]
async fn b79_deprovision_other_2xx_triggers_another_deprovision() {
    let stub = Stub::script(vec![Reply::json(204, ""), Reply::json(200, "{}")]).await;
    let err = stub
        .client()
        .build()
        .unwrap()
        .instance("i")
        .deprovision("s", "p")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 204, .. }),
        "{err}"
    );
    let om = err.orphan_mitigation().unwrap();
    assert_eq!(om.target, MitigationTarget::Instance("i".into()));
    assert_eq!(om.result, MitigationResult::Deleted);
    let d = deletes(&stub);
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].param("plan_id").as_deref(), Some("p"));
}

#[tokio::test]
async fn b79_deprovision_malformed_200_and_202_no_mitigation() {
    for status in [200, 202] {
        let stub = Stub::script(vec![Reply::json(status, "<html>")]).await;
        let err = stub
            .client()
            .build()
            .unwrap()
            .instance("i")
            .deprovision("s", "p")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.orphan_mitigation().is_none(), "{status}");
        assert_eq!(deletes(&stub).len(), 1, "{status}");
    }
}

#[tokio::test]
async fn b79_failed_deprovision_last_operation_triggers_another_deprovision() {
    let stub = Stub::start(|r, n| {
        if r.path.ends_with("last_operation") {
            Reply::json(200, r#"{"state":"failed","description":"stuck"}"#)
        } else if n == 0 {
            Reply::json(202, r#"{"operation":"del"}"#)
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst.deprovision("s", "p").await.unwrap();
    let err = inst.wait_with(&out, &fast()).await.unwrap_err();
    assert!(matches!(err, Error::OperationFailed { .. }), "{err}");
    let om = err.orphan_mitigation().expect("mitigated");
    assert_eq!(om.target, MitigationTarget::Instance("i".into()));
    let d = deletes(&stub);
    assert_eq!(d.len(), 2, "the deprovision and its mitigation");
    assert_eq!(d[1].path, "/v2/service_instances/i");
    assert_eq!(d[1].param("service_id").as_deref(), Some("s"));
}

#[tokio::test]
async fn b79_failed_unbind_last_operation_triggers_another_unbind() {
    let stub = Stub::start(|r, n| {
        if r.path.ends_with("last_operation") {
            Reply::json(200, r#"{"state":"failed"}"#)
        } else if n == 0 {
            Reply::json(202, r#"{"operation":"unbind-1"}"#)
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let b = bind(&stub, Duration::from_secs(5));
    let out = b.unbind("s", "p").await.unwrap();
    let err = b.wait_with(&out, &fast()).await.unwrap_err();
    let om = err.orphan_mitigation().expect("mitigated");
    assert!(matches!(om.target, MitigationTarget::Binding { .. }));
    assert_eq!(om.result, MitigationResult::Deleted);
    let d = deletes(&stub);
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|r| r.path == BINDING_PATH));
}

#[tokio::test]
async fn b79_timeouts_on_catalog_gets_and_last_operation_no_mitigation() {
    let stub = Stub::script(vec![Reply::json(200, "{}").delay(Duration::from_millis(2000))]).await;
    let client = stub.client().timeout(Duration::from_millis(200)).build().unwrap();
    let inst = client.instance("i");
    let b = inst.binding("b");
    let errors = [
        client.catalog().await.unwrap_err(),
        inst.get().await.unwrap_err(),
        b.get().await.unwrap_err(),
        inst.last_operation(&Default::default()).await.unwrap_err(),
        b.last_operation(&Default::default()).await.unwrap_err(),
    ];
    for e in &errors {
        assert!(e.is_timeout(), "{e}");
        assert!(e.orphan_mitigation().is_none());
    }
    assert!(deletes(&stub).is_empty());
    assert_eq!(stub.requests().len(), 5);
}

// ------------------------------------------------ polling details

fn poll_gaps(stub: &Stub) -> Vec<Duration> {
    let polls: Vec<Recorded> = stub
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("last_operation"))
        .collect();
    polls.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn b31_retry_after_on_a_retryable_error_answer_is_honoured() {
    let stub = async_broker(vec![
        Reply::json(503, r#"{"description":"overloaded"}"#).header("Retry-After", "1"),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    // the configured interval is 10 ms; the 503's Retry-After asks for 1 s
    assert!(matches!(
        inst.wait_with(&out, &fast()).await.unwrap(),
        WaitOutcome::Succeeded(_)
    ));
    let gaps = poll_gaps(&stub);
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0] >= Duration::from_millis(950), "{gaps:?}");
}

#[tokio::test]
async fn b39_backoff_makes_the_poll_interval_grow() {
    let stub = async_broker(vec![
        Reply::json(200, r#"{"state":"in progress"}"#),
        Reply::json(200, r#"{"state":"in progress"}"#),
        Reply::json(200, r#"{"state":"in progress"}"#),
        Reply::json(200, r#"{"state":"in progress"}"#),
        Reply::json(200, r#"{"state":"succeeded"}"#),
    ])
    .await;
    let inst = stub.client().build().unwrap().instance("i");
    let out = inst
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap();
    let opts = WaitOptions::default()
        .interval(Duration::from_millis(40))
        .backoff(2.0)
        .max_interval(Duration::from_secs(10));
    inst.wait_with(&out, &opts).await.unwrap();
    let gaps = poll_gaps(&stub);
    assert_eq!(gaps.len(), 4);
    // sleeps never end early: each pause is at least 40 ms × 2^n (no upper bounds asserted)
    for (gap, min) in gaps.iter().zip([40u64, 80, 160, 320]) {
        assert!(*gap >= Duration::from_millis(min), "{gaps:?}");
    }
    // the same schedule, computed
    let expected: Vec<Duration> = (1..=4).map(|n| opts.interval_after(n)).collect();
    assert_eq!(expected, [40, 80, 160, 320].map(Duration::from_millis).to_vec());
}

#[tokio::test]
async fn b12_error_snippet_is_cut_at_a_character_boundary() {
    for ch in ["é", "€", "🦀"] {
        // one ASCII byte first, so that byte 512 falls inside a multibyte character
        let text = format!("a{}", ch.repeat(600));
        let stub = Stub::script(vec![Reply::json(500, &text), Reply::json(201, &text)]).await;
        let client = stub
            .client()
            .orphan_mitigation(osb_client::OrphanMitigation::disabled())
            .build()
            .unwrap();
        let inst = client.instance("i");
        for _ in 0..2 {
            let e = inst
                .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
                .await
                .unwrap_err();
            let snippet = match &e {
                Error::Broker { snippet, .. } | Error::Decode { snippet, .. } => snippet.clone(),
                other => panic!("{other:?}"),
            };
            assert!(
                !snippet.contains('\u{FFFD}'),
                "{ch}: replacement character in {snippet:?}"
            );
            assert!(
                snippet.len() <= 512 && snippet.len() > 512 - ch.len(),
                "{ch}: {}",
                snippet.len()
            );
            assert!(text.starts_with(&snippet), "{ch}");
            let n = (snippet.len() - 1) / ch.len();
            assert_eq!(snippet, format!("a{}", ch.repeat(n)));
        }
    }
    // short bodies are kept whole
    let stub = Stub::script(vec![Reply::json(500, "kaputt ✗")]).await;
    let e = stub
        .client()
        .orphan_mitigation(osb_client::OrphanMitigation::disabled())
        .build()
        .unwrap()
        .instance("i")
        .provision(&ProvisionRequest::new("s", "p").with_org_space("org-1", "space-1"))
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("broker answered 500: kaputt ✗"), "{e}");
}
