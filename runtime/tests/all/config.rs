//! `precept-run` with a configuration file, global options, plugin
//! directories, `dump-config`, `inspect` and `completions`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{precept_run_in, scratch, text};

fn toml_path(path: &str) -> String {
    format!("{path:?}")
}

#[test]
fn the_configuration_file_loads_plugins_with_their_grants_and_values() {
    let dir = scratch("load");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/note.txt"), "from the grant").unwrap();
    let config = format!(
        r#"
        plugins = [{greet}, {hostile}]

        [plugin.greet.config]
        greeting = "Hi"

        [plugin.hostile]
        dirs = [{{ host = "data", guest = "/data" }}]
        args = ["read-file", "/data/note.txt"]
        "#,
        greet = toml_path(precept_tests::GREET),
        hostile = toml_path(precept_tests::HOSTILE),
    );
    // `precept.toml` in the working directory is read without `-c`, once
    // trusted.
    std::fs::write(dir.join("precept.toml"), config).unwrap();
    assert!(precept_run_in(&dir, &["trust"]).status.success());

    let output = precept_run_in(&dir, &["greet", "--name", "Ada"]);

    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Hi, Ada!"), "{stdout}");
    assert!(stdout.contains("hostile: ok: from the grant"), "{stdout}");
}

#[test]
fn flags_override_the_file() {
    let dir = scratch("override");
    let config = format!(
        "plugins = [{}]\n[limits]\ndeadline-ms = 60000\n",
        toml_path(precept_tests::LOOP)
    );
    std::fs::write(dir.join("custom.toml"), config).unwrap();

    let output = precept_run_in(
        &dir,
        &[
            "-c",
            "custom.toml",
            "--deadline",
            "200",
            "dispatch",
            "nothing",
        ],
    );

    assert_eq!(output.status.code(), Some(4), "{output:?}");
    assert!(
        text(&output.stderr).contains("ran longer than 200ms"),
        "{output:?}"
    );
}

#[test]
fn a_bad_file_gives_one_line_with_file_line_key_and_expectation() {
    let dir = scratch("bad");
    for (content, expected) in [
        (
            "[limits]\ndeadline-ms = \"soon\"\n",
            "bad.toml:2: deadline-ms: invalid type: string \"soon\", expected u64",
        ),
        (
            "plugins = []\nplugin-dirs = \"x\"\n",
            "bad.toml:2: unknown field `plugin-dirs`, expected one of",
        ),
    ] {
        std::fs::write(dir.join("bad.toml"), content).unwrap();
        let output = precept_run_in(&dir, &["-c", "bad.toml"]);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("error: {expected}")),
            "{stderr}"
        );
    }
    let output = precept_run_in(&dir, &["-c", "missing.toml"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        text(&output.stderr).starts_with("error: missing.toml: "),
        "{output:?}"
    );
}

#[test]
fn a_plugin_value_of_the_wrong_type_or_key_is_refused() {
    let dir = scratch("values");
    for (value, expected) in [
        (
            "greeting = 3",
            "plugin.greet.config.greeting: expected text like the default \"Hello\", found an integer",
        ),
        (
            "greting = \"Hi\"",
            "plugin.greet.config.greting: unknown key; greet declares greeting",
        ),
    ] {
        let config = format!(
            "plugins = [{}]\n[plugin.greet.config]\n{value}\n",
            toml_path(precept_tests::GREET)
        );
        std::fs::write(dir.join("precept.toml"), config).unwrap();
        assert!(precept_run_in(&dir, &["trust"]).status.success());
        // greet is loaded lazily, by its command (its values are checked
        // then), or at start with fail-fast.
        for args in [&["greet", "-n", "Ada"][..], &["--fail-fast"]] {
            let output = precept_run_in(&dir, args);
            assert_eq!(output.status.code(), Some(3), "{output:?}");
            let stderr = text(&output.stderr);
            assert!(stderr.contains(expected), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
    }
}

fn chatty_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.contains("chatty: chatty"))
        .collect()
}

