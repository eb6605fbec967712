//! Running broker code so that a panic becomes an error instead of taking the server down.

use std::future::Future;

use crate::BrokerError;

/// Runs broker work on its own task: a panic becomes a 500 `InternalError`.
pub(crate) async fn run_caught<T, F>(work: F) -> Result<T, BrokerError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BrokerError>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(BrokerError::internal("broker code panicked")),
        Err(e) => Err(BrokerError::internal(e)),
    }
}
