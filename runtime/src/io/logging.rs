//! Where log lines go — the runtime's and the plugins' (tagged with the
//! plugin's name) — and how much of them: `-v`/`-vv` for more, `--quiet`
//! for errors only, `--log-file` for a file instead of standard error.
//!
//! [`install`] sets precept's `tracing` subscriber for the process;
//! [`configure`] changes its level and destination at any time, e.g. once
//! the command line is parsed. An application with its own subscriber
//! simply does not call `install`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Registry, reload};

use crate::io::in_flight::InFlight;
use crate::io::text::{Clean, MAX_SHOWN_CHARS};

/// How important a plugin's log message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The finest detail.
    Trace,
    /// Detail for debugging.
    Debug,
    /// What happens.
    Info,
    /// Something unexpected.
    Warn,
    /// Something failed.
    Error,
}

/// How much to log and where.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSettings {
    /// How many `-v` were given: 0 is info, 1 debug, 2 or more trace.
    pub verbose: u8,
    /// Errors only.
    pub quiet: bool,
    /// Append log lines to this file instead of standard error.
    pub file: Option<PathBuf>,
}

impl LogSettings {
    fn level(&self) -> LevelFilter {
        match (self.quiet, self.verbose) {
            (true, _) => LevelFilter::ERROR,
            (false, 0) => LevelFilter::INFO,
            (false, 1) => LevelFilter::DEBUG,
            (false, _) => LevelFilter::TRACE,
        }
    }
}

enum Destination {
    Stderr,
    File(Arc<Mutex<File>>),
}

static DESTINATION: RwLock<Destination> = RwLock::new(Destination::Stderr);
static LEVEL: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

/// Installs precept's subscriber: plain lines (`LEVEL message`) to standard
/// error at `info` and above. Does nothing if a subscriber is already set.
pub fn install() {
    let (level, handle) = reload::Layer::new(LevelFilter::INFO);
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(Switch)
        .with_ansi(false)
        .with_target(false)
        .without_time();
    if tracing_subscriber::registry()
        .with(level)
        .with(lines)
        .try_init()
        .is_ok()
    {
        let _ = LEVEL.set(handle);
    }
}

/// Applies `settings` to the subscriber set by [`install`].
pub fn configure(settings: &LogSettings) -> std::io::Result<()> {
    let destination = match &settings.file {
        Some(path) => Destination::File(Arc::new(Mutex::new(open_log(path)?))),
        None => Destination::Stderr,
    };
    *DESTINATION.write().unwrap() = destination;
    if let Some(handle) = LEVEL.get() {
        let _ = handle.modify(|level| *level = settings.level());
    }
    Ok(())
}

fn open_log(path: &Path) -> std::io::Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Writes each line where [`DESTINATION`] says at the time.
struct Switch;

impl<'a> MakeWriter<'a> for Switch {
    type Writer = Box<dyn Write + 'a>;

    fn make_writer(&'a self) -> Self::Writer {
        match &*DESTINATION.read().unwrap() {
            Destination::Stderr => Box::new(std::io::stderr()),
            Destination::File(file) => Box::new(SharedFile(file.clone())),
        }
    }
}

struct SharedFile(Arc<Mutex<File>>);

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap().flush()
    }
}

/// How many plugin log lines may wait for the writer.
const QUEUE_LINES: usize = 1024;

/// A plugin's log line on its way to the writer thread.
struct Line {
    plugin: Arc<str>,
    level: Level,
    message: String,
}

/// The writer thread's queue, and how many lines are in it.
struct Queue {
    lines: SyncSender<Line>,
    waiting: Arc<InFlight>,
}

static QUEUE: OnceLock<Option<Queue>> = OnceLock::new();
static DROPPED: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Whether a plugin's message at `level` would be written at all.
pub(crate) fn enabled(level: Level) -> bool {
    match level {
        Level::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
        Level::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
        Level::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
        Level::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
        Level::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
    }
}

/// Forwards one log message from the plugin `plugin`, as one safe line.
/// This never blocks: the line is queued for a writer thread, and dropped
/// (and counted) when the queue is full.
pub(crate) fn plugin_message(plugin: &Arc<str>, level: Level, message: &str) {
    let line = Line {
        plugin: plugin.clone(),
        level,
        message: Clean::new(message).to_string(),
    };
    let Some(queue) = QUEUE.get_or_init(start_writer) else {
        return write_line(&line);
    };
    queue.waiting.add();
    if queue.lines.try_send(line).is_err() {
        queue.waiting.done();
        dropped(plugin);
    }
}

