//! Python plugins: `app.py` defines `class WitWorld(wit_world.WitWorld)`,
//! and componentize-py makes it a component.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Builder, tool, toolchain};

pub(crate) fn build(builder: &Builder, dir: &Path, out: &Path) -> Result<(), BuildError> {
    // componentize-py writes `__pycache__` next to the sources it reads:
    // build from a copy so the source directory stays as it was.
    let staged = out.with_extension("python");
    tool::copy_dir(dir, &staged)?;
    let mut command = Command::new(toolchain::COMPONENTIZE_PY);
    command
        .arg("--quiet")
        .arg("--wit-path")
        .arg(&builder.wit)
        .args(["--world", &builder.world, "componentize", "--python-path"])
        .arg(&staged)
        .arg("app")
        .arg("--output")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_PY,
        command,
        &toolchain::componentize_py_install(),
    )?;
    std::fs::remove_dir_all(&staged).map_err(BuildError::io(&staged))
}
