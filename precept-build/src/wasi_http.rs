//! The world plugins are built against when their toolchain binds every
//! interface from WIT (C, Python): `job`'s world with
//! `wasi:http/outgoing-handler` imported too, from the WASI packages in
//! `wit/wasi/`, as the runtime provides them. A plugin that makes no
//! request imports none of it.

use std::path::{Path, PathBuf};

use crate::{BuildError, Job};

/// The WASI packages `wasi:http` needs, as the runtime provides them.
const WASI: &[(&str, &str)] = &[
    ("cli.wit", include_str!("../../wit/wasi/cli.wit")),
    ("clocks.wit", include_str!("../../wit/wasi/clocks.wit")),
    (
        "filesystem.wit",
        include_str!("../../wit/wasi/filesystem.wit"),
    ),
    ("http.wit", include_str!("../../wit/wasi/http.wit")),
    ("io.wit", include_str!("../../wit/wasi/io.wit")),
    ("random.wit", include_str!("../../wit/wasi/random.wit")),
    ("sockets.wit", include_str!("../../wit/wasi/sockets.wit")),
];

/// The contract's package, as an `include` or an interface names it.
pub(crate) struct Package {
    /// E.g. `precept:plugin`.
    pub(crate) name: String,
    /// E.g. `@0.2.0`; empty for an unversioned package.
    pub(crate) at: String,
}

/// A WIT directory whose world `plugin` is `job`'s world with
/// `wasi:http/outgoing-handler` imported too, and the contract's package.
pub(crate) fn world(job: &Job) -> Result<(PathBuf, Package), BuildError> {
    let root = job.staging.join("with-http");
    let deps = root.join("deps");
    let contract = deps.join("precept");
    std::fs::create_dir_all(&contract).map_err(BuildError::io(&contract))?;
    for path in wit_files(job.wit)? {
        let copy = contract.join(path.file_name().unwrap());
        std::fs::copy(&path, &copy).map_err(BuildError::io(&copy))?;
    }
    let package = package(job.wit)?;
    crate::tool::write_files(&deps, WASI.iter().copied())?;
    let world = format!(
        "package precept:with-http;\n\n\
         world plugin {{\n    include {name}/{world}{at};\n    import wasi:http/outgoing-handler@0.2.12;\n}}\n",
        name = package.name,
        world = job.world,
        at = package.at,
    );
    let file = root.join("world.wit");
    std::fs::write(&file, world).map_err(BuildError::io(&file))?;
    Ok((root, package))
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
fn wit_files(wit: &Path) -> Result<Vec<PathBuf>, BuildError> {
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
