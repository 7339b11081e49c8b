//! The conformance plugin in every language (docs/CONFORMANCE.md), measured
//! the same way: component size, first load (Cranelift compile), warm start
//! of a whole `precept-run` process from the compiled-component cache, and
//! the cost of one event (`conformance_tick`, which the plugin ignores).
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

/// Every language whose component was built, as `(language, path)`.
fn languages() -> Vec<(&'static str, &'static str)> {
    let built = [
        ("rust", Ok(precept_tests::CONFORMANCE)),
        ("c", precept_tests::CONFORMANCE_C),
        ("python", precept_tests::CONFORMANCE_PYTHON),
        ("javascript", precept_tests::CONFORMANCE_JAVASCRIPT),
        ("go", precept_tests::CONFORMANCE_GO),
    ];
    built
        .into_iter()
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

fn warm_start(c: &mut Criterion) {
    let cache = std::env::temp_dir().join(format!("precept-languages-{}", std::process::id()));
    let cache = cache.to_str().unwrap();
    let mut group = c.benchmark_group("warm start");
    group.sample_size(20);
    group.bench_function("no plugin", |b| {
        b.iter(|| run(&["--cache-dir", cache, "dispatch", "x"]))
    });
    for (language, path) in languages() {
        let args = ["--cache-dir", cache, "--plugin", path, "dispatch", "x"];
        run(&args); // fills the cache
        group.bench_function(language, |b| b.iter(|| run(&args)));
    }
    group.finish();
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

criterion_group!(benches, sizes, first_load, warm_start, one_event);
criterion_main!(benches);
