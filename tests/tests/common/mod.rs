//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use precept::{App, Flow, Plugin, Scalar, Value};

/// A fresh application, as the tests use it.
pub fn app() -> App {
    App::new("test-app", "1.2.3").expect("engine")
}

/// Adds `run`, a command that does nothing: the whole lifecycle, with
/// `cli_started`, runs only when a command does.
pub fn add_run(app: &mut App) {
    app.command(clap::Command::new("run"), |_ctx: precept::Context| async {
        Ok::<(), precept::CommandError>(())
    })
    .unwrap();
}

/// The variable `log` as strings: what probes and native recorders saw.
pub fn log(app: &App) -> Vec<String> {
    texts_of(app, "log")
}

/// The list variable `name` as strings; empty when unset.
pub fn texts_of(app: &App, name: &str) -> Vec<String> {
    match app.vars().get(name) {
        Some(Value::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Scalar::Text(s) => s,
                other => panic!("unexpected {name} entry {other:?}"),
            })
            .collect(),
        None => Vec::new(),
        Some(other) => panic!("{name} is not a list: {other:?}"),
    }
}

/// Appends `entry` to the variable `log`.
pub fn append(vars: &precept::Vars, entry: String) {
    let mut items = match vars.get("log") {
        Some(Value::List(items)) => items,
        _ => Vec::new(),
    };
    items.push(Scalar::Text(entry));
    vars.set("log", Value::List(items));
}

/// Subscribes a native handler to `name` that logs `tag:name:num`.
pub fn native(app: &App, name: &str, tag: &str, flow: Flow) {
    let (vars, tag) = (app.vars().clone(), tag.to_string());
    app.events().subscribe(name, move |event| {
        append(&vars, format!("{tag}:{}:{}", event.name, event.num));
        async move { flow }
    });
}

/// Text list value.
pub fn texts(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Scalar::Text(s.to_string())).collect())
}

/// A copy of `component` as `name.wasm`, named `name` in its metadata, so
/// one component can be loaded as several plugins.
pub fn copy_as(component: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    precept_tests::copy_named(component, name, &dir)
}

const PROBE_KEYS: &[&str] = &[
    "probe.subscribe",
    "probe.stop",
    "probe.relay",
    "probe.fail",
    "probe.unsubscribe",
    "probe.fail_setup",
    "probe.set",
    "probe.read",
    "probe.quiet",
];

/// Loads the probe plugin as `tag`, configured by `config` (`probe.` keys
/// without the prefix; the rest are cleared).
pub async fn probe(app: &mut App, tag: &str, config: &[(&str, Value)]) -> Arc<Plugin> {
    configure_probe(app, tag, config);
    app.load_plugin(copy_as(precept_tests::PROBE, tag))
        .await
        .expect("probe loads")
}

/// Sets the probe's configuration variables for the next load.
pub fn configure_probe(app: &App, tag: &str, config: &[(&str, Value)]) {
    for key in PROBE_KEYS {
        app.vars().set(*key, Value::Absent);
    }
    app.vars().set("probe.tag", tag);
    for (key, value) in config {
        app.vars().set(format!("probe.{key}"), value.clone());
    }
}
