//! The conformance plugin in every language (docs/CONFORMANCE.md), measured
//! the same way: component size, first load (Cranelift compile), warm start
//! of a whole `precept-run` process from the compiled-component cache, and
//! the cost of one event (`conformance_tick`, which the plugin ignores),
//! and the time and peak memory of warm starts taken in turns.
//! Baselines in the same run: a native subscriber, and `precept-run` with
//! no plugin.
//!
//! `cargo bench -p precept --bench languages`

#[path = "raw/mod.rs"]
mod raw;

use std::process::Command;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use precept::{App, Flow, Payload};
use wasmtime::component::Component;

const PRECEPT_RUN: &str = env!("CARGO_BIN_EXE_precept-run");

/// Every language whose conformance plugin was built, as `(language, path)`.
fn languages() -> Vec<(&'static str, &'static str)> {
    built([
        ("rust", Ok(precept_tests::CONFORMANCE)),
        ("c", precept_tests::CONFORMANCE_C),
        ("python", precept_tests::CONFORMANCE_PYTHON),
        ("javascript", precept_tests::CONFORMANCE_JAVASCRIPT),
        ("go", precept_tests::CONFORMANCE_GO),
    ])
}

/// Every language whose hello plugin (`example-plugins/*/hello`) was built,
/// as `(name, path)`.
fn hellos() -> Vec<(&'static str, &'static str)> {
    built([
        ("hello-rust", Ok(precept_tests::HELLO)),
        ("hello-c", precept_tests::HELLO_C),
        ("hello-python", precept_tests::HELLO_PYTHON),
        ("hello-javascript", precept_tests::HELLO_JAVASCRIPT),
        ("hello-go", precept_tests::HELLO_GO),
    ])
}

