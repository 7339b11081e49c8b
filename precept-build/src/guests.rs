//! Building Rust guest crates of a workspace from a build script: one nested
//! `cargo build` for `wasm32-wasip2` with its own target directory (so it
//! never waits on the lock of the build that runs the script), and the
//! `cargo:rerun-if-changed` lines that rebuild them when a source changes.
//!
//! It uses the standard library only, so that a build script that needs
//! nothing else can include this file with `#[path]` instead of depending
//! on the whole tool.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target guests are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Stops the build with one line naming the fix when the target is missing.
pub fn require_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc --print sysroot");
    let sysroot = String::from_utf8(sysroot.stdout).expect("a UTF-8 sysroot");
    let installed = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(TARGET)
        .exists();
    if !installed {
        panic!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
    }
}

/// Builds the guest crates `names` of the workspace at `workspace` into
/// `target_dir` with one nested cargo, and returns each one's component, in
/// the order of `names`.
pub fn build(workspace: &Path, target_dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--target", TARGET])
        .env("CARGO_TARGET_DIR", target_dir)
        // Small components: no debug info in the guests.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        // Settings meant for the outer build (or for clippy) stay there.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS");
    for name in names {
        cmd.args(["-p", name]);
    }
    let status = cmd.status().expect("run cargo to build the guest plugins");
    assert!(status.success(), "building the guest plugins failed");

    let release_dir = target_dir.join(TARGET).join("release");
    names
        .iter()
        .map(|name| {
            // A library's file has `_` for `-`; a binary's keeps the name.
            let wasm = [name.replace('-', "_"), name.to_string()]
                .map(|stem| release_dir.join(format!("{stem}.wasm")))
                .into_iter()
                .find(|path| path.exists())
                .unwrap_or_else(|| panic!("{name} was not built"));
            track_dep_info(&wasm.with_extension("d"));
            wasm
        })
        .collect()
}

/// The Rust constant that names the component `name`: `HELLO`, `MEMORY_SPLIT`.
pub fn constant(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

/// Asks cargo to rerun the build script when any source file of a guest
/// changes, as its dep-info file lists them.
fn track_dep_info(dep_file: &Path) {
    let Ok(text) = fs::read_to_string(dep_file) else {
        return;
    };
    let Some((_, deps)) = text.split_once(": ") else {
        return;
    };
    for dep in deps.split_whitespace() {
        if !dep.contains("/.cargo/registry/") {
            println!("cargo:rerun-if-changed={dep}");
        }
    }
}
