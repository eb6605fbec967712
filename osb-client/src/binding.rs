//! [`BindingApi`]: the Service Binding endpoints.

use osb_types::binding::{BindParams, FetchBindingParams, UnbindParams};
use osb_types::operation::LastOperationParams;
use osb_types::{
    BindRequest, BindResponse, BindingId, Context, FetchBindingResponse, InstanceId, PlanId,
    RotateBindingRequest, ServiceId, UnbindResponse,
};
use reqwest::Method;

use crate::client::{Call, require_non_empty};
use crate::instance::{
    Judged, check_parameters, judge_decode, judge_send, judge_status, last_operation_answer, to_json,
};
use crate::orphan::{MitigationOutcome, MitigationTarget, OperationKind};
use crate::outcome::{BindOutcome, LastOperation, PendingOperation, UnbindOutcome};
use crate::version::Capability;
use crate::{Client, Error, Result};

/// The endpoints of one Service Binding. Get one with
/// [`InstanceApi::binding`](crate::InstanceApi::binding).
#[derive(Debug, Clone)]
pub struct BindingApi {
    pub(crate) client: Client,
    pub(crate) instance_id: InstanceId,
    pub(crate) id: BindingId,
    accepts_incomplete: Option<bool>,
}

impl BindingApi {
    pub(crate) fn new(
        client: Client,
        instance_id: InstanceId,
        id: BindingId,
        accepts_incomplete: Option<bool>,
    ) -> Self {
        Self {
            client,
            instance_id,
            id,
            accepts_incomplete,
        }
    }

    /// The binding id.
    #[must_use]
    pub fn id(&self) -> &BindingId {
        &self.id
    }

    /// The instance id.
    #[must_use]
    pub fn instance_id(&self) -> &InstanceId {
        &self.instance_id
    }

    /// Overrides the client's `accepts_incomplete` for requests made through this value.
    #[must_use]
    pub fn accepts_incomplete(mut self, yes: bool) -> Self {
        self.accepts_incomplete = Some(yes);
        self
    }

    /// `accepts_incomplete=true` is only sent to brokers with asynchronous bindings (≥ 2.14).
    fn incomplete(&self) -> Option<bool> {
        let yes = self
            .accepts_incomplete
            .unwrap_or(self.client.inner.accepts_incomplete);
        (yes && Capability::AsyncBindings.supported_by(self.client.api_version())).then_some(true)
    }

    /// Both ids are non-empty strings.
    fn check_ids(&self) -> Result<()> {
        require_non_empty("the instance id", self.instance_id.as_str())?;
        require_non_empty("the binding id", self.id.as_str())
    }

    fn path(&self) -> [&str; 5] {
        [
            "v2",
            "service_instances",
            self.instance_id.as_str(),
            "service_bindings",
            self.id.as_str(),
        ]
    }

    fn target(&self) -> MitigationTarget {
        MitigationTarget::Binding {
            instance: self.instance_id.clone(),
            binding: self.id.clone(),
        }
    }

    /// `PUT .../service_bindings/:id` with the configured `accepts_incomplete`.
    ///
    /// # Errors
    /// See [`bind_with`](Self::bind_with).
    pub async fn bind(&self, request: &BindRequest) -> Result<BindOutcome> {
        let params = BindParams {
            accepts_incomplete: self.incomplete(),
        };
        self.bind_with(request, &params).await
    }

    /// `PUT .../service_bindings/:id` with explicit query parameters.
    ///
    /// # Errors
    /// Any 4xx/5xx, another status, a malformed 201/202, a timeout; when the orphan-mitigation
    /// table says so, an unbind is sent first and reported in the error.
    pub async fn bind_with(&self, request: &BindRequest, params: &BindParams) -> Result<BindOutcome> {
        self.check_ids()?;
        require_non_empty("service_id", request.service_id.as_str())?;
        require_non_empty("plan_id", request.plan_id.as_str())?;
        if request.context.is_some() {
            self.client.require(Capability::BindingContext)?;
        }
        check_parameters(request.check_parameters())?;
        let ids = (request.service_id.clone(), request.plan_id.clone());
        let platform = request.context.as_ref().and_then(Context::platform);
        let judged = self
            .put(to_json(request)?, params, Some(ids.clone()), platform)
            .await;
        self.client
            .finish(
                OperationKind::Bind,
                judged,
                self.target(),
                Some((ids.0.as_str(), ids.1.as_str())),
            )
            .await
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
        self.rotate_inner(request, Some((service_id.into(), plan_id.into())))
            .await
    }

