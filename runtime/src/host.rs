//! The host side of the WIT imports: what a plugin can ask of the
//! application while one of its exports runs.
//!
//! Requests that touch the dispatcher (subscribe, unsubscribe, dispatch) are
//! recorded as [`HostOp`]s and carried out by the caller once the plugin's
//! call returns; variables and logging answer at once. A plugin therefore
//! never re-enters the dispatcher, and the dispatcher never re-enters a
//! plugin that is still running.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::app::AppInfo;
use crate::sandbox::{LimitExceeded, Limiter, Limits};
use crate::value::{Payload, Value, payload_size, value_size};
use crate::wit::precept::plugin::commands::CommandSpec;
use crate::wit::precept::plugin::{app, commands, config, events, log, services, types};

/// How many events one call into a plugin may dispatch.
pub const MAX_DISPATCHES_PER_CALL: usize = 1024;

/// A request a plugin made of the dispatcher during one call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HostOp {
    /// Subscribe the plugin to an event name.
    Subscribe(String),
    /// Unsubscribe the plugin from an event name.
    Unsubscribe(String),
    /// Dispatch an event.
    Dispatch(String, Payload),
    /// Add a command (allowed during setup only).
    AddCommand(CommandSpec),
    /// Declare a service, optionally for one command (setup only).
    AddService(String, Option<String>),
    /// Declare a configuration key (setup only).
    DeclareConfig(ConfigKey),
}

/// A configuration key a plugin declared.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigKey {
    /// The key, as in the plugin's `[plugin.NAME.config]` section.
    pub key: String,
    /// One line of help.
    pub help: String,
    /// The value used when the file has none.
    pub default: Value,
}

/// The data of one plugin's `Store`: its WASI context and its view of the
/// application.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    plugin: Arc<str>,
    app: Arc<AppInfo>,
    ops: Vec<HostOp>,
    live: Option<UnboundedSender<HostOp>>,
    dispatches: usize,
    payload_bytes: usize,
    pub(crate) limiter: Limiter,
    config: Payload,
    declared: Vec<ConfigKey>,
}

impl HostState {
    /// State for the plugin `plugin`, with the given WASI context, limits
    /// and configuration values.
    pub(crate) fn new(
        plugin: Arc<str>,
        app: Arc<AppInfo>,
        wasi: WasiCtx,
        limits: &Limits,
        config: Payload,
    ) -> Self {
        HostState {
            wasi,
            table: ResourceTable::new(),
            plugin,
            app,
            ops: Vec::new(),
            live: None,
            dispatches: 0,
            payload_bytes: limits.payload_bytes,
            limiter: Limiter::new(limits),
            config,
            declared: Vec::new(),
        }
    }

    /// Takes the requests recorded since the last call.
    pub(crate) fn take_ops(&mut self) -> Vec<HostOp> {
        self.dispatches = 0;
        self.live = None;
        std::mem::take(&mut self.ops)
    }

    /// Sends the requests of the coming call to `live` as they are made,
    /// instead of keeping them for when it returns.
    pub(crate) fn go_live(&mut self, live: UnboundedSender<HostOp>) {
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

    fn record(&mut self, op: HostOp) {
        match &self.live {
            // The receiver only goes away once the call is over.
            Some(live) => drop(live.send(op)),
            None => self.ops.push(op),
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

impl types::Host for HostState {}

impl events::Host for HostState {
    fn subscribe(&mut self, name: String) -> wasmtime::Result<()> {
        self.record(HostOp::Subscribe(name));
        Ok(())
    }

    fn unsubscribe(&mut self, name: String) -> wasmtime::Result<()> {
        self.record(HostOp::Unsubscribe(name));
        Ok(())
    }

    fn dispatch(&mut self, name: String, payload: Payload) -> wasmtime::Result<()> {
        self.dispatches += 1;
        if self.dispatches > MAX_DISPATCHES_PER_CALL {
            return Err(LimitExceeded::Dispatches(MAX_DISPATCHES_PER_CALL).into());
        }
        self.check_size(payload_size(&payload))?;
        self.record(HostOp::Dispatch(name, payload));
        Ok(())
    }
}

impl commands::Host for HostState {
    fn add_command(&mut self, spec: CommandSpec) -> wasmtime::Result<()> {
        self.record(HostOp::AddCommand(spec));
        Ok(())
    }
}

impl services::Host for HostState {
    fn add_service(&mut self, name: String, command: Option<String>) -> wasmtime::Result<()> {
        self.record(HostOp::AddService(name, command));
        Ok(())
    }
}

impl config::Host for HostState {
    fn declare(&mut self, key: String, help: String, default: Value) -> wasmtime::Result<()> {
        let declared = ConfigKey { key, help, default };
        self.declared.retain(|k| k.key != declared.key);
        self.declared.push(declared.clone());
        self.record(HostOp::DeclareConfig(declared));
        Ok(())
    }

    fn get(&mut self, key: String) -> wasmtime::Result<Option<Value>> {
        let from_file = self.config.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        let declared = self
            .declared
            .iter()
            .find(|k| k.key == key)
            .map(|k| &k.default);
        Ok(from_file.or(declared).cloned())
    }
}

impl app::Host for HostState {
    fn prog_name(&mut self) -> wasmtime::Result<String> {
        Ok(self.app.prog_name.clone())
    }

    fn version(&mut self) -> wasmtime::Result<String> {
        Ok(self.app.version.clone())
    }

    fn get_var(&mut self, name: String) -> wasmtime::Result<Option<Value>> {
        Ok(self.app.vars.get(&name))
    }

    fn set_var(&mut self, name: String, value: Value) -> wasmtime::Result<()> {
        self.check_size(name.len() + value_size(&value))?;
        self.app.vars.set(name, value);
        Ok(())
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        crate::logging::plugin_message(&self.plugin, level, &message);
        Ok(())
    }
}
