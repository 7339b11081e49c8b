//! JavaScript plugins: `app.js` exports the world's functions, and
//! componentize-js makes it a component.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Job, tool, toolchain};

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    let mut command = Command::new(toolchain::COMPONENTIZE_JS);
    command
        .arg(dir.join("app.js"))
        .arg("--wit")
        .arg(job.wit)
        .args(["--world-name", job.world])
        // `fetch` goes out through `wasi:http`, to the hosts the plugin
        // is granted; a plugin never serves requests.
        .args(["--disable", "fetch-event"])
        .arg("--out")
        .arg(out);
    tool::run(
        toolchain::COMPONENTIZE_JS,
        command,
        &toolchain::componentize_js_install(),
    )
}
