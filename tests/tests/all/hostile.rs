//! Hostile and broken plugins, each loaded beside a well-behaved one: the
//! hostile one is contained with its line, the good one receives every
//! event, the exit status is the documented one, and nothing outside the
//! grants is read or written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{app, log, probe};
use precept::trust::DirGrant;
use precept::{App, ExitStatus, FailureKind, LoadError, PluginFailure, Sandbox, Value};

/// What the good plugin logs when the hostile one (subscribed to
/// `cli_started` only, and first) is there.
const LIFECYCLE: [&str; 4] = [
    "good:before_cli_start:0",
    "good:cli_parsed:0",
    "good:cli_started:1",
    "good:cli_stopped:0",
];

/// A sandbox with short deadlines and small limits, so tests end quickly.
fn tight() -> Sandbox {
    let mut sandbox = Sandbox::default();
    sandbox.limits.call = Duration::from_millis(300);
    sandbox.limits.memory_bytes = 32 << 20;
    sandbox.limits.table_elements = 100_000;
    sandbox
}

/// Loads the hostile plugin in `mode` (its `arg` too), then a good probe,
/// and runs the lifecycle.
async fn run_hostile(mode: &str, arg: &str, sandbox: Sandbox) -> (App, ExitStatus) {
    let mut app = app();
    app.vars().set("hostile.mode", mode);
    app.vars().set("hostile.arg", arg);
    let loaded = app
        .load_plugin_with(precept_tests::HOSTILE, &sandbox.into())
        .await;
    assert!(loaded.is_ok(), "{mode}: {loaded:?}");
    probe(&mut app, "good", &[]).await;
    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;
    (app, status)
}

/// The one failure the hostile plugin caused.
fn contained(app: &App, kind: FailureKind) -> PluginFailure {
    let failures = app.events().failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = failures[0].clone();
    assert_eq!(failure.plugin, "hostile");
    assert_eq!(failure.kind, kind, "{failure}");
    assert!(!failure.to_string().contains('\n'));
    assert!(app.plugins()[0].is_disabled() || kind == FailureKind::Error);
    failure
}

fn result(app: &App) -> String {
    match app.vars().get("hostile.result") {
        Some(Value::Text(text)) => text,
        other => panic!("no result: {other:?}"),
    }
}

