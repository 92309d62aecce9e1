//! Blocking calls (the image store's locks and downloads, the engine's
//! control-socket round trips) run on tokio's blocking pool, so none holds
//! the other RPCs of the current-thread runtime.

use tonic::Status;

/// Runs `call` off the async runtime's thread.
pub(crate) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| Status::internal(format!("blocking call: {e}")))?
}
