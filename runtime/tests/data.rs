//! Plugins' own data directories: what a plugin writes to `/data` in one
//! run it reads back in the next; it is `DATA-DIR/NAME` on the host,
//! private to the user; another plugin cannot reach it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MEMO: &str = precept_tests::MEMO;

fn precept_run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("PRECEPT_DATA_DIR")
        .output()
        .expect("run precept-run")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn what_a_plugin_keeps_in_data_is_there_in_the_next_run_and_only_for_it() {
    let dir = scratch("kept");
    let data = dir.join("data");
    let data_arg = data.to_str().unwrap();
    let other = precept_tests::copy_named(MEMO, "other", &dir);
    let other = other.to_str().unwrap();

    let first = ["--data-dir", data_arg, "--plugin", MEMO];
    stdout(&precept_run_in(
        &dir,
        &[&first[..], &["dispatch", "remember", "text=kept"]].concat(),
    ));
    assert_eq!(
        std::fs::read_to_string(data.join("memo/memo.txt")).unwrap(),
        "kept"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("memo"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    let both = ["--data-dir", data_arg, "--plugin", MEMO, "--plugin", other];
    let recalled = stdout(&precept_run_in(
        &dir,
        &[&both[..], &["dispatch", "recall"]].concat(),
    ));
    assert_eq!(recalled, "memo: kept\nno memo\n");

    // Neither plugin reaches past its own directory, however it asks.
    let host_path = format!("path={}", data.join("memo/memo.txt").display());
    for path in [
        "path=/data/../memo/memo.txt",
        "path=/memo/memo.txt",
        &host_path,
    ] {
        let shown = stdout(&precept_run_in(
            &dir,
            &[&both[..], &["dispatch", "peek", path]].concat(),
        ));
        assert_eq!(shown.lines().count(), 2, "{shown}");
        assert!(
            shown.lines().all(|line| line.starts_with("cannot read: ")),
            "{path}: {shown}"
        );
    }
}

#[test]
fn the_data_directory_defaults_to_the_users_data_dir_and_cannot_be_granted_elsewhere() {
    let dir = scratch("default");
    stdout(&precept_run_in(
        &dir,
        &["--plugin", MEMO, "dispatch", "remember", "text=home"],
    ));
    let kept = dir.join(".local/share/precept/memo/memo.txt");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "home");

    // `/data` is the plugin's own: a user's directory there is refused.
    let elsewhere = format!("memo={}::/data", dir.display());
    let output = precept_run_in(
        &dir,
        &[
            "--dir-rw", &elsewhere, "--plugin", MEMO, "dispatch", "recall",
        ],
    );
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(
        errors.contains("was granted directory /data, which it does not declare"),
        "{errors}"
    );

    let inspect = stdout(&precept_run_in(&dir, &["inspect", MEMO]));
    assert!(
        inspect.contains(
            "data directory /data (its own, kept between runs): the memo, kept between runs"
        ),
        "{inspect}"
    );
}
