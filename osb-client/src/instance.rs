//! [`InstanceApi`]: the Service Instance endpoints.

use std::borrow::Cow;
use std::fmt;

use osb_types::instance::{DeprovisionParams, FetchInstanceParams, ProvisionParams, UpdateParams};
use osb_types::operation::LastOperationParams;
use osb_types::{
    BindingId, Context, DeprovisionResponse, FetchInstanceResponse, InstanceId, OperationKind, PlanId,
    ProvisionRequest, ProvisionResponse, ServiceId, UpdateRequest, UpdateResponse,
};
use reqwest::Method;

use crate::binding::BindingApi;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::outcome::{
    DeprovisionOutcome, LastOperation, MitigationOutcome, PendingOperation, Pollable, ProvisionOutcome,
    UpdateOutcome,
};
use crate::poll::{WaitOptions, WaitOutcome};
use crate::resource::{BindingKey, Created, Deleted, InstanceKey, Kind, Resource};
use crate::transport::{check_parameters, require_non_empty, to_json};
use crate::version::Capability;

impl Client {
    /// The Service Instance `id`: provision, update, deprovision, fetch, poll and its bindings.
    pub fn instance(&self, id: impl Into<InstanceId>) -> InstanceApi {
        InstanceApi {
            res: Resource::new(self.clone(), InstanceKey(id.into()), None),
        }
    }
}

/// The endpoints of one Service Instance. Get one with [`Client::instance`].
#[derive(Clone)]
pub struct InstanceApi {
    res: Resource<InstanceKey>,
}

impl fmt::Debug for InstanceApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceApi")
            .field("client", &self.res.client)
            .field("id", &self.res.key.0)
            .field("accepts_incomplete", &self.res.accepts_incomplete)
            .finish()
    }
}

impl InstanceApi {
    /// The instance id.
    #[must_use]
    pub fn id(&self) -> &InstanceId {
        &self.res.key.0
    }

    /// Overrides the client's `accepts_incomplete` for requests made through this value.
    #[must_use]
    pub fn accepts_incomplete(mut self, yes: bool) -> Self {
        self.res.accepts_incomplete = Some(yes);
        self
    }

    /// The binding `id` of this instance.
    pub fn binding(&self, id: impl Into<BindingId>) -> BindingApi {
        let key = BindingKey {
            instance: self.res.key.0.clone(),
            binding: id.into(),
        };
        BindingApi::new(Resource::new(
            self.res.client.clone(),
            key,
            self.res.accepts_incomplete,
        ))
    }

    fn check_body(&self, context: bool, maintenance_info: bool) -> Result<()> {
        if context {
            self.res.client.require(Capability::InstanceContext)?;
        }
        if maintenance_info {
            self.res.client.require(Capability::MaintenanceInfo)?;
        }
        Ok(())
    }

    /// `PUT /v2/service_instances/:id` with the configured `accepts_incomplete`.
    ///
    /// # Errors
    /// See [`provision_with`](Self::provision_with).
    pub async fn provision(&self, request: &ProvisionRequest) -> Result<ProvisionOutcome> {
        let params = ProvisionParams {
            accepts_incomplete: self.res.incomplete(),
        };
        self.provision_with(request, &params).await
    }

