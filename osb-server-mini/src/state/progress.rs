//! Running broker code so that a panic becomes an error instead of taking the server down.

use std::future::Future;

use std::time::Instant;

use tracing::Instrument;

use crate::BrokerError;
use crate::metrics::CallScope;

/// Runs broker work on its own task: a panic becomes a 500 `InternalError`. The work runs
/// in an `osb_broker_call` span (inside the request's) naming the operation, and, with
/// metrics on, is timed and its errors counted.
pub(crate) async fn run_caught<T, F>(work: F) -> Result<T, BrokerError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BrokerError>> + Send + 'static,
{
    let span = tracing::info_span!("osb_broker_call", operation = CallScope::operation());
    let started = Instant::now();
    let result = match tokio::spawn(work.instrument(span)).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(BrokerError::internal("broker code panicked")),
        Err(e) => Err(BrokerError::internal(e)),
    };
    CallScope::record_broker_call(started.elapsed(), result.is_err());
    result
}
