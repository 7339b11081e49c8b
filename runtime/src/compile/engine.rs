//! The wasmtime `Engine` of a process (one per compiler), the `Linker` that
//! provides the host imports (WASI and the precept interfaces), and the
//! components prepared recently.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker};

use crate::compile::cache::CompileCache;
use crate::host::HostState;
use crate::model::error::{Error, one_line};
use crate::trust::sandbox::EPOCH_TICK;
use crate::wit::{self, PluginPre, Version};

/// Which compiler turns plugins into machine code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compiler {
    /// Cranelift, the optimising compiler: the fastest code.
    #[default]
    Cranelift,
    /// Winch, the baseline compiler: compiles several times faster, for
    /// code that runs somewhat slower; for large plugins that start often
    /// without a compile cache.
    Winch,
}

impl Compiler {
    /// Both compilers.
    pub(crate) const ALL: [Compiler; 2] = [Compiler::Cranelift, Compiler::Winch];

    /// The compiler's name: `cranelift` or `winch`.
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Cranelift => "cranelift",
            Compiler::Winch => "winch",
        }
    }

    fn strategy(self) -> wasmtime::Strategy {
        match self {
            Compiler::Cranelift => wasmtime::Strategy::Cranelift,
            Compiler::Winch => wasmtime::Strategy::Winch,
        }
    }
}

/// Where a plugin's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Mapped from the compile cache.
    Hit,
    /// Compiled, and kept in the cache for the next start.
    Miss,
    /// Compiled; no cache is used.
    Off,
}

/// How a plugin's compiled code was prepared: from where, and how long
/// that took (the first time, when this process prepared it before).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared {
    pub(crate) cache: CacheUse,
    pub(crate) compiler: Compiler,
    pub(crate) took: Duration,
}

/// Compiling and linking, shared by every application in the process that
/// uses the same compiler.
pub(crate) struct PluginEngine {
    pub(crate) engine: wasmtime::Engine,
    linker: Linker<HostState>,
    /// The imports of plugins called synchronously: those that never wait.
    synchronous: Linker<HostState>,
    /// Which compiler `engine` uses.
    compiler: Compiler,
    /// Components compiled and linked recently, by content hash, with how
    /// they were prepared.
    prepared: Mutex<Recent<(PluginPre, Prepared)>>,
    /// Components being compiled in the background for the cache.
    compiling: Mutex<HashSet<String>>,
}

/// Components at least this large are compiled with Winch on their first
/// load, while Cranelift compiles them for the cache (see
/// `PluginEngine::prepare`), unless the application says otherwise: the
/// Python, JavaScript and Go ones, which take seconds to compile, not
/// Rust's or C's.
pub const WINCH_FIRST_BYTES: u64 = 1 << 20;

/// How long after a Winch-first load Cranelift starts compiling the
/// component for the cache, on a thread of its own.
const COMPILE_LATER_AFTER: Duration = Duration::from_secs(2);

/// After how many starts that mapped Winch's code from the cache (runs too
/// short for the background compile to end) Cranelift compiles the
/// component in the foreground instead: a user whose runs are all short
/// still gets its faster code, once.
const WINCH_STARTS_BEFORE_COMPILING: u32 = 3;

/// Where compiled code is kept, and which first loads Winch compiles.
#[derive(Clone)]
pub(crate) struct CodePolicy {
    /// The compile cache, if any.
    pub(crate) cache: Option<Arc<CompileCache>>,
    /// Components at least this large are compiled with Winch when the
    /// cache does not have them; `None`: never.
    pub(crate) winch_first: Option<u64>,
}

/// The most components kept prepared, and the most compiled code they may
/// hold together: loading one again within these skips compiling it, and
/// a process that loads many distinct components keeps bounded memory.
const MAX_PREPARED: usize = 256;
const MAX_PREPARED_BYTES: usize = 1 << 30;

/// Recently prepared components by digest, with their sizes; the oldest
/// are evicted first.
struct Recent<T> {
    by_digest: HashMap<String, (T, usize)>,
    order: VecDeque<String>,
    bytes: usize,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            by_digest: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
        }
    }
}

impl<T: Clone> Recent<T> {
    fn get(&self, digest: &str) -> Option<T> {
        self.by_digest.get(digest).map(|(value, _)| value.clone())
    }

    /// Keeps `value` of `bytes`, evicting the oldest entries past
    /// [`MAX_PREPARED`] entries or [`MAX_PREPARED_BYTES`]; the new entry
    /// itself is always kept.
    fn insert(&mut self, digest: String, value: T, bytes: usize) {
        if let Some((_, old)) = self.by_digest.insert(digest.clone(), (value, bytes)) {
            self.bytes -= old;
            self.order.retain(|d| *d != digest);
        }
        self.bytes += bytes;
        self.order.push_back(digest);
        while self.order.len() > MAX_PREPARED
            || (self.bytes > MAX_PREPARED_BYTES && self.order.len() > 1)
        {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, size)) = self.by_digest.remove(&oldest) {
                self.bytes -= size;
            }
        }
    }
}

