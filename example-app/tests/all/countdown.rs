//! `countdown` as its users run it: a real process with its configuration
//! file, grants, compile cache and `dump-config`, all from the library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `countdown` in `dir`, with `dir` as its home: no configuration or
/// cache of the user running the tests is read or written.
fn countdown_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_countdown"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env("PRECEPT_CACHE_DIR", dir.join("cache"))
        .output()
        .expect("run countdown")
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("countdown-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A configuration that loads `hostile` reading a file of a granted
/// directory, seen as `/data`.
fn write_config(dir: &Path, file: &str) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("note.txt"), "granted").unwrap();
    let config = format!(
        "plugins = [{:?}]\n\n[plugin.hostile]\ndirs = [{{ host = {:?}, guest = \"/data\" }}]\nargs = [\"read-file\", \"/data/note.txt\"]\n",
        precept_tests::HOSTILE,
        data.display().to_string(),
    );
    std::fs::write(dir.join(file), config).unwrap();
}

#[test]
fn the_configuration_file_loads_plugins_with_their_grants_into_the_cache() {
    let dir = scratch("config");
    write_config(&dir, "mine.toml");

    let output = countdown_in(&dir, &["-c", "mine.toml", "count", "--from", "2"]);

    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    for line in ["countdown: T-2", "countdown: T-1", "hostile: ok: granted"] {
        assert!(stdout.contains(line), "no '{line}' in:\n{stdout}");
    }
    // Entries are kept in a directory per engine version.
    let cached = std::fs::read_dir(dir.join("cache"))
        .unwrap()
        .flatten()
        .flat_map(|sub| {
            std::fs::read_dir(sub.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .any(|entry| entry.path().extension().is_some_and(|e| e == "cwasm"));
    assert!(cached, "nothing compiled into the cache");
}

#[test]
fn the_working_directorys_file_is_read_once_trusted() {
    let dir = scratch("trust");
    write_config(&dir, "countdown.toml");

    let untrusted = countdown_in(&dir, &["count", "--from", "1"]);
    assert!(untrusted.status.success(), "{untrusted:?}");
    assert!(!text(&untrusted.stdout).contains("hostile: ok"));
    let warning = text(&untrusted.stderr);
    assert!(
        warning.contains("ignoring ./countdown.toml: it is not trusted")
            && warning.contains("`countdown trust`"),
        "{warning}"
    );

    assert!(countdown_in(&dir, &["trust"]).status.success());
    assert!(dir.join(".config/countdown/trusted").is_file());
    let trusted = countdown_in(&dir, &["count", "--from", "1"]);
    assert!(text(&trusted.stdout).contains("hostile: ok: granted"));
}

#[test]
fn dump_config_prints_what_was_loaded_and_loads_back_unchanged() {
    let dir = scratch("dump");
    write_config(&dir, "mine.toml");

    let first = countdown_in(&dir, &["-c", "mine.toml", "dump-config"]);
    assert!(first.status.success(), "{first:?}");
    let dumped = text(&first.stdout);
    assert!(dumped.contains("[plugin.hostile]"), "{dumped}");
    assert!(dumped.contains("guest = \"/data\""), "{dumped}");
    assert!(dumped.contains("args = [\"read-file\", \"/data/note.txt\"]"));
    // The plugin's own output goes to standard error, not into the file.
    assert!(!dumped.contains("hostile: ok"), "{dumped}");

    std::fs::write(dir.join("dumped.toml"), &dumped).unwrap();
    let again = countdown_in(&dir, &["-c", "dumped.toml", "dump-config"]);
    assert_eq!(text(&again.stdout), dumped);
}

#[test]
fn plugins_and_grants_from_the_command_line() {
    let dir = scratch("flags");
    std::fs::write(dir.join("note.txt"), "from a flag").unwrap();
    let grant = format!("hostile={}::/notes", dir.display());
    let output = countdown_in(
        &dir,
        &[
            "--plugin",
            precept_tests::HOSTILE,
            "--dir",
            &grant,
            "--arg",
            "hostile=read-file",
            "--arg",
            "hostile=/notes/note.txt",
            "--no-cache",
            "count",
            "--from",
            "1",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stdout).contains("hostile: ok: from a flag"));
    assert!(!dir.join("cache").exists(), "--no-cache wrote a cache");
}
