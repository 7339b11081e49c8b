//! Test plugins compiled from source by this crate's build script.
//!
//! Each constant is the path of a component built for `wasm32-wasip2` from a
//! crate in `example-plugins/` or `tests/plugins/`.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// Replaces the file at `path` with the same component and a custom
/// section `precept-test-build` holding `build`: new bytes and the same
/// code, as a rebuild gives. Written aside, then renamed into place.
pub fn rebuild(path: &std::path::Path, build: u8) {
    let mut bytes = std::fs::read(path).unwrap();
    let name = b"precept-test-build";
    // A custom section: id 0, its size, then its name and contents.
    bytes.extend([0, name.len() as u8 + 2, name.len() as u8]);
    bytes.extend(name);
    bytes.push(build);
    replace(path, &bytes);
}

/// Writes `bytes` to `path` aside, then renames them into place, as a
/// build tool does.
pub fn replace(path: &std::path::Path, bytes: &[u8]) {
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{:?}.partial", std::thread::current().id()));
    std::fs::write(&partial, bytes).unwrap();
    std::fs::rename(&partial, path).unwrap();
}

/// Writes a copy of `component` into `dir` as `NAME.wasm`, named `name`
/// in its metadata as `wasm-tools metadata add --name` does, so that the
/// copy is a plugin of its own (a plugin's name comes from its metadata;
/// two with the same name are refused).
pub fn copy_named(component: &str, name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let mut metadata = wasm_metadata::AddMetadata::default();
    metadata.name = wasm_metadata::AddMetadataField::Set(name.to_string());
    let bytes = metadata
        .to_wasm(&std::fs::read(component).unwrap())
        .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    // Tests run in parallel: written aside, then renamed into place.
    replace(&path, &bytes);
    path
}
