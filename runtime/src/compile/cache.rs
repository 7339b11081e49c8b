//! The compiled-component cache on disk: compiling a component takes tens
//! of milliseconds to seconds, mapping a compiled one a fraction of a
//! millisecond. Entries are keyed by the BLAKE3 hash of the component and by
//! the engine's compatibility hash (wasmtime version, settings, CPU), and
//! written atomically.
//!
//! A cache entry becomes native code in this process, so the cache trusts
//! nothing it did not write itself: the directory must belong to the user
//! and be writable by nobody else (it is created `0700`); so must every
//! entry; and every entry has a keyed BLAKE3 tag beside
//! it (`<digest>.tag`), made with a random key kept in the directory
//! (`key`, `0600`). An entry whose tag does not match — planted, copied
//! from elsewhere, overwritten — is compiled again, never mapped.
//!
//! The tag is checked on the file as it is when the entry is looked up, and
//! the file is mapped right after: someone who could change it in between
//! could already write anything the user can. The tag an entry was found to
//! have is remembered while the file's identity is unchanged, and so is a
//! plugin file's hash ([`super::seen`]): a warm start reads neither whole.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use wasmtime::component::Component;

use super::seen::{Before, Kind, Seen};
use crate::io::files::{self, Exposed};

/// A component file as seen before compiling it: its first bytes, for
/// telling what kind of file it is, and the hash of its content.
pub(crate) struct Fingerprint {
    /// Up to the first eight bytes: the magic number and the version.
    pub(crate) header: Vec<u8>,
    /// The BLAKE3 hash of the whole file, in hex.
    pub(crate) digest: String,
}

/// The extension of an entry's file; its tag's is `tag`.
pub(crate) const ENTRY: &str = "cwasm";

/// The largest component file loaded.
pub(crate) const MAX_COMPONENT_BYTES: u64 = 1 << 30;

/// Hashes the file at `path`, mapped and on every core, and gives its bytes
/// to `look` while they are mapped. This runs at every start, so it stays
/// cheap for components of many megabytes (Python, JavaScript): the file is
/// read into memory only when it has to be compiled, and `cache`, when
/// given, remembers its hash while the file is unchanged (see
/// [`super::seen`]): only the pages `look` reads are read then. Only a
/// regular file of at most [`MAX_COMPONENT_BYTES`] is read.
pub(crate) fn fingerprint<T>(
    path: &Path,
    cache: Option<&CompileCache>,
    look: impl FnOnce(&[u8]) -> T,
) -> std::io::Result<(Fingerprint, T)> {
    let file = open_component(path)?;
    // Remembered under the absolute path, when it can be made.
    let remembering = cache
        .zip(std::path::absolute(path).ok())
        .and_then(|(cache, path)| Some((cache, path, Before::of(&file)?)));
    let remembered = remembering
        .as_ref()
        .and_then(|(cache, path, before)| cache.seen.recall(Kind::Content, path, before));
    map(&file, |bytes| {
        let hash = remembered.unwrap_or_else(|| {
            let mut hasher = blake3::Hasher::new();
            hasher.update_rayon(bytes);
            let hash = hasher.finalize();
            if let Some((cache, path, before)) = &remembering {
                cache
                    .seen
                    .remember(Kind::Content, path, &file, before, &hash);
            }
            hash
        });
        let fingerprint = Fingerprint {
            header: bytes[..bytes.len().min(8)].to_vec(),
            digest: hash.to_hex().to_string(),
        };
        (fingerprint, look(bytes))
    })
}

/// Gives the bytes of the file at `path`, mapped, to `look`, without
/// hashing them: only the pages `look` reads are read. The same checks as
/// [`fingerprint`]: a regular file of at most [`MAX_COMPONENT_BYTES`].
pub(crate) fn mapped<T>(path: &Path, look: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    map(&open_component(path)?, look)
}

/// The bytes of the component file at `path`, with the same checks as
/// [`fingerprint`]: a regular file of at most [`MAX_COMPONENT_BYTES`].
pub(crate) fn read_component(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::io::files::read_regular(path, MAX_COMPONENT_BYTES)
}

/// Opens the file at `path` when it is a regular file of at most
/// [`MAX_COMPONENT_BYTES`].
fn open_component(path: &Path) -> std::io::Result<std::fs::File> {
    let (file, metadata) = crate::io::files::open_regular(path)?;
    if metadata.len() > MAX_COMPONENT_BYTES {
        return Err(crate::io::files::too_large(MAX_COMPONENT_BYTES));
    }
    Ok(file)
}

