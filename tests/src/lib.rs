//! Test plugins compiled from source by this crate's build script.
//!
//! Each constant is the path of a component built for `wasm32-wasip2` from a
//! crate in `example-plugins/` or `tests/plugins/`.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

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
    // Tests run in parallel: write aside, then rename into place.
    let partial = dir.join(format!("{name}.{:?}.partial", std::thread::current().id()));
    std::fs::write(&partial, bytes).unwrap();
    std::fs::rename(&partial, &path).unwrap();
    path
}
