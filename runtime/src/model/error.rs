//! Errors the runtime reports. Every message is one line that names the
//! plugin and the cause.

use std::fmt;

use crate::io::text::Clean;

/// The longest name (of an event, a variable, a service) shown in a line.
pub(crate) const MAX_NAME_CHARS: usize = 256;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("plugin '{name}' ({path}): cannot read the file: {source}")]
    Read {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not WebAssembly at all.
    #[error("plugin '{name}' ({path}) is not a WebAssembly component: {reason}")]
    NotWasm {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What is wrong with the bytes.
        reason: &'static str,
    },
    /// The file is a core WebAssembly module, not a component.
    #[error(
        "plugin '{name}' ({path}) is a core WebAssembly module, not a component: \
         build it for wasm32-wasip2, or wrap it with `wasm-tools component new`"
    )]
    CoreModule {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
    },
    /// Wasmtime could not compile the component.
    #[error("plugin '{name}' ({path}) could not be compiled: {cause}")]
    Compile {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// Wasmtime's explanation.
        cause: String,
    },
    /// The component does not fit the `precept:plugin` world of the version
    /// it imports: a missing export, an unknown import.
    #[error("plugin '{name}' ({path}) does not fit the precept:plugin world: {cause}")]
    Link {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What is missing or mismatched.
        cause: String,
    },
    /// The plugin's grants cannot be given, e.g. a granted directory is
    /// missing.
    #[error("plugin '{name}': {cause}")]
    Grant {
        /// The plugin's name.
        name: String,
        /// What could not be granted.
        cause: String,
    },
    /// The plugin's configuration does not fit what it declared.
    #[error("plugin '{name}': {cause}")]
    Config {
        /// The plugin's name.
        name: String,
        /// Which key is wrong and why.
        cause: String,
    },
    /// The component was built against another version of the contract.
    #[error(
        "plugin '{name}' ({path}) was built for precept:plugin@{found}, \
         but this runtime provides precept:plugin {provided}"
    )]
    WorldVersion {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// The version the component imports.
        found: String,
        /// The versions this runtime provides, e.g. `0.1.0 and 0.2.0`.
        provided: String,
    },
    /// Instantiating the component failed, e.g. its start function trapped.
    #[error("plugin '{name}' could not be instantiated: {cause}")]
    Instantiate {
        /// The plugin's name.
        name: String,
        /// Wasmtime's explanation.
        cause: String,
    },
    /// What the component says about itself cannot be used: its manifest
    /// section is malformed, or the name it gives is not usable.
    #[error("plugin '{name}' ({path}): {cause}")]
    Manifest {
        /// The plugin's name (its file stem).
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What is wrong.
        cause: String,
    },
    /// The plugin's grants do not fit the capabilities it declares.
    #[error("plugin '{name}' ({path}) {cause}")]
    Capability {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What is missing or undeclared.
        cause: crate::trust::capabilities::CapabilityError,
    },
    /// The plugin is not as the lockfile recorded it.
    #[error(
        "plugin '{name}' ({path}) is not as {lockfile} accepted it: {change}; accept it with `{accept}`"
    )]
    Locked {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// The lockfile.
        lockfile: String,
        /// What changed since it was locked.
        change: String,
        /// The command that accepts it.
        accept: String,
    },
    /// Another plugin with the same name is already loaded.
    #[error("plugin '{name}' ({path}): a plugin with this name is already loaded")]
    Duplicate {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
    },
    /// The plugin adds a command or service whose name is taken.
    #[error("plugin '{name}' ({path}) adds {what} '{item}', which {owner} already provides")]
    Clash {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// `the command` or `the service`.
        what: &'static str,
        /// The name that is taken.
        item: String,
        /// Who has it: `the application` or `plugin 'NAME'`.
        owner: String,
    },
    /// The plugin describes a command that cannot be put on a command line.
    #[error("plugin '{name}' ({path}) adds an unusable command: {cause}")]
    BadCommand {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What is wrong with it.
        cause: String,
    },
    /// The plugin's `setup` does other than its manifest's `[lazy]` table
    /// declares.
    #[error("plugin '{name}' ({path}) does not do what its [lazy] table declares: {cause}")]
    Undeclared {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What it did that was not declared, or did not do.
        cause: String,
    },
    /// The plugin's file changed into one that cannot take the running
    /// plugin's place.
    #[error("plugin '{name}' ({path}) cannot replace the running one: {cause}")]
    Replace {
        /// The plugin's name.
        name: String,
        /// The file it was loaded from.
        path: String,
        /// What changed that a running plugin cannot change.
        cause: String,
    },
    /// The plugin's `setup` failed.
    #[error(transparent)]
    Setup(#[from] PluginFailure),
}

