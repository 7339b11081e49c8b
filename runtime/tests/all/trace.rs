//! The event trace: a ping/pong cascade between two plugins, each dispatch
//! indented under the delivery that caused it; a plugin stopping an event
//! before a native handler; the same as JSON lines that parse and link
//! each dispatch to its cause; and `--trace-events` on the command line.

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use precept::logging::{EventTrace, TraceFormat};
use precept::{App, Flow};

/// A writer whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The trace of `cli_started` (ping dispatches `ping`, pong answers with
/// `pong`) and of `conformance_stop` (the conformance plugin stops it
/// before a native handler subscribed after it).
async fn trace_of_a_cascade(format: TraceFormat) -> String {
    let mut app = App::new("trace-test", "0").unwrap();
    app.catch_signals(false);
    app.plugin_stdout().capture();
    let buffer = Buffer::default();
    app.events()
        .trace_to(Some(EventTrace::new(format, buffer.clone())));
    for plugin in [
        precept_tests::PING,
        precept_tests::PONG,
        precept_tests::CONFORMANCE,
    ] {
        app.load_plugin(plugin).await.unwrap();
    }
    app.events()
        .subscribe("conformance_stop", |_| async { Flow::Continue });
    app.events().dispatch("cli_started", Vec::new()).await;
    app.events().dispatch("conformance_stop", Vec::new()).await;
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// `line` without what changes from run to run: sizes and durations.
fn steady(line: &str) -> String {
    let line = match line.rfind(" (") {
        Some(at) if line.contains('→') => &line[..at],
        _ => line,
    };
    match (line.find(", "), line.find(" B)")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}, N{}", &line[..start], &line[end..])
        }
        _ => line.to_string(),
    }
}

#[tokio::test]
async fn the_text_trace_nests_a_cascade_and_names_the_stopping_plugin() {
    let trace = trace_of_a_cascade(TraceFormat::Text).await;
    let lines: Vec<String> = trace.lines().map(steady).collect();
    assert_eq!(
        lines,
        [
            "trace: dispatch #1 cli_started (0 entries, N B) by native code",
            "trace:   → ping: continue",
            "trace:     dispatch #2 ping (1 entry, N B) by ping, during #1",
            "trace:       → pong: continue",
            "trace:         dispatch #3 pong (1 entry, N B) by pong, during #2",
            "trace:           → ping: continue",
            "trace:   → conformance: continue",
            "trace: dispatch #4 conformance_stop (0 entries, N B) by native code",
            "trace:   → conformance: stop",
        ],
        "{trace}"
    );
}

#[tokio::test]
async fn the_json_trace_parses_and_links_each_dispatch_to_its_cause() {
    let trace = trace_of_a_cascade(TraceFormat::Json).await;
    let records: Vec<serde_json::Value> = trace
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    let dispatches: Vec<_> = records.iter().filter(|r| r["dispatch"].is_u64()).collect();
    let named = |name: &str| {
        dispatches
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no dispatch of {name}: {trace}"))
    };
    assert_eq!(named("ping")["by"], "ping");
    assert_eq!(named("ping")["cause"], named("cli_started")["dispatch"]);
    assert_eq!(named("pong")["cause"], named("ping")["dispatch"]);
    assert_eq!(named("pong")["depth"], 2);
    assert_eq!(named("cli_started")["by"], serde_json::Value::Null);

    let stop = named("conformance_stop")["dispatch"].clone();
    let deliveries: Vec<_> = records.iter().filter(|r| r["delivery"] == stop).collect();
    assert_eq!(deliveries.len(), 1, "{trace}");
    assert_eq!(deliveries[0]["plugin"], "conformance");
    assert_eq!(deliveries[0]["flow"], "stop");
    assert!(deliveries[0]["micros"].is_u64());
}

#[test]
fn trace_events_on_the_command_line_writes_the_trace_to_standard_error() {
    for (flag, json) in [("--trace-events", false), ("--trace-format=json", true)] {
        let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
            .args([
                "--plugin",
                precept_tests::PING,
                "--plugin",
                precept_tests::PONG,
            ])
            .args([flag, "dispatch", "x"])
            .env_remove("PRECEPT_TRACE")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("dispatch #"), "{stdout}");
        if json {
            let pong = stderr
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .find(|record| record["name"] == "pong");
            assert!(pong.is_some(), "{stderr}");
        } else {
            assert!(
                stderr.contains("trace: dispatch #1 before_cli_start"),
                "{stderr}"
            );
            assert!(
                stderr.contains("dispatch #") && stderr.contains(" pong "),
                "{stderr}"
            );
        }
    }
    // PRECEPT_TRACE asks for the same without a flag.
    let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(["--plugin", precept_tests::PING, "dispatch", "x"])
        .env("PRECEPT_TRACE", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("trace: dispatch #"));
}

#[tokio::test]
async fn plugin_text_in_the_trace_cannot_forge_lines_or_send_escape_codes() {
    let mut app = App::new("trace-test", "0").unwrap();
    app.catch_signals(false);
    app.vars().set("hostile.mode", "forge");
    let buffer = Buffer::default();
    app.events()
        .trace_to(Some(EventTrace::new(TraceFormat::Text, buffer.clone())));
    app.load_plugin(precept_tests::HOSTILE).await.unwrap();
    app.events().dispatch("cli_started", Vec::new()).await;
    let trace = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(!trace.contains('\x1b'), "{trace:?}");
    let lines: Vec<&str> = trace.lines().collect();
    assert_eq!(lines.len(), 2, "{trace}");
    assert!(
        lines[1].starts_with(
            "trace:   → hostile: failed: done\\nerror: plugin 'good' trapped in on-event(cli_started): forged\\u{1b}[2J"
        ),
        "{trace}"
    );
}
