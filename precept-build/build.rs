//! Embeds the Go module `go.bytecodealliance.org/pkg`, which the bindings
//! of wit-bindgen's Go generator import. It ships inside the
//! `wit-bindgen-go` crate (`src/pkg`, standard library only), so Go plugins
//! build without fetching it: cargo says where that crate's source is.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let pkg = wit_bindgen_go_source().join("src/pkg");
    let mut files = Vec::new();
    collect(&pkg, &pkg, &mut files);
    files.sort();
    assert!(
        files.iter().any(|(name, _)| name == "go.mod"),
        "{} holds no go.mod",
        pkg.display()
    );
    let mut code = String::from("&[\n");
    for (name, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display()).unwrap();
    }
    code.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("go_pkg.rs");
    std::fs::write(out, code).unwrap();
}

/// The directory of the `wit-bindgen-go` package this crate depends on.
fn wit_bindgen_go_source() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Only this platform's packages: those the build has fetched already.
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            &target,
        ])
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR").unwrap())
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == "wit-bindgen-go")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("wit-bindgen-go is a dependency");
    Path::new(manifest).parent().unwrap().to_path_buf()
}

/// The module's Go sources, assembly stubs, `go.mod` and licence, as
/// (path inside the module, file).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "go" || e == "s")
            || path.ends_with("go.mod")
            || path.ends_with("LICENSE")
        {
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.push((name, path));
        }
    }
}
