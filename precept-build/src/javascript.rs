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
    tool::write_files(&staged, sdk(&crate::wit::package(job.wit)?.at))?;
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

/// The SDK's files, importing the contract at `at` (e.g. `@0.2.0`), the
/// version of the WIT package the plugin is built against.
fn sdk(at: &str) -> impl Iterator<Item = (&'static str, String)> {
    SDK.iter()
        .map(move |(name, text)| (*name, text.replace("@WIT_VERSION", at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_imports_the_version_of_the_wit_it_is_built_against() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plugin.wit"), crate::WIT).unwrap();
        let at = crate::wit::package(dir.path()).unwrap().at;
        assert_eq!(at, "@0.2.0");
        for (name, text) in sdk(&at) {
            assert!(!text.contains("WIT_VERSION"), "{name}");
        }
        let (_, precept) = sdk(&at).find(|(name, _)| *name == "precept.js").unwrap();
        assert!(precept.contains("from \"precept:plugin/events@0.2.0\";"));
    }
}
