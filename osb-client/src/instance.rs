//! [`InstanceApi`]: the Service Instance endpoints.

use std::borrow::Cow;

use osb_types::instance::{DeprovisionParams, FetchInstanceParams, ProvisionParams, UpdateParams};
use osb_types::operation::LastOperationParams;
use osb_types::{
    BindingId, Context, DeprovisionResponse, FetchInstanceResponse, InstanceId, PlanId, ProvisionRequest,
    ProvisionResponse, ServiceId, UpdateRequest, UpdateResponse,
};
use reqwest::Method;
use serde::Serialize;

use crate::client::{Call, Raw, require_non_empty};
use crate::orphan::{MitigationOutcome, MitigationResult, MitigationTarget, OperationKind, Trigger, table};
use crate::outcome::{DeprovisionOutcome, LastOperation, PendingOperation, ProvisionOutcome, UpdateOutcome};
use crate::version::Capability;
use crate::{BindingApi, Client, Error, Result};

/// The endpoints of one Service Instance. Get one with [`Client::instance`].
#[derive(Debug, Clone)]
pub struct InstanceApi {
    pub(crate) client: Client,
    pub(crate) id: InstanceId,
    pub(crate) accepts_incomplete: Option<bool>,
}

/// An error together with the table row it may trigger.
pub(crate) type Judged<T> = std::result::Result<T, (Error, Option<Trigger>)>;

pub(crate) fn judge_send(e: Error) -> (Error, Option<Trigger>) {
    let t = matches!(e, Error::Timeout { .. }).then_some(Trigger::Timeout);
    (e, t)
}

pub(crate) fn judge_status(raw: Raw) -> (Error, Option<Trigger>) {
    let s = raw.status;
    (raw.into_error(), Some(Trigger::Status(s)))
}

pub(crate) fn judge_decode<T: serde::de::DeserializeOwned>(raw: &Raw) -> Judged<T> {
    raw.decode()
        .map_err(|e| (raw.decode_error(e), Some(Trigger::Malformed(raw.status))))
}

/// Refuses a request whose `with_parameters` was given something other than a JSON object.
pub(crate) fn check_parameters(
    checked: std::result::Result<(), osb_types::instance::ParametersError>,
) -> Result<()> {
    checked.map_err(|e| Error::InvalidRequest(e.to_string()))
}

pub(crate) fn to_json<T: Serialize>(body: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| Error::Config(format!("cannot serialize the request body: {e}")))
}

impl Client {
    /// Applies the orphan-mitigation table and policy to a judged answer.
    pub(crate) async fn finish<T>(
        &self,
        kind: OperationKind,
        judged: Judged<T>,
        target: MitigationTarget,
        ids: Option<(&str, &str)>,
    ) -> Result<T> {
        match judged {
            Ok(v) => Ok(v),
            Err((e, Some(trigger))) if table(kind, trigger) => {
                let om = if self.inner.orphan_mitigation.enabled {
                    self.mitigate_with(target, ids).await
                } else {
                    tracing::warn!(?target, "orphan mitigation needed; the policy is disabled");
                    MitigationOutcome {
                        target,
                        result: MitigationResult::Disabled,
                        attempts: 0,
                    }
                };
                Err(e.with_mitigation(om))
            }
            Err((e, _)) => Err(e),
        }
    }

    pub(crate) async fn mitigate_with(
        &self,
        target: MitigationTarget,
        ids: Option<(&str, &str)>,
    ) -> MitigationOutcome {
        match ids {
            Some((s, p)) => self.mitigate(target, s, p).await,
            None => MitigationOutcome {
                target,
                result: MitigationResult::Skipped {
                    reason: "the service_id and plan_id needed for the DELETE are unknown",
                },
                attempts: 0,
            },
        }
    }
}

impl InstanceApi {
    fn target(&self) -> MitigationTarget {
        MitigationTarget::Instance(self.id.clone())
    }

    pub(crate) fn new(client: Client, id: InstanceId) -> Self {
        Self {
            client,
            id,
            accepts_incomplete: None,
        }
    }

    /// The instance id.
    #[must_use]
    pub fn id(&self) -> &InstanceId {
        &self.id
    }

    /// Overrides the client's `accepts_incomplete` for requests made through this value.
    #[must_use]
    pub fn accepts_incomplete(mut self, yes: bool) -> Self {
        self.accepts_incomplete = Some(yes);
        self
    }

    /// The binding `id` of this instance.
    pub fn binding(&self, id: impl Into<BindingId>) -> BindingApi {
        BindingApi::new(
            self.client.clone(),
            self.id.clone(),
            id.into(),
            self.accepts_incomplete,
        )
    }

    fn incomplete(&self) -> bool {
        self.accepts_incomplete
            .unwrap_or(self.client.inner.accepts_incomplete)
    }

    /// The instance id is a non-empty string.
    fn check_id(&self) -> Result<()> {
        require_non_empty("the instance id", self.id.as_str())
    }

    fn path(&self) -> [&str; 3] {
        ["v2", "service_instances", self.id.as_str()]
    }

    fn check_body(&self, context: bool, maintenance_info: bool) -> Result<()> {
        if context {
            self.client.require(Capability::InstanceContext)?;
        }
        if maintenance_info {
            self.client.require(Capability::MaintenanceInfo)?;
        }
        Ok(())
    }

