//! Orphan mitigation, exactly per the v2.17 "Orphan Mitigation" table.
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
//! Reaching the maximum polling duration makes the operation `failed`, so it is treated
//! like a `failed` last_operation. Mitigation requests omit the originating identity.
//!
//! The DELETE is retried with backoff until the broker confirms the deletion, polling
//! `last_operation` after a `202` ([`OrphanMitigation`]). What happened is in
//! [`Error::orphan_mitigation`](crate::Error::orphan_mitigation); with the policy disabled it
//! says that mitigation is needed ([`MitigationResult::Disabled`]). For platform-internal
//! failures call [`InstanceApi::orphan_mitigate`](crate::InstanceApi::orphan_mitigate)
//! or [`BindingApi::orphan_mitigate`](crate::BindingApi::orphan_mitigate).

use std::fmt;
use std::time::Duration;

use osb_types::{BindingId, InstanceId};

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
    /// `true` for deprovision and unbind, where a polled `410 Gone` means success.
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

/// The orphan-mitigation policy (the specification: "keep trying to delete them until the Service Broker
/// responds with a success").
///
/// When the table asks for mitigation, the client sends the DELETE (deprovision or unbind)
/// and retries it with exponential backoff until the broker answers `200`, `410`, or `202`
/// followed by a `last_operation` of `succeeded` (or `410`), within [`max_attempts`] and
/// [`max_duration`]. The default keeps trying for up to five minutes: the failing call only
/// returns after that, with the result in [`Error::orphan_mitigation`](crate::Error::orphan_mitigation).
///
/// With [`disabled`](Self::disabled) nothing is sent; the error then still says that
/// mitigation is needed ([`Error::needs_orphan_mitigation`](crate::Error::needs_orphan_mitigation)),
/// and the caller can do it later with [`InstanceApi::orphan_mitigate`](crate::InstanceApi::orphan_mitigate)
/// or [`BindingApi::orphan_mitigate`](crate::BindingApi::orphan_mitigate).
///
/// ```
/// use std::time::Duration;
/// use osb_client::OrphanMitigation;
/// let quick = OrphanMitigation::default()
///     .retry_delay(Duration::from_millis(100))
///     .max_duration(Duration::from_secs(10));
/// assert!(quick.enabled);
/// assert!(!OrphanMitigation::disabled().enabled);
/// ```
///
/// [`max_attempts`]: Self::max_attempts
/// [`max_duration`]: Self::max_duration
#[derive(Debug, Clone, PartialEq)]
pub struct OrphanMitigation {
    /// Whether the client performs mitigation itself when the table asks for it.
    pub enabled: bool,
    /// Most DELETEs to send for one resource (at least 1; default 20).
    pub max_attempts: u32,
    /// Pause after the first failed attempt (default 1 s).
    pub retry_delay: Duration,
    /// Factor applied to the pause after each failed attempt (default 2.0; below 1.0 counts
    /// as 1.0).
    pub backoff: f64,
    /// Largest pause between attempts (default 30 s).
    pub max_delay: Duration,
    /// Total time for one mitigation, polling included (default 5 min).
    pub max_duration: Duration,
    /// Pause between `last_operation` polls after a `202` (default 2 s; `Retry-After` wins).
    pub poll_interval: Duration,
}

impl Default for OrphanMitigation {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: 20,
            retry_delay: Duration::from_secs(1),
            backoff: 2.0,
            max_delay: Duration::from_secs(30),
            max_duration: Duration::from_secs(300),
            poll_interval: Duration::from_secs(2),
        }
    }
}

impl OrphanMitigation {
    /// Mitigation on, with the default retries.
    #[must_use]
    pub fn enabled() -> Self {
        Self::default()
    }

    /// Never send mitigation requests automatically; errors still report that one is needed.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets [`max_attempts`](Self::max_attempts).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`retry_delay`](Self::retry_delay).
    #[must_use]
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Sets [`backoff`](Self::backoff).
    #[must_use]
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = factor;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`max_duration`](Self::max_duration).
    #[must_use]
    pub fn max_duration(mut self, duration: Duration) -> Self {
        self.max_duration = duration;
        self
    }

    /// Sets [`poll_interval`](Self::poll_interval).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The pause after failed attempt number `attempt` (1-based): `retry_delay ×
    /// backoff^(attempt-1)`, at most `max_delay`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = osb_client::OrphanMitigation::default();
    /// let d: Vec<u64> = (1..=7).map(|a| p.delay_after(a).as_secs()).collect();
    /// assert_eq!(d, [1, 2, 4, 8, 16, 30, 30]);
    /// ```
    #[must_use]
    pub fn delay_after(&self, attempt: u32) -> Duration {
        crate::poll::backoff_delay(self.retry_delay, self.backoff, self.max_delay, attempt)
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
    /// Mitigation was needed but the policy is [disabled](OrphanMitigation::disabled):
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
