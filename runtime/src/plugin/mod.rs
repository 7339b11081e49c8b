//! Loading a plugin (read, check, compile, link, instantiate) and calling its
//! exports. Each plugin owns one `Store`; calls to it queue on a lock, so a
//! plugin runs one call at a time while different plugins run concurrently.

mod call;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Mutex;
use wasmtime::Store;

pub(crate) use call::{Called, ticks};

use crate::app::AppInfo;
use crate::cache::CompileCache;
use crate::engine::{PluginEngine, PrepareError};
use crate::error::{LoadError, one_line};
use crate::events::Event;
use crate::host::{HostState, Live};
use crate::sandbox::{Limits, Sandbox};
use crate::value::Payload;
use crate::wit::{self, WitEvent};

/// How to load one plugin: its sandbox, its configuration values, and
/// whether its failures end the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginOptions {
    /// What it is granted and how far it may go.
    pub sandbox: Sandbox,
    /// Its configuration values, read through the `config` interface.
    pub config: Payload,
    /// Where the values come from, e.g. `precept.toml`, for error messages.
    pub config_source: Option<String>,
    /// Whether a failure of this plugin ends the run (as with fail-fast).
    pub fatal: bool,
}

impl From<Sandbox> for PluginOptions {
    fn from(sandbox: Sandbox) -> Self {
        PluginOptions {
            sandbox,
            ..PluginOptions::default()
        }
    }
}

/// An event on its way to plugins, converted for each WIT version at most
/// once per dispatch.
#[derive(Default)]
pub(crate) struct Delivery {
    v0_1: Option<WitEvent>,
}

impl Delivery {
    /// The event as `precept:plugin@0.1.0` plugins receive it.
    fn v0_1(&mut self, event: &Event) -> &WitEvent {
        let wit = self
            .v0_1
            .get_or_insert_with(|| wit::v0_1::event_to_wit(event));
        wit.num = event.num;
        wit
    }
}

/// A loaded plugin: one component instance in its own sandboxed store.
pub struct Plugin {
    name: Arc<str>,
    path: String,
    instance: Mutex<Option<Instance>>,
    disabled: AtomicBool,
    limits: Limits,
    imports: Vec<String>,
    exports: Vec<String>,
}

struct Instance {
    store: Store<HostState>,
    exports: wit::Plugin,
}

impl Plugin {
    /// The plugin's name: the file stem of its component.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the plugin was loaded from.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The names of the component's imports, e.g. `precept:plugin/events@0.1.0`.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// The names of the component's exports, e.g. `on-event`.
    pub fn exports(&self) -> &[String] {
        &self.exports
    }

