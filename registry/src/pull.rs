//! Pulling a component: the manifest checked for a wasm artifact's layout,
//! the one layer streamed out under a cap, every byte hashed and checked
//! against its digest before the pull is said to have succeeded.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use sha2::Digest;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{from_request, one_line};
use crate::{CONFIG_MEDIA_TYPE, Error, LAYER_MEDIA_TYPE, MAX_MANIFEST_BYTES, Reference};

/// What a pull or fetch wrote, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The digest of the manifest, which pins this version
    /// (`REPOSITORY@DIGEST`); for a URL, the digest of the bytes.
    pub manifest_digest: String,
    /// The digest of the component's bytes.
    pub layer_digest: String,
    /// How many bytes were written.
    pub size: u64,
    /// The manifest's annotations (`org.opencontainers.image.*`).
    pub annotations: BTreeMap<String, String>,
}

/// Pulls the component `reference` names into `out`: at most `cap` bytes,
/// checked against the manifest's digest (and the manifest against the
/// reference's, when it pins one). An error leaves `out` with part of the
/// bytes at most; the caller throws them away.
pub async fn pull(
    reference: &Reference,
    cap: u64,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<Pulled, Error> {
    let client = reference.client();
    let auth = crate::auth::credentials(reference.registry());
    let what = reference.to_string();
    let from_oci = |e| Error::from_oci(e, reference.registry(), &what);
    let (body, manifest_digest) = client
        .pull_manifest_raw(&reference.0, &auth, &[OCI_IMAGE_MEDIA_TYPE])
        .await
        .map_err(from_oci)?;
    if body.len() > MAX_MANIFEST_BYTES {
        return Err(Error::TooLarge {
            what: format!("the manifest of {what}"),
            cap: MAX_MANIFEST_BYTES as u64,
        });
    }
    let manifest: OciImageManifest = serde_json::from_slice(&body).map_err(|e| {
        Error::Layout(one_line(&format!(
            "{what}: the manifest is not an OCI image manifest: {e}"
        )))
    })?;
    let layer = component_layer(&manifest, &what)?;
    let expected = u64::try_from(layer.size).unwrap_or(0);
    if expected > cap {
        return Err(Error::TooLarge {
            what: format!("the component of {what} ({expected} bytes)"),
            cap,
        });
    }
    let stream = client
        .pull_blob_stream(&reference.0, layer)
        .await
        .map_err(from_oci)?;
    let written = copy_checked(
        stream.stream,
        Some(expected),
        cap,
        &layer.digest,
        &what,
        out,
    )
    .await?;
    Ok(Pulled {
        manifest_digest,
        layer_digest: layer.digest.clone(),
        size: written,
        annotations: manifest.annotations.clone().unwrap_or_default(),
    })
}

/// The one layer of a wasm artifact's manifest.
fn component_layer<'m>(
    manifest: &'m OciImageManifest,
    what: &str,
) -> Result<&'m oci_client::manifest::OciDescriptor, Error> {
    let shown = |t: &str| one_line(t).chars().take(80).collect::<String>();
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(Error::Layout(format!(
            "{what} is not a wasm component: its config's media type is '{}', not {CONFIG_MEDIA_TYPE}",
            shown(&manifest.config.media_type)
        )));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(Error::Layout(format!(
            "{what} has {} layers; a wasm component has one",
            manifest.layers.len()
        )));
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(Error::Layout(format!(
            "{what} is not a wasm component: its layer's media type is '{}', not {LAYER_MEDIA_TYPE}",
            shown(&layer.media_type)
        )));
    }
    Ok(layer)
}

