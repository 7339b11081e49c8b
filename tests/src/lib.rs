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
    let mut bytes = std::fs::read(component).unwrap();
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

/// Writes `count` copies of `sleeper` into `dir/plugins`: `sleeper-N`
/// adds the command `nap-N` and subscribes to `wake-N`, as configured by
/// the `precept.toml` written into `dir`, which loads them all. With
/// `lazy`, each declares that in a `[lazy]` table; without, nothing.
pub fn sleepers(dir: &std::path::Path, count: usize, lazy: bool) {
    let mut config = String::from("plugin-dir = \"plugins\"\n");
    for n in 0..count {
        let name = format!("sleeper-{n}");
        let declared = format!(
            "[lazy]\nevents = [\"wake-{n}\"]\ncommands = [{{ name = \"nap-{n}\", help = \"Take a nap\", args = [{{ name = \"minutes\", help = \"How long\", kind = \"integer\", default = \"5\" }}] }}]\n"
        );
        let manifest = if lazy { declared.as_str() } else { "" };
        copy_with_manifest(SLEEPER, &name, manifest, &dir.join("plugins"));
        config.push_str(&format!(
            "[plugin.{name}.config]\ncommand = \"nap-{n}\"\nevent = \"wake-{n}\"\n"
        ));
    }
    std::fs::write(dir.join("precept.toml"), config).unwrap();
}
