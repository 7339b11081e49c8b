//! Installed plugins: an application's plugin home (`PROG/plugins` in the
//! user's data directory), where `plugin add` keeps each plugin as
//! `NAME.wasm` and records in `installed.toml` where it came from, its
//! digests, who it is, what it declares and what it was granted. Every
//! plugin recorded there loads at start with its grants, as an installed
//! package's entry points connect to a precept application.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::trust::lock::{LockFile, Locked};
use crate::trust::manifest::{Declared, Identity};

/// The record's file name in the plugin home.
pub(crate) const RECORD: &str = "installed.toml";

/// Where an application's installed plugins live: `$PROG_PLUGIN_HOME`
/// (the program's name in upper case, `-` as `_`), else
/// `$XDG_DATA_HOME/PROG/plugins`, else `~/.local/share/PROG/plugins`.
pub fn default_home(prog_name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(home_var(prog_name)) {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))?;
    Some(base.join(prog_name).join("plugins"))
}

/// The environment variable that moves `prog_name`'s plugin home.
pub fn home_var(prog_name: &str) -> String {
    let snake: String = prog_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{snake}_PLUGIN_HOME")
}

/// One installed plugin, as `installed.toml` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Installed {
    /// Its name, and so its file `NAME.wasm`.
    pub(crate) name: String,
    /// What it was added from: a file, a URL or an OCI reference.
    pub(crate) source: String,
    /// What pins this version: the manifest's digest for an OCI
    /// reference, else the SHA-256 digest of the file.
    pub(crate) digest: String,
    /// The SHA-256 digest of the component's bytes.
    pub(crate) file_digest: String,
    /// The BLAKE3 hash of the file, in hex.
    pub(crate) blake3: String,
    /// The `precept:plugin` version it targets.
    pub(crate) world: String,
    /// What it declares, one capability per entry.
    pub(crate) declares: Vec<String>,
    /// What it was granted, one capability per entry.
    pub(crate) granted: Vec<String>,
    /// The grants as flags give them, without `PLUGIN=`: `dir=HOST::GUEST`,
    /// `dir-rw=HOST::GUEST`, `env=VAR[=VALUE]` (without a value, the
    /// variable's value when the plugin loads), `net=HOST:PORT`.
    #[serde(default)]
    pub(crate) grants: Vec<String>,
    /// Who it says it is.
    pub(crate) identity: Identity,
    /// What its `setup` does, as its `[lazy]` table declares it: it is
    /// then loaded when first needed, without reading its file at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lazy: Option<Declared>,
}

impl Installed {
    /// The record as the lockfile check reads it, its file at `path`.
    pub(crate) fn locked(&self, path: &Path) -> Locked {
        Locked {
            name: self.name.clone(),
            path: path.display().to_string(),
            blake3: self.blake3.clone(),
            world: self.world.clone(),
            declares: self.declares.clone(),
            granted: self.granted.clone(),
            identity: self.identity.clone(),
        }
    }

    /// One line for `plugin list`.
    pub(crate) fn summary(&self) -> String {
        let version = self.identity.version.as_deref().unwrap_or("(no version)");
        let granted = if self.granted.is_empty() {
            "nothing granted".to_string()
        } else {
            format!("granted {}", self.granted.join(", "))
        };
        let digest = self.digest.get(..19).unwrap_or(&self.digest);
        format!(
            "{} {version} from {} ({digest}…): {granted}",
            self.name, self.source
        )
    }
}

/// `installed.toml`: every installed plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstalledFile {
    /// One entry per plugin, in the order they were added.
    #[serde(rename = "plugin", default)]
    pub(crate) plugins: Vec<Installed>,
}

const HEADER: &str = "# The installed plugins: where each came from, its digests, what it may use.\n\
# Written by `plugin add`, `update`, `remove` and `install`; each loads at start.\n\n";

impl InstalledFile {
    /// The record at `path`; empty when there is none.
    pub(crate) fn load(path: &Path) -> Result<InstalledFile, String> {
        Self::load_with(path, false)
    }

