//! Capabilities: what a plugin declares it needs (directories, environment
//! variables, network hosts, each required or optional, with a purpose, and
//! a data directory of its own),
//! checked against what the user granted. A required capability that is not
//! granted keeps the plugin from loading, with the lines that would grant
//! it; a grant the plugin did not declare is refused; what is granted is
//! what the plugin's `granted` query answers.

use serde::{Deserialize, Serialize};

use crate::trust::net::HostPort;
use crate::trust::sandbox::Grants;

/// The most capabilities of each kind one plugin may declare.
const MAX_DECLARED: usize = 64;

/// The longest purpose shown.
const MAX_PURPOSE_CHARS: usize = 200;

/// What a plugin declares it needs. Empty for a plugin that declares
/// nothing, and for every `precept:plugin@0.1.0` plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Directories, by the path the plugin opens.
    pub dirs: Vec<DirCapability>,
    /// Environment variables, by name.
    pub env: Vec<EnvCapability>,
    /// Network hosts, as `host:port`.
    pub net: Vec<NetCapability>,
    /// Its own data directory, [`DATA_PATH`], kept between runs.
    pub data: Option<DataCapability>,
}

/// Where a plugin sees its data directory.
pub const DATA_PATH: &str = "/data";

/// A plugin's own data directory: granted whenever it is declared, seen at
/// [`DATA_PATH`], kept between runs in a directory no other plugin sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCapability {
    /// What it keeps there, in one line.
    pub purpose: String,
}

/// How a directory may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Open and read files.
    Read,
    /// Also create, change and remove them.
    ReadWrite,
}

impl Access {
    /// `read` or `read-write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::ReadWrite => "read-write",
        }
    }
}

fn required_by_default() -> bool {
    true
}

/// A directory a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirCapability {
    /// Where the plugin opens it, e.g. `/notes`.
    pub path: String,
    /// What it does there.
    pub access: Access,
    /// Why it needs it, in one line.
    pub purpose: String,
    /// Whether it cannot work without it (the default).
    #[serde(default = "required_by_default")]
    pub required: bool,
}

/// An environment variable a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvCapability {
    /// The variable's name.
    pub name: String,
    /// Why it needs it, in one line.
    pub purpose: String,
    /// Whether it cannot work without it (the default).
    #[serde(default = "required_by_default")]
    pub required: bool,
}

/// Network hosts a plugin declares: one `host:port`, any port of one host
/// (`host:*`), or any host the user chooses (`*`, e.g. a webhook the user
/// configures). The user always grants a concrete `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetCapability {
    /// `api.example.com:443`, `api.example.com:*` or `*`.
    pub host: String,
    /// Why it needs it, in one line.
    pub purpose: String,
    /// Whether it cannot work without it (the default).
    #[serde(default = "required_by_default")]
    pub required: bool,
}

/// A capability a plugin was granted, as its `granted` query answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granted {
    /// A directory, where the plugin opens it, and how.
    Directory {
        /// The path inside the plugin.
        path: String,
        /// What it may do there.
        access: Access,
    },
    /// An environment variable, by name.
    Env(String),
    /// A network host, as `host:port`.
    Net(String),
}

impl Granted {
    /// Whether this is a directory at [`DATA_PATH`]: the plugin's own data
    /// directory when it declares one.
    pub fn is_data(&self) -> bool {
        matches!(self, Granted::Directory { path, .. } if path == DATA_PATH)
    }
}

impl std::fmt::Display for Granted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Granted::Directory { path, access } => {
                write!(f, "directory {path} ({})", access.as_str())
            }
            Granted::Env(name) => write!(f, "environment variable {name}"),
            Granted::Net(host) => write!(f, "network host {host}"),
        }
    }
}

/// Every grant in `grants`, as what was granted: what a plugin that
/// declares nothing (built for 0.1.0) is given.
pub(crate) fn given(grants: &Grants) -> Vec<Granted> {
    let dirs = grants.dirs.iter().map(|dir| Granted::Directory {
        path: dir.guest.clone(),
        access: if dir.writable {
            Access::ReadWrite
        } else {
            Access::Read
        },
    });
    let env = grants
        .env
        .iter()
        .map(|(name, _)| Granted::Env(name.clone()));
    let net = grants.net.iter().map(|host| Granted::Net(host.clone()));
    dirs.chain(env).chain(net).collect()
}

