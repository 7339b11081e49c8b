//! The conformance test of docs/CONFORMANCE.md, run against the conformance
//! plugin of every language: one test per language, same checks; and the
//! hello world of docs/PLUGIN-AUTHORS.md, the same lines in every language.
//!
//! A language whose toolchain was not installed when the tests were built
//! shows as *ignored*, with a line saying what to install — and fails in CI
//! (`CI=true`), where every toolchain must be there.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use libtest_mimic::{Failed, Trial};
use precept::logging::{Level, LogMessage};
use precept::testing::Harness;
use precept::value::lookup;
use precept::{App, ExitStatus, Flow, PluginOptions, Scalar, Value};

/// A component as the test build made it; an `Err` says which toolchain
/// was missing.
type Built = Result<&'static str, &'static str>;

/// Every language's conformance and hello-world components, as `(what,
/// language, conformance, hello)`: the plugins built for the newest
/// `precept:plugin`, and the Rust ones built for the frozen 0.1.0 with the
/// SDK of that version (`tests/frozen-0.1.0/`), under the same checks.
const LANGUAGES: &[(&str, &str, Built, Built)] = &[
    (
        "rust",
        "rust",
        Ok(precept_tests::CONFORMANCE),
        Ok(precept_tests::HELLO),
    ),
    (
        "rust_for_0_1_0",
        "rust",
        Ok(precept_tests::CONFORMANCE_V0_1),
        Ok(precept_tests::HELLO_V0_1),
    ),
    (
        "c",
        "c",
        precept_tests::CONFORMANCE_C,
        precept_tests::HELLO_C,
    ),
    (
        "python",
        "python",
        precept_tests::CONFORMANCE_PYTHON,
        precept_tests::HELLO_PYTHON,
    ),
    (
        "javascript",
        "javascript",
        precept_tests::CONFORMANCE_JAVASCRIPT,
        precept_tests::HELLO_JAVASCRIPT,
    ),
    (
        "go",
        "go",
        precept_tests::CONFORMANCE_GO,
        precept_tests::HELLO_GO,
    ),
];

/// One trial per language and check.
pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for &(what, language, conformance, hello) in LANGUAGES {
        trials.push(trial(
            format!("{what}_plugin_conforms"),
            conformance,
            move |component| {
                let runtime = tokio::runtime::Runtime::new().unwrap();
                // The plugins built for 0.2.0 make a request.
                let fetches = what != "rust_for_0_1_0";
                runtime.block_on(in_process(language, component, fetches));
                as_a_process(component);
            },
        ));
        if what != "rust" {
            trials.push(trial(
                format!("hello_world_in_{what}_prints_the_same_lines_as_in_rust"),
                hello,
                |component| assert_eq!(hello_lines(component), hello_lines(precept_tests::HELLO)),
            ));
        }
        trials.push(trial(
            format!("the_{what}_hello_world_passes_the_hello_check_script"),
            hello,
            passes_the_hello_script,
        ));
        if !what.starts_with("rust") {
            trials.push(trial(
                format!("the_{what}_hello_world_says_who_it_is_from_its_plugin_toml"),
                hello,
                move |component| identity_from_plugin_toml(language, component),
            ));
        }
    }
    trials.push(trial(
        "short_runs_of_a_large_plugin_get_cranelifts_code_at_the_fourth_start".into(),
        // Large enough to load on Winch first (4.7 MiB), the quickest such
        // to compile.
        precept_tests::HELLO_GO,
        short_runs_get_cranelifts_code,
    ));
    trials.push(Trial::test(
        "the_rust_hello_world_prints_its_lifecycle",
        || {
            let lines = hello_lines(precept_tests::HELLO);
            if lines.first().map(String::as_str) == Some("hello: setup") {
                Ok(())
            } else {
                Err(format!("{lines:?}").into())
            }
        },
    ));
    trials
}

