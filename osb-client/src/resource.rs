//! [`Resource`]: what Service Instances and Service Bindings share, in the spirit of kube's
//! `Api<K>`: a client, the resource's ids ([`Kind`]), and the requests both have (create,
//! delete, fetch, `last_operation`, orphan mitigation). [`InstanceApi`](crate::InstanceApi) and
//! [`BindingApi`](crate::BindingApi) add what is theirs (bodies, update, rotation).

use std::fmt;

use osb_types::operation::LastOperationParams;
use osb_types::path::ApiPath;
use osb_types::{BindingId, InstanceId, OperationKind, PlanId, RequestIdentity, ServiceId};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::Result;
use crate::orphan::MitigationOutcome;
use crate::outcome::{LastOperation, MitigationTarget};
use crate::transport::{
    Call, Judged, Raw, judge_decode, judge_send, judge_status, last_operation_answer, require_non_empty,
};
use crate::version::Capability;

/// The ids of one kind of resource and what the API version must have for its requests.
pub(crate) trait Kind: Clone + fmt::Debug + Send + Sync {
    /// The body of a fetch.
    type Fetched: DeserializeOwned;
    /// The request that creates one (provision, bind).
    const CREATE: OperationKind;
    /// The request that deletes one (deprovision, unbind).
    const DELETE: OperationKind;
    /// Needed to fetch one.
    const FETCH: Capability;
    /// Needed for `last_operation`, when older versions lack it.
    const LAST_OPERATION: Option<Capability>;
    /// Needed for `accepts_incomplete`, when older versions lack it.
    const ASYNC: Option<Capability>;
    /// The resource's path.
    fn path(&self) -> ApiPath<&str>;
    /// Refuses empty ids.
    fn check_ids(&self) -> Result<()>;
    /// What orphan mitigation deletes.
    fn target(&self) -> MitigationTarget;
}

/// A Service Instance's id.
#[derive(Debug, Clone)]
pub(crate) struct InstanceKey(pub(crate) InstanceId);

/// A Service Binding's ids.
#[derive(Debug, Clone)]
pub(crate) struct BindingKey {
    pub(crate) instance: InstanceId,
    pub(crate) binding: BindingId,
}

impl Kind for InstanceKey {
    type Fetched = osb_types::FetchInstanceResponse;
    const CREATE: OperationKind = OperationKind::Provision;
    const DELETE: OperationKind = OperationKind::Deprovision;
    const FETCH: Capability = Capability::FetchInstance;
    const LAST_OPERATION: Option<Capability> = None;
    const ASYNC: Option<Capability> = None;

    fn path(&self) -> ApiPath<&str> {
        ApiPath::Instance(self.0.as_str())
    }

    fn check_ids(&self) -> Result<()> {
        require_non_empty("the instance id", self.0.as_str())
    }

    fn target(&self) -> MitigationTarget {
        MitigationTarget::Instance(self.0.clone())
    }
}

impl Kind for BindingKey {
    type Fetched = osb_types::FetchBindingResponse;
    const CREATE: OperationKind = OperationKind::Bind;
    const DELETE: OperationKind = OperationKind::Unbind;
    const FETCH: Capability = Capability::FetchBinding;
    const LAST_OPERATION: Option<Capability> = Some(Capability::BindingLastOperation);
    const ASYNC: Option<Capability> = Some(Capability::AsyncBindings);

    fn path(&self) -> ApiPath<&str> {
        ApiPath::Binding(self.instance.as_str(), self.binding.as_str())
    }

    fn check_ids(&self) -> Result<()> {
        require_non_empty("the instance id", self.instance.as_str())?;
        require_non_empty("the binding id", self.binding.as_str())
    }

    fn target(&self) -> MitigationTarget {
        MitigationTarget::Binding {
            instance: self.instance.clone(),
            binding: self.binding.clone(),
        }
    }
}

/// The answer to a create (`PUT`), by status.
pub(crate) enum Created<R> {
    /// `200 OK`: the identical resource already existed.
    Existing(R),
    /// `201 Created`.
    New(R),
    /// `202 Accepted`.
    Accepted(R),
}

/// The answer to a delete, by status.
pub(crate) enum Deleted<R> {
    /// `200 OK`.
    Done(R),
    /// `202 Accepted`.
    Accepted(R),
    /// `410 Gone`.
    Gone,
}

/// One instance or binding of a client.
#[derive(Clone)]
pub(crate) struct Resource<K> {
    pub(crate) client: Client,
    pub(crate) key: K,
    /// Overrides the client's `accepts_incomplete`.
    pub(crate) accepts_incomplete: Option<bool>,
}

impl<K: Kind> Resource<K> {
    pub(crate) fn new(client: Client, key: K, accepts_incomplete: Option<bool>) -> Self {
        Self {
            client,
            key,
            accepts_incomplete,
        }
    }

    /// The `accepts_incomplete` to send: `Some(true)` when wanted and the version allows it.
    pub(crate) fn incomplete(&self) -> Option<bool> {
        let yes = self
            .accepts_incomplete
            .unwrap_or(self.client.inner.accepts_incomplete);
        let allowed = K::ASYNC.is_none_or(|cap| self.client.transport().supports(cap));
        (yes && allowed).then_some(true)
    }