/// Why a plugin's grants do not fit what it declares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    /// Required capabilities were not granted.
    #[error("needs what it was not granted: {missing}; to grant it: {grant}")]
    Missing {
        /// What is missing, with why the plugin needs it.
        missing: String,
        /// The configuration lines (and flags) that would grant it.
        grant: String,
    },
    /// Something was granted that the plugin does not declare.
    #[error("was granted {0}, which it does not declare; remove that grant")]
    Undeclared(String),
    /// A network grant is not one host and port.
    #[error("was granted network host '{0}', which is not HOST:PORT (one host, one port)")]
    NotAHost(String),
}

impl Capabilities {
    /// Whether the plugin declares anything.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty() && self.env.is_empty() && self.net.is_empty() && self.data.is_none()
    }

    /// Each declared capability in words, e.g. `directory /notes
    /// (read-write, required): where the notes are kept`.
    pub fn describe(&self) -> Vec<String> {
        let need = |required: bool| if required { "required" } else { "optional" };
        let dirs = self.dirs.iter().map(|d| {
            format!(
                "directory {} ({}, {}): {}",
                d.path,
                d.access.as_str(),
                need(d.required),
                purpose(&d.purpose)
            )
        });
        let env = self.env.iter().map(|e| {
            format!(
                "environment variable {} ({}): {}",
                e.name,
                need(e.required),
                purpose(&e.purpose)
            )
        });
        let net = self.net.iter().map(|n| {
            format!(
                "network host {} ({}): {}",
                n.host,
                need(n.required),
                purpose(&n.purpose)
            )
        });
        let data = self.data.iter().map(|d| {
            format!(
                "data directory {DATA_PATH} (its own, kept between runs): {}",
                purpose(&d.purpose)
            )
        });
        dirs.chain(env).chain(net).chain(data).collect()
    }

    /// Checks a declaration: bounded, each capability named once, paths
    /// absolute, names and hosts plausible; purposes are made safe lines.
    pub(crate) fn check(&self) -> Result<(), String> {
        let counts = [self.dirs.len(), self.env.len(), self.net.len()];
        if counts.iter().any(|&n| n > MAX_DECLARED) {
            return Err(format!("more than {MAX_DECLARED} capabilities of one kind"));
        }
        let plausible = |text: &str| {
            !text.is_empty()
                && text.len() <= 256
                && !text.chars().any(|c| c.is_control() || c.is_whitespace())
        };
        for (i, dir) in self.dirs.iter().enumerate() {
            if !dir.path.starts_with('/') || !plausible(&dir.path) {
                return Err(format!(
                    "directory '{}' is not an absolute path",
                    clean(&dir.path)
                ));
            }
            if self.data.is_some() && same_dir(&dir.path, DATA_PATH) {
                return Err(format!(
                    "directory '{DATA_PATH}' is the data directory; declare it once, as [data]"
                ));
            }
            if self.dirs[..i].iter().any(|d| same_dir(&d.path, &dir.path)) {
                return Err(format!("directory '{}' is declared twice", dir.path));
            }
        }
        for (i, env) in self.env.iter().enumerate() {
            if !plausible(&env.name) || env.name.contains('=') {
                return Err(format!("'{}' is not a variable name", clean(&env.name)));
            }
            if self.env[..i].iter().any(|e| e.name == env.name) {
                return Err(format!("variable '{}' is declared twice", env.name));
            }
        }
        for (i, net) in self.net.iter().enumerate() {
            let pattern = net.host.rsplit_once(':').filter(|(host, port)| {
                !host.is_empty()
                    && !host.contains('*')
                    && (*port == "*" || port.parse::<u16>().is_ok())
            });
            if !plausible(&net.host) || (pattern.is_none() && net.host != "*") {
                return Err(format!(
                    "'{}' is not HOST:PORT, HOST:* or *",
                    clean(&net.host)
                ));
            }
            if self.net[..i].iter().any(|n| n.host == net.host) {
                return Err(format!("host '{}' is declared twice", net.host));
            }
        }
        Ok(())
    }

    /// What the plugin `plugin` is granted of what it declares, given the
    /// user's `grants`; an error when a grant is undeclared or a required
    /// capability is missing.
    pub(crate) fn resolve(
        &self,
        plugin: &str,
        grants: &Grants,
    ) -> Result<Vec<Granted>, CapabilityError> {
        for dir in &grants.dirs {
            let declared = self.dirs.iter().find(|d| same_dir(&d.path, &dir.guest));
            match declared {
                None => {
                    return Err(CapabilityError::Undeclared(format!(
                        "directory {}",
                        clean(&dir.guest)
                    )));
                }
                Some(d) if dir.writable && d.access == Access::Read => {
                    return Err(CapabilityError::Undeclared(format!(
                        "write access to directory {}",
                        d.path
                    )));
                }
                Some(_) => {}
            }
        }
        for (name, _) in &grants.env {
            if !self.env.iter().any(|e| e.name == *name) {
                return Err(CapabilityError::Undeclared(format!(
                    "environment variable {}",
                    clean(name)
                )));
            }
        }
        for host in &grants.net {
            if HostPort::parse(host).is_none() {
                return Err(CapabilityError::NotAHost(clean(host)));
            }
            if !self.net.iter().any(|n| n.covers(host)) {
                return Err(CapabilityError::Undeclared(format!(
                    "network host {}",
                    clean(host)
                )));
            }
        }

        let mut granted = Vec::new();
        let mut missing = Vec::new();
        let mut lines = Vec::new();
        for dir in &self.dirs {
            let given = grants.dirs.iter().filter(|g| same_dir(&g.guest, &dir.path));
            let access = given
                .map(|g| {
                    if g.writable {
                        Access::ReadWrite
                    } else {
                        Access::Read
                    }
                })
                .max_by_key(|a| *a == Access::ReadWrite);
            let enough = access.is_some_and(|a| a == dir.access || a == Access::ReadWrite);
            if let Some(access) = access {
                granted.push(Granted::Directory {
                    path: dir.path.clone(),
                    access,
                });
            }
            if dir.required && !enough {
                let writable = dir.access == Access::ReadWrite;
                missing.push(format!(
                    "directory {} ({}: {})",
                    dir.path,
                    dir.access.as_str(),
                    purpose(&dir.purpose)
                ));
                lines.push(format!(
                    "dirs = [{{ host = \"HOST-DIR\", guest = \"{}\", writable = {writable} }}] or --{} {plugin}=HOST-DIR::{}",
                    dir.path,
                    if writable { "dir-rw" } else { "dir" },
                    dir.path
                ));
            }
        }
        for env in &self.env {
            if grants.env.iter().any(|(name, _)| *name == env.name) {
                granted.push(Granted::Env(env.name.clone()));
            } else if env.required {
                missing.push(format!(
                    "environment variable {} ({})",
                    env.name,
                    purpose(&env.purpose)
                ));
                lines.push(format!(
                    "env = {{ {} = \"VALUE\" }} or --env {plugin}={}",
                    env.name, env.name
                ));
            }
        }
        for net in &self.net {
            let mut matched = false;
            for host in grants.net.iter().filter(|host| net.covers(host)) {
                matched = true;
                let grant = Granted::Net(host.clone());
                if !granted.contains(&grant) {
                    granted.push(grant);
                }
            }
            if net.required && !matched {
                missing.push(format!(
                    "network host {} ({})",
                    net.host,
                    purpose(&net.purpose)
                ));
                let example = net.example();
                lines.push(format!("net = [\"{example}\"] or --net {plugin}={example}"));
            }
        }
        if self.data.is_some() {
            granted.push(Granted::Directory {
                path: DATA_PATH.into(),
                access: Access::ReadWrite,
            });
        }
        if missing.is_empty() {
            Ok(granted)
        } else {
            Err(CapabilityError::Missing {
                missing: missing.join(", "),
                grant: format!("[plugin.{plugin}] {}", lines.join(", ")),
            })
        }
    }
}

