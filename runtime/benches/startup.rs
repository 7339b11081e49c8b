//! Start-up as a user sees it: whole `precept-run` processes with no
//! plugin, with `hello` compiled (no cache) and with `hello` mapped from
//! the cache; and the first load of a never-seen component with each of
//! wasmtime's compilers: Cranelift (optimizing), Winch (baseline) and the
//! Pulley interpreter.
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

/// Chooses a compiler on an engine configuration.
type Configure = fn(&mut wasmtime::Config);

fn first_load(c: &mut Criterion) {
    let bytes = std::fs::read(precept_tests::HELLO).unwrap();
    let mut group = c.benchmark_group("first load of hello");
    group.sample_size(10);
    let engines: [(&str, Configure); 3] = [
        ("cranelift", |_| {}),
        ("winch", |config| {
            config.strategy(wasmtime::Strategy::Winch);
        }),
        ("pulley", |config| {
            config.target("pulley64").unwrap();
        }),
    ];
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

criterion_group!(benches, processes, first_load);
criterion_main!(benches);
