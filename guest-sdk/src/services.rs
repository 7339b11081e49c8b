//! Declaring services: things that run alongside the application.

use crate::bindings::precept::plugin::services as host;

/// Declares the service `name`, run by this plugin's
/// [`Plugin::service_setup`](crate::Plugin::service_setup), `service_start`
/// and `service_stop` with every command. Call it in `setup`.
pub fn add(name: &str) {
    host::add_service(name, None);
}

/// Declares the service `name` that runs only when `command` runs.
pub fn add_for_command(name: &str, command: &str) {
    host::add_service(name, Some(command));
}

/// Whether the service `name` (the application's or any plugin's) is
/// running; `None` when there is no such service.
pub fn is_running(name: &str) -> Option<bool> {
    host::is_running(name)
}
