//! Timers: an event dispatched later, once or every so often, to every
//! subscriber (this plugin too, when it subscribed):
//!
//! ```ignore
//! fn service_start(&mut self, _name: &str) -> Result<(), String> {
//!     events::subscribe("tick");
//!     let id = timers::every(Duration::from_millis(100), "tick", [("n", 1)])?;
//!     self.ticker = Some(id);
//!     Ok(())
//! }
//! ```
//!
//! A plugin has at most 16 timers at once; delays shorter than 10 ms are
//! made 10 ms; every timer ends when the application stops, before
//! `cli_stopped`.

use std::time::Duration;

use crate::bindings::precept::plugin::timers as host;
use crate::value::Value;

/// A running timer, to [`cancel`] it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId(u64);

/// Dispatches `event` with `payload` once, after `delay`.
pub fn after<K: Into<String>, V: Into<Value>>(
    delay: Duration,
    event: &str,
    payload: impl IntoIterator<Item = (K, V)>,
) -> Result<TimerId, String> {
    host::set_timeout(millis(delay), event, &crate::value::payload(payload)).map(TimerId)
}

/// Dispatches `event` with `payload` every `interval`, first after one
/// interval, until [`cancel`]led.
pub fn every<K: Into<String>, V: Into<Value>>(
    interval: Duration,
    event: &str,
    payload: impl IntoIterator<Item = (K, V)>,
) -> Result<TimerId, String> {
    host::set_interval(millis(interval), event, &crate::value::payload(payload)).map(TimerId)
}

/// Ends the timer `id`: it fires no more.
pub fn cancel(id: TimerId) {
    host::cancel(id.0);
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