    /// `PUT /v2/service_instances/:id` with explicit query parameters.
    ///
    /// # Errors
    /// Any 4xx/5xx ([`Error::Broker`]), another status, a malformed 201/202, a timeout; when
    /// the orphan-mitigation table says so, a deprovision is sent first and reported in the
    /// error. [`Error::Unsupported`] for fields newer than the configured version.
    pub async fn provision_with(
        &self,
        request: &ProvisionRequest,
        params: &ProvisionParams,
    ) -> Result<ProvisionOutcome> {
        self.res.key.check_ids()?;
        require_non_empty("service_id", request.service_id.as_str())?;
        require_non_empty("plan_id", request.plan_id.as_str())?;
        self.check_body(request.context.is_some(), request.maintenance_info.is_some())?;
        check_parameters(request.check_parameters())?;
        let request = &with_deprecated_guids(request)?;
        let ids = (request.service_id.as_str(), request.plan_id.as_str());
        let platform = request.context.as_ref().and_then(Context::platform);
        self.res
            .create(
                to_json(request)?,
                params.to_query(),
                platform,
                Some(ids),
                |answer| match answer {
                    Created::Existing(r) => ProvisionOutcome::AlreadyExists(r),
                    Created::New(r) => ProvisionOutcome::Created(r),
                    Created::Accepted(r) => accepted_provision(r, request),
                },
            )
            .await
    }

    /// `PATCH /v2/service_instances/:id` with the configured `accepts_incomplete`.
    ///
    /// # Errors
    /// See [`update_with`](Self::update_with).
    pub async fn update(&self, request: &UpdateRequest) -> Result<UpdateOutcome> {
        let params = UpdateParams {
            accepts_incomplete: self.res.incomplete(),
        };
        self.update_with(request, &params).await
    }

    /// `PATCH /v2/service_instances/:id`. Never triggers orphan mitigation.
    ///
    /// # Errors
    /// Any status other than 200/202, a malformed body, a transport failure or timeout.
    pub async fn update_with(&self, request: &UpdateRequest, params: &UpdateParams) -> Result<UpdateOutcome> {
        self.res.key.check_ids()?;
        require_non_empty("service_id", request.service_id.as_str())?;
        let prev_mi = request
            .previous_values
            .as_ref()
            .is_some_and(|p| p.maintenance_info.is_some());
        self.check_body(
            request.context.is_some(),
            request.maintenance_info.is_some() || prev_mi,
        )?;
        if is_context_only(request) {
            self.res.client.require(Capability::ContextOnlyUpdate)?;
        }
        check_parameters(request.check_parameters())?;
        let platform = request.context.as_ref().and_then(Context::platform);
        let raw = self
            .res
            .send(
                Method::PATCH,
                self.res.key.path(),
                params.to_query(),
                Some(to_json(request)?),
                platform,
            )
            .await?;
        match raw.status {
            200 => raw.decoded().map(UpdateOutcome::Updated),
            202 => {
                let r: UpdateResponse = raw.decoded()?;
                let pending = PendingOperation {
                    kind: OperationKind::Update,
                    operation: r.operation.clone(),
                    service_id: Some(request.service_id.clone()),
                    plan_id: request.previous_values.as_ref().and_then(|p| p.plan_id.clone()),
                };
                Ok(UpdateOutcome::Accepted {
                    operation: r.operation.clone(),
                    dashboard_url: r.dashboard_url.clone(),
                    response: r,
                    pending,
                })
            }
            _ => Err(raw.into_error()),
        }
    }

