//! WASI preview 1 reactor modules, as clang and Go build them, made into
//! components with the preview 1 adapter.

use std::path::Path;

use anyhow::Context as _;

/// Embeds the world `world` of the WIT package in `wit` into `module`, for
/// toolchains whose output does not carry it (Go).
pub(crate) fn embed_world(module: &mut Vec<u8>, wit: &Path, world: &str) -> anyhow::Result<()> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .with_context(|| format!("parse {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    wit_component::embed_component_metadata(
        module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
}

/// Wraps a preview 1 reactor module into a component.
pub(crate) fn componentize(core: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core)?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .validate(true)
        .encode()
}
