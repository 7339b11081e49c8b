//! The event trace (`--trace-events`, `PRECEPT_TRACE`): every dispatch —
//! its name, payload size, depth, who made it and what caused it — and
//! every subscriber it reached, with the flow, how long the call took and
//! why it failed. Lines are written as things happen, a dispatch indented
//! under the delivery that caused it; JSON lines for tools. Without a
//! trace, the dispatcher pays one atomic load per dispatch.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::io::text::Clean;

/// How trace lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceFormat {
    /// Lines for people, nested dispatches indented.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl TraceFormat {
    /// The format `PRECEPT_TRACE` asks for: `1`, `text` or `json`; `None`
    /// when it is unset, empty or `0`.
    pub fn from_env() -> Option<TraceFormat> {
        match std::env::var("PRECEPT_TRACE").ok()?.as_str() {
            "" | "0" => None,
            "json" => Some(TraceFormat::Json),
            _ => Some(TraceFormat::Text),
        }
    }
}

/// Where an event trace is written.
pub struct EventTrace {
    format: TraceFormat,
    out: Mutex<Box<dyn Write + Send>>,
    next_id: AtomicU64,
}

/// One dispatch, as the trace shows it.
pub(crate) struct Dispatched<'a> {
    pub(crate) name: &'a str,
    pub(crate) entries: usize,
    pub(crate) bytes: usize,
    pub(crate) depth: usize,
    /// The plugin that dispatched it; `None` for native code.
    pub(crate) by: Option<&'a str>,
    /// The dispatch during which it was made.
    pub(crate) cause: Option<u64>,
}

/// Who a delivery reached.
pub(crate) enum Reached<'a> {
    /// A native handler, by its subscription number.
    Native(u64),
    /// A plugin, by name.
    Plugin(&'a str),
}

/// How a delivery ended.
pub(crate) enum Outcome<'a> {
    /// The event goes on to the next subscriber.
    Continue,
    /// The subscriber stopped the event.
    Stop,
    /// The call failed, for this reason.
    Failed(&'a str),
    /// The plugin is disabled: it was not called.
    Skipped,
}

impl From<crate::model::event::Flow> for Outcome<'_> {
    fn from(flow: crate::model::event::Flow) -> Self {
        match flow {
            crate::model::event::Flow::Continue => Outcome::Continue,
            crate::model::event::Flow::Stop => Outcome::Stop,
        }
    }
}

impl Outcome<'_> {
    /// Its name, as the JSON lines give it.
    fn flow(&self) -> &'static str {
        match self {
            Outcome::Continue => "continue",
            Outcome::Stop => "stop",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

impl EventTrace {
    /// A trace written to `out` in `format`.
    pub fn new(format: TraceFormat, out: impl Write + Send + 'static) -> EventTrace {
        EventTrace {
            format,
            out: Mutex::new(Box::new(out)),
            next_id: AtomicU64::new(1),
        }
    }

    /// A trace written to standard error.
    pub fn stderr(format: TraceFormat) -> EventTrace {
        EventTrace::new(format, std::io::stderr())
    }

    /// Writes a dispatch; its number, for its deliveries and what it causes.
    pub(crate) fn dispatched(&self, d: &Dispatched) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let line = match self.format {
            TraceFormat::Text => {
                let by =
                    d.by.map_or("native code".into(), |p| Clean::new(p).to_string());
                let cause = d.cause.map_or(String::new(), |c| format!(", during #{c}"));
                let entries = match d.entries {
                    1 => "1 entry".to_string(),
                    n => format!("{n} entries"),
                };
                format!(
                    "{}dispatch #{id} {} ({entries}, {} B) by {by}{cause}",
                    indent(d.depth),
                    Clean::new(d.name),
                    d.bytes,
                )
            }
            TraceFormat::Json => json!({
                "dispatch": id,
                "name": shown(d.name),
                "entries": d.entries,
                "bytes": d.bytes,
                "depth": d.depth,
                "by": d.by.map(shown),
                "cause": d.cause,
            })
            .to_string(),
        };
        self.write(&line);
        id
    }

    /// Writes one delivery of the dispatch `id` (at `depth`).
    pub(crate) fn delivered(
        &self,
        id: u64,
        depth: usize,
        to: Reached,
        outcome: Outcome,
        took: Duration,
    ) {
        let line = match self.format {
            TraceFormat::Text => {
                let to = match to {
                    Reached::Native(n) => format!("native handler {n}"),
                    Reached::Plugin(p) => Clean::new(p).to_string(),
                };
                let outcome = match outcome {
                    Outcome::Failed(why) => format!("failed: {}", Clean::new(why)),
                    Outcome::Skipped => "skipped, disabled".to_string(),
                    other => other.flow().to_string(),
                };
                format!("{}  → {to}: {outcome} ({took:.1?})", indent(depth))
            }
            TraceFormat::Json => {
                let (kind, to, subscription) = match to {
                    Reached::Native(n) => ("native", None, Some(n)),
                    Reached::Plugin(p) => ("plugin", Some(shown(p)), None),
                };
                let error = match &outcome {
                    Outcome::Failed(why) => Some(shown(why)),
                    _ => None,
                };
                let flow = outcome.flow();
                json!({
                    "delivery": id,
                    "kind": kind,
                    "plugin": to,
                    "subscription": subscription,
                    "flow": flow,
                    "error": error,
                    "micros": took.as_micros() as u64,
                })
                .to_string()
            }
        };
        self.write(&line);
    }

    /// Writes that the dispatch `id` was cut short, and why.
    pub(crate) fn cut(&self, id: u64, depth: usize, why: &str) {
        let line = match self.format {
            TraceFormat::Text => format!("{}  ✗ cut: {}", indent(depth), Clean::new(why)),
            TraceFormat::Json => json!({ "cut": id, "reason": shown(why) }).to_string(),
        };
        self.write(&line);
    }

    fn write(&self, line: &str) {
        let prefix = match self.format {
            TraceFormat::Text => "trace: ",
            TraceFormat::Json => "",
        };
        let mut out = self.out.lock().unwrap();
        let _ = writeln!(out, "{prefix}{line}");
        let _ = out.flush();
    }
}

/// Plugin text as the JSON lines carry it: safe on a terminal too.
fn shown(text: &str) -> String {
    Clean::new(text).to_string()
}

fn indent(depth: usize) -> String {
    "    ".repeat(depth)
}
