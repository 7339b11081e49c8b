//! Running plugin work on tasks of its own, so that what precept runs
//! concurrently (service steps, the command beside `cli_started`) also runs
//! in parallel on a multi-threaded runtime, and is cancelled with its owner.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

/// A spawned task, awaited like the future it runs. Dropping it aborts the
/// task, as dropping the future itself would.
pub(crate) struct Spawned<T>(JoinHandle<T>);

impl<T: Send + 'static> Spawned<T> {
    /// Starts `future` on a task of its own.
    pub(crate) fn new(future: impl Future<Output = T> + Send + 'static) -> Self {
        Spawned(tokio::spawn(future))
    }
}

impl<T> Future for Spawned<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("a precept task was cancelled from outside: {error}"),
        })
    }
}

/// Runs `work` on tokio's blocking pool, off the executor, and returns what
/// it returns; a panic in `work` goes on in the caller. The pool drops work
/// it has not begun only when the runtime shuts down, which also drops the
/// caller, so that panic says so rather than hiding the cause.
pub(crate) async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("precept's work off the executor was dropped: {error}"),
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
