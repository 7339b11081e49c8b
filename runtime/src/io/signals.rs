//! Ctrl-C and SIGTERM while the application runs, and released when it
//! does not: the handler a listener installs stays in the process, so
//! outside a run a signal ends the process as it would without precept.

#[cfg(unix)]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many listeners exist: while none does, SIGINT and SIGTERM take their
/// default action.
#[cfg(unix)]
static LISTENING: AtomicUsize = AtomicUsize::new(0);

/// How many SIGINT and SIGTERM the process has received since a run
/// first listened for them, counted by the signal handler itself: a wait
/// or a synchronous call that holds a run's task sees a signal that came
/// before it began, or while no task could look.
static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// The number of signals received so far; a call notes it when it starts
/// and stops when it changes (see `host::synchronous`).
pub(crate) fn received() -> u64 {
    RECEIVED.load(Ordering::Acquire)
}

/// Listens for SIGINT and SIGTERM from when it is created.
pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening; `None` if the handlers cannot be installed.
    pub(crate) fn listen() -> Option<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            release_when_idle();
            let signals = Signals {
                interrupt: signal(SignalKind::interrupt()).ok()?,
                terminate: signal(SignalKind::terminate()).ok()?,
            };
            LISTENING.fetch_add(1, Ordering::SeqCst);
            Some(signals)
        }
        #[cfg(not(unix))]
        {
            Some(Signals {})
        }
    }

    /// Waits for the next signal and names it.
    pub(crate) async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }

    /// From now on, the next signal ends the process at once with code 130.
    pub(crate) fn exit_on_next(mut self) {
        tokio::spawn(async move {
            self.next().await;
            std::process::exit(130);
        });
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        #[cfg(unix)]
        LISTENING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Installs, once per process, the action that gives SIGINT and SIGTERM
/// their default effect (ending the process) while nothing listens.
#[cfg(unix)]
fn release_when_idle() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let idle_default = move || {
                RECEIVED.fetch_add(1, Ordering::AcqRel);
                if LISTENING.load(Ordering::SeqCst) == 0 {
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                }
            };
            // SAFETY: the action only updates atomics and calls
            // `emulate_default_handler`, all async-signal-safe.
            if let Err(error) = unsafe { signal_hook::low_level::register(signal, idle_default) } {
                tracing::debug!("cannot release signal {signal} after runs: {error}");
            }
        }
    });
}

/// Waits for the next signal of `signals`, or forever without them.
pub(crate) async fn next(signals: &mut Option<Signals>) -> &'static str {
    match signals {
        Some(signals) => signals.next().await,
        None => std::future::pending().await,
    }
}
