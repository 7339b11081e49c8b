//! Python plugins: `app.py` defines `class WitWorld(wit_world.WitWorld)`,
//! and componentize-py makes it a component.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Job, tool, toolchain};

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    // componentize-py writes `__pycache__` next to the sources it reads:
    // build from a copy so the source directory stays as it was.
    let staged = job.staging.join("python");
    tool::copy_dir(dir, &staged)?;
    let mut command = Command::new(toolchain::COMPONENTIZE_PY);
    command
        .arg("--quiet")
        .arg("--wit-path")
        .arg(job.wit)
        .args(["--world", job.world, "componentize", "--python-path"])
        .arg(&staged)
        .arg("app")
        .arg("--output")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_PY,
        command,
        &toolchain::componentize_py_install(),
    )
}
