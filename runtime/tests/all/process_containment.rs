//! Containment measured from outside: a real `precept-run` process with a
//! hostile plugin beside `hello`, its resident memory, its wall time, its
//! output and how fast Ctrl-C ends it.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{HELLO_LIFECYCLE, PRECEPT_RUN, hello_lines, scratch};

/// The compile cache these tests share, made once per test process.
fn shared_cache() -> &'static PathBuf {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| scratch("containment-cache"))
}

fn precept_run(args: &[&str]) -> Command {
    let mut command = Command::new(PRECEPT_RUN);
    command
        .args(args)
        .env("PRECEPT_CACHE_DIR", shared_cache())
        .stdin(Stdio::null());
    command
}

/// Waits for `child` for at most `limit`, reading the peak resident memory
/// of the process while it runs.
fn wait_measuring(child: &mut Child, limit: Duration) -> (ExitStatus, u64) {
    let started = Instant::now();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak_kib << 10);
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("precept-run still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn read_all(stream: Option<impl Read>) -> String {
    let mut text = String::new();
    if let Some(mut stream) = stream {
        stream.read_to_string(&mut text).unwrap();
    }
    text
}

#[cfg(target_os = "linux")]
#[test]
fn a_variable_hoard_does_not_raise_the_hosts_memory() {
    let baseline = {
        let mut child = precept_run(&["--plugin", precept_tests::HELLO, "dispatch", "nothing"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_measuring(&mut child, Duration::from_secs(60)).1
    };
    let mut child = precept_run(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=vars-bomb",
        "--plugin",
        precept_tests::HELLO,
        "dispatch",
        "nothing",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let readers = std::thread::spawn(move || (read_all(stdout), read_all(stderr)));
    let (status, peak) = wait_measuring(&mut child, Duration::from_secs(60));
    let (stdout, stderr) = readers.join().unwrap();

    assert_eq!(status.code(), Some(3), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(
            "error: plugin 'hostile' went past a limit in setup: went past its host budget: "
        ) && errors[0].ends_with("bytes of variables; the budget is 4194304"),
        "{stderr}"
    );
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE);
    // 1,500 values of 1 MB were asked for; the host keeps at most its 4 MiB
    // budget, plus what the guest's own memory holds.
    let grown = peak.saturating_sub(baseline);
    assert!(
        grown < 48 << 20,
        "peak {} MiB against {} MiB without the hoarder",
        peak >> 20,
        baseline >> 20
    );
}

#[test]
fn a_stalled_reader_only_makes_the_writing_plugin_wait() {
    let config = scratch("containment-stalled").join("limits.toml");
    std::fs::write(&config, "[limits]\nwait-ms = 1000\n").unwrap();
    let mut child = precept_run(&[
        "-c",
        config.to_str().unwrap(),
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=big-write",
        "dispatch",
        "noop",
    ])
    // Nobody ever reads standard output.
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || read_all(stderr));
    let started = Instant::now();
    let (status, _) = wait_measuring(&mut child, Duration::from_secs(30));
    let stderr = reader.join().unwrap();

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(
            "error: plugin 'hostile' timed out in on-event(cli_started): took longer than 1s by the clock"
        ),
        "{stderr}"
    );
}

#[test]
fn a_stalled_reader_bounds_a_synchronous_plugin_by_its_clock_bound() {
    let config = scratch("containment-stalled-sync").join("limits.toml");
    std::fs::write(&config, "[limits]\nwait-ms = 1000\n").unwrap();
    let mut child = precept_run(&[
        "-c",
        config.to_str().unwrap(),
        "--plugin",
        precept_tests::FLOOD,
        "dispatch",
        "noop",
    ])
    // Nobody ever reads standard output.
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || read_all(stderr));
    let started = Instant::now();
    let (status, _) = wait_measuring(&mut child, Duration::from_secs(30));
    let stderr = reader.join().unwrap();

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(
            "error: plugin 'flood' timed out in on-event(cli_started): took longer than 1s by the clock"
        ),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_ends_a_run_blocked_on_a_full_pipe_within_a_second() {
    let hostile = [
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=big-write",
    ];
    // An asynchronous plugin, then one called synchronously.
    ctrl_c_within_a_second(&hostile, "x");
    ctrl_c_within_a_second(&["--plugin", precept_tests::FLOOD], "x");
}

#[test]
fn ctrl_c_stops_a_synchronous_plugin_spinning_within_a_second() {
    // Called synchronously, it holds its task: the signal stops it at its
    // next tick, long before its 10 s allowance or 5 s clock bound.
    let looping = ["--deadline", "10000", "--plugin", precept_tests::LOOP];
    let hello = ["--plugin", precept_tests::HELLO];
    ctrl_c_within_a_second(&[&looping[..], &hello].concat(), "hello: cli_parsed");
}

