//! Rust plugins: a `cdylib` crate using `precept-guest`, built by cargo for
//! `wasm32-wasip2`, which makes components directly.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{BuildError, toolchain};

/// Builds the crate in `dir` into the component `out`, with debug
/// information only when `debug_info` (whatever the release profile of a
/// workspace around it says).
pub(crate) fn build(
    dir: &Path,
    target_dir: Option<&Path>,
    debug_info: bool,
    out: &Path,
) -> Result<(), BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args(["build", "--release", "--target", toolchain::RUST_TARGET]);
    match debug_info {
        // Also past a configuration that strips it (as this repository's).
        true => command
            .env("CARGO_PROFILE_RELEASE_DEBUG", "true")
            .env("CARGO_PROFILE_RELEASE_STRIP", "none")
            .env("CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS", ""),
        false => command
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo"),
    };
    if let Some(target_dir) = target_dir {
        command.arg("--target-dir").arg(target_dir);
    }
    let mut child = command
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| BuildError::Io {
            path: cargo.clone(),
            source,
        })?;
    let mut built = None;
    let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    for line in stdout.lines() {
        let line = line.map_err(BuildError::io(Path::new(&cargo)))?;
        built = component_of(&line).or(built);
    }
    let status = child.wait().map_err(BuildError::io(Path::new(&cargo)))?;
    if !status.success() {
        return Err(BuildError::ToolFailed {
            tool: "cargo".into(),
            status,
        });
    }
    let built = built.ok_or_else(|| {
        BuildError::Component(anyhow::anyhow!(
            "{}: the crate built no cdylib (add `crate-type = [\"cdylib\"]`)",
            dir.display()
        ))
    })?;
    std::fs::copy(&built, out).map_err(BuildError::io(out))?;
    Ok(())
}

/// The `.wasm` file of a cdylib named in one line of cargo's JSON output.
fn component_of(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    let kinds = message["target"]["kind"].as_array()?;
    if !kinds.iter().any(|kind| kind == "cdylib") {
        return None;
    }
    message["filenames"]
        .as_array()?
        .iter()
        .filter_map(|name| name.as_str())
        .find(|name| name.ends_with(".wasm"))
        .map(PathBuf::from)
}
