//! What a plugin asks of the dispatcher (subscribe, unsubscribe, dispatch,
//! timers, and in `setup` commands, services and keys), and how much of it
//! may wait at once. One call may leave [`MAX_REQUESTS_PER_CALL`] requests,
//! [`MAX_DISPATCHES_PER_CALL`] dispatches and the plugin's pending bytes (a
//! running command: have that much waiting). Every request is also counted
//! against its plugin from the moment it is made until it has been carried
//! out — across nested dispatches, timers and a running command alike —
//! and all of a plugin's waiting requests together are bounded at
//! [`PLUGIN_FACTOR`] times one call's: what the host holds for one plugin's
//! requests stays within one bound, and another plugin that re-enters it
//! through nested dispatches must nest it that many times over before its
//! calls are refused.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::host::timers::Timer;
use crate::model::command_spec::{ArgSpec, CommandSpec};
use crate::model::config::ConfigKey;
use crate::model::value::{Payload, payload_size, value_size};
use crate::trust::sandbox::LimitExceeded;

/// How many events one call into a plugin may dispatch (for a command: how
/// many may wait for delivery at once).
pub const MAX_DISPATCHES_PER_CALL: usize = 1024;

/// How many requests of any kind one call may leave for the dispatcher
/// (for a command: how many may wait at once).
pub const MAX_REQUESTS_PER_CALL: usize = 4096;

/// What one request costs besides what it carries (names, payloads,
/// descriptions): at least what the host keeps for it.
pub const REQUEST_BYTES: usize = 128;

/// How many times one call's bounds all of a plugin's waiting requests
/// may take together.
pub(crate) const PLUGIN_FACTOR: usize = 4;

/// How much may wait: requests, dispatches among them, bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Requests of every kind.
    pub(crate) requests: usize,
    /// Dispatches.
    pub(crate) dispatches: usize,
    /// Bytes, as [`HostOp::cost`] counts them.
    pub(crate) bytes: usize,
}

impl Bounds {
    /// One call's bounds, with `bytes` of requests.
    pub(crate) fn per_call(bytes: usize) -> Bounds {
        Bounds {
            requests: MAX_REQUESTS_PER_CALL,
            dispatches: MAX_DISPATCHES_PER_CALL,
            bytes,
        }
    }

    /// These bounds `factor` times over.
    pub(crate) fn times(self, factor: usize) -> Bounds {
        Bounds {
            requests: self.requests * factor,
            dispatches: self.dispatches * factor,
            bytes: self.bytes.saturating_mul(factor),
        }
    }
}

/// What waits: requests, dispatches among them, bytes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Waiting {
    requests: usize,
    dispatches: usize,
    bytes: usize,
}

impl Waiting {
    /// What waits with a request of `weight` added, if it stays within
    /// `bounds`.
    pub(crate) fn with(self, weight: Weight, bounds: Bounds) -> Result<Waiting, LimitExceeded> {
        let requests = self.requests + 1;
        LimitExceeded::check("requests waiting", requests, bounds.requests)?;
        let dispatches = self.dispatches + usize::from(weight.dispatch);
        if dispatches > bounds.dispatches {
            return Err(LimitExceeded::Dispatches(bounds.dispatches));
        }
        let bytes = self.bytes + weight.bytes;
        LimitExceeded::check("bytes of requests waiting", bytes, bounds.bytes)?;
        Ok(Waiting {
            requests,
            dispatches,
            bytes,
        })
    }
}

/// A request a plugin made of the dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HostOp {
    /// Subscribe the plugin to an event name.
    Subscribe(String),
    /// Unsubscribe the plugin from an event name.
    Unsubscribe(String),
    /// Dispatch an event.
    Dispatch(String, Payload),
    /// Add a command (allowed during setup only).
    AddCommand(CommandSpec),
    /// Declare a service, optionally for one command (setup only).
    AddService(String, Option<String>),
    /// Declare a configuration key (setup only).
    DeclareConfig(ConfigKey),
    /// Start a timer the plugin booked.
    SetTimer(Timer),
    /// A request allowed during setup only (`add-command`, `add-service`,
    /// `declare`), made later: reported, and nothing of it kept but the
    /// name.
    SetupOnly(&'static str, String),
}

impl HostOp {
    /// The bytes the host holds for this request while it waits:
    /// [`REQUEST_BYTES`] and what it carries.
    pub(crate) fn cost(&self) -> usize {
        REQUEST_BYTES
            + match self {
                HostOp::Subscribe(name) | HostOp::Unsubscribe(name) => name.len(),
                HostOp::Dispatch(name, payload) => name.len() + payload_size(payload),
                HostOp::AddCommand(spec) => command_bytes(spec),
                HostOp::AddService(name, command) => {
                    name.len() + command.as_ref().map_or(0, String::len)
                }
                HostOp::DeclareConfig(key) => key_bytes(key),
                HostOp::SetTimer(timer) => timer.event.len() + payload_size(&timer.payload),
                HostOp::SetupOnly(_, name) => name.len(),
            }
    }

    /// What it counts for: one request, a dispatch or not, of its cost.
    pub(crate) fn weight(&self) -> Weight {
        Weight {
            dispatch: matches!(self, HostOp::Dispatch(..)),
            bytes: self.cost(),
        }
    }
}

