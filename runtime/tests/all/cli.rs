//! `precept-run` as a user runs it: a real process, real plugins.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{HELLO_LIFECYCLE, hello_lines};

fn precept_run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(args)
        .env(
            "PRECEPT_CACHE_DIR",
            std::env::temp_dir().join("precept-cli-test-cache"),
        )
        .output()
        .expect("run precept-run")
}

/// Runs `precept-run check` on a script testing `plugin`: `rest` after
/// its `plugin` line.
fn check(plugin: &str, rest: &str) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "precept-cli-check-{}-{}",
        std::process::id(),
        Path::new(plugin).file_stem().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script.toml");
    let plugin = toml::Value::String(plugin.to_string());
    std::fs::write(&script, format!("plugin = {plugin}\n{rest}")).unwrap();
    let output = precept_run(&["check", script.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    output
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn hello_prints_the_lifecycle_in_order() {
    let hello = |output: &Output| -> Vec<String> {
        stdout_lines(output)
            .into_iter()
            .filter(|line| line.starts_with("hello: "))
            .collect()
    };
    let output = precept_run(&["--plugin", precept_tests::HELLO, "dispatch", "nothing"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        hello(&output),
        [
            "hello: setup",
            "hello: before_cli_start",
            "hello: cli_parsed",
            "hello: cli_started",
            "hello: cli_stopped",
        ]
    );

    // Without a command, help is printed and, as in precept, nothing
    // starts: no `cli_started`.
    let output = precept_run(&["--plugin", precept_tests::HELLO]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: precept-run"));
    assert_eq!(
        hello(&output),
        [
            "hello: setup",
            "hello: before_cli_start",
            "hello: cli_parsed",
            "hello: cli_stopped",
        ]
    );
}

#[test]
fn command_output_comes_between_cli_parsed_and_cli_stopped() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::HELLO,
        "--plugin",
        precept_tests::PONG,
        "dispatch",
        "ping",
        "count=7",
    ]);
    assert!(output.status.success(), "{output:?}");
    let lines = stdout_lines(&output);
    let at = |needle: &str| lines.iter().position(|l| l == needle).unwrap();
    assert!(at("hello: cli_parsed") < at("pong: pong 7"), "{lines:?}");
    assert!(at("pong: pong 7") < at("hello: cli_stopped"), "{lines:?}");
}

#[test]
fn a_file_that_is_not_a_component_gives_one_line() {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let output = precept_run(&["--plugin", readme]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("README.md"), "{stderr}");
    assert!(
        lines[0].contains("is not a WebAssembly component"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_give_clap_usage_and_exit_code_2() {
    let output = precept_run(&["--plugin", precept_tests::HELLO, "--no-such-flag"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage:"));
}

#[test]
fn stop_propagation_from_the_command_line() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::GUARD,
        "dispatch",
        "send",
        "data=secret",
    ]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("guard: stopped a secret 'send' (#1)"),
        "{stderr}"
    );
}

#[test]
fn greet_prints_the_greeting_as_often_as_asked() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::GREET,
        "greet",
        "--name",
        "Ada",
        "--times",
        "2",
    ]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_lines(&output), ["Hello, Ada!", "Hello, Ada!"]);
}

#[test]
fn help_lists_plugin_commands() {
    let output = precept_run(&["--plugin", precept_tests::GREET, "--help"]);
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.lines()
            .any(|l| l.trim_start().starts_with("greet") && l.contains("Greet someone")),
        "{help}"
    );
    let output = precept_run(&["--plugin", precept_tests::GREET, "greet", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("--name <NAME>") && help.contains("--times <TIMES>"),
        "{help}"
    );
}

#[test]
fn bad_plugin_command_arguments_are_a_usage_error() {
    for args in [&["greet"][..], &["greet", "--name", "Ada", "--times", "x"]] {
        let mut all = vec!["--plugin", precept_tests::GREET];
        all.extend_from_slice(args);
        let output = precept_run(&all);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.contains("--help"),
            "{stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn sigint_stops_services_and_ends_the_lifecycle_with_130() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let mut child = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args([
            "--plugin",
            precept_tests::WAITER,
            "--plugin",
            precept_tests::RECORDER,
            "--plugin",
            precept_tests::OBSERVER,
            "wait",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let mut line = String::new();
    while !seen.iter().any(|l: &String| l == "waiting") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "ended early: {seen:?}"
        );
        seen.push(line.trim_end().to_string());
    }

    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("precept-run did not end after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    seen.extend(rest.lines().map(str::to_string));

    assert_eq!(status.code(), Some(130), "{seen:?}");
    let at = |needle: &str| {
        seen.iter()
            .position(|l| l == needle)
            .unwrap_or_else(|| panic!("no '{needle}' in {seen:?}"))
    };
    assert!(at("waiting") < at("observer: keyboard_interrupt"));
    assert!(at("observer: keyboard_interrupt") < at("observer: recorder_stop"));
    assert!(at("observer: recorder_stop") < at("observer: cli_stopped"));
    assert!(!seen.iter().any(|l| l == "done waiting"), "{seen:?}");
}