    /// Sends a request tied to a user action to `path` (the resource's or its
    /// `last_operation`).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: ApiPath<&str>,
        query: String,
        body: Option<Vec<u8>>,
        context_platform: Option<&str>,
    ) -> Result<Raw> {
        self.send_attempt(method, path, query, body, context_platform, 1)
            .await
    }

    /// [`send`](Self::send), the `attempt`th time.
    async fn send_attempt(
        &self,
        method: Method,
        path: ApiPath<&str>,
        query: String,
        body: Option<Vec<u8>>,
        context_platform: Option<&str>,
        attempt: u32,
    ) -> Result<Raw> {
        let call = Call {
            method,
            path,
            query,
            body,
            user_action: true,
            context_platform,
            attempt,
            headers: reqwest::header::HeaderMap::new(),
        };
        self.client.transport().execute(call).await
    }

    /// Applies the orphan-mitigation table to a judged answer of a `kind` request.
    pub(crate) async fn finish<T>(
        &self,
        kind: OperationKind,
        judged: Judged<T>,
        ids: Option<(&str, &str)>,
    ) -> Result<T> {
        self.client
            .mitigator()
            .finish(kind, judged, self.key.target(), ids)
            .await
    }

    /// `PUT` of the resource (provision, bind, rotate): `outcome` turns the answer into the
    /// endpoint's; failures the table names are mitigated with `ids`.
    pub(crate) async fn create<R: DeserializeOwned, T>(
        &self,
        body: Vec<u8>,
        query: String,
        context_platform: Option<&str>,
        ids: Option<(&str, &str)>,
        outcome: impl FnOnce(Created<R>) -> T,
    ) -> Result<T> {
        let res = self
            .send(Method::PUT, self.key.path(), query, Some(body), context_platform)
            .await;
        let judged = match res {
            Err(e) => Err(judge_send(e)),
            Ok(raw) => match raw.status {
                200 => judge_decode(&raw).map(Created::Existing),
                201 => judge_decode(&raw).map(Created::New),
                202 => judge_decode(&raw).map(Created::Accepted),
                _ => Err(judge_status(raw)),
            },
        };
        self.finish(K::CREATE, judged.map(outcome), ids).await
    }

    /// `DELETE` of the resource with its required `service_id` and `plan_id` (in `query`,
    /// built by the caller from them); `410 Gone` is a success.
    pub(crate) async fn delete<R: DeserializeOwned, T>(
        &self,
        service_id: &ServiceId,
        plan_id: &PlanId,
        query: String,
        outcome: impl FnOnce(Deleted<R>) -> T,
    ) -> Result<T> {
        self.key.check_ids()?;
        require_non_empty("service_id", service_id.as_str())?;
        require_non_empty("plan_id", plan_id.as_str())?;
        let res = self
            .send(Method::DELETE, self.key.path(), query, None, None)
            .await;
        let judged = match res {
            Err(e) => Err(judge_send(e)),
            Ok(raw) => match raw.status {
                200 => judge_decode(&raw).map(Deleted::Done),
                202 => judge_decode(&raw).map(Deleted::Accepted),
                410 => Ok(Deleted::Gone),
                _ => Err(judge_status(raw)),
            },
        };
        let ids = Some((service_id.as_str(), plan_id.as_str()));
        self.finish(K::DELETE, judged.map(outcome), ids).await
    }

    /// `GET` of the resource with these query parameters.
    pub(crate) async fn get_with(&self, query: String) -> Result<K::Fetched> {
        self.key.check_ids()?;
        self.client.require(K::FETCH)?;
        self.send(Method::GET, self.key.path(), query, None, None)
            .await?
            .ok()
    }

    /// `GET` of the resource's `last_operation`.
    pub(crate) async fn last_operation(&self, params: &LastOperationParams) -> Result<LastOperation> {
        self.poll(params, 1).await.map(|(answer, _)| answer)
    }

    /// Poll number `attempt` of `last_operation`, with the request identity it carried.
    pub(crate) async fn poll(
        &self,
        params: &LastOperationParams,
        attempt: u32,
    ) -> Result<(LastOperation, Option<RequestIdentity>)> {
        self.key.check_ids()?;
        if let Some(cap) = K::LAST_OPERATION {
            self.client.require(cap)?;
        }
        let path = self.key.path().last_operation().unwrap_or(ApiPath::Catalog);
        let raw = self
            .send_attempt(Method::GET, path, params.to_query(), None, None, attempt)
            .await?;
        let identity = raw.request_identity.clone();
        last_operation_answer(raw).map(|answer| (answer, identity))
    }

    /// Orphan mitigation on demand: the policy's retries, regardless of `enabled`.
    pub(crate) async fn orphan_mitigate(&self, service_id: ServiceId, plan_id: PlanId) -> MitigationOutcome {
        self.client
            .mitigator()
            .mitigate(self.key.target(), service_id.as_str(), plan_id.as_str())
            .await
    }
}
