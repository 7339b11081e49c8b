//! Python plugins: `app.py` defines one subclass of the Python SDK's
//! `precept_plugin.Plugin` (from `guest-sdk/python/`, put on the plugin's
//! path here), under any name, and componentize-py makes it a component:
//! the entry module staged beside the SDK (`precept_entry`) finds the class
//! and gives it the name componentize-py's bindings look for.
//!
//! componentize-py binds only the interfaces its world names, so a Python
//! plugin is built against a world that includes `precept:plugin` and
//! imports `wasi:http/outgoing-handler` (from `wit/wasi/`): a plugin
//! reaches the hosts it is granted through
//! `wit_world.imports.outgoing_handler` and `http_types`, while precept's
//! own `types` keep their name.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Job, tool, toolchain, wasi_http};

/// The Python SDK, one module.
const SDK: &str = include_str!("../../guest-sdk/python/precept_plugin.py");

/// The module componentize-py loads: the plugin's class from `app`.
const ENTRY: &str = include_str!("../../guest-sdk/python/precept_entry.py");

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    // componentize-py writes `__pycache__` next to the sources it reads:
    // build from a copy so the source directory stays as it was.
    let staged = job.staging.join("python");
    tool::copy_dir(dir, &staged)?;
    let sdk = job.staging.join("python-sdk");
    std::fs::create_dir_all(&sdk).map_err(BuildError::io(&sdk))?;
    for (file, text) in [("precept_plugin.py", SDK), ("precept_entry.py", ENTRY)] {
        let module = sdk.join(file);
        std::fs::write(&module, text).map_err(BuildError::io(&module))?;
    }
    let (wit, package) = wasi_http::world(job)?;
    let mut command = Command::new(toolchain::COMPONENTIZE_PY);
    command
        .arg("--quiet")
        .arg("--wit-path")
        .arg(&wit)
        .args(["--world", "plugin", "--import-interface-name"])
        .arg(format!("{}/types{}=types", package.name, package.at))
        .arg("--import-interface-name")
        .arg("wasi:http/types@0.2.12=http_types")
        .args(["componentize", "--python-path"])
        .arg(&staged)
        .arg("--python-path")
        .arg(&sdk)
        .arg("precept_entry")
        .arg("--output")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_PY,
        command,
        &toolchain::componentize_py_install(),
    )
}
