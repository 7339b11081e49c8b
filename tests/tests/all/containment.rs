//! Containment against hostile intent: each hostile plugin is loaded beside
//! a well-behaved probe, is stopped with one line naming it, and the probe
//! still sees every lifecycle event.

use std::time::{Duration, Instant};

use crate::common::{app, copy_as, log, probe};
use precept::limits::{MAX_DELIVERIES_PER_DISPATCH, MAX_DISPATCH_DEPTH};
use precept::{App, ExitStatus, FailureKind, LoadError, Payload, Sandbox, Value};

const LIFECYCLE: [&str; 4] = [
    "good:before_cli_start:0",
    "good:cli_parsed:0",
    "good:cli_started:1",
    "good:cli_stopped:0",
];

fn tight() -> Sandbox {
    let mut sandbox = Sandbox::default();
    sandbox.limits.call = Duration::from_millis(300);
    sandbox.limits.memory_bytes = 32 << 20;
    sandbox
}

/// Loading the hostile plugin in `mode` fails with one line; the good
/// plugin still runs.
async fn refused_at_setup(mode: &str, sandbox: Sandbox) -> LoadError {
    let mut app = app();
    app.vars().set("hostile.mode", mode);
    let error = app
        .load_plugin_with(precept_tests::HOSTILE, &sandbox.into())
        .await
        .unwrap_err();
    assert!(!error.to_string().contains('\n'), "{error}");
    probe(&mut app, "good", &[]).await;
    crate::common::add_run(&mut app);
    assert_eq!(
        app.start(["test-app", "run"]).await,
        ExitStatus::PluginNotLoaded
    );
    assert_eq!(log(&app), LIFECYCLE.map(|e| e.replace(":1", ":0")));
    error
}

fn budget_failure(error: &LoadError, what: &str) {
    assert!(
        matches!(error, LoadError::Setup(f) if f.kind == FailureKind::Limit),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("plugin 'hostile' went past a limit in setup: "),
        "{text}"
    );
    assert!(
        text.contains("host budget") && text.contains(what),
        "{text}"
    );
}

#[tokio::test]
async fn variables_are_charged_to_the_plugin_that_sets_them() {
    let error = refused_at_setup("vars-bomb", tight()).await;
    budget_failure(&error, "bytes of variables; the budget is 4194304");
}

#[tokio::test]
async fn subscriptions_are_bounded() {
    let error = refused_at_setup("subscribe-bomb", tight()).await;
    budget_failure(&error, "257 subscriptions; the budget is 256");
}

#[tokio::test]
async fn names_are_bounded() {
    let error = refused_at_setup("long-name", tight()).await;
    budget_failure(&error, "bytes in a name; the budget is 256");
}

#[tokio::test]
async fn a_command_named_help_is_refused() {
    let error = refused_at_setup("help-command", tight()).await;
    assert!(matches!(error, LoadError::BadCommand { .. }), "{error}");
    assert!(error.to_string().contains("'help' is reserved"), "{error}");
}

