//! `lines`, the line filter that never calls `start`, as its users run it:
//! a real process reading its standard input, with the `redact` plugin.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `lines` with `args`, `input` on its standard input, and no
/// configuration or cache of the user running the tests.
fn lines(args: &[&str], input: &str) -> Output {
    let home = std::env::temp_dir().join(format!("precept-lines-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lines"))
        .args(args)
        .current_dir(&home)
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("PRECEPT_TRACE")
        .env("PRECEPT_CACHE_DIR", home.join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lines");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

const INPUT: &str = "room 101\nthe secret is 42\nfloor 7\n";

#[test]
fn a_plugin_rewrites_and_drops_lines() {
    let output = lines(&["--plugin", precept_tests::REDACT], INPUT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "room ###\nfloor #\n"
    );
    assert!(stderr.contains("lines: 2 kept, 1 dropped"), "{stderr}");
}

#[test]
fn without_plugins_every_line_passes_unchanged() {
    let output = lines(&[], INPUT);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), INPUT);
}

#[test]
fn services_are_set_up_and_started_before_the_first_line_and_stopped_after_the_last() {
    let output = lines(
        &["--plugin", precept_tests::REDACT, "--trace-format=json"],
        INPUT,
    );
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let dispatched: Vec<String> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|record| Some(record.get("name")?.as_str()?.to_string()))
        .collect();
    assert_eq!(
        dispatched,
        [
            "tally_setup",
            "tally_start",
            "line",
            "line",
            "line",
            "tally_stop"
        ],
        "{stderr}"
    );
}

#[test]
fn a_plugin_that_cannot_load_is_one_line_and_the_lines_still_pass() {
    let dir = std::env::temp_dir().join(format!("precept-lines-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.wasm");
    std::fs::write(&broken, b"not a component").unwrap();
    let output = lines(&["--plugin", broken.to_str().unwrap()], INPUT);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), INPUT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("broken")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
}