/// A test of the component `built`: ignored (outside CI) when it was not
/// built, failed when `check` panics.
fn trial(
    name: String,
    built: Built,
    check: impl FnOnce(&'static str) + Send + std::panic::UnwindSafe + 'static,
) -> Trial {
    match built {
        Err(why) if !in_ci() => {
            eprintln!("{name}: ignored, {why}");
            Trial::test(name, || Ok(())).with_ignored_flag(true)
        }
        Err(why) => Trial::test(name, move || Err(Failed::from(why))),
        Ok(component) => Trial::test(name, move || {
            std::panic::catch_unwind(|| check(component)).map_err(|panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Failed::from(message)
            })
        }),
    }
}

/// Compiled components are kept here between the in-process checks, the
/// `precept-run` process and later test runs: Python and JavaScript
/// components take seconds to compile.
fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("precept-conformance-cache")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// The `hello: ...` lines `precept-run --plugin component` prints.
fn hello_lines(component: &str) -> Vec<String> {
    let output = precept_run(component, &[]);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("hello: "))
        .map(str::to_string)
        .collect()
}

/// `precept-run check` (the authors' script runner) on `component` with
/// one script for every language's hello world.
fn passes_the_hello_script(component: &str) {
    let dir = std::env::temp_dir().join(format!(
        "precept-check-{}-{}",
        std::process::id(),
        std::path::Path::new(component)
            .file_stem()
            .unwrap()
            .to_string_lossy()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("hello.toml");
    let steps: String = ["cli_started", "cli_stopped"]
        .iter()
        .map(|e| {
            format!("[[step]]\ndispatch = \"{e}\"\nprinted = \"hello: {e}\\n\"\nfailures = 0\n")
        })
        .collect();
    let plugin = toml::Value::String(component.to_string());
    let text = format!("plugin = {plugin}\nsetup_printed = \"hello: setup\\n\"\n{steps}");
    std::fs::write(&script, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .arg("check")
        .arg(&script)
        .env("PRECEPT_CACHE_DIR", cache_dir())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ok    setup\nok    step 1: dispatch cli_started\nok    step 2: dispatch cli_stopped\n"
    );
}

/// Runs `precept-run --plugin component args...` with the shared cache.
fn precept_run(component: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(["--plugin", component])
        .args(args)
        .env("PRECEPT_CACHE_DIR", cache_dir())
        .output()
        .expect("run precept-run")
}

fn texts(app: &App, name: &str) -> Vec<String> {
    match app.vars().get(name) {
        Some(Value::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Scalar::Text(text) => text,
                other => panic!("{name} holds {other:?}"),
            })
            .collect(),
        other => panic!("{name} is {other:?}"),
    }
}

/// A server on a free port of 127.0.0.1 that answers every request with
/// `pong`, for as long as the test process runs; its port.
fn pong_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let reply = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\npong";
            let _ = (&stream).write_all(reply.as_bytes());
        }
    });
    port
}

