//! A count of work handed to a writer thread and not yet done, which
//! another thread can wait to see reach zero (e.g. before the process ends)
//! without polling. Counting stays lock-free; only the last `done` takes a
//! lock, to wake who waits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Work in flight: counted up when handed over, down when done.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    count: AtomicUsize,
    lock: Mutex<()>,
    idle: Condvar,
}

impl InFlight {
    /// One more piece of work is handed over.
    pub(crate) fn add(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    /// One piece of work is done (or was never handed over after all).
    pub(crate) fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Under the lock, so a waiter between its check and its wait
            // cannot miss this.
            let _held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.idle.notify_all();
        }
    }

    /// How much work is in flight.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits, for at most `timeout`, until no work is in flight; whether
    /// none is.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let waited = self
            .idle
            .wait_timeout_while(held, timeout, |_| self.count() > 0);
        drop(waited.unwrap_or_else(PoisonError::into_inner));
        self.count() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::InFlight;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_waiter_wakes_when_the_last_work_is_done() {
        let in_flight = Arc::new(InFlight::default());
        in_flight.add();
        in_flight.add();
        let worker = in_flight.clone();
        let done = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            worker.done();
            worker.done();
        });
        let started = Instant::now();
        assert!(in_flight.wait_idle(Duration::from_secs(10)));
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert!(started.elapsed() < Duration::from_secs(5));
        done.join().unwrap();
    }

    #[test]
    fn a_waiter_gives_up_after_its_timeout() {
        let in_flight = InFlight::default();
        in_flight.add();
        let started = Instant::now();
        assert!(!in_flight.wait_idle(Duration::from_millis(30)));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert_eq!(in_flight.count(), 1);
    }

    #[test]
    fn nothing_in_flight_returns_at_once() {
        let in_flight = InFlight::default();
        in_flight.add();
        in_flight.done();
        assert!(in_flight.wait_idle(Duration::ZERO));
    }
}
