//! The world plugins are built against when their toolchain binds every
//! interface from WIT (C, Python, Go): `job`'s world with
//! `wasi:http/outgoing-handler` imported too, from the WASI packages in
//! `wit/wasi/`, as the runtime provides them. A plugin that makes no
//! request imports none of it.

use std::path::PathBuf;

use crate::wit::{Package, package, wit_files};
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

/// A WIT directory whose world `plugin` is `job`'s world with
/// `wasi:http/outgoing-handler` imported too, and the contract's package.
pub(crate) fn world(job: &Job) -> Result<(PathBuf, Package), BuildError> {
    let root = job.staging.join("with-http");
    let deps = root.join("deps");
    let contract = deps.join("precept");
    std::fs::create_dir_all(&contract).map_err(BuildError::io(&contract))?;
    for path in wit_files(job.wit)? {
        let text = std::fs::read(&path).map_err(BuildError::io(&path))?;
        let copy = contract.join(path.file_name().unwrap());
        std::fs::write(&copy, text).map_err(BuildError::io(&copy))?;
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