/// The bytes of a command description: each argument as the host keeps
/// it, and every name, help and default.
pub(crate) fn command_bytes(spec: &CommandSpec) -> usize {
    let arg = |a: &ArgSpec| {
        std::mem::size_of::<ArgSpec>()
            + a.name.len()
            + a.help.len()
            + a.default.as_ref().map_or(0, String::len)
    };
    spec.name.len() + spec.help.len() + spec.args.iter().map(arg).sum::<usize>()
}

/// The bytes a declared configuration key holds: its name, help and
/// default.
pub(crate) fn key_bytes(key: &ConfigKey) -> usize {
    key.key.len() + key.help.len() + value_size(&key.default)
}

/// What one request counts for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weight {
    dispatch: bool,
    bytes: usize,
}

/// One plugin's requests that wait to be carried out: shared by its store
/// (which counts them in) and whatever carries them out (which counts
/// them out).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    requests: AtomicUsize,
    dispatches: AtomicUsize,
    bytes: AtomicUsize,
}

impl Pending {
    /// Counts a request of `weight` in, if the plugin's waiting requests
    /// stay within `bounds`; the guard counts it out when dropped. (Only
    /// the plugin's own call counts in, one at a time; anyone may count
    /// out.)
    pub(crate) fn admit(
        self: &Arc<Self>,
        weight: Weight,
        bounds: Bounds,
    ) -> Result<Counted, LimitExceeded> {
        let now = Waiting {
            requests: self.requests.load(Ordering::Acquire),
            dispatches: self.dispatches.load(Ordering::Acquire),
            bytes: self.bytes.load(Ordering::Acquire),
        };
        now.with(weight, bounds)?;
        self.requests.fetch_add(1, Ordering::AcqRel);
        self.dispatches
            .fetch_add(usize::from(weight.dispatch), Ordering::AcqRel);
        self.bytes.fetch_add(weight.bytes, Ordering::AcqRel);
        Ok(Counted {
            weight,
            pending: self.clone(),
        })
    }

    fn release(&self, weight: Weight) {
        self.requests.fetch_sub(1, Ordering::AcqRel);
        self.dispatches
            .fetch_sub(usize::from(weight.dispatch), Ordering::AcqRel);
        self.bytes.fetch_sub(weight.bytes, Ordering::AcqRel);
    }
}

/// One request counted against its plugin; counted out when dropped.
#[derive(Debug)]
pub(crate) struct Counted {
    weight: Weight,
    pending: Arc<Pending>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.pending.release(self.weight);
    }
}

/// Requests in the order they were made, each counted against its plugin
/// until it is taken and carried out (or dropped with the rest).
#[derive(Debug, Default)]
pub(crate) struct Requests {
    ops: VecDeque<(HostOp, Counted)>,
    /// The flag of the instance that made them, when one call made them
    /// all: none is carried out once that instance is disabled or
    /// replaced.
    by: Option<Arc<AtomicBool>>,
}

impl Requests {
    /// The same requests, made by the instance whose flag is `disabled`.
    pub(crate) fn made_by(mut self, disabled: Arc<AtomicBool>) -> Self {
        self.by = Some(disabled);
        self
    }

    /// Whether the instance that made them is disabled or replaced.
    pub(crate) fn maker_is_gone(&self) -> bool {
        self.by
            .as_ref()
            .is_some_and(|disabled| disabled.load(Ordering::Acquire))
    }

    /// Adds a counted request at the end.
    pub(crate) fn push(&mut self, op: HostOp, counted: Counted) {
        self.ops.push_back((op, counted));
    }

    /// Takes the first request; it stays counted until the guard returned
    /// with it is dropped, once it has been carried out.
    pub(crate) fn next(&mut self) -> Option<(HostOp, Counted)> {
        self.ops.pop_front()
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The requests, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &HostOp> {
        self.ops.iter().map(|(op, _)| op)
    }

    /// The event names these requests leave subscribed, applied in order.
    pub(crate) fn subscribed(&self) -> std::collections::HashSet<&str> {
        let mut subscribed = std::collections::HashSet::new();
        for request in self.iter() {
            match request {
                HostOp::Subscribe(name) => subscribed.insert(name.as_str()),
                HostOp::Unsubscribe(name) => subscribed.remove(name.as_str()),
                _ => false,
            };
        }
        subscribed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_costs_at_least_what_the_host_keeps_for_it() {
        assert!(std::mem::size_of::<(HostOp, Counted)>() <= REQUEST_BYTES);
    }

    #[test]
    fn requests_are_counted_until_carried_out_or_dropped() {
        let pending = Arc::new(Pending::default());
        let op = HostOp::Subscribe("x".into());
        let bounds = Bounds::per_call(usize::MAX);
        let mut requests = Requests::default();
        for _ in 0..MAX_REQUESTS_PER_CALL {
            let counted = pending.admit(op.weight(), bounds).unwrap();
            requests.push(op.clone(), counted);
        }
        assert!(pending.admit(op.weight(), bounds).is_err());
        let (_, counted) = requests.next().unwrap();
        assert!(pending.admit(op.weight(), bounds).is_err());
        drop(counted);
        let again = pending.admit(op.weight(), bounds).unwrap();
        drop((again, requests));
        assert_eq!(pending.requests.load(Ordering::Acquire), 0);
        assert_eq!(pending.bytes.load(Ordering::Acquire), 0);
        assert!(
            pending
                .admit(op.weight(), Bounds::per_call(REQUEST_BYTES))
                .is_err()
        );
        assert!(
            pending
                .admit(op.weight(), Bounds::per_call(REQUEST_BYTES + 1))
                .is_ok()
        );
    }
}
