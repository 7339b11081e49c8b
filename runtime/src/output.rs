//! Plugin standard output and standard error: bounded, asynchronous pipes
//! drained by one writer thread. A plugin that writes waits (asynchronously,
//! so its clock bound and Ctrl-C still apply) only when its own pipe is
//! full; a stalled reader never blocks the executor. A flush waits until
//! the plugin's bytes are written, so a plugin's lines keep their order
//! with the host's.
//!
//! While the application writes machine-readable output (`dump-config`,
//! `inspect --json`, `completions`), plugin standard output is sent to
//! standard error instead ([`PluginStdout`]), so it never mixes in.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use tokio::sync::Notify;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// How many bytes of one plugin's output may wait for the writer.
pub const PIPE_BYTES: usize = 64 << 10;

/// Where plugin standard output goes: standard output (the default) or, while
/// the application writes machine-readable output, standard error. Cloning
/// gives another handle to the same switch.
#[derive(Debug, Clone, Default)]
pub struct PluginStdout(Arc<AtomicBool>);

impl PluginStdout {
    /// Sends plugin standard output to standard error (`true`) or back to
    /// standard output.
    pub fn to_stderr(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }

    /// Whether plugin standard output goes to standard error.
    pub fn is_stderr(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Which of the host's streams a pipe writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Stdout,
    Stderr,
}

/// One plugin stream: what waits in it and who waits for room.
#[derive(Debug, Default)]
struct Pipe {
    queued: AtomicUsize,
    room: Notify,
}

/// The process's writer: chunks of every pipe, in the order written.
struct Writer {
    chunks: Mutex<VecDeque<(Arc<Pipe>, Target, Bytes)>>,
    ready: Condvar,
}

fn writer() -> &'static Writer {
    static WRITER: OnceLock<&'static Writer> = OnceLock::new();
    WRITER.get_or_init(|| {
        let writer: &'static Writer = Box::leak(Box::new(Writer {
            chunks: Mutex::default(),
            ready: Condvar::new(),
        }));
        let spawned = std::thread::Builder::new()
            .name("precept-output".into())
            .spawn(move || writer.run());
        if spawned.is_err() {
            tracing::warn!("cannot start the plugin output thread; plugin output is lost");
        }
        writer
    })
}

impl Writer {
    fn run(&self) {
        loop {
            let (pipe, target, bytes) = {
                let mut chunks = self.chunks.lock().unwrap();
                loop {
                    if let Some(chunk) = chunks.pop_front() {
                        break chunk;
                    }
                    chunks = self.ready.wait(chunks).unwrap();
                }
            };
            // A closed or broken stream loses the output, never the host.
            let _ = match target {
                Target::Stdout => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes).and_then(|()| out.flush())
                }
                Target::Stderr => std::io::stderr().lock().write_all(&bytes),
            };
            pipe.queued.fetch_sub(bytes.len(), Ordering::AcqRel);
            pipe.room.notify_waiters();
        }
    }

    fn push(&self, pipe: &Arc<Pipe>, target: Target, bytes: Bytes) {
        pipe.queued.fetch_add(bytes.len(), Ordering::AcqRel);
        self.chunks
            .lock()
            .unwrap()
            .push_back((pipe.clone(), target, bytes));
        self.ready.notify_one();
    }
}

/// A plugin's standard output or standard error, as WASI sees it.
#[derive(Clone)]
pub(crate) struct PluginStream {
    pipe: Arc<Pipe>,
    stdout: Option<PluginStdout>,
}

impl PluginStream {
    /// The plugin's standard output, routed by `route`.
    pub(crate) fn stdout(route: PluginStdout) -> Self {
        PluginStream {
            pipe: Arc::default(),
            stdout: Some(route),
        }
    }

    /// The plugin's standard error.
    pub(crate) fn stderr() -> Self {
        PluginStream {
            pipe: Arc::default(),
            stdout: None,
        }
    }

    fn target(&self) -> Target {
        match &self.stdout {
            Some(route) if !route.is_stderr() => Target::Stdout,
            _ => Target::Stderr,
        }
    }

    fn terminal(&self) -> bool {
        match self.target() {
            Target::Stdout => std::io::IsTerminal::is_terminal(&std::io::stdout()),
            Target::Stderr => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

impl IsTerminal for PluginStream {
    fn is_terminal(&self) -> bool {
        self.terminal()
    }
}

impl StdoutStream for PluginStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(Stream {
            pipe: self.pipe.clone(),
            stream: self.clone(),
            flushing: false,
        })
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        // precept links WASI 0.2 only; 0.3 streams are never asked for.
        Box::new(tokio::io::sink())
    }
}

/// One open handle on a plugin stream.
struct Stream {
    pipe: Arc<Pipe>,
    stream: PluginStream,
    flushing: bool,
}

impl OutputStream for Stream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if bytes.len() > self.room() {
            return Err(StreamError::Trap(wasmtime::format_err!(
                "wrote more than check-write allowed"
            )));
        }
        if !bytes.is_empty() {
            writer().push(&self.pipe, self.stream.target(), bytes);
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.flushing = true;
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        if self.flushing && self.pipe.queued.load(Ordering::Acquire) > 0 {
            return Ok(0);
        }
        self.flushing = false;
        Ok(self.room())
    }
}

impl Stream {
    fn room(&self) -> usize {
        PIPE_BYTES.saturating_sub(self.pipe.queued.load(Ordering::Acquire))
    }
}

#[async_trait::async_trait]
impl Pollable for Stream {
    /// Ready when the flushed bytes are written, or there is room.
    async fn ready(&mut self) {
        loop {
            let room = self.pipe.room.notified();
            let queued = self.pipe.queued.load(Ordering::Acquire);
            let done = if self.flushing {
                queued == 0
            } else {
                queued < PIPE_BYTES
            };
            if done {
                self.flushing = false;
                return;
            }
            room.await;
        }
    }
}

/// Writes the host's own output to standard output; a closed or broken
/// stream (e.g. `| head -1`) is not an error worth a panic.
pub fn print(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}
