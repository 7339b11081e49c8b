//! The application: its name, version and shared variables.

use crate::bindings::precept::plugin::app as host;
use crate::value::{FromValue, Scalar, Value};

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

/// Adds `delta` to the integer variable `name` (absent counts as 0) and
/// returns its new value, in one step: when plugins add at the same time,
/// no addition is lost, as `get_var` then `set_var` would lose some.
pub fn add_var(name: &str, delta: i64) -> Result<i64, String> {
    host::add_var(name, delta)
}

/// Appends `item` to the list variable `name` (absent counts as empty) and
/// returns its new length, in one step: no concurrent append is lost.
pub fn append_var(name: &str, item: impl Into<Scalar>) -> Result<u32, String> {
    host::append_var(name, &item.into())
}
