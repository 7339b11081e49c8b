//! What a plugin may use: the grants (directories, environment variables,
//! arguments) and the limits (time per call, memory, tables, payload size).
//! By default a plugin gets standard output, standard error, clocks and
//! random numbers, and nothing else: no files, no environment, no network.

use std::path::PathBuf;
use std::time::Duration;

use wasmtime::ResourceLimiter;

use crate::io::output::{PluginStdout, PluginStream};
use crate::trust::net::NetAccess;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

/// How often running wasm yields to the executor, so deadlines can end it.
pub(crate) const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// How many epoch ticks `allowance` is.
pub(crate) fn ticks(allowance: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    u64::try_from(allowance.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX)
}

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
    /// Network hosts, as `host:port`, the plugin may reach: by HTTP (any
    /// host), and by TCP connections (hosts given as IP addresses).
    pub net: Vec<String>,
}

impl Grants {
    /// Adds every grant of `other`.
    pub(crate) fn extend(&mut self, other: &Grants) {
        self.dirs.extend(other.dirs.iter().cloned());
        self.env.extend(other.env.iter().cloned());
        self.args.extend(other.args.iter().cloned());
        self.net.extend(other.net.iter().cloned());
    }
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
    /// The most running time a call of `setup`, `on-event` or a service step
    /// may use: the plugin's own time, not time spent waiting for others.
    pub call: Duration,
    /// The longest a call may take by the clock, waiting included (a sleep,
    /// a full output pipe).
    pub wait: Duration,
    /// The longest a command may run; `None` for no bound.
    pub command: Option<Duration>,
    /// The most linear memory the plugin's instances may have together, in
    /// bytes.
    pub memory_bytes: usize,
    /// The most elements its tables may have together.
    pub table_elements: usize,
    /// The most core instances its component may create (memories are capped
    /// at [`MAX_MEMORIES`], tables at [`MAX_TABLES`]).
    pub instances: usize,
    /// The largest payload (or variable value) the plugin may send, in bytes
    /// of names, strings and values.
    pub payload_bytes: usize,
    /// What the plugin may make the host keep or do for it.
    pub host: HostBudget,
    /// After this many failures the plugin is disabled; `None` for never.
    pub max_errors: Option<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call: Duration::from_secs(1),
            wait: Duration::from_secs(5),
            command: None,
            memory_bytes: 256 << 20,
            table_elements: 1 << 20,
            instances: 256,
            payload_bytes: 1 << 20,
            host: HostBudget::default(),
            max_errors: Some(100),
        }
    }
}

/// What one plugin may make the host keep or do: every import that keeps
/// something in the host is charged to the calling plugin. Past the budget
/// the call traps with [`LimitExceeded::Budget`] and the plugin is disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBudget {
    /// Bytes of variable names and values the plugin holds, counted as
    /// payloads are (what the host keeps for each value and list item, and
    /// the bytes of names and strings); what it overwrites is credited
    /// back.
    pub var_bytes: usize,
    /// How many variables the plugin holds.
    pub vars: usize,
    /// How many event names the plugin is subscribed to.
    pub subscriptions: usize,
    /// The longest name (event, variable, service, configuration key), in
    /// bytes.
    pub name_bytes: usize,
    /// Bytes of the requests one call leaves for the dispatcher (dispatched
    /// payloads, names, commands, timers), or that a running command's
    /// requests hold while they wait; all of the plugin's waiting requests
    /// together, nested calls and timers included, may hold four times
    /// this.
    pub pending_bytes: usize,
    /// The longest log line; longer ones are cut.
    pub log_line_bytes: usize,
    /// Log lines per second (with as many in a burst); more are dropped and
    /// counted.
    pub log_lines_per_second: u32,
    /// Commands the plugin may add.
    pub commands: usize,
    /// Services the plugin may add.
    pub services: usize,
    /// Configuration keys the plugin may declare.
    pub config_keys: usize,
    /// Bytes of its declared configuration keys together: names, help and
    /// defaults.
    pub config_bytes: usize,
    /// WASI handles it may hold at once: open files and sockets (each a
    /// descriptor of the process), streams, pollables, HTTP requests,
    /// responses, bodies and headers.
    pub handles: usize,
    /// The most bytes the host copies out of the plugin's memory in one
    /// call of an import (a payload, a log line, a body chunk): a larger
    /// call traps before the host holds it.
    pub copy_bytes: usize,
}

impl Default for HostBudget {
    fn default() -> Self {
        HostBudget {
            var_bytes: 4 << 20,
            vars: 1024,
            subscriptions: 256,
            name_bytes: 256,
            pending_bytes: 4 << 20,
            log_line_bytes: 4096,
            log_lines_per_second: 200,
            commands: 32,
            services: 32,
            config_keys: 128,
            config_bytes: 256 << 10,
            handles: 1024,
            copy_bytes: 16 << 20,
        }
    }
}

