//! The example application with a plugin: native and plugin subscribers
//! and services run together in precept's order.

use std::sync::{Arc, Mutex};

use precept::{ExitStatus, Flow, Scalar, Value};

#[tokio::test]
async fn native_and_plugin_parts_run_in_precepts_order() {
    let mut app = example_app::build().unwrap();
    app.cache_dir(None);
    app.load_plugin(precept_tests::DUMMY).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for name in [
        "before_cli_start",
        "cli_parsed",
        "clock_setup",
        "dummy_setup",
        "clock_start",
        "dummy_start",
        "liftoff",
        "clock_stop",
        "dummy_stop",
        "cli_stopped",
    ] {
        let seen = seen.clone();
        app.events().subscribe(name, move |event| {
            seen.lock().unwrap().push(event.name.to_string());
            async { Flow::Continue }
        });
    }

    let status = app.start(["countdown", "count", "--from", "2"]).await;

    assert_eq!(status, ExitStatus::Success);
    let seen = seen.lock().unwrap().clone();
    let at = |name: &str| seen.iter().position(|e| e == name).unwrap();
    // Set up in order, started before the command, stopped after it.
    assert_eq!(
        seen[..4],
        [
            "before_cli_start",
            "cli_parsed",
            "clock_setup",
            "dummy_setup"
        ]
    );
    assert!(
        at("clock_start").max(at("dummy_start")) < at("liftoff"),
        "{seen:?}"
    );
    assert!(
        at("liftoff") < at("clock_stop").min(at("dummy_stop")),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("cli_stopped"));
    // The plugin's service heard the native command's events while running.
    let record = match app.vars().get("record") {
        Some(Value::List(items)) => items,
        other => panic!("no record: {other:?}"),
    };
    let record: Vec<_> = record
        .into_iter()
        .map(|s| match s {
            Scalar::Text(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        record,
        ["dummy_setup", "dummy_start", "T-2", "T-1", "dummy_stop"]
    );
}
