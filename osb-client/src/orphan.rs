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

use std::time::{Duration, Instant};

use osb_types::OperationState;
use osb_types::binding::UnbindParams;
use osb_types::instance::DeprovisionParams;
use osb_types::operation::LastOperationParams;
use osb_types::path::ApiPath;
use reqwest::Method;
use tracing::Instrument;

pub use crate::outcome::{MitigationOutcome, MitigationResult, MitigationTarget};
pub use crate::transport::Trigger;
pub use osb_types::OperationKind;

use crate::backoff::backoff_delay;
use crate::error::Result;
use crate::outcome::LastOperation;
use crate::transport::{Call, Judged, Transport, last_operation_answer};
use crate::version::Capability;

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
        backoff_delay(self.retry_delay, self.backoff, self.max_delay, attempt)
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
    use OperationKind::{Bind, Provision, Update};
    match (kind, trigger) {
        (Update, _) => false,
        (_, Trigger::Status(200 | 201 | 202 | 408)) => false,
        (_, Trigger::Status(s)) if (400..500).contains(&s) => false,
        (_, Trigger::Status(s)) if (200..300).contains(&s) || (500..600).contains(&s) => true,
        (_, Trigger::Status(_)) => false,
        (Provision | Bind, Trigger::Malformed(201 | 202)) => true,
        (_, Trigger::Malformed(s)) => !matches!(s, 200..=202) && (200..300).contains(&s),
        (Provision | Bind, Trigger::Timeout) => true,
        (_, Trigger::Timeout) => false,
        (_, Trigger::LastOperationFailed) => true,
    }
}

/// Performs orphan mitigation for one client: its transport and its policy.
pub(crate) struct Mitigator<'a> {
    pub(crate) transport: &'a Transport,
    pub(crate) policy: &'a OrphanMitigation,
}

