//! Where log lines go — the runtime's and the plugins' (tagged with the
//! plugin's name) — and how much of them: `-v`/`-vv` for more, `--quiet`
//! for errors only, `--log-file` for a file instead of standard error.
//!
//! [`install`] sets precept's `tracing` subscriber for the process;
//! [`configure`] changes its level and destination at any time, e.g. once
//! the command line is parsed. An application with its own subscriber
//! simply does not call `install`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Registry, reload};

use crate::wit::precept::plugin::log::Level;

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

/// Forwards one log message from the plugin `plugin`.
pub(crate) fn plugin_message(plugin: &str, level: Level, message: &str) {
    match level {
        Level::Trace => tracing::trace!(target: "plugin", "{plugin}: {message}"),
        Level::Debug => tracing::debug!(target: "plugin", "{plugin}: {message}"),
        Level::Info => tracing::info!(target: "plugin", "{plugin}: {message}"),
        Level::Warn => tracing::warn!(target: "plugin", "{plugin}: {message}"),
        Level::Error => tracing::error!(target: "plugin", "{plugin}: {message}"),
    }
}

/// Reports a plugin failure or load error: one line on standard error,
/// whatever the log settings.
pub(crate) fn report(error: &dyn std::fmt::Display) {
    eprintln!("error: {error}");
}