fn start_writer() -> Option<Queue> {
    let (lines, received) = sync_channel::<Line>(QUEUE_LINES);
    let waiting = Arc::new(InFlight::default());
    let written = waiting.clone();
    std::thread::Builder::new()
        .name("precept-log".into())
        .spawn(move || {
            for line in received {
                write_line(&line);
                written.done();
            }
        })
        .ok()?;
    Some(Queue { lines, waiting })
}

fn write_line(line: &Line) {
    let (plugin, message) = (&line.plugin, &line.message);
    match line.level {
        Level::Trace => tracing::trace!(target: "plugin", "{plugin}: {message}"),
        Level::Debug => tracing::debug!(target: "plugin", "{plugin}: {message}"),
        Level::Info => tracing::info!(target: "plugin", "{plugin}: {message}"),
        Level::Warn => tracing::warn!(target: "plugin", "{plugin}: {message}"),
        Level::Error => tracing::error!(target: "plugin", "{plugin}: {message}"),
    }
}

/// One log message a plugin wrote, as [`PluginLog`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    /// The plugin's name.
    pub plugin: String,
    /// How important it is.
    pub level: Level,
    /// The message, cut at the plugin's line budget.
    pub message: String,
}

/// Where one application's plugins' log messages go: the process's log
/// (above), or kept in memory for a test (`testing::Harness::logged`).
#[derive(Debug, Default)]
pub struct PluginLog {
    capturing: AtomicBool,
    /// The kept messages and the bytes of their text.
    kept: Mutex<(Vec<LogMessage>, usize)>,
}

impl PluginLog {
    /// Keeps plugin log messages, at every level, in memory (their text up
    /// to [`MAX_CAPTURED_BYTES`](crate::io::output::MAX_CAPTURED_BYTES) in all) instead
    /// of logging them, until [`PluginLog::take_captured`] is called.
    pub fn capture(&self) {
        self.capturing.store(true, Ordering::Release);
    }

    /// Whether messages are kept in memory.
    pub fn is_capturing(&self) -> bool {
        self.capturing.load(Ordering::Acquire)
    }

    /// The messages kept since the last call, in order.
    pub fn take_captured(&self) -> Vec<LogMessage> {
        std::mem::take(&mut *self.kept.lock().unwrap()).0
    }

    /// Keeps one message when capturing; whether it did (a message past
    /// the bound is counted as dropped).
    pub(crate) fn keep(&self, plugin: &str, level: Level, message: &str) -> bool {
        if !self.is_capturing() {
            return false;
        }
        let mut kept = self.kept.lock().unwrap();
        let (messages, bytes) = &mut *kept;
        if *bytes + message.len() > crate::io::output::MAX_CAPTURED_BYTES {
            dropped(plugin);
            return true;
        }
        *bytes += message.len();
        messages.push(LogMessage {
            plugin: plugin.to_string(),
            level,
            message: message.to_string(),
        });
        true
    }
}

/// Counts a log line of `plugin` that was dropped.
pub(crate) fn dropped(plugin: &str) {
    *DROPPED
        .lock()
        .unwrap()
        .entry(plugin.to_string())
        .or_default() += 1;
}

/// Waits, for at most `timeout`, until the queued plugin log lines are
/// written; then reports, one line per plugin, how many were dropped.
pub fn flush(timeout: Duration) {
    if let Some(Some(queue)) = QUEUE.get() {
        queue.waiting.wait_idle(timeout);
    }
    let dropped = std::mem::take(&mut *DROPPED.lock().unwrap());
    for (plugin, count) in dropped {
        eprintln!(
            "warning: plugin '{}': {count} log line(s) dropped (more than its rate, or the log could not keep up)",
            Clean::new(&plugin)
        );
    }
}

/// Reports a plugin failure or load error: one line on standard error,
/// whatever the log settings.
pub(crate) fn report(error: &dyn std::fmt::Display) {
    let line = error.to_string();
    // A closed or failing standard error loses the line; it never panics
    // (a report may be made under the fault policy's lock).
    let _ = writeln!(
        std::io::stderr().lock(),
        "error: {}",
        Clean::capped(&line, 4 * MAX_SHOWN_CHARS)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_keeps_messages_in_order_up_to_its_bound() {
        let log = PluginLog::default();
        assert!(!log.keep("p", Level::Info, "not captured"));
        log.capture();
        assert!(log.keep("p", Level::Warn, "first"));
        assert!(log.keep("p", Level::Trace, "second"));
        let messages: Vec<_> = log.take_captured().into_iter().map(|m| m.message).collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(log.take_captured().is_empty());

        let line = "x".repeat(1 << 20);
        for _ in 0..(crate::io::output::MAX_CAPTURED_BYTES >> 20) + 4 {
            assert!(log.keep("p", Level::Info, &line));
        }
        let kept = log.take_captured();
        assert_eq!(kept.len(), crate::io::output::MAX_CAPTURED_BYTES >> 20);
    }
}