#[test]
fn verbosity_and_log_file_decide_what_is_written_where() {
    let dir = scratch("logs");
    let run = |extra: &[&str]| {
        let mut args = vec!["--plugin", precept_tests::CHATTY];
        args.extend_from_slice(extra);
        args.push("dispatch");
        args.push("nothing");
        let output = precept_run_in(&dir, &args);
        assert!(output.status.success(), "{output:?}");
        text(&output.stderr)
    };
    let levels = |stderr: &str| {
        let mut seen: Vec<String> = chatty_lines(stderr)
            .iter()
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect();
        seen.dedup();
        seen
    };
    assert_eq!(
        levels(&run(&[])),
        ["INFO", "WARN", "ERROR", "INFO", "WARN", "ERROR"]
    );
    assert_eq!(levels(&run(&["-v"]))[0], "DEBUG");
    assert_eq!(levels(&run(&["-vv"]))[0], "TRACE");
    assert_eq!(levels(&run(&["--quiet"])), ["ERROR"]);

    let log = dir.join("run.log");
    let stderr = run(&["-v", "--log-file", log.to_str().unwrap()]);
    assert!(chatty_lines(&stderr).is_empty(), "{stderr}");
    let written = std::fs::read_to_string(&log).unwrap();
    assert_eq!(chatty_lines(&written).len(), 8, "{written}");
    assert!(
        written.contains("DEBUG chatty: chatty debug setup"),
        "{written}"
    );
}

#[test]
fn dump_config_loads_back_unchanged() {
    let dir = scratch("dump");
    let first = precept_run_in(
        &dir,
        &[
            "--plugin",
            precept_tests::GREET,
            "--plugin",
            precept_tests::HELLO,
            "--plugin",
            precept_tests::HOSTILE,
            "--env",
            "hostile=MODE=fast",
            "--deadline",
            "750",
            "dump-config",
        ],
    );
    assert!(first.status.success(), "{first:?}");
    let dumped: String = text(&first.stdout)
        .lines()
        .filter(|l| !l.starts_with("hello: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        dumped.contains("# The word to greet with\ngreeting = \"Hello\""),
        "{dumped}"
    );
    assert!(dumped.contains("env = { MODE = \"fast\" }"), "{dumped}");
    assert!(dumped.contains("deadline-ms = 750"), "{dumped}");
    std::fs::write(dir.join("dumped.toml"), &dumped).unwrap();

    let second = precept_run_in(&dir, &["-c", "dumped.toml", "dump-config"]);
    assert!(second.status.success(), "{second:?}");
    let again: String = text(&second.stdout)
        .lines()
        .filter(|l| !l.starts_with("hello: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(again, dumped);
}

#[test]
fn a_plugin_directory_loads_every_component_and_names_must_differ() {
    let dir = scratch("plugin-dir");
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(precept_tests::GREET, plugins.join("greet.wasm")).unwrap();
    std::fs::copy(precept_tests::HELLO, plugins.join("hello.wasm")).unwrap();
    std::fs::write(plugins.join("notes.txt"), "not a plugin").unwrap();

    let output = precept_run_in(&dir, &["--plugin-dir", "plugins", "greet", "-n", "Ada"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Hello, Ada!") && stdout.contains("hello: cli_started"),
        "{stdout}"
    );

    let output = precept_run_in(
        &dir,
        &["--plugin-dir", "plugins", "--plugin", precept_tests::HELLO],
    );
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(
        text(&output.stderr).contains("plugin 'hello'")
            && text(&output.stderr).contains("already loaded"),
        "{output:?}"
    );
}

#[test]
fn inspect_json_lists_subscriptions_commands_and_config() {
    let dir = scratch("inspect");
    let output = precept_run_in(&dir, &["inspect", "--json", precept_tests::GREET]);
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["name"], "greet");
    assert_eq!(report["world"], "precept:plugin@0.2.0");
    assert_eq!(report["commands"][0]["name"], "greet");
    let args: Vec<&str> = report["commands"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(args, ["name", "times", "shout"]);
    assert_eq!(report["config"][0]["key"], "greeting");
    assert_eq!(report["config"][0]["default"], "Hello");

    let output = precept_run_in(&dir, &["inspect", "--json", precept_tests::PING]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["subscriptions"],
        serde_json::json!(["cli_started", "cli_stopped", "pong"])
    );
    assert!(
        report["exports"]
            .as_array()
            .unwrap()
            .contains(&"on-event".into())
    );

    let output = precept_run_in(&dir, &["inspect", precept_tests::RECORDER]);
    assert!(
        text(&output.stdout).contains("services      recorder"),
        "{output:?}"
    );
}

#[test]
fn completions_include_plugin_commands() {
    let dir = scratch("completions");
    let output = precept_run_in(
        &dir,
        &["--plugin", precept_tests::GREET, "completions", "bash"],
    );
    assert!(output.status.success(), "{output:?}");
    let script = text(&output.stdout);
    assert!(
        script.contains("greet") && script.contains("--times"),
        "{script}"
    );
}

/// The compiled components in the cache `dir`.
fn compiled_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries = cache_entries(dir);
    entries.retain(|entry| entry.extension().is_some_and(|ext| ext == "cwasm"));
    entries
}

/// Every file in the cache `dir`'s entry directories.
fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for entry in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            found.push(entry.path());
        }
    }
    found
}

