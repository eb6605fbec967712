//! [`BindingApi`]: the Service Binding endpoints.

use std::fmt;

use osb_types::binding::{BindParams, FetchBindingParams, UnbindParams};
use osb_types::operation::LastOperationParams;
use osb_types::{
    BindRequest, BindResponse, BindingId, Context, FetchBindingResponse, InstanceId, OperationKind, PlanId,
    RotateBindingRequest, ServiceId, UnbindResponse,
};

use crate::error::{Error, Result};
use crate::outcome::{
    BindOutcome, LastOperation, MitigationOutcome, PendingOperation, Pollable, UnbindOutcome,
};
use crate::poll::{WaitOptions, WaitOutcome};
use crate::resource::{BindingKey, Created, Deleted, Kind, Resource};
use crate::transport::{check_parameters, require_non_empty, to_json};
use crate::version::Capability;

/// The endpoints of one Service Binding. Get one with
/// [`InstanceApi::binding`](crate::InstanceApi::binding).
#[derive(Clone)]
pub struct BindingApi {
    pub(crate) res: Resource<BindingKey>,
}

impl fmt::Debug for BindingApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindingApi")
            .field("client", &self.res.client)
            .field("instance_id", &self.res.key.instance)
            .field("id", &self.res.key.binding)
            .field("accepts_incomplete", &self.res.accepts_incomplete)
            .finish()
    }
}

impl BindingApi {
    pub(crate) fn new(res: Resource<BindingKey>) -> Self {
        Self { res }
    }

    /// The binding id.
    #[must_use]
    pub fn id(&self) -> &BindingId {
        &self.res.key.binding
    }

    /// The instance id.
    #[must_use]
    pub fn instance_id(&self) -> &InstanceId {
        &self.res.key.instance
    }

    /// Overrides the client's `accepts_incomplete` for requests made through this value.
    #[must_use]
    pub fn accepts_incomplete(mut self, yes: bool) -> Self {
        self.res.accepts_incomplete = Some(yes);
        self
    }

    /// `PUT .../service_bindings/:id` with the configured `accepts_incomplete` (sent only to
    /// brokers with asynchronous bindings, 2.14 and later).
    ///
    /// # Errors
    /// See [`bind_with`](Self::bind_with).
    pub async fn bind(&self, request: &BindRequest) -> Result<BindOutcome> {
        let params = BindParams {
            accepts_incomplete: self.res.incomplete(),
        };
        self.bind_with(request, &params).await
    }

    /// `PUT .../service_bindings/:id` with explicit query parameters.
    ///
    /// # Errors
    /// Any 4xx/5xx, another status, a malformed 201/202, a timeout; when the orphan-mitigation
    /// table says so, an unbind is sent first and reported in the error.
    pub async fn bind_with(&self, request: &BindRequest, params: &BindParams) -> Result<BindOutcome> {
        self.res.key.check_ids()?;
        require_non_empty("service_id", request.service_id.as_str())?;
        require_non_empty("plan_id", request.plan_id.as_str())?;
        if request.context.is_some() {
            self.res.client.require(Capability::BindingContext)?;
        }
        check_parameters(request.check_parameters())?;
        let ids = (&request.service_id, &request.plan_id);
        let platform = request.context.as_ref().and_then(Context::platform);
        self.put(to_json(request)?, params, Some(ids), platform).await
    }