/// The checks on one plugin, through the authors' test harness
/// (`precept::testing`).
async fn in_process(language: &str, component: &str, fetches: bool) {
    let mut harness = Harness::new().unwrap();
    harness.app().cache_dir(Some(cache_dir()));
    let (granted, other) = (pong_server(), pong_server());
    let mut options = PluginOptions {
        config: vec![("greeting".into(), Value::from("Howdy"))],
        ..PluginOptions::default()
    };
    if fetches {
        options.sandbox.grants.net = vec![format!("127.0.0.1:{granted}")];
    }
    let plugin = harness.load_with(component, &options).await.unwrap();
    let name = plugin.name().to_string();
    let info = |message: &str| LogMessage {
        plugin: name.clone(),
        level: Level::Info,
        message: message.into(),
    };
    assert_eq!(harness.logged(), [info("conformance plugin ready")]);
    let app = harness.app();

    // setup: variable, command, service and configuration key.
    assert_eq!(
        app.vars().get("conformance_language"),
        Some(Value::from(language))
    );
    let commands = app.plugin_commands(&name);
    assert_eq!(commands.len(), 1);
    let args: Vec<&str> = commands[0]
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .collect();
    assert_eq!(commands[0].get_name(), "conform");
    assert_eq!(args, ["name", "times", "loud"]);
    assert_eq!(
        app.plugin_services(&name),
        [("conformance_svc".to_string(), None)]
    );
    let keys = app.config_keys(&name);
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].key.as_str(), &keys[0].default),
        ("greeting", &Value::from("Hello"))
    );

    // A custom event, answered with a dispatch carrying the configuration.
    let pong_events = harness.watch("conformance_pong");
    let pongs = || -> Vec<_> {
        let entry = |payload: &precept::Payload, key| lookup(payload, key).cloned();
        let events = pong_events.events();
        events
            .iter()
            .map(|p| (entry(p, "n"), entry(p, "greeting")))
            .collect()
    };
    let app = harness.app();
    let stops_after = Arc::new(Mutex::new(0));
    let counted = stops_after.clone();
    app.events().subscribe("conformance_stop", move |_| {
        *counted.lock().unwrap() += 1;
        async { Flow::Continue }
    });
    let ping = |n: Value| vec![("n".to_string(), n)];
    app.events()
        .dispatch("conformance_ping", ping(Value::from(41)))
        .await;
    assert_eq!(
        pongs(),
        [(Some(Value::from(42)), Some(Value::from("Howdy")))]
    );
    // Stopping propagation: the native subscriber after the plugin never
    // sees the event.
    app.events().dispatch("conformance_stop", Vec::new()).await;
    assert_eq!(*stops_after.lock().unwrap(), 0);
    let ticks_after = Arc::new(Mutex::new(0));
    let counted = ticks_after.clone();
    app.events().subscribe("conformance_tick", move |_| {
        *counted.lock().unwrap() += 1;
        async { Flow::Continue }
    });
    app.events().dispatch("conformance_tick", Vec::new()).await;
    assert_eq!(*ticks_after.lock().unwrap(), 1);
    assert_eq!(texts(app, "conformance_seen"), ["ping:41", "stop"]);

    // A request to the granted host is answered; one to another port (a
    // server is there too) is refused.
    if fetches {
        app.vars().set("conformance_seen", Value::Absent);
        for port in [granted, other] {
            let url = format!("http://127.0.0.1:{port}/conformance");
            let payload = vec![("url".to_string(), Value::from(url))];
            app.events().dispatch("conformance_fetch", payload).await;
        }
        assert_eq!(
            texts(app, "conformance_seen"),
            ["fetched:200:pong", "fetch_failed"]
        );
        app.vars().set("conformance_seen", Value::Absent);
    }

    // The CLI lifecycle with the plugin's command and service.
    app.vars().set("conformance_seen", Value::Absent);
    let args = ["test-app", "conform", "--name", "World", "--times", "2"];
    assert_eq!(
        app.start(args.into_iter().chain(["--loud"])).await,
        ExitStatus::Success
    );
    assert_eq!(
        texts(app, "conformance_seen"),
        [
            "before_cli_start",
            "cli_parsed:conform",
            "service_setup:conformance_svc",
            "service_start:conformance_svc",
            "cli_started",
            "service_stop:conformance_svc",
            "cli_stopped",
        ]
    );
    assert_eq!(
        app.vars().get("conformance_greeting"),
        Some(Value::from("HOWDY, WORLD!"))
    );
    assert_eq!(harness.printed(), "HOWDY, WORLD!\nHOWDY, WORLD!\n");
    assert_eq!(harness.logged(), [info("greeted World")]);
    let app = harness.app();
    let refused = ["test-app", "conform", "-n", "World", "--times=-1"];
    assert_eq!(app.start(refused).await, ExitStatus::CommandFailed);

    // A failing command and a failing handler are reported under the
    // plugin's name, through the fault policy; the plugin keeps running.
    app.events()
        .dispatch("conformance_ping", ping(Value::from("many")))
        .await;
    let failures = app.events().failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.iter().all(|f| f.plugin == name), "{failures:?}");
    assert_eq!(failures[0].export, "run-command");
    assert!(
        failures[0].cause.contains("--times must not be negative"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1]
            .cause
            .contains("conformance_ping needs an integer n"),
        "{}",
        failures[1]
    );
    assert!(!plugin.is_disabled());
    app.events()
        .dispatch("conformance_ping", ping(Value::from(1)))
        .await;
    assert_eq!(pongs().len(), 2);
}