/// Gives the bytes of `file`, mapped, to `look`.
fn map<T>(file: &std::fs::File, look: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    // SAFETY: the mapping lives only for this function. A file truncated
    // meanwhile by another process can fault, as any mapped read can; the
    // bytes are hashed once and everything compiled later is hashed again.
    let mapped = if file.metadata()?.len() == 0 {
        None
    } else {
        Some(unsafe { memmap2::Mmap::map(file)? })
    };
    Ok(look(mapped.as_deref().unwrap_or_default()))
}

/// The BLAKE3 hash of `bytes`, in hex.
pub(crate) fn digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
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

/// Why a cache directory is not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CacheError {
    /// The directory or its key could not be created or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The directory or its key belongs to another user, or others could
    /// write the directory or read the key.
    #[error(transparent)]
    Exposed(#[from] Exposed),
    /// The key file is not a key.
    #[error("{0} is not a cache key")]
    BadKey(String),
}

/// A cache directory that passed its checks, with the key that
/// authenticates its entries.
pub(crate) struct CompileCache {
    root: PathBuf,
    key: [u8; blake3::KEY_LEN],
    seen: Seen,
}

impl CompileCache {
    /// Opens the cache in `root`, creating it (`0700`) and its key (`0600`)
    /// when missing. Refused when the directory or the key belongs to
    /// another user, the directory is writable by others, or the key is
    /// readable or writable by others.
    pub(crate) fn open(root: &Path) -> Result<CompileCache, CacheError> {
        files::create_dir(root)?;
        files::check(root, 0o022)?;
        let key_path = root.join("key");
        if !key_path.exists() {
            create_key(&key_path)?;
        }
        files::check(&key_path, 0o077)?;
        let key = std::fs::read(&key_path)?
            .try_into()
            .map_err(|_| CacheError::BadKey(key_path.display().to_string()))?;
        Ok(CompileCache {
            root: root.to_path_buf(),
            key,
            seen: Seen::new(root, key),
        })
    }

    /// The cache's directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The hashes it remembers by file identity.
    pub(crate) fn seen(&self) -> &Seen {
        &self.seen
    }

