//! `precept-build publish`: pushes a component to an OCI registry as a
//! wasm artifact, with annotations from its metadata, so that
//! applications install it with `plugin add REFERENCE`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;

/// Publishes `what` (a component, or a plugin directory built first into
/// `out_dir/NAME.wasm`) to `reference`; returns the pinned reference
/// (`REPOSITORY@DIGEST`).
pub fn publish(
    what: &Path,
    reference: &str,
    builder: &crate::Builder,
    out_dir: &Path,
) -> anyhow::Result<String> {
    let reference = precept_registry::Reference::parse(reference)?;
    let file = if what.is_dir() {
        let name = what
            .canonicalize()?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into());
        let out = out_dir.join(format!("{name}.wasm"));
        builder.build(what, &out)?;
        out
    } else {
        what.to_path_buf()
    };
    let component =
        std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let annotations = annotations(&component)
        .with_context(|| format!("{} is not a component", file.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let digest = runtime.block_on(precept_registry::push(&reference, component, annotations))?;
    Ok(reference.pinned(&digest).to_string())
}

/// The OCI annotations of `component`'s metadata: title, version,
/// description, source, URL, revision, licences and authors.
pub fn annotations(component: &[u8]) -> anyhow::Result<BTreeMap<String, String>> {
    let payload = wasm_metadata::Payload::from_binary(component)?;
    let metadata = payload.metadata();
    let mut annotations = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            annotations.insert(format!("org.opencontainers.image.{key}"), value);
        }
    };
    put("title", metadata.name.clone());
    put(
        "version",
        metadata.version.as_ref().map(ToString::to_string),
    );
    put(
        "description",
        metadata.description.as_ref().map(ToString::to_string),
    );
    put("source", metadata.source.as_ref().map(ToString::to_string));
    put("url", metadata.homepage.as_ref().map(ToString::to_string));
    put(
        "revision",
        metadata.revision.as_ref().map(ToString::to_string),
    );
    put(
        "licenses",
        metadata.licenses.as_ref().map(ToString::to_string),
    );
    put(
        "authors",
        metadata.authors.as_ref().map(ToString::to_string),
    );
    Ok(annotations)
}