/// Copies `stream` into `out`: exactly `expected` bytes when known, at
/// most `cap`, whose SHA-256 digest is `digest`.
async fn copy_checked<E>(
    mut stream: impl futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    expected: Option<u64>,
    cap: u64,
    digest: &str,
    what: &str,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<u64, Error> {
    let mut hasher = sha2::Sha256::new();
    let mut written = 0u64;
    let mut failed = None;
    let limit = expected.unwrap_or(cap).min(cap);
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            // Its text may name the URL: only that it failed is kept.
            Err(_) => {
                failed = Some("the connection failed".to_string());
                break;
            }
        };
        written += chunk.len() as u64;
        if written > limit {
            let what = match expected {
                Some(expected) if expected < cap => {
                    format!("the component of {what}, which its manifest says is {expected} bytes,")
                }
                _ => format!("the component of {what}"),
            };
            return Err(Error::TooLarge { what, cap: limit });
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    if let Some(expected) = expected
        && written < expected
    {
        return Err(Error::Interrupted {
            got: written,
            expected,
            cause: failed.unwrap_or_else(|| "the connection closed".into()),
        });
    }
    let actual = crate::digest_of(hasher.finalize().as_slice());
    if actual != digest {
        return Err(Error::Digest {
            expected: one_line(digest),
            actual,
        });
    }
    if let Some(cause) = failed {
        return Err(Error::Registry(cause));
    }
    Ok(written)
}

/// Fetches the component at `url` into `out`: `https://`, or `http://` to a
/// loopback address only; at most `cap` bytes, whose digest must be
/// `pin` (`sha256:HEX`).
pub async fn fetch(
    url: &str,
    pin: &str,
    cap: u64,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<Pulled, Error> {
    let host = url_host(url)?;
    if !pin.starts_with("sha256:")
        || pin.len() != 71
        || !pin[7..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(Error::Source(format!(
            "'{}' is not a sha256:HEX digest",
            one_line(pin)
        )));
    }
    crate::tls();
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(60))
        // A redirect could leave TLS or the loopback address: none is followed.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| from_request(&e, &host))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| from_request(&e, &host))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(Error::NotFound(crate::shown_url(url)));
    }
    if !status.is_success() {
        return Err(Error::Registry(format!("{host} answered {status}")));
    }
    let expected = response.content_length();
    if let Some(expected) = expected
        && expected > cap
    {
        return Err(Error::TooLarge {
            what: format!("{} ({expected} bytes)", crate::shown_url(url)),
            cap,
        });
    }
    let stream = futures_util::stream::unfold(response, |mut response| async move {
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), response)),
            Ok(None) => None,
            Err(error) => Some((Err(error), response)),
        }
    });
    let written = copy_checked(
        Box::pin(stream),
        expected,
        cap,
        pin,
        &crate::shown_url(url),
        out,
    )
    .await?;
    Ok(Pulled {
        manifest_digest: pin.to_string(),
        layer_digest: pin.to_string(),
        size: written,
        annotations: BTreeMap::new(),
    })
}

/// The host of `url`, once its scheme is checked: `https`, or `http` to a
/// loopback address; never with a user name.
fn url_host(url: &str) -> Result<String, Error> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| Error::Source(format!("'{}' is not a URL", crate::shown_url(url))))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Error::Source(
            "a URL with a user name or password is refused".into(),
        ));
    }
    match scheme {
        "https" => Ok(authority.to_string()),
        "http" if crate::is_loopback(authority) => Ok(authority.to_string()),
        "http" => Err(Error::Insecure(one_line(authority))),
        _ => Err(Error::Source(format!(
            "'{}': only https:// URLs are fetched",
            crate::shown_url(url)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_urls_without_users_are_fetched() {
        assert_eq!(
            url_host("https://example.com/a.wasm").unwrap(),
            "example.com"
        );
        assert_eq!(
            url_host("http://127.0.0.1:8080/a.wasm").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(url_host("http://[::1]/a").unwrap(), "[::1]");
        for insecure in [
            "http://example.com/a",
            "http://10.0.0.1/a",
            "http://127.0.0.1.nip.io/a",
        ] {
            assert!(
                matches!(url_host(insecure), Err(Error::Insecure(_))),
                "{insecure}"
            );
        }
        for refused in [
            "https://me:pw@example.com/a",
            "http://me@127.0.0.1/a",
            "ftp://example.com/a",
            "example.com/a",
        ] {
            assert!(
                matches!(url_host(refused), Err(Error::Source(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_shown_url_has_no_query() {
        assert_eq!(
            crate::shown_url("https://h/a.wasm?token=s3cret#sha256:00"),
            "https://h/a.wasm"
        );
    }
}
