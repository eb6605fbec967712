//! The echo broker, derived: the catalog is Rust items, the broker an annotated `impl`.
//!
//! The echo service of the classic Cloud Foundry Python broker: service `echo` (bindable),
//! plans `small` (synchronous) and `large` (asynchronous only, finishing after a delay).
//! Provisioning returns a dashboard URL; binding returns credentials with a `uri` that echo
//! the binding's parameters back. Bindings of `small` can be rotated (2.17): the successor
//! gets new credentials (its own `uri`, and `rotated_from`) echoing the predecessor's
//! parameters, and the predecessor keeps working until it is unbound. With
//! [`EchoBroker::with_binding_lifetime`] bindings carry `expires_at` and `renew_before`.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use osb_server_mini::reply::{Bound, Deprovisioned, Interrupted, Provisioned, Resumed, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::store::OperationKind;
use osb_server_mini::types::binding::{BindingMetadata, RotateBindingRequest};
use osb_server_mini::types::{
    BindRequest, BindResponse, Credentials, ProvisionRequest, Timestamp, UpdateRequest,
};
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};
use serde_json::json;

/// The `echo` offering.
#[derive(Debug, Offering)]
#[osb(
    id = "6c3e3b2e-4b0f-4f3e-9a59-7d0f6c1d0e01",
    name = "echo",
    description = "Echoes what you send",
    bindable,
    instances_retrievable,
    bindings_retrievable,
    plan_updateable,
    tags("echo", "example"),
    metadata(display_name = "Echo"),
    plans(Small, Large)
)]
pub struct Echo;

/// Synchronous plan: everything is ready when the request returns.
#[derive(Debug, Plan)]
#[osb(
    id = "1f0a8d6c-2f4e-4a55-8e1b-3c6b5a7d9e02",
    name = "small",
    description = "Synchronous echo, ready at once",
    free,
    binding_rotatable,
    maintenance_info(version = "1.0.0")
)]
pub struct Small;

/// Asynchronous-only plan: the runtime answers 422 `AsyncRequired` without
/// `accepts_incomplete=true`, 202 with it, and serves `last_operation`.
#[derive(Debug, Plan)]
#[osb(
    id = "9d2b7c4a-6e1f-4b3d-a2c8-5f4e3d2c1b03",
    name = "large",
    description = "Asynchronous echo, ready after a delay",
    free = false,
    maximum_polling_duration = 600,
    async_only,
    retry_after_secs = 1
)]
pub struct Large;

/// The echo broker.
#[derive(Debug, Clone)]
pub struct EchoBroker {
    /// Base URL of the dashboard links.
    pub dashboard_base: String,
    /// How long the `large` plan's operations take.
    pub async_delay: Duration,
    /// How long the `small` plan's (synchronous) operations take (default none).
    pub sync_delay: Duration,
    /// Whether interrupted operations are resumed after a restart (default yes).
    pub resumes: bool,
    /// How long a binding is valid (`metadata.expires_at`); it is due for renewal
    /// (`renew_before`) after half of it. `None` (default): no metadata.
    pub binding_lifetime: Option<Duration>,
    calls: Option<Arc<PathBuf>>,
    requests: Option<Arc<PathBuf>>,
}

impl EchoBroker {
    /// An echo broker whose dashboards live under `dashboard_base`.
    pub fn new(dashboard_base: impl Into<String>, async_delay: Duration) -> Self {
        Self {
            dashboard_base: dashboard_base.into(),
            async_delay,
            sync_delay: Duration::ZERO,
            resumes: true,
            binding_lifetime: None,
            calls: None,
            requests: None,
        }
    }

