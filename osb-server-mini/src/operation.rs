//! Asynchronous operations: ids, live progress, and running broker work so that a panic
//! becomes an error instead of taking the server down.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use osb_types::OperationId;

use crate::BrokerError;
use crate::reply::Progress;

/// A fresh operation id (a UUID v4, 36 characters).
pub(crate) fn new_operation_id() -> OperationId {
    OperationId::new(uuid::Uuid::new_v4().to_string())
}

/// The [`Progress`] handles of the operations running in this process, by operation id.
#[derive(Default)]
pub(crate) struct Operations {
    live: Mutex<HashMap<String, Progress>>,
}

impl Operations {
    /// Registers a running operation.
    pub(crate) fn start(&self, id: &OperationId, progress: Progress) {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.as_str().to_owned(), progress);
    }

    /// The live description of a running operation.
    pub(crate) fn description(&self, id: &OperationId) -> Option<String> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id.as_str())
            .and_then(Progress::get)
    }

    /// Forgets a finished operation's live handle (its outcome is in the store).
    pub(crate) fn finish(&self, id: &OperationId) {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id.as_str());
    }
}

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
