//! The broker under test: one catalog, and behaviour chosen by the request's parameters or ids.

use super::*;

pub(crate) struct Shared {
    pub(crate) provisions: AtomicUsize,
    pub(crate) updates: AtomicUsize,
    pub(crate) binds: AtomicUsize,
    pub(crate) deprovisions: AtomicUsize,
    pub(crate) unbinds: AtomicUsize,
    pub(crate) dropped_work_ran: AtomicBool,
    pub(crate) release: Semaphore,
    pub(crate) originating_platform: Mutex<Option<String>>,
    /// Background work finishes by itself after this long instead of waiting for
    /// [`Harness::release`], and the async plan's updates and binds run in the background too:
    /// the broker the `osb-conformance` checks run against.
    pub(crate) finish_after: Option<Duration>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            provisions: AtomicUsize::new(0),
            updates: AtomicUsize::new(0),
            binds: AtomicUsize::new(0),
            deprovisions: AtomicUsize::new(0),
            unbinds: AtomicUsize::new(0),
            dropped_work_ran: AtomicBool::new(false),
            release: Semaphore::new(0),
            originating_platform: Mutex::new(None),
            finish_after: None,
        }
    }
}

#[derive(Clone, Default)]
pub(crate) struct TestBroker(pub(crate) Arc<Shared>);

fn param<'a>(params: Option<&'a serde_json::Map<String, Value>>, key: &str) -> Option<&'a Value> {
    params.and_then(|p| p.get(key))
}

fn has(params: Option<&serde_json::Map<String, Value>>, key: &str) -> bool {
    param(params, key).is_some()
}

impl TestBroker {
    /// Background work that waits for `release` and then succeeds, or fails with `fail`.
    fn held(
        &self,
        fail: Option<BrokerError>,
    ) -> impl Future<Output = Result<(), BrokerError>> + Send + 'static {
        let shared = Arc::clone(&self.0);
        async move {
            match shared.finish_after {
                Some(after) => tokio::time::sleep(after).await,
                None => shared.release.acquire().await.expect("open").forget(),
            }
            fail.map_or(Ok(()), Err)
        }
    }

    /// Whether the async plan's updates and binds run in the background (see `finish_after`).
    fn self_finishing(&self, plan_id: Option<&str>) -> bool {
        self.0.finish_after.is_some() && plan_id == Some("async")
    }

    /// Background work that must never run (its 202 is refused).
    fn never(&self) -> impl Future<Output = Result<(), BrokerError>> + Send + 'static {
        let shared = Arc::clone(&self.0);
        async move {
            shared.dropped_work_ran.store(true, Ordering::SeqCst);
            Ok(())
        }
    }
}

impl Broker for TestBroker {
    fn catalog(&self) -> Catalog {
        let mut sync = ServicePlan::new("sync", "sync", "Synchronous plan");
        sync.maintenance_info = Some(MaintenanceInfo::new("1.0.0"));
        sync.binding_rotatable = Some(true);
        let asyn = ServicePlan::new("async", "async", "Asynchronous-only plan");
        let mut schema = ServicePlan::new("schema", "schema", "Plan with a schema");
        schema.schemas = Some(Schemas {
            service_instance: Some(ServiceInstanceSchema {
                create: Some(InputParametersSchema::new(json!({
                    "$schema": "http://json-schema.org/draft-04/schema#",
                    "type": "object",
                    "properties": { "size": { "type": "integer", "maximum": 10 } },
                }))),
                ..ServiceInstanceSchema::default()
            }),
            ..Schemas::default()
        });
        let mut pinned = ServicePlan::new("pinned", "pinned", "Plan that cannot be changed");
        pinned.plan_updateable = Some(false);
        let mut nobind = ServicePlan::new("nobind", "nobind", "Not bindable");
        nobind.bindable = Some(false);
        let mut svc = ServiceOffering::new(
            "svc",
            "svc",
            "Test offering",
            vec![sync, asyn, schema, pinned, nobind],
        )
        .bindable(true);
        svc.instances_retrievable = Some(true);
        svc.bindings_retrievable = Some(true);
        svc.plan_updateable = Some(true);
        svc.allow_context_updates = Some(true);
        let mut up = ServicePlan::new("fixed-up", "up", "Updateable plan of a fixed offering");
        up.plan_updateable = Some(true);
        let mut fixed = ServiceOffering::new(
            "fixed",
            "fixed",
            "Fixed offering",
            vec![
                ServicePlan::new("fixed-a", "a", "A"),
                ServicePlan::new("fixed-b", "b", "B"),
                up,
            ],
        );
        fixed.plan_updateable = Some(false);
        fixed.allow_context_updates = Some(false);
        Catalog::new(vec![svc, fixed])
    }

