//! Loading plugins: bad files are refused with one line naming them, and
//! nothing else is lost.

use crate::common::{app, configure_probe, copy_as, log, probe};
use precept::{ExitStatus, LoadError, Value};

fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-loading-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn a_text_file_is_not_a_component() {
    let mut app = app();
    let path = scratch("notes.md", b"# not wasm\n");
    let error = app.load_plugin(&path).await.unwrap_err();
    assert!(matches!(error, LoadError::NotWasm { .. }), "{error:?}");
    let line = error.to_string();
    assert!(line.contains("plugin 'notes'"), "{line}");
    assert!(line.contains("notes.md"), "{line}");
    assert!(line.contains("not a WebAssembly component"), "{line}");
    assert!(!line.contains('\n'));
}

#[cfg(unix)]
#[tokio::test]
async fn a_device_or_a_file_past_the_size_bound_is_not_read() {
    let mut app = app();
    let started = std::time::Instant::now();
    let error = app.load_plugin("/dev/zero").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin 'zero' (/dev/zero): cannot read the file: it is not a regular file"
    );
    // A sparse file one byte past 1 GiB: refused before any of it is read.
    let huge = scratch("huge.wasm", b"");
    std::fs::File::options()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len((1 << 30) + 1)
        .unwrap();
    let error = app.load_plugin(&huge).await.unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("cannot read the file: it is larger than 1024 MiB"),
        "{error}"
    );
    std::fs::remove_file(&huge).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A FIFO with no writer, made in a directory of its own.
