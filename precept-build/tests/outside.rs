//! `precept-build` used as an installed tool: it builds a plugin in a
//! directory outside this repository, from the WIT it carries, and leaves
//! nothing behind but the component and its bindings; the component
//! carries debug information only when asked (`--debug-info`).
//!
//! These need the C toolchain (`clang-14`); without it the tests show as
//! *ignored* with the install command, and fail in CI (`CI=true`), where
//! every toolchain must be there. Hence this file's own harness.

use std::path::Path;
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

type Test = fn() -> Result<(), Failed>;

fn main() {
    let tests: [(&str, Test); 2] = [
        (
            "an_installed_precept_build_builds_a_plugin_outside_the_checkout",
            builds_outside_the_checkout,
        ),
        (
            "a_plugin_carries_its_function_names_only_when_asked",
            names_only_when_asked,
        ),
    ];
    let clang = Command::new(precept_build::toolchain::CLANG)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    let trials = tests.into_iter().map(|(name, test)| {
        if clang || in_ci() {
            Trial::test(name, test)
        } else {
            eprintln!(
                "{name}: ignored, {} is not installed: {}",
                precept_build::toolchain::CLANG,
                precept_build::toolchain::CLANG_INSTALL
            );
            Trial::test(name, || Ok(())).with_ignored_flag(true)
        }
    });
    libtest_mimic::run(&Arguments::from_args(), trials.collect()).exit();
}

fn builds_outside_the_checkout() -> Result<(), Failed> {
    let outside =
        std::env::temp_dir().join(format!("precept-build-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    let plugin = outside.join("hello");
    std::fs::create_dir_all(&plugin)?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../example-plugins/c/hello/hello.c");
    std::fs::copy(source, plugin.join("hello.c"))?;

    let output = Command::new(env!("CARGO_BIN_EXE_precept-build"))
        .args(["hello", "-o", "hello.wasm"])
        .current_dir(&outside)
        .output()?;
    if !output.status.success() {
        return Err(format!("precept-build failed: {output:?}").into());
    }

    let component = std::fs::read(outside.join("hello.wasm"))?;
    // A component's preamble: the magic, then version 0x0d and layer 1.
    if component.get(..8) != Some(b"\0asm\x0d\x00\x01\x00") {
        return Err("hello.wasm is not a component".into());
    }
    let mut left: Vec<String> = std::fs::read_dir(&outside)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    left.sort();
    if left != ["hello", "hello.bindings", "hello.wasm"] {
        return Err(format!("left behind: {left:?}").into());
    }
    std::fs::remove_dir_all(&outside)?;
    Ok(())
}

/// The C hello built twice, as it is and with `--debug-info`: both are
/// valid components, the `name` and `.debug_*` sections of its core module
/// are there only in the second, and the manifest `plugin.toml` writes is
/// in both.
fn names_only_when_asked() -> Result<(), Failed> {
    let out = std::env::temp_dir().join(format!("precept-build-names-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../example-plugins/c/hello");
    let mut sections = Vec::new();
    for (file, flags) in [
        ("lean.wasm", &[][..]),
        ("debug.wasm", &["--debug-info"][..]),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_precept-build"))
            .arg(&hello)
            .arg("-o")
            .arg(out.join(file))
            .args(flags)
            .output()?;
        if !output.status.success() {
            return Err(format!("precept-build {flags:?} failed: {output:?}").into());
        }
        let built = std::fs::read(out.join(file))?;
        wasmparser::Validator::new()
            .validate_all(&built)
            .map_err(|e| format!("{file} is not a valid component: {e}"))?;
        sections.push(custom_sections(&built)?);
    }
    std::fs::remove_dir_all(&out)?;
    let debug = |name: &String| name == "name" || name.starts_with(".debug_");
    let in_modules = |sections: &[(bool, String)]| -> Vec<String> {
        let modules = sections.iter().filter(|(in_module, _)| *in_module);
        modules.map(|(_, name)| name.clone()).collect()
    };
    let (lean, debugging) = (in_modules(&sections[0]), in_modules(&sections[1]));
    if lean.iter().any(debug) {
        return Err(format!("built as it is, its core module has {lean:?}").into());
    }
    if !debugging.iter().any(|name| name == "name") {
        return Err(format!("with --debug-info, its core module has {debugging:?}").into());
    }
    for built in &sections {
        if !built.iter().any(|(_, name)| name == "precept-manifest") {
            return Err(format!("no manifest among {built:?}").into());
        }
    }
    Ok(())
}

/// The custom sections of the component `bytes`, each with whether it is
/// in a core module.
fn custom_sections(bytes: &[u8]) -> Result<Vec<(bool, String)>, Failed> {
    let mut found = Vec::new();
    let mut in_module = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::Version { encoding, .. } => {
                in_module.push(encoding == wasmparser::Encoding::Module)
            }
            wasmparser::Payload::End(_) => drop(in_module.pop()),
            wasmparser::Payload::CustomSection(section) => found.push((
                in_module.last().copied().unwrap_or(false),
                section.name().to_string(),
            )),
            _ => {}
        }
    }
    Ok(found)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}