    fn plan_policy(&self, _: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        if plan.id == "async" {
            let hint = if self.0.finish_after.is_some() { 1 } else { 2 };
            PlanPolicy::async_only().retry_after(Duration::from_secs(hint))
        } else {
            PlanPolicy::default()
        }
    }

    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.0.provisions.fetch_add(1, Ordering::SeqCst);
        *self.0.originating_platform.lock().unwrap() =
            ctx.originating_identity().map(|o| o.platform().to_owned());
        let p = req.parameters.as_ref();
        if has(p, "panic") {
            panic!("broker bug");
        }
        if has(p, "crash") {
            return Err(BrokerError::internal("the backend went away halfway"));
        }
        if has(p, "fail") {
            return Err(BrokerError::unprocessable("QuotaExceeded", "over quota")
                .instance_usable(false)
                .update_repeatable(false));
        }
        if has(p, "slow") {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if has(p, "later") {
            return Ok(Provisioned::later(self.never()));
        }
        if req.plan_id == "async" {
            assert!(
                ctx.accepts_incomplete(),
                "the runtime only calls with accepts_incomplete"
            );
            let progress_text = param(p, "progress")
                .and_then(Value::as_str)
                .unwrap_or("halfway there")
                .to_owned();
            // `"async_fail": "why"` fails with that description, any other value with "it broke"
            let fail = param(p, "async_fail").map(|d| {
                BrokerError::new(400, "ProvisionFailed", d.as_str().unwrap_or("it broke"))
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            let bg_panic = has(p, "bg_panic");
            let work = self.held(fail);
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set(progress_text);
                let outcome = work.await;
                assert!(!bg_panic, "background bug");
                outcome
            })
            .dashboard_url("https://dash/async"));
        }
        Ok(Provisioned::done().dashboard_url(format!("https://dash/{}", ctx.instance_id())))
    }

    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        self.0.updates.fetch_add(1, Ordering::SeqCst);
        if self.self_finishing(ctx.plan().map(|p| p.id.as_str())) {
            return Ok(Updated::later(self.held(None)));
        }
        let p = req.parameters.as_ref();
        if has(p, "panic") {
            panic!("broker bug in update");
        }
        if has(p, "reject") {
            return Err(
                BrokerError::unprocessable("QuotaExceeded", "too big for the new plan")
                    .instance_usable(true)
                    .update_repeatable(false),
            );
        }
        if has(p, "later") {
            return Ok(Updated::later(self.never()));
        }
        if has(p, "async") {
            let fail = has(p, "fail").then(|| {
                BrokerError::unprocessable("Broken", "update failed")
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            return Ok(Updated::later(self.held(fail)));
        }
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.0.deprovisions.fetch_add(1, Ordering::SeqCst);
        let id = ctx.instance_id().as_str();
        if id.starts_with("later-") {
            return Ok(Deprovisioned::later(self.never()));
        }
        if id.starts_with("refuse-") {
            return Err(BrokerError::bad_request("cannot delete now")
                .instance_usable(true)
                .update_repeatable(false));
        }
        if req.plan_id == "async" {
            let fail = id.starts_with("faildel-").then(|| {
                BrokerError::new(500, "DeleteFailed", "the delete failed")
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            return Ok(Deprovisioned::later(self.held(fail)));
        }
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.0.binds.fetch_add(1, Ordering::SeqCst);
        let p = req.parameters.as_ref();
        if has(p, "requires_app")
            && req
                .bind_resource
                .as_ref()
                .and_then(|r| r.app_guid.as_ref())
                .is_none()
        {
            return Err(BrokerError::requires_app());
        }
        if has(p, "crash") {
            return Err(BrokerError::internal("the backend went away halfway"));
        }
        if has(p, "fail_usable") {
            return Err(BrokerError::bad_request("bad binding").instance_usable(false));
        }
        if has(p, "slow") {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        let creds = json!({ "uri": format!("test://{}/{}", ctx.instance_id(), ctx.binding_id()) });
        if has(p, "later") {
            let never = self.never();
            return Ok(Bound::later(async move {
                never.await?;
                Ok(BindResponse::default())
            }));
        }
        if has(p, "async") || self.self_finishing(Some(req.plan_id.as_str())) {
            let fail = param(p, "async_fail").and_then(Value::as_str).map(|d| {
                BrokerError::bad_request(d)
                    .instance_usable(false)
                    .update_repeatable(false)
            });
            let work = self.held(fail);
            return Ok(Bound::later(async move {
                work.await?;
                Ok(BindResponse {
                    credentials: osb_server_mini::types::Credentials::from_value(creds),
                    ..BindResponse::default()
                })
            }));
        }
        Ok(Bound::credentials(creds))
    }

    async fn rotate_binding(
        &self,
        _: &RequestContext,
        req: RotateBindingRequest,
    ) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(
            json!({ "rotated_from": req.predecessor_binding_id.as_str() }),
        ))
    }

    async fn unbind(&self, ctx: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.0.unbinds.fetch_add(1, Ordering::SeqCst);
        if ctx.binding_id().as_str().starts_with("later-") {
            return Ok(Unbound::later(self.never()));
        }
        if req.plan_id == "async" {
            return Ok(Unbound::later(self.held(None)).retry_after(Duration::from_millis(1500)));
        }
        Ok(Unbound::done())
    }
}
