//! The imports of a plugin called synchronously, without a fiber.
//!
//! A plugin's `setup` and `on-event` are called synchronously when the
//! component imports nothing that can make it wait: `precept:plugin`,
//! `wasi:cli`, `wasi:random`, the wall clock and `wasi:io` (for its
//! standard streams). A component that imports the monotonic clock (to
//! sleep), files, sockets or `wasi:http` does not link here, and is called
//! asynchronously, as every plugin's services and commands are.
//!
//! The one wait left is a standard stream's pipe when it is full (a slow
//! reader): `wasi:io`'s blocking functions are linked here as synchronous
//! ones that finish at once when they can. When one cannot, it waits in
//! [`tokio::task::block_in_place`], which hands the executor's other tasks
//! to another thread, bounded by the call's clock bound and stopped when
//! the plugin is disabled. Synchronous instances are made only on a
//! multi-threaded runtime, where that is possible.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeFlavor};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable, ResourceType};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::p2::bindings::{cli, clocks, random};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{WasiView, p2::DynPollable};
use wasmtime_wasi_io::IoView;
use wasmtime_wasi_io::bindings::wasi::io::poll::{Host as _, HostPollable};
use wasmtime_wasi_io::bindings::wasi::io::streams::{
    self, Host as _, HostInputStream, HostOutputStream,
};
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream, StreamResult};

use super::HostState;
use crate::trust::sandbox::{EPOCH_TICK, LimitExceeded};

/// The `wasi:io` version whose functions are replaced by synchronous ones.
const WASI_IO: &str = "0.2.12";

/// Whether a plugin instantiated now may be called synchronously: on a
/// multi-threaded runtime, where a wait can leave the executor.
pub(crate) fn available() -> bool {
    Handle::try_current().is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Adds the imports that never wait, and synchronous `wasi:io`, to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let l = &mut *linker;
    clocks::wall_clock::add_to_linker::<HostState, WasiClocks>(l, HostState::clocks)?;
    random::random::add_to_linker::<HostState, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure::add_to_linker::<HostState, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure_seed::add_to_linker::<HostState, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    cli::exit::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::environment::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_input::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_output::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;

    // `wasi:io` as WASI links it, then its waiting functions replaced.
    wasmtime_wasi_io::add_to_linker_async(linker)?;
    linker.allow_shadowing(true);
    add_poll(linker)?;
    add_streams(linker)?;
    linker.allow_shadowing(false);
    Ok(())
}

impl IoView for HostState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

type Store<'a> = StoreContextMut<'a, HostState>;
type WitStreamResult<T> = wasmtime::Result<(Result<T, streams::StreamError>,)>;

