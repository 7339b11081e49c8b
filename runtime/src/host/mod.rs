//! The host side of the WIT imports: what a plugin can ask of the
//! application while one of its exports runs.
//!
//! Requests that touch the dispatcher (subscribe, unsubscribe, dispatch) are
//! recorded as [`HostOp`]s and carried out by the caller once the plugin's
//! call returns; variables and logging answer at once. A plugin therefore
//! never re-enters the dispatcher, and the dispatcher never re-enters a
//! plugin that is still running.

mod app;
mod contributions;
mod events;
mod log;
pub(crate) mod requests;
pub(crate) mod synchronous;
pub(crate) mod timers;
mod timing;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::host::requests::{
    Bounds, Counted, HostOp, PLUGIN_FACTOR, Pending, Requests, Waiting, command_bytes, key_bytes,
};
use crate::host::timers::TimerBook;
use crate::io::logging::Level;
use crate::model::app_info::AppInfo;
use crate::model::command_spec::CommandSpec;
use crate::model::config::{ConfigKey, PluginOptions};
use crate::model::value::{Payload, Scalar, Value, payload_size, value_size};
use crate::model::vars::VarBudget;
use crate::trust::capabilities::Granted;
use crate::trust::net::NetAccess;
use crate::trust::sandbox::{HostBudget, LimitExceeded, Limiter};
use log::TokenBucket;

/// The most bytes one command description may take (names, help, defaults).
const MAX_COMMAND_BYTES: usize = 64 << 10;

/// Where a running command's requests go as they are made.
pub(crate) struct Live {
    /// The channel to the dispatcher's pump; each request counted until
    /// carried out.
    pub(crate) requests: UnboundedSender<(HostOp, Counted)>,
}

/// The data of one plugin's `Store`: its WASI context, its view of the
/// application, and what it has used of its host budget.
pub(crate) struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    net: NetAccess,
    table: ResourceTable,
    plugin: Arc<str>,
    app: Arc<AppInfo>,
    ops: Requests,
    /// What the running call left so far.
    left: Waiting,
    pending: Arc<Pending>,
    live: Option<Live>,
    in_setup: bool,
    disabled: Arc<AtomicBool>,
    /// Its options: its limits and configuration values.
    options: Arc<PluginOptions>,
    subscribed: HashSet<String>,
    added: Added,
    log_rate: TokenBucket,
    pub(crate) limiter: Limiter,
    declared: Vec<ConfigKey>,
    granted: Vec<Granted>,
    timers: Arc<TimerBook>,
    /// What the running call may still use of its time, counted in epoch
    /// ticks while the plugin runs.
    pub(crate) ticks_left: u64,
    /// The running call's time allowance, for the message when it is spent.
    pub(crate) allowance: Duration,
    /// The running call's clock bound, for its waits and its epoch ticks.
    bound: synchronous::WaitBound,
    /// Whether the running call is synchronous: its epoch ticks cannot
    /// yield to the executor.
    synchronous: bool,
}

/// How many commands and services the plugin added.
#[derive(Default)]
struct Added {
    commands: usize,
    services: usize,
}

impl HostState {
    /// State for the plugin `plugin`, with the given WASI context, options
    /// (limits and configuration values), granted capabilities and network
    /// access; `disabled` is the plugin's own flag, set when it is
    /// disabled.
    pub(crate) fn new(
        plugin: Arc<str>,
        disabled: Arc<AtomicBool>,
        app: Arc<AppInfo>,
        wasi: WasiCtx,
        options: Arc<PluginOptions>,
        granted: Vec<Granted>,
        net: NetAccess,
    ) -> Self {
        let limits = &options.sandbox.limits;
        HostState {
            wasi,
            http: {
                let mut http = WasiHttpCtx::new();
                http.set_field_size_limit(crate::trust::net::MAX_FIELDS_BYTES);
                http
            },
            net,
            table: {
                let mut table = ResourceTable::new();
                table.set_max_capacity(limits.host.handles);
                table
            },
            plugin,
            app,
            ops: Requests::default(),
            left: Waiting::default(),
            pending: Arc::default(),
            live: None,
            in_setup: false,
            subscribed: HashSet::new(),
            added: Added::default(),
            log_rate: TokenBucket::new(limits.host.log_lines_per_second),
            limiter: Limiter::new(limits),
            declared: Vec::new(),
            granted,
            timers: Arc::default(),
            ticks_left: u64::MAX,
            allowance: Duration::MAX,
            bound: synchronous::WaitBound {
                wait: None,
                until: None,
                disabled: disabled.clone(),
                signals: 0,
            },
            synchronous: false,
            disabled,
            options,
        }
    }