#[test]
fn the_second_start_maps_the_cached_component() {
    let dir = scratch("cache");
    let cache = dir.join("cache");
    let args = [
        "-v",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--plugin",
        precept_tests::HELLO,
    ];

    let first = precept_run_in(&dir, &args);
    assert!(first.status.success(), "{first:?}");
    assert!(
        text(&first.stderr).contains("compiled a component"),
        "{first:?}"
    );
    assert_eq!(compiled_entries(&cache).len(), 1);

    let second = precept_run_in(&dir, &args);
    assert!(second.status.success(), "{second:?}");
    let stderr = text(&second.stderr);
    assert!(stderr.contains("mapped the compiled component"), "{stderr}");
    assert!(!stderr.contains("compiled a component"), "{stderr}");
}

#[test]
fn a_corrupt_cache_entry_is_compiled_again_with_a_warning() {
    let dir = scratch("corrupt");
    let cache = dir.join("cache");
    let args = [
        "--cache-dir",
        cache.to_str().unwrap(),
        "--plugin",
        precept_tests::HELLO,
    ];
    assert!(precept_run_in(&dir, &args).status.success());
    let entry = compiled_entries(&cache).pop().unwrap();
    std::fs::write(&entry, b"not a compiled component").unwrap();

    let output = precept_run_in(&dir, &args);

    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("WARN compiled cache entry") && stderr.contains("is unusable"),
        "{stderr}"
    );
    assert!(text(&output.stdout).contains("hello: cli_stopped"));
    assert!(
        std::fs::metadata(&entry).unwrap().len() > 1000,
        "the entry was written again"
    );
}

/// Runs `plugin` once with the cache in `cache`, and returns its one entry.
fn cached_entry(dir: &Path, cache: &Path, plugin: &str) -> PathBuf {
    let output = precept_run_in(
        dir,
        &["--cache-dir", cache.to_str().unwrap(), "--plugin", plugin],
    );
    assert!(output.status.success(), "{output:?}");
    compiled_entries(cache).pop().expect("one cache entry")
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_cache_directory_its_key_and_its_entries_are_private() {
    let dir = scratch("private");
    let cache = dir.join("new/cache");
    let entry = cached_entry(&dir, &cache, precept_tests::HELLO);

    assert_eq!(mode(&cache), 0o700);
    assert_eq!(mode(&dir.join("new")), 0o700, "created parents too");
    assert_eq!(mode(entry.parent().unwrap()), 0o700);
    assert_eq!(mode(&cache.join("key")), 0o600);
    assert_eq!(std::fs::metadata(cache.join("key")).unwrap().len(), 32);
    assert_eq!(mode(&entry), 0o600);
}

/// Longer than a file's last change must be old for the cache to remember
/// its hash (`compile::seen`).
const SETTLED: std::time::Duration = std::time::Duration::from_millis(1100);

#[test]
fn a_planted_cache_entry_is_compiled_again_never_mapped() {
    let dir = scratch("planted");
    let cache = dir.join("cache");
    let hello = cached_entry(&dir, &cache, precept_tests::HELLO);
    let args = [
        "-v",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--plugin",
        precept_tests::HELLO,
    ];
    // Hello's entry checked once it is settled: its tag is remembered.
    std::thread::sleep(SETTLED);
    assert!(precept_run_in(&dir, &args).status.success());
    assert!(cache.join("seen").read_dir().unwrap().count() >= 1);

    let plant = |entry: &Path| {
        std::fs::copy(entry, &hello).unwrap();
        std::fs::copy(entry.with_extension("tag"), hello.with_extension("tag")).unwrap();
    };

    // Another entry of this cache written over hello's, whose remembered
    // tag is kept: the file changed, so it is checked again.
    std::fs::copy(cached_entry(&dir, &cache, precept_tests::NOOP), &hello).unwrap();
    let output = precept_run_in(&dir, &args);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("not written by this cache"), "{stderr}");
    assert!(
        text(&output.stdout).contains("hello: cli_stopped"),
        "{output:?}"
    );

    // A valid compiled component and its tag, written by precept-run with
    // another key, planted where hello's entry is: the tag does not match.
    let elsewhere = dir.join("elsewhere");
    plant(&cached_entry(&dir, &elsewhere, precept_tests::NOOP));
    let output = precept_run_in(&dir, &args);
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("not written by this cache"), "{stderr}");
    assert!(stderr.contains("compiled a component"), "{stderr}");
    assert!(
        !stderr.contains("mapped the compiled component"),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains("hello: cli_stopped"),
        "{output:?}"
    );

    // This cache's own entry for another component, moved to hello's name:
    // the tag covers the name too.
    plant(&cached_entry(&dir, &cache, precept_tests::NOOP));
    let output = precept_run_in(&dir, &args);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("not written by this cache"), "{stderr}");
    assert!(
        text(&output.stdout).contains("hello: cli_stopped"),
        "{output:?}"
    );

    // Written again, the entry is mapped on the next start.
    let output = precept_run_in(&dir, &args);
    assert!(
        text(&output.stderr).contains("mapped the compiled component"),
        "{output:?}"
    );
}

