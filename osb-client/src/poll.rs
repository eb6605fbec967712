//! Polling `last_operation` until an asynchronous operation ends.
//!
//! Cancel by dropping the future. `Retry-After` (seconds or HTTP-date) replaces the interval
//! for the next poll, also on a retryable error answer (e.g. `503`); the deadline is the smaller of [`WaitOptions::max_duration`] and the
//! plan's `maximum_polling_duration`, after which the operation is failed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use osb_types::operation::LastOperationParams;
use osb_types::{LastOperationResponse, OperationState, ServicePlan};
use tracing::Instrument;

use crate::backoff::backoff_delay;
use crate::error::{Error, Result};
use crate::outcome::{LastOperation, PendingOperation, Pollable};
use crate::resource::{Kind, Resource};
use crate::transport::Trigger;

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// One observation while polling, passed to [`WaitOptions::on_progress`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Progress {
    /// The reported state.
    pub state: OperationState,
    /// The broker's description, if any.
    pub description: Option<String>,
    /// Time since waiting began.
    pub elapsed: Duration,
    /// Number of `last_operation` requests made so far.
    pub polls: u32,
}

/// How [`InstanceApi::wait_with`](crate::InstanceApi::wait_with) /
/// [`BindingApi::wait_with`](crate::BindingApi::wait_with) poll.
#[derive(Clone)]
pub struct WaitOptions {
    /// First pause between polls (default 2 s).
    pub interval: Duration,
    /// Factor applied to the pause after each poll (default 1.5; 1.0 = fixed interval).
    pub backoff: f64,
    /// Largest pause between polls (default 30 s).
    pub max_interval: Duration,
    /// The platform's maximum polling duration (default 24 h).
    pub max_duration: Duration,
    /// The plan's `maximum_polling_duration`, if it has one.
    pub plan_max_duration: Option<Duration>,
    /// Called after every `"in progress"` answer.
    pub on_progress: Option<ProgressFn>,
}

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("interval", &self.interval)
            .field("backoff", &self.backoff)
            .field("max_interval", &self.max_interval)
            .field("max_duration", &self.max_duration)
            .field("plan_max_duration", &self.plan_max_duration)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            backoff: 1.5,
            max_interval: Duration::from_secs(30),
            max_duration: Duration::from_secs(24 * 3600),
            plan_max_duration: None,
            on_progress: None,
        }
    }
}

impl WaitOptions {
    /// Sets the first interval.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the largest pause between polls.
    #[must_use]
    pub fn max_interval(mut self, max: Duration) -> Self {
        self.max_interval = max;
        self
    }

    /// Sets the backoff factor (values below 1.0 count as 1.0).
    #[must_use]
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = factor;
        self
    }

    /// Sets the platform's maximum polling duration.
    #[must_use]
    pub fn max_duration(mut self, d: Duration) -> Self {
        self.max_duration = d;
        self
    }

    /// Takes `maximum_polling_duration` from the plan (if set).
    #[must_use]
    pub fn plan(mut self, plan: &ServicePlan) -> Self {
        self.plan_max_duration = plan
            .maximum_polling_duration
            .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)));
        self
    }

    /// Calls `f` after every `"in progress"` answer.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    /// The pause after poll number `poll` (1-based) when the broker sends no `Retry-After`:
    /// `interval × backoff^(poll-1)`, at most `max_interval` (but never below `interval`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let o = osb_client::WaitOptions::default(); // 2 s, ×1.5, at most 30 s
    /// let d: Vec<u64> = (1..=9).map(|n| o.interval_after(n).as_millis() as u64).collect();
    /// assert_eq!(d, [2000, 3000, 4500, 6750, 10125, 15187, 22781, 30000, 30000]);
    /// ```
    #[must_use]
    pub fn interval_after(&self, poll: u32) -> Duration {
        backoff_delay(self.interval, self.backoff, self.max_interval, poll)
    }

    fn limit(&self) -> Duration {
        match self.plan_max_duration {
            Some(p) => p.min(self.max_duration),
            None => self.max_duration,
        }
    }
}

