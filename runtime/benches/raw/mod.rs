//! The baseline: the same component called through wasmtime directly, with
//! host imports that do nothing and no dispatcher around it.

#![allow(dead_code)]

use wasmtime::component::{Component, HasSelf, Instance, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../wit/0.2.0",
    world: "plugin",
    imports: { default: trappable },
});

/// The same world with asynchronous exports, sharing the types above.
mod asynchronous {
    wasmtime::component::bindgen!({
        path: "../wit/0.2.0",
        world: "plugin",
        exports: { default: async },
        with: {
            "precept:plugin/types": super::precept::plugin::types,
            "precept:plugin/events": super::precept::plugin::events,
            "precept:plugin/app": super::precept::plugin::app,
            "precept:plugin/log": super::precept::plugin::log,
            "precept:plugin/commands": super::precept::plugin::commands,
            "precept:plugin/services": super::precept::plugin::services,
            "precept:plugin/config": super::precept::plugin::config,
            "precept:plugin/capabilities": super::precept::plugin::capabilities,
        },
    });
}

pub use self::precept::plugin::types::Value;
use self::precept::plugin::{
    app, capabilities, commands, config, events, log, services, timers, types,
};

/// A store's data: WASI and nothing else.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for State {}

impl events::Host for State {
    fn subscribe(&mut self, _: String) -> wasmtime::Result<()> {
        Ok(())
    }
    fn unsubscribe(&mut self, _: String) -> wasmtime::Result<()> {
        Ok(())
    }
    fn dispatch(&mut self, _: String, _: Vec<(String, Value)>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl app::Host for State {
    fn prog_name(&mut self) -> wasmtime::Result<String> {
        Ok("raw".into())
    }
    fn version(&mut self) -> wasmtime::Result<String> {
        Ok("0".into())
    }
    fn get_var(&mut self, _: String) -> wasmtime::Result<Option<Value>> {
        Ok(None)
    }
    fn add_var(&mut self, _: String, delta: i64) -> wasmtime::Result<Result<i64, String>> {
        Ok(Ok(delta))
    }
    fn append_var(&mut self, _: String, _: types::Scalar) -> wasmtime::Result<Result<u32, String>> {
        Ok(Ok(1))
    }
    fn set_var(&mut self, _: String, _: Value) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl log::Host for State {
    fn log(&mut self, _: log::Level, _: String) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl commands::Host for State {
    fn add_command(&mut self, _: commands::CommandSpec) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl services::Host for State {
    fn add_service(&mut self, _: String, _: Option<String>) -> wasmtime::Result<()> {
        Ok(())
    }
    fn is_running(&mut self, _: String) -> wasmtime::Result<Option<bool>> {
        Ok(None)
    }
}

impl timers::Host for State {
    fn set_timeout(
        &mut self,
        _: u32,
        _: String,
        _: Vec<(String, Value)>,
    ) -> wasmtime::Result<Result<u64, String>> {
        Ok(Err("no timers".into()))
    }
    fn set_interval(
        &mut self,
        _: u32,
        _: String,
        _: Vec<(String, Value)>,
    ) -> wasmtime::Result<Result<u64, String>> {
        Ok(Err("no timers".into()))
    }
    fn cancel(&mut self, _: u64) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl capabilities::Host for State {
    fn granted(&mut self) -> wasmtime::Result<Vec<capabilities::Grant>> {
        Ok(Vec::new())
    }
}

impl config::Host for State {
    fn declare(&mut self, _: String, _: String, _: Value) -> wasmtime::Result<()> {
        Ok(())
    }
    fn get(&mut self, _: String) -> wasmtime::Result<Option<Value>> {
        Ok(None)
    }
}

/// An engine configured as precept's (epoch interruption on).
pub fn engine() -> Engine {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    Engine::new(&config).unwrap()
}

/// The linker with WASI and do-nothing precept imports.
pub fn linker(engine: &Engine) -> Linker<State> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    Plugin::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s).unwrap();
    linker
}

/// One instance of `component` in its own store, set up.
pub struct Raw {
    pub store: Store<State>,
    pub plugin: Plugin,
    pub plugin_async: asynchronous::Plugin,
}

impl Raw {
    /// Instantiates `component` and calls its `setup`.
    pub fn new(engine: &Engine, linker: &Linker<State>, component: &Component) -> Raw {
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(engine, state);
        store.set_epoch_deadline(u64::MAX / 2);
        let instance: Instance = linker.instantiate(&mut store, component).unwrap();
        let plugin = Plugin::new(&mut store, &instance).unwrap();
        let plugin_async = asynchronous::Plugin::new(&mut store, &instance).unwrap();
        plugin.call_setup(&mut store).unwrap().unwrap();
        Raw {
            store,
            plugin,
            plugin_async,
        }
    }

    /// A synchronous typed call of `on-event`.
    pub fn call(&mut self, event: &Event) -> bool {
        self.plugin
            .call_on_event(&mut self.store, event)
            .unwrap()
            .unwrap()
    }

    /// An asynchronous typed call of `on-event`.
    pub async fn call_async(&mut self, event: &Event) -> bool {
        self.plugin_async
            .call_on_event(&mut self.store, event)
            .await
            .unwrap()
            .unwrap()
    }
}

/// The event the benchmarks send: two string entries.
pub fn event() -> Event {
    Event {
        name: "tick".into(),
        payload: vec![
            ("a".into(), Value::Text("1".into())),
            ("b".into(), Value::Text("2".into())),
        ],
        num: 0,
        timestamp: 0,
    }
}