/// Ctrl-C ends a run whose plugin (`plugin`, its flags) blocks, by a full
/// pipe or a loop, within a second, with code 130. The signal is sent half
/// a second after `ready` shows on standard output (the run has begun);
/// standard output is read no further.
fn ctrl_c_within_a_second(plugin: &[&str], ready: &'static str) {
    let mut child = precept_run(&[plugin, &["dispatch", "noop"]].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (began, begun) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = std::io::BufReader::new(stdout);
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains(ready) {
            let mut byte = [0u8];
            if std::io::Read::read(&mut stdout, &mut byte).unwrap_or(0) == 0 {
                break;
            }
            seen.push(byte[0]);
        }
        // Kept open and unread from here on.
        let _ = began.send(stdout);
    });
    let stdout = begun.recv_timeout(Duration::from_secs(60)).unwrap();
    // Let it block again.
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (status, _) = wait_measuring(&mut child, Duration::from_secs(30));
    let latency = sent.elapsed();
    drop(stdout);
    assert_eq!(status.code(), Some(130), "{plugin:?}");
    assert!(
        latency < Duration::from_secs(1),
        "{plugin:?} ended {latency:?} after SIGINT"
    );
}

#[test]
fn plugin_output_stays_out_of_dump_config() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=print-toml",
        "dump-config",
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The plugin's lines went to standard error; the dump is the host's.
    assert!(stderr.contains("x = '''"), "{stderr}");
    assert!(
        !stdout.contains("'''") && !stdout.contains("host = \"/\""),
        "{stdout}"
    );
    let dump: toml::Table = toml::from_str(&stdout).expect("the dump is TOML");
    let dirs = dump["plugin"]["hostile"]["dirs"].as_array().unwrap();
    assert!(dirs.is_empty(), "{dump:?}");
}

