//! Plugins' own data directories: a plugin that declares `[data]` sees
//! `/data`, which is `ROOT/NAME` on the host (`ROOT` is
//! [`default_dir`] unless the application chooses another), kept between
//! runs. Each plugin is given its own directory only.

use std::io;
use std::path::{Path, PathBuf};

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
/// to the user when missing; an error when it is not a directory of its
/// own (e.g. a symbolic link).
pub(crate) fn plugin_dir(root: &Path, name: &str) -> io::Result<PathBuf> {
    let dir = root.join(name);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory",
            dir.display()
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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            std::os::unix::fs::symlink(&dir, root.join("other")).unwrap();
            assert!(plugin_dir(&root, "other").is_err());
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
