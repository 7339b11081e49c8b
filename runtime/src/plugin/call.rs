//! The one path of every call into a plugin: lock its store, give the call
//! its time, run it under its clock bound, take what it requested, and turn
//! the outcome into an answer or a failure. A call that trapped, ran out of
//! time or went past a limit disables the plugin, and its store is dropped.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;
use wasmtime::{Store, UpdateDeadline};

use super::{Instance, Plugin};
use crate::host::HostState;
use crate::host::requests::Requests;
use crate::model::error::{FailureKind, PluginFailure, one_line};
use crate::trust::sandbox::LimitExceeded;
use crate::wit::{Answer, Exports};

/// What one call into a plugin produced: its result and the requests it
/// made of the dispatcher, to carry out in order.
pub(crate) struct Called<T> {
    pub(crate) result: Result<T, PluginFailure>,
    pub(crate) ops: Requests,
}

impl<T> Called<T> {
    /// The answer for a call that could not be made: the plugin is disabled.
    pub(crate) fn disabled(plugin: &Plugin, export: &'static str) -> Self {
        Called {
            result: Err(PluginFailure {
                plugin: plugin.name().to_string(),
                kind: FailureKind::Error,
                export,
                event: None,
                cause: "the plugin is disabled".into(),
            }),
            ops: Requests::default(),
        }
    }
}

/// Makes the store count the plugin's own running time: running wasm
/// reaches an epoch deadline at every tick (every 10 ms of the engine's
/// clock), spends one tick of the call's allowance there, and, in an
/// asynchronous call, yields to the executor. Time spent waiting for the
/// executor or in the host is not counted: a busy plugin cannot make
/// another one time out. At each tick the call's clock bound is checked
/// too, a plugin disabled while it runs (e.g. its running command) stops,
/// and so does a synchronous call once SIGINT or SIGTERM came.
pub(crate) fn count_running_time(store: &mut Store<HostState>, allowance: Duration) {
    store.data_mut().allow(Some(allowance));
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut context| {
        let state = context.data_mut();
        if state.is_disabled() {
            return Err(LimitExceeded::Disabled.into());
        }
        if state.ticks_left == 0 {
            return Err(LimitExceeded::Time(state.allowance).into());
        }
        state.ticks_left -= 1;
        if let Some(bound) = state.clock_bound_passed(Instant::now()) {
            return Err(LimitExceeded::Wait(bound).into());
        }
        if !state.is_synchronous() {
            return Ok(UpdateDeadline::Yield(1));
        }
        // A synchronous call holds its task: a signal that ends the run
        // stops it, as it drops an asynchronous one.
        if state.interrupted() {
            wasmtime::bail!("interrupted");
        }
        Ok(UpdateDeadline::Continue(1))
    });
}

/// A plugin's store, locked for one call.
pub(crate) struct Entered<'a> {
    plugin: &'a Plugin,
    /// The instance's flag, shared with its store.
    disabled: Arc<AtomicBool>,
    guard: OwnedMutexGuard<Option<Instance>>,
}

impl Plugin {
    /// Locks the plugin's store for one call with `allowance` of running
    /// time (`None`: unbounded); `None` when the plugin is disabled.
    pub(super) async fn enter(&self, allowance: Option<Duration>) -> Option<Entered<'_>> {
        let loaded = self.current();
        let mut guard = loaded.instance.clone().lock_owned().await;
        if loaded.disabled.load(Ordering::Acquire) {
            guard.take();
            return None;
        }
        let instance = guard.as_mut()?;
        instance.store.data_mut().allow(allowance);
        instance.store.set_epoch_deadline(1);
        Some(Entered {
            plugin: self,
            disabled: loaded.disabled.clone(),
            guard,
        })
    }
}

/// What a call made at once, if it could be, gave.
pub(crate) enum Now<T> {
    /// The answer, and whether the call ran for an epoch tick or more.
    Done(Called<T>, bool),
    /// The plugin is disabled.
    Disabled,
    /// It could not be made at once: the plugin is called asynchronously,
    /// or a call holds its store.
    Later,
}

impl Plugin {
    /// Locks the plugin's store for one call, as [`Plugin::enter`] does,
    /// if the plugin is called synchronously and no call holds its store:
    /// `None` when it is not so, `Some(None)` when the plugin is disabled.
    pub(super) fn enter_now(&self, allowance: Option<Duration>) -> Option<Option<Entered<'_>>> {
        let loaded = self.current();
        if !loaded.synchronous {
            return None;
        }
        let mut guard = loaded.instance.clone().try_lock_owned().ok()?;
        if loaded.disabled.load(Ordering::Acquire) {
            guard.take();
            return Some(None);
        }
        let Some(instance) = guard.as_mut() else {
            return Some(None);
        };
        instance.store.data_mut().allow(allowance);
        instance.store.set_epoch_deadline(1);
        Some(Some(Entered {
            plugin: self,
            disabled: loaded.disabled.clone(),
            guard,
        }))
    }
}

