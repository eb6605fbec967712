//! CHECKLIST A.6 Instance last operation: `GET /v2/service_instances/:instance_id/last_operation`.

use crate::support::*;

// ---- handler level (no sockets)

#[tokio::test]
async fn a81_failed_update_carries_instance_usable_and_update_repeatable() {
    let (h, shared) = new_handler();
    provision_sync(&h, "a81").await;
    let body = json!({ "service_id": "svc", "parameters": { "async": true, "fail": true } });
    let (s, _) = call(
        &h,
        Method::PATCH,
        "/v2/service_instances/a81?accepts_incomplete=true",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    shared.release.add_permits(1);
    let v = wait_state(&h, "/v2/service_instances/a81/last_operation", "failed").await;
    assert_eq!(v["instance_usable"], false);
    assert_eq!(v["update_repeatable"], false);
    assert_eq!(v["description"], "update failed");
}

#[tokio::test]
async fn a78_a85_a87_last_operation_in_progress_then_succeeded() {
    let (h, shared) = new_handler();
    let (_, v) = call(
        &h,
        Method::PUT,
        "/v2/service_instances/lo?accepts_incomplete=true",
        Some(prov("async")),
    )
    .await;
    let op = v["operation"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (s, headers, v) = send(
        &h,
        request(
            Method::GET,
            &format!("/v2/service_instances/lo/last_operation?operation={op}"),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "in progress");
    assert_eq!(v["description"], "halfway there");
    assert_eq!(headers.get("Retry-After").unwrap(), "2");
    assert!(v.get("instance_usable").is_none());
    shared.release.add_permits(1);
    let v = wait_state(
        &h,
        "/v2/service_instances/lo/last_operation?operation=stale-hint",
        "succeeded",
    )
    .await;
    assert!(v.get("instance_usable").is_none());
}

#[tokio::test]
async fn a83_last_operation_of_unknown_instance_is_404() {
    // over HTTP, against a served TestBroker: the checks of `osb check`
    library_checks(&["last_operation.unknown"]).await;
    let (h, _) = new_handler();
    let (s, _) = call(&h, Method::GET, "/v2/service_instances/zz/last_operation", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a84_failed_async_provision_is_kept_and_async_delete_ends_in_410() {
    let (h, shared) = new_handler();
    let body = json!({ "service_id": "svc", "plan_id": "async", "parameters": { "async_fail": true } });
    call(
        &h,
        Method::PUT,
        "/v2/service_instances/f1?accepts_incomplete=true",
        Some(body),
    )
    .await;
    shared.release.add_permits(1);
    let v = wait_state(&h, "/v2/service_instances/f1/last_operation", "failed").await;
    assert_eq!(v["description"], "it broke");
    assert!(
        v.get("instance_usable").is_none(),
        "A81: not for a failed provision"
    );
    // The failed record is kept: still failed when asked again (A86).
    wait_state(&h, "/v2/service_instances/f1/last_operation", "failed").await;
    let del = "/v2/service_instances/f1?service_id=svc&plan_id=async&accepts_incomplete=true";
    let (s, v) = call(&h, Method::DELETE, del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let op = v["operation"].clone();
    let (s, v) = call(&h, Method::DELETE, del, None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "A133: re-sent DELETE");
    assert_eq!(v["operation"], op);
    shared.release.add_permits(1);
    for _ in 0..200 {
        let (s, v) = call(&h, Method::GET, "/v2/service_instances/f1/last_operation", None).await;
        if s == StatusCode::GONE {
            assert_eq!(v, json!({}));
            let (s, _) = call(&h, Method::DELETE, del, None).await;
            assert_eq!(s, StatusCode::GONE);
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never gone");
}

// ---- over sockets

#[tokio::test]
async fn a79_a80_states_are_exact_and_descriptions_never_empty() {
    library_checks(&["last_operation.states"]).await;
    let h = Harness::new().await;
    // Progress text empty: no description at all while in progress.
    let res = h
        .put(
            &format!("{I}/a80?accepts_incomplete=true"),
            prov_with("async", json!({ "progress": "", "async_fail": "" })),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a80/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress", "with the space");
    assert!(lo.body.get("description").is_none(), "{lo:?}");
    h.release(1);
    let lo = h.wait_state(&format!("{I}/a80/last_operation"), "failed").await;
    assert!(
        lo.body.get("description").is_none(),
        "empty error description dropped: {lo:?}"
    );
    // With text: sent as given.
    let res = h
        .put(
            &format!("{I}/a79?accepts_incomplete=true"),
            prov_with("async", json!({ "progress": "10% done" })),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a79/last_operation")).await;
    assert_eq!(
        lo.body,
        json!({ "state": "in progress", "description": "10% done" })
    );
    h.release(1);
    let lo = h
        .wait_state(&format!("{I}/a79/last_operation"), "succeeded")
        .await;
    assert_eq!(lo.body, json!({ "state": "succeeded" }));
    // Every state seen is one of the three.
    for id in ["a79", "a80"] {
        let state = h.get(&format!("{I}/{id}/last_operation")).await.body["state"].clone();
        assert!(["in progress", "succeeded", "failed"].contains(&state.as_str().unwrap()));
    }
}

#[tokio::test]
async fn a81_instance_usable_only_for_failed_update_or_deprovision() {
    let h = Harness::new().await;
    // Failed provision: the broker set both flags; neither is sent.
    let res = h
        .put(
            &format!("{I}/a81-p?accepts_incomplete=true"),
            prov_with("async", json!({ "async_fail": "it broke" })),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    let lo = h.wait_state(&format!("{I}/a81-p/last_operation"), "failed").await;
    assert_eq!(lo.body, json!({ "state": "failed", "description": "it broke" }));
    // Failed update: both.
    h.provision_sync("a81-u", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a81-u?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true, "fail": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    let lo = h.wait_state(&format!("{I}/a81-u/last_operation"), "failed").await;
    assert_eq!(
        lo.body,
        json!({ "state": "failed", "description": "update failed", "instance_usable": false, "update_repeatable": false })
    );
    // Failed deprovision: instance_usable only.
    h.provision_async_done("faildel-a81").await;
    let res = h
        .delete(&format!(
            "{I}/faildel-a81?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202);
    h.release(1);
    let lo = h
        .wait_state(&format!("{I}/faildel-a81/last_operation"), "failed")
        .await;
    assert_eq!(
        lo.body,
        json!({ "state": "failed", "description": "the delete failed", "instance_usable": false })
    );
    assert_eq!(
        h.get(&format!("{I}/faildel-a81")).await.status,
        200,
        "the record is kept"
    );
    // Succeeded: neither.
    h.provision_sync("a81-s", "sync").await;
    let lo = h.get(&format!("{I}/a81-s/last_operation")).await;
    assert_eq!(lo.body, json!({ "state": "succeeded" }));
}

#[tokio::test]
async fn a82_malformed_last_operation_query_is_400() {
    let h = Harness::new().await;
    h.provision_sync("a82", "sync").await;
    let res = h
        .get(&format!("{I}/a82/last_operation?operation=a&operation=b"))
        .await;
    assert_eq!((res.status, res.error()), (400, "BadRequest"));
    assert!(res.description().contains("operation"), "{res:?}");
    let res = h
        .get(&format!(
            "{I}/a82/service_bindings/b/last_operation?plan_id=a&plan_id=b"
        ))
        .await;
    assert_eq!(res.status, 400);
    let res = h
        .get(&format!(
            "{I}/a82/last_operation?service_id=svc&plan_id=sync&operation=x"
        ))
        .await;
    assert_eq!(res.status, 200, "hints are accepted");
}

#[tokio::test]
async fn a84_after_async_deprovision_a_poll_naming_it_is_succeeded_others_410() {
    library_checks(&["async.deprovision"]).await;
    // While the runtime remembers the finished delete (its tombstone), a poll that names the
    // delete's operation is answered 200 "succeeded" (what several platforms and the OSB
    // checker accept); any other poll of the deleted id gets 410 Gone. Both are spec-legal.
    let h = Harness::new().await;
    h.provision_async_done("a84").await;
    let lo_path = format!("{I}/a84/last_operation");
    let res = h
        .delete(&format!(
            "{I}/a84?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202);
    let op = assert_operation_id(&res.body);
    let lo = h
        .get(&format!("{lo_path}?operation={op}&service_id=svc&plan_id=async"))
        .await;
    assert_eq!((lo.status, &lo.body["state"]), (200, &json!("in progress")));
    h.release(1);
    let last = h.poll_until_done(&format!("{lo_path}?operation={op}")).await;
    assert_eq!(
        (last.status, &last.body),
        (200, &json!({"state": "succeeded"})),
        "a poll naming the finished delete: {last:?}"
    );
    let other = h.get(&lo_path).await;
    assert_eq!(
        (other.status, &other.body),
        (410, &json!({})),
        "a poll naming no operation"
    );
    let stale = h.get(&format!("{lo_path}?operation=another-op")).await;
    assert_eq!(stale.status, 410, "a poll naming another operation");
    assert_eq!(
        h.get(&format!("{I}/a84")).await.status,
        404,
        "the instance is gone"
    );
    let res = h
        .delete(&format!(
            "{I}/a84?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!((res.status, &res.body), (410, &json!({})));
    // A84 [IMPLIED]: never 410 while a create or update is polled.
    let res = h
        .put(&format!("{I}/a84?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202, "the id can be provisioned again");
    let lo = h.get(&lo_path).await;
    assert_eq!((lo.status, &lo.body["state"]), (200, &json!("in progress")));
    h.release(1);
    h.wait_state(&lo_path, "succeeded").await;
}

#[tokio::test]
async fn a85_retry_after_on_in_progress_last_operation() {
    library_checks(&["last_operation.retry_after"]).await;
    let h = Harness::new().await;
    let res = h
        .put(&format!("{I}/a85?accepts_incomplete=true"), prov("async"))
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a85/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    assert_eq!(
        lo.header("retry-after"),
        Some("2"),
        "the plan policy's hint, in seconds"
    );
    h.release(1);
    let lo = h
        .wait_state(&format!("{I}/a85/last_operation"), "succeeded")
        .await;
    assert_eq!(lo.header("retry-after"), None, "only while in progress");
    // A per-operation hint (1.5 s) is rounded up to whole seconds, for bindings too.
    let b = format!("{I}/a85/service_bindings/b");
    let res = h
        .put(
            &format!("{b}?accepts_incomplete=true"),
            json!({ "service_id": "svc", "plan_id": "async" }),
        )
        .await;
    assert_eq!(res.status, 201);
    let res = h
        .delete(&format!(
            "{b}?service_id=svc&plan_id=async&accepts_incomplete=true"
        ))
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{b}/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    assert_eq!(lo.header("retry-after"), Some("2"));
    // A plan without a hint sends none.
    h.provision_sync("a85-sync", "sync").await;
    let res = h
        .patch(
            &format!("{I}/a85-sync?accepts_incomplete=true"),
            json!({ "service_id": "svc", "parameters": { "async": true } }),
        )
        .await;
    assert_eq!(res.status, 202);
    let lo = h.get(&format!("{I}/a85-sync/last_operation")).await;
    assert_eq!(lo.body["state"], "in progress");
    assert_eq!(lo.header("retry-after"), None);
    h.release(2);
    assert_eq!(
        h.poll_until_done(&format!("{b}/last_operation")).await.status,
        410
    );
    h.wait_state(&format!("{I}/a85-sync/last_operation"), "succeeded")
        .await;
}

#[tokio::test]
async fn a77_a114_last_operation_query_reaches_a_broker_that_answers_it() {
    use osb_server_mini::types::OperationState;
    use osb_server_mini::types::operation::LastOperationResponse;

    /// (endpoint, operation, service_id, plan_id) of each call.
    type Seen = (String, Option<String>, Option<String>, Option<String>);
    #[derive(Clone, Default)]
    struct External(Arc<Mutex<Vec<Seen>>>);
    impl External {
        fn answer(&self, kind: &str, ctx: &RequestContext) -> Option<LastOperationResponse> {
            let params = ctx.last_operation().expect("set for last_operation");
            self.0.lock().unwrap().push((
                kind.to_owned(),
                ctx.operation().map(|o| o.as_str().to_owned()),
                params.service_id.as_ref().map(|s| s.as_str().to_owned()),
                params.plan_id.as_ref().map(|p| p.as_str().to_owned()),
            ));
            let mut res = LastOperationResponse::new(OperationState::InProgress);
            res.description = ctx.operation().map(|o| format!("tracking {}", o.as_str()));
            Some(res)
        }
    }
    impl Broker for External {
        fn catalog(&self) -> Catalog {
            Catalog::new(vec![
                ServiceOffering::new("svc", "svc", "ext", vec![ServicePlan::new("p", "p", "plan")])
                    .bindable(true),
            ])
        }
        async fn provision(
            &self,
            ctx: &RequestContext,
            _: ProvisionRequest,
        ) -> Result<Provisioned, BrokerError> {
            assert!(ctx.last_operation().is_none(), "only for last_operation");
            Ok(Provisioned::done())
        }
        async fn deprovision(
            &self,
            _: &RequestContext,
            _: DeprovisionRequest,
        ) -> Result<Deprovisioned, BrokerError> {
            Ok(Deprovisioned::done())
        }
        async fn bind(&self, _: &RequestContext, _: BindRequest) -> Result<Bound, BrokerError> {
            Ok(Bound::credentials(json!({})))
        }
        async fn instance_last_operation(
            &self,
            ctx: &RequestContext,
        ) -> Result<Option<LastOperationResponse>, BrokerError> {
            Ok(self.answer("instance", ctx))
        }
        async fn binding_last_operation(
            &self,
            ctx: &RequestContext,
        ) -> Result<Option<LastOperationResponse>, BrokerError> {
            Ok(self.answer("binding", ctx))
        }
    }
    let broker = External::default();
    let seen = Arc::clone(&broker.0);
    let running = Server::new(broker).spawn("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::new();
    let send = |method: Method, path: String, body: Option<Value>| {
        let mut rb = http
            .request(method, format!("{}{path}", running.url()))
            .header("X-Broker-API-Version", "2.17");
        if let Some(b) = body {
            rb = rb.json_body(&b);
        }
        async move {
            let res = rb.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
            (status, body)
        }
    };
    let (s, _) = send(
        Method::PUT,
        format!("{I}/x"),
        Some(json!({ "service_id": "svc", "plan_id": "p" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = send(
        Method::PUT,
        format!("{I}/x/service_bindings/b"),
        Some(json!({ "service_id": "svc", "plan_id": "p" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = send(
        Method::GET,
        format!("{I}/x/last_operation?operation=op%2F1%20a&service_id=svc&plan_id=p"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body,
        json!({ "state": "in progress", "description": "tracking op/1 a" })
    );
    let (s, body) = send(
        Method::GET,
        format!("{I}/x/service_bindings/b/last_operation"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body,
        json!({ "state": "in progress" }),
        "no hints: none passed on"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (
                "instance".to_owned(),
                Some("op/1 a".to_owned()),
                Some("svc".to_owned()),
                Some("p".to_owned())
            ),
            ("binding".to_owned(), None, None, None),
        ]
    );
}