    /// What the plugin may ask of the host.
    fn budget(&self) -> &HostBudget {
        &self.options.sandbox.limits.host
    }

    /// The most bytes one payload may take.
    fn payload_bytes(&self) -> usize {
        self.options.sandbox.limits.payload_bytes
    }

    /// Its configuration values.
    fn config(&self) -> &Payload {
        &self.options.config
    }

    /// Gives the coming call `allowance` of running time (`None`: no bound).
    pub(crate) fn allow(&mut self, allowance: Option<Duration>) {
        self.allowance = allowance.unwrap_or(Duration::MAX);
        self.ticks_left = allowance.map_or(u64::MAX, crate::trust::sandbox::ticks);
    }

    /// Makes the coming call synchronous, bounded by `wait` by the clock
    /// from now (`None`: no bound); or, with `false`, asynchronous.
    pub(crate) fn call_synchronously(&mut self, synchronous: bool, wait: Option<Duration>) {
        self.synchronous = synchronous;
        self.bound.start(wait);
    }

    /// Whether the running call is synchronous.
    pub(crate) fn is_synchronous(&self) -> bool {
        self.synchronous
    }

    /// Whether SIGINT or SIGTERM came since the running call started.
    pub(crate) fn interrupted(&self) -> bool {
        self.bound.interrupted()
    }

    /// Whether the running call's clock bound has passed (the bound, if
    /// it has), seen `now`.
    pub(crate) fn clock_bound_passed(&mut self, now: Instant) -> Option<Duration> {
        self.bound.passed(now)
    }

    /// Takes the requests recorded since the last call.
    pub(crate) fn take_ops(&mut self) -> Requests {
        self.left = Waiting::default();
        self.live = None;
        self.in_setup = false;
        let ops = std::mem::take(&mut self.ops);
        match ops.is_empty() {
            true => ops,
            false => ops.made_by(self.disabled.clone()),
        }
    }

    /// Marks the coming call as the plugin's `setup`, the only call that
    /// may add commands, services and configuration keys.
    pub(crate) fn begin_setup(&mut self) {
        self.in_setup = true;
    }

    /// Whether the plugin was disabled (its running call is to stop).
    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::Acquire)
    }

    /// Sends the requests of the coming call to `live` as they are made,
    /// instead of keeping them for when it returns.
    pub(crate) fn go_live(&mut self, live: Live) {
        self.live = Some(live);
    }

    fn check_size(&self, size: usize) -> wasmtime::Result<()> {
        if size > self.payload_bytes() {
            return Err(LimitExceeded::Payload {
                size,
                limit: self.payload_bytes(),
            }
            .into());
        }
        Ok(())
    }

    fn check_name(&self, name: &str) -> Result<(), LimitExceeded> {
        LimitExceeded::check("bytes in a name", name.len(), self.budget().name_bytes)
    }

    /// Leaves `op` for the dispatcher: kept until the call returns, within
    /// one call's bounds; or, while a command runs, sent at once, within
    /// those bounds for what waits. Either way it is counted against the
    /// plugin until it is carried out (see [`crate::host::requests`]).
    fn record(&mut self, op: HostOp) -> Result<(), LimitExceeded> {
        self.alive()?;
        let (call, weight) = (Bounds::per_call(self.budget().pending_bytes), op.weight());
        match &self.live {
            Some(live) => {
                let counted = self.pending.admit(weight, call)?;
                // The receiver only goes away once the call is over.
                drop(live.requests.send((op, counted)));
            }
            None => {
                let left = self.left.with(weight, call)?;
                let counted = self.pending.admit(weight, call.times(PLUGIN_FACTOR))?;
                self.left = left;
                self.ops.push(op, counted);
            }
        }
        Ok(())
    }

    /// Refuses every request of a plugin that was disabled while it ran.
    fn alive(&self) -> Result<(), LimitExceeded> {
        match self.is_disabled() {
            true => Err(LimitExceeded::Disabled),
            false => Ok(()),
        }
    }

    /// Records a request allowed during setup only, made outside it: only
    /// its name is kept, for the report.
    fn setup_only(&mut self, what: &'static str, name: &str) -> Result<(), LimitExceeded> {
        let mut end = name.len().min(self.budget().name_bytes);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        self.record(HostOp::SetupOnly(what, name[..end].to_string()))
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.net,
        }
    }
}
