//! What each endpoint answered, keeping the specification's meaning of each status, and what
//! an orphan mitigation did.

use std::fmt;
use std::time::Duration;

use osb_types::binding::Credentials;
use osb_types::path::ApiPath;
use osb_types::{
    BindResponse, BindingId, DeprovisionResponse, InstanceId, LastOperationResponse, OperationId, PlanId,
    ProvisionResponse, ServiceId, UnbindResponse, UpdateResponse,
};

use osb_types::OperationKind;

/// An asynchronous operation to poll: everything [`wait`](crate::InstanceApi::wait) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOperation {
    /// The request that started it.
    pub kind: OperationKind,
    /// The broker's `operation` value, echoed verbatim when polling.
    pub operation: Option<OperationId>,
    /// The offering (a polling hint, and needed for orphan mitigation).
    pub service_id: Option<ServiceId>,
    /// The plan from *before* an update, needed for orphan mitigation.
    pub plan_id: Option<PlanId>,
}

impl PendingOperation {
    /// A pending operation of this kind with no hints.
    #[must_use]
    pub fn new(kind: OperationKind, operation: Option<OperationId>) -> Self {
        Self {
            kind,
            operation,
            service_id: None,
            plan_id: None,
        }
    }

    /// Sets the `service_id` and `plan_id` hints.
    #[must_use]
    pub fn with_ids(mut self, service_id: impl Into<ServiceId>, plan_id: impl Into<PlanId>) -> Self {
        self.service_id = Some(service_id.into());
        self.plan_id = Some(plan_id.into());
        self
    }
}

/// Anything that may leave an operation to poll: outcomes and [`PendingOperation`] itself.
pub trait Pollable {
    /// The operation to poll, or `None` when the request already completed synchronously.
    fn pending(&self) -> Option<PendingOperation>;
}

impl Pollable for PendingOperation {
    fn pending(&self) -> Option<PendingOperation> {
        Some(self.clone())
    }
}

impl<T: Pollable + ?Sized> Pollable for &T {
    fn pending(&self) -> Option<PendingOperation> {
        (**self).pending()
    }
}

/// Answer of a provision.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProvisionOutcome {
    /// `201 Created`.
    Created(ProvisionResponse),
    /// `200 OK`: the identical instance already existed.
    AlreadyExists(ProvisionResponse),
    /// `202 Accepted`: poll `last_operation`.
    Accepted {
        /// The `operation` value (may be absent).
        operation: Option<OperationId>,
        /// The dashboard URL: only delivered now, persist it.
        dashboard_url: Option<String>,
        /// The whole body.
        response: ProvisionResponse,
        /// What to poll.
        pending: PendingOperation,
    },
}

impl ProvisionOutcome {
    /// The dashboard URL, whichever the status.
    #[must_use]
    pub fn dashboard_url(&self) -> Option<&str> {
        match self {
            Self::Created(r) | Self::AlreadyExists(r) | Self::Accepted { response: r, .. } => {
                r.dashboard_url.as_deref()
            }
        }
    }
}

impl ProvisionOutcome {
    /// The whole answer body, whichever the status.
    #[must_use]
    pub fn response(&self) -> &ProvisionResponse {
        match self {
            Self::Created(r) | Self::AlreadyExists(r) | Self::Accepted { response: r, .. } => r,
        }
    }

    /// `true` for a `202 Accepted`: the provision goes on asynchronously.
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }

    /// The `operation` of an asynchronous provision, to poll with.
    #[must_use]
    pub fn operation(&self) -> Option<&OperationId> {
        match self {
            Self::Accepted { operation, .. } => operation.as_ref(),
            _ => None,
        }
    }
}

impl Pollable for ProvisionOutcome {
    fn pending(&self) -> Option<PendingOperation> {
        match self {
            Self::Accepted { pending, .. } => Some(pending.clone()),
            _ => None,
        }
    }
}

/// Answer of an update.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UpdateOutcome {
    /// `200 OK`: applied (or no effect).
    Updated(UpdateResponse),
    /// `202 Accepted`: poll `last_operation` (with the pre-update plan id).
    Accepted {
        /// The `operation` value (may be absent).
        operation: Option<OperationId>,
        /// The new dashboard URL; `None` means "keep the previous one".
        dashboard_url: Option<String>,
        /// The whole body.
        response: UpdateResponse,
        /// What to poll.
        pending: PendingOperation,
    },
}

