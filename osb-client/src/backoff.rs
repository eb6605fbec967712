//! The backoff shared by polling and orphan mitigation.

use std::time::Duration;

/// The pause before try `attempt` (1-based): `first × factor^(attempt-1)`, with `factor` at
/// least 1.0, capped at `max` (or `first`, if larger).
pub(crate) fn backoff_delay(first: Duration, factor: f64, max: Duration, attempt: u32) -> Duration {
    let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let secs = first.as_secs_f64() * factor.max(1.0).powi(exp);
    let cap = max.max(first);
    if secs.is_finite() && secs < cap.as_secs_f64() {
        Duration::from_secs_f64(secs)
    } else {
        cap
    }
}
