//! Helpers shared by the runtime's integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `precept-run` binary this test build made.
pub const PRECEPT_RUN: &str = env!("CARGO_BIN_EXE_precept-run");

/// The lines the hello world prints through its whole lifecycle.
pub const HELLO_LIFECYCLE: [&str; 5] = [
    "hello: setup",
    "hello: before_cli_start",
    "hello: cli_parsed",
    "hello: cli_started",
    "hello: cli_stopped",
];

/// Runs `precept-run` in `dir` with `dir` as its home: no configuration,
/// cache or data directory of the user running the tests is read or
/// written.
pub fn precept_run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(PRECEPT_RUN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("PRECEPT_CACHE_DIR")
        .env_remove("PRECEPT_DATA_DIR")
        .env_remove("PRECEPT_RUN_PLUGIN_HOME")
        .output()
        .expect("run precept-run")
}

/// A fresh, empty directory for one test, `name` unique in the binary.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bytes of output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines of `stdout` the hello world printed.
pub fn hello_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("hello: "))
        .collect()
}
