//! The host side of the WIT imports: what a plugin can ask of the
//! application while one of its exports runs.
//!
//! Requests that touch the dispatcher (subscribe, unsubscribe, dispatch) are
//! recorded as [`HostOp`]s and carried out by the caller once the plugin's
//! call returns; variables and logging answer at once. A plugin therefore
//! never re-enters the dispatcher, and the dispatcher never re-enters a
//! plugin that is still running.

pub(crate) mod requests;
pub(crate) mod timers;

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
use crate::host::timers::{Timer, TimerBook};
use crate::io::logging::Level;
use crate::model::app_info::AppInfo;
use crate::model::command_spec::CommandSpec;
use crate::model::config::ConfigKey;
use crate::model::value::{Payload, Scalar, Value, payload_size, value_size};
use crate::model::vars::VarBudget;
use crate::trust::capabilities::Granted;
use crate::trust::net::NetAccess;
use crate::trust::sandbox::{HostBudget, LimitExceeded, Limiter, Limits};

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
    payload_bytes: usize,
    budget: HostBudget,
    subscribed: HashSet<String>,
    added: Added,
    log_rate: TokenBucket,
    pub(crate) limiter: Limiter,
    config: Payload,
    declared: Vec<ConfigKey>,
    granted: Vec<Granted>,
    timers: Arc<TimerBook>,
    /// What the running call may still use of its time, counted in epoch
    /// ticks while the plugin runs.
    pub(crate) ticks_left: u64,
    /// The running call's time allowance, for the message when it is spent.
    pub(crate) allowance: Duration,
}

/// How many commands and services the plugin added.
#[derive(Default)]
struct Added {
    commands: usize,
    services: usize,
}

impl HostState {
    /// State for the plugin `plugin`, with the given WASI context, limits,
    /// configuration values, granted capabilities, network access and
    /// timers; `disabled` is the plugin's own flag, set when it is
    /// disabled.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        plugin: Arc<str>,
        disabled: Arc<AtomicBool>,
        app: Arc<AppInfo>,
        wasi: WasiCtx,
        limits: &Limits,
        config: Payload,
        granted: Vec<Granted>,
        net: NetAccess,
    ) -> Self {
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
            disabled,
            payload_bytes: limits.payload_bytes,
            budget: limits.host.clone(),
            subscribed: HashSet::new(),
            added: Added::default(),
            log_rate: TokenBucket::new(limits.host.log_lines_per_second),
            limiter: Limiter::new(limits),
            config,
            declared: Vec::new(),
            granted,
            timers: Arc::default(),
            ticks_left: u64::MAX,
            allowance: Duration::MAX,
        }
    }

    /// Gives the coming call `allowance` of running time (`None`: no bound).
    pub(crate) fn allow(&mut self, allowance: Option<Duration>) {
        self.allowance = allowance.unwrap_or(Duration::MAX);
        self.ticks_left = allowance.map_or(u64::MAX, crate::trust::sandbox::ticks);
    }

    /// Takes the requests recorded since the last call.
    pub(crate) fn take_ops(&mut self) -> Requests {
        self.left = Waiting::default();
        self.live = None;
        self.in_setup = false;
        std::mem::take(&mut self.ops)
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
        if size > self.payload_bytes {
            return Err(LimitExceeded::Payload {
                size,
                limit: self.payload_bytes,
            }
            .into());
        }
        Ok(())
    }

    fn check_name(&self, name: &str) -> Result<(), LimitExceeded> {
        LimitExceeded::check("bytes in a name", name.len(), self.budget.name_bytes)
    }

    /// Leaves `op` for the dispatcher: kept until the call returns, within
    /// one call's bounds; or, while a command runs, sent at once, within
    /// those bounds for what waits. Either way it is counted against the
    /// plugin until it is carried out (see [`crate::host::requests`]).
    fn record(&mut self, op: HostOp) -> Result<(), LimitExceeded> {
        self.alive()?;
        let (call, weight) = (Bounds::per_call(self.budget.pending_bytes), op.weight());
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
        let mut end = name.len().min(self.budget.name_bytes);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        self.record(HostOp::SetupOnly(what, name[..end].to_string()))
    }
}

