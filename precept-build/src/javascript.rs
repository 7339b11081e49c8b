//! JavaScript plugins: `app.js` exports the functions it uses, on the
//! JavaScript SDK (`guest-sdk/javascript/`: `precept.js`, imported by the
//! plugin as "./precept.js", and `precept-entry.js`, whose exports call
//! the plugin's or a default), staged beside a copy of the sources; then
//! componentize-js makes the component.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, Job, tool, toolchain};

/// The JavaScript SDK, written beside the plugin's sources.
const SDK: &[(&str, &str)] = &[
    (
        "precept.js",
        include_str!("../../guest-sdk/javascript/precept.js"),
    ),
    (
        "precept-entry.js",
        include_str!("../../guest-sdk/javascript/precept-entry.js"),
    ),
];

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    let staged = job.staging.join("javascript");
    tool::copy_dir(dir, &staged)?;
    // The SDK imports the contract at the version it is built against.
    let at = crate::wasi_http::package(job.wit)?.at;
    let sdk = SDK
        .iter()
        .map(|(name, text)| (name, text.replace("@WIT_VERSION", &at)));
    tool::write_files(&staged, sdk)?;
    let mut command = Command::new(toolchain::COMPONENTIZE_JS);
    command
        .arg(staged.join("precept-entry.js"))
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
