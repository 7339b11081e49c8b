//! Where plugin log messages and runtime diagnostics go: `tracing`, with the
//! plugin's name attached. The application chooses the subscriber.

use crate::wit::precept::plugin::log::Level;

/// Forwards one log message from the plugin `plugin`.
pub(crate) fn plugin_message(plugin: &str, level: Level, message: &str) {
    match level {
        Level::Trace => tracing::trace!(target: "plugin", "{plugin}: {message}"),
        Level::Debug => tracing::debug!(target: "plugin", "{plugin}: {message}"),
        Level::Info => tracing::info!(target: "plugin", "{plugin}: {message}"),
        Level::Warn => tracing::warn!(target: "plugin", "{plugin}: {message}"),
        Level::Error => tracing::error!(target: "plugin", "{plugin}: {message}"),
    }
}

/// Reports a plugin failure or load error: one line on standard error.
pub(crate) fn report(error: &dyn std::fmt::Display) {
    eprintln!("error: {error}");
}
