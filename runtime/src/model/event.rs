//! An event as subscribers receive it, and what a subscriber answers.

use std::sync::Arc;

use crate::model::value::{FromValue, Payload, Value, lookup};

/// An event as a native subscriber receives it. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Event {
    /// The event's name.
    pub name: Arc<str>,
    /// The values it was dispatched with; the same for every subscriber.
    pub payload: Arc<Payload>,
    /// How many subscribers handled it before this one.
    pub num: u32,
    /// When it was dispatched, in microseconds since the Unix epoch (the
    /// system clock as the process first read it, and its monotonic
    /// clock since: never earlier than an event dispatched before it).
    pub timestamp: u64,
}

impl Event {
    /// The payload value named `key` as a `T` (`event.get::<i64>("n")`);
    /// `None` when there is no such value or it holds another type.
    pub fn get<T: FromValue>(&self, key: &str) -> Option<T> {
        self.value(key).and_then(T::from_value)
    }

    /// The payload value named `key`, whatever its type.
    pub fn value(&self, key: &str) -> Option<&Value> {
        lookup(&self.payload, key)
    }
}

/// Whether an event goes on to its later subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// Let later subscribers receive the event.
    #[default]
    Continue,
    /// Stop here: later subscribers do not receive the event.
    Stop,
}