#[test]
fn a_closed_standard_output_is_not_a_panic() {
    let mut child = precept_run(&["--plugin", precept_tests::HELLO, "dump-config"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let stderr = child.stderr.take();
    let (status, _) = wait_measuring(&mut child, Duration::from_secs(30));
    let stderr = read_all(stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_log_flood_is_counted_not_written() {
    let output = precept_run(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=log-flood",
        "--plugin",
        precept_tests::HELLO,
        "dispatch",
        "noop",
    ])
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let written = stderr
        .lines()
        .filter(|l| l.contains("hostile: flood"))
        .count();
    assert!((1..=400).contains(&written), "{written} lines written");
    assert!(
        stderr.contains("warning: plugin 'hostile': ") && stderr.contains("log line(s) dropped"),
        "{stderr}"
    );
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE);
}

#[test]
fn limits_that_make_no_sense_are_configuration_errors() {
    let dir = scratch("containment-limits");
    for (text, expected) in [
        (
            "[limits]\ndeadline-ms = 0\n",
            "expected 1 to 86400000 milliseconds, found 0",
        ),
        (
            "[limits]\nmemory-mib = 18446744073709551615\n",
            "expected 1 to 1048576 MiB",
        ),
    ] {
        let file = dir.join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let output = precept_run(&["-c", file.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    let output = precept_run(&["--deadline", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_working_directorys_configuration_is_used_only_once_trusted() {
    let dir = scratch("containment-trust");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        dir.join("precept.toml"),
        format!("plugins = [{:?}]\n", precept_tests::HELLO),
    )
    .unwrap();
    let run = |args: &[&str]| {
        precept_run(args)
            .current_dir(&dir)
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap()
    };
    let untrusted = run(&["dispatch", "noop"]);
    assert!(untrusted.status.success());
    assert!(hello_lines(&String::from_utf8_lossy(&untrusted.stdout)).is_empty());
    assert!(
        String::from_utf8_lossy(&untrusted.stderr)
            .contains("ignoring ./precept.toml: it is not trusted"),
        "{untrusted:?}"
    );

    assert!(run(&["trust"]).status.success());
    let trusted = run(&["dispatch", "noop"]);
    assert_eq!(
        hello_lines(&String::from_utf8_lossy(&trusted.stdout)),
        HELLO_LIFECYCLE
    );

    // A lockfile removed (or added, or changed) since must be trusted
    // again: trust covers the file and its lockfile.
    std::fs::write(dir.join("precept.lock"), "").unwrap();
    let added = run(&["dispatch", "noop"]);
    assert!(String::from_utf8_lossy(&added.stderr).contains("not trusted"));
    assert!(run(&["trust"]).status.success());
    std::fs::remove_file(dir.join("precept.lock")).unwrap();
    let removed = run(&["dispatch", "noop"]);
    assert!(String::from_utf8_lossy(&removed.stderr).contains("not trusted"));
    assert!(hello_lines(&String::from_utf8_lossy(&removed.stdout)).is_empty());

    // A changed file must be trusted again.
    assert!(run(&["trust"]).status.success());
    std::fs::write(dir.join("precept.toml"), "plugins = []\n# changed\n").unwrap();
    let changed = run(&["dispatch", "noop"]);
    assert!(String::from_utf8_lossy(&changed.stderr).contains("not trusted"));
}

/// Runs `precept-run` with `args` (and, first, `hello` alone for a
/// baseline): its exit status, standard output, standard error, and how
/// much higher its peak resident memory went than the baseline's.
#[cfg(target_os = "linux")]
fn measured(args: &[&str]) -> (ExitStatus, String, String, u64) {
    let baseline = {
        let mut child = precept_run(&["--plugin", precept_tests::HELLO, "dispatch", "nothing"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_measuring(&mut child, Duration::from_secs(60)).1
    };
    let mut child = precept_run(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let readers = std::thread::spawn(move || (read_all(stdout), read_all(stderr)));
    let (status, peak) = wait_measuring(&mut child, Duration::from_secs(60));
    let (stdout, stderr) = readers.join().unwrap();
    (status, stdout, stderr, peak.saturating_sub(baseline))
}

#[cfg(target_os = "linux")]
#[test]
fn payloads_of_empty_entries_do_not_raise_the_hosts_memory() {
    // Ten dispatches of a million entries with empty names and empty text
    // in one call: each entry is a host entry, so the first is stopped
    // while it is copied in, before the host holds it.
    let (status, stdout, stderr, grown) = measured(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=empty-entries",
        "--arg",
        "hostile=1000000",
        "--plugin",
        precept_tests::HELLO,
        "dispatch",
        "nothing",
    ]);
    assert_eq!(status.code(), Some(4), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: plugin 'hostile' trapped in on-event(cli_started): ")
            && errors[0].contains("too much data is being copied"),
        "{stderr}"
    );
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE);
    // Its own memory (the entries it built, within its 256 MiB) and the
    // 16 MiB one call may copy in, converted once: nothing more.
    assert!(grown < 256 << 20, "grew by {} MiB", grown >> 20);
}

#[cfg(target_os = "linux")]
#[test]
fn a_hoard_of_request_bodies_does_not_raise_the_hosts_memory() {
    // 900 unsent requests, a body written into each as far as the host
    // lets it, never dropped; no network grant is needed for that.
    let (status, stdout, stderr, grown) = measured(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=body-hoard",
        "--arg",
        "hostile=900",
        "--plugin",
        precept_tests::HELLO,
        "dispatch",
        "nothing",
    ]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("hostile: ok: 900 requests"), "{stdout}");
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE);
    // A body holds at most two 16 KiB chunks: 900 of them under 29 MiB.
    assert!(grown < 64 << 20, "grew by {} MiB", grown >> 20);
}

#[cfg(target_os = "linux")]
#[test]
fn a_command_flooding_the_dispatcher_is_cut_at_its_request_budget() {
    // The command dispatches an event it is subscribed to (its delivery
    // waits for the command), then asks to subscribe and unsubscribe
    // without end: what waits is bounded like one call's requests.
    let started = Instant::now();
    let (status, _, stderr, grown) = measured(&[
        "--plugin",
        precept_tests::HOSTILE,
        "--arg",
        "hostile=command-flood",
        "flood",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: plugin 'hostile' went past a limit in run-command(flood): ")
            && errors[0].ends_with("4097 requests waiting; the budget is 4096"),
        "{stderr}"
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(grown < 32 << 20, "grew by {} MiB", grown >> 20);
}

#[cfg(target_os = "linux")]
#[test]
fn files_held_open_cannot_starve_the_others_of_descriptors() {
    // Under a soft limit of 1,024 open files, a plugin holding files open
    // in its directory is cut at its handle budget; the next plugin loads.
    let data = scratch("containment-fd-hoard").join("data");
    std::fs::create_dir_all(&data).unwrap();
    let grant = format!("hostile={}::/data", data.display());
    let output = Command::new("sh")
        .args(["-c", "ulimit -S -n 1024 && exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_precept-run"))
        .args(["--dir-rw", &grant, "--plugin", precept_tests::HOSTILE])
        .args(["--arg", "hostile=fd-hoard", "--arg", "hostile=2000"])
        // A thousand opens on a busy machine can pass the default second
        // of running time; the handle budget is what this test is about.
        .args(["--deadline", "10000"])
        .args(["--plugin", precept_tests::HELLO, "dispatch", "nothing"])
        .env("PRECEPT_CACHE_DIR", shared_cache())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: plugin 'hostile' trapped in setup: ")
            && errors[0].contains("no free keys"),
        "{stderr}"
    );
    assert_eq!(hello_lines(&stdout), HELLO_LIFECYCLE, "{stderr}");
    assert_eq!(output.status.code(), Some(3), "{stderr}");
}

#[test]
fn inspect_runs_a_plugin_with_nothing_of_what_it_declares() {
    // The port the beacon plugin declares and reaches for in its setup.
    let listener =
        std::net::TcpListener::bind("127.0.0.1:47391").expect("port 47391 is free for this test");
    listener.set_nonblocking(true).unwrap();
    let home = scratch("containment-inspect-home");
    let output = precept_run(&["inspect", precept_tests::BEACON])
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("PRECEPT_DATA_DIR")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    // What the file declares is shown; nothing of it was given.
    assert!(stdout.contains("127.0.0.1:47391"), "{stdout}");
    assert!(stderr.contains("beacon: connect failed"), "{stderr}");
    assert!(stderr.contains("beacon: fetch failed"), "{stderr}");
    assert!(stderr.contains("beacon: write failed"), "{stderr}");
    match listener.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the plugin reached the listener: {other:?}"),
    }
    assert!(!home.join(".local/share/precept").exists());
}