/// Runs one call into the instance whose flag is `disabled` for at most
/// `wait` by the clock; if the call is abandoned half-way (its future
/// dropped), the instance is disabled.
pub(super) async fn watched<T>(
    disabled: &AtomicBool,
    wait: Option<Duration>,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    let cancelled = CancelGuard::arm(disabled);
    let result = bounded(wait, call).await;
    cancelled.disarm();
    result
}

impl Entered<'_> {
    /// Makes a synchronous call with `call`, on this thread, bounded by
    /// `wait` by the clock, if the instance is called so (`None`: it is
    /// not); and whether the call ran for an epoch tick or more.
    pub(super) fn call_now<T>(
        &mut self,
        wait: Duration,
        call: impl FnOnce(&mut Store<HostState>, &Exports) -> Option<Answer<T>>,
    ) -> Option<(Answer<T>, bool)> {
        let (store, exports, _) = self.parts();
        if !exports.is_synchronous() {
            return None;
        }
        let ticks = store.data().ticks_left;
        store.data_mut().call_synchronously(true, Some(wait));
        let result = call(store, exports);
        store.data_mut().call_synchronously(false, None);
        result.map(|result| (result, store.data().ticks_left < ticks))
    }

    /// The store and the exports, to make an asynchronous call with,
    /// bounded by `wait` by the clock, and the instance's flag.
    pub(super) fn parts_async(
        &mut self,
        wait: Option<Duration>,
    ) -> (&mut Store<HostState>, &Exports, &AtomicBool) {
        let (store, exports, disabled) = self.parts();
        store.data_mut().call_synchronously(false, wait);
        (store, exports, disabled)
    }

    /// The store and the exports, and the instance's flag.
    fn parts(&mut self) -> (&mut Store<HostState>, &Exports, &AtomicBool) {
        let instance = self.guard.as_mut().expect("entered with an instance");
        (&mut instance.store, &instance.exports, &self.disabled)
    }

    /// Turns a wasmtime call result into the plugin's answer. A trap, a
    /// timeout or a limit disables the plugin, drops whatever that call
    /// requested, and releases the store.
    pub(super) fn settle<T>(
        mut self,
        result: wasmtime::Result<Result<T, String>>,
        export: &'static str,
        event: Option<&str>,
    ) -> Called<T> {
        let ops = self.parts().0.data_mut().take_ops();
        let failure = |kind, cause| PluginFailure {
            plugin: self.plugin.name().to_string(),
            kind,
            export,
            event: event.map(str::to_string),
            cause,
        };
        match result {
            Ok(Ok(value)) => Called {
                result: Ok(value),
                ops,
            },
            Ok(Err(message)) => Called {
                result: Err(failure(FailureKind::Error, message)),
                ops,
            },
            Err(error) => {
                self.disabled.store(true, Ordering::Release);
                let kind = match error.downcast_ref::<LimitExceeded>() {
                    Some(LimitExceeded::Time(_) | LimitExceeded::Wait(_)) => FailureKind::Timeout,
                    Some(_) => FailureKind::Limit,
                    None => FailureKind::Trap,
                };
                Called {
                    result: Err(failure(kind, one_line(&error))),
                    ops: Requests::default(),
                }
            }
        }
    }
}

impl Drop for Entered<'_> {
    /// A disabled plugin's store is dropped, and its memory released.
    fn drop(&mut self) {
        if self.disabled.load(Ordering::Acquire) {
            self.guard.take();
        }
    }
}

/// Runs `call` for at most `wait` by the clock. Past it, the call is
/// dropped — the wasm stops at its next epoch tick, a host call at its next
/// await — and fails with [`LimitExceeded::Wait`].
pub(crate) async fn bounded<T>(
    wait: Option<Duration>,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    match wait {
        Some(wait) => tokio::time::timeout(wait, call)
            .await
            .unwrap_or_else(|_| Err(LimitExceeded::Wait(wait).into())),
        None => call.await,
    }
}

/// Disables the plugin if a call is abandoned half-way (its future dropped,
/// e.g. on Ctrl-C): the instance may be left mid-call and cannot be entered
/// again.
struct CancelGuard<'a> {
    disabled: &'a AtomicBool,
    armed: bool,
}

impl<'a> CancelGuard<'a> {
    fn arm(disabled: &'a AtomicBool) -> Self {
        CancelGuard {
            disabled,
            armed: true,
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.disabled.store(true, Ordering::Release);
        }
    }
}
