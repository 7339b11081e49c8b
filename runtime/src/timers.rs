//! Plugin timers: an event dispatched once after a delay, or again and
//! again at an interval, each firing a dispatch of its own to every
//! subscriber. A plugin has a bounded number of timers and a bounded
//! payload held for them; an interval is never shorter than
//! [`MIN_INTERVAL`]; a timer of a disabled plugin fires no more; and the
//! application closes every timer before `cli_stopped`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::value::Payload;

/// How many timers one plugin may have at once.
pub const MAX_TIMERS: usize = 16;

/// The shortest delay or interval; shorter ones are made this long.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// One timer a plugin set, waiting to be started by the dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timer {
    /// Its id, unique within the plugin.
    pub(crate) id: u64,
    /// How long until it first fires.
    pub(crate) delay: Duration,
    /// How often it fires after that; `None` for once.
    pub(crate) every: Option<Duration>,
    /// The event it dispatches.
    pub(crate) event: String,
    /// The payload it dispatches.
    pub(crate) payload: Payload,
}

/// A plugin's timers that have not ended: their ids and the payload bytes
/// they hold. Shared by the plugin's store and its timers' tasks, so that
/// a cancel takes effect at once.
#[derive(Debug, Default)]
pub(crate) struct TimerBook {
    live: Mutex<HashMap<u64, usize>>,
    next_id: AtomicU64,
}

impl TimerBook {
    /// Books a timer holding `bytes` of payload; its id, or why not.
    pub(crate) fn book(&self, bytes: usize, byte_limit: usize) -> Result<u64, String> {
        let mut live = self.live.lock().unwrap();
        if live.len() >= MAX_TIMERS {
            return Err(format!(
                "this plugin already has {MAX_TIMERS} timers, as many as it may"
            ));
        }
        let held: usize = live.values().sum();
        if held + bytes > byte_limit {
            return Err(format!(
                "timers would hold {} bytes of payload; the limit is {byte_limit}",
                held + bytes
            ));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        live.insert(id, bytes);
        Ok(id)
    }

    /// Ends the timer `id`; whether it was live.
    pub(crate) fn end(&self, id: u64) -> bool {
        self.live.lock().unwrap().remove(&id).is_some()
    }

    /// Whether the timer `id` has not ended.
    pub(crate) fn is_live(&self, id: u64) -> bool {
        self.live.lock().unwrap().contains_key(&id)
    }
}

/// `ms` as a delay, never shorter than [`MIN_INTERVAL`].
pub(crate) fn delay(ms: u32) -> Duration {
    Duration::from_millis(ms.into()).max(MIN_INTERVAL)
}

/// The timers' tasks of one application, and the signal that closes them.
pub(crate) struct Timers {
    closed: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            closed: watch::Sender::new(false),
            tasks: Mutex::default(),
        }
    }
}

impl Timers {
    /// Whether the timers were closed; new ones are not started then.
    pub(crate) fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// A receiver that changes when the timers are closed.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Keeps `task` to wait for at closing; forgets the finished ones.
    pub(crate) fn keep(&self, task: JoinHandle<()>) {
        let mut tasks = self.tasks.lock().unwrap();
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Closes every timer: none fires after this returns. A dispatch a
    /// timer has begun is finished first (it is bounded like any other).
    pub(crate) async fn close(&self) {
        self.closed.send_replace(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
        for task in tasks {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugins_timers_are_bounded_in_number_and_bytes() {
        let book = TimerBook::default();
        let ids: Vec<u64> = (0..MAX_TIMERS)
            .map(|_| book.book(10, 1000).unwrap())
            .collect();
        assert!(
            book.book(10, 1000)
                .unwrap_err()
                .contains("as many as it may")
        );
        assert!(book.end(ids[0]));
        assert!(!book.end(ids[0]));
        assert!(!book.is_live(ids[0]));
        assert!(book.is_live(ids[1]));
        let error = book.book(900, 1000).unwrap_err();
        assert!(error.contains("the limit is 1000"), "{error}");
        assert!(book.book(10, 1000).is_ok());
    }

    #[test]
    fn delays_are_never_shorter_than_the_minimum() {
        assert_eq!(delay(0), MIN_INTERVAL);
        assert_eq!(delay(250), Duration::from_millis(250));
    }
}
