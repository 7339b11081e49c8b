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

/// Replaces `to` with a copy of the directory `from`, without `__pycache__`.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), BuildError> {
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(BuildError::io(to))?;
    }
    std::fs::create_dir_all(to).map_err(BuildError::io(to))?;
    for entry in std::fs::read_dir(from).map_err(BuildError::io(from))? {
        let path = entry.map_err(BuildError::io(from))?.path();
        let target = to.join(path.file_name().expect("a directory entry has a name"));
        if path.is_dir() {
            if !path.ends_with("__pycache__") {
                copy_dir(&path, &target)?;
            }
        } else {
            std::fs::copy(&path, &target).map_err(BuildError::io(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