/// The components of `all` that were built; why the others were not.
fn built<const N: usize>(
    all: [(&'static str, Result<&'static str, &'static str>); N],
) -> Vec<(&'static str, &'static str)> {
    all.into_iter()
        .filter_map(|(language, built)| match built {
            Ok(path) => Some((language, path)),
            Err(why) => {
                eprintln!("skipped {language}: {why}");
                None
            }
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sizes(_: &mut Criterion) {
    for (language, path) in languages() {
        let bytes = std::fs::metadata(path).unwrap().len();
        eprintln!(
            "component size: {language}: {bytes} bytes ({:.1} MiB)",
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}

fn first_load(c: &mut Criterion) {
    let engine = raw::engine();
    let mut group = c.benchmark_group("first load (compile)");
    // Python and JavaScript take seconds per compile: one per sample.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for (language, path) in languages() {
        let bytes = std::fs::read(path).unwrap();
        group.bench_function(language, |b| {
            b.iter(|| Component::new(&engine, &bytes).unwrap())
        });
    }
    group.finish();
}

fn run(args: &[&str]) {
    let output = Command::new(PRECEPT_RUN).args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// The compile cache of this run's warm starts, filled once: each plugin
/// started until Cranelift's code is in the cache (a large one is compiled
/// by Winch for its first starts), then once more after a second, when the
/// cache remembers the hashes of its file and of its compiled code (see
/// `compile::seen`).
fn warm_cache() -> &'static str {
    static CACHE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        let cache = std::env::temp_dir().join(format!("precept-languages-{}", std::process::id()));
        let cache = cache.to_str().unwrap().to_string();
        for (_, path) in languages().into_iter().chain(hellos()) {
            for _ in 0..5 {
                run(&["--cache-dir", &cache, "--plugin", path, "dispatch", "x"]);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1100));
        for (_, path) in languages().into_iter().chain(hellos()) {
            run(&["--cache-dir", &cache, "--plugin", path, "dispatch", "x"]);
        }
        cache
    })
}

fn warm_start(c: &mut Criterion) {
    let cache = warm_cache();
    let mut group = c.benchmark_group("warm start");
    group.sample_size(20);
    group.bench_function("no plugin", |b| {
        b.iter(|| run(&["--cache-dir", cache, "dispatch", "x"]))
    });
    for (language, path) in languages().into_iter().chain(hellos()) {
        let args = ["--cache-dir", cache, "--plugin", path, "dispatch", "x"];
        group.bench_function(language, |b| b.iter(|| run(&args)));
    }
    group.finish();
}

/// GNU time, which reports the peak memory of the process it starts. A
/// process started from this one would count this one's memory too (the
/// kernel keeps a process's peak across `exec`): `precept-run` is started
/// by this small one.
const TIME: &str = "/usr/bin/time";

/// The peak resident memory, in KiB, of a whole `precept-run` process run
/// with `args`.
fn peak_kib(args: &[&str]) -> u64 {
    let output = Command::new(TIME)
        .args(["-f", "%M", PRECEPT_RUN])
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr.lines().last().unwrap().trim().parse().unwrap()
}

/// The median peak memory of 21 warm starts of each language's plugin and
/// of no plugin, taken in turns.
fn peak_memory(_: &mut Criterion) {
    if !std::path::Path::new(TIME).exists() {
        eprintln!("skipped peak memory: {TIME} (GNU time) is not installed");
        return;
    }
    let peaks = in_turns(21, |args| peak_kib(args) as f64);
    for (language, kib, ratio) in beside_rust(&peaks) {
        eprintln!(
            "peak memory (warm start): {language}: {:.1} MiB{ratio}",
            kib / 1024.0
        );
    }
}

/// The median time of 31 warm starts of each language's plugin and of no
/// plugin, taken in turns, as criterion's `warm start` group times them
/// one after another: a drift of the machine during the run (its page
/// cache reclaimed, its clock) reaches every plugin alike, so that the
/// ratios to Rust's hold.
fn warm_start_in_turns(_: &mut Criterion) {
    let times = in_turns(31, |args| {
        let started = std::time::Instant::now();
        run(args);
        started.elapsed().as_secs_f64() * 1000.0
    });
    for (language, ms, ratio) in beside_rust(&times) {
        eprintln!("warm start (in turns): {language}: {ms:.2} ms{ratio}");
    }
}

/// The median of `rounds` measures of a warm start of no plugin and of
/// each language's plugin, taken in turns, by name.
fn in_turns(rounds: usize, measure: impl Fn(&[&str]) -> f64) -> Vec<(&'static str, f64)> {
    let cache = warm_cache();
    let mut runs: Vec<(&str, Vec<&str>)> = vec![("no plugin", vec![])];
    for (language, path) in languages().into_iter().chain(hellos()) {
        runs.push((language, vec!["--plugin", path]));
    }
    let mut measured = vec![Vec::new(); runs.len()];
    for _ in 0..rounds {
        for ((_, plugin), measured) in runs.iter().zip(&mut measured) {
            let mut args = vec!["--cache-dir", cache];
            args.extend(plugin);
            args.extend(["dispatch", "x"]);
            measured.push(measure(&args));
        }
    }
    runs.iter()
        .zip(measured)
        .map(|((name, _), mut measured)| {
            measured.sort_unstable_by(f64::total_cmp);
            (*name, measured[measured.len() / 2])
        })
        .collect()
}

/// Each of `medians` with its ratio to Rust's plugin of the same kind (the
/// hello plugins to `hello-rust`, the conformance ones to `rust`).
fn beside_rust(medians: &[(&'static str, f64)]) -> Vec<(&'static str, f64, String)> {
    let of = |name: &str| medians.iter().find(|(n, _)| *n == name).map(|(_, m)| *m);
    medians
        .iter()
        .map(|&(language, median)| {
            let rust = match language.starts_with("hello-") {
                true => of("hello-rust"),
                false => of("rust"),
            };
            let ratio = rust.map_or(String::new(), |rust| {
                format!(" ({:.2}x Rust's)", median / rust)
            });
            (language, median, ratio)
        })
        .collect()
}

fn one_event(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("one event");
    let empty = Payload::new;

    let native = App::new("bench", "0").unwrap();
    native
        .events()
        .subscribe("conformance_tick", |_| async { Flow::Continue });
    group.bench_function("native subscriber", |b| {
        b.iter(|| rt.block_on(native.events().dispatch("conformance_tick", empty())))
    });

    for (language, path) in languages() {
        let mut app = App::new("bench", "0").unwrap();
        rt.block_on(app.load_plugin(path)).unwrap();
        group.bench_function(language, |b| {
            b.iter(|| rt.block_on(app.events().dispatch("conformance_tick", empty())))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    sizes,
    first_load,
    warm_start,
    warm_start_in_turns,
    peak_memory,
    one_event
);
criterion_main!(benches);