/// How a wait ended successfully.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WaitOutcome {
    /// Nothing to poll: the request had completed synchronously.
    Completed,
    /// `last_operation` reported `"succeeded"`.
    Succeeded(LastOperationResponse),
    /// `410 Gone` while polling a delete: the resource is gone.
    Gone,
}

/// Statuses that polling cannot fix: stop instead of polling on (the specification asks to keep
/// polling on "invalid" answers; these are answers about the request itself).
fn is_final(e: &Error) -> bool {
    matches!(e.status(), Some(400 | 401 | 403 | 404 | 412)) || matches!(e, Error::Unsupported { .. })
}

impl<K: Kind> Resource<K> {
    /// Polls this resource's `last_operation` until `op` ends; a `failed` operation or the
    /// deadline is judged by the orphan-mitigation table.
    pub(crate) async fn wait_with(&self, op: &impl Pollable, opts: &WaitOptions) -> Result<WaitOutcome> {
        let Some(pending) = op.pending() else {
            return Ok(WaitOutcome::Completed);
        };
        let span = tracing::info_span!(
            "osb_wait",
            kind = %pending.kind,
            resource = %self.key.target().path().segments().join("/"),
            operation = pending.operation.as_ref().map(|o| o.as_str()),
        );
        self.wait_pending(pending, opts).instrument(span).await
    }

    async fn wait_pending(&self, pending: PendingOperation, opts: &WaitOptions) -> Result<WaitOutcome> {
        let params = LastOperationParams {
            service_id: pending.service_id.clone(),
            plan_id: pending.plan_id.clone(),
            operation: pending.operation.clone(),
        };
        let start = Instant::now();
        let limit = opts.limit();
        let mut polls = 0u32;
        let ids = pending.service_id.as_ref().zip(pending.plan_id.as_ref());
        let ids = ids.map(|(s, p)| (s.as_str(), p.as_str()));
        let mut last_identity = None;
        loop {
            polls += 1;
            let answer = self.poll(&params, polls).await.map(|(answer, identity)| {
                last_identity = identity;
                answer
            });
            let retry_after = match answer {
                Ok(LastOperation::Reported {
                    response,
                    retry_after: ra,
                }) => match response.state {
                    OperationState::Succeeded => return Ok(WaitOutcome::Succeeded(response)),
                    OperationState::Failed => {
                        let e = Error::OperationFailed {
                            response,
                            orphan_mitigation: None,
                            request_identity: last_identity,
                        };
                        let failed = Err((e, Some(Trigger::LastOperationFailed)));
                        return self.finish(pending.kind, failed, ids).await;
                    }
                    OperationState::InProgress => {
                        if let Some(cb) = &opts.on_progress {
                            cb(&Progress {
                                state: response.state,
                                description: response.description.clone(),
                                elapsed: start.elapsed(),
                                polls,
                            });
                        }
                        ra
                    }
                },
                Ok(LastOperation::Gone { .. }) if pending.kind.is_delete() => return Ok(WaitOutcome::Gone),
                Ok(LastOperation::Gone { retry_after: ra }) => {
                    tracing::warn!(
                        "410 Gone while polling a {}: invalid, polling on",
                        pending.kind.as_str()
                    );
                    ra
                }
                Err(e) if is_final(&e) => return Err(e),
                Err(e) => {
                    // e.g. a 503 with Retry-After from the broker or a proxy in front of it
                    let ra = e.retry_after();
                    tracing::warn!(error = %e, retry_after = ?ra, "invalid last_operation answer, polling on");
                    ra
                }
            };
            let delay = retry_after
                .unwrap_or_else(|| opts.interval_after(polls))
                .max(Duration::from_millis(1));
            let elapsed = start.elapsed();
            // Saturating: a broker's `Retry-After` can be as large as u64::MAX seconds.
            if elapsed.saturating_add(delay) >= limit {
                tokio::time::sleep(limit.saturating_sub(elapsed)).await;
                let e = Error::PollingTimedOut {
                    orphan_mitigation: None,
                    request_identity: last_identity,
                };
                let timed_out = Err((e, Some(Trigger::LastOperationFailed)));
                return self.finish(pending.kind, timed_out, ids).await;
            }
            tokio::time::sleep(delay).await;
        }
    }
}
