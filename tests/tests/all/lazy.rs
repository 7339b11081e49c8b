//! Plugins loaded lazily, in an application that does not call `start`:
//! `sleeper` declares that its `setup` subscribes to `wake-up` and adds
//! `nap`, and counts its setups in the variable `sleepers_set_up`.

use std::sync::{Arc, Mutex};

use precept::{Flow, Value};

use crate::common::app;

/// An application that loaded `plugins` by `--plugin`, as `start` would.
async fn loaded(plugins: &[&str], lazy: bool) -> precept::App {
    let mut app = app();
    app.plugin_flags().unwrap().lazy_plugins(lazy);
    let mut args = vec!["test-app"];
    for plugin in plugins {
        args.extend(["--plugin", plugin]);
    }
    app.load(args).await.unwrap();
    app
}

/// The event numbers native subscribers before and after the plugins saw.
fn record(app: &precept::App, seen: &Arc<Mutex<Vec<(&'static str, u32)>>>, who: &'static str) {
    let seen = seen.clone();
    app.events().subscribe_sync("wake-up", move |event| {
        seen.lock().unwrap().push((who, event.num));
        Flow::Continue
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_plugin_is_set_up_at_its_first_event_and_gets_it_in_its_place() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut app = app();
    record(&app, &seen, "before");
    app.plugin_flags().unwrap();
    let args = ["test-app", "--plugin", precept_tests::SLEEPER];
    app.load(args).await.unwrap();
    record(&app, &seen, "after");

    assert_eq!(app.waiting_plugins(), ["sleeper"]);
    assert!(app.plugin("sleeper").is_none());
    assert_eq!(app.vars().get("sleepers_set_up"), None);

    app.events().dispatch("other", Vec::new()).await;
    assert_eq!(
        app.waiting_plugins(),
        ["sleeper"],
        "another event wakes nothing"
    );

    app.events().dispatch("wake-up", Vec::new()).await;
    assert!(app.waiting_plugins().is_empty());
    assert!(app.plugin("sleeper").is_some());
    assert_eq!(app.vars().get("sleepers_set_up"), Some(Value::Integer(1)));
    // The plugin was the second subscriber, in the place it held.
    assert_eq!(*seen.lock().unwrap(), [("before", 0), ("after", 2)]);
    assert_eq!(app.events().subscriptions_of("sleeper"), ["wake-up"]);

    app.events().dispatch("wake-up", Vec::new()).await;
    assert_eq!(app.vars().get("sleepers_set_up"), Some(Value::Integer(1)));
    assert_eq!(app.events().subscriber_count("wake-up"), 3);
    assert_eq!(app.exit_status(), precept::ExitStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatches_at_once_load_it_once() {
    let app = loaded(&[precept_tests::SLEEPER], true).await;

    let dispatches: Vec<_> = (0..8)
        .map(|_| {
            let events = app.events().clone();
            tokio::spawn(async move { events.dispatch("wake-up", Vec::new()).await })
        })
        .collect();
    for dispatch in dispatches {
        dispatch.await.unwrap();
    }

    assert_eq!(app.vars().get("sleepers_set_up"), Some(Value::Integer(1)));
    assert_eq!(app.plugins().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_lazy_loading_or_when_loaded_by_hand_it_is_set_up_at_once() {
    let app = loaded(&[precept_tests::SLEEPER], false).await;
    assert!(app.waiting_plugins().is_empty());
    assert_eq!(app.vars().get("sleepers_set_up"), Some(Value::Integer(1)));

    let mut app = crate::common::app();
    app.load_plugin(precept_tests::SLEEPER).await.unwrap();
    assert_eq!(app.vars().get("sleepers_set_up"), Some(Value::Integer(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_taken_by_a_lazy_plugin_is_taken() {
    let app = loaded(&[precept_tests::SLEEPER, precept_tests::SLEEPER], true).await;

    assert_eq!(app.waiting_plugins(), ["sleeper"]);
    assert_eq!(app.exit_status(), precept::ExitStatus::PluginNotLoaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_unloaded_before_it_was_needed_is_never_loaded() {
    let app = loaded(&[precept_tests::SLEEPER], true).await;
    assert!(app.command_line().find_subcommand("nap").is_some());

    assert_eq!(app.unload_plugin("sleeper").await, Some(Vec::new()));

    assert!(app.waiting_plugins().is_empty());
    assert!(app.command_line().find_subcommand("nap").is_none());
    app.events().dispatch("wake-up", Vec::new()).await;
    assert_eq!(app.vars().get("sleepers_set_up"), None);
    assert_eq!(app.events().subscriber_count("wake-up"), 0);
    assert_eq!(app.unload_plugin("sleeper").await, None);
}
