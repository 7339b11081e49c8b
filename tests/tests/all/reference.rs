//! precept's reference scenarios, one test each, named after them: what a
//! precept application does with a command, without one, with `--help`,
//! with an unknown command, with global and command services, and on
//! Ctrl-C. Expected orders are precept's own (see docs/ARCHITECTURE.md,
//! "Differences from precept", for the few intended differences).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{app, log, probe};
use clap::Command;
use precept::services::ServiceError;
use precept::{App, CommandError, Context, ExitStatus, Service, Value, async_trait};

/// A service that notes its steps in a shared list.
struct Noting {
    name: &'static str,
    notes: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Service for Noting {
    fn name(&self) -> &str {
        self.name
    }

    async fn setup(
        &mut self,
        _app: &precept::services::ServiceContext,
    ) -> Result<(), ServiceError> {
        self.note("setup");
        Ok(())
    }

    async fn start(&mut self) -> Result<(), ServiceError> {
        self.note("start");
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), ServiceError> {
        self.note("stop");
        Ok(())
    }
}

impl Noting {
    fn note(&self, step: &str) {
        let mut notes = self.notes.lock().unwrap();
        notes.push(format!("{}:{step}", self.name));
    }
}

/// An application with a probe plugin `p`, a command `run` that notes it
/// ran, and the list its services and command note into.
async fn application() -> (App, Arc<Mutex<Vec<String>>>) {
    let mut app = app();
    probe(&mut app, "p", &[]).await;
    let notes = Arc::new(Mutex::new(Vec::new()));
    let noted = notes.clone();
    app.command(Command::new("run"), move |_ctx: Context| {
        noted.lock().unwrap().push("command:run".into());
        async { Ok::<(), CommandError>(()) }
    })
    .unwrap();
    (app, notes)
}

fn notes_of(notes: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    notes.lock().unwrap().clone()
}

#[tokio::test]
async fn with_a_command() {
    let (mut app, notes) = application().await;

    assert_eq!(app.start(["test-app", "run"]).await, ExitStatus::Success);

    assert_eq!(
        log(&app),
        [
            "p:before_cli_start:0",
            "p:cli_parsed:0",
            "p:cli_started:0",
            "p:cli_stopped:0"
        ]
    );
    assert_eq!(notes_of(&notes), ["command:run"]);
    assert_eq!(app.vars().get("p.cli_parsed.command"), Some("run".into()));
    assert_eq!(app.vars().get("p.cli_started.command"), Some("run".into()));
}

#[tokio::test]
async fn without_a_command() {
    let (mut app, notes) = application().await;

    assert_eq!(app.start(["test-app"]).await, ExitStatus::Success);

    // Help is printed (precept's default `main`); nothing has started, so
    // no `cli_started`; the rest of the lifecycle runs.
    assert_eq!(
        log(&app),
        ["p:before_cli_start:0", "p:cli_parsed:0", "p:cli_stopped:0"]
    );
    assert_eq!(app.vars().get("p.cli_parsed.command"), Some(Value::Absent));
    assert!(notes_of(&notes).is_empty());
}

#[tokio::test]
async fn without_a_command_the_default_command_runs() {
    let (mut app, notes) = application().await;
    let noted = notes.clone();
    app.default_command(move |_ctx: Context| {
        noted.lock().unwrap().push("default".into());
        async { Ok::<(), CommandError>(()) }
    });

    assert_eq!(app.start(["test-app"]).await, ExitStatus::Success);

    assert_eq!(notes_of(&notes), ["default"]);
    assert_eq!(
        log(&app),
        ["p:before_cli_start:0", "p:cli_parsed:0", "p:cli_stopped:0"]
    );
}

#[tokio::test]
async fn help() {
    let (mut app, notes) = application().await;

    assert_eq!(app.start(["test-app", "--help"]).await, ExitStatus::Success);

    // Parsing prints the help and ends the program, as argparse does.
    assert_eq!(log(&app), ["p:before_cli_start:0"]);
    assert!(notes_of(&notes).is_empty());
}

#[tokio::test]
async fn an_unknown_command() {
    let (mut app, notes) = application().await;

    let status = app.start(["test-app", "nope"]).await;

    assert_eq!((status, status.code()), (ExitStatus::Usage, 2));
    assert_eq!(log(&app), ["p:before_cli_start:0"]);
    assert!(notes_of(&notes).is_empty());
}

#[tokio::test]
async fn global_and_command_services() {
    let (mut app, notes) = application().await;
    app.command(Command::new("other"), |_ctx: Context| async {
        Ok::<(), CommandError>(())
    })
    .unwrap();
    let service = |name| Noting {
        name,
        notes: notes.clone(),
    };
    // Registered before the global one: setting up still takes the global
    // services first.
    app.command_service("run", service("own")).unwrap();
    app.service(service("global")).unwrap();

    assert_eq!(app.start(["test-app", "run"]).await, ExitStatus::Success);
    let seen = notes_of(&notes);
    assert_eq!(seen[..2], ["global:setup", "own:setup"], "{seen:?}");
    let at = |note: &str| seen.iter().position(|n| n == note).unwrap();
    assert!(at("global:start").max(at("own:start")) < at("command:run"));
    assert!(at("command:run") < at("global:stop").min(at("own:stop")));

    notes.lock().unwrap().clear();
    assert_eq!(app.start(["test-app", "other"]).await, ExitStatus::Success);
    // The command's own service runs with its command only.
    assert_eq!(
        notes_of(&notes),
        ["global:setup", "global:start", "global:stop"]
    );
}

#[tokio::test]
async fn ctrl_c() {
    let mut app = app();
    probe(&mut app, "p", &[]).await;
    let notes = Arc::new(Mutex::new(Vec::new()));
    app.service(Noting {
        name: "dummy",
        notes: notes.clone(),
    })
    .unwrap();
    app.command(Command::new("wait"), |_ctx: Context| async {
        std::future::pending::<()>().await;
        Ok::<(), CommandError>(())
    })
    .unwrap();
    app.events().subscribe("keyboard_interrupt", {
        let notes = notes.clone();
        move |event| {
            let signal = event.get::<String>("signal");
            notes
                .lock()
                .unwrap()
                .push(format!("keyboard_interrupt:{signal:?}"));
            async { precept::Flow::Continue }
        }
    });
    // The embedder's shutdown stands for Ctrl-C, which the process test
    // `sigint_stops_services_and_ends_the_lifecycle_with_130` sends for real.
    app.shutdown_on(tokio::time::sleep(Duration::from_millis(200)));

    let status = app.start(["test-app", "wait"]).await;

    assert_eq!((status, status.code()), (ExitStatus::Interrupted, 130));
    assert_eq!(
        notes_of(&notes),
        [
            "dummy:setup",
            "dummy:start",
            "keyboard_interrupt:Some(\"shutdown\")",
            "dummy:stop"
        ]
    );
    assert_eq!(
        log(&app).last().map(String::as_str),
        Some("p:cli_stopped:0")
    );
}