    /// The directory of the entries `engine` can use: one per wasmtime
    /// version, settings and CPU.
    pub(crate) fn engine_dir(&self, engine: &wasmtime::Engine) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.root.join(format!("{:016x}", hasher.finish()))
    }

    /// Where the compiled form of the component with `digest` lives.
    fn entry(&self, engine: &wasmtime::Engine, digest: &str) -> PathBuf {
        self.engine_dir(engine).join(format!("{digest}.{ENTRY}"))
    }

    /// The tag of the entry at `path` holding `code`: keyed by the user's
    /// key, over the entry's name and content, so an entry is only valid
    /// where this cache wrote it.
    fn tag(&self, path: &Path, code: Code) -> std::io::Result<blake3::Hash> {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        let name = path.strip_prefix(&self.root).unwrap_or(path);
        hasher.update(name.as_os_str().as_encoded_bytes());
        hasher.update(&[0]);
        match code {
            Code::Bytes(bytes) => {
                hasher.update(bytes);
            }
            Code::File(file) => {
                map(file, |bytes| hasher.update_rayon(bytes))?;
            }
        };
        Ok(hasher.finalize())
    }

    /// The tag of the entry at `path` as the file is now: remembered while
    /// the file is unchanged since it was last hashed, else hashed.
    fn entry_tag(&self, path: &Path) -> std::io::Result<blake3::Hash> {
        let file = std::fs::File::open(path)?;
        let before = Before::of(&file);
        if let Some(tag) = before
            .as_ref()
            .and_then(|before| self.seen.recall(Kind::Tag, path, before))
        {
            return Ok(tag);
        }
        let tag = self.tag(path, Code::File(&file))?;
        if let Some(before) = &before {
            self.seen.remember(Kind::Tag, path, &file, before, &tag);
        }
        Ok(tag)
    }

    /// The component with `digest`, when it was compiled here before; `None`
    /// when it was not, or its entry is not one this cache wrote.
    pub(crate) fn lookup(&self, engine: &wasmtime::Engine, digest: &str) -> Option<Component> {
        let path = self.entry(engine, digest);
        match files::check(&path, 0o022) {
            Ok(()) => {}
            Err(Exposed::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => return unusable(&path, &error.to_string()),
        }
        let mut stored = Vec::new();
        let tag_file = std::fs::File::open(path.with_extension("tag"));
        let Ok(tag_file) = tag_file.and_then(|mut f| f.read_to_end(&mut stored).map(|_| f)) else {
            // Written by an older precept, or not by a cache at all.
            tracing::debug!("{} has no tag; compiling again", path.display());
            return None;
        };
        let matches = match self.entry_tag(&path) {
            Ok(tag) => blake3::Hash::from_slice(&stored).is_ok_and(|stored| stored == tag),
            Err(error) => return unusable(&path, &error.to_string()),
        };
        if !matches {
            return unusable(&path, "not written by this cache");
        }
        // SAFETY: the file is one this cache wrote with `Component::serialize`
        // (its keyed tag matches); wasmtime checks its header, version and
        // settings against this engine.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => {
                tracing::debug!("mapped the compiled component from {}", path.display());
                mark_used(&tag_file);
                Some(component)
            }
            Err(error) => unusable(&path, &crate::model::error::one_line(&error)),
        }
    }

    /// Compiles the component in `bytes`, whose hash is `digest`, and keeps
    /// the result here for next time.
    pub(crate) fn compile_into(
        &self,
        engine: &wasmtime::Engine,
        bytes: &[u8],
        digest: &str,
    ) -> wasmtime::Result<Component> {
        let path = self.entry(engine, digest);
        let started = std::time::Instant::now();
        let component = Component::new(engine, bytes)?;
        tracing::debug!(
            "compiled a component in {} ms; keeping it in {}",
            started.elapsed().as_millis(),
            path.display()
        );
        if let Err(error) = self.store(&path, &component) {
            tracing::warn!("cannot write {}: {error}", path.display());
        }
        Ok(component)
    }

    /// Counts one more start that loaded Winch's code for `digest` because
    /// Cranelift's was not there yet (a run that ended before its
    /// background compile did), and returns how many there were; a count
    /// that cannot be kept counts as the first.
    pub(crate) fn count_start_without(&self, engine: &wasmtime::Engine, digest: &str) -> u32 {
        let path = self.entry(engine, digest).with_extension("waiting");
        // A few digits, from a regular file of this cache's.
        let mut before = String::new();
        if files::check(&path, 0o022).is_ok() && path.is_file() {
            let file = std::fs::File::open(&path);
            let _ = file.and_then(|file| file.take(16).read_to_string(&mut before));
        }
        let count = before.trim().parse::<u32>().unwrap_or(0).saturating_add(1);
        let kept = files::create_dir(path.parent().expect("entries are in a directory"))
            .and_then(|()| files::write_aside(&path, count.to_string().as_bytes()));
        if let Err(error) = kept {
            tracing::debug!("cannot count the starts of {}: {error}", path.display());
        }
        count
    }

    /// Forgets the starts counted for `digest` (its code is there now).
    pub(crate) fn forget_starts(&self, engine: &wasmtime::Engine, digest: &str) {
        let _ = std::fs::remove_file(self.entry(engine, digest).with_extension("waiting"));
    }

    /// Writes the compiled component to `path` and its tag beside it, each
    /// written aside and renamed into place.
    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let serialized = component.serialize().map_err(std::io::Error::other)?;
        let tag = self.tag(path, Code::Bytes(&serialized))?;
        files::create_dir(path.parent().expect("entries are in a directory"))?;
        files::write_aside(path, &serialized)?;
        files::write_aside(&path.with_extension("tag"), tag.as_bytes())
    }
}

/// How often an entry's last use is written down: its tag's modification
/// time is moved to now when it is older than this.
const USE_RECORDED_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Records that the entry whose tag is open as `tag` was used now (to the
/// day), for `cache prune`, which removes entries unused for long.
fn mark_used(tag: &std::fs::File) {
    let now = SystemTime::now();
    let last = tag.metadata().and_then(|m| m.modified());
    let stale = last.map_or(true, |at| {
        now.duration_since(at)
            .is_ok_and(|age| age > USE_RECORDED_EVERY)
    });
    if stale && let Err(error) = tag.set_modified(now) {
        tracing::debug!("cannot record the use of a cache entry: {error}");
    }
}

/// When the entry whose tag is at `tag` was last used, to the day.
pub(crate) fn last_used(tag: &Path) -> Option<SystemTime> {
    std::fs::metadata(tag).and_then(|m| m.modified()).ok()
}

/// What a tag covers: code in memory, or the entry's file, open, as it is
/// now.
#[derive(Clone, Copy)]
enum Code<'a> {
    Bytes(&'a [u8]),
    File(&'a std::fs::File),
}

/// Makes a new random key at `path`, unless another process just did: the
/// key is written aside and linked into place, so nobody reads half a key.
fn create_key(path: &Path) -> std::io::Result<()> {
    let mut key = [0; blake3::KEY_LEN];
    getrandom::fill(&mut key).map_err(std::io::Error::from)?;
    let partial = files::write_partial(path, &key)?;
    let linked = std::fs::hard_link(&partial, path);
    let _ = std::fs::remove_file(&partial);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Warns that the entry at `path` is not used, and why.
fn unusable(path: &Path, why: &str) -> Option<Component> {
    tracing::warn!(
        "compiled cache entry {} is unusable ({why}); compiling again",
        path.display()
    );
    None
}
