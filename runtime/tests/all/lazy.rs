//! Plugins loaded lazily, through `precept-run`: `sleeper` declares the
//! event its `setup` subscribes to (`wake-up`) and the command it adds
//! (`nap`), and prints a line when its `setup` runs.

use std::path::Path;

use crate::common::{HELLO_LIFECYCLE, hello_lines, precept_run_in, scratch, text};

const SETUP_LINE: &str = "sleeper: setup";

/// Runs `precept-run` in `dir` with sleeper and hello as plugins.
fn run(dir: &Path, args: &[&str]) -> (std::process::Output, String) {
    let mut all = vec![
        "--plugin",
        precept_tests::SLEEPER,
        "--plugin",
        precept_tests::HELLO,
    ];
    all.extend_from_slice(args);
    let output = precept_run_in(dir, &all);
    let stdout = text(&output.stdout);
    (output, stdout)
}

#[test]
fn a_lazy_plugin_is_not_set_up_when_nothing_needs_it_and_help_lists_its_command() {
    let dir = scratch("lazy-idle");

    let (output, stdout) = run(&dir, &["dispatch", "other"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE, "{stdout}");
    assert!(!stdout.contains(SETUP_LINE), "{stdout}");

    let (output, stdout) = run(&dir, &["--help"]);
    assert!(output.status.success(), "{output:?}");
    let nap = stdout.lines().find(|l| l.trim_start().starts_with("nap"));
    assert!(nap.is_some_and(|l| l.contains("Take a nap")), "{stdout}");
    assert!(!stdout.contains(SETUP_LINE), "{stdout}");

    let (output, stdout) = run(&dir, &["nap", "--help"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("--minutes <MINUTES>"), "{stdout}");
    assert!(!stdout.contains(SETUP_LINE), "{stdout}");
}

#[test]
fn its_command_loads_it_then_runs() {
    let dir = scratch("lazy-command");

    let (output, stdout) = run(&dir, &["nap", "--minutes", "3"]);

    assert!(output.status.success(), "{output:?}");
    let setup = stdout.find("sleeper: setup (1 set up)");
    let nap = stdout.find("sleeper: nap for 3 minutes");
    assert!(setup.is_some() && setup < nap, "{stdout}");
    // Loaded after `cli_started` was dispatched, which it did not declare.
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE, "{stdout}");
}

#[test]
fn its_event_loads_it_and_reaches_it_in_its_place() {
    let dir = scratch("lazy-event");

    let (output, stdout) = run(&dir, &["dispatch", "wake-up"]);

    assert!(output.status.success(), "{output:?}");
    let setup = stdout.find("sleeper: setup (1 set up)");
    // The first subscriber: loaded before hello, which did not subscribe.
    let got = stdout.find("sleeper: got wake-up as subscriber #0");
    assert!(setup.is_some() && setup < got, "{stdout}");
    assert_eq!(stdout.matches(SETUP_LINE).count(), 1, "{stdout}");
}

/// Runs sleeper, configured by `config` (trusted), with `args`.
fn run_configured(dir: &Path, config: &str, args: &[&str]) -> (std::process::Output, String) {
    let config = format!("plugins = [{:?}]\n{config}", precept_tests::SLEEPER);
    std::fs::write(dir.join("precept.toml"), config).unwrap();
    assert!(precept_run_in(dir, &["trust"]).status.success());
    let output = precept_run_in(dir, args);
    let stderr = text(&output.stderr);
    (output, stderr)
}

#[test]
fn a_setup_that_adds_another_command_than_declared_fails_its_load_in_one_line() {
    let dir = scratch("lazy-other-command");
    let config = "[plugin.sleeper.config]\ncommand = \"snooze\"\n";

    let (output, stderr) = run_configured(&dir, config, &["nap"]);

    // Exit code 3: a plugin could not be loaded (its command failed too).
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let line = "error: plugin 'sleeper' (";
    let reason = "does not do what its [lazy] table declares: it adds the command 'snooze', which it does not declare";
    let found = stderr
        .lines()
        .filter(|l| l.starts_with(line) && l.ends_with(reason));
    assert_eq!(found.count(), 1, "{stderr}");
    assert!(!text(&output.stdout).contains("sleeper: nap"), "{output:?}");
}

#[test]
fn a_setup_that_subscribes_to_an_undeclared_event_fails_and_the_dispatch_goes_on() {
    let dir = scratch("lazy-other-event");
    let config = "[plugin.sleeper.config]\nevent = \"other\"\n";

    let (output, stderr) = run_configured(&dir, config, &["dispatch", "wake-up"]);

    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let reason = "it subscribes to 'other', which it does not declare";
    assert_eq!(
        stderr.lines().filter(|l| l.ends_with(reason)).count(),
        1,
        "{stderr}"
    );
}

#[test]
fn inspect_loads_it_and_says_when_it_would_load() {
    let dir = scratch("lazy-inspect");

    let output = precept_run_in(&dir, &["inspect", precept_tests::SLEEPER]);

    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("nap — Take a nap"), "{stdout}");
    assert!(
        stdout.contains("loads         when first needed: events wake-up; commands nap"),
        "{stdout}"
    );
}

