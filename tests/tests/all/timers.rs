//! Plugin timers: ticks counted while a command runs, cancel, a one-shot
//! timeout, a disabled plugin's timers, nothing after `cli_stopped`, and a
//! timer storm bounded. The `ticker` plugin also records, at each tick,
//! whether its service runs as plugins see it (`services.is-running`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::common::app;
use precept::{
    App, CommandError, Context, ExitStatus, Flow, PluginOptions, Scalar, Value, payload,
};

/// The command `work`: dispatches each of `events` after its delay (from
/// the start), then ends `total` after the start.
fn add_work(app: &mut App, events: &'static [(u64, &'static str)], total: u64) {
    app.command(clap::Command::new("work"), move |ctx: Context| async move {
        let start = tokio::time::Instant::now();
        for (at, name) in events {
            tokio::time::sleep_until(start + Duration::from_millis(*at)).await;
            ctx.events.dispatch(name, payload::<&str, i64>([])).await;
        }
        tokio::time::sleep_until(start + Duration::from_millis(total)).await;
        Ok::<(), CommandError>(())
    })
    .unwrap();
}

async fn load_ticker(app: &mut App, config: &[(&str, Value)]) {
    let options = PluginOptions {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..PluginOptions::default()
    };
    app.load_plugin_as(precept_tests::TICKER, "ticker", &options)
        .await
        .unwrap();
}

fn ticks(app: &App) -> i64 {
    match app.vars().get("ticks") {
        Some(Value::Integer(n)) => n,
        None => 0,
        other => panic!("ticks: {other:?}"),
    }
}

/// Records the ticks seen when `cli_stopped` is dispatched.
fn ticks_at_stop(app: &App) -> Arc<AtomicI64> {
    let seen = Arc::new(AtomicI64::new(-1));
    let (vars, record) = (app.vars().clone(), seen.clone());
    app.events().subscribe("cli_stopped", move |_| {
        let n = match vars.get("ticks") {
            Some(Value::Integer(n)) => n,
            _ => 0,
        };
        record.store(n, Ordering::SeqCst);
        async { Flow::Continue }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_ticking_every_100_ms_sees_about_ten_ticks_in_a_one_second_command() {
    let mut app = app();
    add_work(&mut app, &[], 1000);
    load_ticker(&mut app, &[("every", Value::Integer(100))]).await;
    let at_stop = ticks_at_stop(&app);
    assert_eq!(app.start(["test-app", "work"]).await, ExitStatus::Success);

    let counted = ticks(&app);
    assert!((6..=12).contains(&counted), "{counted} ticks");
    // Every tick but one at the very end saw its service running.
    let running = match app.vars().get("running") {
        Some(Value::List(items)) => items,
        other => panic!("running: {other:?}"),
    };
    assert_eq!(running.len() as i64, counted);
    let seen_running = running
        .iter()
        .filter(|r| **r == Scalar::Boolean(true))
        .count() as i64;
    assert!(seen_running >= counted - 1, "{running:?}");

    // Nothing fires after cli_stopped: the count there is the final one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ticks(&app), counted);
    assert_eq!(at_stop.load(Ordering::SeqCst), counted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_interval_fires_no_more_and_a_timeout_fires_once() {
    let mut app = app();
    // Ticks at 100, 200, 300; cancelled at 350; `once` at 500 ticks once
    // at 600; the command ends at 1000.
    add_work(&mut app, &[(350, "stop-ticking"), (500, "once")], 1000);
    load_ticker(&mut app, &[("every", Value::Integer(100))]).await;
    assert_eq!(app.start(["test-app", "work"]).await, ExitStatus::Success);
    let counted = ticks(&app);
    assert!((3..=5).contains(&counted), "{counted} ticks");
    let once = match app.vars().get("running") {
        Some(Value::List(items)) => items.len(),
        other => panic!("running: {other:?}"),
    };
    assert_eq!(once as i64, counted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_plugins_timers_stop() {
    let mut app = app();
    add_work(&mut app, &[], 1000);
    load_ticker(
        &mut app,
        &[
            ("every", Value::Integer(50)),
            ("trap_at", Value::Integer(3)),
        ],
    )
    .await;
    let status = app.start(["test-app", "work"]).await;
    assert_eq!(status, ExitStatus::PluginFailed);
    // The third tick trapped and disabled the plugin: no tick after it.
    assert_eq!(ticks(&app), 3);
    assert!(app.plugins()[0].is_disabled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_timers_count_until_released_so_churn_holds_no_more_than_the_bound() {
    let mut app = app();
    add_work(&mut app, &[], 200);
    load_ticker(&mut app, &[("churn", Value::Boolean(true))]).await;
    assert_eq!(app.start(["test-app", "work"]).await, ExitStatus::Success);
    // Each cancelled timeout still held its 64 KiB payload until the call
    // returned: the 17th was refused, not the 10,000th.
    assert_eq!(
        app.vars().get("timers_set"),
        Some(Value::Integer(precept::limits::MAX_TIMERS as i64))
    );
    assert_eq!(ticks(&app), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_storm_is_bounded_in_timers_and_in_rate() {
    let mut app = app();
    add_work(&mut app, &[], 1000);
    load_ticker(&mut app, &[("storm", Value::Boolean(true))]).await;
    let started = Instant::now();
    assert_eq!(app.start(["test-app", "work"]).await, ExitStatus::Success);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    assert_eq!(
        app.vars().get("timers_set"),
        Some(Value::Integer(precept::limits::MAX_TIMERS as i64))
    );
    let refusal = app.vars().get("timer_refusal");
    assert_eq!(
        refusal,
        Some(Value::from(format!(
            "this plugin already has {} timers, as many as it may",
            precept::limits::MAX_TIMERS
        )))
    );
    // 0 ms intervals tick at most every 10 ms: over about a second, at
    // most about 100 ticks per timer.
    let counted = ticks(&app);
    let most = precept::limits::MAX_TIMERS as i64 * 110;
    assert!(
        counted > precept::limits::MAX_TIMERS as i64 && counted <= most,
        "{counted} ticks"
    );
}