    /// `DELETE /v2/service_instances/:id?service_id=..&plan_id=..`.
    ///
    /// `410 Gone` is a success ([`DeprovisionOutcome::AlreadyGone`]).
    ///
    /// # Errors
    /// Any other status (a 5xx or "other 2xx" triggers a repeated deprovision as orphan
    /// mitigation), a malformed body, a transport failure or timeout.
    pub async fn deprovision(
        &self,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> Result<DeprovisionOutcome> {
        let (service_id, plan_id) = (service_id.into(), plan_id.into());
        let query = DeprovisionParams {
            service_id: Some(service_id.clone()),
            plan_id: Some(plan_id.clone()),
            accepts_incomplete: self.res.incomplete(),
        }
        .to_query();
        self.res
            .delete(&service_id, &plan_id, query, |answer| match answer {
                Deleted::Done(r) => DeprovisionOutcome::Deleted(r),
                Deleted::Accepted(DeprovisionResponse { operation, .. }) => DeprovisionOutcome::Accepted {
                    pending: PendingOperation::new(OperationKind::Deprovision, operation.clone())
                        .with_ids(service_id.clone(), plan_id.clone()),
                    operation,
                },
                Deleted::Gone => DeprovisionOutcome::AlreadyGone,
            })
            .await
    }

    /// Orphan mitigation on demand: deprovisions this instance with the policy's
    /// retries, polling after a `202`, until the broker confirms it is gone. For failures the
    /// client cannot see (e.g. the platform could not save the instance it just created), or
    /// after an error with [`Error::needs_orphan_mitigation`] (policy disabled, or given up).
    /// Runs even when the policy is [disabled](crate::OrphanMitigation::disabled); sends no
    /// originating identity.
    pub async fn orphan_mitigate(
        &self,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> MitigationOutcome {
        self.res.orphan_mitigate(service_id.into(), plan_id.into()).await
    }

    /// `GET /v2/service_instances/:id`; a `404` is an error ([`Error::is_not_found`]).
    ///
    /// # Errors
    /// [`Error::Unsupported`] before 2.14; any status other than 200.
    pub async fn get(&self) -> Result<FetchInstanceResponse> {
        self.get_with(&FetchInstanceParams::default()).await
    }

    /// `GET /v2/service_instances/:id`; `Ok(None)` on `404` (which may also mean "still
    /// provisioning").
    ///
    /// # Errors
    /// As [`get`](Self::get), except 404.
    pub async fn get_opt(&self) -> Result<Option<FetchInstanceResponse>> {
        match self.get().await {
            Err(e) if e.is_not_found() => Ok(None),
            other => other.map(Some),
        }
    }

    /// `GET /v2/service_instances/:id` with `service_id`/`plan_id` hints.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn get_with(&self, params: &FetchInstanceParams) -> Result<FetchInstanceResponse> {
        self.res.get_with(params.to_query()).await
    }

    /// `GET /v2/service_instances/:id/last_operation`; `operation` is sent verbatim,
    /// percent-encoded.
    ///
    /// # Errors
    /// Any status other than 200 and 410, a malformed body, a transport failure or timeout.
    pub async fn last_operation(&self, params: &LastOperationParams) -> Result<LastOperation> {
        self.res.last_operation(params).await
    }

    /// Polls this instance's `last_operation` with default [`WaitOptions`] until `op` ends.
    ///
    /// # Errors
    /// See [`wait_with`](Self::wait_with).
    pub async fn wait(&self, op: &impl Pollable) -> Result<WaitOutcome> {
        self.wait_with(op, &WaitOptions::default()).await
    }

    /// Polls this instance's `last_operation` until `op` ends.
    ///
    /// `410 Gone` ends a deprovision successfully and is ignored while provisioning or
    /// updating.
    ///
    /// # Errors
    /// [`Error::OperationFailed`] on `"failed"`, [`Error::PollingTimedOut`] at the deadline
    /// (both deprovision as orphan mitigation after a provision), or a 400/401/403/404/412.
    pub async fn wait_with(&self, op: &impl Pollable, opts: &WaitOptions) -> Result<WaitOutcome> {
        self.res.wait_with(op, opts).await
    }

    /// Deletes every binding in `bindings`, then the instance (the specification: "the Platform MUST delete
    /// all Service Bindings of a Service Instance before deprovisioning it"; the client keeps
    /// no state, so the caller names them).
    ///
    /// Each unbind is waited for with `opts` when asynchronous; `410 Gone` counts as unbound.
    /// The deprovision is *not* waited for: the returned outcome can be passed to
    /// [`wait_with`](Self::wait_with).
    ///
    /// # Errors
    /// The first failing unbind (or its wait); then nothing else is sent. Otherwise the
    /// deprovision's error.
    pub async fn deprovision_after_unbinding<B: Into<BindingId>>(
        &self,
        bindings: impl IntoIterator<Item = B>,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
        opts: &WaitOptions,
    ) -> Result<DeprovisionOutcome> {
        let service_id = service_id.into();
        let plan_id = plan_id.into();
        for id in bindings {
            let binding = self.binding(id);
            let outcome = binding.unbind(service_id.clone(), plan_id.clone()).await?;
            binding.wait_with(&outcome, opts).await?;
        }
        self.deprovision(service_id, plan_id).await
    }
}

/// The outcome of a `202` to a provision: what to poll, with the request's ids.
fn accepted_provision(r: ProvisionResponse, request: &ProvisionRequest) -> ProvisionOutcome {
    ProvisionOutcome::Accepted {
        operation: r.operation.clone(),
        dashboard_url: r.dashboard_url.clone(),
        pending: PendingOperation::new(OperationKind::Provision, r.operation.clone())
            .with_ids(request.service_id.clone(), request.plan_id.clone()),
        response: r,
    }
}

/// An update that changes nothing but `context` (needs 2.15 and `allow_context_updates`).
pub(crate) fn is_context_only(request: &UpdateRequest) -> bool {
    request.context.is_some()
        && request.plan_id.is_none()
        && request.parameters.is_none()
        && request.maintenance_info.is_none()
}

/// `organization_guid` and `space_guid` are required in every version (though deprecated):
/// taken from the request, else from a Cloud Foundry context, else from a
/// Kubernetes context the way Kubernetes Service Catalog sent them (`organization_guid` = the
/// cluster id, `space_guid` = the namespace). Empty strings are refused ("MUST be a non-empty
/// string"), and so is a request that ends up without either.
pub(crate) fn with_deprecated_guids(request: &ProvisionRequest) -> Result<Cow<'_, ProvisionRequest>> {
    for (name, value) in [
        ("organization_guid", &request.organization_guid),
        ("space_guid", &request.space_guid),
    ] {
        if let Some(v) = value {
            require_non_empty(name, v)?;
        }
    }
    let (ctx_org, ctx_space) = match &request.context {
        Some(Context::CloudFoundry(cf)) => (cf.organization_guid.as_deref(), cf.space_guid.as_deref()),
        Some(Context::Kubernetes(k)) => (k.clusterid.as_deref(), k.namespace.as_deref()),
        _ => (None, None),
    };
    let non_empty = |v: Option<&str>| v.filter(|g| !g.is_empty()).map(str::to_owned);
    let org = request.organization_guid.is_none().then(|| non_empty(ctx_org));
    let space = request.space_guid.is_none().then(|| non_empty(ctx_space));
    let missing: Vec<&str> = [
        ("organization_guid", matches!(org, Some(None))),
        ("space_guid", matches!(space, Some(None))),
    ]
    .into_iter()
    .filter_map(|(name, missing)| missing.then_some(name))
    .collect();
    if !missing.is_empty() {
        let source = match &request.context {
            Some(Context::CloudFoundry(_)) => "the Cloud Foundry context does not have it",
            Some(Context::Kubernetes(_)) => {
                "the Kubernetes context has no clusterid (for organization_guid) or namespace (for space_guid)"
            }
            Some(_) => "the context is not a Cloud Foundry or Kubernetes one to take it from",
            None => "the request has no context to take it from",
        };
        return Err(Error::InvalidRequest(format!(
            "a provision must carry {} (required by the specification, and by many brokers); {source}: \
             set them with ProvisionRequest::with_org_space or give a context that has them",
            missing.join(" and ")
        )));
    }
    if !matches!(org, Some(Some(_))) && !matches!(space, Some(Some(_))) {
        return Ok(Cow::Borrowed(request));
    }
    let mut filled = request.clone();
    if let Some(Some(org)) = org {
        filled.organization_guid = Some(org);
    }
    if let Some(Some(space)) = space {
        filled.space_guid = Some(space);
    }
    Ok(Cow::Owned(filled))
}
