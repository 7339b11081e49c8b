//! C plugins: wit-bindgen's C generator writes the bindings (for the
//! contract's world with `wasi:http`, see `wasi_http`), clang with
//! wasi-libc compiles a WASI preview 1 reactor module, and the preview 1
//! adapter turns that into a component (`reactor`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use wit_bindgen_core::wit_parser::Resolve;

use crate::{BuildError, Job, reactor, tool, toolchain, wasi_http};

/// The C SDK (`guest-sdk/c/`): a plugin includes `precept.h` and defines
/// only the hooks it uses.
const SDK: &[(&str, &str)] = &[
    ("precept.h", include_str!("../../guest-sdk/c/precept.h")),
    ("precept.c", include_str!("../../guest-sdk/c/precept.c")),
];

/// The `.c` files directly in `dir`, sorted.
pub(crate) fn sources(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    sources.sort();
    Ok(sources)
}

pub(crate) fn build(job: &Job, dir: &Path, out: &Path) -> Result<(), BuildError> {
    // The bindings (`plugin.h`, `plugin.c`, `plugin_component_type.o`) are
    // kept beside the component, for reading and for editors.
    let bindings = out.with_extension("bindings");
    generate_bindings(job, &bindings)?;

    // The C SDK, compiled with the plugin.
    tool::write_files(&bindings, SDK.iter().copied())?;

    let module = out.with_extension("core.wasm");
    let mut clang = Command::new(toolchain::CLANG);
    clang
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2"])
        .args(["-mexec-model=reactor", "-Wall"])
        .arg("-I")
        .arg(&bindings)
        .args(sources(dir).map_err(BuildError::io(dir))?)
        .arg(bindings.join("plugin.c"))
        .arg(bindings.join("precept.c"))
        .arg(bindings.join("plugin_component_type.o"))
        .arg("-o")
        .arg(&module);
    tool::run(toolchain::CLANG, clang, toolchain::CLANG_INSTALL)?;

    let core = std::fs::read(&module).map_err(BuildError::io(&module))?;
    let component = reactor::componentize(&core).map_err(BuildError::Component)?;
    std::fs::write(out, component).map_err(BuildError::io(out))?;
    std::fs::remove_file(&module).map_err(BuildError::io(&module))
}

fn generate_bindings(job: &Job, into: &Path) -> Result<(), BuildError> {
    // The contract's world with `wasi:http` too, for plugins that make
    // requests: `wasi_http_outgoing_handler_handle` and the like.
    let (wit, _) = wasi_http::world(job)?;
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(&wit)
        .with_context(|| format!("parse {}", wit.display()))
        .map_err(BuildError::Component)?;
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .map_err(BuildError::Component)?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .map_err(BuildError::Component)?;
    tool::write_files(into, files.iter())
}