impl UpdateOutcome {
    /// The dashboard URL to keep after this update: the new one when the broker sent a
    /// non-null `dashboard_url`, else `previous`.
    ///
    /// ```
    /// use osb_client::UpdateOutcome;
    /// let same = UpdateOutcome::Updated(serde_json::from_str(r#"{"dashboard_url":null}"#).unwrap());
    /// assert_eq!(same.dashboard_url_or(Some("http://old")), Some("http://old"));
    /// let new = UpdateOutcome::Updated(serde_json::from_str(r#"{"dashboard_url":"http://new"}"#).unwrap());
    /// assert_eq!(new.dashboard_url_or(Some("http://old")), Some("http://new"));
    /// ```
    #[must_use]
    pub fn dashboard_url_or<'a>(&'a self, previous: Option<&'a str>) -> Option<&'a str> {
        let new = match self {
            Self::Updated(r) | Self::Accepted { response: r, .. } => r.dashboard_url.as_deref(),
        };
        new.or(previous)
    }
}

impl Pollable for UpdateOutcome {
    fn pending(&self) -> Option<PendingOperation> {
        match self {
            Self::Accepted { pending, .. } => Some(pending.clone()),
            Self::Updated(_) => None,
        }
    }
}

/// Answer of a deprovision.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DeprovisionOutcome {
    /// `200 OK`: deleted.
    Deleted(DeprovisionResponse),
    /// `202 Accepted`: poll `last_operation`; a `410` there means done.
    Accepted {
        /// The `operation` value (may be absent).
        operation: Option<OperationId>,
        /// What to poll.
        pending: PendingOperation,
    },
    /// `410 Gone`: the instance does not exist; forget it. A success.
    AlreadyGone,
}

impl Pollable for DeprovisionOutcome {
    fn pending(&self) -> Option<PendingOperation> {
        match self {
            Self::Accepted { pending, .. } => Some(pending.clone()),
            _ => None,
        }
    }
}

/// Answer of a bind or rotation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BindOutcome {
    /// `201 Created`.
    Created(BindResponse),
    /// `200 OK`: the identical binding already existed.
    AlreadyExists(BindResponse),
    /// `202 Accepted`: poll the binding's `last_operation`, then `get` it for credentials.
    Accepted {
        /// The `operation` value (may be absent).
        operation: Option<OperationId>,
        /// The whole body.
        response: BindResponse,
        /// What to poll.
        pending: PendingOperation,
    },
}

impl BindOutcome {
    /// The credentials of a synchronous bind (`201` or `200`): what an application needs.
    /// `None` after a `202` (wait for the bind, then [`get`](crate::BindingApi::get) the
    /// binding) or when the broker sent none (e.g. a route or volume service).
    ///
    /// ```
    /// use osb_client::BindOutcome;
    /// let created = BindOutcome::Created(serde_json::from_str(r#"{"credentials":{"uri":"kv://1"}}"#).unwrap());
    /// assert_eq!(created.credentials().unwrap()["uri"], "kv://1");
    /// assert!(!created.is_accepted());
    /// ```
    #[must_use]
    pub fn credentials(&self) -> Option<&Credentials> {
        self.response().credentials.as_ref()
    }

    /// The whole answer body, whichever the status.
    #[must_use]
    pub fn response(&self) -> &BindResponse {
        match self {
            Self::Created(r) | Self::AlreadyExists(r) | Self::Accepted { response: r, .. } => r,
        }
    }

    /// `true` for a `202 Accepted`: the bind goes on asynchronously.
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }

    /// The `operation` of an asynchronous bind, to poll with.
    #[must_use]
    pub fn operation(&self) -> Option<&OperationId> {
        match self {
            Self::Accepted { operation, .. } => operation.as_ref(),
            _ => None,
        }
    }
}

impl Pollable for BindOutcome {
    fn pending(&self) -> Option<PendingOperation> {
        match self {
            Self::Accepted { pending, .. } => Some(pending.clone()),
            _ => None,
        }
    }
}