impl Mitigator<'_> {
    /// Applies the table and the policy to a judged answer: an error the table names is
    /// returned with the mitigation it called for (performed, or reported as disabled).
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
                let om = if self.policy.enabled {
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

    /// [`mitigate`](Self::mitigate) when the ids the DELETE needs are known, else skipped.
    async fn mitigate_with(&self, target: MitigationTarget, ids: Option<(&str, &str)>) -> MitigationOutcome {
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

    /// Sends the mitigation DELETE (deprovision or unbind) and retries it per the policy until
    /// the broker confirms the deletion: `200`, `410`, or `202` followed by a `last_operation`
    /// of `succeeded` or `410`. Ignores `enabled`: callers decide that.
    pub(crate) async fn mitigate(
        &self,
        target: MitigationTarget,
        service_id: &str,
        plan_id: &str,
    ) -> MitigationOutcome {
        let span = tracing::info_span!(
            "osb_orphan_mitigation",
            resource = %target.path().segments().join("/"),
        );
        self.mitigate_in_span(target, service_id, plan_id)
            .instrument(span)
            .await
    }

    async fn mitigate_in_span(
        &self,
        target: MitigationTarget,
        service_id: &str,
        plan_id: &str,
    ) -> MitigationOutcome {
        let policy = self.policy;
        // A policy may allow "forever" (`Duration::MAX`): cap it rather than overflow.
        let now = Instant::now();
        let deadline = now
            .checked_add(policy.max_duration)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        let done = |result, attempts| {
            match &result {
                MitigationResult::Failed { message } => {
                    tracing::warn!(?target, attempts, %message, "orphan mitigation failed");
                }
                other => tracing::info!(?target, ?other, attempts, "orphan mitigation ended"),
            }
            MitigationOutcome {
                target: target.clone(),
                result,
                attempts,
            }
        };
        let path = target.path();
        if path.segments().iter().any(|s| s.is_empty()) || service_id.is_empty() || plan_id.is_empty() {
            return done(
                MitigationResult::Skipped {
                    reason: "an id the DELETE needs is empty",
                },
                0,
            );
        }
        let query = match target {
            MitigationTarget::Instance(_) => DeprovisionParams {
                service_id: Some(service_id.into()),
                plan_id: Some(plan_id.into()),
                accepts_incomplete: Some(true),
            }
            .to_query(),
            MitigationTarget::Binding { .. } => UnbindParams {
                service_id: Some(service_id.into()),
                plan_id: Some(plan_id.into()),
                accepts_incomplete: self.transport.supports(Capability::AsyncBindings).then_some(true),
            }
            .to_query(),
        };
        let max_attempts = policy.max_attempts.max(1);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let call = Call::new(Method::DELETE, path)
                .query(query.clone())
                .attempt(attempts);
            let last = match self.transport.execute(call).await {
                Ok(raw) if raw.status == 200 => return done(MitigationResult::Deleted, attempts),
                Ok(raw) if raw.status == 410 => return done(MitigationResult::AlreadyGone, attempts),
                Ok(raw) if raw.status == 202 => {
                    let operation = raw
                        .decode::<osb_types::DeprovisionResponse>()
                        .ok()
                        .and_then(|r| r.operation);
                    let ids = (service_id, plan_id);
                    match self.poll(path, ids, operation, deadline).await {
                        Ok(result) => return done(result, attempts),
                        Err(message) => message,
                    }
                }
                Ok(raw) => raw.into_error().to_string(),
                Err(e) => e.to_string(),
            };
            let pause = policy.delay_after(attempts);
            if attempts >= max_attempts || Instant::now().checked_add(pause).is_none_or(|t| t > deadline) {
                return done(MitigationResult::Failed { message: last }, attempts);
            }
            tracing::debug!(?target, attempts, %last, "orphan mitigation: trying again");
            tokio::time::sleep(pause).await;
        }
    }

    /// Polls `last_operation` after a mitigation DELETE answered `202`. `Err` means "send the
    /// DELETE again" (or give up when the budget is spent).
    async fn poll(
        &self,
        path: ApiPath<&str>,
        (service_id, plan_id): (&str, &str),
        operation: Option<osb_types::OperationId>,
        deadline: Instant,
    ) -> std::result::Result<MitigationResult, String> {
        let is_binding = matches!(path, ApiPath::Binding(..));
        if is_binding && !self.transport.supports(Capability::BindingLastOperation) {
            return Err("the unbind was accepted (202) but binding last_operation needs 2.14".to_owned());
        }
        let lo_path = path.last_operation().unwrap_or(ApiPath::Catalog);
        let query = LastOperationParams {
            service_id: Some(service_id.into()),
            plan_id: Some(plan_id.into()),
            operation,
        }
        .to_query();
        let mut polls = 0;
        loop {
            polls += 1;
            let call = Call::new(Method::GET, lo_path)
                .query(query.clone())
                .attempt(polls);
            let res = self.transport.execute(call).await.and_then(last_operation_answer);
            let retry_after = match res {
                Ok(LastOperation::Reported {
                    response,
                    retry_after,
                }) => match response.state {
                    OperationState::Succeeded => return Ok(MitigationResult::Deleted),
                    OperationState::Failed => {
                        return Err(format!(
                            "the DELETE was accepted but failed: {}",
                            response.description.as_deref().unwrap_or("no description")
                        ));
                    }
                    OperationState::InProgress => retry_after,
                },
                Ok(LastOperation::Gone { .. }) => return Ok(MitigationResult::AlreadyGone),
                Err(e) if matches!(e.status(), Some(400 | 401 | 403 | 404 | 412)) => {
                    return Err(format!("polling the accepted DELETE: {e}"));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "orphan mitigation: invalid last_operation answer");
                    e.retry_after()
                }
            };
            let pause = retry_after.unwrap_or(self.policy.poll_interval);
            // `checked_add`: a broker's `Retry-After` can be as large as u64::MAX seconds.
            if Instant::now().checked_add(pause).is_none_or(|t| t > deadline) {
                return Err(
                    "the DELETE was accepted (202) but had not finished when the time allowed ran out"
                        .to_owned(),
                );
            }
            tokio::time::sleep(pause).await;
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