impl NetCapability {
    /// Whether the grant `host` (`host:port`) is one this declaration asks
    /// for; hosts compare without regard to case.
    pub fn covers(&self, host: &str) -> bool {
        let Some(grant) = HostPort::parse(host) else {
            return false;
        };
        match self.host.rsplit_once(':') {
            Some((want_host, want_port)) => {
                want_host.eq_ignore_ascii_case(&grant.host)
                    && (want_port == "*" || want_port.parse() == Ok(grant.port))
            }
            None => self.host == "*",
        }
    }

    /// A grant this declaration covers that reaches nothing: a name under
    /// `.invalid`, which never resolves, for what the user would choose.
    pub(crate) fn stand_in(&self) -> String {
        match self.host.rsplit_once(':') {
            Some((host, "*")) => format!("{host}:9"),
            Some(_) => self.host.clone(),
            None => "stand-in.invalid:9".into(),
        }
    }

    /// A grant for this declaration, with placeholders for what the user
    /// chooses: `api.example.com:443`, `api.example.com:PORT`, `HOST:PORT`.
    fn example(&self) -> String {
        match self.host.rsplit_once(':') {
            Some((host, "*")) => format!("{host}:PORT"),
            Some(_) => self.host.clone(),
            None => "HOST:PORT".into(),
        }
    }
}

