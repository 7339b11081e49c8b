//! Start-up as a user sees it: whole `precept-run` processes with no
//! plugin, with `hello` compiled (no cache) and with `hello` mapped from
//! the cache; and the first load of a never-seen component with each of
//! wasmtime's compilers: Cranelift (optimizing), Winch (baseline) and the
//! Pulley interpreter; two plugins whose service starts are CPU-bound,
//! started alone and together; ten plugins, installed (`plugin add`)
//! beside the same ten given by `--plugin`; and a hundred plugins in a
//! plugin directory running the command of one of them, loaded lazily and
//! eagerly, beside a start with no plugin.
//!
//! `cargo bench -p precept --bench startup`

#[path = "raw/mod.rs"]
mod raw;

use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use wasmtime::component::Component;

const PRECEPT_RUN: &str = env!("CARGO_BIN_EXE_precept-run");

fn run(args: &[&str]) {
    let output = Command::new(PRECEPT_RUN).args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
}

fn processes(c: &mut Criterion) {
    let cache = std::env::temp_dir().join(format!("precept-startup-{}", std::process::id()));
    let cache = cache.to_str().unwrap();
    let mut group = c.benchmark_group("precept-run start-up");
    group.sample_size(20);
    group.bench_function("no plugin", |b| {
        b.iter(|| run(&["--no-cache", "dispatch", "x"]))
    });
    group.bench_function("hello, compiled (no cache)", |b| {
        b.iter(|| {
            run(&[
                "--no-cache",
                "--plugin",
                precept_tests::HELLO,
                "dispatch",
                "x",
            ])
        })
    });
    run(&["--cache-dir", cache, "--plugin", precept_tests::HELLO]);
    group.bench_function("hello, mapped from the cache", |b| {
        b.iter(|| {
            run(&[
                "--cache-dir",
                cache,
                "--plugin",
                precept_tests::HELLO,
                "dispatch",
                "x",
            ])
        })
    });
    group.finish();
}