fn add_poll(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut poll = linker.instance(&format!("wasi:io/poll@{WASI_IO}"))?;
    poll.func_wrap(
        "poll",
        |mut store: Store, (list,): (Vec<Resource<DynPollable>>,)| {
            let state = store.data_mut();
            Ok((state.bound.drive(state.table.poll(list))??,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: Store, (this,): (Resource<DynPollable>,)| {
            let state = store.data_mut();
            state.bound.drive(state.table.block(this))??;
            Ok(())
        },
    )?;
    poll.func_wrap(
        "[method]pollable.ready",
        |mut store: Store, (this,): (Resource<DynPollable>,)| {
            let state = store.data_mut();
            Ok((state.bound.drive(state.table.ready(this))??,))
        },
    )?;
    Ok(())
}

fn add_streams(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut streams = linker.instance(&format!("wasi:io/streams@{WASI_IO}"))?;
    streams.resource(
        "input-stream",
        ResourceType::host::<DynInputStream>(),
        |mut store, rep| {
            let state = store.data_mut();
            let stream = Resource::new_own(rep);
            state
                .bound
                .drive(HostInputStream::drop(&mut state.table, stream))?
        },
    )?;
    streams.resource(
        "output-stream",
        ResourceType::host::<DynOutputStream>(),
        |mut store, rep| {
            let state = store.data_mut();
            let stream = Resource::new_own(rep);
            state
                .bound
                .drive(HostOutputStream::drop(&mut state.table, stream))?
        },
    )?;
    streams.func_wrap(
        "[method]input-stream.blocking-read",
        |mut store: Store, (this, len): (Resource<DynInputStream>, u64)| {
            let state = store.data_mut();
            let read = state.bound.drive(state.table.blocking_read(this, len))?;
            answer(&mut state.table, read)
        },
    )?;
    streams.func_wrap(
        "[method]input-stream.blocking-skip",
        |mut store: Store, (this, len): (Resource<DynInputStream>, u64)| {
            let state = store.data_mut();
            let skipped = state.bound.drive(state.table.blocking_skip(this, len))?;
            answer(&mut state.table, skipped)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |mut store: Store, (this, bytes): (Resource<DynOutputStream>, Vec<u8>)| {
            let state = store.data_mut();
            let table = &mut state.table;
            let written = state
                .bound
                .drive(table.blocking_write_and_flush(this, bytes))?;
            answer(&mut state.table, written)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |mut store: Store, (this, len): (Resource<DynOutputStream>, u64)| {
            let state = store.data_mut();
            let table = &mut state.table;
            let written = state
                .bound
                .drive(table.blocking_write_zeroes_and_flush(this, len))?;
            answer(&mut state.table, written)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-flush",
        |mut store: Store, (this,): (Resource<DynOutputStream>,)| {
            let state = store.data_mut();
            let flushed = state.bound.drive(state.table.blocking_flush(this))?;
            answer(&mut state.table, flushed)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-splice",
        |mut store: Store,
         (this, from, len): (Resource<DynOutputStream>, Resource<DynInputStream>, u64)| {
            let state = store.data_mut();
            let table = &mut state.table;
            let spliced = state.bound.drive(table.blocking_splice(this, from, len))?;
            answer(&mut state.table, spliced)
        },
    )?;
    Ok(())
}

/// A stream function's result as WIT returns it: a stream error becomes
/// its WIT variant, a trap stays a trap.
fn answer<T>(table: &mut ResourceTable, result: StreamResult<T>) -> WitStreamResult<T> {
    match result {
        Ok(value) => Ok((Ok(value),)),
        Err(error) => Ok((Err(table.convert_stream_error(error)?),)),
    }
}

/// What bounds a running call's waits: its clock bound, and the plugin's
/// flag, set when it is disabled.
pub(crate) struct WaitBound {
    /// The running call's clock bound, if it has one.
    pub(crate) wait: Option<Duration>,
    /// When it passes: set when the call first needs the clock (its first
    /// epoch tick or its first wait), so that a call that needs neither
    /// reads no clock. It is then later than the call's start by less than
    /// a tick.
    pub(crate) until: Option<Instant>,
    pub(crate) disabled: std::sync::Arc<AtomicBool>,
    /// The process's count of SIGINT and SIGTERM when the call started.
    pub(crate) signals: u64,
}

impl WaitBound {
    /// A call bounded by `wait` by the clock (`None`: no bound) starts.
    pub(crate) fn start(&mut self, wait: Option<Duration>) {
        (self.wait, self.until) = (wait, None);
        self.signals = crate::io::signals::received();
    }

    /// Whether SIGINT or SIGTERM came since the call started: the run is
    /// ending, and a call holding its task stops, as a dropped
    /// asynchronous call would.
    pub(crate) fn interrupted(&self) -> bool {
        crate::io::signals::received() != self.signals
    }

    /// Whether the clock bound has passed (the bound, if it has), seen
    /// `now`.
    pub(crate) fn passed(&mut self, now: Instant) -> Option<Duration> {
        let wait = self.wait?;
        let until = *self.until.get_or_insert(now + wait);
        (now >= until).then_some(wait)
    }

    /// Runs `future` to its end within a synchronous call: at once when it
    /// is ready; else in `block_in_place`, until the call's clock bound
    /// passes or the plugin is disabled.
    fn drive<F: Future>(&mut self, future: F) -> wasmtime::Result<F::Output> {
        let mut future = pin!(future);
        if let Poll::Ready(done) = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            return Ok(done);
        }
        let handle = match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => handle,
            _ => wasmtime::bail!("cannot wait in a synchronous call off a multi-threaded runtime"),
        };
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                loop {
                    if self.disabled.load(Ordering::Acquire) {
                        return Err(LimitExceeded::Disabled.into());
                    }
                    if self.interrupted() {
                        wasmtime::bail!("interrupted while it waited for its output");
                    }
                    // Waits a tick at a time, to see the flag and signals.
                    let now = Instant::now();
                    if let Some(bound) = self.passed(now) {
                        return Err(LimitExceeded::Wait(bound).into());
                    }
                    let left = self.until.map(|until| until.saturating_duration_since(now));
                    let slice = left.map_or(EPOCH_TICK, |left| left.min(EPOCH_TICK));
                    if let Ok(done) = tokio::time::timeout(slice, future.as_mut()).await {
                        return Ok(done);
                    }
                }
            })
        })
    }
}
