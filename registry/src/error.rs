//! What can go wrong between a registry and a file, each in one line.

/// Why a component could not be pulled, fetched or pushed. Each message is
/// one line and names no secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a reference or URL this crate accepts.
    #[error("{0}")]
    Source(String),
    /// Plain HTTP to an address that is not a loopback address.
    #[error("refusing plain http:// to {0}: only a loopback address may be reached without TLS")]
    Insecure(String),
    /// No connection could be made.
    #[error("cannot reach {registry}: {cause}")]
    Unreachable {
        /// The registry or host.
        registry: String,
        /// Why, in one line.
        cause: String,
    },
    /// The registry has no such tag, digest or repository.
    #[error("{0} is not in the registry")]
    NotFound(String),
    /// The registry refused the credentials, or asked for some.
    #[error(
        "{0}: not authorized (credentials: DOCKER_CONFIG's config.json, or PRECEPT_REGISTRY_HOST, _USERNAME and _PASSWORD)"
    )]
    Unauthorized(String),
    /// The manifest is not a wasm component's.
    #[error("{0}")]
    Layout(String),
    /// More bytes than the cap, or than the manifest says.
    #[error("{what} is larger than {cap} bytes")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The most bytes allowed.
        cap: u64,
    },
    /// The bytes are not those their digest names.
    #[error("the bytes do not match their digest: expected {expected}, got {actual}")]
    Digest {
        /// The digest the manifest, reference or pin names.
        expected: String,
        /// The digest of the bytes served.
        actual: String,
    },
    /// The download ended before its last byte.
    #[error("the download ended early, after {got} of {expected} bytes: {cause}")]
    Interrupted {
        /// Bytes received.
        got: u64,
        /// Bytes expected.
        expected: u64,
        /// Why, in one line.
        cause: String,
    },
    /// Any other answer of the registry, in one line.
    #[error("{0}")]
    Registry(String),
    /// Writing the bytes out failed.
    #[error("cannot write the download: {0}")]
    Write(#[from] std::io::Error),
}

/// `text` on one line, at most 300 characters: registries' and servers'
/// messages are not ours to print as they are.
pub(crate) fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Error {
    /// The error of a request about `what` at `registry`, in words of
    /// its own: the client's messages name URLs, which may carry tokens.
    pub(crate) fn from_oci(
        error: oci_client::errors::OciDistributionError,
        registry: &str,
        what: &str,
    ) -> Error {
        use oci_client::errors::OciDistributionError as E;
        use oci_client::errors::OciErrorCode as Code;
        let not_found = |code: &Code| {
            matches!(
                code,
                Code::ManifestUnknown | Code::NameUnknown | Code::BlobUnknown
            )
        };
        match error {
            E::ImageManifestNotFoundError(_) => Error::NotFound(what.to_string()),
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => {
                Error::Unauthorized(what.to_string())
            }
            E::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|e| not_found(&e.code)) =>
            {
                Error::NotFound(what.to_string())
            }
            E::RegistryError { envelope, .. } => {
                let said: Vec<String> = envelope.errors.iter().map(|e| e.message.clone()).collect();
                Error::Registry(one_line(&format!(
                    "{what}: the registry answered: {}",
                    said.join("; ")
                )))
            }
            E::ServerError { code: 404, .. } => Error::NotFound(what.to_string()),
            E::ServerError {
                code: 401 | 403, ..
            } => Error::Unauthorized(what.to_string()),
            E::ServerError { code, message, .. } => Error::Registry(one_line(&format!(
                "{what}: the registry answered {code}: {message}"
            ))),
            E::RequestError(error) => from_request(&error, registry),
            E::DigestError(_) => {
                Error::Registry(format!("{what}: the manifest does not match its digest"))
            }
            E::IoError(error) => Error::Write(error),
            _ => Error::Registry(format!(
                "{what}: the registry's answer is not one this client reads"
            )),
        }
    }
}

/// The error of an HTTP request to `host`.
/// Its message names no URL, which may carry a token.
pub(crate) fn from_request(error: &reqwest::Error, host: &str) -> Error {
    // The source chain's last says why (refused, unknown name, TLS).
    let mut cause = String::from("the request failed");
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if error.is_connect() || error.is_timeout() {
        return Error::Unreachable {
            registry: host.to_string(),
            cause: one_line(&cause),
        };
    }
    Error::Registry(one_line(&format!("{host}: {cause}")))
}
