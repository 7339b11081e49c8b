//! Loading a plugin: reading and checking the file and what it says about
//! itself, preparing (compiling and linking, or finding ready) the
//! component, and instantiating it into a store of its own, confined by its
//! sandbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use tokio::sync::Mutex;
use wasmtime::Store;

use super::{About, Instance, Loaded, Plugin, call};
use crate::compile::cache::CompileCache;
use crate::compile::engine::{CodePolicy, PluginEngine, PrepareError, Prepared};
use crate::compile::profile::LoadProfile;
use crate::host::HostState;
use crate::model::app_info::AppInfo;
use crate::model::config::PluginOptions;
use crate::model::error::{LoadError, one_line};
use crate::trust::capabilities::Granted;
use crate::trust::lock::Locked;
use crate::trust::manifest::{self, Manifest};
use crate::trust::sandbox::Grants;
use crate::wit::{PluginPre, Version};

/// The largest plugin file [`PluginFile::peek`] reads whole; a larger one
/// is mapped.
const PEEK_READ_BYTES: u64 = 1 << 20;

/// The bytes of the regular file at `path` if it has at most
/// [`PEEK_READ_BYTES`]; `None` when it is larger or not a regular file.
fn read_small(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = crate::io::files::open_to_read(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() || metadata.len() > PEEK_READ_BYTES {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(PEEK_READ_BYTES).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// The error of a plugin file that cannot be read.
fn unreadable(path: &Path, source: std::io::Error) -> LoadError {
    LoadError::Read {
        name: plugin_name(path),
        path: shown_path(path),
        source,
    }
}

/// Checks a plugin file's header and manifest, and gives the name it is
/// loaded under: `rename`, else the one its metadata gives, else its file
/// stem.
fn named(
    path: &Path,
    rename: Option<&str>,
    header: &[u8],
    manifest: Result<Manifest, String>,
) -> Result<(String, Manifest), LoadError> {
    let (stem, shown) = (plugin_name(path), shown_path(path));
    check_header(header, &stem, &shown)?;
    let manifest = manifest.map_err(|cause| LoadError::Manifest {
        name: stem.clone(),
        path: shown.clone(),
        cause,
    })?;
    // The name names its data directory, grants and log lines: given,
    // from the metadata or from the file stem alike, it is checked.
    let name = match (rename, &manifest.identity.name) {
        (Some(name), _) => {
            usable_name(name).map_err(|cause| cause.replace("its name", "the name given"))
        }
        (None, Some(name)) => usable_name(name),
        (None, None) => {
            usable_name(&stem).map_err(|cause| cause.replace("its name", "its file name"))
        }
    };
    let name = name.map_err(|cause| LoadError::Manifest {
        name: stem,
        path: shown,
        cause,
    })?;
    Ok((name, manifest))
}

/// A plugin's file, read and checked, before any of its code is compiled
/// or run: its bytes, its hash, and what it says about itself.
pub(crate) struct PluginFile {
    /// The plugin's name: from its metadata, else the file stem.
    pub(crate) name: String,
    /// The file, absolute.
    pub(crate) path: PathBuf,
    /// The file, as shown in messages.
    pub(crate) shown: String,
    /// Who it says it is, what it declares, which version it targets.
    pub(crate) manifest: Manifest,
    /// The BLAKE3 hash of the file, in hex.
    digest: String,
}

impl PluginFile {
    /// Reads and checks the file at `path`, off the executor (hashing a
    /// large component takes milliseconds); `rename` is the name the
    /// application gives it instead of its own. `cache`, when given,
    /// remembers the file's hash while the file is unchanged.
    pub(crate) async fn read(
        path: &Path,
        rename: Option<&str>,
        cache: Option<Arc<CompileCache>>,
    ) -> Result<PluginFile, LoadError> {
        let (owned, rename) = (path.to_path_buf(), rename.map(str::to_string));
        let read = move || PluginFile::read_now(&owned, rename.as_deref(), cache.as_deref());
        crate::io::task::off_executor(read).await
    }

    /// [`PluginFile::read`], on this thread.
    pub(crate) fn read_now(
        path: &Path,
        rename: Option<&str>,
        cache: Option<&CompileCache>,
    ) -> Result<PluginFile, LoadError> {
        let read = crate::compile::cache::fingerprint(path, cache, manifest::read);
        let (read, manifest) = read.map_err(|source| unreadable(path, source))?;
        let (name, manifest) = named(path, rename, &read.header, manifest)?;
        Ok(PluginFile {
            name,
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            shown: shown_path(path),
            manifest,
            digest: read.digest,
        })
    }

    /// The name and manifest of the plugin file at `path`, named `rename`
    /// if given, read as [`PluginFile::read`] reads them but without
    /// hashing the file: what a plugin loaded lazily needs at start. Its
    /// load reads and checks the file again.
    pub(crate) fn peek(path: &Path, rename: Option<&str>) -> Result<(String, Manifest), LoadError> {
        let look = |bytes: &[u8]| (bytes[..bytes.len().min(8)].to_vec(), manifest::read(bytes));
        // A small file is read: cheaper than mapping it, and than unmapping
        // it while other threads run. A large one is mapped, and only the
        // pages its sections' headers and custom sections are on are read.
        let read = match read_small(path) {
            Ok(Some(bytes)) => Ok(look(&bytes)),
            Ok(None) => crate::compile::cache::mapped(path, look),
            Err(error) => Err(error),
        };
        let (header, manifest) = read.map_err(|source| unreadable(path, source))?;
        named(path, rename, &header, manifest)
    }

    /// The BLAKE3 hash of the file, in hex.
    pub(crate) fn digest(&self) -> &str {
        &self.digest
    }

    /// The plugin as a lockfile records it, once granted `granted`.
    pub(crate) fn locked(&self, granted: &[Granted]) -> Locked {
        let world = self.manifest.world.as_deref();
        Locked::new(
            &self.name,
            &self.path,
            &self.digest,
            world.unwrap_or(crate::wit::WORLD_VERSION),
            (&self.manifest.identity, &self.manifest.capabilities),
            granted,
        )
    }

    /// What the plugin is granted of what it declares, given `grants`: a
    /// plugin built for 0.1.0 declares nothing and is given its grants as
    /// they are (listed, so that a lockfile pins them too); a newer one gets
    /// only what it declares, and every required capability. (A version
    /// this runtime does not provide is refused when it is prepared.)
    pub(crate) fn granted(&self, grants: &Grants) -> Result<Vec<Granted>, LoadError> {
        granted(&self.name, &self.shown, &self.manifest, grants)
    }
}

/// What the plugin `name` (its file shown as `shown`), whose manifest is
/// `manifest`, is granted of what it declares, given `grants`: see
/// [`PluginFile::granted`].
pub(crate) fn granted(
    name: &str,
    shown: &str,
    manifest: &Manifest,
    grants: &Grants,
) -> Result<Vec<Granted>, LoadError> {
    // Without precept imports a component is taken as the newest.
    let declares = match manifest.world.as_deref() {
        None => true,
        Some(version) => Version::named(version).is_some_and(Version::declares_capabilities),
    };
    if !declares {
        return Ok(crate::trust::capabilities::given(grants));
    }
    manifest
        .capabilities
        .resolve(name, grants)
        .map_err(|cause| LoadError::Capability {
            name: name.to_string(),
            path: shown.to_string(),
            cause,
        })
}

impl Plugin {
    /// Compiles, links and instantiates the component of `file` in a store
    /// of its own, confined by its sandbox, with `granted` as what its
    /// `granted` query answers; `profile` gets the times of those steps.
    pub(crate) async fn load(
        engine: &Arc<PluginEngine>,
        file: PluginFile,
        granted: Vec<Granted>,
        app: Arc<AppInfo>,
        options: Arc<PluginOptions>,
        policy: CodePolicy,
        profile: &mut LoadProfile,
    ) -> Result<Plugin, LoadError> {
        let sandbox = &options.sandbox;
        let PluginFile {
            name,
            path,
            shown,
            manifest,
            digest,
        } = file;
        // Compiling takes milliseconds to seconds: off the executor, so
        // that other tasks (a timer, Ctrl-C) go on.
        let (preparing, named, at) = (engine.clone(), name.clone(), shown.clone());
        let (file, hash) = (path.clone(), digest.clone());
        let then = if policy.cache.is_some() {
            "; cached for next time"
        } else {
            ""
        };
        let mib = std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / f64::from(1 << 20));
        let what = format!("{shown} ({mib:.1} MiB)");
        let preparing = crate::io::task::off_executor(move || {
            prepare(&preparing, &file, &hash, &policy, named, at)
        });
        let prepared = crate::compile::progress::while_compiling(&what, then, preparing).await;
        // The engine may be another than `engine`: see `PluginEngine::prepare`.
        let (engine, pre, how) = prepared?;
        (profile.cache, profile.compiler) = (how.cache, how.compiler);
        profile.prepare = how.took;
        let instantiating = Instant::now();

        let component = pre.component().clone();
        let net = sandbox.net();
        let wasi = sandbox
            .wasi(app.stdout.clone(), &net)
            .map_err(|e| LoadError::Grant {
                name: name.clone(),
                cause: e.to_string(),
            })?;
        let name: Arc<str> = name.into();
        let disabled = Arc::new(AtomicBool::new(false));
        let state = HostState::new(
            name.clone(),
            disabled.clone(),
            app,
            wasi,
            options.clone(),
            granted.clone(),
            net,
        );
        let mut store = Store::new(&engine.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(sandbox.limits.host.copy_bytes);
        call::count_running_time(&mut store, sandbox.limits.call);
        let wait = Some(sandbox.limits.wait);
        let now = crate::host::synchronous::available()
            .then(|| {
                store.data_mut().call_synchronously(true, wait);
                let instantiated = pre.instantiate_now(&mut store);
                store.data_mut().call_synchronously(false, None);
                instantiated
            })
            .flatten();
        let instantiated = match now {
            Some(instantiated) => instantiated,
            None => call::bounded(wait, pre.instantiate_async(&mut store)).await,
        };
        let exports = instantiated.map_err(|e| LoadError::Instantiate {
            name: name.to_string(),
            cause: one_line(&e),
        })?;
        let timers = store.data().timers().clone();
        profile.instantiate = instantiating.elapsed();
        let loaded = Loaded {
            synchronous: exports.is_synchronous(),
            instance: Arc::new(Mutex::new(Some(Instance { store, exports }))),
            disabled,
            timers,
            component: (engine.engine.clone(), component),
            about: About {
                file: path,
                identity: manifest.identity,
                declared: manifest.capabilities,
                version: pre.version(),
                granted,
                digest,
            },
        };
        Ok(Plugin::new(name, shown, options, loaded))
    }
}

/// Prepares (compiles and links, or finds ready) the component at `path`
/// hashed `digest`, for the plugin `name` shown as `shown`.
fn prepare(
    engine: &Arc<PluginEngine>,
    path: &Path,
    digest: &str,
    policy: &CodePolicy,
    name: String,
    shown: String,
) -> Result<(Arc<PluginEngine>, PluginPre, Prepared), LoadError> {
    engine
        .prepare(path, digest, policy)
        .map_err(|error| match error {
            PrepareError::Read(source) => LoadError::Read {
                name: name.clone(),
                path: shown.clone(),
                source,
            },
            PrepareError::Changed => LoadError::Read {
                name: name.clone(),
                path: shown.clone(),
                source: std::io::Error::other("the file changed while it was loading"),
            },
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
                provided: crate::wit::WORLD_VERSIONS.join(" and "),
            },
        })
}

/// The longest plugin name.
const MAX_PLUGIN_NAME: usize = 64;

/// A name a plugin gives itself (or its file stem), if usable as one: it
/// names its section of the configuration file, its grants on the command
/// line and its data directory. Letters, digits, `-`, `_` and `.`,
/// starting with a letter or digit, so never `.` or `..`.
pub(crate) fn usable_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    // Windows takes `notes.` for `notes`: a name ends as it starts.
    let last = name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if first
        && last
        && name.len() <= MAX_PLUGIN_NAME
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(name.to_string())
    } else {
        Err(format!(
            "its name '{name}' is not usable: at most {MAX_PLUGIN_NAME} letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

/// A plugin's name when it gives none: its file stem, e.g. `hello` for
/// `hello.wasm`.
fn plugin_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    crate::io::text::clean(&stem, crate::model::error::MAX_NAME_CHARS)
}

/// A plugin's file as shown in messages: one safe line.
pub(crate) fn shown_path(path: &Path) -> String {
    crate::io::text::clean(
        &path.display().to_string(),
        crate::io::text::MAX_SHOWN_CHARS,
    )
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];

/// Tells a component from other files by its first eight bytes (of
/// `bytes`, the file).
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

    #[test]
    fn stems_that_could_name_another_directory_are_not_usable() {
        for path in [
            "/x/..wasm",
            "/x/...wasm",
            "/x/a b.wasm",
            "/x/other: ok.wasm",
            "/x/.hidden.wasm",
            "/x/notes..wasm",
        ] {
            let stem = plugin_name(Path::new(path));
            assert!(usable_name(&stem).is_err(), "{path}: {stem}");
        }
        assert!(usable_name("notes.v2").is_ok());
    }
}