    /// The plugin home's own record at `path`, as [`InstalledFile::load`]
    /// reads it; from its index beside it when the index holds the very
    /// records the text does (parsing TOML is what a start with many
    /// installed plugins would otherwise spend most on). Only for the
    /// home's record: a record from elsewhere is read from its text.
    pub(crate) fn load_home(path: &Path) -> Result<InstalledFile, String> {
        Self::load_with(path, true)
    }

    fn load_with(path: &Path, indexed: bool) -> Result<InstalledFile, String> {
        let text = match read_bounded(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(InstalledFile::default());
            }
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        if indexed && let Some(indexed) = Index::read(&index_beside(path), &text) {
            return Ok(indexed);
        }
        let text =
            String::from_utf8(text).map_err(|_| format!("{} is not UTF-8", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            format!(
                "{} is not a record of installed plugins: {}",
                path.display(),
                e.message()
            )
        })
    }

    /// The record as its file holds it.
    fn text(&self) -> std::io::Result<String> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        Ok(format!("{HEADER}{text}"))
    }

    /// Writes the record to `path`, replacing it at once, then its index.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = self.text()?;
        crate::io::files::write_aside(path, text.as_bytes())?;
        let index = Index {
            record: crate::compile::cache::digest(text.as_bytes()),
            plugins: self.plugins.clone(),
        };
        let json = serde_json::to_vec(&index).map_err(std::io::Error::other)?;
        crate::io::files::write_aside(&index_beside(path), &json)
    }

    /// The plugin named `name` (without regard to case).
    pub(crate) fn find(&self, name: &str) -> Option<&Installed> {
        self.plugins
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Adds `plugin`, or replaces the one of its name.
    pub(crate) fn put(&mut self, plugin: Installed) {
        match self
            .plugins
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(&plugin.name))
        {
            Some(kept) => *kept = plugin,
            None => self.plugins.push(plugin),
        }
    }

    /// The record as a lockfile, each plugin's file in `home`.
    pub(crate) fn as_lock(&self, home: &Path) -> LockFile {
        LockFile {
            plugins: self
                .plugins
                .iter()
                .map(|p| p.locked(&file_in(home, &p.name)))
                .collect(),
        }
    }
}

/// `installed.toml` as JSON, which reads many times faster, with the
/// BLAKE3 hash of the text it was written with: used only while that text
/// is unchanged (edited by hand, the TOML is read again), and only for the
/// plugin home's own record, which it sits beside: whoever can write one
/// can write the other, and the plugin files too (a home others may write
/// loads nothing).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    record: String,
    plugins: Vec<Installed>,
}

impl Index {
    /// The record the index at `path` holds, if it was written with
    /// `text`.
    fn read(path: &Path, text: &[u8]) -> Option<InstalledFile> {
        let json = read_bounded(path).ok()?;
        let index: Index = serde_json::from_slice(&json).ok()?;
        (index.record == crate::compile::cache::digest(text)).then_some(InstalledFile {
            plugins: index.plugins,
        })
    }
}

/// The index of the record at `path`, beside it.
fn index_beside(path: &Path) -> PathBuf {
    path.with_file_name(INDEX)
}

/// The name of the record's index in the plugin home.
const INDEX: &str = "installed.index.json";

/// The file at `path`, refused beyond 16 MiB.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::io::files::read_regular(path, 16 << 20)
}

/// The file of the installed plugin `name` in `home`, absolute.
pub(crate) fn file_in(home: &Path, name: &str) -> PathBuf {
    let path = home.join(format!("{}.wasm", name.to_ascii_lowercase()));
    std::path::absolute(&path).unwrap_or(path)
}

/// Whether the plugin home, if there is one, is the user's and closed to
/// others: whoever may write it decides what loads and with what grants.
pub(crate) fn check_home(home: &Path) -> Result<(), String> {
    if std::fs::symlink_metadata(home).is_err() {
        return Ok(());
    }
    crate::io::files::check(home, 0o022).map_err(|e| format!("the plugin home is not private: {e}"))
}

/// The plugin home, held by this process alone while it changes it: two
/// `plugin` commands at once take turns.
pub(crate) struct HomeLock {
    _file: File,
}

