//! Writing to the application's log under this plugin's name.

use crate::bindings::precept::plugin::log::{self as host, Level};

/// Logs a trace message.
pub fn trace(message: &str) {
    host::log(Level::Trace, message);
}

/// Logs a debug message.
pub fn debug(message: &str) {
    host::log(Level::Debug, message);
}

/// Logs an informational message.
pub fn info(message: &str) {
    host::log(Level::Info, message);
}

/// Logs a warning.
pub fn warn(message: &str) {
    host::log(Level::Warn, message);
}

/// Logs an error.
pub fn error(message: &str) {
    host::log(Level::Error, message);
}
