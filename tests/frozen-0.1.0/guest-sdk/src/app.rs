//! The application: its name, version and shared variables.

use crate::bindings::precept::plugin::app as host;
use crate::value::{FromValue, Value};

/// The application's program name.
pub fn prog_name() -> String {
    host::prog_name()
}

/// The application's version.
pub fn version() -> String {
    host::version()
}

/// The application variable `name`, converted to `T`; `None` when it is not
/// set or holds another type.
pub fn get_var<T: FromValue>(name: &str) -> Option<T> {
    host::get_var(name).as_ref().and_then(T::from_value)
}

/// The raw application variable `name`.
pub fn get_value(name: &str) -> Option<Value> {
    host::get_var(name)
}

/// Sets the application variable `name`, shared with the application and
/// every other plugin.
pub fn set_var(name: &str, value: impl Into<Value>) {
    host::set_var(name, &value.into());
}
