//! Running the external tools a build needs.

use std::path::Path;
use std::process::Command;

use crate::BuildError;

/// Runs `command`, named `tool` in errors; a program that is not there is
/// a [`BuildError::MissingTool`] with the `install` hint.
pub(crate) fn run(tool: &str, mut command: Command, install: &str) -> Result<(), BuildError> {
    let status = command.status().map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => BuildError::MissingTool {
            tool: tool.into(),
            install: install.into(),
        },
        _ => BuildError::Io {
            path: tool.into(),
            source: error,
        },
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::ToolFailed {
            tool: tool.into(),
            status,
        })
    }
}

/// Writes `files` (path inside `dir`, contents) under `dir`, making the
/// directories they need.
pub(crate) fn write_files<P: AsRef<Path>, C: AsRef<[u8]>>(
    dir: &Path,
    files: impl IntoIterator<Item = (P, C)>,
) -> Result<(), BuildError> {
    for (name, contents) in files {
        let path = dir.join(name);
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(BuildError::io(parent))?;
        std::fs::write(&path, contents).map_err(BuildError::io(&path))?;
    }
    Ok(())
}

/// Replaces `to` with a copy of the directory `from`, without
/// `__pycache__`. Only directories and regular files are copied: a
/// symbolic link, a device or a pipe in a plugin's source is refused, so
/// that building a stranger's plugin never carries a file from elsewhere
/// on the machine into its component.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), BuildError> {
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(BuildError::io(to))?;
    }
    std::fs::create_dir_all(to).map_err(BuildError::io(to))?;
    for entry in std::fs::read_dir(from).map_err(BuildError::io(from))? {
        let entry = entry.map_err(BuildError::io(from))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(BuildError::io(&path))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if !path.ends_with("__pycache__") {
                copy_dir(&path, &target)?;
            }
        } else if kind.is_file() {
            std::fs::copy(&path, &target).map_err(BuildError::io(&path))?;
        } else {
            let refused = "not a regular file or directory (a symbolic link is not followed)";
            return Err(BuildError::io(&path)(std::io::Error::other(refused)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_in_a_source_tree_is_refused_not_followed() {
        let root = std::env::temp_dir().join(format!("precept-build-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (source, secret) = (root.join("plugin"), root.join("secret.txt"));
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(&secret, "secret").unwrap();
        std::fs::write(source.join("app.py"), "print(1)").unwrap();
        std::os::unix::fs::symlink(&secret, source.join("data.txt")).unwrap();
        let error = copy_dir(&source, &root.join("staged")).unwrap_err();
        assert!(error.to_string().contains("data.txt"), "{error}");
        assert!(!root.join("staged/data.txt").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let command = Command::new("precept-no-such-tool");
        let error = run("precept-no-such-tool", command, "apt-get install it").unwrap_err();
        assert_eq!(
            error.to_string(),
            "precept-no-such-tool is not installed: apt-get install it"
        );
    }

    #[test]
    fn a_failing_program_is_an_error() {
        let error = run("false", Command::new("false"), "").unwrap_err();
        assert!(matches!(error, BuildError::ToolFailed { .. }), "{error}");
    }
}