#[test]
fn a_plugin_file_written_after_its_hash_was_remembered_is_hashed_again() {
    let dir = scratch("remembered");
    let cache = dir.join("cache");
    let plugin = dir.join("plugin.wasm");
    std::fs::copy(precept_tests::HELLO, &plugin).unwrap();
    std::thread::sleep(SETTLED);
    let args = [
        "--cache-dir",
        cache.to_str().unwrap(),
        "--plugin",
        plugin.to_str().unwrap(),
    ];
    // The first start hashes the file and remembers its hash, the second
    // uses it.
    for _ in 0..2 {
        let output = precept_run_in(&dir, &args);
        assert!(
            text(&output.stdout).contains("hello: cli_stopped"),
            "{output:?}"
        );
    }
    assert!(cache.join("seen").read_dir().unwrap().count() >= 1);

    // Another component written into the same file: the code that runs is
    // the file's, not what was compiled for the hash remembered.
    std::fs::write(&plugin, std::fs::read(precept_tests::NOOP).unwrap()).unwrap();
    let output = precept_run_in(&dir, &args);
    assert!(output.status.success(), "{output:?}");
    assert!(!text(&output.stdout).contains("hello"), "{output:?}");
    assert_eq!(compiled_entries(&cache).len(), 2, "noop compiled");
}

#[test]
fn a_cache_directory_or_key_open_to_others_is_not_used() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("open");
    let cache = dir.join("cache");
    let hello = cached_entry(&dir, &cache, precept_tests::HELLO);
    let args = [
        "-v",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--plugin",
        precept_tests::HELLO,
    ];
    let chmod = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };

    chmod(&cache, 0o777);
    std::fs::remove_file(&hello).unwrap();
    let output = precept_run_in(&dir, &args);
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("not using the compile cache") && stderr.contains("is open to other users"),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains("hello: cli_stopped"),
        "{output:?}"
    );
    assert!(
        !hello.exists(),
        "nothing written to a directory others can write"
    );

    chmod(&cache, 0o700);
    chmod(&cache.join("key"), 0o644);
    let output = precept_run_in(&dir, &args);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("key is open to other users"), "{stderr}");
    assert!(!hello.exists());

    // An entry others can write is not mapped.
    chmod(&cache.join("key"), 0o600);
    assert!(precept_run_in(&dir, &args).status.success());
    chmod(&hello, 0o666);
    let output = precept_run_in(&dir, &args);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("is open to other users") && stderr.contains("compiling again"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("mapped the compiled component"),
        "{stderr}"
    );
    assert_eq!(mode(&hello), 0o600, "written again, private");
}

#[test]
fn a_cache_directory_of_another_user_is_not_used() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = scratch("owner");
    // As root, a directory given to `nobody`; as anyone else, one of root's.
    let probe = dir.join("probe");
    std::fs::write(&probe, "").unwrap();
    let cache = if std::fs::metadata(&probe).unwrap().uid() == 0 {
        let cache = dir.join("nobody");
        std::fs::create_dir(&cache).unwrap();
        std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).unwrap();
        cache
    } else {
        PathBuf::from("/usr")
    };

    let output = precept_run_in(
        &dir,
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            "--plugin",
            precept_tests::HELLO,
        ],
    );

    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("belongs to another user"), "{stderr}");
    assert!(!cache.join("key").exists());
    assert!(
        text(&output.stdout).contains("hello: cli_stopped"),
        "{output:?}"
    );
}

#[test]
fn no_cache_keeps_nothing_on_disk() {
    let dir = scratch("no-cache");
    let cache = dir.join("cache");
    let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(["--no-cache", "--plugin", precept_tests::HELLO])
        .env("PRECEPT_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(cache_entries(&cache).is_empty());
    // Without --no-cache the same variable is where the cache goes.
    let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(["--plugin", precept_tests::HELLO])
        .env("PRECEPT_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(compiled_entries(&cache).len(), 1);
}