#[cfg(target_os = "linux")]
fn fifo(dir: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-{dir}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.unwrap().success());
    // Should an open wait for a writer, writers come after 10 s, until
    // the FIFO is removed: the test then fails on its time instead of
    // hanging. (A writer's open that does not wait finds no reader when
    // nothing waits.)
    let writer = path.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(10));
        while writer.exists() {
            let mut options = std::fs::OpenOptions::new();
            // O_NONBLOCK on Linux.
            std::os::unix::fs::OpenOptionsExt::custom_flags(options.write(true), 0o4000);
            let _ = options.open(&writer);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    path
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_fifo_with_no_writer_holds_no_start() {
    let started = std::time::Instant::now();
    // As a plugin file: refused.
    let plugin_pipe = fifo("fifo-plugin", "pipe.wasm");
    let error = app().load_plugin(&plugin_pipe).await.unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("cannot read the file: it is not a regular file"),
        "{error}"
    );

    // In a plugin directory, read at start for what it declares: refused.
    let in_dir_pipe = fifo("fifo-dir", "pipe.wasm");
    let mut in_dir = app();
    in_dir.plugin_dir(in_dir_pipe.parent().unwrap());
    crate::common::add_run(&mut in_dir);
    let status = in_dir.start(["test-app", "run"]).await;
    assert_eq!(status, ExitStatus::PluginNotLoaded);
    assert!(in_dir.plugins().is_empty());

    // As the configuration file, with no writer: an empty configuration,
    // at once.
    let config_pipe = fifo("fifo-config", "precept.toml");
    let mut configured = app();
    configured.config_file("precept.toml").unwrap();
    crate::common::add_run(&mut configured);
    let args = [
        "test-app",
        "--config-file",
        config_pipe.to_str().unwrap(),
        "run",
    ];
    assert_eq!(configured.start(args).await, ExitStatus::Success);

    // With a writer (as `<(...)` has), what it writes once it writes it:
    // here a plugin that is not there.
    // The writer is there before precept opens the pipe (a reader held
    // here lets its open return; it never reads), and writes a moment
    // after.
    let mut holding = std::fs::OpenOptions::new();
    std::os::unix::fs::OpenOptionsExt::custom_flags(holding.read(true), 0o4000);
    let holding = holding.open(&config_pipe).unwrap();
    let mut pipe = std::fs::OpenOptions::new()
        .write(true)
        .open(&config_pipe)
        .unwrap();
    let writing = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::io::Write::write_all(&mut pipe, b"plugins = [\"absent.wasm\"]\n")
    });
    let mut configured = app();
    configured.config_file("precept.toml").unwrap();
    crate::common::add_run(&mut configured);
    assert_eq!(
        configured.start(args).await,
        ExitStatus::PluginNotLoaded,
        "the configuration written to the pipe was read"
    );
    writing.join().unwrap().unwrap();
    drop(holding);

    // Each open that waited would have waited 10 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    for pipe in [plugin_pipe, in_dir_pipe, config_pipe] {
        std::fs::remove_dir_all(pipe.parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn a_core_module_is_refused_with_how_to_make_a_component() {
    let mut app = app();
    let path = scratch("core.wasm", b"\0asm\x01\0\0\0");
    let error = app.load_plugin(&path).await.unwrap_err();
    assert!(matches!(error, LoadError::CoreModule { .. }), "{error:?}");
    assert!(error.to_string().contains("wasm32-wasip2"));
}

#[tokio::test]
async fn a_truncated_component_fails_to_compile() {
    let mut app = app();
    let bytes = std::fs::read(precept_tests::HELLO).unwrap();
    let path = scratch("truncated.wasm", &bytes[..bytes.len() / 2]);
    let error = app.load_plugin(&path).await.unwrap_err();
    assert!(matches!(error, LoadError::Compile { .. }), "{error:?}");
    assert!(!error.to_string().contains('\n'), "{error}");
}

#[tokio::test]
async fn a_missing_file_names_the_path() {
    let mut app = app();
    let error = app.load_plugin("/nonexistent/x.wasm").await.unwrap_err();
    assert!(matches!(error, LoadError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("/nonexistent/x.wasm"));
}

#[tokio::test]
async fn a_failing_setup_keeps_the_plugin_out() {
    let mut app = app();
    configure_probe(&app, "broken", &[("fail_setup", Value::from("no config"))]);
    let error = app
        .load_plugin(copy_as(precept_tests::PROBE, "broken"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin 'broken' failed in setup: no config"
    );
    assert!(app.plugins().is_empty());
    assert_eq!(app.events().subscriber_count("cli_started"), 0);
}

#[tokio::test]
async fn the_same_name_cannot_be_loaded_twice() {
    let mut app = app();
    probe(&mut app, "twice", &[]).await;
    configure_probe(&app, "twice", &[]);
    let error = app
        .load_plugin(copy_as(precept_tests::PROBE, "twice"))
        .await
        .unwrap_err();
    assert!(matches!(error, LoadError::Duplicate { .. }), "{error:?}");
}

#[tokio::test]
async fn a_bad_plugin_does_not_stop_the_good_ones() {
    let mut app = app();
    let bad = scratch("bad.wasm", b"garbage");
    app.load_plugins([bad]).await;
    probe(&mut app, "good", &[]).await;

    crate::common::add_run(&mut app);
    let status = app.start(["test-app", "run"]).await;

    assert_eq!(status, ExitStatus::PluginNotLoaded);
    assert_eq!(status.code(), 3);
    assert_eq!(log(&app).len(), 4, "{:?}", log(&app));
}

/// Hashing and compiling run off the executor: on a single-threaded
/// runtime, a timer keeps ticking while a never-seen component compiles.
#[tokio::test(flavor = "current_thread")]
async fn compiling_does_not_block_the_executor() {
    // A custom section with unique content makes the component new to the
    // process's engine, so it is compiled, not found ready.
    let mut bytes = std::fs::read(precept_tests::HELLO).unwrap();
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_le_bytes();
    bytes.extend([0, 2 + unique.len() as u8, 1, b't']);
    bytes.extend(unique);
    let path = std::env::temp_dir().join(format!("precept-fresh-{}.wasm", std::process::id()));
    std::fs::write(&path, bytes).unwrap();

    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counting = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            counting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    tokio::task::yield_now().await;
    let mut app = app();
    let started = std::time::Instant::now();
    app.load_plugin(&path).await.unwrap();
    let took = started.elapsed();
    ticker.abort();

    let ticks = ticks.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        ticks as u128 * 3 >= took.as_millis(),
        "{ticks} ticks of 1 ms while loading took {took:?}"
    );
}

#[tokio::test]
async fn names_that_differ_only_by_case_are_one_name() {
    // On a case-insensitive file system `Notes` and `notes` would share a
    // data directory: the second is refused as a duplicate, on every
    // platform.
    let mut app = app();
    app.load_plugin(copy_as(precept_tests::HELLO, "notes"))
        .await
        .unwrap();
    let error = app
        .load_plugin(copy_as(precept_tests::HELLO, "Notes"))
        .await
        .unwrap_err();
    assert!(matches!(error, LoadError::Duplicate { .. }), "{error:?}");
    assert_eq!(app.plugins().len(), 1);
}