impl HomeLock {
    /// Creates `home` (private to the user) when missing, checks it, and
    /// waits for its lock (saying so once when another command holds
    /// it); then removes what a command that died half-way left there.
    pub(crate) fn take(home: &Path) -> Result<HomeLock, String> {
        let shown = home.display();
        crate::io::files::create_dir(home).map_err(|e| format!("cannot create {shown}: {e}"))?;
        check_home(home)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(home.join(".lock"))
            .map_err(|e| format!("cannot lock {shown}: {e}"))?;
        if file.try_lock().is_err() {
            eprintln!("waiting for another plugin command to finish with {shown}");
            file.lock()
                .map_err(|e| format!("cannot lock {shown}: {e}"))?;
        }
        for entry in std::fs::read_dir(home).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if (name.starts_with(".add-") && name.ends_with(".part")) || name.ends_with(".partial")
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(HomeLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_is_named_after_the_program() {
        assert_eq!(home_var("precept-run"), "PRECEPT_RUN_PLUGIN_HOME");
        assert_eq!(home_var("my.app"), "MY_APP_PLUGIN_HOME");
    }

    #[test]
    fn the_record_reads_back_as_written() {
        let mut file = InstalledFile::default();
        let plugin = Installed {
            name: "hello".into(),
            source: "127.0.0.1:5000/demo/hello:0.1.0".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            file_digest: format!("sha256:{}", "b".repeat(64)),
            blake3: "c".repeat(64),
            world: "0.2.0".into(),
            declares: vec!["network host example.com:443 (optional)".into()],
            granted: vec![],
            grants: vec!["env=TOKEN".into()],
            lazy: None,
            identity: Identity::default(),
        };
        file.put(plugin.clone());
        file.put(plugin.clone());
        assert_eq!(file.plugins.len(), 1);
        assert!(file.find("HELLO").is_some());
        let text = toml::to_string(&file).unwrap();
        assert_eq!(toml::from_str::<InstalledFile>(&text).unwrap(), file);
    }

    #[test]
    fn the_index_is_used_only_while_the_record_is_unchanged() {
        let dir = std::env::temp_dir().join(format!("precept-index-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(RECORD);
        let mut file = InstalledFile::default();
        let declared: Declared = toml::from_str(
            "events = [\"wake-up\"]\ncommands = [{ name = \"nap\", args = [{ name = \"n\", kind = \"integer\" }] }]",
        )
        .unwrap();
        file.put(Installed {
            name: "sleeper".into(),
            source: "sleeper.wasm".into(),
            digest: "sha256:a".into(),
            file_digest: "sha256:a".into(),
            blake3: "b".into(),
            world: "0.2.0".into(),
            declares: vec![],
            granted: vec![],
            grants: vec![],
            lazy: Some(declared),
            identity: Identity::default(),
        });
        file.save(&path).unwrap();
        assert!(dir.join(INDEX).is_file());
        assert_eq!(InstalledFile::load_home(&path).unwrap(), file);
        // The index is what is read: the text is not parsed.
        let text = std::fs::read(&path).unwrap();
        let index: Index =
            serde_json::from_slice(&std::fs::read(dir.join(INDEX)).unwrap()).unwrap();
        assert_eq!(index.record, crate::compile::cache::digest(&text));
        assert_eq!(Index::read(&dir.join(INDEX), &text), Some(file.clone()));

        // Edited by hand: the text is the record, the index is passed by.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"sleeper.wasm\"", "\"edited.wasm\"")).unwrap();
        assert_eq!(
            InstalledFile::load_home(&path).unwrap().plugins[0].source,
            "edited.wasm"
        );
        // A record read from elsewhere is read from its text, whatever
        // index is beside it.
        let mut other = InstalledFile::load(&path).unwrap();
        other.plugins[0].grants = vec!["dir=/::/".into()];
        let planted = Index {
            record: crate::compile::cache::digest(&std::fs::read(&path).unwrap()),
            plugins: other.plugins,
        };
        std::fs::write(dir.join(INDEX), serde_json::to_vec(&planted).unwrap()).unwrap();
        assert_eq!(
            InstalledFile::load(&path).unwrap().plugins[0].grants,
            Vec::<String>::new()
        );
        // An index that is not JSON is passed by too.
        std::fs::write(dir.join(INDEX), "not json").unwrap();
        assert_eq!(
            InstalledFile::load_home(&path).unwrap().plugins[0].source,
            "edited.wasm"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