/// Whether two guest paths name the same directory (`/a` and `/a/`).
fn same_dir(a: &str, b: &str) -> bool {
    let trim = |p: &str| p.trim_end_matches('/').to_string();
    trim(a) == trim(b)
}

fn purpose(text: &str) -> String {
    crate::io::text::clean(text, MAX_PURPOSE_CHARS)
}

fn clean(text: &str) -> String {
    crate::io::text::clean(text, 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::sandbox::DirGrant;

    fn notes() -> Capabilities {
        Capabilities {
            dirs: vec![DirCapability {
                path: "/notes".into(),
                access: Access::ReadWrite,
                purpose: "where the notes are kept".into(),
                required: true,
            }],
            env: vec![EnvCapability {
                name: "EDITOR".into(),
                purpose: "to open a note".into(),
                required: false,
            }],
            net: Vec::new(),
            data: None,
        }
    }

    fn dir(guest: &str, writable: bool) -> DirGrant {
        DirGrant {
            host: "/srv".into(),
            guest: guest.into(),
            writable,
        }
    }

    #[test]
    fn a_required_directory_missing_names_the_grant_to_add() {
        let error = notes().resolve("notes", &Grants::default()).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("directory /notes (read-write: where the notes are kept)"),
            "{text}"
        );
        assert!(
            text.contains("[plugin.notes] dirs = [{ host = \"HOST-DIR\", guest = \"/notes\", writable = true }]"),
            "{text}"
        );
        assert!(text.contains("--dir-rw notes=HOST-DIR::/notes"), "{text}");
        // Read access is not enough for a read-write need.
        let read_only = Grants {
            dirs: vec![dir("/notes", false)],
            ..Grants::default()
        };
        assert!(notes().resolve("notes", &read_only).is_err());
    }

    #[test]
    fn optional_capabilities_may_be_absent_and_granted_ones_are_listed() {
        let grants = Grants {
            dirs: vec![dir("/notes/", true)],
            ..Grants::default()
        };
        let granted = notes().resolve("notes", &grants).unwrap();
        assert_eq!(
            granted,
            [Granted::Directory {
                path: "/notes".into(),
                access: Access::ReadWrite
            }]
        );
        let with_env = Grants {
            env: vec![("EDITOR".into(), "vi".into())],
            ..grants
        };
        assert_eq!(notes().resolve("notes", &with_env).unwrap().len(), 2);
    }

    #[test]
    fn undeclared_grants_are_refused() {
        let cases = [
            (
                Grants {
                    dirs: vec![dir("/notes", true), dir("/home", false)],
                    ..Grants::default()
                },
                "directory /home",
            ),
            (
                Grants {
                    dirs: vec![dir("/notes", true)],
                    env: vec![("HOME".into(), "/root".into())],
                    ..Grants::default()
                },
                "environment variable HOME",
            ),
            (
                Grants {
                    dirs: vec![dir("/notes", true)],
                    net: vec!["example.com:443".into()],
                    ..Grants::default()
                },
                "network host example.com:443",
            ),
        ];
        for (grants, what) in cases {
            let error = notes().resolve("notes", &grants).unwrap_err();
            assert_eq!(error, CapabilityError::Undeclared(what.into()));
        }
        let mut read_only = notes();
        read_only.dirs[0].access = Access::Read;
        let writable = Grants {
            dirs: vec![dir("/notes", true)],
            ..Grants::default()
        };
        assert!(matches!(
            read_only.resolve("notes", &writable),
            Err(CapabilityError::Undeclared(what)) if what.starts_with("write access")
        ));
    }

    #[test]
    fn declarations_are_checked() {
        let mut twice = notes();
        twice.dirs.push(twice.dirs[0].clone());
        assert!(twice.check().unwrap_err().contains("twice"));
        let mut relative = notes();
        relative.dirs[0].path = "notes".into();
        assert!(relative.check().is_err());
        let mut no_port = notes();
        no_port.net.push(NetCapability {
            host: "example.com".into(),
            purpose: String::new(),
            required: false,
        });
        assert!(no_port.check().is_err());
        assert!(notes().check().is_ok());
        for pattern in ["*", "example.com:*", "example.com:443", "[::1]:80"] {
            let mut net = notes();
            net.net.push(NetCapability {
                host: pattern.into(),
                purpose: String::new(),
                required: false,
            });
            assert!(net.check().is_ok(), "{pattern}");
        }
        for bad in ["*:443", "*.example.com:443", ":443", "example.com:http"] {
            let mut net = notes();
            net.net.push(NetCapability {
                host: bad.into(),
                purpose: String::new(),
                required: false,
            });
            assert!(net.check().is_err(), "{bad}");
        }
    }

    #[test]
    fn network_declarations_cover_the_hosts_they_name() {
        let declared = |host: &str| NetCapability {
            host: host.into(),
            purpose: "to fetch rules".into(),
            required: true,
        };
        assert!(declared("API.example.com:443").covers("api.example.com:443"));
        assert!(!declared("api.example.com:443").covers("api.example.com:80"));
        assert!(!declared("api.example.com:443").covers("example.com:443"));
        assert!(declared("api.example.com:*").covers("api.example.com:8443"));
        assert!(!declared("api.example.com:*").covers("evil.example:8443"));
        assert!(declared("*").covers("127.0.0.1:8080"));

        let any_port = Capabilities {
            net: vec![declared("127.0.0.1:*")],
            ..Capabilities::default()
        };
        let error = any_port.resolve("rules", &Grants::default()).unwrap_err();
        assert!(
            error.to_string().contains("--net rules=127.0.0.1:PORT"),
            "{error}"
        );
        let grants = Grants {
            net: vec!["127.0.0.1:8080".into(), "127.0.0.1:9090".into()],
            ..Grants::default()
        };
        assert_eq!(
            any_port.resolve("rules", &grants).unwrap(),
            [
                Granted::Net("127.0.0.1:8080".into()),
                Granted::Net("127.0.0.1:9090".into())
            ]
        );
        let pattern = Grants {
            net: vec!["127.0.0.1:*".into()],
            ..Grants::default()
        };
        assert_eq!(
            any_port.resolve("rules", &pattern).unwrap_err(),
            CapabilityError::NotAHost("127.0.0.1:*".into())
        );
        let elsewhere = Grants {
            net: vec!["10.0.0.1:8080".into()],
            ..Grants::default()
        };
        assert_eq!(
            any_port.resolve("rules", &elsewhere).unwrap_err(),
            CapabilityError::Undeclared("network host 10.0.0.1:8080".into())
        );
    }
}