/// Answer of an unbind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UnbindOutcome {
    /// `200 OK`: deleted.
    Unbound(UnbindResponse),
    /// `202 Accepted`: poll the binding's `last_operation`; a `410` there means done.
    Accepted {
        /// The `operation` value (may be absent).
        operation: Option<OperationId>,
        /// What to poll.
        pending: PendingOperation,
    },
    /// `410 Gone`: the binding does not exist; forget it. A success.
    AlreadyGone,
}

impl Pollable for UnbindOutcome {
    fn pending(&self) -> Option<PendingOperation> {
        match self {
            Self::Accepted { pending, .. } => Some(pending.clone()),
            _ => None,
        }
    }
}

/// Answer of a `last_operation` request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LastOperation {
    /// `200 OK` with the operation's state.
    Reported {
        /// The body.
        response: LastOperationResponse,
        /// The parsed `Retry-After` header (seconds or HTTP-date).
        retry_after: Option<Duration>,
    },
    /// `410 Gone`: success while polling a delete; invalid (keep polling) otherwise.
    Gone {
        /// The parsed `Retry-After` header, if any.
        retry_after: Option<Duration>,
    },
}

/// Which resource a mitigation deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MitigationTarget {
    /// A Service Instance (deprovision).
    Instance(InstanceId),
    /// A Service Binding (unbind).
    Binding {
        /// The instance.
        instance: InstanceId,
        /// The binding.
        binding: BindingId,
    },
}

impl MitigationTarget {
    /// The path of the resource to delete.
    pub(crate) fn path(&self) -> ApiPath<&str> {
        match self {
            Self::Instance(i) => ApiPath::Instance(i.as_str()),
            Self::Binding { instance, binding } => ApiPath::Binding(instance.as_str(), binding.as_str()),
        }
    }
}

/// How an orphan mitigation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MitigationResult {
    /// The broker deleted the resource: `200`, or `202` and then `last_operation`
    /// `succeeded`.
    Deleted,
    /// `410 Gone` (to the DELETE or while polling it): nothing was left.
    AlreadyGone,
    /// The client gave up: every attempt failed or the time budget ran out. The resource may
    /// still exist; [`Error::needs_orphan_mitigation`](crate::Error::needs_orphan_mitigation)
    /// is `true`.
    Failed {
        /// What went wrong last.
        message: String,
    },
    /// Mitigation was needed but the `service_id`/`plan_id` the DELETE needs are unknown
    /// (e.g. [`rotate`](crate::BindingApi::rotate) without ids).
    Skipped {
        /// Why.
        reason: &'static str,
    },
    /// Mitigation was needed but the policy is [disabled](crate::OrphanMitigation::disabled):
    /// nothing was sent and the caller has to delete the resource.
    Disabled,
}

/// An orphan mitigation that the table asked for: what it was about and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MitigationOutcome {
    /// What was (to be) deleted.
    pub target: MitigationTarget,
    /// How it ended.
    pub result: MitigationResult,
    /// DELETE requests sent (0 when skipped or disabled).
    pub attempts: u32,
}

impl MitigationOutcome {
    /// `true` when the broker confirmed the deletion (`Deleted` or `AlreadyGone`).
    #[must_use]
    pub fn succeeded(&self) -> bool {
        matches!(
            self.result,
            MitigationResult::Deleted | MitigationResult::AlreadyGone
        )
    }

    /// `true` when mitigation was needed and is not confirmed: the caller still has to delete
    /// the resource (`Failed`, `Skipped` or `Disabled`).
    #[must_use]
    pub fn still_needed(&self) -> bool {
        !self.succeeded()
    }
}

impl fmt::Display for MitigationOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            MitigationTarget::Instance(i) => write!(f, "orphan mitigation: deprovision of {i} ")?,
            MitigationTarget::Binding { instance, binding } => {
                write!(f, "orphan mitigation: unbind of {instance}/{binding} ")?;
            }
        }
        match &self.result {
            MitigationResult::Deleted => write!(f, "succeeded ({} attempt(s))", self.attempts),
            MitigationResult::AlreadyGone => {
                write!(f, "found nothing left (410, {} attempt(s))", self.attempts)
            }
            MitigationResult::Failed { message } => {
                write!(f, "failed after {} attempt(s): {message}", self.attempts)
            }
            MitigationResult::Skipped { reason } => write!(f, "needed but skipped: {reason}"),
            MitigationResult::Disabled => f.write_str("needed but not performed (the policy is disabled)"),
        }
    }
}
