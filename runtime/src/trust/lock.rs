//! The lockfile (`precept.lock` beside `precept.toml`): the plugins the user
//! accepted, each with its file (path and BLAKE3 hash), who it says it is,
//! what it declares and what it was granted. With a lockfile, a plugin that
//! is not as recorded is refused with one line saying what changed, until
//! the user accepts it again (`lock`, or `--update-lock`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::trust::capabilities::{Capabilities, Granted};
use crate::trust::manifest::Identity;

/// The accepted plugins, as written to the lockfile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockFile {
    /// One entry per plugin, by name.
    #[serde(rename = "plugin", default)]
    pub(crate) plugins: Vec<Locked>,
}

/// One accepted plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Locked {
    /// Its name.
    pub(crate) name: String,
    /// Its file, absolute.
    pub(crate) path: String,
    /// The BLAKE3 hash of the file, in hex.
    pub(crate) blake3: String,
    /// The `precept:plugin` version it targets.
    pub(crate) world: String,
    /// What it declares, one capability per entry.
    pub(crate) declares: Vec<String>,
    /// What it was granted, one capability per entry.
    pub(crate) granted: Vec<String>,
    /// Who it says it is.
    pub(crate) identity: Identity,
}

impl Locked {
    /// The record of the plugin `name` loaded from `path` (absolute), with
    /// the file hash `blake3`, for `world`, as it declares and was granted.
    pub(crate) fn new(
        name: &str,
        path: &Path,
        blake3: &str,
        world: &str,
        manifest: (&Identity, &Capabilities),
        granted: &[Granted],
    ) -> Locked {
        let (identity, declared) = manifest;
        Locked {
            name: name.to_string(),
            path: path.display().to_string(),
            blake3: blake3.to_string(),
            world: world.to_string(),
            declares: declared.describe(),
            granted: granted.iter().map(Granted::to_string).collect(),
            identity: identity.clone(),
        }
    }
}

impl Locked {
    /// One line for the user: name, version, the start of the hash, and
    /// what it was granted.
    pub(crate) fn summary(&self) -> String {
        let version = self.identity.version.as_deref().unwrap_or("(no version)");
        let granted = if self.granted.is_empty() {
            "nothing granted".to_string()
        } else {
            format!("granted {}", self.granted.join(", "))
        };
        let hash = &self.blake3[..self.blake3.len().min(12)];
        format!("{} {version} (blake3 {hash}…): {granted}", self.name)
    }
}

const HEADER: &str = "# The plugins accepted to run: which file, who it is, what it may use.\n\
# Written by `lock` (or `--update-lock`); a plugin that differs is refused.\n\n";

impl LockFile {
    /// The lockfile at `path`; `None` when there is none.
    pub(crate) fn load(path: &Path) -> Result<Option<LockFile>, String> {
        let text = match crate::io::files::read_text(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{} is not a lockfile: {}", path.display(), e.message()))
    }

    /// Writes the lockfile to `path`, replacing it at once, through a new
    /// temporary file of its own (never one found there: the directory
    /// may be a stranger's checkout).
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        crate::io::files::write_aside(path, format!("{HEADER}{text}").as_bytes())
    }

    /// Whether `plugin` is as accepted; else what changed, in words.
    pub(crate) fn check(&self, plugin: &Locked) -> Result<(), String> {
        let Some(locked) = self.plugins.iter().find(|p| p.name == plugin.name) else {
            return Err("it is not in it".into());
        };
        let mut changes = Vec::new();
        if locked.path != plugin.path {
            changes.push(format!(
                "it is loaded from {}, not {}",
                plugin.path, locked.path
            ));
        }
        if locked.blake3 != plugin.blake3 {
            changes.push("its file changed".to_string());
        }
        if locked.world != plugin.world {
            changes.push(format!(
                "it targets precept:plugin@{}, not @{}",
                plugin.world, locked.world
            ));
        }
        if let (Some(before), Some(now)) = (&locked.identity.version, &plugin.identity.version)
            && before != now
        {
            changes.push(format!("its version went from {before} to {now}"));
        }
        changes.extend(differences(
            ["it now declares", "it no longer declares"],
            &locked.declares,
            &plugin.declares,
        ));
        changes.extend(differences(
            ["it is now granted", "it is no longer granted"],
            &locked.granted,
            &plugin.granted,
        ));
        if changes.is_empty() {
            Ok(())
        } else {
            Err(changes.join(", "))
        }
    }
}

/// What was added to or removed from a list, in words: `[added, removed]`
/// say how.
fn differences(
    [added_as, removed_as]: [&str; 2],
    before: &[String],
    now: &[String],
) -> Vec<String> {
    let added: Vec<&str> = now
        .iter()
        .filter(|c| !before.contains(c))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = before
        .iter()
        .filter(|c| !now.contains(c))
        .map(String::as_str)
        .collect();
    let mut said = Vec::new();
    if !added.is_empty() {
        said.push(format!("{added_as} {}", added.join(", ")));
    }
    if !removed.is_empty() {
        said.push(format!("{removed_as} {}", removed.join(", ")));
    }
    said
}

/// The lockfile of the configuration file `config`: beside it, with the
/// extension `lock` (`precept.toml` → `precept.lock`), absolute.
pub(crate) fn path_beside(config: &Path) -> PathBuf {
    let path = config.with_extension("lock");
    std::path::absolute(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked() -> Locked {
        Locked {
            name: "notes".into(),
            path: "/p/notes.wasm".into(),
            blake3: "aa".into(),
            world: "0.2.0".into(),
            declares: vec!["directory /notes (read-write, required)".into()],
            granted: vec!["directory /notes (read-write)".into()],
            identity: Identity {
                version: Some("1.0.0".into()),
                ..Identity::default()
            },
        }
    }

    #[test]
    fn each_change_is_named() {
        let lock = LockFile {
            plugins: vec![locked()],
        };
        assert_eq!(lock.check(&locked()), Ok(()));
        let mut changed = locked();
        changed.blake3 = "bb".into();
        changed.identity.version = Some("1.1.0".into());
        changed
            .declares
            .push("environment variable HOME (required)".into());
        assert_eq!(
            lock.check(&changed).unwrap_err(),
            "its file changed, its version went from 1.0.0 to 1.1.0, \
             it now declares environment variable HOME (required)"
        );
        let mut other = locked();
        other.name = "other".into();
        assert_eq!(lock.check(&other).unwrap_err(), "it is not in it");
        let mut fewer = locked();
        fewer.granted.clear();
        assert!(
            lock.check(&fewer)
                .unwrap_err()
                .contains("it is no longer granted directory /notes")
        );
    }

    #[test]
    fn a_lockfile_survives_writing_and_reading() {
        let dir = std::env::temp_dir().join(format!("precept-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("precept.lock");
        assert_eq!(LockFile::load(&path), Ok(None));
        let lock = LockFile {
            plugins: vec![locked()],
        };
        lock.save(&path).unwrap();
        assert_eq!(LockFile::load(&path), Ok(Some(lock)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
