//! The one wasmtime `Engine` of a process and the `Linker` that provides the
//! host imports: WASI and the precept interfaces.

use wasmtime::component::{HasSelf, Linker};

use crate::error::Error;
use crate::host::HostState;
use crate::wit;

/// A compiling and linking context shared by every plugin of an application.
pub(crate) struct PluginEngine {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) linker: Linker<HostState>,
}

impl PluginEngine {
    /// Configures the engine and registers every host import.
    pub(crate) fn new() -> Result<Self, Error> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        let engine = wasmtime::Engine::new(&config).map_err(|e| Error::Engine(e.to_string()))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| Error::Engine(e.to_string()))?;
        wit::Plugin::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(|e| Error::Engine(e.to_string()))?;
        Ok(PluginEngine { engine, linker })
    }
}
