//! Builds every test plugin from source for `wasm32-wasip2` and writes
//! `plugins.rs`, which names each component's path as a constant.
//!
//! Plugins are the crates in `example-plugins/` and `tests/plugins/`; a new
//! directory there is picked up without editing any list. The guests are built
//! by a nested `cargo` with its own target directory inside `OUT_DIR`, so it
//! never waits on the lock of the build that runs this script.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PLUGIN_DIRS: &[&str] = &["example-plugins", "tests/plugins"];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());

    require_target();

    let plugins = discover(&workspace);
    let target_dir = out_dir.join("wasm");
    build(&workspace, &target_dir, &plugins);

    let release_dir = target_dir.join(TARGET).join("release");
    let mut code = String::new();
    for plugin in &plugins {
        let wasm = release_dir.join(format!("{}.wasm", plugin.name.replace('-', "_")));
        assert!(wasm.exists(), "{} was not built", wasm.display());
        writeln!(
            code,
            "/// The `{name}` component, built from `{dir}`.\npub const {konst}: &str = {path:?};",
            name = plugin.name,
            dir = plugin.dir.strip_prefix(&workspace).unwrap().display(),
            konst = plugin.name.to_uppercase().replace('-', "_"),
            path = wasm.display().to_string(),
        )
        .unwrap();
        track_dep_info(&release_dir.join(format!("{}.d", plugin.name.replace('-', "_"))));
    }
    let examples: Vec<String> = plugins
        .iter()
        .filter(|p| p.dir.starts_with(workspace.join("example-plugins")))
        .map(|p| {
            format!(
                "({:?}, {})",
                p.name,
                p.name.to_uppercase().replace('-', "_")
            )
        })
        .collect();
    writeln!(
        code,
        "/// Every example plugin, as `(name, path)`.\npub const EXAMPLES: &[(&str, &str)] = &[{}];",
        examples.join(", ")
    )
    .unwrap();
    fs::write(out_dir.join("plugins.rs"), code).unwrap();

    for dir in PLUGIN_DIRS {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
}

/// A guest crate to build.
struct Guest {
    name: String,
    dir: PathBuf,
}

/// Every crate directly inside the plugin directories, sorted by name.
fn discover(workspace: &Path) -> Vec<Guest> {
    let mut guests = Vec::new();
    for dir in PLUGIN_DIRS {
        let Ok(entries) = fs::read_dir(workspace.join(dir)) else {
            continue;
        };
        for entry in entries {
            let dir = entry.unwrap().path();
            if dir.join("Cargo.toml").exists() {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                println!(
                    "cargo:rerun-if-changed={}",
                    dir.join("Cargo.toml").display()
                );
                guests.push(Guest { name, dir });
            }
        }
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    guests
}

/// Stops the build with one line naming the fix when the target is missing.
fn require_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc --print sysroot");
    let sysroot = String::from_utf8(sysroot.stdout).unwrap();
    let installed = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(TARGET)
        .exists();
    if !installed {
        panic!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
    }
}

/// Runs one nested `cargo build` for all guests.
fn build(workspace: &Path, target_dir: &Path, guests: &[Guest]) {
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
    for guest in guests {
        cmd.args(["-p", &guest.name]);
    }
    let status = cmd.status().expect("run cargo to build the test plugins");
    assert!(status.success(), "building the test plugins failed");
}

/// Asks cargo to rerun this script when any source file of a guest changes.
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
