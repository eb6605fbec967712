//! Orphan mitigation, exactly per the v2.17 "Orphan Mitigation" table (CHECKLIST B.12).
//!
//! | Request | Broker response | Mitigation |
//! |---|---|---|
//! | provision | 5xx, other 2xx, malformed 201/202, timeout, last_operation `failed` | deprovision |
//! | deprovision | 5xx, other 2xx, last_operation `failed` | deprovision again |
//! | bind | 5xx, other 2xx, malformed 201/202, timeout, last_operation `failed` | unbind |
//! | unbind | 5xx, other 2xx, last_operation `failed` | unbind again |
//! | update, GETs, catalog | anything | never |
//! | any | 200 (even malformed), 408, any other 4xx (incl. `ConcurrencyError`) | never |
//!
//! Reaching the maximum polling duration makes the operation `failed` (B32), so it is treated
//! like a `failed` last_operation. Mitigation requests omit the originating identity (B78).

use std::fmt;
use std::time::Duration;

use osb_types::{BindingId, InstanceId, OperationId};

/// The request whose answer is being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// `true` for deprovision and unbind, where a polled `410 Gone` means success (B33, B34).
    #[must_use]
    pub fn is_delete(self) -> bool {
        matches!(self, Self::Deprovision | Self::Unbind)
    }

    /// A lowercase verb for messages, e.g. `"provision"`.
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

/// What the broker did, as far as the table cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// A response with this status and a body that was fine.
    Status(u16),
    /// A 2xx response whose body could not be decoded.
    Malformed(u16),
    /// No answer before the timeout.
    Timeout,
    /// `last_operation` reported `failed` (or the maximum polling duration was reached).
    LastOperationFailed,
}

/// The orphan-mitigation policy: on by default, can be turned off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanMitigation {
    /// Whether mitigation requests are sent at all.
    pub enabled: bool,
    /// How many DELETEs to try before giving up (the spec says "keep trying"; at least 1).
    pub max_attempts: u32,
    /// Pause between attempts.
    pub retry_delay: Duration,
}

impl Default for OrphanMitigation {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: 3,
            retry_delay: Duration::from_millis(500),
        }
    }
}

impl OrphanMitigation {
    /// Mitigation on, with the default attempts.
    #[must_use]
    pub fn enabled() -> Self {
        Self::default()
    }

    /// Never send mitigation requests.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Whether the v2.17 table asks for mitigation of the resource created by `kind`.
    ///
    /// ```
    /// use osb_client::orphan::{OperationKind, OrphanMitigation, Trigger};
    /// let om = OrphanMitigation::default();
    /// assert!(om.required(OperationKind::Provision, Trigger::Status(500)));
    /// assert!(!om.required(OperationKind::Update, Trigger::Status(500)));
    /// assert!(!om.required(OperationKind::Provision, Trigger::Status(422)));
    /// ```
    #[must_use]
    pub fn required(&self, kind: OperationKind, trigger: Trigger) -> bool {
        self.enabled && table(kind, trigger)
    }
}

/// The v2.17 table itself, independent of the policy.
#[must_use]
pub fn table(kind: OperationKind, trigger: Trigger) -> bool {
    use OperationKind::{Bind, Deprovision, Provision, Unbind, Update};
    match (kind, trigger) {
        (Update, _) => false,
        (_, Trigger::Status(200 | 201 | 202 | 408)) => false,
        (_, Trigger::Status(s)) if (400..500).contains(&s) => false,
        (_, Trigger::Status(s)) if (200..300).contains(&s) || (500..600).contains(&s) => true,
        (_, Trigger::Status(_)) => false,
        (Provision | Bind, Trigger::Malformed(201 | 202)) => true,
        (_, Trigger::Malformed(s)) => !matches!(s, 200..=202) && (200..300).contains(&s),
        (Provision | Bind, Trigger::Timeout) => true,
        (Deprovision | Unbind, Trigger::Timeout) => false,
        (_, Trigger::LastOperationFailed) => true,
    }
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

/// How the mitigation DELETE ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MitigationResult {
    /// `200`: deleted.
    Deleted,
    /// `410`: nothing was left (B78).
    AlreadyGone,
    /// `202`: the broker is deleting it asynchronously.
    Accepted {
        /// The operation the broker returned.
        operation: Option<OperationId>,
    },
    /// Every attempt failed; the last error's message.
    Failed {
        /// The last error.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Mitigation was required but the request lacked the `service_id`/`plan_id` it needs.
    Skipped {
        /// Why.
        reason: &'static str,
    },
}

/// The orphan mitigation the client performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MitigationOutcome {
    /// What was deleted.
    pub target: MitigationTarget,
    /// How it ended.
    pub result: MitigationResult,
}

impl MitigationOutcome {
    /// `true` when the broker confirmed deletion (200, 202 or 410).
    #[must_use]
    pub fn succeeded(&self) -> bool {
        matches!(
            self.result,
            MitigationResult::Deleted | MitigationResult::AlreadyGone | MitigationResult::Accepted { .. }
        )
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
            MitigationResult::Deleted => f.write_str("succeeded"),
            MitigationResult::AlreadyGone => f.write_str("found nothing left (410)"),
            MitigationResult::Accepted { .. } => f.write_str("accepted (202)"),
            MitigationResult::Failed { message, attempts } => {
                write!(f, "failed after {attempts} attempt(s): {message}")
            }
            MitigationResult::Skipped { reason } => write!(f, "skipped: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OperationKind::*;
    use super::Trigger::*;
    use super::*;

    #[test]
    fn b79_table_rows() {
        let rows: &[(OperationKind, Trigger, bool)] = &[
            (Provision, Status(200), false),
            (Provision, Malformed(200), false),
            (Provision, Status(201), false),
            (Provision, Malformed(201), true),
            (Bind, Malformed(201), true),
            (Provision, Malformed(202), true),
            (Bind, Malformed(202), true),
            (Deprovision, Malformed(202), false),
            (Provision, Status(204), true),
            (Deprovision, Status(204), true),
            (Bind, Status(206), true),
            (Unbind, Status(204), true),
            (Update, Status(204), false),
            (Provision, Status(408), false),
            (Bind, Status(409), false),
            (Provision, Status(422), false),
            (Provision, Status(500), true),
            (Deprovision, Status(503), true),
            (Bind, Status(500), true),
            (Unbind, Status(502), true),
            (Update, Status(500), false),
            (Provision, Timeout, true),
            (Bind, Timeout, true),
            (Update, Timeout, false),
            (Deprovision, Timeout, false),
            (Unbind, Timeout, false),
            (Provision, LastOperationFailed, true),
            (Deprovision, LastOperationFailed, true),
            (Bind, LastOperationFailed, true),
            (Unbind, LastOperationFailed, true),
            (Update, LastOperationFailed, false),
            (Provision, Status(302), false),
        ];
        for (k, t, want) in rows {
            assert_eq!(table(*k, *t), *want, "{k:?} {t:?}");
        }
        assert!(!OrphanMitigation::disabled().required(Provision, Status(500)));
    }
}