    /// Rotates a binding: `PUT .../service_bindings/:id` with `predecessor_binding_id` (2.17).
    ///
    /// The rotation body carries no `service_id`/`plan_id`, so orphan mitigation is reported
    /// as skipped unless [`rotate_with_ids`](Self::rotate_with_ids) is used.
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) before 2.17; otherwise as
    /// [`bind_with`](Self::bind_with).
    pub async fn rotate(&self, request: &RotateBindingRequest) -> Result<BindOutcome> {
        self.rotate_inner(request, None).await
    }

    /// [`rotate`](Self::rotate), knowing the instance's `service_id`/`plan_id` so that orphan
    /// mitigation can unbind the new binding.
    ///
    /// # Errors
    /// As [`rotate`](Self::rotate).
    pub async fn rotate_with_ids(
        &self,
        request: &RotateBindingRequest,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> Result<BindOutcome> {
        let (s, p) = (service_id.into(), plan_id.into());
        self.rotate_inner(request, Some((&s, &p))).await
    }

    async fn rotate_inner(
        &self,
        request: &RotateBindingRequest,
        ids: Option<(&ServiceId, &PlanId)>,
    ) -> Result<BindOutcome> {
        self.res.key.check_ids()?;
        self.res.client.require(Capability::BindingRotation)?;
        // B60: the predecessor is another (non-expired) binding; the new one has a new id.
        require_non_empty("predecessor_binding_id", request.predecessor_binding_id.as_str())?;
        if request.predecessor_binding_id == *self.id() {
            return Err(Error::InvalidRequest(format!(
                "a rotation needs a new binding id; {} is the predecessor itself",
                self.id()
            )));
        }
        let params = BindParams {
            accepts_incomplete: self.res.incomplete(),
        };
        self.put(to_json(request)?, &params, ids, None).await
    }

    /// The `PUT` of a bind or rotation; `ids` are the pending operation's hints and what
    /// orphan mitigation unbinds with.
    async fn put(
        &self,
        body: Vec<u8>,
        params: &BindParams,
        ids: Option<(&ServiceId, &PlanId)>,
        context_platform: Option<&str>,
    ) -> Result<BindOutcome> {
        let mitigation_ids = ids.map(|(s, p)| (s.as_str(), p.as_str()));
        self.res
            .create(
                body,
                params.to_query(),
                context_platform,
                mitigation_ids,
                |answer| match answer {
                    Created::Existing(r) => BindOutcome::AlreadyExists(r),
                    Created::New(r) => BindOutcome::Created(r),
                    Created::Accepted(r) => accepted_bind(r, ids),
                },
            )
            .await
    }

    /// `DELETE .../service_bindings/:id?service_id=..&plan_id=..`.
    ///
    /// `410 Gone` is a success ([`UnbindOutcome::AlreadyGone`]).
    ///
    /// # Errors
    /// Any other status (a 5xx or "other 2xx" triggers a repeated unbind as orphan
    /// mitigation), a malformed body, a transport failure or timeout.
    pub async fn unbind(
        &self,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> Result<UnbindOutcome> {
        let (service_id, plan_id) = (service_id.into(), plan_id.into());
        let query = UnbindParams {
            service_id: Some(service_id.clone()),
            plan_id: Some(plan_id.clone()),
            accepts_incomplete: self.res.incomplete(),
        }
        .to_query();
        self.res
            .delete(&service_id, &plan_id, query, |answer| match answer {
                Deleted::Done(r) => UnbindOutcome::Unbound(r),
                Deleted::Accepted(UnbindResponse { operation, .. }) => UnbindOutcome::Accepted {
                    pending: PendingOperation::new(OperationKind::Unbind, operation.clone())
                        .with_ids(service_id.clone(), plan_id.clone()),
                    operation,
                },
                Deleted::Gone => UnbindOutcome::AlreadyGone,
            })
            .await
    }

    /// Orphan mitigation on demand: unbinds with the policy's retries, polling
    /// after a `202`, until the broker confirms the binding is gone. See
    /// [`InstanceApi::orphan_mitigate`](crate::InstanceApi::orphan_mitigate).
    pub async fn orphan_mitigate(
        &self,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> MitigationOutcome {
        self.res.orphan_mitigate(service_id.into(), plan_id.into()).await
    }

    /// `GET .../service_bindings/:id`; a `404` is an error.
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) before 2.14; any status other than 200.
    pub async fn get(&self) -> Result<FetchBindingResponse> {
        self.get_with(&FetchBindingParams::default()).await
    }

    /// `GET .../service_bindings/:id`; `Ok(None)` on `404` (which may also mean "operation in
    /// progress").
    ///
    /// # Errors
    /// As [`get`](Self::get), except 404.
    pub async fn get_opt(&self) -> Result<Option<FetchBindingResponse>> {
        match self.get().await {
            Err(e) if e.is_not_found() => Ok(None),
            other => other.map(Some),
        }
    }

    /// `GET .../service_bindings/:id` with `service_id`/`plan_id` hints.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn get_with(&self, params: &FetchBindingParams) -> Result<FetchBindingResponse> {
        self.res.get_with(params.to_query()).await
    }

    /// `GET .../service_bindings/:id/last_operation` (2.14).
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) before 2.14; any status other than
    /// 200 and 410.
    pub async fn last_operation(&self, params: &LastOperationParams) -> Result<LastOperation> {
        self.res.last_operation(params).await
    }

    /// Polls this binding's `last_operation` with default [`WaitOptions`] until `op` ends.
    ///
    /// # Errors
    /// See [`wait_with`](Self::wait_with).
    pub async fn wait(&self, op: &impl Pollable) -> Result<WaitOutcome> {
        self.wait_with(op, &WaitOptions::default()).await
    }

    /// Polls this binding's `last_operation` until `op` ends; after a bind succeeds, `get` the
    /// binding for its credentials.
    ///
    /// # Errors
    /// As [`InstanceApi::wait_with`](crate::InstanceApi::wait_with), with unbind as orphan
    /// mitigation.
    pub async fn wait_with(&self, op: &impl Pollable, opts: &WaitOptions) -> Result<WaitOutcome> {
        self.res.wait_with(op, opts).await
    }
}

/// The outcome of a `202` to a bind or rotation: what to poll, with the ids when known.
fn accepted_bind(r: BindResponse, ids: Option<(&ServiceId, &PlanId)>) -> BindOutcome {
    let mut pending = PendingOperation::new(OperationKind::Bind, r.operation.clone());
    if let Some((s, p)) = ids {
        pending = pending.with_ids(s.clone(), p.clone());
    }
    BindOutcome::Accepted {
        operation: r.operation.clone(),
        response: r,
        pending,
    }
}
