//! What a plugin may use: the grants (directories, environment variables,
//! arguments) and the limits (time per call, memory, tables, payload size).
//! By default a plugin gets standard output, standard error, clocks and
//! random numbers, and nothing else: no files, no environment, no network.

use std::path::PathBuf;
use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

/// What one plugin is given and how far it may go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sandbox {
    /// Access granted beyond standard output and standard error.
    pub grants: Grants,
    /// Bounds on time, memory and sizes.
    pub limits: Limits,
}

/// Access granted to a plugin. Empty by default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grants {
    /// Host directories the plugin may open, each under a guest path.
    pub dirs: Vec<DirGrant>,
    /// Environment variables the plugin sees, as `(name, value)`.
    pub env: Vec<(String, String)>,
    /// The plugin's command-line arguments (WASI `get-arguments`).
    pub args: Vec<String>,
}

/// One host directory made visible to a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct DirGrant {
    /// The directory on the host.
    pub host: PathBuf,
    /// Where the plugin sees it, e.g. `/data`.
    pub guest: String,
    /// Whether the plugin may create, change and remove files in it.
    pub writable: bool,
}

/// Bounds on what one plugin may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// The longest a call of `setup`, `on-event` or a service step may run.
    pub call: Duration,
    /// The longest a command may run; `None` for no bound.
    pub command: Option<Duration>,
    /// The most linear memory the plugin's instances may have, in bytes.
    pub memory_bytes: usize,
    /// The most elements any one of its tables may have.
    pub table_elements: usize,
    /// The largest payload (or variable value) the plugin may send, in bytes
    /// of names, strings and values.
    pub payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call: Duration::from_secs(1),
            command: None,
            memory_bytes: 256 << 20,
            table_elements: 1 << 20,
            payload_bytes: 1 << 20,
        }
    }
}

/// A plugin went past one of its limits.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitExceeded {
    /// A call ran longer than allowed.
    #[error("ran longer than {0:?}")]
    Time(Duration),
    /// Linear memory would grow past the limit.
    #[error("asked for {desired} bytes of memory; the limit is {limit}")]
    Memory {
        /// The size asked for.
        desired: usize,
        /// The limit.
        limit: usize,
    },
    /// A table would grow past the limit.
    #[error("asked for a table of {desired} elements; the limit is {limit}")]
    Table {
        /// The size asked for.
        desired: usize,
        /// The limit.
        limit: usize,
    },
    /// A payload or variable value is larger than allowed.
    #[error("sent a payload of {size} bytes; the limit is {limit}")]
    Payload {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// One call dispatched more events than allowed.
    #[error("dispatched more than {0} events in one call")]
    Dispatches(usize),
}

impl Sandbox {
    /// The WASI context for these grants: standard output and standard
    /// error inherited, the granted directories, variables and arguments,
    /// and no network.
    pub(crate) fn wasi(&self) -> std::io::Result<WasiCtx> {
        let mut builder = WasiCtxBuilder::new();
        builder
            .inherit_stdout()
            .inherit_stderr()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .envs(&self.grants.env)
            .args(&self.grants.args);
        for dir in &self.grants.dirs {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            builder
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| {
                    std::io::Error::other(format!("cannot grant {}: {e}", dir.host.display()))
                })?;
        }
        Ok(builder.build())
    }
}

/// Enforces [`Limits`] on one store's memories and tables.
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(LimitExceeded::Memory {
                desired,
                limit: self.memory_bytes,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            return Err(LimitExceeded::Table {
                desired,
                limit: self.table_elements,
            }
            .into());
        }
        Ok(true)
    }
}
