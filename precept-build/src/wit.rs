//! The contract's WIT package as a directory of `.wit` files: its name and
//! version, for the tools that must name it.

use std::path::{Path, PathBuf};

use crate::BuildError;

/// The contract's package, as an `include` or an interface names it.
pub(crate) struct Package {
    /// E.g. `precept:plugin`.
    pub(crate) name: String,
    /// E.g. `@0.2.0`; empty for an unversioned package.
    pub(crate) at: String,
}

/// The package of the WIT directory `wit`, from its `package` line.
pub(crate) fn package(wit: &Path) -> Result<Package, BuildError> {
    for path in wit_files(wit)? {
        let text = std::fs::read_to_string(&path).map_err(BuildError::io(&path))?;
        if let Some(package) = package_of(&text) {
            return Ok(match package.split_once('@') {
                Some((name, version)) => Package {
                    name: name.to_string(),
                    at: format!("@{version}"),
                },
                None => Package {
                    name: package,
                    at: String::new(),
                },
            });
        }
    }
    Err(BuildError::Component(anyhow::anyhow!(
        "{}: no `package` line in its WIT files",
        wit.display()
    )))
}

/// The `.wit` files of the directory `wit`, in name order.
pub(crate) fn wit_files(wit: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(wit).map_err(BuildError::io(wit))? {
        let path = entry.map_err(BuildError::io(wit))?.path();
        if path.extension().is_some_and(|e| e == "wit") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `precept:plugin@0.2.0` from the line `package precept:plugin@0.2.0;`.
fn package_of(wit: &str) -> Option<String> {
    wit.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("package ")?;
        Some(rest.trim_end_matches(';').trim().to_string())
    })
}
