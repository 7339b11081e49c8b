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

/// Writes a copy of `component` into `dir` as `NAME.wasm` whose own
/// `precept-manifest` section is `[plugin] name = NAME` followed by
/// `manifest` (TOML): the component's own section is read before those of
/// the modules inside it, so the copy is a plugin named `name` that
/// declares what `manifest` says (e.g. another `[lazy]` table), or nothing.
pub fn copy_with_manifest(
    component: &str,
    name: &str,
    manifest: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    write_with_manifest(std::fs::read(component).unwrap(), name, manifest, dir)
}

/// Writes `bytes`, a component, into `dir` as `NAME.wasm`, with a
/// `precept-manifest` section of its own: see [`copy_with_manifest`].
fn write_with_manifest(
    mut bytes: Vec<u8>,
    name: &str,
    manifest: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let text = format!("[plugin]\nname = {name:?}\n{manifest}");
    let section = b"precept-manifest";
    // A custom section: id 0, its size, then its name and contents, each
    // size in LEB128.
    let mut body = leb128(section.len());
    body.extend(section);
    body.extend(text.as_bytes());
    bytes.push(0);
    bytes.extend(leb128(body.len()));
    bytes.extend(body);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    replace(&path, &bytes);
    path
}

/// `value` in unsigned LEB128.
fn leb128(mut value: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Writes a build of `sleeper` into `dir` as `NAME.wasm`, named `name`,
/// whose command and event are `nap-N` and `wake-up-N`: the suffix `-N`
/// written over the one its bytes hold (see `tests/plugins/sleeper`).
/// With `lazy`, it declares them in a `[lazy]` table of its own; without,
/// it declares nothing.
pub fn sleeper_build(
    n: usize,
    name: &str,
    lazy: bool,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    const MARKER: &[u8; 16] = b"@sleeper-suffix@";
    let mut bytes = std::fs::read(SLEEPER).unwrap();
    let at = bytes
        .windows(MARKER.len())
        .position(|w| w == MARKER)
        .expect("sleeper holds its suffix marker");
    let mut suffix = [0u8; 16];
    let text = format!("-{n}");
    suffix[..text.len()].copy_from_slice(text.as_bytes());
    bytes[at..at + 16].copy_from_slice(&suffix);
    let declared = format!(
        "[lazy]\nevents = [\"wake-up-{n}\"]\ncommands = [{{ name = \"nap-{n}\", help = \"Take a nap\", args = [{{ name = \"minutes\", help = \"How long\", kind = \"integer\", default = \"5\" }}] }}]\n"
    );
    write_with_manifest(bytes, name, if lazy { &declared } else { "" }, dir)
}

/// Writes `count` builds of `sleeper` into `dir/plugins`, `sleeper-N`
/// adding `nap-N` and subscribing to `wake-up-N` (see [`sleeper_build`]),
/// and a `precept.toml` into `dir` that loads them all.
pub fn sleepers(dir: &std::path::Path, count: usize, lazy: bool) {
    for n in 0..count {
        sleeper_build(n, &format!("sleeper-{n}"), lazy, &dir.join("plugins"));
    }
    std::fs::write(dir.join("precept.toml"), "plugin-dir = \"plugins\"\n").unwrap();
}