#[tokio::test]
async fn memories_are_limited_together() {
    let mut app = app();
    let error = app
        .load_plugin_with(precept_tests::MEMORY_SPLIT, &tight().into())
        .await
        .unwrap_err();
    // Each of its three memories is 16 MiB, under the 32 MiB limit alone.
    assert!(matches!(error, LoadError::Instantiate { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("asked for 50331648 bytes of memory; the limit is 33554432"),
        "{error}"
    );
    // Under a limit that fits all three, it loads.
    let mut roomy = tight();
    roomy.limits.memory_bytes = 64 << 20;
    app.load_plugin_with(precept_tests::MEMORY_SPLIT, &roomy.into())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_number_of_memories_is_capped() {
    let mut app = app();
    let error = app
        .load_plugin_with(precept_tests::MANY_MEMORIES, &tight().into())
        .await
        .unwrap_err();
    assert!(matches!(error, LoadError::Instantiate { .. }), "{error}");
    assert!(error.to_string().contains("memor"), "{error}");
}

#[tokio::test]
async fn a_fan_out_cascade_is_cut_by_the_delivery_budget() {
    let mut app = app();
    app.vars().set("hostile.mode", "fan-out");
    app.load_plugin_with(precept_tests::HOSTILE, &tight().into())
        .await
        .unwrap();
    probe(&mut app, "good", &[]).await;
    let started = Instant::now();
    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    // 100^4 deliveries were asked for; the budget ends it at once.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let failures = app.events().failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].kind, FailureKind::Limit);
    assert_eq!(
        failures[0].to_string(),
        format!(
            "plugin 'hostile' went past a limit in dispatch(fan): one dispatch caused more than {MAX_DELIVERIES_PER_DISPATCH} deliveries; this plugin made most of the dispatches"
        )
    );
    assert!(app.plugins()[0].is_disabled());
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_native_re_dispatch_does_not_reset_the_depth() {
    let app = app();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (events, seen) = (app.events().clone(), count.clone());
    app.events().subscribe("echo", move |_| {
        let (events, seen) = (events.clone(), seen.clone());
        async move {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            events.dispatch("echo", Payload::new()).await;
            precept::Flow::Continue
        }
    });
    app.events().dispatch("echo", Payload::new()).await;
    assert_eq!(
        count.load(std::sync::atomic::Ordering::Relaxed),
        MAX_DISPATCH_DEPTH + 1
    );
}

#[tokio::test]
async fn plugin_text_cannot_forge_lines_or_send_escape_codes() {
    let mut app = app();
    app.vars().set("hostile.mode", "forge");
    app.load_plugin_with(precept_tests::HOSTILE, &tight().into())
        .await
        .unwrap();
    probe(&mut app, "good", &[]).await;
    crate::common::add_run(&mut app);
    assert_eq!(
        app.start(["test-app", "run"]).await,
        ExitStatus::PluginFailed
    );
    let failures = app.events().failures();
    let line = failures[0].to_string();
    assert_eq!(
        line,
        "plugin 'hostile' failed in on-event(cli_started): done\\nerror: plugin 'good' trapped in on-event(cli_started): forged\\u{1b}[2J"
    );
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_plugin_that_keeps_failing_is_disabled_and_its_reports_stay_few() {
    let mut app = app();
    app.vars().set("hostile.mode", "errors");
    let mut sandbox = tight();
    sandbox.limits.max_errors = Some(20);
    let hostile = app
        .load_plugin_with(precept_tests::HOSTILE, &sandbox.into())
        .await
        .unwrap();
    for _ in 0..50 {
        app.events().dispatch("tick", Payload::new()).await;
    }
    assert!(hostile.is_disabled());
    let failures = app.events().failures();
    // Twenty errors, then the one that disabled it; nothing after.
    assert_eq!(failures.len(), 21, "{failures:?}");
    assert_eq!(failures[20].kind, FailureKind::Limit);
    assert!(
        failures[20].cause.contains("failed 20 times"),
        "{}",
        failures[20]
    );
    assert_eq!(app.events().subscriber_count("tick"), 0);
}

/// Two plugins whose service starts each return only once both have
/// begun: started one after another, the first would wait for the second
/// until its time limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_starts_run_at_the_same_time() {
    let mut app: App = app();
    for name in ["meet-a", "meet-b"] {
        let mut sandbox = Sandbox::default();
        sandbox.limits.call = Duration::from_secs(20);
        sandbox.limits.wait = Duration::from_secs(20);
        sandbox.grants.args = vec!["meet-service".into(), "2".into()];
        app.load_plugin_with(copy_as(precept_tests::HOSTILE, name), &sandbox.into())
            .await
            .unwrap();
    }
    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;
    assert_eq!(status, ExitStatus::Success, "{:?}", app.events().failures());
    assert_eq!(app.vars().get("meet.arrived"), Some(Value::Integer(2)));
}

#[tokio::test]
async fn a_payload_a_subscriber_cannot_take_is_not_delivered_and_is_reported_against_the_sender() {
    // `small` takes payloads of 64 bytes at most; `sender` relays
    // `cli_started` as `big` with two entries, more than that.
    let mut app = app();
    crate::common::configure_probe(
        &app,
        "small",
        &[("subscribe", crate::common::texts(&["big"]))],
    );
    let mut sandbox = Sandbox::default();
    sandbox.limits.payload_bytes = 64;
    let small = app
        .load_plugin_with(copy_as(precept_tests::PROBE, "small"), &sandbox.into())
        .await
        .unwrap();
    let relays = crate::common::texts(&["cli_started>big"]);
    probe(&mut app, "sender", &[("relay", relays)]).await;
    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    let failures = app.events().failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].plugin, "sender");
    assert_eq!(failures[0].kind, FailureKind::Error);
    assert!(
        failures[0]
            .cause
            .contains("is more than plugin 'small' takes (64); not delivered to it"),
        "{}",
        failures[0]
    );
    assert!(!small.is_disabled());
    assert!(
        !log(&app).iter().any(|line| line.starts_with("small:")),
        "{:?}",
        log(&app)
    );
    assert_eq!(status, ExitStatus::PluginFailed);
}