/// `count` copies of sleeper in `dir`, loaded by its trusted
/// `precept.toml` (see `precept_tests::sleepers`).
fn sleepers(dir: &Path, count: usize, lazy: bool) {
    precept_tests::sleepers(dir, count, lazy);
    assert!(precept_run_in(dir, &["trust"]).status.success());
}

#[test]
fn of_many_copies_of_one_component_only_the_one_needed_is_set_up() {
    let dir = scratch("lazy-many");
    sleepers(&dir, 3, true);

    let output = precept_run_in(&dir, &["nap-1", "--minutes", "2"]);

    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert_eq!(stdout.matches(SETUP_LINE).count(), 1, "{stdout}");
    assert!(stdout.contains("sleeper: nap-1 for 2 minutes"), "{stdout}");

    // Eager copies: every one is set up.
    let dir = scratch("eager-many");
    sleepers(&dir, 3, false);
    let output = precept_run_in(&dir, &["nap-1"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout).matches(SETUP_LINE).count(), 3);
}

#[test]
fn a_failed_load_before_its_command_runs_leaves_the_command_to_say_so() {
    let dir = scratch("lazy-early-failure");
    // Declares `cli_parsed` too, so that parsing wakes it before `nap`
    // runs; its configured command is not the one it declares.
    let declared = "[lazy]\nevents = [\"cli_parsed\", \"wake-up\"]\ncommands = [{ name = \"nap\", help = \"Take a nap\", args = [{ name = \"minutes\", help = \"How long\", kind = \"integer\", default = \"5\" }] }]\n";
    precept_tests::copy_with_manifest(precept_tests::SLEEPER, "sleeper", declared, &dir);
    let config = "plugins = [\"sleeper.wasm\"]\n[plugin.sleeper.config]\ncommand = \"snooze\"\n";
    std::fs::write(dir.join("precept.toml"), config).unwrap();
    assert!(precept_run_in(&dir, &["trust"]).status.success());

    let output = precept_run_in(&dir, &["nap"]);

    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].ends_with("it adds the command 'snooze', which it does not declare"));
}

#[test]
fn it_holds_its_place_after_a_plugin_loaded_at_start_before_it() {
    let dir = scratch("lazy-after-eager");
    // `early`: the same component declaring nothing, loaded at start.
    precept_tests::copy_with_manifest(precept_tests::SLEEPER, "early", "", &dir);
    let config = format!(
        "plugins = [\"early.wasm\", {:?}]\n[plugin.early.config]\ncommand = \"early-nap\"\n",
        precept_tests::SLEEPER
    );
    std::fs::write(dir.join("precept.toml"), config).unwrap();
    assert!(precept_run_in(&dir, &["trust"]).status.success());

    let output = precept_run_in(&dir, &["dispatch", "wake-up"]);

    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("sleeper: "))
        .collect();
    assert_eq!(
        lines,
        [
            "sleeper: setup (1 set up)",
            "sleeper: got wake-up as subscriber #0",
            "sleeper: setup (2 set up)",
            "sleeper: got wake-up as subscriber #1",
        ],
        "{stdout}"
    );

    // A command of the plugin before it is its own: the later one's
    // clashes, at start.
    let config = format!(
        "plugins = [\"early.wasm\", {:?}]\n[plugin.early.config]\ncommand = \"nap\"\n",
        precept_tests::SLEEPER
    );
    std::fs::write(dir.join("precept.toml"), config).unwrap();
    assert!(precept_run_in(&dir, &["trust"]).status.success());
    let output = precept_run_in(&dir, &["nap", "--minutes", "1"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("adds the command 'nap', which plugin 'early' already provides"),
        "{stderr}"
    );
    assert!(text(&output.stdout).contains("sleeper: nap for 1 minutes"));
}

