//! Test plugins compiled from source by this crate's build script.
//!
//! Each constant is the path of a component built for `wasm32-wasip2` from a
//! crate in `example-plugins/` or `tests/plugins/`.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// Writes a copy of `component` into `dir` as `NAME.wasm`, named `name`:
/// a `component-name` section is appended, as `wasm-tools metadata add
/// --name` does, so that the copy is a plugin of its own (a plugin's name
/// comes from its metadata; two with the same name are refused).
pub fn copy_named(component: &str, name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn string(text: &str, out: &mut Vec<u8>) {
        leb(text.len(), out);
        out.extend_from_slice(text.as_bytes());
    }
    let mut names = Vec::new();
    string(name, &mut names);
    let mut section = Vec::new();
    string("component-name", &mut section);
    section.push(0); // the subsection naming the component itself
    leb(names.len(), &mut section);
    section.extend(names);
    let mut bytes = std::fs::read(component).unwrap();
    bytes.push(0); // a custom section
    leb(section.len(), &mut bytes);
    bytes.extend(section);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    // Tests run in parallel: write aside, then rename into place.
    let partial = dir.join(format!("{name}.{:?}.partial", std::thread::current().id()));
    std::fs::write(&partial, bytes).unwrap();
    std::fs::rename(&partial, &path).unwrap();
    path
}