/// A failed call into a plugin: it returned an error, or it trapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "plugin '{}' {kind} in {export}{}: {}",
    Clean::new(.plugin),
    EventName(.event),
    Clean::new(.cause)
)]
pub struct PluginFailure {
    /// The plugin's name.
    pub plugin: String,
    /// How it failed.
    pub kind: FailureKind,
    /// The export that was called, e.g. `on-event`, or the host function
    /// that refused, e.g. `dispatch`.
    pub export: &'static str,
    /// The event being handled or dispatched, if any.
    pub event: Option<String>,
    /// The cause, in one line.
    pub cause: String,
}

/// How a plugin call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The plugin returned an error; it stays loaded.
    Error,
    /// The plugin trapped; it is disabled.
    Trap,
    /// A call ran past its deadline; the plugin is disabled.
    Timeout,
    /// The plugin went past one of its limits; it is disabled.
    Limit,
}

impl FailureKind {
    /// Whether the plugin is disabled after failing this way.
    pub fn disables(self) -> bool {
        self != FailureKind::Error
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Error => "failed",
            FailureKind::Trap => "trapped",
            FailureKind::Timeout => "timed out",
            FailureKind::Limit => "went past a limit",
        })
    }
}

/// Formats `Some(name)` as `(name)`.
struct EventName<'a>(&'a Option<String>);

impl fmt::Display for EventName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => write!(f, "({})", Clean::capped(name, MAX_NAME_CHARS)),
            None => Ok(()),
        }
    }
}

/// Errors creating the runtime itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wasmtime rejected the engine configuration or the host functions.
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
    /// A command, service or argument of that name exists already.
    #[error("{what} '{name}' is already provided by {owner}")]
    Taken {
        /// `command`, `service` or `argument`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// Who provides it: `the application` or `plugin 'NAME'`.
        owner: String,
    },
    /// An argument's id is reserved: `command` names the chosen command in
    /// `cli_parsed`.
    #[error("argument '{0}' is reserved: `cli_parsed` names the chosen command `command`")]
    Reserved(String),
}

/// Describes a wasmtime error in one line: the trap or the chain of causes,
/// without the multi-line wasm backtrace.
pub(crate) fn one_line(error: &wasmtime::Error) -> String {
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        return trap.to_string();
    }
    if let Some(limit) = error.downcast_ref::<crate::trust::sandbox::LimitExceeded>() {
        return limit.to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.starts_with("error while executing at wasm backtrace") {
            continue;
        }
        let line = text.lines().next().unwrap_or_default().trim().to_string();
        if !line.is_empty() && !parts.iter().any(|p| p.contains(&line)) {
            parts.push(line);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_plugin_export_and_event() {
        let failure = PluginFailure {
            plugin: "hello".into(),
            kind: FailureKind::Trap,
            export: "on-event",
            event: Some("cli_started".into()),
            cause: "wasm trap: unreachable".into(),
        };
        assert_eq!(
            failure.to_string(),
            "plugin 'hello' trapped in on-event(cli_started): wasm trap: unreachable"
        );
    }
}
