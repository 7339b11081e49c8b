//! The one wasmtime `Engine` of a process, the `Linker` that provides the
//! host imports (WASI and the precept interfaces), and the components
//! prepared so far.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::component::{Component, HasSelf, Linker};

use crate::cache::CompileCache;
use crate::error::{Error, one_line};
use crate::host::HostState;
use crate::wit::{self, PluginPre};

/// Compiling and linking, shared by every application in the process.
pub(crate) struct PluginEngine {
    pub(crate) engine: wasmtime::Engine,
    linker: Linker<HostState>,
    /// Components compiled and linked so far, by content hash.
    prepared: Mutex<HashMap<String, PluginPre<HostState>>>,
}

/// Why a component could not be prepared.
pub(crate) enum PrepareError {
    /// The file could not be read.
    Read(std::io::Error),
    /// Wasmtime could not compile it.
    Compile(String),
    /// It does not fit the world: a missing import or export.
    Link(String),
    /// It imports another version of the `precept:plugin` package.
    WorldVersion(String),
}

/// How often running wasm yields to the executor, so deadlines can end it.
pub(crate) const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// The `precept:plugin` version the component imports, when it is not the
/// one this runtime provides.
fn other_world_version(component: &Component, engine: &wasmtime::Engine) -> Option<String> {
    component
        .component_type()
        .imports(engine)
        .filter_map(|(name, _)| name.strip_prefix("precept:plugin/"))
        .filter_map(|rest| rest.split_once('@').map(|(_, version)| version.to_string()))
        .find(|version| version != wit::WORLD_VERSION)
}

impl PluginEngine {
    /// The process-wide engine, created on first use.
    pub(crate) fn shared() -> Result<Arc<PluginEngine>, Error> {
        static SHARED: OnceLock<Arc<PluginEngine>> = OnceLock::new();
        if let Some(engine) = SHARED.get() {
            return Ok(engine.clone());
        }
        let engine = Arc::new(PluginEngine::new()?);
        Ok(SHARED.get_or_init(|| engine).clone())
    }

    /// Configures the engine and registers every host import.
    fn new() -> Result<Self, Error> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config).map_err(|e| Error::Engine(one_line(&e)))?;
        let ticking = engine.weak();
        std::thread::Builder::new()
            .name("precept-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticking.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(|e| Error::Engine(e.to_string()))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| Error::Engine(one_line(&e)))?;
        wit::Plugin::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(|e| Error::Engine(one_line(&e)))?;
        Ok(PluginEngine {
            engine,
            linker,
            prepared: Mutex::default(),
        })
    }

    /// Compiles and links the component at `path`, whose content hash is
    /// `digest`, once per distinct content in this process; with `cache`,
    /// compiled code is mapped from there, or kept there for the next
    /// process. The file is read only when it must be compiled.
    pub(crate) fn prepare(
        &self,
        path: &Path,
        digest: &str,
        cache: Option<&CompileCache>,
    ) -> Result<PluginPre<HostState>, PrepareError> {
        if let Some(pre) = self.prepared.lock().unwrap().get(digest) {
            return Ok(pre.clone());
        }
        let mapped = cache.and_then(|cache| cache.lookup(&self.engine, digest));
        let (component, key) = match mapped {
            Some(component) => (component, digest.to_string()),
            None => {
                let bytes = std::fs::read(path).map_err(PrepareError::Read)?;
                // Hashed again: the file may have changed since `digest`.
                let key = crate::cache::digest(&bytes);
                let compiled = match cache {
                    Some(cache) => cache.compile_into(&self.engine, &bytes, &key),
                    None => Component::new(&self.engine, &bytes),
                };
                let component = compiled.map_err(|e| PrepareError::Compile(one_line(&e)))?;
                (component, key)
            }
        };
        if let Some(found) = other_world_version(&component, &self.engine) {
            return Err(PrepareError::WorldVersion(found));
        }
        let link = |e: wasmtime::Error| PrepareError::Link(one_line(&e));
        let pre =
            PluginPre::new(self.linker.instantiate_pre(&component).map_err(link)?).map_err(link)?;
        self.prepared.lock().unwrap().insert(key, pre.clone());
        Ok(pre)
    }

    /// Prepares the components at `paths` in parallel, so that loading
    /// them one by one afterwards finds them ready. Errors are left for
    /// that loading to report.
    pub(crate) fn prepare_all(&self, paths: &[PathBuf], cache: Option<&CompileCache>) {
        if paths.len() < 2 {
            return;
        }
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let per_thread = paths.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for chunk in paths.chunks(per_thread) {
                scope.spawn(move || {
                    for path in chunk {
                        if let Ok(file) = crate::cache::fingerprint(path) {
                            let _ = self.prepare(path, &file.digest, cache);
                        }
                    }
                });
            }
        });
    }
}
