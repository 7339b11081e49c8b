//! `precept-build publish`: pushes a component to an OCI registry as a
//! wasm artifact, with annotations from its metadata, so that
//! applications install it with `plugin add REFERENCE`.

use std::collections::BTreeMap;
use std::path::Path;

/// Why a component could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// Building the plugin directory failed.
    #[error(transparent)]
    Build(#[from] crate::BuildError),
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a component whose metadata can be read.
    #[error("{path} is not a component: {cause}")]
    NotAComponent {
        /// The file.
        path: String,
        /// Why, in one line.
        cause: String,
    },
    /// The registry refused it, or could not be reached.
    #[error(transparent)]
    Registry(#[from] precept_registry::Error),
}

/// Publishes `what` (a component, or a plugin directory built first into
/// `out_dir/NAME.wasm`) to `reference`; returns the pinned reference
/// (`REPOSITORY@DIGEST`).
pub fn publish(
    what: &Path,
    reference: &str,
    builder: &crate::Builder,
    out_dir: &Path,
) -> Result<String, PublishError> {
    let reference = precept_registry::Reference::parse(reference)?;
    let read_error = |source| PublishError::Read {
        path: what.display().to_string(),
        source,
    };
    let file = if what.is_dir() {
        let name = what
            .canonicalize()
            .map_err(read_error)?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into());
        let out = out_dir.join(format!("{name}.wasm"));
        builder.build(what, &out)?;
        out
    } else {
        what.to_path_buf()
    };
    let component = std::fs::read(&file).map_err(read_error)?;
    let annotations = annotations(&component).map_err(|cause| PublishError::NotAComponent {
        path: file.display().to_string(),
        cause,
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(read_error)?;
    let digest = runtime.block_on(precept_registry::push(&reference, component, annotations))?;
    Ok(reference.pinned(&digest).to_string())
}

/// The OCI annotations of `component`'s metadata: title, version,
/// description, source, URL, revision, licences and authors.
pub fn annotations(component: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let payload = wasm_metadata::Payload::from_binary(component).map_err(|e| format!("{e:#}"))?;
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
