//! Which configuration files in a working directory may be used without
//! `-c`: such a file (`precept.toml` for `precept-run`) can load plugins and
//! grant them directories, so it is used only once the user trusted it with
//! the application's `trust` command, which records the file's path and
//! BLAKE3 hash (as direnv does), taken over the file and the lockfile
//! beside it (or its absence). A changed file, or a lockfile changed,
//! added or removed, must be trusted again.

use std::path::{Path, PathBuf};

/// The file that lists trusted configuration files named `name`: `trusted`
/// in the user's configuration directory for them.
fn trust_file(name: &str) -> Option<PathBuf> {
    user_config_dir(name).map(|dir| dir.join("trusted"))
}

/// The user's configuration directory for the file `name`:
/// `$XDG_CONFIG_HOME/STEM`, else `~/.config/STEM`, where `STEM` is `name`
/// without its extension (`precept` for `precept.toml`).
pub(crate) fn user_config_dir(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".config")))?;
    let stem = Path::new(name).file_stem()?;
    Some(base.join(stem))
}

/// The line that records `path` with its current content and that of its
/// lockfile. A path with a control character (a line break would write a
/// second record) is never trusted.
fn record(path: &Path) -> std::io::Result<String> {
    let absolute = std::path::absolute(path)?;
    let shown = absolute.display().to_string();
    if shown.chars().any(char::is_control) {
        return Err(std::io::Error::other(
            "a path with control characters cannot be trusted",
        ));
    }
    let mut hasher = blake3::Hasher::new();
    let config = read_small(path)?;
    hasher.update(&(config.len() as u64).to_le_bytes());
    hasher.update(&config);
    match read_small(&crate::trust::lock::path_beside(path)) {
        Ok(lock) => hasher.update(b"lock").update(&lock),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => hasher.update(b"no lock"),
        Err(error) => return Err(error),
    };
    Ok(format!("{} {shown}", hasher.finalize().to_hex()))
}

/// The most bytes a configuration file or lockfile is read for its hash.
const MAX_RECORDED_BYTES: u64 = 1 << 20;

/// The bytes of the regular file `path`, of at most [`MAX_RECORDED_BYTES`]
/// (a checkout may hold a device or a pipe under any name).
fn read_small(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::io::files::read_regular(path, MAX_RECORDED_BYTES).map_err(|error| match error.kind() {
        std::io::ErrorKind::Other => std::io::Error::other(format!(
            "{} is not a regular file of at most 1 MiB",
            path.display()
        )),
        _ => error,
    })
}

/// Whether `path`, with its current content, was trusted.
pub(crate) fn is_trusted(path: &Path, name: &str) -> bool {
    let (Some(list), Ok(line)) = (trust_file(name), record(path)) else {
        return false;
    };
    crate::io::files::read_text(&list).is_ok_and(|text| text.lines().any(|l| l == line))
}

/// Trusts `path`, a configuration file named `name`, with its current
/// content: its record replaces any earlier one of the same path, so that
/// a state trusted before (without its lockfile, say) is not trusted
/// again when it comes back.
pub(crate) fn trust(path: &Path, name: &str) -> std::io::Result<PathBuf> {
    let list = trust_file(name).ok_or_else(|| std::io::Error::other("no home directory"))?;
    let line = record(path)?;
    let (_, shown) = line.split_once(' ').expect("a record is a hash and a path");
    if let Some(dir) = list.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let kept = match crate::io::files::read_text(&list) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error),
    };
    let mut text: String = kept
        .lines()
        .filter(|l| l.split_once(' ').is_none_or(|(_, p)| p != shown))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&format!("{line}\n"));
    crate::io::files::write_aside(&list, text.as_bytes())?;
    Ok(list)
}
