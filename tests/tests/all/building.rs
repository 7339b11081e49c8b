//! Building an application: names that would collide are refused when
//! registered, and plugins found at start get the options the code gave.

use crate::common::app;
use clap::{Arg, Command};
use precept::compile::Compiler;
use precept::{CommandError, Context, Error, ExitStatus, PluginOptions, Sandbox, Service};

fn nothing(_ctx: Context) -> std::future::Ready<Result<(), CommandError>> {
    std::future::ready(Ok(()))
}

struct Named(&'static str);

#[precept::async_trait]
impl Service for Named {
    fn name(&self) -> &str {
        self.0
    }
}

#[test]
fn a_taken_command_service_or_argument_name_is_refused() {
    let mut app = app();
    app.command(Command::new("go"), nothing).unwrap();
    app.service(Named("clock")).unwrap();
    app.arg(Arg::new("level").long("level")).unwrap();

    let taken = |error: Error| error.to_string();
    assert_eq!(
        taken(app.command(Command::new("go"), nothing).err().unwrap()),
        "command 'go' is already provided by the application"
    );
    assert_eq!(
        taken(app.command_service("go", Named("clock")).err().unwrap()),
        "service 'clock' is already provided by the application"
    );
    assert_eq!(
        taken(app.arg(Arg::new("verbose").long("more")).err().unwrap()),
        "argument 'verbose' is already provided by the application"
    );
    // One payload holds the application's and the command's arguments.
    let clashing = Command::new("set").arg(Arg::new("level").long("level"));
    assert!(matches!(
        app.command(clashing, nothing),
        Err(Error::Taken {
            what: "argument",
            ..
        })
    ));
    // `cli_parsed` names the chosen command `command`.
    assert!(matches!(
        app.arg(Arg::new("command").long("command")),
        Err(Error::Reserved(_))
    ));
    let reserved = Command::new("pick").arg(Arg::new("command"));
    assert!(matches!(
        app.command(reserved, nothing),
        Err(Error::Reserved(_))
    ));
    // Nothing refused was kept.
    assert_eq!(app.command_line().get_subcommands().count(), 1);
}

#[tokio::test]
async fn plugins_in_a_plugin_directory_get_the_options_the_code_gave() {
    let dir = std::env::temp_dir().join(format!("precept-building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(precept_tests::HOSTILE, dir.join("hostile.wasm")).unwrap();
    std::fs::write(dir.join("note.txt"), "given in code").unwrap();

    let mut app = app();
    let mut sandbox = Sandbox::default();
    sandbox.grants.dirs.push(precept::trust::DirGrant {
        host: dir.clone(),
        guest: "/notes".into(),
        writable: false,
    });
    sandbox.grants.args = vec!["read-file".into(), "/notes/note.txt".into()];
    app.plugin_dir(&dir)
        .plugin_options("hostile", PluginOptions::from(sandbox));
    crate::common::add_run(&mut app);

    assert_eq!(app.start(["test-app", "run"]).await, ExitStatus::Success);
    assert_eq!(app.plugins().len(), 1);
    assert_eq!(
        app.vars().get("hostile.result"),
        Some("ok: given in code".into())
    );
}

#[tokio::test]
async fn a_plugin_compiled_by_winch_sees_the_same_lifecycle() {
    let mut app = app();
    app.compiler(Compiler::Winch).unwrap();
    crate::common::probe(&mut app, "w", &[]).await;
    crate::common::add_run(&mut app);

    assert_eq!(app.start(["test-app", "run"]).await, ExitStatus::Success);
    assert_eq!(
        crate::common::log(&app),
        [
            "w:before_cli_start:0",
            "w:cli_parsed:0",
            "w:cli_started:0",
            "w:cli_stopped:0"
        ]
    );
}