    /// Whether the plugin was disabled after a trap, a timeout or a limit.
    pub fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::Acquire)
    }

    /// The bytes of linear memory the plugin holds now, all its memories
    /// together; `None` while a call into it runs, or once it is disabled.
    pub fn memory_bytes(&self) -> Option<usize> {
        let instance = self.instance.try_lock().ok()?;
        Some(instance.as_ref()?.store.data().limiter.memory_in_use())
    }

    /// Stops every further call into the plugin and releases its store (at
    /// once, or when the call that holds it returns).
    pub(crate) fn disable(&self) {
        self.disabled.store(true, Ordering::Release);
        if let Ok(mut instance) = self.instance.try_lock() {
            instance.take();
        }
    }

    /// The plugin's limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Reads, compiles, links and instantiates the component at `path` in
    /// a store of its own, confined by its sandbox.
    pub(crate) async fn load(
        engine: &Arc<PluginEngine>,
        path: &Path,
        app: Arc<AppInfo>,
        options: &PluginOptions,
        cache: Option<Arc<CompileCache>>,
    ) -> Result<Plugin, LoadError> {
        let sandbox = &options.sandbox;
        let name = plugin_name(path);
        let shown = shown_path(path);
        // Hashing and compiling take milliseconds to seconds: they run off
        // the executor, so that other tasks (a timer, Ctrl-C) go on.
        let (preparing, file, named) = (engine.clone(), path.to_path_buf(), name.clone());
        let at = shown.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            prepare(&preparing, &file, cache.as_deref(), named, at)
        })
        .await;
        let pre = match prepared {
            Ok(pre) => pre?,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };

        let component = pre.instance_pre().component();
        let component_type = component.component_type();
        let import_names = component_type
            .imports(&engine.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let export_names = component_type
            .exports(&engine.engine)
            .map(|(name, _)| name.to_string())
            .collect();

        let wasi = sandbox
            .wasi(app.stdout.clone())
            .map_err(|e| LoadError::Grant {
                name: name.clone(),
                cause: e.to_string(),
            })?;
        let name: Arc<str> = name.into();
        let state = HostState::new(
            name.clone(),
            app,
            wasi,
            &sandbox.limits,
            options.config.clone(),
        );
        let mut store = Store::new(&engine.engine, state);
        store.limiter(|state| &mut state.limiter);
        call::count_running_time(&mut store, sandbox.limits.call);
        let wait = Some(sandbox.limits.wait);
        let instantiated = call::bounded(wait, pre.instantiate_async(&mut store));
        let exports = instantiated.await.map_err(|e| LoadError::Instantiate {
            name: name.to_string(),
            cause: one_line(&e),
        })?;
        Ok(Plugin {
            name,
            path: shown,
            instance: Mutex::new(Some(Instance { store, exports })),
            disabled: AtomicBool::new(false),
            limits: sandbox.limits.clone(),
            imports: import_names,
            exports: export_names,
        })
    }

    /// Calls the plugin's `setup` export.
    pub(crate) async fn setup(&self) -> Called<()> {
        let Some(mut entered) = self.enter(Some(self.limits.call)).await else {
            return Called::disabled(self, "setup");
        };
        let (store, exports) = entered.parts();
        let call = exports.call_setup(&mut *store);
        let result = self.watched(Some(self.limits.wait), call).await;
        entered.settle(result, "setup", None)
    }

    /// Calls the plugin's `on-event` export; `None` when it is disabled.
    /// `Ok(true)` means the plugin stopped the event.
    pub(crate) async fn on_event(
        &self,
        event: &Event,
        delivery: &mut Delivery,
    ) -> Option<Called<bool>> {
        let mut entered = self.enter(Some(self.limits.call)).await?;
        let event = delivery.v0_1(event);
        let (store, exports) = entered.parts();
        let call = exports.call_on_event(&mut *store, event);
        let result = self.watched(Some(self.limits.wait), call).await;
        Some(entered.settle(result, "on-event", Some(&event.name)))
    }

    /// Calls one of the plugin's service exports for the service `name`;
    /// `None` when it is disabled.
    pub(crate) async fn service(&self, step: ServiceStep, name: &str) -> Option<Called<()>> {
        let mut entered = self.enter(Some(self.limits.call)).await?;
        let (store, exports) = entered.parts();
        let wait = Some(self.limits.wait);
        let result = match step {
            ServiceStep::Setup => {
                let call = exports.call_service_setup(&mut *store, name);
                self.watched(wait, call).await
            }
            ServiceStep::Start => {
                let call = exports.call_service_start(&mut *store, name);
                self.watched(wait, call).await
            }
            ServiceStep::Stop => {
                let call = exports.call_service_stop(&mut *store, name);
                self.watched(wait, call).await
            }
        };
        Some(entered.settle(result, step.export(), Some(name)))
    }

    /// Calls the plugin's `run-command` export. What the plugin requests
    /// while the command runs is sent to `live` as it happens.
    pub(crate) async fn run_command(
        &self,
        name: &str,
        args: &Payload,
        live: Live,
    ) -> Option<Called<()>> {
        let mut entered = self.enter(self.limits.command).await?;
        let (store, exports) = entered.parts();
        store.data_mut().go_live(live);
        let args = wit::v0_1::payload_to_wit(args);
        let call = exports.call_run_command(&mut *store, name, &args);
        let result = self.watched(self.limits.command, call).await;
        Some(entered.settle(result, "run-command", Some(name)))
    }
}

