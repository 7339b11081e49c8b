//! Publishing a component as a wasm artifact: its bytes as the one layer,
//! a config naming the layout, and annotations from its metadata.

use std::collections::BTreeMap;

use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest};

use crate::{CONFIG_MEDIA_TYPE, Error, LAYER_MEDIA_TYPE, Reference, sha256_digest};

/// Pushes `component` to `reference` with `annotations` on its manifest,
/// and returns the manifest's digest, which pins what was pushed.
pub async fn push(
    reference: &Reference,
    component: Vec<u8>,
    annotations: BTreeMap<String, String>,
) -> Result<String, Error> {
    let client = reference.client();
    let registry = reference.registry();
    let what = reference.to_string();
    let from_oci = |e| Error::from_oci(e, registry, &what);
    let auth = crate::auth::credentials(registry);
    client.store_auth_if_needed(registry, &auth).await;

    let layer_digest = sha256_digest(&component);
    // The artifact's config, as the Wasm OCI Artifact layout describes it.
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer_digest],
    }))
    .expect("JSON");
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_string()),
        config: OciDescriptor {
            media_type: CONFIG_MEDIA_TYPE.to_string(),
            digest: sha256_digest(&config),
            size: config.len() as i64,
            ..Default::default()
        },
        layers: vec![OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_string(),
            digest: layer_digest.clone(),
            size: component.len() as i64,
            ..Default::default()
        }],
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..Default::default()
    };
    client
        .push_blob(&reference.0, component, &layer_digest)
        .await
        .map_err(from_oci)?;
    let config_digest = manifest.config.digest.clone();
    client
        .push_blob(&reference.0, config, &config_digest)
        .await
        .map_err(from_oci)?;
    let body = serde_json::to_vec(&manifest).expect("JSON");
    let digest = sha256_digest(&body);
    let content_type = reqwest::header::HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE);
    client
        .push_manifest_raw(&reference.0, body, content_type)
        .await
        .map_err(from_oci)?;
    Ok(digest)
}