/// Why a component could not be prepared.
pub(crate) enum PrepareError {
    /// The file could not be read.
    Read(std::io::Error),
    /// The file changed since it was checked.
    Changed,
    /// Wasmtime could not compile it.
    Compile(String),
    /// It does not fit the world: a missing import or export.
    Link(String),
    /// It imports another version of the `precept:plugin` package.
    WorldVersion(String),
}

impl PluginEngine {
    /// The process-wide engine of `compiler`, created on first use.
    pub(crate) fn shared(compiler: Compiler) -> Result<Arc<PluginEngine>, Error> {
        static CRANELIFT: OnceLock<Arc<PluginEngine>> = OnceLock::new();
        static WINCH: OnceLock<Arc<PluginEngine>> = OnceLock::new();
        let shared = match compiler {
            Compiler::Cranelift => &CRANELIFT,
            Compiler::Winch => &WINCH,
        };
        if let Some(engine) = shared.get() {
            return Ok(engine.clone());
        }
        let engine = Arc::new(PluginEngine::new(compiler)?);
        Ok(shared.get_or_init(|| engine).clone())
    }

    /// Configures the engine and registers every host import.
    fn new(compiler: Compiler) -> Result<Self, Error> {
        crate::io::files::raise_descriptor_limit();
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.strategy(compiler.strategy());
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
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| Error::Engine(one_line(&e)))?;
        wit::add_to_linker(&mut linker).map_err(|e| Error::Engine(one_line(&e)))?;
        let mut synchronous = Linker::new(&engine);
        crate::host::synchronous::add_to_linker(&mut synchronous)
            .and_then(|()| wit::add_to_linker(&mut synchronous))
            .map_err(|e| Error::Engine(one_line(&e)))?;
        Ok(PluginEngine {
            engine,
            compiler,
            linker,
            synchronous,
            prepared: Mutex::default(),
            compiling: Mutex::default(),
        })
    }

    /// Compiles and links the component at `path`, whose content hash is
    /// `digest`, once per distinct content in this process; with `cache`,
    /// compiled code is mapped from there, or kept there for the next
    /// process. The file is read only when it must be compiled, and must
    /// still hash to `digest`.
    ///
    /// A large component (see [`CodePolicy::winch_first`]) that Cranelift
    /// would compile for the cache is compiled with Winch instead, several
    /// times faster, and loaded in Winch's engine (the one returned), while
    /// Cranelift compiles it in the background for the cache: later starts
    /// map Cranelift's code, or Winch's until Cranelift's is there.
    pub(crate) fn prepare(
        self: &Arc<Self>,
        path: &Path,
        digest: &str,
        policy: &CodePolicy,
    ) -> Result<(Arc<PluginEngine>, PluginPre, Prepared), PrepareError> {
        let cache = policy.cache.as_ref();
        if let Some((pre, prepared)) = self.find(digest, cache.map(|c| &**c))? {
            return Ok((self.clone(), pre, prepared));
        }
        let large = policy
            .winch_first
            .is_some_and(|bytes| std::fs::metadata(path).is_ok_and(|m| m.len() >= bytes));
        if let Some(cache) = cache.filter(|_| large && self.compiler == Compiler::Cranelift) {
            let winch = PluginEngine::shared(Compiler::Winch)
                .map_err(|e| PrepareError::Compile(e.to_string()))?;
            let (pre, prepared) = winch.prepare_here(path, digest, Some(cache))?;
            // A start that maps Winch's code while no compile for the cache
            // runs in this process is one that ended too soon before.
            let compiling = self.compiling.lock().unwrap().contains(digest);
            let short_runs = match prepared.cache {
                CacheUse::Hit if !compiling => cache.count_start_without(&self.engine, digest),
                _ => 0,
            };
            if short_runs < WINCH_STARTS_BEFORE_COMPILING {
                self.compile_later(path, digest, cache);
                return Ok((winch, pre, prepared));
            }
            cache.forget_starts(&self.engine, digest);
            // Winch's code, which is in hand, if Cranelift cannot compile it.
            return match self.compile(path, digest, Some(cache)) {
                Ok((pre, prepared)) => Ok((self.clone(), pre, prepared)),
                Err(_) => Ok((winch, pre, prepared)),
            };
        }
        // Not found above: compile.
        let (pre, prepared) = self.compile(path, digest, cache.map(|c| &**c))?;
        Ok((self.clone(), pre, prepared))
    }

    /// The component `digest` when this process prepared it before or the
    /// cache has its code, linked.
    fn find(
        &self,
        digest: &str,
        cache: Option<&CompileCache>,
    ) -> Result<Option<(PluginPre, Prepared)>, PrepareError> {
        if let Some(found) = self.prepared.lock().unwrap().get(digest) {
            return Ok(Some(found));
        }
        let started = Instant::now();
        let Some(component) = cache.and_then(|cache| cache.lookup(&self.engine, digest)) else {
            return Ok(None);
        };
        self.link(component, digest, CacheUse::Hit, started)
            .map(Some)
    }

    /// Prepares the component with this engine: found, or compiled (into
    /// `cache`, when given).
    fn prepare_here(
        &self,
        path: &Path,
        digest: &str,
        cache: Option<&CompileCache>,
    ) -> Result<(PluginPre, Prepared), PrepareError> {
        if let Some(found) = self.find(digest, cache)? {
            return Ok(found);
        }
        self.compile(path, digest, cache)
    }

    /// Compiles the component (into `cache`, when given) and links it.
    fn compile(
        &self,
        path: &Path,
        digest: &str,
        cache: Option<&CompileCache>,
    ) -> Result<(PluginPre, Prepared), PrepareError> {
        let started = Instant::now();
        let bytes = crate::compile::cache::read_component(path).map_err(PrepareError::Read)?;
        if crate::compile::cache::digest(&bytes) != digest {
            return Err(PrepareError::Changed);
        }
        let (compiled, source) = match cache {
            Some(cache) => (
                cache.compile_into(&self.engine, &bytes, digest),
                CacheUse::Miss,
            ),
            None => (Component::new(&self.engine, &bytes), CacheUse::Off),
        };
        let component = compiled.map_err(|e| PrepareError::Compile(one_line(&e)))?;
        self.link(component, digest, source, started)
    }

    /// Links a compiled component against the host and keeps it prepared.
    fn link(
        &self,
        component: Component,
        digest: &str,
        cache: CacheUse,
        started: Instant,
    ) -> Result<(PluginPre, Prepared), PrepareError> {
        let version = Version::of(&component, &self.engine).map_err(PrepareError::WorldVersion)?;
        let link = |e: wasmtime::Error| PrepareError::Link(one_line(&e));
        let linked = self.linker.instantiate_pre(&component).map_err(link)?;
        // Linked synchronously too when it imports nothing that can wait.
        let synchronous = self.synchronous.instantiate_pre(&component).ok();
        let pre = PluginPre::new(version, linked, synchronous).map_err(link)?;
        let image = pre.component().image_range();
        let size = (image.end as usize).saturating_sub(image.start as usize);
        let prepared = Prepared {
            cache,
            compiler: self.compiler,
            took: started.elapsed(),
        };
        self.prepared
            .lock()
            .unwrap()
            .insert(digest.to_string(), (pre.clone(), prepared), size);
        Ok((pre, prepared))
    }

    /// Compiles the component on a thread of its own, after
    /// [`COMPILE_LATER_AFTER`], and keeps the code in `cache`, once per
    /// component and process. A process that ends first leaves no entry
    /// (entries are written aside and renamed into place); its next start
    /// tries again. A short run does not start it, so that it neither
    /// competes with the run for the processor nor burns it for nothing.
    fn compile_later(self: &Arc<Self>, path: &Path, digest: &str, cache: &Arc<CompileCache>) {
        if !self.compiling.lock().unwrap().insert(digest.to_string()) {
            return;
        }
        let (engine, cache) = (self.clone(), cache.clone());
        let (path, digest) = (path.to_path_buf(), digest.to_string());
        let spawned = std::thread::Builder::new()
            .name("precept-compile".into())
            .spawn(move || {
                std::thread::sleep(COMPILE_LATER_AFTER);
                let Ok(bytes) = crate::compile::cache::read_component(&path) else {
                    return;
                };
                if crate::compile::cache::digest(&bytes) == digest
                    && cache.compile_into(&engine.engine, &bytes, &digest).is_ok()
                {
                    cache.forget_starts(&engine.engine, &digest);
                }
            });
        if let Err(error) = spawned {
            tracing::debug!("cannot compile in the background: {error}");
        }
    }

    /// Prepares the components at `paths` in parallel, so that loading
    /// them one by one afterwards finds them ready. Errors are left for
    /// that loading to report.
    pub(crate) fn prepare_all(self: &Arc<Self>, paths: &[PathBuf], policy: &CodePolicy) {
        if paths.len() < 2 {
            return;
        }
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let per_thread = paths.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for chunk in paths.chunks(per_thread) {
                scope.spawn(move || {
                    for path in chunk {
                        if let Ok((file, ())) = crate::compile::cache::fingerprint(
                            path,
                            policy.cache.as_deref(),
                            |_| (),
                        ) {
                            let _ = self.prepare(path, &file.digest, policy);
                        }
                    }
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_prepared_components_are_evicted_past_the_bounds() {
        let mut recent = Recent::default();
        for i in 0..MAX_PREPARED + 10 {
            recent.insert(format!("d{i}"), i, 1);
        }
        assert_eq!(recent.order.len(), MAX_PREPARED);
        assert_eq!(recent.get("d9"), None);
        assert_eq!(recent.get("d10"), Some(10));

        // Past the bytes: older ones go, the new one stays however large.
        recent.insert("big".into(), 0, MAX_PREPARED_BYTES);
        assert_eq!(recent.order.len(), 1);
        assert_eq!(recent.bytes, MAX_PREPARED_BYTES);
        recent.insert("huge".into(), 1, MAX_PREPARED_BYTES + 1);
        assert_eq!((recent.get("big"), recent.get("huge")), (None, Some(1)));

        // Inserting a digest again replaces it and counts it once.
        recent.insert("huge".into(), 2, 5);
        assert_eq!((recent.order.len(), recent.bytes), (1, 5));
    }
}
