//! Running the external tools a build needs.

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