    /// Appends one line per call of the broker's own code to `path`
    /// (`<operation> <instance> <binding>`, and `<operation>-done ...` when background work
    /// ends), so a test can count what ran, across restarts.
    #[must_use]
    pub fn with_call_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.calls = Some(Arc::new(path.into()));
        self
    }

    /// Appends one JSON object per line to `path` for each provision, update, deprovision, bind
    /// and unbind the broker's code receives: `call`, `instance_id`, `binding_id`,
    /// `api_version`, `context` and `parameters` (as sent, or `null`) and
    /// `originating_identity` (`{"platform", "value"}` decoded, or `null`), so a test can
    /// see what a platform sent.
    #[must_use]
    pub fn with_request_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.requests = Some(Arc::new(path.into()));
        self
    }

    /// Makes the synchronous `small` plan's operations take `delay`.
    #[must_use]
    pub fn with_sync_delay(mut self, delay: Duration) -> Self {
        self.sync_delay = delay;
        self
    }

    /// Bindings expire `lifetime` after they are made, and should be renewed after half of it
    /// (`metadata.expires_at` and `metadata.renew_before`).
    #[must_use]
    pub fn with_binding_lifetime(mut self, lifetime: Duration) -> Self {
        self.binding_lifetime = Some(lifetime);
        self
    }

    /// Interrupted operations are not resumed: they end `failed` after a restart.
    #[must_use]
    pub fn without_resume(mut self) -> Self {
        self.resumes = false;
        self
    }

    fn delay(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        tokio::time::sleep(self.async_delay)
    }

    /// Runs `work` after the async delay, then logs `<what>-done`.
    fn later_work(
        &self,
        what: &'static str,
        ctx: &RequestContext,
    ) -> impl std::future::Future<Output = Result<(), BrokerError>> + Send + 'static {
        let delay = self.delay();
        let log = self.calls.clone();
        let ids = (ctx.instance_id().to_string(), ctx.binding_id().to_string());
        async move {
            delay.await;
            log_call(log.as_deref(), &format!("{what}-done"), &ids.0, &ids.1);
            Ok(())
        }
    }

    fn log(&self, what: &str, ctx: &RequestContext) {
        log_call(
            self.calls.as_deref(),
            what,
            ctx.instance_id().as_str(),
            ctx.binding_id().as_str(),
        );
    }

    fn log_request<C: serde::Serialize>(
        &self,
        call: &str,
        ctx: &RequestContext,
        context: Option<&C>,
        parameters: Option<&osb_server_mini::types::Parameters>,
    ) {
        let Some(path) = self.requests.as_deref() else {
            return;
        };
        let line = json!({
            "call": call,
            "instance_id": ctx.instance_id().as_str(),
            "binding_id": ctx.binding_id().as_str(),
            "api_version": ctx.api_version().to_string(),
            "context": context,
            "parameters": parameters,
            "originating_identity": ctx.originating_identity().map(|id| json!({
                "platform": id.platform(),
                "value": id.value(),
            })),
        });
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(format!("{line}\n").as_bytes());
            let _ = f.sync_data();
        }
    }

    async fn sync_pause(&self) {
        if !self.sync_delay.is_zero() {
            tokio::time::sleep(self.sync_delay).await;
        }
    }

    fn credentials(
        ctx: &RequestContext,
        parameters: Option<&osb_server_mini::types::Parameters>,
    ) -> serde_json::Value {
        json!({
            "uri": format!("echo://{}/{}", ctx.instance_id(), ctx.binding_id()),
            "echo": parameters.cloned().unwrap_or_default(),
        })
    }

    /// `expires_at` and `renew_before` of a binding made now, with a binding lifetime.
    fn metadata(&self) -> Option<BindingMetadata> {
        let lifetime = self.binding_lifetime?;
        let now = Timestamp::now();
        Some(BindingMetadata::new(
            now.checked_add(lifetime),
            now.checked_add(lifetime / 2),
        ))
    }

    /// A synchronous binding's answer: these credentials and the metadata.
    fn bound_now(&self, credentials: serde_json::Value) -> Bound {
        Bound::done(BindResponse {
            credentials: Credentials::from_value(credentials),
            metadata: self.metadata(),
            ..BindResponse::default()
        })
    }
}

