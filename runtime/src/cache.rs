//! The compiled-component cache on disk: compiling a component takes tens
//! of milliseconds to seconds, mapping a compiled one a fraction of a
//! millisecond. Entries are keyed by the BLAKE3 hash of the component and by
//! the engine's compatibility hash (wasmtime version, settings, CPU), and
//! written atomically. An entry that cannot be used is compiled again, with
//! a warning.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use wasmtime::component::Component;

/// The BLAKE3 hash of `bytes`, in hex.
pub(crate) fn digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A component file as seen before loading it: its first bytes, for
/// telling what kind of file it is, and the hash of its content.
pub(crate) struct Fingerprint {
    /// Up to the first eight bytes: the magic number and the version.
    pub(crate) header: Vec<u8>,
    /// The BLAKE3 hash of the whole file, in hex.
    pub(crate) digest: String,
}

/// Hashes the file at `path` through a small buffer. This runs at every
/// start, so it must stay cheap for components of many megabytes (Python,
/// JavaScript): the whole file is read into memory only when it has to be
/// compiled.
pub(crate) fn fingerprint(path: &Path) -> std::io::Result<Fingerprint> {
    let mut file = std::fs::File::open(path)?;
    let mut header = Vec::with_capacity(8);
    (&mut file).take(8).read_to_end(&mut header)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&header);
    hasher.update_reader(file)?;
    Ok(Fingerprint {
        header,
        digest: hasher.finalize().to_hex().to_string(),
    })
}

/// The per-user cache directory: `$PRECEPT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/precept`, else `~/.cache/precept`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PRECEPT_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("precept"))
}

/// Where the compiled form of the component with `digest` lives in `dir`.
fn entry(engine: &wasmtime::Engine, dir: &Path, digest: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{:016x}", hasher.finish()))
        .join(format!("{digest}.cwasm"))
}

/// The component with `digest`, mapped from `dir` when it was compiled
/// there before; `None` when it was not, or the entry is unusable.
pub(crate) fn lookup(engine: &wasmtime::Engine, dir: &Path, digest: &str) -> Option<Component> {
    let path = entry(engine, dir, digest);
    if !path.is_file() {
        return None;
    }
    // SAFETY: the file is one this cache wrote with `Component::serialize`
    // for this engine; wasmtime checks its header, version and settings.
    match unsafe { Component::deserialize_file(engine, &path) } {
        Ok(component) => {
            tracing::debug!("mapped the compiled component from {}", path.display());
            Some(component)
        }
        Err(error) => {
            tracing::warn!(
                "compiled cache entry {} is unusable ({}); compiling again",
                path.display(),
                crate::error::one_line(&error)
            );
            None
        }
    }
}

/// Compiles the component in `bytes`, whose hash is `digest`, and keeps
/// the result in `dir` for next time.
pub(crate) fn compile_into(
    engine: &wasmtime::Engine,
    dir: &Path,
    bytes: &[u8],
    digest: &str,
) -> wasmtime::Result<Component> {
    let path = entry(engine, dir, digest);
    let started = std::time::Instant::now();
    let component = Component::new(engine, bytes)?;
    tracing::debug!(
        "compiled a component in {} ms; keeping it in {}",
        started.elapsed().as_millis(),
        path.display()
    );
    if let Err(error) = store(&path, &component) {
        tracing::warn!("cannot write {}: {error}", path.display());
    }
    Ok(component)
}

/// Writes the compiled component next to `path`, then renames it into place.
fn store(path: &Path, component: &Component) -> std::io::Result<()> {
    let serialized = component.serialize().map_err(std::io::Error::other)?;
    std::fs::create_dir_all(path.parent().expect("entries are in a directory"))?;
    let partial = path.with_extension(format!("{}.partial", std::process::id()));
    std::fs::write(&partial, serialized)?;
    std::fs::rename(&partial, path)
}
