//! precept's CLI lifecycle with real plugins: order, `cli_parsed` payload,
//! the command between `cli_parsed` and `cli_stopped`, exit statuses.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{app, append, log, probe};
use clap::{Arg, ArgAction, Command};
use precept::{CommandError, Context, ExitStatus, Scalar, Value};

#[tokio::test]
async fn two_plugins_see_the_lifecycle_in_order() {
    let mut app = app();
    probe(&mut app, "a", &[]).await;
    probe(&mut app, "b", &[]).await;

    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    assert_eq!(status, ExitStatus::Success);
    assert_eq!(
        log(&app),
        [
            "a:before_cli_start:0",
            "b:before_cli_start:1",
            "a:cli_parsed:0",
            "b:cli_parsed:1",
            "a:cli_started:0",
            "b:cli_started:1",
            "a:cli_stopped:0",
            "b:cli_stopped:1",
        ]
    );
}

fn greet() -> Command {
    Command::new("greet")
        .arg(Arg::new("name").long("name").required(true))
        .arg(
            Arg::new("times")
                .long("times")
                .value_parser(clap::value_parser!(i64))
                .default_value("1"),
        )
        .arg(Arg::new("loud").long("loud").action(ArgAction::SetTrue))
        .arg(Arg::new("tag").long("tag").action(ArgAction::Append))
}

async fn run_greet(ctx: Context) -> Result<(), CommandError> {
    let name = ctx.matches.get_one::<String>("name").unwrap();
    append(&ctx.vars, format!("command:greet:{name}"));
    Ok(())
}

#[tokio::test]
async fn the_command_runs_between_cli_parsed_and_cli_stopped() {
    let mut app = app();
    app.command(greet(), run_greet).unwrap();
    probe(&mut app, "a", &[]).await;

    let status = app.start(["test-app", "greet", "--name", "Ada"]).await;

    assert_eq!(status, ExitStatus::Success);
    let log = log(&app);
    let at = |entry: &str| log.iter().position(|e| e == entry).unwrap();
    assert!(at("a:cli_parsed:0") < at("command:greet:Ada"), "{log:?}");
    assert!(at("command:greet:Ada") < at("a:cli_stopped:0"), "{log:?}");
    assert!(at("a:cli_parsed:0") < at("a:cli_started:0"), "{log:?}");
    assert_eq!(
        app.vars().get("a.cli_started.command"),
        Some(Value::Text("greet".into()))
    );
}

#[tokio::test]
async fn cli_parsed_carries_the_parsed_arguments() {
    let mut app = app();
    app.arg(Arg::new("profile").long("profile")).unwrap();
    app.command(greet(), run_greet).unwrap();
    probe(&mut app, "a", &[]).await;

    let args = [
        "test-app",
        "-vv",
        "--profile",
        "fast",
        "greet",
        "--name",
        "Ada",
        "--times",
        "3",
        "--loud",
        "--tag",
        "x",
        "--tag",
        "y",
    ];
    assert_eq!(app.start(args).await, ExitStatus::Success);

    let parsed = |key: &str| app.vars().get(&format!("a.cli_parsed.{key}"));
    assert_eq!(parsed("verbose"), Some(Value::Integer(2)));
    assert_eq!(parsed("quiet"), Some(Value::Boolean(false)));
    assert_eq!(parsed("profile"), Some(Value::Text("fast".into())));
    assert_eq!(parsed("command"), Some(Value::Text("greet".into())));
    assert_eq!(parsed("name"), Some(Value::Text("Ada".into())));
    assert_eq!(parsed("times"), Some(Value::Integer(3)));
    assert_eq!(parsed("loud"), Some(Value::Boolean(true)));
    assert_eq!(
        parsed("tag"),
        Some(Value::List(vec![
            Scalar::Text("x".into()),
            Scalar::Text("y".into())
        ]))
    );
}

#[tokio::test]
async fn bad_arguments_are_a_usage_error_before_cli_parsed() {
    let mut app = app();
    app.command(greet(), run_greet).unwrap();
    probe(&mut app, "a", &[]).await;

    let status = app.start(["test-app", "greet", "--nope"]).await;

    assert_eq!(status, ExitStatus::Usage);
    assert_eq!(status.code(), 2);
    assert_eq!(log(&app), ["a:before_cli_start:0"]);
}

