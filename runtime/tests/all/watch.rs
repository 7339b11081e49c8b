//! `--watch`: a plugin rebuilt while a command runs takes the running one's
//! place (its subscriptions in the same order, its services stopped and
//! started again); a broken file is refused and the running plugin goes on.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Command;
use precept::{App, CommandError, Context, ExitStatus, Flow, Payload, Scalar, Value, Vars};

/// A directory of this test's own.
fn dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-watch-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The list variable `log` as strings.
fn log(vars: &Vars) -> Vec<String> {
    match vars.get("log") {
        Some(Value::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Scalar::Text(text) => text,
                other => panic!("unexpected log entry {other:?}"),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Waits until `done` holds for the log, for at most a minute.
async fn wait_for(vars: &Vars, what: &str, done: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&log(vars)) {
        assert!(Instant::now() < deadline, "no {what} in {:?}", log(vars));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Replaces the plugin at `path` with a file that is not WebAssembly.
fn break_file(path: &Path) {
    precept_tests::replace(path, b"half a build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_plugin_takes_the_running_ones_place_and_a_broken_one_does_not() {
    let dir = dir("app");
    let path = precept_tests::copy_named(precept_tests::PROBE, "watched", &dir);
    let mut app = App::new("watch-test", "0").unwrap();
    app.catch_signals(false).watch(true);
    let vars = app.vars().clone();
    vars.set("probe.tag", "v1");
    vars.set(
        "probe.subscribe",
        Value::List(vec![Scalar::Text("tick".into())]),
    );
    let first = app.load_plugin(&path).await.unwrap();
    let first_digest = first.digest();
    // After the plugin: it must stay before this handler once replaced.
    let native = vars.clone();
    app.events().subscribe("tick", move |event| {
        let mut items = match native.get("log") {
            Some(Value::List(items)) => items,
            _ => Vec::new(),
        };
        items.push(Scalar::Text(format!("native:tick:{}", event.num)));
        native.set("log", Value::List(items));
        async { Flow::Continue }
    });
    // `serve` dispatches `tick` every 10 ms until `served` is set.
    app.command(Command::new("serve"), |ctx: Context| async move {
        let deadline = Instant::now() + Duration::from_secs(120);
        while ctx.vars.get("served").is_none() {
            if Instant::now() > deadline {
                return Err::<(), CommandError>("never served".into());
            }
            ctx.events.dispatch("tick", Payload::new()).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    })
    .unwrap();

    let driving = vars.clone();
    let driver = tokio::spawn(async move {
        let vars = driving;
        wait_for(&vars, "v1 tick", |log| log.iter().any(|l| l == "v1:tick:0")).await;
        break_file(&path);
        // Well past the two looks a change needs: the broken file was seen
        // and refused, and the first instance still gets every tick.
        let broken_at = log(&vars).len();
        tokio::time::sleep(Duration::from_secs(2)).await;
        wait_for(&vars, "v1 tick after the broken file", |log| {
            log[broken_at..].iter().any(|l| l == "v1:tick:0")
        })
        .await;
        vars.set("probe.tag", "v2");
        let rebuilt = precept_tests::copy_named(precept_tests::PROBE, "watched", &dir);
        precept_tests::rebuild(&rebuilt, 2);
        wait_for(&vars, "v2 ticks", |log| {
            log.iter().filter(|l| *l == "v2:tick:0").count() >= 3
        })
        .await;
        vars.set("served", true);
    });
    let status = app.start(["watch-test", "serve"]).await;
    driver.await.unwrap();
    assert_eq!(status, ExitStatus::Success);

    let log = log(&vars);
    let switched = log.iter().position(|l| l.starts_with("v2:")).unwrap();
    assert!(
        !log[switched..].iter().any(|l| l.starts_with("v1:")),
        "the old instance still got events: {log:?}"
    );
    // Every tick reaches the plugin first, then the native handler.
    for (i, entry) in log.iter().enumerate() {
        if entry.ends_with(":tick:0") && entry != "native:tick:0" {
            assert_eq!(log.get(i + 1).map(String::as_str), Some("native:tick:1"));
        }
    }
    // One handle throughout: the new instance was swapped in behind it.
    let now = &app.plugins()[0];
    assert!(std::sync::Arc::ptr_eq(&first, now) && first.id() == now.id());
    assert_ne!(now.digest(), first_digest, "the rebuilt file runs");
    assert!(!now.is_disabled());
    assert_eq!(app.events().subscriptions_of("watched"), ["tick"]);
}

/// A running `precept-run`, its output read line by line as it comes.
struct Running {
    child: std::process::Child,
    received: std::sync::mpsc::Receiver<(bool, String)>,
    out: Vec<String>,
    err: Vec<String>,
}

impl Running {
    /// `precept-run ARGS` in `dir`, with a compile cache of its own.
    fn start(dir: &Path, args: &[&str]) -> Running {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;

        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_precept-run"))
            .args(args)
            .current_dir(dir)
            .env("PRECEPT_CACHE_DIR", dir.join("cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, received) = std::sync::mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = BufReader::new(child.stderr.take().unwrap());
        for (is_stdout, stream) in [
            (true, Box::new(stdout) as Box<dyn BufRead + Send>),
            (false, Box::new(stderr)),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in stream.lines().map_while(Result::ok) {
                    let _ = lines.send((is_stdout, line));
                }
            });
        }
        Running {
            child,
            received,
            out: Vec::new(),
            err: Vec::new(),
        }
    }

    /// Reads until standard output (or error) has a line with `needle`,
    /// for at most a minute.
    fn until(&mut self, is_stdout: bool, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = if is_stdout { &self.out } else { &self.err };
            if seen.iter().any(|l| l.contains(needle)) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok((true, line)) => self.out.push(line),
                Ok((false, line)) => self.err.push(line),
                Err(_) => panic!(
                    "no '{needle}'; stdout {:?}, stderr {:?}",
                    self.out, self.err
                ),
            }
        }
    }

    /// Ctrl-C, then its exit code once it ended and said `last`.
    fn interrupt(&mut self, last: &str) -> Option<i32> {
        let interrupted = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let status = self.child.wait().unwrap();
        self.until(true, last);
        status.code()
    }
}

/// `precept-run --watch` with a waiting command: the recorder service's
/// plugin is broken (one line, kept), then rebuilt (one line, its service
/// stopped and started again); the waiting plugin, rebuilt, is not
/// replaced under its command; then Ctrl-C ends the run as usual.
#[test]
fn precept_run_watch_reloads_a_rebuilt_plugin_and_keeps_it_when_broken() {
    let dir = dir("cli");
    let recorder = precept_tests::copy_named(precept_tests::RECORDER, "recorder", &dir);
    let waiter = precept_tests::copy_named(precept_tests::WAITER, "waiter", &dir);
    let mut run = Running::start(
        &dir,
        &[
            "--watch",
            "--plugin",
            "waiter.wasm",
            "--plugin",
            "recorder.wasm",
            "--plugin",
            precept_tests::OBSERVER,
            "wait",
        ],
    );
    run.until(true, "waiting");
    break_file(&recorder);
    run.until(false, "the running plugin 'recorder' is kept");
    precept_tests::copy_named(precept_tests::RECORDER, "recorder", &dir);
    precept_tests::rebuild(&recorder, 2);
    run.until(false, "reloaded plugin 'recorder' (recorder.wasm)");
    run.until(true, "observer: recorder_start");
    // The plugin whose command runs stays as it is.
    precept_tests::rebuild(&waiter, 2);
    run.until(false, "plugin 'waiter' changed; it runs the command");
    let code = run.interrupt("observer: cli_stopped");
    let (out, err) = (&run.out, &run.err);
    assert_eq!(code, Some(130), "{out:?} {err:?}");

    let refused: Vec<&String> = err.iter().filter(|l| l.contains("is kept")).collect();
    assert_eq!(refused.len(), 1, "{err:?}");
    assert!(
        refused[0].contains("plugin 'recorder' (recorder.wasm) is not a WebAssembly component"),
        "{refused:?}"
    );
    let waiting = out.iter().position(|l| l == "waiting").unwrap();
    let after: Vec<&str> = out[waiting + 1..]
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("observer: recorder_") || l.starts_with("recorder: "))
        .collect();
    assert_eq!(
        after,
        [
            "recorder: stopped, recorded []",
            "observer: recorder_stop",
            "observer: recorder_setup",
            "recorder: started",
            "observer: recorder_start",
            "recorder: stopped, recorded []",
            "observer: recorder_stop",
        ],
        "{out:?}"
    );
}

/// Under a lockfile, a rebuilt plugin is not what was accepted: it is
/// refused as a first load would be, and the running one is kept.
#[test]
fn under_a_lockfile_a_rebuilt_plugin_is_refused_and_the_running_one_kept() {
    let dir = dir("lock");
    let recorder = precept_tests::copy_named(precept_tests::RECORDER, "recorder", &dir);
    let waiter = toml::Value::String(precept_tests::WAITER.into());
    let config = format!("plugins = [\"recorder.wasm\", {waiter}]\n");
    std::fs::write(dir.join("app.toml"), config).unwrap();
    let locked = std::process::Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(["-c", "app.toml", "lock"])
        .current_dir(&dir)
        .env("PRECEPT_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    assert!(locked.status.success(), "{locked:?}");

    let mut run = Running::start(&dir, &["-c", "app.toml", "--watch", "wait"]);
    run.until(true, "waiting");
    precept_tests::rebuild(&recorder, 2);
    run.until(false, "the running plugin 'recorder' is kept");
    let code = run.interrupt("recorder: stopped, recorded []");
    assert_eq!(code, Some(130), "{:?}", run.err);
    let refused = run.err.iter().find(|l| l.contains("is kept")).unwrap();
    assert!(
        refused.contains("plugin 'recorder' (recorder.wasm) is not as")
            && refused.contains("accepted it: its file changed"),
        "{refused}"
    );
    assert!(
        !run.err.iter().any(|l| l.contains("reloaded")),
        "{:?}",
        run.err
    );
    let started = run.out.iter().filter(|l| *l == "recorder: started").count();
    assert_eq!(started, 1, "{:?}", run.out);
}