/// A step of a service's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStep {
    /// Before the command: `service-setup`, then `{name}_setup`.
    Setup,
    /// Before the command, concurrently: `service-start`, then `{name}_start`.
    Start,
    /// After the command, concurrently: `service-stop`, then `{name}_stop`.
    Stop,
}

impl ServiceStep {
    /// The plugin export for this step.
    pub fn export(self) -> &'static str {
        match self {
            ServiceStep::Setup => "service-setup",
            ServiceStep::Start => "service-start",
            ServiceStep::Stop => "service-stop",
        }
    }

    /// The step's name, as in its event: `setup`, `start` or `stop`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStep::Setup => "setup",
            ServiceStep::Start => "start",
            ServiceStep::Stop => "stop",
        }
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Reads, checks and prepares (compiles and links, or finds ready) the
/// component at `path`, for the plugin `name` shown as `shown`.
fn prepare(
    engine: &PluginEngine,
    path: &Path,
    cache: Option<&CompileCache>,
    name: String,
    shown: String,
) -> Result<crate::wit::PluginPre<HostState>, LoadError> {
    let read_error = |source| LoadError::Read {
        name: name.clone(),
        path: shown.clone(),
        source,
    };
    let file = crate::cache::fingerprint(path).map_err(read_error)?;
    check_header(&file.header, &name, &shown)?;
    engine
        .prepare(path, &file.digest, cache)
        .map_err(|error| match error {
            PrepareError::Read(source) => read_error(source),
            PrepareError::Compile(cause) => LoadError::Compile {
                name: name.clone(),
                path: shown.clone(),
                cause,
            },
            PrepareError::Link(cause) => LoadError::Link {
                name: name.clone(),
                path: shown.clone(),
                cause,
            },
            PrepareError::WorldVersion(found) => LoadError::WorldVersion {
                name: name.clone(),
                path: shown.clone(),
                found,
            },
        })
}

/// A plugin's name: its file stem, e.g. `hello` for `hello.wasm`.
pub(crate) fn plugin_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    crate::text::clean(&stem, crate::error::MAX_NAME_CHARS)
}

/// A plugin's file as shown in messages: one safe line.
pub(crate) fn shown_path(path: &Path) -> String {
    crate::text::clean(&path.display().to_string(), crate::text::MAX_SHOWN_CHARS)
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];

/// Tells a component from other files by its first eight bytes.
fn check_header(bytes: &[u8], name: &str, path: &str) -> Result<(), LoadError> {
    let not_wasm = |reason| LoadError::NotWasm {
        name: name.to_string(),
        path: path.to_string(),
        reason,
    };
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        return Err(not_wasm(
            "it does not start with the WebAssembly magic bytes",
        ));
    }
    match <[u8; 4]>::try_from(&bytes[4..8]).expect("eight bytes checked") {
        COMPONENT_VERSION => Ok(()),
        CORE_MODULE_VERSION => Err(LoadError::CoreModule {
            name: name.to_string(),
            path: path.to_string(),
        }),
        _ => Err(not_wasm("it has an unknown WebAssembly version or layer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_check_tells_files_apart() {
        assert!(matches!(
            check_header(b"# README", "r", "r.md"),
            Err(LoadError::NotWasm { .. })
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0", "m", "m.wasm"),
            Err(LoadError::CoreModule { .. })
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0", "c", "c.wasm").is_ok());
        assert!(matches!(
            check_header(b"\0asm", "t", "t.wasm"),
            Err(LoadError::NotWasm { .. })
        ));
    }

    #[test]
    fn name_is_the_file_stem() {
        assert_eq!(plugin_name(Path::new("/x/hello.wasm")), "hello");
    }
}