#[tokio::test]
async fn an_endless_event_handler_times_out() {
    let (app, status) = run_hostile("loop-event", "", tight()).await;
    let failure = contained(&app, FailureKind::Timeout);
    assert_eq!(
        failure.to_string(),
        "plugin 'hostile' timed out in on-event(cli_started): ran longer than 300ms"
    );
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_panicking_event_handler_traps() {
    let (app, status) = run_hostile("panic-event", "", tight()).await;
    let failure = contained(&app, FailureKind::Trap);
    assert!(failure.cause.contains("unreachable"), "{failure}");
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    let (app, status) = run_hostile("memory-bomb", "", tight()).await;
    let failure = contained(&app, FailureKind::Limit);
    assert!(failure.cause.contains("the limit is 33554432"), "{failure}");
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_handle_hoard_is_cut_at_the_handle_budget() {
    // 500 handles fit the default budget of 1,024 (beside those the
    // plugin's standard library holds) ...
    let (app, status) = run_hostile("handle-hoard", "500", tight()).await;
    assert_eq!(status, ExitStatus::Success, "{:?}", app.events().failures());
    assert_eq!(result(&app), "ok: 500 handles");
    // ... 2,000 do not: the host call that would hold one more traps, and
    // the plugin's handles go with its store.
    let (app, status) = run_hostile("handle-hoard", "2000", tight()).await;
    let failure = contained(&app, FailureKind::Trap);
    assert!(failure.cause.contains("no free keys"), "{failure}");
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn unbounded_re_entrant_dispatch_is_cut() {
    let (app, status) = run_hostile("recursion", "", tight()).await;
    let failure = contained(&app, FailureKind::Limit);
    assert_eq!(failure.export, "dispatch");
    assert_eq!(status, ExitStatus::PluginFailed);
    // The good plugin also got the re-entrant `cli_started`s before the cut.
    let log = log(&app);
    assert_eq!(log[..2], LIFECYCLE[..2], "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("good:cli_stopped:0"));
}

#[tokio::test]
async fn an_event_storm_is_cut_and_delivers_nothing() {
    let mut app = app();
    app.vars().set("hostile.mode", "storm");
    app.load_plugin_with(precept_tests::HOSTILE, &tight().into())
        .await
        .unwrap();
    probe(
        &mut app,
        "good",
        &[(
            "subscribe",
            crate::common::texts(&["storm-0", "cli_stopped"]),
        )],
    )
    .await;

    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    let failure = contained(&app, FailureKind::Limit);
    assert!(failure.cause.contains("more than 1024 events"), "{failure}");
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), ["good:cli_stopped:0"]);
}

#[tokio::test]
async fn a_huge_payload_is_refused() {
    let (app, status) = run_hostile("huge-payload", "", tight()).await;
    let failure = contained(&app, FailureKind::Limit);
    assert!(
        // 8 MiB of text, its name, and the entry itself.
        failure.cause.contains(&format!(
            "payload of {} bytes",
            (8 << 20) + "data".len() + precept::limits::ENTRY_BYTES
        )),
        "{failure}"
    );
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_payload_of_empty_entries_is_charged_for_every_entry() {
    // 100,000 entries with empty names and empty text: the host keeps an
    // entry (a String and a Value) for each, whatever they hold.
    let (app, status) = run_hostile("empty-entries", "100000", tight()).await;
    let failure = contained(&app, FailureKind::Limit);
    let size = 100_000 * precept::limits::ENTRY_BYTES;
    assert!(
        failure.cause.contains(&format!(
            "sent a payload of {size} bytes; the limit is 1048576"
        )),
        "{failure}"
    );
    assert_eq!(status, ExitStatus::PluginFailed);
    assert_eq!(log(&app), LIFECYCLE);
}

#[tokio::test]
async fn a_variable_of_empty_items_is_charged_for_every_item() {
    // 100,000 empty strings: a Scalar each in the host, the value itself,
    // and its name.
    let (app, status) = run_hostile("empty-list-var", "100000", tight()).await;
    let failure = contained(&app, FailureKind::Limit);
    let size = "hoard".len() + precept::limits::VALUE_BYTES + 100_000 * precept::limits::ITEM_BYTES;
    assert!(
        failure
            .cause
            .contains(&format!("sent a payload of {size} bytes")),
        "{failure}"
    );
    assert_eq!(app.vars().get("hoard"), None);
    assert_eq!(status, ExitStatus::PluginFailed);
}

#[tokio::test]
async fn appending_empty_items_stops_at_the_payload_bound() {
    // Each empty item costs a Scalar: a list of `q` stays within 1 MiB.
    // Tens of thousands of host calls: the byte bound, not the clock,
    // must be what stops them, however loaded the machine.
    let mut sandbox = tight();
    sandbox.limits.call = Duration::from_secs(20);
    sandbox.limits.wait = Duration::from_secs(20);
    let (app, status) = run_hostile("empty-append", "200000", sandbox).await;
    assert_eq!(status, ExitStatus::Success, "{:?}", app.events().failures());
    let (limit, fixed) = (1 << 20, "q".len() + precept::limits::VALUE_BYTES);
    let most = (limit - fixed) / precept::limits::ITEM_BYTES;
    let past = fixed + (most + 1) * precept::limits::ITEM_BYTES;
    assert_eq!(
        result(&app),
        format!(
            "err: after {most} items: variable 'q' would hold {past} bytes; the limit is {limit}"
        )
    );
    let Some(Value::List(items)) = app.vars().get("q") else {
        panic!("no list")
    };
    assert_eq!(items.len(), most);
}

#[tokio::test]
async fn declaring_a_key_again_and_again_is_bounded_in_bytes() {
    // 600 declarations of one key, 200 KB each: the requests one call may
    // leave are 4 MiB together.
    let error = refused_at_setup("declare-repeat").await;
    assert!(
        error
            .to_string()
            .contains("bytes of requests waiting; the budget is 4194304"),
        "{error}"
    );
    // 128 keys of 100 KB: the keys a plugin declares are 256 KiB together.
    let error = refused_at_setup("declare-many").await;
    assert!(
        error
            .to_string()
            .contains("bytes of configuration keys; the budget is 262144"),
        "{error}"
    );
}

/// Loads the hostile plugin in the setup mode `mode`: it is refused.
async fn refused_at_setup(mode: &str) -> LoadError {
    let mut app = app();
    app.vars().set("hostile.mode", mode);
    load_failure(&mut app, precept_tests::HOSTILE, &tight()).await
}

#[tokio::test]
async fn a_cut_cascade_blames_the_plugin_that_spent_it_not_the_last_dispatcher() {
    // `good` dispatches `status` twice. The hostile subscriber spends all
    // but one of the cascade's deliveries on the first; the second goes
    // past the budget, but the deliveries were the hostile plugin's.
    let mut app = app();
    app.vars().set("hostile.mode", "brink");
    let budget = precept::limits::MAX_DELIVERIES_PER_DISPATCH - 1;
    app.vars().set("hostile.arg", budget.to_string());
    app.load_plugin_with(precept_tests::HOSTILE, &tight().into())
        .await
        .unwrap();
    let relays = crate::common::texts(&["cli_started>status", "cli_started>status"]);
    probe(&mut app, "good", &[("relay", relays)]).await;
    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    let failure = contained(&app, FailureKind::Limit);
    assert_eq!(failure.export, "dispatch");
    assert!(
        failure
            .cause
            .contains("this plugin made most of the dispatches"),
        "{failure}"
    );
    assert!(!app.plugins()[1].is_disabled());
    assert_eq!(status, ExitStatus::PluginFailed);
    // The hostile plugin is not subscribed to the lifecycle here.
    let lifecycle = LIFECYCLE.map(|line| line.replace("cli_started:1", "cli_started:0"));
    assert_eq!(log(&app), lifecycle);
}

async fn load_failure(app: &mut App, path: &str, sandbox: &Sandbox) -> LoadError {
    let error = app
        .load_plugin_with(path, &sandbox.clone().into())
        .await
        .unwrap_err();
    assert!(!error.to_string().contains('\n'), "{error}");
    error
}

/// Runs the lifecycle after a failed load: the good plugin still runs.
async fn good_still_runs(mut app: App) {
    probe(&mut app, "good", &[]).await;
    crate::common::add_run(&mut app);
    assert_eq!(
        app.start(["test-app", "run"]).await,
        ExitStatus::PluginNotLoaded
    );
    assert_eq!(log(&app), LIFECYCLE.map(|e| e.replace(":1", ":0")));
}

#[tokio::test]
async fn an_endless_setup_times_out_and_is_not_loaded() {
    let mut app = app();
    app.vars().set("hostile.mode", "loop-setup");
    let error = load_failure(&mut app, precept_tests::HOSTILE, &tight()).await;
    assert_eq!(
        error.to_string(),
        "plugin 'hostile' timed out in setup: ran longer than 300ms"
    );
    good_still_runs(app).await;
}

#[tokio::test]
async fn a_trap_in_setup_is_not_loaded() {
    let mut app = app();
    app.vars().set("hostile.mode", "trap-setup");
    let error = load_failure(&mut app, precept_tests::HOSTILE, &tight()).await;
    assert!(
        matches!(&error, LoadError::Setup(f) if f.kind == FailureKind::Trap),
        "{error}"
    );
    good_still_runs(app).await;
}

#[tokio::test]
async fn a_table_bomb_hits_the_table_limit() {
    let mut app = app();
    let error = load_failure(&mut app, precept_tests::TABLE_BOMB, &tight()).await;
    assert!(
        matches!(&error, LoadError::Setup(f) if f.kind == FailureKind::Limit),
        "{error}"
    );
    assert!(error.to_string().contains("table of"), "{error}");
    good_still_runs(app).await;
}

#[tokio::test]
async fn a_component_of_another_world_is_refused() {
    let mut app = app();
    let error = load_failure(&mut app, precept_tests::OTHER_WORLD, &tight()).await;
    assert!(matches!(error, LoadError::Link { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("does not fit the precept:plugin world")
    );
    good_still_runs(app).await;
}

#[tokio::test]
async fn a_component_of_another_contract_version_is_refused() {
    let mut app = app();
    let error = load_failure(&mut app, precept_tests::FUTURE_VERSION, &tight()).await;
    assert_eq!(
        error.to_string(),
        format!(
            "plugin 'future_version' ({}) was built for precept:plugin@0.3.0, \
             but this runtime provides precept:plugin 0.1.0 and 0.2.0",
            precept_tests::FUTURE_VERSION
        )
    );
    good_still_runs(app).await;
}

#[tokio::test]
async fn an_import_the_host_does_not_provide_is_named() {
    let mut app = app();
    let error = load_failure(&mut app, precept_tests::UNKNOWN_IMPORT, &tight()).await;
    assert!(matches!(error, LoadError::Link { .. }), "{error}");
    assert!(
        error.to_string().contains("precept:plugin/teleport"),
        "{error}"
    );
    good_still_runs(app).await;
}

#[tokio::test]
async fn a_missing_export_is_named() {
    let mut app = app();
    let error = load_failure(&mut app, precept_tests::MISSING_EXPORT, &tight()).await;
    assert!(matches!(error, LoadError::Link { .. }), "{error}");
    assert!(error.to_string().contains("on-event"), "{error}");
    good_still_runs(app).await;
}

/// A scratch tree: `root/grant/inside.txt`, `root/secret.txt`, and links in
/// `grant` pointing out of it.
fn tree(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("precept-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("grant")).unwrap();
    std::fs::write(root.join("grant/inside.txt"), "inside").unwrap();
    std::fs::write(root.join("secret.txt"), "SECRET").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("../secret.txt", root.join("grant/link")).unwrap();
        std::os::unix::fs::symlink(root.join("secret.txt"), root.join("grant/abs-link")).unwrap();
    }
    root
}

fn granting(root: &Path, writable: bool) -> Sandbox {
    let mut sandbox = tight();
    sandbox.grants.dirs.push(DirGrant {
        host: root.join("grant"),
        guest: "/data".into(),
        writable,
    });
    sandbox
}

#[tokio::test]
async fn a_granted_directory_can_be_read() {
    let root = tree("read");
    let (app, status) = run_hostile("read-file", "/data/inside.txt", granting(&root, false)).await;
    assert_eq!(result(&app), "ok: inside");
    assert_eq!(status, ExitStatus::Success);
}

#[tokio::test]
async fn nothing_is_readable_without_a_grant() {
    let root = tree("none");
    let secret = root.join("secret.txt").display().to_string();
    let (app, _) = run_hostile("read-file", &secret, tight()).await;
    assert!(result(&app).starts_with("err: "), "{}", result(&app));
}

#[tokio::test]
async fn dot_dot_does_not_leave_the_granted_directory() {
    let root = tree("dotdot");
    for path in [
        "/data/../secret.txt",
        "/data/../../etc/hostname",
        "../secret.txt",
    ] {
        let (app, _) = run_hostile("read-file", path, granting(&root, false)).await;
        let got = result(&app);
        assert!(
            got.starts_with("err: ") && !got.contains("SECRET"),
            "{path}: {got}"
        );
        assert_eq!(log(&app), LIFECYCLE);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_do_not_leave_the_granted_directory() {
    let root = tree("symlink");
    for path in ["/data/link", "/data/abs-link"] {
        let (app, _) = run_hostile("read-file", path, granting(&root, false)).await;
        let got = result(&app);
        assert!(
            got.starts_with("err: ") && !got.contains("SECRET"),
            "{path}: {got}"
        );
    }
}

#[tokio::test]
async fn nothing_is_written_outside_the_grant_or_into_a_read_only_one() {
    let root = tree("write");
    let (app, _) = run_hostile("write-file", "/data/../outside.txt", granting(&root, true)).await;
    assert!(result(&app).starts_with("err: "), "{}", result(&app));
    assert!(!root.join("outside.txt").exists());

    let (app, _) = run_hostile("write-file", "/data/new.txt", granting(&root, false)).await;
    assert!(result(&app).starts_with("err: "), "{}", result(&app));
    assert!(!root.join("grant/new.txt").exists());

    let (app, _) = run_hostile("write-file", "/data/new.txt", granting(&root, true)).await;
    assert_eq!(result(&app), "ok: written");
    assert!(root.join("grant/new.txt").exists());
}

#[tokio::test]
async fn environment_variables_are_only_the_granted_ones() {
    // The test process has variables of its own (at least `PATH`), and the
    // plugin sees none of them.
    assert!(std::env::var_os("PATH").is_some());
    let (app, _) = run_hostile("env", "", tight()).await;
    assert_eq!(result(&app), "ok: ");

    let mut sandbox = tight();
    sandbox.grants.env.push(("MODE".into(), "fast".into()));
    let (app, _) = run_hostile("env", "", sandbox).await;
    assert_eq!(result(&app), "ok: MODE=fast");
}

#[tokio::test]
async fn sockets_and_name_lookups_are_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();

    let (app, status) = run_hostile("socket", &address, tight()).await;
    assert!(result(&app).starts_with("err: "), "{}", result(&app));
    assert!(listener.accept().is_err(), "a connection came through");
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(log(&app), LIFECYCLE);

    let (app, _) = run_hostile("lookup", "localhost", tight()).await;
    assert!(result(&app).starts_with("err: "), "{}", result(&app));
}

#[tokio::test]
async fn fail_fast_ends_the_run_at_the_first_failure() {
    let mut app = app();
    app.fail_fast(true);
    app.vars().set("hostile.mode", "panic-event");
    app.load_plugin_with(precept_tests::HOSTILE, &tight().into())
        .await
        .unwrap();
    probe(&mut app, "good", &[]).await;

    crate::common::add_run(&mut app);
    assert_eq!(
        app.start(["test-app", "run"]).await,
        ExitStatus::PluginFailed
    );
    // The failure ended `cli_started` there, before the good plugin, whose
    // call would have been cut off; the run still ended with `cli_stopped`.
    assert_eq!(
        log(&app).last().map(String::as_str),
        Some("good:cli_stopped:0")
    );
}

#[tokio::test]
async fn fail_fast_runs_nothing_after_a_load_failure() {
    let mut app = app();
    app.fail_fast(true);
    app.load_plugins([precept_tests::OTHER_WORLD]).await;
    probe(&mut app, "good", &[]).await;

    crate::common::add_run(&mut app);
    assert_eq!(
        app.start(["test-app", "run"]).await,
        ExitStatus::PluginNotLoaded
    );
    assert!(log(&app).is_empty(), "{:?}", log(&app));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_random_gives_fresh_bytes_to_each_plugin_and_run() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (app, status) = run_hostile("random", "4096", Sandbox::default()).await;
        assert_eq!(status, ExitStatus::Success);
        let result = result(&app);
        // 4,096 random bytes take nearly every value of a byte.
        let (bytes, rest) = result.split_once(" bytes, ").unwrap();
        assert_eq!(bytes, "ok: 4096", "{result}");
        let (distinct, first) = rest.split_once(" distinct, ").unwrap();
        assert!(distinct.parse::<u32>().unwrap() > 240, "{result}");
        seen.push(first.to_string());
    }
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_more_random_bytes_than_one_call_gives_traps() {
    let too_many = (precept::limits::MAX_RANDOM_BYTES + 1).to_string();
    let (app, status) = run_hostile("random", &too_many, Sandbox::default()).await;
    assert_eq!(status, ExitStatus::PluginFailed);
    contained(&app, FailureKind::Trap);
}
