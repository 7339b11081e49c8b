//! Plugin timers: an event dispatched once after a delay, or again and
//! again at an interval, each firing a dispatch of its own to every
//! subscriber. A plugin has a bounded number of timers and a bounded
//! payload held for them; an interval is never shorter than
//! [`MIN_INTERVAL`]; a timer of a disabled plugin fires no more; and the
//! application closes every timer before `cli_stopped`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::model::value::Payload;

/// How many timers one plugin may have at once.
pub const MAX_TIMERS: usize = 16;

/// The shortest delay or interval; shorter ones are made this long.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// One timer a plugin set, waiting to be started by the dispatcher.
#[derive(Debug, Clone)]
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
    /// The book of the instance that set it.
    pub(crate) book: Arc<TimerBook>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Timer) -> bool {
        (self.id, self.delay, self.every) == (other.id, other.delay, other.every)
            && (&self.event, &self.payload) == (&other.event, &other.payload)
            && Arc::ptr_eq(&self.book, &other.book)
    }
}

/// A plugin's timers that hold host resources: their ids, the payload
/// bytes they hold, and whether they were cancelled. Shared by the
/// plugin's store and its timers' tasks, so that a cancel takes effect at
/// once. A cancelled timer still counts until its task (or the request to
/// start it) is gone, so setting and cancelling in a loop holds no more
/// than the bound.
#[derive(Debug, Default)]
pub(crate) struct TimerBook {
    held: Mutex<HashMap<u64, Held>>,
    next_id: AtomicU64,
    /// Whether its instance is gone: every timer of it ends at once.
    ended: AtomicBool,
    end: Notify,
}

/// What one timer holds.
#[derive(Debug, Clone, Copy)]
struct Held {
    bytes: usize,
    cancelled: bool,
}

impl TimerBook {
    /// Books a timer holding `bytes` of payload; its id, or why not.
    pub(crate) fn book(&self, bytes: usize, byte_limit: usize) -> Result<u64, String> {
        let mut held = self.held.lock().unwrap();
        if held.len() >= MAX_TIMERS {
            return Err(format!(
                "this plugin already has {MAX_TIMERS} timers, as many as it may"
            ));
        }
        let bytes_held: usize = held.values().map(|h| h.bytes).sum();
        if bytes_held + bytes > byte_limit {
            return Err(format!(
                "timers would hold {} bytes of payload; the limit is {byte_limit}",
                bytes_held + bytes
            ));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let cancelled = false;
        held.insert(id, Held { bytes, cancelled });
        Ok(id)
    }

    /// Cancels the timer `id`: it fires no more.
    pub(crate) fn cancel(&self, id: u64) {
        if let Some(held) = self.held.lock().unwrap().get_mut(&id) {
            held.cancelled = true;
        }
    }

    /// Whether the timer `id` may still fire.
    pub(crate) fn is_live(&self, id: u64) -> bool {
        if self.ended.load(Ordering::Acquire) {
            return false;
        }
        let held = self.held.lock().unwrap();
        held.get(&id).is_some_and(|h| !h.cancelled)
    }

    /// Ends every timer of the book: its instance is disabled or replaced.
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.end.notify_waiters();
    }

    /// Waits until the book is ended (returns at once if it was).
    pub(crate) async fn ended(&self) {
        let notified = self.end.notified();
        if !self.ended.load(Ordering::Acquire) {
            notified.await;
        }
    }

    /// Forgets the timer `id`, whose task is gone.
    pub(crate) fn release(&self, id: u64) {
        self.held.lock().unwrap().remove(&id);
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
        // A cancelled timer fires no more, and counts until it is released.
        book.cancel(ids[0]);
        assert!(!book.is_live(ids[0]));
        assert!(book.is_live(ids[1]));
        assert!(book.book(10, 1000).is_err());
        book.release(ids[0]);
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