    /// `PUT /v2/service_instances/:id` with the configured `accepts_incomplete`.
    ///
    /// # Errors
    /// See [`provision_with`](Self::provision_with).
    pub async fn provision(&self, request: &ProvisionRequest) -> Result<ProvisionOutcome> {
        let params = ProvisionParams {
            accepts_incomplete: self.incomplete().then_some(true),
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
        self.check_id()?;
        require_non_empty("service_id", request.service_id.as_str())?;
        require_non_empty("plan_id", request.plan_id.as_str())?;
        self.check_body(request.context.is_some(), request.maintenance_info.is_some())?;
        check_parameters(request.check_parameters())?;
        let request = &with_deprecated_guids(request)?;
        let res = self
            .client
            .execute(Call {
                method: Method::PUT,
                path: &self.path(),
                query: params.to_query(),
                body: Some(to_json(request)?),
                user_action: true,
                context_platform: request.context.as_ref().and_then(Context::platform),
            })
            .await;
        let pending = || {
            PendingOperation::new(OperationKind::Provision, None)
                .with_ids(request.service_id.clone(), request.plan_id.clone())
        };
        let judged: Judged<ProvisionOutcome> = match res {
            Err(e) => Err(judge_send(e)),
            Ok(raw) => match raw.status {
                200 => judge_decode(&raw).map(ProvisionOutcome::AlreadyExists),
                201 => judge_decode(&raw).map(ProvisionOutcome::Created),
                202 => judge_decode::<ProvisionResponse>(&raw).map(|r| ProvisionOutcome::Accepted {
                    operation: r.operation.clone(),
                    dashboard_url: r.dashboard_url.clone(),
                    pending: PendingOperation {
                        operation: r.operation.clone(),
                        ..pending()
                    },
                    response: r,
                }),
                _ => Err(judge_status(raw)),
            },
        };
        self.client
            .finish(
                OperationKind::Provision,
                judged,
                self.target(),
                Some((request.service_id.as_str(), request.plan_id.as_str())),
            )
            .await
    }

    /// `PATCH /v2/service_instances/:id` with the configured `accepts_incomplete`.
    ///
    /// # Errors
    /// See [`update_with`](Self::update_with).
    pub async fn update(&self, request: &UpdateRequest) -> Result<UpdateOutcome> {
        let params = UpdateParams {
            accepts_incomplete: self.incomplete().then_some(true),
        };
        self.update_with(request, &params).await
    }

    /// `PATCH /v2/service_instances/:id`. Never triggers orphan mitigation.
    ///
    /// # Errors
    /// Any status other than 200/202, a malformed body, a transport failure or timeout.
    pub async fn update_with(&self, request: &UpdateRequest, params: &UpdateParams) -> Result<UpdateOutcome> {
        self.check_id()?;
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
            self.client.require(Capability::ContextOnlyUpdate)?;
        }
        check_parameters(request.check_parameters())?;
        let raw = self
            .client
            .execute(Call {
                method: Method::PATCH,
                path: &self.path(),
                query: params.to_query(),
                body: Some(to_json(request)?),
                user_action: true,
                context_platform: request.context.as_ref().and_then(Context::platform),
            })
            .await?;
        match raw.status {
            200 => raw
                .decode()
                .map(UpdateOutcome::Updated)
                .map_err(|e| raw.decode_error(e)),
            202 => {
                let r: UpdateResponse = raw.decode().map_err(|e| raw.decode_error(e))?;
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
        let service_id = service_id.into();
        let plan_id = plan_id.into();
        self.check_id()?;
        require_non_empty("service_id", service_id.as_str())?;
        require_non_empty("plan_id", plan_id.as_str())?;
        let params = DeprovisionParams {
            service_id: Some(service_id.clone()),
            plan_id: Some(plan_id.clone()),
            accepts_incomplete: self.incomplete().then_some(true),
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
        let judged: Judged<DeprovisionOutcome> = match res {
            Err(e) => Err(judge_send(e)),
            Ok(raw) => match raw.status {
                200 => judge_decode(&raw).map(DeprovisionOutcome::Deleted),
                202 => judge_decode::<DeprovisionResponse>(&raw).map(|r| DeprovisionOutcome::Accepted {
                    operation: r.operation.clone(),
                    pending: PendingOperation::new(OperationKind::Deprovision, r.operation)
                        .with_ids(service_id.clone(), plan_id.clone()),
                }),
                410 => Ok(DeprovisionOutcome::AlreadyGone),
                _ => Err(judge_status(raw)),
            },
        };
        self.client
            .finish(
                OperationKind::Deprovision,
                judged,
                self.target(),
                Some((service_id.as_str(), plan_id.as_str())),
            )
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
        let (s, p) = (service_id.into(), plan_id.into());
        self.client.mitigate(self.target(), s.as_str(), p.as_str()).await
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
        self.check_id()?;
        self.client.require(Capability::FetchInstance)?;
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

    /// `GET /v2/service_instances/:id/last_operation`; `operation` is sent verbatim,
    /// percent-encoded.
    ///
    /// # Errors
    /// Any status other than 200 and 410, a malformed body, a transport failure or timeout.
    pub async fn last_operation(&self, params: &LastOperationParams) -> Result<LastOperation> {
        self.check_id()?;
        let [a, b, c] = self.path();
        let raw = self
            .client
            .execute(Call {
                method: Method::GET,
                path: &[a, b, c, "last_operation"],
                query: params.to_query(),
                body: None,
                user_action: true,
                context_platform: None,
            })
            .await?;
        last_operation_answer(raw)
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

pub(crate) fn last_operation_answer(raw: Raw) -> Result<LastOperation> {
    match raw.status {
        200 => Ok(LastOperation::Reported {
            response: serde_json::from_slice(&raw.body).map_err(|e| raw.decode_error(e))?,
            retry_after: raw.retry_after,
        }),
        410 => Ok(LastOperation::Gone {
            retry_after: raw.retry_after,
        }),
        _ => Err(raw.into_error()),
    }
}