/// `inspect --json` shows what `example-plugins/LANGUAGE/hello/plugin.toml`
/// says, written into the component by precept-build.
fn identity_from_plugin_toml(language: &str, component: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(["inspect", "--json", component])
        .env("PRECEPT_CACHE_DIR", cache_dir())
        .output()
        .expect("run precept-run");
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["name"], format!("hello-{language}"));
    assert_eq!(report["world"], "precept:plugin@0.2.0");
    let identity = &report["identity"];
    assert_eq!(identity["version"], "0.1.0");
    assert_eq!(
        identity["description"],
        "Prints a line for each CLI lifecycle event"
    );
    assert_eq!(identity["authors"], "The precept authors");
    assert_eq!(identity["licenses"], "Apache-2.0 OR MIT");
    assert_eq!(
        report["declares"],
        serde_json::json!([
            "environment variable HELLO_GREETING (optional): a greeting to use instead of hello (not read yet)"
        ])
    );

    // What it declares is enforced: the declared variable may be granted,
    // another is refused.
    let name = format!("hello-{language}");
    let grant = |var: &str| format!("{name}={var}=x");
    let granted = precept_run(
        component,
        &[
            "--env".as_ref(),
            grant("HELLO_GREETING").as_ref(),
            "dispatch".as_ref(),
            "x".as_ref(),
        ],
    );
    assert!(granted.status.success(), "{granted:?}");
    let refused = precept_run(
        component,
        &[
            "--env".as_ref(),
            grant("HOME").as_ref(),
            "dispatch".as_ref(),
            "x".as_ref(),
        ],
    );
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("was granted environment variable HOME, which it does not declare"),
        "{refused:?}"
    );
}

fn as_a_process(component: &str) {
    let log = std::env::temp_dir().join(format!(
        "precept-conformance-{}-{}.log",
        std::process::id(),
        std::path::Path::new(component)
            .file_stem()
            .unwrap()
            .to_string_lossy()
    ));
    let args = ["--log-file".as_ref(), log.as_os_str()];
    let command = ["conform", "-n", "World"].map(std::ffi::OsStr::new);
    let output = precept_run(component, &[&args[..], &command[..]].concat());
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Hello, World!\n");
    let name = std::path::Path::new(component).file_stem().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    let ready = format!("{}: conformance plugin ready", name.to_string_lossy());
    assert!(logged.contains(&ready), "{logged}");
    std::fs::remove_file(&log).unwrap();
}

/// A large component's first start compiles it with Winch (Cranelift's
/// compile, in the background, needs longer than a short run); the next
/// starts map Winch's code; the fourth compiles it with Cranelift for the
/// cache, and the fifth maps Cranelift's code.
fn short_runs_get_cranelifts_code(component: &str) {
    let cache = std::env::temp_dir().join(format!("precept-short-runs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
            .args([
                "--profile-startup",
                "--plugin",
                component,
                "dispatch",
                "noop",
            ])
            .env("PRECEPT_CACHE_DIR", &cache)
            .output()
            .expect("run precept-run");
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        let row = text
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            // plugin, read (a number and its unit), cache, code, ...
            .find(|cells| cells.get(3).is_some_and(|c| ["hit", "miss"].contains(c)))
            .unwrap_or_else(|| panic!("no profile row in {text}"));
        seen.push(format!("{} {}", row[3], row[4]));
    }
    let _ = std::fs::remove_dir_all(&cache);
    assert_eq!(
        seen,
        [
            "miss winch",
            "hit winch",
            "hit winch",
            "miss cranelift",
            "hit cranelift"
        ]
    );
}
