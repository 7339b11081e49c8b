//! Services (plugin and native, as peers), plugin commands, and the
//! variables plugins share.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{app, copy_as, probe, texts};
use clap::Command;
use precept::services::{ServiceContext, ServiceError};
use precept::{
    App, CommandError, Context, ExitStatus, FailureKind, Flow, LoadError, Payload, PluginOptions,
    Service, Value, async_trait, payload,
};
use tokio::sync::{Barrier, Notify};

/// The variable `record` as strings.
fn record(app: &App) -> Vec<String> {
    crate::common::texts_of(app, "record")
}

/// The command `go`, which dispatches `send` with `data = "bar"`.
fn add_go(app: &mut App) {
    app.command(Command::new("go"), |ctx: Context| async move {
        ctx.events
            .dispatch("send", payload([("data", "bar")]))
            .await;
        Ok::<(), CommandError>(())
    })
    .unwrap();
}

#[tokio::test]
async fn a_plugin_service_sees_precepts_reference_order() {
    let mut app = app();
    add_go(&mut app);
    app.load_plugin(precept_tests::DUMMY).await.unwrap();

    assert_eq!(app.start(["test-app", "go"]).await, ExitStatus::Success);

    assert_eq!(
        record(&app),
        ["dummy_setup", "dummy_start", "bar", "dummy_stop"]
    );
}

/// precept's "if the application is not started with `start`": the
/// services driven by hand see the same order, and a dispatch after
/// `start_services` reaches the running service.
#[tokio::test]
async fn services_driven_by_hand_see_precepts_reference_order() {
    let mut app = app();
    app.load_plugin(precept_tests::DUMMY).await.unwrap();

    app.setup_services().await.unwrap();
    assert_eq!(app.service_running("dummy"), Some(false));
    app.start_services().await.unwrap();
    assert_eq!(app.service_running("dummy"), Some(true));
    app.events()
        .dispatch("send", payload([("data", "bar")]))
        .await;
    assert!(app.stop_services().await.is_empty());
    assert_eq!(app.service_running("dummy"), Some(false));

    assert_eq!(
        record(&app),
        ["dummy_setup", "dummy_start", "bar", "dummy_stop"]
    );
    assert_eq!(app.exit_status(), ExitStatus::Success);
}

/// A plugin's service failure goes through the fault policy like an event
/// failure: shown once, kept in the failures, counted towards the plugin's
/// `max-errors`, which disables it.
#[tokio::test]
async fn service_failures_count_towards_max_errors() {
    let mut app = app();
    app.vars().set("dummy.fail", "start");
    let mut options = PluginOptions::default();
    options.sandbox.limits.max_errors = Some(2);
    let dummy = app
        .load_plugin_with(precept_tests::DUMMY, &options)
        .await
        .unwrap();

    for round in 1..=2 {
        app.setup_services().await.unwrap();
        let failed = app.start_services().await.unwrap_err();
        assert_eq!(failed.len(), 1, "round {round}: {failed:?}");
        assert_eq!(failed[0].plugin.as_deref(), Some("dummy"));
        assert_eq!(failed[0].step, "start");
    }

    let failures = app.events().failures();
    let exports: Vec<_> = failures.iter().map(|f| (f.export, f.kind)).collect();
    assert_eq!(
        exports,
        [
            ("service-start", FailureKind::Error),
            ("service-start", FailureKind::Error),
            ("service-start", FailureKind::Limit),
        ]
    );
    assert!(failures[2].cause.contains("max-errors"), "{failures:?}");
    assert!(dummy.is_disabled());
    assert_eq!(app.exit_status(), ExitStatus::PluginFailed);
}

/// A plugin command that fails is a plugin failure too: the run ends with
/// the command's status, and the failure is kept.
#[tokio::test]
async fn a_failing_plugin_command_is_kept_as_a_plugin_failure() {
    let mut app = app();
    app.vars().set("dummy.fail", "emit");
    app.load_plugin(precept_tests::DUMMY).await.unwrap();

    let status = app.start(["test-app", "emit"]).await;

    assert_eq!(status, ExitStatus::CommandFailed);
    let failures = app.events().failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].export, "run-command");
    assert_eq!(failures[0].cause, "emit failed as asked");
}

