//! Python plugins: `app.py` defines `class WitWorld(wit_world.WitWorld)`,
//! and componentize-py makes it a component.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Builder, tool, toolchain};

pub(crate) fn build(builder: &Builder, dir: &Path, out: &Path) -> Result<(), BuildError> {
    let mut command = Command::new(toolchain::COMPONENTIZE_PY);
    command
        .arg("--quiet")
        .arg("--wit-path")
        .arg(&builder.wit)
        .args(["--world", &builder.world, "componentize", "--python-path"])
        .arg(dir)
        .arg("app")
        .arg("--output")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_PY,
        command,
        &toolchain::componentize_py_install(),
    )
}
