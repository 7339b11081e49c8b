//! JavaScript plugins: `app.js` exports the world's functions, and
//! componentize-js makes it a component.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Builder, tool, toolchain};

pub(crate) fn build(builder: &Builder, dir: &Path, out: &Path) -> Result<(), BuildError> {
    let mut command = Command::new(toolchain::COMPONENTIZE_JS);
    command
        .arg(dir.join("app.js"))
        .arg("--wit")
        .arg(&builder.wit)
        .args(["--world-name", &builder.world])
        // Without these the component would import `wasi:http`, which a
        // plugin is never given.
        .args(["--disable", "http", "fetch-event"])
        .arg("--out")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_JS,
        command,
        &toolchain::componentize_js_install(),
    )
}