    async fn rotate_inner(
        &self,
        request: &RotateBindingRequest,
        ids: Option<(ServiceId, PlanId)>,
    ) -> Result<BindOutcome> {
        self.check_ids()?;
        self.client.require(Capability::BindingRotation)?;
        // B60: the predecessor is another (non-expired) binding; the new one has a new id.
        require_non_empty("predecessor_binding_id", request.predecessor_binding_id.as_str())?;
        if request.predecessor_binding_id == self.id {
            return Err(Error::InvalidRequest(format!(
                "a rotation needs a new binding id; {} is the predecessor itself",
                self.id
            )));
        }
        let params = BindParams {
            accepts_incomplete: self.incomplete(),
        };
        let judged = self.put(to_json(request)?, &params, ids.clone(), None).await;
        let ids_ref = ids.as_ref().map(|(s, p)| (s.as_str(), p.as_str()));
        self.client
            .finish(OperationKind::Bind, judged, self.target(), ids_ref)
            .await
    }

    async fn put(
        &self,
        body: Vec<u8>,
        params: &BindParams,
        ids: Option<(ServiceId, PlanId)>,
        context_platform: Option<&str>,
    ) -> Judged<BindOutcome> {
        let res = self
            .client
            .execute(Call {
                method: Method::PUT,
                path: &self.path(),
                query: params.to_query(),
                body: Some(body),
                user_action: true,
                context_platform,
            })
            .await;
        match res {
            Err(e) => Err(judge_send(e)),
            Ok(raw) => match raw.status {
                200 => judge_decode(&raw).map(BindOutcome::AlreadyExists),
                201 => judge_decode(&raw).map(BindOutcome::Created),
                202 => judge_decode::<BindResponse>(&raw).map(|r| {
                    let mut pending = PendingOperation::new(OperationKind::Bind, r.operation.clone());
                    if let Some((s, p)) = ids {
                        pending = pending.with_ids(s, p);
                    }
                    BindOutcome::Accepted {
                        operation: r.operation.clone(),
                        response: r,
                        pending,
                    }
                }),
                _ => Err(judge_status(raw)),
            },
        }
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
        let service_id = service_id.into();
        let plan_id = plan_id.into();
        self.check_ids()?;
        require_non_empty("service_id", service_id.as_str())?;
        require_non_empty("plan_id", plan_id.as_str())?;
        let params = UnbindParams {
            service_id: Some(service_id.clone()),
            plan_id: Some(plan_id.clone()),
            accepts_incomplete: self.incomplete(),
        };
        let res = self
            .client
            .execute(Call {
                method: Method::DELETE,
                path: &self.path(),
                query: params.to_query(),
                body: None,
                user_action: true,
                context_platform: None,
            })
            .await;
        let judged: Judged<UnbindOutcome> = match res {
            Err(e) => Err(judge_send(e)),
            Ok(raw) => match raw.status {
                200 => judge_decode(&raw).map(UnbindOutcome::Unbound),
                202 => judge_decode::<UnbindResponse>(&raw).map(|r| UnbindOutcome::Accepted {
                    operation: r.operation.clone(),
                    pending: PendingOperation::new(OperationKind::Unbind, r.operation)
                        .with_ids(service_id.clone(), plan_id.clone()),
                }),
                410 => Ok(UnbindOutcome::AlreadyGone),
                _ => Err(judge_status(raw)),
            },
        };
        self.client
            .finish(
                OperationKind::Unbind,
                judged,
                self.target(),
                Some((service_id.as_str(), plan_id.as_str())),
            )
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
        let (s, p) = (service_id.into(), plan_id.into());
        self.client.mitigate(self.target(), s.as_str(), p.as_str()).await
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
        self.check_ids()?;
        self.client.require(Capability::FetchBinding)?;
        let raw = self
            .client
            .execute(Call {
                method: Method::GET,
                path: &self.path(),
                query: params.to_query(),
                body: None,
                user_action: true,
                context_platform: None,
            })
            .await?;
        if raw.status != 200 {
            return Err(raw.into_error());
        }
        raw.decode().map_err(|e| raw.decode_error(e))
    }

    /// `GET .../service_bindings/:id/last_operation` (2.14).
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) before 2.14; any status other than
    /// 200 and 410.
    pub async fn last_operation(&self, params: &LastOperationParams) -> Result<LastOperation> {
        self.check_ids()?;
        self.client.require(Capability::BindingLastOperation)?;
        let [a, b, c, d, e] = self.path();
        let raw = self
            .client
            .execute(Call {
                method: Method::GET,
                path: &[a, b, c, d, e, "last_operation"],
                query: params.to_query(),
                body: None,
                user_action: true,
                context_platform: None,
            })
            .await?;
        last_operation_answer(raw)
    }
}
