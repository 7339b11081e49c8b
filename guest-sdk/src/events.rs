//! Subscribing to and dispatching events.

use crate::bindings::precept::plugin::events as host;
use crate::value::Value;

/// Deliver events named `name` to this plugin's [`Plugin::on_event`](crate::Plugin::on_event).
pub fn subscribe(name: &str) {
    host::subscribe(name);
}

/// Deliver events of every name in `names`, e.g.
/// [`lifecycle::ALL`](crate::lifecycle::ALL), to this plugin.
pub fn subscribe_all<N: AsRef<str>>(names: impl IntoIterator<Item = N>) {
    for name in names {
        host::subscribe(name.as_ref());
    }
}

/// Stop delivering events named `name` to this plugin.
pub fn unsubscribe(name: &str) {
    host::unsubscribe(name);
}

/// Dispatch `name` with `payload`. Delivery starts when the current call into
/// this plugin returns, so a plugin can receive what it dispatches itself.
pub fn dispatch<K: Into<String>, V: Into<Value>>(
    name: &str,
    payload: impl IntoIterator<Item = (K, V)>,
) {
    host::dispatch(name, &crate::value::payload(payload));
}
