//! Builds the example plugins the demo shows and writes `plugins.rs`, which
//! names each component's path as a constant.

use std::fmt::Write as _;
use std::path::PathBuf;

// Standard library only, so that the demo builds nothing it does not show.
#[path = "../precept-build/src/guests.rs"]
mod guests;

const SHOWN: [&str; 4] = ["hello", "ping", "pong", "guard"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());

    guests::require_target();
    let built = guests::build(workspace, &out_dir.join("wasm"), &SHOWN);
    let mut code = String::new();
    for (name, wasm) in SHOWN.iter().zip(built) {
        writeln!(
            code,
            "/// The `{name}` component, built from `example-plugins/rust/{name}`.\npub const {}: &str = {:?};",
            guests::constant(name),
            wasm.display().to_string(),
        )
        .unwrap();
    }
    std::fs::write(out_dir.join("plugins.rs"), code).unwrap();
    for name in SHOWN {
        let dir = workspace.join("example-plugins/rust").join(name);
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
}