/// Unloading a plugin stops its running services and removes everything it
/// added; the application goes on without it.
#[tokio::test]
async fn an_unloaded_plugin_stops_its_services_and_leaves_nothing_behind() {
    let mut app = app();
    app.load_plugin(precept_tests::DUMMY).await.unwrap();
    app.setup_services().await.unwrap();
    app.start_services().await.unwrap();
    assert!(!app.events().subscriptions_of("dummy").is_empty());

    let failures = app.unload_plugin("dummy").await.expect("it was loaded");
    assert!(failures.is_empty(), "{failures:?}");

    assert_eq!(record(&app), ["dummy_setup", "dummy_start", "dummy_stop"]);
    assert!(app.plugins().is_empty() && app.plugin("dummy").is_none());
    assert_eq!(app.service_running("dummy"), None);
    assert!(app.events().subscriptions_of("dummy").is_empty());
    assert!(app.command_line().find_subcommand("emit").is_none());
    app.events()
        .dispatch("send", payload([("data", "bar")]))
        .await;
    assert!(app.shutdown().await.is_empty());
    assert_eq!(record(&app), ["dummy_setup", "dummy_start", "dummy_stop"]);
    assert!(app.unload_plugin("dummy").await.is_none());
}

#[tokio::test]
async fn a_plugin_command_dispatching_send_gives_the_same_order() {
    let mut app = app();
    app.load_plugin(precept_tests::DUMMY).await.unwrap();

    assert_eq!(app.start(["test-app", "emit"]).await, ExitStatus::Success);

    assert_eq!(
        record(&app),
        ["dummy_setup", "dummy_start", "bar", "dummy_stop"]
    );
}

/// precept's reference service, natively.
#[derive(Default)]
struct NativeDummy {
    running: Arc<Mutex<bool>>,
    record: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Service for NativeDummy {
    fn name(&self) -> &str {
        "dummy"
    }

