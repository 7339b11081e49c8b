//! Which configuration files in a working directory may be used without
//! `-c`: such a file (`precept.toml` for `precept-run`) can load plugins and
//! grant them directories, so it is used only once the user trusted it with
//! the application's `trust` command, which records the file's path and
//! BLAKE3 hash (as direnv does). A changed file must be trusted again.

use std::io::Write as _;
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

/// The line that records `path` with its current content.
fn record(path: &Path) -> std::io::Result<String> {
    let absolute = std::path::absolute(path)?;
    let digest = blake3::hash(&std::fs::read(path)?).to_hex();
    Ok(format!("{digest} {}", absolute.display()))
}

/// Whether `path`, with its current content, was trusted.
pub(crate) fn is_trusted(path: &Path, name: &str) -> bool {
    let (Some(list), Ok(line)) = (trust_file(name), record(path)) else {
        return false;
    };
    std::fs::read_to_string(list).is_ok_and(|text| text.lines().any(|l| l == line))
}

/// Trusts `path`, a configuration file named `name`, with its current
/// content.
pub(crate) fn trust(path: &Path, name: &str) -> std::io::Result<PathBuf> {
    let list = trust_file(name).ok_or_else(|| std::io::Error::other("no home directory"))?;
    let line = record(path)?;
    if let Some(dir) = list.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&list)?;
    writeln!(file, "{line}")?;
    Ok(list)
}
