//! Plugin standard output and standard error: bounded, asynchronous pipes
//! drained by one writer thread. A plugin that writes waits only when its
//! own pipe is full: asynchronously, or, called synchronously, in
//! `block_in_place` (`host::synchronous`); either way its clock bound and
//! Ctrl-C still apply, and a stalled reader never blocks the executor. The host's own output
//! ([`print()`]) goes through the same writer, so everything keeps the order
//! in which it was written.
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

use crate::io::in_flight::InFlight;

/// How many bytes of one plugin's output may wait for the writer.
pub const PIPE_BYTES: usize = 64 << 10;

/// The most plugin output one capture keeps; more is dropped.
pub const MAX_CAPTURED_BYTES: usize = 16 << 20;

/// Where plugin standard output goes: standard output (the default) or,
/// while the application writes machine-readable output, standard error;
/// or, for a test, into memory. Cloning gives another handle to the same
/// switch.
#[derive(Debug, Clone, Default)]
pub struct PluginStdout {
    stderr: Arc<AtomicBool>,
    capturing: Arc<AtomicBool>,
    captured: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl PluginStdout {
    /// Sends plugin standard output to standard error (`true`) or back to
    /// standard output.
    pub fn to_stderr(&self, on: bool) {
        self.stderr.store(on, Ordering::Release);
    }

    /// Whether plugin standard output goes to standard error.
    pub fn is_stderr(&self) -> bool {
        self.stderr.load(Ordering::Acquire)
    }

    /// Keeps plugin standard output in memory (up to
    /// [`MAX_CAPTURED_BYTES`]) instead of writing it, until
    /// [`PluginStdout::take_captured`] is called.
    pub fn capture(&self) {
        self.capturing.store(true, Ordering::Release);
    }

    /// What was captured since the last call; empty when not capturing.
    pub fn take_captured(&self) -> Vec<u8> {
        std::mem::take(&mut *self.captured.lock().unwrap())
    }

    /// Keeps `bytes` when capturing; whether it did. Without a capture
    /// (every run but a test's) no lock is taken.
    fn keep(&self, bytes: &[u8]) -> bool {
        if !self.capturing.load(Ordering::Acquire) {
            return false;
        }
        let mut kept = self.captured.lock().unwrap();
        let room = MAX_CAPTURED_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        true
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
    /// Chunks pushed and not yet written.
    pending: InFlight,
}

fn writer() -> &'static Writer {
    static WRITER: OnceLock<&'static Writer> = OnceLock::new();
    WRITER.get_or_init(|| {
        let writer: &'static Writer = Box::leak(Box::new(Writer {
            chunks: Mutex::default(),
            ready: Condvar::new(),
            pending: InFlight::default(),
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
        let mut stdout = LineState::default();
        let mut stderr = LineState::default();
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
                    let bytes = stdout.next(&pipe, &bytes);
                    out.write_all(&bytes).and_then(|()| out.flush())
                }
                Target::Stderr => std::io::stderr()
                    .lock()
                    .write_all(&stderr.next(&pipe, &bytes)),
            };
            pipe.queued.fetch_sub(bytes.len(), Ordering::AcqRel);
            self.pending.done();
            pipe.room.notify_waiters();
        }
    }

    fn push(&self, pipe: &Arc<Pipe>, target: Target, bytes: Bytes) {
        pipe.queued.fetch_add(bytes.len(), Ordering::AcqRel);
        self.pending.add();
        self.chunks
            .lock()
            .unwrap()
            .push_back((pipe.clone(), target, bytes));
        self.ready.notify_one();
    }
}

/// Where one host stream is: which pipe wrote to it last, and whether that
/// left it in the middle of a line.
#[derive(Default)]
struct LineState {
    last: Option<Arc<Pipe>>,
    mid_line: bool,
}

impl LineState {
    /// The bytes to write for `chunk` of `pipe`: when another pipe left the
    /// stream in the middle of a line, the chunk starts on a line of its
    /// own, so no stream's line is ever glued to another's.
    fn next<'a>(&mut self, pipe: &Arc<Pipe>, chunk: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let other = !self
            .last
            .as_ref()
            .is_some_and(|last| Arc::ptr_eq(last, pipe));
        let bytes = if other && self.mid_line && !chunk.is_empty() {
            std::borrow::Cow::Owned([b"\n", chunk].concat())
        } else {
            std::borrow::Cow::Borrowed(chunk)
        };
        if let Some(&end) = chunk.last() {
            self.mid_line = end != b'\n';
            self.last = Some(pipe.clone());
        }
        bytes
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
}

impl OutputStream for Stream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if bytes.len() > self.room() {
            return Err(StreamError::Trap(wasmtime::format_err!(
                "wrote more than check-write allowed"
            )));
        }
        let captured = self.stream.stdout.as_ref().is_some_and(|s| s.keep(&bytes));
        if !bytes.is_empty() && !captured {
            writer().push(&self.pipe, self.stream.target(), bytes);
        }
        Ok(())
    }

    /// Queued bytes are written in order by the writer thread; a flush
    /// does not wait for them, so a plugin is never held by a slow reader
    /// unless its pipe is full.
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
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
    /// Ready when the pipe has room.
    async fn ready(&mut self) {
        loop {
            let room = self.pipe.room.notified();
            if self.pipe.queued.load(Ordering::Acquire) < PIPE_BYTES {
                return;
            }
            room.await;
        }
    }
}

/// Writes the host's own output to standard output, after what plugins
/// wrote before it, and waits (up to a few seconds) until it is written. A
/// closed or broken stream (e.g. `| head -1`) is not an error worth a panic.
pub fn print(bytes: &[u8]) {
    let pipe = Arc::new(Pipe::default());
    writer().push(&pipe, Target::Stdout, Bytes::copy_from_slice(bytes));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pipe.queued.load(Ordering::Acquire) > 0 && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

/// Waits, for at most `timeout`, until everything plugins and the host
/// wrote is written; e.g. before the process ends.
pub fn drain(timeout: std::time::Duration) {
    writer().pending.wait_idle(timeout);
}

#[cfg(test)]
mod tests {
    #[test]
    fn captured_output_is_kept_in_order_and_bounded() {
        let stdout = super::PluginStdout::default();
        assert!(!stdout.keep(b"not captured"));
        stdout.capture();
        assert!(stdout.keep(b"one "));
        assert!(stdout.keep(b"two"));
        assert_eq!(stdout.take_captured(), b"one two");
        assert!(stdout.take_captured().is_empty());
        let big = vec![b'x'; super::MAX_CAPTURED_BYTES + 10];
        assert!(stdout.keep(&big));
        assert_eq!(stdout.take_captured().len(), super::MAX_CAPTURED_BYTES);
    }

    use super::*;

    #[test]
    fn a_line_is_never_glued_to_another_streams_partial_line() {
        let (a, b) = (Arc::new(Pipe::default()), Arc::new(Pipe::default()));
        let mut state = LineState::default();
        let mut out = Vec::new();
        for (pipe, chunk) in [
            (&a, &b"flood fl"[..]),
            (&b, b"hello: setup\n"),
            (&a, b"ood\n"),
            (&a, b"more"),
            (&a, b" of it\n"),
            (&b, b"hello: cli_stopped\n"),
        ] {
            out.extend_from_slice(&state.next(pipe, chunk));
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "flood fl\nhello: setup\nood\nmore of it\nhello: cli_stopped\n"
        );
    }
}
