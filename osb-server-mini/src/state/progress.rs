//! Running broker code so that a panic becomes an error instead of taking the server down.

use std::future::Future;

use std::time::Instant;

use tracing::Instrument;

use crate::BrokerError;
use crate::metrics::{CallScope, OperationLabels};

/// Runs broker work on its own task: a panic becomes a 500 `InternalError`. The work runs
/// in an `osb_broker_call` span (inside the request's) naming the operation, and, with
/// metrics on, is timed and its errors counted.
pub(crate) async fn run_caught<T, F>(work: F) -> Result<T, BrokerError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BrokerError>> + Send + 'static,
{
    let scope = CallScope::current();
    let span = tracing::info_span!("osb_broker_call", operation = scope.operation);
    let started = Instant::now();
    let result = match tokio::spawn(work.instrument(span)).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(BrokerError::internal("broker code panicked")),
        Err(e) => Err(BrokerError::internal(e)),
    };
    if let Some(m) = &scope.metrics {
        let labels = OperationLabels {
            operation: scope.operation,
        };
        m.broker_call_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        if result.is_err() {
            m.broker_call_errors.get_or_create(&labels).inc();
        }
    }
    result
}
