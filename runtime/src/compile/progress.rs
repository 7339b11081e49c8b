//! What a person at a terminal sees while plugins compile: after half a
//! second, a spinner line saying what compiles, and when it is done, one
//! line saying how long it took. Nothing when standard error is not a
//! terminal, and nothing for a load that is quicker.

use std::future::Future;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How long compiling goes unannounced.
const QUIET_FOR: Duration = Duration::from_millis(500);

/// Runs `work`, which compiles `what` (e.g. `python.wasm (17.8 MiB)`),
/// with a spinner on a terminal once it takes longer than [`QUIET_FOR`];
/// `then` ends the line left when it is done (e.g. `cached for next
/// time`).
pub(crate) async fn while_compiling<T>(what: &str, then: &str, work: impl Future<Output = T>) -> T {
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    let started = Instant::now();
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => return done,
        () = tokio::time::sleep(QUIET_FOR) => {}
    }
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        spinner.set_style(style);
    }
    spinner.set_message(format!("compiling {what}…"));
    spinner.enable_steady_tick(Duration::from_millis(100));
    let done = work.await;
    spinner.finish_and_clear();
    let took = started.elapsed().as_secs_f64();
    eprintln!("compiled {what} in {took:.1} s{then}");
    done
}
