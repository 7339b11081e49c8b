//! Python plugins: `app.py` defines `class WitWorld`, usually on the
//! Python SDK (`precept_plugin.Plugin`, from `guest-sdk/python/`, put on
//! the plugin's path here), and componentize-py makes it a component.
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

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    // componentize-py writes `__pycache__` next to the sources it reads:
    // build from a copy so the source directory stays as it was.
    let staged = job.staging.join("python");
    tool::copy_dir(dir, &staged)?;
    let sdk = job.staging.join("python-sdk");
    std::fs::create_dir_all(&sdk).map_err(BuildError::io(&sdk))?;
    let module = sdk.join("precept_plugin.py");
    std::fs::write(&module, SDK).map_err(BuildError::io(&module))?;
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
        .arg("app")
        .arg("--output")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_PY,
        command,
        &toolchain::componentize_py_install(),
    )
}
