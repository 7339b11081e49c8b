//! Credentials, found as OCI tools find them: `PRECEPT_REGISTRY_USERNAME`
//! and `PRECEPT_REGISTRY_PASSWORD` for the registry `PRECEPT_REGISTRY_HOST`
//! names (never sent to another), else the registry's entry in Docker's
//! `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`), else none (an
//! anonymous pull, which still goes through a registry's token flow).

use std::path::{Path, PathBuf};

use base64::Engine;
use oci_client::secrets::RegistryAuth;

/// The environment variable with the user name for the registry
/// [`HOST_VAR`] names.
pub const USERNAME_VAR: &str = "PRECEPT_REGISTRY_USERNAME";
/// The environment variable with the password or token.
pub const PASSWORD_VAR: &str = "PRECEPT_REGISTRY_PASSWORD";

/// The environment variable naming the one registry they are for.
pub const HOST_VAR: &str = "PRECEPT_REGISTRY_HOST";

/// The credentials for `registry`.
pub(crate) fn credentials(registry: &str) -> RegistryAuth {
    credentials_from(registry, |var| std::env::var(var).ok(), docker_config())
}

/// The credentials for `registry` from the variables `var` gives and the
/// Docker configuration at `config`.
fn credentials_from(
    registry: &str,
    var: impl Fn(&str) -> Option<String>,
    config: Option<PathBuf>,
) -> RegistryAuth {
    let for_this = var(HOST_VAR).is_some_and(|host| host == registry);
    if let (true, Some(user), Some(password)) = (for_this, var(USERNAME_VAR), var(PASSWORD_VAR)) {
        return RegistryAuth::Basic(user, password);
    }
    match config.and_then(|path| from_docker_config(&path, registry)) {
        Some((user, password)) => RegistryAuth::Basic(user, password),
        None => RegistryAuth::Anonymous,
    }
}

/// Docker's `config.json`.
fn docker_config() -> Option<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    Some(dir.join("config.json"))
}

/// The user name and password `config.json` at `path` keeps for
/// `registry`: its `auth` (base64 of `USER:PASSWORD`), or `username` and
/// `password`. Credential helpers are not run.
pub(crate) fn from_docker_config(path: &Path, registry: &str) -> Option<(String, String)> {
    // Bounded: the file is the user's, but read before any network use.
    let text = std::fs::read(path).ok().filter(|t| t.len() <= 1 << 20)?;
    let config: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let auths = config.get("auths")?.as_object()?;
    let hub = ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(&registry);
    let entry = auths.iter().find_map(|(key, entry)| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let same = host == registry || (hub && host.ends_with("docker.io"));
        same.then_some(entry)
    })?;
    if let Some(encoded) = entry.get("auth").and_then(|a| a.as_str()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        return Some((user.to_string(), password.to_string()));
    }
    let user = entry.get("username")?.as_str()?;
    let password = entry.get("password")?.as_str()?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_entries_are_found_by_registry() {
        let dir = std::env::temp_dir().join(format!("precept-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("me:s3cret:with-colon");
        let text = serde_json::json!({
            "auths": {
                "ghcr.io": { "auth": auth },
                "https://index.docker.io/v1/": { "username": "hub", "password": "pw" },
            }
        });
        std::fs::write(&path, text.to_string()).unwrap();
        assert_eq!(
            from_docker_config(&path, "ghcr.io"),
            Some(("me".into(), "s3cret:with-colon".into()))
        );
        assert_eq!(
            from_docker_config(&path, "index.docker.io"),
            Some(("hub".into(), "pw".into()))
        );
        assert_eq!(from_docker_config(&path, "quay.io"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn variables_give_credentials_to_the_one_registry_they_name() {
        let env = |var: &str| match var {
            HOST_VAR => Some("ghcr.io".to_string()),
            USERNAME_VAR => Some("me".to_string()),
            PASSWORD_VAR => Some("s3cret".to_string()),
            _ => None,
        };
        let basic = RegistryAuth::Basic("me".into(), "s3cret".into());
        assert_eq!(credentials_from("ghcr.io", env, None), basic);
        assert_eq!(
            credentials_from("evil.example", env, None),
            RegistryAuth::Anonymous
        );
        let no_host = |var: &str| env(var).filter(|_| var != HOST_VAR);
        assert_eq!(
            credentials_from("ghcr.io", no_host, None),
            RegistryAuth::Anonymous
        );
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let auth = RegistryAuth::Basic("me".into(), "s3cret".into());
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
