//! Where a component is: an OCI reference, and which registries are
//! reached without TLS (loopback addresses only).

use std::net::IpAddr;

use crate::Error;

/// An OCI reference, `REGISTRY/REPOSITORY[:TAG|@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(pub(crate) oci_client::Reference);

impl Reference {
    /// Parses `text`. A reference names its registry (a host name with a
    /// dot or a port, or `localhost`): a bare `name:tag` is not taken to
    /// mean Docker Hub.
    pub fn parse(text: &str) -> Result<Reference, Error> {
        let bad = |why: &str| {
            Error::Source(format!(
                "'{}' is not an OCI reference: {why}",
                crate::error::one_line(text)
            ))
        };
        let first = text.split('/').next().unwrap_or_default();
        if !text.contains('/')
            || !(first.contains('.') || first.contains(':') || first == "localhost")
        {
            return Err(bad(
                "it must start with a registry, e.g. ghcr.io/OWNER/NAME:TAG",
            ));
        }
        let parsed: oci_client::Reference = text
            .parse()
            .map_err(|e: oci_client::ParseError| bad(&e.to_string()))?;
        Ok(Reference(parsed))
    }

    /// The registry, e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        self.0.resolve_registry()
    }

    /// The repository, e.g. `owner/hello`.
    pub fn repository(&self) -> &str {
        self.0.repository()
    }

    /// The repository's last segment: a plugin's name when it gives none.
    pub fn name(&self) -> &str {
        self.repository().rsplit('/').next().unwrap_or_default()
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.0.tag()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.0.digest()
    }

    /// The same repository, pinned to `digest` (and no tag).
    pub fn pinned(&self, digest: &str) -> Reference {
        Reference(oci_client::Reference::with_digest(
            self.0.registry().to_string(),
            self.repository().to_string(),
            digest.to_string(),
        ))
    }

    /// Whether the registry is reached with plain HTTP: only a loopback
    /// address is.
    pub(crate) fn plain_http(&self) -> bool {
        is_loopback(self.registry())
    }

    /// A client for this reference's registry.
    pub(crate) fn client(&self) -> oci_client::Client {
        crate::tls();
        let protocol = if self.plain_http() {
            oci_client::client::ClientProtocol::HttpsExcept(vec![self.registry().to_string()])
        } else {
            oci_client::client::ClientProtocol::Https
        };
        oci_client::Client::new(oci_client::client::ClientConfig {
            protocol,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            // A wasm artifact is one manifest, never an index to choose from.
            platform_resolver: None,
            ..Default::default()
        })
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.whole())
    }
}

/// Whether `host` (`HOST[:PORT]`, an IP address in brackets or not) is a
/// loopback address: `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback(host: &str) -> bool {
    let host = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None if host.matches(':').count() > 1 => host,
        None => host.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_its_registry() {
        let r = Reference::parse("127.0.0.1:5000/demo/hello:0.1.0").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag(), r.name()),
            ("127.0.0.1:5000", "demo/hello", Some("0.1.0"), "hello")
        );
        assert!(r.plain_http());
        let pinned = r.pinned(&format!("sha256:{}", "a".repeat(64)));
        assert_eq!(pinned.tag(), None);
        assert_eq!(
            pinned.to_string(),
            format!("127.0.0.1:5000/demo/hello@sha256:{}", "a".repeat(64))
        );
        assert!(!Reference::parse("ghcr.io/o/hello:1").unwrap().plain_http());
        for bad in ["hello:1", "hello", "o/hello:1", "ghcr.io/O/UPPER"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_loopback_addresses_are_loopback() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1",
            "127.1.2.3:80",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1:5000",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "[::2]:1",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
