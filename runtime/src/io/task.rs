//! Running work on tasks of its own: plugin work, so that what precept runs
//! concurrently (service steps, the command beside `cli_started`) also runs
//! in parallel on a multi-threaded runtime and is cancelled with its owner;
//! and blocking work (reading, hashing, compiling), off the executor.

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

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts `work` on tokio's blocking pool at once, off the executor, and
/// returns a future of what it returns; a panic in `work` goes on in the
/// awaiting caller. Dropping the future does not stop `work`: its result is
/// thrown away. The pool drops work it has not begun only when the runtime
/// shuts down; a caller outside the runtime then gets a panic that says so.
pub(crate) fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = T> {
    let running = tokio::task::spawn_blocking(work);
    async move {
        match running.await {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("precept's work off the executor was dropped: {error}"),
        }
    }
}