#[test]
fn fail_fast_and_a_new_lockfile_load_every_plugin_at_start() {
    let dir = scratch("lazy-eager-runs");
    let config = format!("plugins = [{:?}]\n", precept_tests::SLEEPER);
    std::fs::write(dir.join("precept.toml"), config).unwrap();
    assert!(precept_run_in(&dir, &["trust"]).status.success());

    for args in [
        &["--fail-fast", "dispatch", "x"][..],
        &["--update-lock", "dispatch", "x"],
    ] {
        let output = precept_run_in(&dir, args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        assert!(
            text(&output.stdout).contains(SETUP_LINE),
            "{args:?}: {output:?}"
        );
    }
    let lock = std::fs::read_to_string(dir.join("precept.lock")).unwrap();
    assert!(lock.contains("sleeper"), "{lock}");
}

#[test]
fn a_lockfile_that_pins_it_is_checked_at_start_though_nothing_needs_it() {
    let dir = scratch("lazy-locked");
    let plugin = dir.join("sleeper.wasm");
    std::fs::copy(precept_tests::SLEEPER, &plugin).unwrap();
    std::fs::write(dir.join("precept.toml"), "plugins = [\"sleeper.wasm\"]\n").unwrap();
    assert!(precept_run_in(&dir, &["trust"]).status.success());
    assert!(precept_run_in(&dir, &["lock"]).status.success());
    // The configuration is trusted with its lockfile.
    assert!(precept_run_in(&dir, &["trust"]).status.success());
    assert!(precept_run_in(&dir, &["dispatch", "x"]).status.success());

    precept_tests::rebuild(&plugin, 1);
    let output = precept_run_in(&dir, &["dispatch", "x"]);

    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("error: plugin 'sleeper' (sleeper.wasm) is not as "),
        "{stderr}"
    );
    assert!(!text(&output.stdout).contains(SETUP_LINE), "{output:?}");
}

#[test]
fn an_installed_plugin_is_kept_from_its_record_without_reading_its_file() {
    let dir = scratch("lazy-installed");
    let file = precept_tests::sleeper_build(7, "sleeper-7", true, &dir.join("builds"));
    let added = precept_run_in(&dir, &["plugin", "add", file.to_str().unwrap()]);
    assert!(added.status.success(), "{added:?}");
    let home = dir.join(".local/share/precept-run/plugins");
    let record = std::fs::read_to_string(home.join("installed.toml")).unwrap();
    assert!(record.contains("[plugin.lazy]"), "{record}");
    assert!(record.contains("wake-up-7"), "{record}");

    // Its file is not read at start: unreadable, nothing is said until
    // its command runs.
    let installed = home.join("sleeper-7.wasm");
    let bytes = std::fs::read(&installed).unwrap();
    std::fs::write(&installed, b"not read").unwrap();
    let output = precept_run_in(&dir, &["dispatch", "x"]);
    assert!(output.status.success(), "{output:?}");
    assert!(!text(&output.stdout).contains(SETUP_LINE), "{output:?}");
    let output = precept_run_in(&dir, &["nap-7"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: plugin 'sleeper-7'"), "{stderr}");

    // Another build declaring the same: refused by its record when it
    // loads (its BLAKE3 hash).
    std::fs::write(&installed, &bytes).unwrap();
    precept_tests::rebuild(&installed, 1);
    let output = precept_run_in(&dir, &["nap-7"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not as "), "{stderr}");
    assert!(stderr.contains("its file changed"), "{stderr}");
    // A build declaring another command than its record says.
    let other = precept_tests::sleeper_build(8, "sleeper-7", true, &dir.join("other"));
    std::fs::copy(&other, &installed).unwrap();
    let output = precept_run_in(&dir, &["nap-7"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("its [lazy] table is not the one its record in the plugin home holds"),
        "{stderr}"
    );

    // Its own bytes again.
    std::fs::write(&installed, &bytes).unwrap();
    let output = precept_run_in(&dir, &["nap-7", "--minutes", "4"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert_eq!(stdout.matches(SETUP_LINE).count(), 1, "{stdout}");
    assert!(stdout.contains("sleeper: nap-7 for 4 minutes"), "{stdout}");
}
