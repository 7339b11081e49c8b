//! This plugin's own configuration: the `[plugin.NAME.config]` section of the
//! application's configuration file.

use crate::bindings::precept::plugin::config as host;
use crate::value::{FromValue, Value};

/// Declares the key `key` with one line of help and its default; the
/// application's `dump-config` lists it. Call it in `setup`.
pub fn declare(key: &str, help: &str, default: impl Into<Value>) {
    host::declare(key, help, &default.into());
}

/// The value of `key` converted to `T`: from the configuration file, else
/// the declared default.
pub fn get<T: FromValue>(key: &str) -> Option<T> {
    host::get(key).as_ref().and_then(T::from_value)
}
