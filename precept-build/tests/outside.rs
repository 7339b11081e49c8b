//! `precept-build` used as an installed tool: it builds a plugin in a
//! directory outside this repository, from the WIT it carries, and leaves
//! nothing behind but the component and its bindings.
//!
//! It needs the C toolchain (`clang-14`); without it the test shows as
//! *ignored* with the install command, and fails in CI (`CI=true`), where
//! every toolchain must be there. Hence this file's own harness.

use std::path::Path;
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let name = "an_installed_precept_build_builds_a_plugin_outside_the_checkout";
    let clang = Command::new(precept_build::toolchain::CLANG)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    let trial = if clang || in_ci() {
        Trial::test(name, builds_outside_the_checkout)
    } else {
        eprintln!(
            "{name}: ignored, {} is not installed: {}",
            precept_build::toolchain::CLANG,
            precept_build::toolchain::CLANG_INSTALL
        );
        Trial::test(name, || Ok(())).with_ignored_flag(true)
    };
    libtest_mimic::run(&Arguments::from_args(), vec![trial]).exit();
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

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}