#[test]
fn an_endless_plugin_is_cut_at_its_deadline_and_the_others_go_on() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::LOOP,
        "--plugin",
        precept_tests::HELLO,
        "dispatch",
        "nothing",
    ]);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        ["error: plugin 'loop' timed out in on-event(cli_started): ran longer than 1s"]
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE);
}

#[test]
fn a_stdout_flood_is_cut_at_its_deadline() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=stdout-flood",
        "--deadline",
        "300",
        "--plugin",
        precept_tests::HELLO,
        "dispatch",
        "nothing",
    ]);
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: plugin 'hostile' timed out in on-event(cli_started)"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("flood flood"));
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE);
}

#[test]
fn grants_from_the_command_line_reach_the_plugin() {
    let dir = std::env::temp_dir().join(format!("precept-cli-grant-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("note.txt"), "granted").unwrap();
    let grant = format!("hostile={}::/data", dir.display());
    let output = precept_run(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--dir",
        &grant,
        "--arg",
        "hostile=read-file",
        "--arg",
        "hostile=/data/note.txt",
        "--plugin",
        precept_tests::OBSERVER,
        "dispatch",
        "nothing",
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("hostile: ok: granted"), "{stdout}");

    let output = precept_run(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--dir",
        "hostile=/nonexistent/dir::/data",
    ]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("plugin 'hostile': cannot grant /nonexistent/dir"),
        "{stderr}"
    );
}

#[test]
fn check_runs_a_script_and_fails_on_a_step_that_does_not_match() {
    let output = check(
        precept_tests::HELLO,
        "[[step]]\ndispatch = \"cli_started\"\nprinted = \"hello: cli_started\\n\"\n\
         [[step]]\ndispatch = \"cli_stopped\"\nprinted = \"bye\\n\"\nvars = { seen = 1 }\n",
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stdout_lines(&output),
        [
            "ok    step 1: dispatch cli_started",
            "FAIL  step 2: dispatch cli_stopped: printed \"hello: cli_stopped\\n\", expected \"bye\\n\"; variable seen is Absent, expected Integer(1)",
        ]
    );
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(errors.contains("1 of 2 checks failed"), "{errors}");
}

#[test]
fn check_compares_what_the_plugin_logged() {
    let output = check(
        precept_tests::CONFORMANCE,
        "setup_logged = [\"conformance plugin ready\"]\n\
         [[step]]\ndispatch = \"conformance_tick\"\nlogged = []\n\
         [[step]]\ndispatch = \"conformance_ping\"\npayload = { n = 1 }\nlogged = [\"pinged\"]\n",
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stdout_lines(&output),
        [
            "ok    setup",
            "ok    step 1: dispatch conformance_tick",
            "FAIL  step 2: dispatch conformance_ping: logged [], expected [\"pinged\"]",
        ]
    );
}

#[test]
fn the_start_up_profile_lists_every_plugin_with_its_cache_use() {
    let cache = std::env::temp_dir().join(format!("precept-cli-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let run = || {
        let output = precept_run(&[
            "--cache-dir",
            cache.to_str().unwrap(),
            "--plugin",
            precept_tests::PING,
            "--plugin",
            precept_tests::PONG,
            "--profile-startup",
            "dispatch",
            "x",
        ]);
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let row = |profile: &str, plugin: &str| -> Vec<String> {
        let line = profile
            .lines()
            .find(|line| line.split_whitespace().next() == Some(plugin))
            .unwrap_or_else(|| panic!("no row for {plugin}: {profile}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    // plugin, read (2 words), cache, prepare, instantiate, setup, total.
    let first = run();
    assert_eq!(row(&first, "ping")[3], "miss", "{first}");
    assert_eq!(row(&first, "pong")[3], "miss", "{first}");
    let second = run();
    assert_eq!(row(&second, "ping")[3], "hit", "{second}");
    assert_eq!(row(&second, "pong")[3], "hit", "{second}");
    assert!(second.contains("slowest: p"), "{second}");
    assert!(second.contains("2 plugin(s) loaded in "), "{second}");
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn cache_shows_prunes_and_clears_the_compile_cache() {
    let cache = std::env::temp_dir().join(format!("precept-cli-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let dir = cache.to_str().unwrap();
    let load = |plugins: &[&str]| {
        let mut args = vec!["--cache-dir", dir];
        for plugin in plugins {
            args.extend(["--plugin", plugin]);
        }
        let loaded = precept_run(&[&args[..], &["dispatch", "x"]].concat());
        assert!(loaded.status.success(), "{loaded:?}");
    };
    load(&[precept_tests::PING, precept_tests::PONG]);
    // Both entries last used 40 days ago; then ping is used again.
    for engine in std::fs::read_dir(&cache).unwrap() {
        let engine = engine.unwrap().path();
        for file in std::fs::read_dir(&engine).into_iter().flatten() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "tag") {
                let long_ago =
                    std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 24 * 3600);
                let tag = std::fs::File::open(&file).unwrap();
                tag.set_modified(long_ago).unwrap();
            }
        }
    }
    load(&[precept_tests::PING]);
    // What another wasmtime build left.
    let stale = cache.join("0000000000000000");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("old.cwasm"), b"old code").unwrap();

    // Its lines but the one counting remembered hashes, which are kept
    // only for files last changed a second before they were hashed.
    let cache_says = |action: &str| {
        let output = precept_run(&["--cache-dir", dir, "cache", action]);
        assert!(output.status.success(), "{output:?}");
        let lines = stdout_lines(&output);
        let (seen, lines): (Vec<String>, Vec<String>) = lines
            .into_iter()
            .partition(|line| line.trim_start().starts_with("seen "));
        for line in seen {
            assert!(
                line.ends_with("remembered hashes (prune drops stale ones)"),
                "{line}"
            );
        }
        lines
    };
    let shown = cache_says("show");
    assert!(
        shown[0].starts_with(&format!("{dir}: 3 entries, ")),
        "{shown:?}"
    );
    assert!(
        shown[1].contains(" 2 entries ") && shown[1].ends_with("cranelift"),
        "{shown:?}"
    );
    assert!(
        shown[2].ends_with("another build (prune removes it)"),
        "{shown:?}"
    );

    // Another build's entry and pong's, unused for 40 days, go.
    let pruned = cache_says("prune");
    assert!(
        pruned[0].starts_with(&format!("pruned {dir}: 2 entries, ")),
        "{pruned:?}"
    );
    assert!(!stale.exists());
    let shown = cache_says("show");
    assert_eq!(shown.len(), 2);
    assert!(shown[1].contains(" 1 entry "), "{shown:?}");
    // Ping's entry is the one left: it loads from the cache.
    let profiled = precept_run(&[
        "--cache-dir",
        dir,
        "--plugin",
        precept_tests::PING,
        "--profile-startup",
        "dispatch",
        "x",
    ]);
    let profile = String::from_utf8_lossy(&profiled.stderr);
    assert!(
        profile
            .lines()
            .any(|l| l.trim_start().starts_with("ping") && l.contains(" hit ")),
        "{profile}"
    );

    let cleared = cache_says("clear");
    assert!(
        cleared[0].starts_with(&format!("cleared {dir}: 1 entry, ")),
        "{cleared:?}"
    );
    assert!(cache.join("key").exists());
    let shown = precept_run(&["--cache-dir", dir, "cache", "show"]);
    assert_eq!(
        stdout_lines(&shown),
        [format!("{dir}: 0 entries, 0.0 MiB")],
        "no remembered hash is left either"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

/// A compile longer than half a second shows a spinner, then one line
/// saying how long it took, on a terminal (`script` gives the run one);
/// nothing when standard error is not a terminal.
#[test]
fn a_long_compile_is_shown_on_a_terminal_and_nowhere_else() {
    let dir = std::env::temp_dir().join(format!("precept-cli-spinner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(precept_tests::BULKY, dir.join("bulky.wasm")).unwrap();
    let args = ["--no-cache", "--plugin", "bulky.wasm", "dispatch", "x"];

    let plain = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(args)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(plain.status.success(), "{plain:?}");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(!stderr.contains("compil"), "{stderr}");

    let command = format!("{} {}", env!("CARGO_BIN_EXE_precept-run"), args.join(" "));
    let on_terminal = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&dir)
        .output()
        .expect("`script` (util-linux) runs the command on a terminal");
    assert!(on_terminal.status.success(), "{on_terminal:?}");
    let shown = String::from_utf8_lossy(&on_terminal.stdout);
    assert!(shown.contains("compiling bulky.wasm ("), "{shown}");
    let at = shown
        .find("compiled bulky.wasm (")
        .expect("the line when it is done");
    let line = shown[at..].lines().next().unwrap().trim_end();
    assert!(
        line.contains(" MiB) in ") && line.ends_with(" s"),
        "{line:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