fn log_call(path: Option<&PathBuf>, what: &str, instance: &str, binding: &str) {
    let Some(path) = path else { return };
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        // One write(2) per line: replicas appending to one log never interleave a line.
        let _ = f.write_all(format!("{what} {instance} {binding}\n").as_bytes());
        let _ = f.sync_data();
    }
}

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        self.log("provision", ctx);
        self.log_request("provision", ctx, req.context.as_ref(), req.parameters.as_ref());
        let dashboard = format!("{}/echo/{}", self.dashboard_base, ctx.instance_id());
        if req.plan_id == Large::ID {
            let work = self.later_work("provision", ctx);
            return Ok(Provisioned::later_with_progress(move |progress| async move {
                progress.set("Creating echo instance");
                work.await
            })
            .dashboard_url(dashboard));
        }
        self.sync_pause().await;
        Ok(Provisioned::done().dashboard_url(dashboard))
    }

    async fn update(&self, ctx: &RequestContext, req: UpdateRequest) -> Result<Updated, BrokerError> {
        self.log("update", ctx);
        self.log_request("update", ctx, req.context.as_ref(), req.parameters.as_ref());
        if ctx.plan().is_some_and(|p| p.id == Large::ID) {
            return Ok(Updated::later(self.later_work("update", ctx)));
        }
        self.sync_pause().await;
        Ok(Updated::done())
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.log("deprovision", ctx);
        self.log_request::<()>("deprovision", ctx, None, None);
        if req.plan_id == Large::ID {
            return Ok(Deprovisioned::later(self.later_work("deprovision", ctx)));
        }
        self.sync_pause().await;
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, req: BindRequest) -> Result<Bound, BrokerError> {
        self.log("bind", ctx);
        self.log_request("bind", ctx, req.context.as_ref(), req.parameters.as_ref());
        let credentials = Self::credentials(ctx, req.parameters.as_ref());
        if req.plan_id == Large::ID {
            let work = self.later_work("bind", ctx);
            return Ok(Bound::later(async move {
                work.await?;
                Ok(BindResponse {
                    credentials: Credentials::from_value(credentials),
                    ..BindResponse::default()
                })
            }));
        }
        self.sync_pause().await;
        Ok(self.bound_now(credentials))
    }

    /// A rotation (`small` only, the plan that is `binding_rotatable`): new credentials for
    /// the successor, echoing the predecessor's parameters; the predecessor is untouched.
    async fn rotate_binding(
        &self,
        ctx: &RequestContext,
        req: RotateBindingRequest,
    ) -> Result<Bound, BrokerError> {
        self.log("rotate", ctx);
        let parameters = ctx.predecessor().and_then(|p| p.parameters.as_ref());
        let mut credentials = Self::credentials(ctx, parameters);
        credentials["rotated_from"] = json!(req.predecessor_binding_id.as_str());
        self.sync_pause().await;
        Ok(self.bound_now(credentials))
    }

    async fn unbind(&self, ctx: &RequestContext, req: UnbindRequest) -> Result<Unbound, BrokerError> {
        self.log("unbind", ctx);
        self.log_request::<()>("unbind", ctx, None, None);
        if req.plan_id == Large::ID {
            return Ok(Unbound::later(self.later_work("unbind", ctx)));
        }
        self.sync_pause().await;
        Ok(Unbound::done())
    }

    /// After a restart: re-runs the interrupted work (an echo instance has nothing to
    /// repair), in the background for the `large` plan.
    async fn resume(&self, ctx: &RequestContext, interrupted: Interrupted) -> Result<Resumed, BrokerError> {
        self.log(&format!("resume-{}", interrupted.kind), ctx);
        if !self.resumes {
            return Ok(Resumed::not_supported());
        }
        let large = ctx.plan().is_some_and(|p| p.id == Large::ID);
        let what = interrupted.kind.as_str();
        Ok(match interrupted.kind {
            OperationKind::Bind => {
                let params = interrupted
                    .request_as::<BindRequest>()
                    .ok()
                    .and_then(|r| r.parameters);
                let response = BindResponse {
                    credentials: Credentials::from_value(Self::credentials(ctx, params.as_ref())),
                    ..BindResponse::default()
                };
                if large {
                    let work = self.later_work("bind", ctx);
                    Resumed::later_bound(async move {
                        work.await?;
                        Ok(response)
                    })
                } else {
                    Resumed::bound(response)
                }
            }
            _ if large => Resumed::later(self.later_work(what, ctx)),
            _ => Resumed::done(),
        })
    }
}