/// Runs `precept-run` with `home` as its plugin home.
fn run_with_home(home: &std::path::Path, args: &[&str]) {
    let output = Command::new(PRECEPT_RUN)
        .args(args)
        .env("PRECEPT_RUN_PLUGIN_HOME", home)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// Ten plugins at start-up: installed, and the same files given by
/// `--plugin` (the baseline), both mapped from one warm cache.
fn ten_plugins(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("precept-ten-{}", std::process::id()));
    let (files, home, empty) = (dir.join("files"), dir.join("home"), dir.join("empty"));
    let cache = dir.join("cache");
    let cache = cache.to_str().unwrap();
    let mut flags = vec!["--cache-dir", cache];
    let paths: Vec<String> = (0..10)
        .map(|n| {
            let path =
                precept_tests::copy_named(precept_tests::HELLO, &format!("hello{n}"), &files);
            path.to_str().unwrap().to_string()
        })
        .collect();
    for path in &paths {
        run_with_home(&home, &["--cache-dir", cache, "plugin", "add", path]);
        flags.extend(["--plugin", path.as_str()]);
    }
    flags.extend(["dispatch", "x"]);
    // Interleaved pairs first: on a shared machine start-up times drift
    // between criterion's groups, and each pair sees the same moment.
    let (mut given, mut installed) = (Vec::new(), Vec::new());
    for _ in 0..60 {
        let started = std::time::Instant::now();
        run_with_home(&empty, &flags);
        given.push(started.elapsed());
        let started = std::time::Instant::now();
        run_with_home(&home, &["--cache-dir", cache, "dispatch", "x"]);
        installed.push(started.elapsed());
    }
    let median = |times: &mut Vec<std::time::Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (given_median, installed_median) = (median(&mut given), median(&mut installed));
    println!(
        "ten plugins, 60 interleaved pairs: --plugin {given_median:.2?}, installed {installed_median:.2?} (median), {:.3}x",
        installed_median.as_secs_f64() / given_median.as_secs_f64()
    );
    let mut group = c.benchmark_group("ten plugins at start-up");
    group.sample_size(20);
    group.bench_function("given by --plugin", |b| {
        b.iter(|| run_with_home(&empty, &flags))
    });
    group.bench_function("installed", |b| {
        b.iter(|| run_with_home(&home, &["--cache-dir", cache, "dispatch", "x"]))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `precept-run` in `dir`, with `dir` as its home.
fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let output = Command::new(PRECEPT_RUN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("PRECEPT_RUN_PLUGIN_HOME")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    output
}

/// A hundred plugins (builds of `sleeper`, each with a command of its own)
/// and a command of one of them: installed with `plugin add`, each
/// declaring its event and command so that only that one is loaded; the
/// same hundred in a plugin directory; the hundred declaring nothing, every
/// one loaded; beside a start with no plugin. One warm cache holds every
/// build's compiled code.
fn hundred_plugins(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("precept-hundred-{}", std::process::id()));
    let (lazy, eager, empty) = (dir.join("lazy"), dir.join("eager"), dir.join("empty"));
    let installed = dir.join("installed");
    let cache = dir.join("cache");
    let cache = cache.to_str().unwrap();
    for (at, lazily) in [(&lazy, true), (&eager, false)] {
        precept_tests::sleepers(at, 100, lazily);
        run_in(at, &["trust"]);
    }
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(&installed).unwrap();
    for n in 0..100 {
        let file = lazy.join(format!("plugins/sleeper-{n}.wasm"));
        run_in(
            &installed,
            &[
                "--cache-dir",
                cache,
                "plugin",
                "add",
                file.to_str().unwrap(),
            ],
        );
    }
    let command = ["--cache-dir", cache, "nap-42", "--minutes", "1"];
    // Every build compiled into the cache.
    let set_up = |output: std::process::Output| {
        String::from_utf8_lossy(&output.stdout)
            .matches("setup")
            .count()
    };
    assert_eq!(set_up(run_in(&eager, &command)), 100);
    assert_eq!(set_up(run_in(&lazy, &command)), 1);
    assert_eq!(set_up(run_in(&installed, &command)), 1);
    let none = ["--cache-dir", cache, "dispatch", "x"];
    let rows: [(&str, &std::path::Path, &[&str]); 4] = [
        ("no plugin", &empty, &none),
        (
            "100 installed lazy plugins, the command of one",
            &installed,
            &command,
        ),
        (
            "100 lazy plugins in a plugin directory, the same",
            &lazy,
            &command,
        ),
        ("100 plugins declaring nothing, the same", &eager, &command),
    ];
    // Interleaved rounds, medians: start-up times drift on a shared
    // machine, and each round sees the same moment.
    let mut times = vec![Vec::new(); rows.len()];
    for _ in 0..41 {
        for ((_, at, args), times) in rows.iter().zip(&mut times) {
            let started = std::time::Instant::now();
            run_in(at, args);
            times.push(started.elapsed());
        }
    }
    let medians: Vec<std::time::Duration> = times
        .iter_mut()
        .map(|times| {
            times.sort();
            times[times.len() / 2]
        })
        .collect();
    for ((label, ..), median) in rows.iter().zip(&medians) {
        println!(
            "{label}: {median:.2?} (median of 41 interleaved rounds), {:.2}x no plugin",
            median.as_secs_f64() / medians[0].as_secs_f64()
        );
    }
    let mut group = c.benchmark_group("a hundred plugins at start-up");
    group.sample_size(20);
    for (label, at, args) in rows {
        group.bench_function(label, |b| b.iter(|| run_in(at, args)));
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Chooses a compiler on an engine configuration.
type Configure = fn(&mut wasmtime::Config);

fn first_load(c: &mut Criterion) {
    let bytes = std::fs::read(precept_tests::HELLO).unwrap();
    let mut group = c.benchmark_group("first load of hello");
    group.sample_size(10);
    #[cfg_attr(not(feature = "bench-pulley"), allow(unused_mut))]
    let mut engines: Vec<(&str, Configure)> = vec![
        ("cranelift", |_| {}),
        ("winch", |config| {
            config.strategy(wasmtime::Strategy::Winch);
        }),
    ];
    // `--features bench-pulley`: Pulley is compiled only when measured.
    #[cfg(feature = "bench-pulley")]
    engines.push(("pulley", |config| {
        config.target("pulley64").unwrap();
    }));
    for (name, configure) in engines {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        configure(&mut config);
        let engine = wasmtime::Engine::new(&config).unwrap();
        group.bench_function(format!("compile: {name}"), |b| {
            b.iter(|| Component::new(&engine, &bytes).unwrap())
        });
        let linker = raw::linker(&engine);
        let component = Component::new(&engine, &bytes).unwrap();
        let noop = Component::from_file(&engine, precept_tests::NOOP).unwrap();
        let mut instance = raw::Raw::new(&engine, &linker, &noop);
        let event = raw::event();
        group.bench_function(format!("one on-event call: {name}"), |b| {
            b.iter(|| instance.call(&event))
        });
        drop(component);
    }
    group.finish();
}

/// `precept-run` with the `hostile` plugin copied under each of `names`,
/// each starting a service that loops about `work` million times.
fn busy_services(dir: &std::path::Path, names: &[&str], work: u32) -> Vec<String> {
    let mut config = String::from("[limits]\ndeadline-ms = 60000\nwait-ms = 60000\n");
    for name in names {
        precept_tests::copy_named(precept_tests::HOSTILE, name, dir);
        config.push_str(&format!(
            "[plugin.{name}]\nargs = [\"busy-service\", \"{work}\"]\n"
        ));
    }
    let file = dir.join(format!("{}.toml", names.join("-")));
    std::fs::write(&file, config).unwrap();
    let mut args = vec!["-c".to_string(), file.display().to_string()];
    for name in names {
        args.extend([
            "--plugin".into(),
            dir.join(format!("{name}.wasm")).display().to_string(),
        ]);
    }
    args.extend(["dispatch".into(), "x".into()]);
    args
}

fn parallel_services(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("precept-busy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("cache").display().to_string();
    let mut group = c.benchmark_group("CPU-bound service starts");
    group.sample_size(10);
    for names in [&["busy-a"][..], &["busy-b", "busy-c"]] {
        let mut args = vec!["--cache-dir".to_string(), cache.clone()];
        args.extend(busy_services(&dir, names, 300));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args);
        let label = format!("{} plugin(s), 300 million rounds each", names.len());
        group.bench_function(label, |b| b.iter(|| run(&args)));
    }
    group.finish();
}

criterion_group!(
    benches,
    processes,
    first_load,
    parallel_services,
    ten_plugins,
    hundred_plugins
);
criterion_main!(benches);
