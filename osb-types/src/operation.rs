//! `last_operation` responses and query parameters, for instances and bindings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::query::params_impl;
use crate::{Extra, OperationId, PlanId, ServiceId};

/// The `state` of an operation.
///
/// ```
/// use osb_types::operation::OperationState;
/// assert_eq!(serde_json::to_string(&OperationState::InProgress).unwrap(), r#""in progress""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperationState {
    /// `"in progress"`: keep polling.
    #[serde(rename = "in progress")]
    InProgress,
    /// `"succeeded"`: stop polling, the operation is done.
    #[serde(rename = "succeeded")]
    Succeeded,
    /// `"failed"`: stop polling, the operation failed.
    #[serde(rename = "failed")]
    Failed,
}

impl OperationState {
    /// The wire value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// `true` for `succeeded` and `failed`.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::InProgress)
    }
}

impl fmt::Display for OperationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The asynchronous-capable requests of the API: what an operation (a `202 Accepted`, a
/// `last_operation` poll, an orphan mitigation) was started by. Shared by platforms and
/// brokers; serialized as its snake_case name (`"provision"`, `"unbind"`, ...).
///
/// ```
/// use osb_types::operation::OperationKind;
/// assert_eq!(serde_json::to_string(&OperationKind::Deprovision).unwrap(), r#""deprovision""#);
/// assert!(OperationKind::Unbind.is_delete());
/// assert_eq!(OperationKind::Bind.to_string(), "bind");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OperationKind {
    /// `PUT /v2/service_instances/:id`.
    Provision,
    /// `PATCH /v2/service_instances/:id`.
    Update,
    /// `DELETE /v2/service_instances/:id`.
    Deprovision,
    /// `PUT .../service_bindings/:id` (create or rotate).
    Bind,
    /// `DELETE .../service_bindings/:id`.
    Unbind,
}

impl OperationKind {
    /// `true` for deprovision and unbind, where a polled `410 Gone` means success.
    #[must_use]
    pub fn is_delete(self) -> bool {
        matches!(self, Self::Deprovision | Self::Unbind)
    }

    /// The lowercase name, as serialized and logged, e.g. `"provision"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::Update => "update",
            Self::Deprovision => "deprovision",
            Self::Bind => "bind",
            Self::Unbind => "unbind",
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Body of a `last_operation` response (instances and bindings).
///
/// ```
/// use osb_types::operation::{LastOperationResponse, OperationState};
/// let r: LastOperationResponse = serde_json::from_str(r#"{"state":"in progress","description":"10%"}"#).unwrap();
/// assert_eq!(r.state, OperationState::InProgress);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastOperationResponse {
    /// The operation's state.
    pub state: OperationState,
    /// A user-facing message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Failed update or deprovision only: whether the instance is still usable (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_usable: Option<bool>,
    /// Failed update only: whether repeating the update may succeed (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_repeatable: Option<bool>,
    /// Fields not defined by the specification, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl LastOperationResponse {
    /// A response with this state and nothing else.
    #[must_use]
    pub fn new(state: OperationState) -> Self {
        Self {
            state,
            description: None,
            instance_usable: None,
            update_repeatable: None,
            extra: Extra::new(),
        }
    }

    /// Sets `description`.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// Query of both `last_operation` endpoints (all optional).
///
/// ```
/// use osb_types::operation::LastOperationParams;
/// let p = LastOperationParams { operation: Some("task 1&2".into()), ..Default::default() };
/// assert_eq!(p.to_query(), "operation=task+1%262");
/// assert_eq!(LastOperationParams::from_query(&p.to_query()).unwrap(), p);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastOperationParams {
    /// The offering (hint).
    pub service_id: Option<ServiceId>,
    /// The plan before any update (hint).
    pub plan_id: Option<PlanId>,
    /// The `operation` value the broker returned, verbatim.
    pub operation: Option<OperationId>,
}
params_impl!(LastOperationParams {
    service_id: string,
    plan_id: string,
    operation: string
});

#[cfg(test)]
mod tests {
    use super::OperationKind;

    /// The server's stores keep `OperationKind` in their records: these names are on disk.
    #[test]
    fn operation_kind_keeps_the_stored_names() {
        let names = [
            (OperationKind::Provision, "provision"),
            (OperationKind::Update, "update"),
            (OperationKind::Deprovision, "deprovision"),
            (OperationKind::Bind, "bind"),
            (OperationKind::Unbind, "unbind"),
        ];
        for (kind, name) in names {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            assert_eq!(
                serde_json::from_value::<OperationKind>(name.into()).unwrap(),
                kind
            );
            assert_eq!(kind.as_str(), name);
        }
    }
}
