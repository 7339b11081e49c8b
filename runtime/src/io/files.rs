//! Files and directories only the user can reach, files written aside then
//! renamed into place, and the process's limit on open files: the one place
//! where what a platform gives for privacy is used (signals have theirs in
//! `signals`). On Unix, directories are created `0700` and files
//! `0600`, and a path is checked for its owner and mode; elsewhere the
//! platform's defaults apply and no check is made (what depends on them,
//! such as the compile cache's entries, is authenticated besides).

use std::path::{Path, PathBuf};

/// Why a path is not private to the user.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Exposed {
    /// The path belongs to another user.
    #[cfg(unix)]
    #[error("{0} belongs to another user")]
    NotOwned(String),
    /// Others have some of the permission bits it must not have.
    #[cfg(unix)]
    #[error("{0} is open to other users (mode {1:o})")]
    NotPrivate(String, u32),
    /// Its metadata could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes `bytes` beside `path`, to a new private file of its own (never
/// one found there), then renames them into place.
pub(crate) fn write_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::rename(write_partial(path, bytes)?, path)
}

/// Writes `bytes` to a private file beside `path`, named after this
/// process and this write (threads may write the same file), and returns
/// its name. They are written [`WRITE_CHUNK`] bytes at a time.
pub(crate) fn write_partial(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}-{write}.partial", std::process::id()));
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let mut file = create_file(&partial)?;
    for chunk in bytes.chunks(WRITE_CHUNK) {
        std::io::Write::write_all(&mut file, chunk)?;
    }
    Ok(partial)
}

/// The most bytes [`write_partial`] writes at once. Linux keeps what one
/// write puts in its page cache in folios as large as the write (up to
/// 2 MiB), and maps a whole folio into a process at its first touch: a
/// compiled Python component written in one write was then counted, 2 MiB
/// at a time, as most of its 35 MB in every start's memory (40 MiB at the
/// peak instead of 31 MiB).
const WRITE_CHUNK: usize = 64 * 1024;

pub(crate) use platform::{check, create_dir, create_file};

/// Opens the file at `path` to read, without waiting: the open of a FIFO
/// with no writer, or of a device, which a plugin directory or a checkout
/// can hold under any name, returns at once, for the caller to refuse what
/// is not a regular file instead of holding the start.
pub(crate) fn open_to_read(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Without effect on a regular file's reads.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    options.open(path)
}

/// Opens the regular file at `path` as [`open_to_read`] does, with its
/// metadata; anything else (a FIFO, a device, a directory) is refused.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    let file = open_to_read(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    Ok((file, metadata))
}

/// The bytes of the regular file at `path`, opened as [`open_regular`]
/// opens it, refused beyond `max_bytes`.
pub(crate) fn read_regular(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    let (file, metadata) = open_regular(path)?;
    if metadata.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    read_at_most(file, metadata.len(), max_bytes)
}

/// The bytes of `file` (about `expected` of them), refused beyond
/// `max_bytes`: a file that grows while it is read, or a pipe, cannot make
/// the host hold more.
fn read_at_most(file: std::fs::File, expected: u64, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::with_capacity(expected.min(max_bytes) as usize);
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(bytes)
}

/// The error of a file larger than `max_bytes`.
pub(crate) fn too_large(max_bytes: u64) -> std::io::Error {
    std::io::Error::other(format!("it is larger than {} MiB", max_bytes >> 20))
}

/// The most bytes [`read_text`] reads.
const MAX_TEXT_BYTES: u64 = 16 << 20;

/// The text of the file at `path`, of at most 16 MiB: a regular file, a
/// pipe (`<(...)`) or a device (`/dev/null`). Its open never waits (see
/// [`open_to_read`]): a FIFO with no writer yet reads as empty.
pub(crate) fn read_text(path: &Path) -> std::io::Result<String> {
    let file = open_to_read(path)?;
    // What is not a regular file is read as any is, waiting for what its
    // writer writes.
    #[cfg(unix)]
    if !file.metadata()?.is_file() {
        let flags = rustix::fs::fcntl_getfl(&file)?;
        rustix::fs::fcntl_setfl(&file, flags - rustix::fs::OFlags::NONBLOCK)?;
    }
    let bytes = read_at_most(file, 0, MAX_TEXT_BYTES)?;
    String::from_utf8(bytes).map_err(|_| std::io::Error::other("it is not UTF-8 text"))
}

/// Raises the process's soft limit on open files to its hard limit, as Go
/// does at start: every file, directory and socket a plugin holds open is
/// a descriptor of the process, up to its handle budget each, and a soft
/// limit of 1,024 would let one plugin starve the host and the others.
pub(crate) fn raise_descriptor_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            limit.current = limit.maximum;
            if setrlimit(Resource::Nofile, limit).is_err() {
                // macOS refuses more than OPEN_MAX (10,240) however high
                // the hard limit.
                limit.current = Some(limit.maximum.unwrap_or(u64::MAX).min(10_240));
                let _ = setrlimit(Resource::Nofile, limit);
            }
        }
    }
}

#[cfg(unix)]
mod platform {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
    use std::path::Path;

    use super::Exposed;

    /// Creates `dir` and its missing parents; the ones it creates are `0700`.
    pub(crate) fn create_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }

    /// Creates `path`, which must not exist yet, `0600`.
    pub(crate) fn create_file(path: &Path) -> std::io::Result<std::fs::File> {
        std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    }

    /// Checks that `path` belongs to this user and has none of the
    /// permission bits in `forbidden`.
    pub(crate) fn check(path: &Path, forbidden: u32) -> Result<(), Exposed> {
        let metadata = std::fs::metadata(path)?;
        let shown = || path.display().to_string();
        if metadata.uid() != rustix::process::geteuid().as_raw() {
            return Err(Exposed::NotOwned(shown()));
        }
        let mode = metadata.mode() & 0o777;
        if mode & forbidden != 0 {
            return Err(Exposed::NotPrivate(shown(), mode));
        }
        Ok(())
    }
}

/// Elsewhere, the platform's defaults.
#[cfg(not(unix))]
mod platform {
    use std::path::Path;

    use super::Exposed;

    /// Creates `dir` and its missing parents.
    pub(crate) fn create_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    /// Creates `path`, which must not exist yet.
    pub(crate) fn create_file(path: &Path) -> std::io::Result<std::fs::File> {
        std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// Nothing to check.
    pub(crate) fn check(_: &Path, _: u32) -> Result<(), Exposed> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_read_up_to_its_bound_from_files_and_devices() {
        let dir = std::env::temp_dir().join(format!("precept-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at_bound = dir.join("at-bound.toml");
        std::fs::write(&at_bound, "#".repeat(MAX_TEXT_BYTES as usize)).unwrap();
        assert_eq!(read_text(&at_bound).unwrap().len() as u64, MAX_TEXT_BYTES);
        let past = dir.join("past.toml");
        std::fs::write(&past, "#".repeat(MAX_TEXT_BYTES as usize + 1)).unwrap();
        let error = read_text(&past).unwrap_err();
        assert_eq!(error.to_string(), "it is larger than 16 MiB");
        std::fs::remove_dir_all(&dir).unwrap();

        #[cfg(unix)]
        {
            assert_eq!(read_text(Path::new("/dev/null")).unwrap(), "");
            // Endless: read up to the bound, no further.
            let error = read_text(Path::new("/dev/zero")).unwrap_err();
            assert_eq!(error.to_string(), "it is larger than 16 MiB");
        }
    }
}
