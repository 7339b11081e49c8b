//! Plugins' own data directories: what a plugin writes to `/data` in one
//! run it reads back in the next; it is `DATA-DIR/NAME` on the host,
//! private to the user; another plugin cannot reach it.

use std::process::Output;

use crate::common::{precept_run_in, scratch};

const MEMO: &str = precept_tests::MEMO;

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

/// `component` with no name of its own: the Rust SDK's `name = "memo"` in
/// its manifest (in every copy of it) made a comment of the same length,
/// so that the plugin is named by its file stem.
fn nameless(component: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(component).unwrap();
    let (named, unnamed) = (b"\nname = \"memo\"", b"\n#ame = \"memo\"");
    let mut found = 0;
    while let Some(at) = bytes.windows(named.len()).position(|w| w == named) {
        bytes[at..at + named.len()].copy_from_slice(unnamed);
        found += 1;
    }
    assert!(found > 0, "the manifest names the plugin");
    bytes
}

#[test]
fn a_file_stem_that_would_name_another_directory_is_refused() {
    let dir = scratch("stems");
    let data = dir.join("root/data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(dir.join("root/secret.txt"), "secret").unwrap();
    let bytes = nameless(MEMO);
    // The stem names the plugin: `plain.wasm` is the plugin `plain`.
    let plain = dir.join("plain.wasm");
    std::fs::write(&plain, &bytes).unwrap();
    let data_arg = data.to_str().unwrap();
    let loaded = precept_run_in(
        &dir,
        &[
            "--data-dir",
            data_arg,
            "--plugin",
            plain.to_str().unwrap(),
            "dispatch",
            "recall",
        ],
    );
    assert_eq!(stdout(&loaded), "no memo\n");
    assert!(data.join("plain").is_dir());

    // `..wasm` (stem `.`) and `...wasm` (stem `..`), from --plugin or from
    // a plugin directory: one line each, and nothing outside `data` is made.
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for file in ["..wasm", "...wasm"] {
        std::fs::write(plugins.join(file), &bytes).unwrap();
    }
    let dot = plugins.join("..wasm");
    let from_flag = ["--data-dir", data_arg, "--plugin", dot.to_str().unwrap()];
    let from_dir = [
        "--data-dir",
        data_arg,
        "--plugin-dir",
        plugins.to_str().unwrap(),
    ];
    for (args, refused) in [(&from_flag[..], 1), (&from_dir[..], 2)] {
        let output = precept_run_in(
            &dir,
            &[args, &["dispatch", "remember", "text=escaped"]].concat(),
        );
        assert_eq!(output.status.code(), Some(3), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), refused, "{stderr}");
        assert!(
            errors
                .iter()
                .all(|e| e.contains("its file name '") && e.contains("is not usable")),
            "{stderr}"
        );
    }
    let mut made: Vec<String> = std::fs::read_dir(dir.join("root"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(made, ["data", "secret.txt"]);
    assert!(!data.join("memo.txt").exists());
}
