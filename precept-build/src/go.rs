//! Go plugins: a Go module (`go.mod`) whose package registers its hooks
//! with the Go SDK (`precept.dev/sdk/precept`, from `guest-sdk/go/`).
//!
//! The SDK is a module of its own, staged here: the SDK package, the
//! bindings wit-bindgen's Go generator writes for the contract's world
//! with `wasi:http` (see `wasi_http`), and the glue the generated exports
//! call. A copy of the plugin's module requires it and
//! `go.bytecodealliance.org/pkg` (embedded, see build.rs) from local
//! directories, so nothing is fetched. Go builds a WASI preview 1 reactor
//! (`-buildmode=c-shared`); the world is embedded and the preview 1
//! adapter makes it a component.

use std::path::Path;
use std::process::Command;

use anyhow::Context as _;
use wit_bindgen_core_go::wit_parser::Resolve;

use crate::{BuildError, Job, reactor, tool, toolchain, wasi_http};

/// The Go SDK's module path, which plugins import.
pub const SDK_MODULE: &str = "precept.dev/sdk";

/// The Go SDK: its package, and the glue the generated exports call.
const SDK: &[(&str, &str)] = &[
    (
        "precept/precept.go",
        include_str!("../../guest-sdk/go/precept/precept.go"),
    ),
    (
        "precept/values.go",
        include_str!("../../guest-sdk/go/precept/values.go"),
    ),
    (
        "precept/host.go",
        include_str!("../../guest-sdk/go/precept/host.go"),
    ),
    (
        "precept/http.go",
        include_str!("../../guest-sdk/go/precept/http.go"),
    ),
    (
        "exports/export_wit_world/exports.go",
        include_str!("../../guest-sdk/go/export_wit_world/exports.go"),
    ),
];

/// The SDK's own packages, which `go vet` checks; the bindings generated
/// beside them are not.
const SDK_PACKAGES: [&str; 2] = ["precept", "exports/export_wit_world"];

/// `go.bytecodealliance.org/pkg`, as (path inside the module, contents).
const GO_PKG: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/go_pkg.rs"));

/// The Go version every module involved declares (what
/// `go.bytecodealliance.org/pkg` needs).
const GO_DIRECTIVE: &str = "1.27.1";

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    let root = job.staging.join("go");
    let sdk = root.join("sdk");
    let pkg = root.join("pkg");
    let plugin = root.join("plugin");
    let (wit, _) = wasi_http::world(job)?;
    generate_bindings(&wit, &sdk)?;
    tool::write_files(&sdk, SDK.iter().copied())?;
    // E.g. `go.bytecodealliance.org/pkg v0.4.0`.
    let pkg_required = wit_bindgen_go::remote_pkg_version();
    let (pkg_module, pkg_version) = pkg_required
        .split_once(' ')
        .expect("a module and its version");
    let go_mod = format!("module {SDK_MODULE}\n\ngo {GO_DIRECTIVE}\n\nrequire {pkg_required}\n");
    tool::write_files(&sdk, [("go.mod", go_mod)])?;
    tool::write_files(&pkg, GO_PKG.iter().copied())?;

    tool::copy_dir(dir, &plugin)?;
    let (module, wants) = module_of(&plugin)?;
    let mut edit = go(&plugin);
    edit.args(["mod", "edit"]);
    // The SDK's dependency needs at least this Go; a newer one stays.
    if wants.is_none_or(|wants| version(&wants) < version(GO_DIRECTIVE)) {
        edit.arg(format!("-go={GO_DIRECTIVE}"));
    }
    edit.arg(format!("-require={SDK_MODULE}@v0.0.0"))
        .arg(format!("-replace={SDK_MODULE}={}", sdk.display()))
        .arg(format!("-require={pkg_module}@{pkg_version}"))
        .arg(format!("-replace={pkg_module}={}", pkg.display()));
    tool::run(toolchain::GO, edit, &toolchain::go_install())?;
    if job.vet {
        let mut vet = go(&plugin);
        vet.arg("vet")
            .args(SDK_PACKAGES.map(|p| format!("{SDK_MODULE}/{p}")))
            .arg("./...");
        tool::run(toolchain::GO, vet, &toolchain::go_install())?;
    }

    // A plugin is a package that registers its hooks when it initialises;
    // a `package main` of its own is built as it is.
    let main = if is_main(&plugin)? {
        ".".to_string()
    } else {
        let main = plugin.join("precept_main");
        let source = format!("package main\n\nimport _ {module:?}\n\nfunc main() {{}}\n");
        tool::write_files(&main, [("main.go", source)])?;
        "./precept_main".to_string()
    };
    let core = root.join("plugin.core.wasm");
    let mut build = go(&plugin);
    build
        .args([
            "build",
            "-buildmode=c-shared",
            "-ldflags=-checklinkname=0",
            "-o",
        ])
        .arg(&core)
        .arg(main);
    tool::run(toolchain::GO, build, &toolchain::go_install())?;

    let mut module = std::fs::read(&core).map_err(BuildError::io(&core))?;
    reactor::embed_world(&mut module, &wit, "plugin").map_err(BuildError::Component)?;
    let component = reactor::componentize(&module).map_err(BuildError::Component)?;
    std::fs::write(out, component).map_err(BuildError::io(out))
}

/// The `go` command in `dir`, for WASI, using the installed toolchain and
/// no workspace of the user's.
fn go(dir: &Path) -> Command {
    let mut command = Command::new(toolchain::GO);
    command
        .current_dir(dir)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("GOFLAGS", "-mod=mod");
    command
}

fn generate_bindings(wit: &Path, into: &Path) -> Result<(), BuildError> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .with_context(|| format!("parse {}", wit.display()))
        .map_err(BuildError::Component)?;
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .map_err(BuildError::Component)?;
    let mut files = wit_bindgen_core_go::Files::default();
    let options = wit_bindgen_go::Opts {
        pkg_name: Some(SDK_MODULE.into()),
        quiet: true,
        ..Default::default()
    };
    options
        .build()
        .generate(&mut resolve, world, &mut files)
        .map_err(BuildError::Component)?;
    tool::write_files(into, files.iter())
}

/// The module path `go.mod` in `dir` declares, and its `go` version.
fn module_of(dir: &Path) -> Result<(String, Option<String>), BuildError> {
    let file = dir.join("go.mod");
    let text = std::fs::read_to_string(&file).map_err(BuildError::io(&file))?;
    let line = |key: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(key))
            .map(|value| value.trim().trim_matches('"').to_string())
    };
    let module = line("module ").ok_or_else(|| {
        BuildError::Component(anyhow::anyhow!("{}: no `module` line", file.display()))
    })?;
    Ok((module, line("go ")))
}

/// `1.27.1` as numbers, for comparing; what is not a number counts as 0.
fn version(text: &str) -> Vec<u32> {
    text.split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// Whether the `.go` files directly in `dir` are `package main`.
fn is_main(dir: &Path) -> Result<bool, BuildError> {
    for entry in std::fs::read_dir(dir).map_err(BuildError::io(dir))? {
        let path = entry.map_err(BuildError::io(dir))?.path();
        if path.extension().is_some_and(|e| e == "go") {
            let text = std::fs::read_to_string(&path).map_err(BuildError::io(&path))?;
            if text.lines().any(|line| line.trim() == "package main") {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_versions_compare_as_numbers() {
        assert!(version("1.9") < version("1.27.1"));
        assert!(version("1.27") < version("1.27.1"));
        assert!(version("1.28") > version("1.27.1"));
        assert_eq!(version("1.27.1"), version(GO_DIRECTIVE));
    }
}
