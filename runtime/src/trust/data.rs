//! Plugins' own data directories: a plugin that declares `[data]` sees
//! `/data`, which is `ROOT/NAME` on the host (`ROOT` is
//! [`default_dir`] unless the application chooses another, `NAME` the
//! plugin's name in lowercase), kept between runs. Each plugin is given
//! its own directory only.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::io::files;

/// The per-user root of plugins' data directories: `$PRECEPT_DATA_DIR`,
/// else `$XDG_DATA_HOME/precept`, else `~/.local/share/precept`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PRECEPT_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))?;
    Some(base.join("precept"))
}

/// The data directory of the plugin `name` under `root`, created private
/// to the user when missing. An error when `name` is not exactly one plain
/// path component (never `.`, `..` or hidden), or when what is there is
/// not a directory of this user's that only the user may change (a
/// symbolic link, another user's directory, one open to others), or is not
/// directly inside `root`.
pub(crate) fn plugin_dir(root: &Path, name: &str) -> io::Result<PathBuf> {
    let given = name;
    let name = name.to_ascii_lowercase();
    let mut parts = Path::new(&name).components();
    let plain = matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    );
    if !plain || name.starts_with('.') {
        return Err(io::Error::other(format!(
            "'{name}' cannot name a directory of its own"
        )));
    }
    let dir = root.join(&name);
    // A directory kept under the name as written, in another case, is
    // taken over as the lowercase one.
    let old = root.join(given);
    let kept = |path: &Path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    if given != name && kept(&old) && std::fs::symlink_metadata(&dir).is_err() {
        std::fs::rename(&old, &dir)?;
    }
    files::create_dir(&dir)?;
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    // Others may not write it (on Unix: its owner and mode).
    files::check(&dir, 0o022).map_err(io::Error::other)?;
    let inside = dir.canonicalize()?.parent() == Some(root.canonicalize()?.as_path());
    if !inside {
        return Err(io::Error::other(format!(
            "{} is not directly inside {}",
            dir.display(),
            root.display()
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugins_directory_is_made_private_and_never_a_link() {
        let root = std::env::temp_dir().join(format!("precept-data-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = plugin_dir(&root, "notes").unwrap();
        assert_eq!(dir, root.join("notes"));
        assert_eq!(plugin_dir(&root, "Notes").unwrap(), root.join("notes"));
        std::fs::create_dir(root.join("Kept")).unwrap();
        std::fs::write(root.join("Kept/memo.txt"), "kept").unwrap();
        let kept = plugin_dir(&root, "Kept").unwrap();
        assert_eq!(
            std::fs::read_to_string(kept.join("memo.txt")).unwrap(),
            "kept"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            std::os::unix::fs::symlink(&dir, root.join("other")).unwrap();
            assert!(plugin_dir(&root, "other").is_err());
            let open = root.join("open");
            std::fs::create_dir(&open).unwrap();
            std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
            assert!(plugin_dir(&root, "open").is_err());
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_name_that_is_not_one_plain_component_names_no_directory() {
        let root = std::env::temp_dir().join(format!("precept-data-names-{}", std::process::id()));
        for name in ["..", ".", "", "a/b", "/etc", ".hidden"] {
            assert!(plugin_dir(&root, name).is_err(), "{name:?}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
