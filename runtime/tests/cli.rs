//! `precept-run` as a user runs it: a real process, real plugins.

use std::process::{Command, Output};

fn precept_run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(args)
        .env_remove("PRECEPT_LOG")
        .output()
        .expect("run precept-run")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn hello_prints_the_lifecycle_in_order() {
    let output = precept_run(&["--plugin", precept_tests::HELLO]);
    assert!(output.status.success(), "{output:?}");
    let hello: Vec<String> = stdout_lines(&output)
        .into_iter()
        .filter(|line| line.starts_with("hello: "))
        .collect();
    assert_eq!(
        hello,
        [
            "hello: setup",
            "hello: before_cli_start",
            "hello: cli_parsed",
            "hello: cli_started",
            "hello: cli_stopped",
        ]
    );
    // Without a command, help is printed.
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: precept-run"));
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