    async fn setup(&mut self, app: &ServiceContext) -> Result<(), ServiceError> {
        let (running, record) = (self.running.clone(), self.record.clone());
        app.events.subscribe("send", move |event| {
            if *running.lock().unwrap() {
                let data: String = event.get("data").unwrap_or_default();
                record.lock().unwrap().push(data);
            }
            async { Flow::Continue }
        });
        for name in ["dummy_setup", "dummy_start", "dummy_stop"] {
            let record = self.record.clone();
            app.events.subscribe(name, move |event| {
                record.lock().unwrap().push(event.name.to_string());
                async { Flow::Continue }
            });
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<(), ServiceError> {
        *self.running.lock().unwrap() = true;
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), ServiceError> {
        *self.running.lock().unwrap() = false;
        Ok(())
    }
}

#[tokio::test]
async fn a_native_service_sees_precepts_reference_order() {
    let mut app = app();
    add_go(&mut app);
    let dummy = NativeDummy::default();
    let record = dummy.record.clone();
    app.service(dummy).unwrap();

    assert_eq!(app.start(["test-app", "go"]).await, ExitStatus::Success);

    assert_eq!(
        *record.lock().unwrap(),
        ["dummy_setup", "dummy_start", "bar", "dummy_stop"]
    );
}

/// A service that logs its steps to a shared list and can be told to fail
/// a step or to meet another service at a barrier when starting.
struct Step {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    fail: Option<&'static str>,
    meet: Option<Arc<Barrier>>,
    wait_for: Option<Arc<Notify>>,
}

impl Step {
    fn new(name: &'static str, log: &Arc<Mutex<Vec<String>>>) -> Step {
        Step {
            name,
            log: log.clone(),
            fail: None,
            meet: None,
            wait_for: None,
        }
    }

    fn note(&self, step: &str) -> Result<(), ServiceError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{step}", self.name));
        match self.fail {
            Some(failing) if failing == step => Err(format!("{step} went wrong").into()),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Service for Step {
    fn name(&self) -> &str {
        self.name
    }

    async fn setup(&mut self, _app: &ServiceContext) -> Result<(), ServiceError> {
        self.note("setup")
    }

    async fn start(&mut self) -> Result<(), ServiceError> {
        if let Some(barrier) = &self.meet {
            barrier.wait().await;
        }
        if let Some(notify) = &self.wait_for {
            notify.notified().await;
        }
        self.note("start")
    }

    async fn stop(&mut self) -> Result<(), ServiceError> {
        self.note("stop")
    }
}

fn ok_command(app: &mut App, name: &'static str, log: &Arc<Mutex<Vec<String>>>) {
    let log = log.clone();
    app.command(Command::new(name), move |_ctx: Context| {
        log.lock().unwrap().push(format!("command:{name}"));
        async { Ok::<(), CommandError>(()) }
    })
    .unwrap();
}

#[tokio::test]
async fn a_per_command_service_runs_only_with_its_command() {
    for (command, expected) in [
        (
            "a",
            vec![
                "global:setup",
                "only-a:setup",
                "global:start",
                "only-a:start",
            ],
        ),
        ("b", vec!["global:setup", "global:start"]),
    ] {
        let log = Arc::default();
        let mut app = app();
        ok_command(&mut app, "a", &log);
        ok_command(&mut app, "b", &log);
        app.service(Step::new("global", &log)).unwrap();
        app.command_service("a", Step::new("only-a", &log)).unwrap();

        assert_eq!(app.start(["test-app", command]).await, ExitStatus::Success);

        let log = log.lock().unwrap();
        let mut started: Vec<&str> = log
            .iter()
            .map(String::as_str)
            .filter(|e| e.ends_with(":setup") || e.ends_with(":start"))
            .collect();
        started.sort_by_key(|e| e.ends_with(":start"));
        assert_eq!(started, expected, "{command}: {log:?}");
    }
}

/// precept sets up the global services, then the command's, whatever the
/// order they were registered in.
#[tokio::test]
async fn global_services_are_set_up_before_the_commands_own() {
    let log = Arc::default();
    let mut app = app();
    ok_command(&mut app, "a", &log);
    app.command_service("a", Step::new("only-a", &log)).unwrap();
    app.service(Step::new("global", &log)).unwrap();

    assert_eq!(app.start(["test-app", "a"]).await, ExitStatus::Success);

    let log = log.lock().unwrap();
    let setups: Vec<&str> = log
        .iter()
        .map(String::as_str)
        .filter(|e| e.ends_with(":setup"))
        .collect();
    assert_eq!(setups, ["global:setup", "only-a:setup"], "{log:?}");
}

#[tokio::test]
async fn a_plugins_per_command_service_runs_only_with_its_command() {
    for (command, audited) in [("emit", true), ("go", false)] {
        let mut app = app();
        add_go(&mut app);
        app.load_plugin(precept_tests::DUMMY).await.unwrap();
        let seen = Arc::new(Mutex::new(false));
        let flag = seen.clone();
        app.events().subscribe("audit_start", move |_| {
            *flag.lock().unwrap() = true;
            async { Flow::Continue }
        });

        assert_eq!(app.start(["test-app", command]).await, ExitStatus::Success);
        assert_eq!(*seen.lock().unwrap(), audited, "{command}");
    }
}

#[tokio::test]
async fn services_start_concurrently() {
    let log = Arc::default();
    let mut app = app();
    ok_command(&mut app, "run", &log);
    // Each start waits at the barrier until the other has started too: run
    // one after the other, they would never finish.
    let barrier = Arc::new(Barrier::new(2));
    for name in ["left", "right"] {
        app.service(Step {
            meet: Some(barrier.clone()),
            ..Step::new(name, &log)
        })
        .unwrap();
    }

    let status = tokio::time::timeout(Duration::from_secs(20), app.start(["test-app", "run"]))
        .await
        .expect("both services were starting at the same time");

    assert_eq!(status, ExitStatus::Success);
}

#[tokio::test]
async fn a_plugin_service_starts_while_a_native_one_is_starting() {
    let log = Arc::default();
    let mut app = app();
    ok_command(&mut app, "run", &log);
    // The native service's start only ends once the plugin's service has
    // started, which needs both starts in progress together.
    let dummy_started = Arc::new(Notify::new());
    app.service(Step {
        wait_for: Some(dummy_started.clone()),
        ..Step::new("native", &log)
    })
    .unwrap();
    app.load_plugin(precept_tests::DUMMY).await.unwrap();
    app.events().subscribe("dummy_start", move |_| {
        dummy_started.notify_one();
        async { Flow::Continue }
    });

    let status = tokio::time::timeout(Duration::from_secs(20), app.start(["test-app", "run"]))
        .await
        .expect("the services were starting at the same time");

    assert_eq!(status, ExitStatus::Success);
    assert!(log.lock().unwrap().contains(&"native:start".to_string()));
}

#[tokio::test]
async fn a_failing_start_stops_the_started_services_and_skips_the_command() {
    let log = Arc::default();
    let mut app = app();
    ok_command(&mut app, "run", &log);
    app.service(Step::new("good", &log)).unwrap();
    app.service(Step {
        fail: Some("start"),
        ..Step::new("bad", &log)
    })
    .unwrap();

    let status = app.start(["test-app", "run"]).await;

    assert_eq!(status, ExitStatus::ServiceFailed);
    assert_eq!(status.code(), 5);
    let log = log.lock().unwrap();
    assert!(!log.contains(&"command:run".to_string()), "{log:?}");
    assert!(log.contains(&"good:stop".to_string()), "{log:?}");
    assert!(!log.contains(&"bad:stop".to_string()), "{log:?}");
}

#[tokio::test]
async fn a_failing_setup_starts_nothing() {
    let log = Arc::default();
    let mut app = app();
    ok_command(&mut app, "run", &log);
    app.service(Step {
        fail: Some("setup"),
        ..Step::new("bad", &log)
    })
    .unwrap();
    app.service(Step::new("later", &log)).unwrap();

    assert_eq!(
        app.start(["test-app", "run"]).await,
        ExitStatus::ServiceFailed
    );
    assert_eq!(*log.lock().unwrap(), ["bad:setup"]);
}

#[tokio::test]
async fn a_variable_set_by_a_plugin_is_read_by_native_code_and_another_plugin() {
    let mut app = app();
    probe(&mut app, "setter", &[("set", texts(&["plugged=PLUGGED"]))]).await;
    probe(&mut app, "reader", &[("read", texts(&["plugged"]))]).await;

    assert_eq!(
        app.vars().get("plugged"),
        Some(Value::Text("PLUGGED".into()))
    );
    app.events().dispatch("cli_started", Payload::new()).await;
    assert_eq!(
        app.vars().get("reader.read.plugged"),
        Some(Value::Text("PLUGGED".into()))
    );
}

#[tokio::test]
async fn two_plugins_adding_the_same_command_clash() {
    let mut app = app();
    app.load_plugin(precept_tests::GREET).await.unwrap();
    let error = app
        .load_plugin(copy_as(precept_tests::GREET, "greet-again"))
        .await
        .unwrap_err();
    assert!(matches!(error, LoadError::Clash { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("adds the command 'greet', which plugin 'greet' already provides"),
        "{error}"
    );
}

#[tokio::test]
async fn a_plugin_command_cannot_take_a_built_in_name() {
    let log = Arc::default();
    let mut app = app();
    ok_command(&mut app, "greet", &log);
    let error = app.load_plugin(precept_tests::GREET).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("which the application already provides"),
        "{error}"
    );
    assert!(app.plugins().is_empty());
}

/// A service that hands out the application's service states when set up.
struct Watcher(Arc<Mutex<Option<precept::services::ServiceStates>>>);

#[async_trait]
impl Service for Watcher {
    fn name(&self) -> &str {
        "watcher"
    }

    async fn setup(&mut self, app: &ServiceContext) -> Result<(), ServiceError> {
        *self.0.lock().unwrap() = Some(app.services.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_service_runs_from_its_start_to_its_stop() {
    let mut app = app();
    let states = Arc::new(Mutex::new(None));
    app.service(Watcher(states.clone())).unwrap();
    app.service(Step::new("clock", &Arc::default())).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for event in ["clock_start", "clock_stop"] {
        let (seen, states) = (seen.clone(), states.clone());
        app.events().subscribe(event, move |event| {
            let states = states.lock().unwrap().clone().unwrap();
            let running = states.is_running("clock");
            seen.lock()
                .unwrap()
                .push(format!("{}:{running:?}", event.name));
            async { Flow::Continue }
        });
    }
    let noted = seen.clone();
    app.command(Command::new("check"), move |ctx: Context| {
        let running = ctx.services.is_running("clock");
        noted.lock().unwrap().push(format!("command:{running:?}"));
        assert_eq!(ctx.services.is_running("nothing"), None);
        async { Ok::<(), CommandError>(()) }
    })
    .unwrap();

    assert_eq!(app.service_running("clock"), Some(false));
    assert_eq!(app.start(["test-app", "check"]).await, ExitStatus::Success);

    assert_eq!(
        *seen.lock().unwrap(),
        [
            "clock_start:Some(true)",
            "command:Some(true)",
            "clock_stop:Some(false)"
        ]
    );
    assert_eq!(app.service_running("clock"), Some(false));
    assert_eq!(app.service_running("nothing"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_additions_and_appends_from_many_plugins_are_never_lost() {
    const PLUGINS: usize = 60;
    const TIMES: i64 = 25;
    let mut app = app();
    crate::common::add_run(&mut app);
    for i in 0..PLUGINS {
        let options = precept::PluginOptions {
            config: vec![
                ("service".into(), Value::from(format!("svc{i}"))),
                ("times".into(), Value::from(TIMES)),
            ],
            ..precept::PluginOptions::default()
        };
        let name = format!("counter{i}");
        app.load_plugin_as(precept_tests::COUNTER, &name, &options)
            .await
            .unwrap();
    }
    // The services start together, each adding and appending.
    assert_eq!(app.start(["test-app", "run"]).await, ExitStatus::Success);
    assert_eq!(
        app.vars().get("counted"),
        Some(Value::Integer(PLUGINS as i64 * TIMES))
    );
    let mut started = crate::common::texts_of(&app, "started");
    started.sort();
    let mut expected: Vec<String> = (0..PLUGINS).map(|i| format!("svc{i}")).collect();
    expected.sort();
    assert_eq!(started, expected);

    // A variable of another type is an error the plugin receives, not a trap.
    app.vars().set("counted", "text");
    assert_eq!(
        app.vars().add("counted", 1),
        Err("variable 'counted' does not hold an integer".into())
    );
}
