//! Plugins as OCI artifacts, in the CNCF "Wasm OCI Artifact" layout that
//! `wkg` and `oras` read and write: a manifest whose config has the media
//! type [`CONFIG_MEDIA_TYPE`] and whose one layer is the component
//! ([`LAYER_MEDIA_TYPE`]).
//!
//! [`pull`] streams a component into a writer under a size cap, checking
//! the manifest's layout and every byte against its digest; [`fetch`]
//! does the same for an `https://` URL pinned by a digest; [`push`]
//! publishes a component with annotations. Plain HTTP is used only for a
//! loopback address. Credentials are read as OCI tools read them
//! ([`auth`]), and never appear in a message.

#![warn(missing_docs)]

pub mod auth;
mod error;
mod pull;
mod push;
mod reference;

pub use error::Error;
pub use pull::{Pulled, fetch, pull};
pub use push::push;
pub use reference::{Reference, is_loopback};

/// The media type of a wasm artifact's config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The media type of a wasm artifact's one layer: the component.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The most bytes a manifest may have.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Installs the TLS provider (rustls with ring) the HTTP client needs, once
/// per process; a provider installed before is kept.
pub(crate) fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `sha256:` and the hex SHA-256 of `bytes`: an OCI digest.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    digest_of(sha2::Sha256::digest(bytes).as_slice())
}

/// `sha256:` and `hash` in hex.
pub(crate) fn digest_of(hash: &[u8]) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// `url` as it may be shown: without its query or fragment, which may
/// carry a token.
pub fn shown_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    error::one_line(&url[..end])
}
