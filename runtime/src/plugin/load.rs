//! Loading a plugin: reading and checking the file, preparing (compiling and
//! linking, or finding ready) the component, and instantiating it into a
//! store of its own, confined by its sandbox.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::Mutex;
use wasmtime::Store;

use super::{Instance, Plugin, call};
use crate::app::AppInfo;
use crate::cache::CompileCache;
use crate::engine::{PluginEngine, PrepareError};
use crate::error::{LoadError, one_line};
use crate::host::HostState;
use crate::sandbox::Sandbox;
use crate::value::Payload;

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

impl Plugin {
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