/// Allows `rate` events per second, in bursts of up to `rate`.
struct TokenBucket {
    rate: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn new(rate: u32) -> Self {
        TokenBucket {
            rate: f64::from(rate),
            tokens: f64::from(rate),
            refilled: Instant::now(),
        }
    }

    /// Takes one token; `false` when there is none.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.rate);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
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

/// What a plugin may ask of the host, in precept's own types: each WIT
/// version's bindings call these (see `wit/shared.rs`).
impl HostState {
    /// Subscribes the plugin to `name`; a request only when it changes
    /// what the plugin is subscribed to.
    pub(crate) fn subscribe(&mut self, name: String) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        if self.subscribed.contains(&name) {
            return Ok(());
        }
        let wanted = self.subscribed.len() + 1;
        LimitExceeded::check("subscriptions", wanted, self.budget.subscriptions)?;
        self.record(HostOp::Subscribe(name.clone()))?;
        self.subscribed.insert(name);
        Ok(())
    }

    /// Unsubscribes the plugin from `name`; a request only when it was
    /// subscribed.
    pub(crate) fn unsubscribe(&mut self, name: String) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        if !self.subscribed.contains(&name) {
            return Ok(());
        }
        self.record(HostOp::Unsubscribe(name.clone()))?;
        self.subscribed.remove(&name);
        Ok(())
    }

    pub(crate) fn dispatch(&mut self, name: String, payload: Payload) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        self.check_size(payload_size(&payload))?;
        self.record(HostOp::Dispatch(name, payload))?;
        Ok(())
    }

    pub(crate) fn add_command(&mut self, spec: CommandSpec) -> wasmtime::Result<()> {
        if !self.in_setup {
            return Ok(self.setup_only("add-command", &spec.name)?);
        }
        let arguments = spec.args.len();
        LimitExceeded::check(
            "arguments in one command",
            arguments,
            crate::model::command_spec::MAX_ARGS,
        )?;
        LimitExceeded::check(
            "bytes in one command",
            command_bytes(&spec),
            MAX_COMMAND_BYTES,
        )?;
        self.added.commands += 1;
        LimitExceeded::check("commands", self.added.commands, self.budget.commands)?;
        self.record(HostOp::AddCommand(spec))?;
        Ok(())
    }

    pub(crate) fn add_service(
        &mut self,
        name: String,
        command: Option<String>,
    ) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        if !self.in_setup {
            return Ok(self.setup_only("add-service", &name)?);
        }
        self.added.services += 1;
        LimitExceeded::check("services", self.added.services, self.budget.services)?;
        self.record(HostOp::AddService(name, command))?;
        Ok(())
    }

    pub(crate) fn declare(
        &mut self,
        key: String,
        help: String,
        default: Value,
    ) -> wasmtime::Result<()> {
        self.check_name(&key)?;
        if !self.in_setup {
            return Ok(self.setup_only("declare", &key)?);
        }
        self.check_size(value_size(&default))?;
        let help = crate::io::text::clean(&help, 300);
        let declared = ConfigKey { key, help, default };
        let others = self.declared.iter().filter(|k| k.key != declared.key);
        let (count, bytes) = others.fold((1, key_bytes(&declared)), |(n, b), k| {
            (n + 1, b + key_bytes(k))
        });
        LimitExceeded::check("configuration keys", count, self.budget.config_keys)?;
        let limit = self.budget.config_bytes;
        LimitExceeded::check("bytes of configuration keys", bytes, limit)?;
        self.record(HostOp::DeclareConfig(declared.clone()))?;
        self.declared.retain(|k| k.key != declared.key);
        self.declared.push(declared);
        Ok(())
    }

    /// The configuration value `key`: from the file, else its default.
    pub(crate) fn config_value(&self, key: &str) -> Option<&Value> {
        let from_file = self.config.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let declared = self
            .declared
            .iter()
            .find(|k| k.key == key)
            .map(|k| &k.default);
        from_file.or(declared)
    }

    pub(crate) fn prog_name(&self) -> String {
        self.app.prog_name.clone()
    }

    pub(crate) fn app_version(&self) -> String {
        self.app.version.clone()
    }

    /// A copy of the variable `name`.
    pub(crate) fn get_var(&self, name: &str) -> Option<Value> {
        self.app.vars.get(name)
    }

    pub(crate) fn set_var(&mut self, name: String, value: Value) -> wasmtime::Result<()> {
        self.alive()?;
        self.check_name(&name)?;
        self.check_size(name.len() + value_size(&value))?;
        let budget = self.var_budget();
        self.app.vars.set_by(&self.plugin, name, value, budget)?;
        Ok(())
    }

    /// Adds `delta` to the integer variable `name`, charged to the plugin.
    pub(crate) fn add_var(
        &mut self,
        name: &str,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, String>> {
        self.alive()?;
        self.check_name(name)?;
        Ok(self
            .app
            .vars
            .add_by(&self.plugin, name, delta, self.var_budget())?)
    }

    /// Appends `item` to the list variable `name`, charged to the plugin.
    pub(crate) fn append_var(
        &mut self,
        name: &str,
        item: Scalar,
    ) -> wasmtime::Result<Result<u32, String>> {
        self.alive()?;
        self.check_name(name)?;
        let budget = self.var_budget();
        let payload_bytes = self.payload_bytes;
        let appended = self
            .app
            .vars
            .append_by(&self.plugin, name, item, budget, payload_bytes)?;
        Ok(appended.map(|len| u32::try_from(len).unwrap_or(u32::MAX)))
    }

    /// Books a timer that dispatches `event` after `ms` milliseconds, and
    /// again every `ms` when `repeat`; its id, or why it was not set.
    pub(crate) fn set_timer(
        &mut self,
        ms: u32,
        repeat: bool,
        event: String,
        payload: Payload,
    ) -> wasmtime::Result<Result<u64, String>> {
        self.check_name(&event)?;
        let size = payload_size(&payload);
        self.check_size(size)?;
        self.alive()?;
        let booked = self
            .timers
            .book(event.len() + size, self.budget.pending_bytes);
        let id = match booked {
            Ok(id) => id,
            Err(why) => return Ok(Err(why)),
        };
        let delay = crate::host::timers::delay(ms);
        let timer = Timer {
            id,
            delay,
            every: repeat.then_some(delay),
            event,
            payload,
        };
        if let Err(error) = self.record(HostOp::SetTimer(timer)) {
            self.timers.release(id);
            return Err(error.into());
        }
        Ok(Ok(id))
    }

    /// The plugin's timers, shared with their tasks.
    pub(crate) fn timers(&self) -> &Arc<TimerBook> {
        &self.timers
    }

    /// Ends the plugin's timer `id`, if it is running.
    pub(crate) fn cancel_timer(&mut self, id: u64) {
        self.timers.cancel(id);
    }

    /// Whether the service `name` is running; `None` when there is none.
    pub(crate) fn service_running(&mut self, name: &str) -> Option<bool> {
        self.app.services.is_running(name)
    }

    fn var_budget(&self) -> VarBudget {
        VarBudget {
            bytes: self.budget.var_bytes,
            count: self.budget.vars,
        }
    }

    pub(crate) fn log(&mut self, level: Level, message: &str) {
        let captured = self.app.log.is_capturing();
        if !captured && !crate::io::logging::enabled(level) {
            return;
        }
        if !self.log_rate.take() {
            crate::io::logging::dropped(&self.plugin);
            return;
        }
        let mut end = message.len().min(self.budget.log_line_bytes);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = &message[..end];
        if !self.app.log.keep(&self.plugin, level, message) {
            crate::io::logging::plugin_message(&self.plugin, level, message);
        }
    }

    /// What the plugin was granted of what it declared.
    pub(crate) fn granted(&self) -> &[Granted] {
        &self.granted
    }
}