#[tokio::test]
async fn a_failing_command_exits_with_command_failed() {
    let mut app = app();
    app.command(Command::new("fail"), |_ctx: Context| async {
        Err::<(), CommandError>("it broke".into())
    })
    .unwrap();
    probe(&mut app, "a", &[]).await;

    assert_eq!(
        app.start(["test-app", "fail"]).await,
        ExitStatus::CommandFailed
    );
    assert!(log(&app).contains(&"a:cli_stopped:0".to_string()));
}

#[tokio::test]
async fn a_plugin_failure_during_the_run_sets_the_exit_status() {
    let mut app = app();
    probe(
        &mut app,
        "a",
        &[("fail", crate::common::texts(&["cli_started"]))],
    )
    .await;

    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(status.code(), 4);
    assert!(log(&app).contains(&"a:cli_stopped:0".to_string()));
}

/// `cli_started` and the command run at the same time: each waits for the
/// other to arrive, which only works when neither waits for the other to
/// end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_started_and_the_command_overlap() {
    let meeting = Arc::new(tokio::sync::Barrier::new(2));
    let meet = |who: &'static str, vars: precept::Vars, meeting: Arc<tokio::sync::Barrier>| async move {
        let met = tokio::time::timeout(Duration::from_secs(5), meeting.wait()).await;
        vars.set(format!("{who}.met"), met.is_ok());
    };
    let mut app = app();
    let (vars, at_start) = (app.vars().clone(), meeting.clone());
    app.events().subscribe("cli_started", move |_| {
        let (vars, meeting) = (vars.clone(), at_start.clone());
        async move {
            meet("cli_started", vars, meeting).await;
            precept::Flow::Continue
        }
    });
    let vars = app.vars().clone();
    app.command(Command::new("meet"), move |_ctx: Context| {
        let (vars, meeting) = (vars.clone(), meeting.clone());
        async move {
            meet("command", vars, meeting).await;
            Ok::<(), CommandError>(())
        }
    })
    .unwrap();

    assert_eq!(app.start(["test-app", "meet"]).await, ExitStatus::Success);
    assert_eq!(
        app.vars().get("cli_started.met"),
        Some(Value::Boolean(true))
    );
    assert_eq!(app.vars().get("command.met"), Some(Value::Boolean(true)));
}

/// What a plugin's command dispatches reaches the other plugins while the
/// command still runs: the command waits for an answer a probe gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_commands_dispatch_reaches_another_plugin_while_it_runs() {
    let mut app = app();
    probe(
        &mut app,
        "ans",
        &[("subscribe", crate::common::texts(&["question"]))],
    )
    .await;
    app.load_plugin(precept_tests::WAITER).await.unwrap();

    let status = app
        .start(["test-app", "ask", "--answer", "ans.question.q"])
        .await;

    assert_eq!(status, ExitStatus::Success, "{:?}", app.events().failures());
    assert_eq!(app.vars().get("ans.question.q"), Some(Value::from("ping")));
}

/// When `start` returns, Ctrl-C ends the process again, as it would
/// without precept: the handler listening during the run is released. The
/// check runs in a child process: this test binary, run for this test
/// alone.
#[test]
fn signal_handlers_are_released_when_start_returns() {
    use std::io::BufRead as _;
    use std::os::unix::process::ExitStatusExt as _;

    const NAME: &str = "lifecycle::signal_handlers_are_released_when_start_returns";
    if std::env::var_os("PRECEPT_SIGNAL_CHILD").is_some() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let status = runtime.block_on(async {
            let mut app = app();
            crate::common::add_run(&mut app);
            app.start(["test-app", "run"]).await
        });
        println!("returned {}", status.code());
        std::thread::sleep(Duration::from_secs(10));
        println!("still alive");
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env("PRECEPT_SIGNAL_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // The test harness prints the test's name on the same line.
    let returned = lines.find(|line| line.as_ref().is_ok_and(|l| l.contains("returned ")));
    assert!(returned.unwrap().unwrap().ends_with("returned 0"));

    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(2),
        "SIGINT did not end it: {status:?}"
    );
}