/// A plugin went past one of its limits.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitExceeded {
    /// A call ran longer than allowed.
    #[error("ran longer than {0:?}")]
    Time(Duration),
    /// A call took longer than allowed by the clock, waiting included.
    #[error("took longer than {0:?} by the clock")]
    Wait(Duration),
    /// Linear memory would grow past the limit.
    #[error("asked for {desired} bytes of memory; the limit is {limit}")]
    Memory {
        /// The size asked for, all memories together.
        desired: usize,
        /// The limit.
        limit: usize,
    },
    /// A table would grow past the limit.
    #[error("asked for a table of {desired} elements; the limit is {limit}")]
    Table {
        /// The size asked for, all tables together.
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
    /// The plugin asked the host to keep or do more than its budget.
    #[error("went past its host budget: {wanted} {what}; the budget is {limit}")]
    Budget {
        /// What was counted, e.g. `bytes of variables`.
        what: &'static str,
        /// How much it would have had.
        wanted: usize,
        /// The budget.
        limit: usize,
    },
    /// One dispatch and what it caused reached more subscribers, or took
    /// longer, than a dispatch may.
    #[error("{0}")]
    Cascade(String),
    /// The plugin was disabled while the call ran: the call is stopped.
    #[error("was disabled while it ran")]
    Disabled,
}

impl LimitExceeded {
    /// Checks `wanted` against `limit` for the budget item `what`.
    pub(crate) fn check(what: &'static str, wanted: usize, limit: usize) -> Result<(), Self> {
        if wanted > limit {
            Err(LimitExceeded::Budget {
                what,
                wanted,
                limit,
            })
        } else {
            Ok(())
        }
    }
}

impl Sandbox {
    /// The WASI context for these grants: standard output and standard
    /// error through bounded pipes ([`crate::io::output`]), the granted
    /// directories, variables and arguments, and TCP connections only where
    /// `net` allows them.
    pub(crate) fn wasi(&self, stdout: PluginStdout, net: &NetAccess) -> std::io::Result<WasiCtx> {
        let mut builder = WasiCtxBuilder::new();
        let sockets = net.clone();
        builder
            .stdout(PluginStream::stdout(stdout))
            .stderr(PluginStream::stderr())
            .allow_tcp(net.any())
            .socket_addr_check(move |addr, use_| {
                let allowed = sockets.allows_socket(addr, use_);
                Box::pin(async move { allowed })
            })
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .secure_random(ThreadRandom)
            .max_random_size(MAX_RANDOM_BYTES)
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

    /// The network hosts this sandbox may reach.
    pub(crate) fn net(&self) -> NetAccess {
        NetAccess::new(&self.grants.net, self.limits.wait)
    }
}

/// The most random bytes one `wasi:random` call gives; a call asking more
/// traps (wasmtime-wasi's default, 64 MiB, would hold a host thread for
/// most of a second in one call).
pub const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// Every plugin's `wasi:random` generator: the thread's (rand's
/// `ThreadRng`, cryptographically secure, reseeded from the operating
/// system), reached through a type that keeps no state in each store, where
/// a generator of the store's own would keep about 320 bytes.
struct ThreadRandom;

impl rand::TryRng for ThreadRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(rand::Rng::next_u32(&mut rand::rng()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(rand::Rng::next_u64(&mut rand::rng()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand::Rng::fill_bytes(&mut rand::rng(), dst);
        Ok(())
    }
}

impl rand::TryCryptoRng for ThreadRandom {}

/// The most linear memories one plugin's store may have.
pub const MAX_MEMORIES: usize = 16;

/// The most tables one plugin's store may have.
pub const MAX_TABLES: usize = 64;

/// Enforces [`Limits`] on one store: its memories and its tables together,
/// and how many instances, memories and tables it has.
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    instances: usize,
    memory_total: usize,
    table_total: usize,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            instances: limits.instances,
            memory_total: 0,
            table_total: 0,
        }
    }

    /// The bytes of linear memory the store has now, all memories together.
    pub(crate) fn memory_in_use(&self) -> usize {
        self.memory_total
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_total - current.min(self.memory_total) + desired;
        if total > self.memory_bytes {
            return Err(LimitExceeded::Memory {
                desired: total,
                limit: self.memory_bytes,
            }
            .into());
        }
        self.memory_total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.table_total - current.min(self.table_total) + desired;
        if total > self.table_elements {
            return Err(LimitExceeded::Table {
                desired: total,
                limit: self.table_elements,
            }
            .into());
        }
        self.table_total = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }
}
