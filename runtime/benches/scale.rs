//! A thousand plugins: load time and resident memory per plugin, against a
//! thousand raw wasmtime instances of the same component, set up with sync
//! calls, and a thousand that also made one async call (wasmtime then keeps
//! a fiber stack in each store, as it does for precept's plugins, which are
//! called asynchronously). Each side runs in a process of its own so that
//! none's memory counts for another.
//!
//! `cargo bench -p precept --bench scale`

#[path = "raw/mod.rs"]
mod raw;

use std::time::Instant;

use wasmtime::component::Component;

const PLUGINS: usize = 1000;

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn precept_side() {
    // Multi-threaded, as `#[tokio::main]`'s: the noop plugin, which cannot
    // wait, is called synchronously and keeps no fiber stack.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("precept-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<_> = (0..PLUGINS)
        .map(|i| {
            let path = dir.join(format!("noop{i}.wasm"));
            std::fs::copy(precept_tests::NOOP, &path).unwrap();
            path
        })
        .collect();
    let mut app = precept::App::new("scale", "0").unwrap();
    let options = precept::PluginOptions::default();
    // Compile once before measuring, as a warm cache would. Each copy is
    // loaded under a name of its own (they all call themselves `noop`).
    rt.block_on(app.load_plugin_as(&paths[0], "noop0", &options))
        .unwrap();
    let before = resident_kib();
    let started = Instant::now();
    rt.block_on(async {
        for (i, path) in paths.iter().enumerate().skip(1) {
            let name = format!("noop{i}");
            app.load_plugin_as(path, &name, &options).await.unwrap();
        }
    });
    let elapsed = started.elapsed();
    let after = resident_kib();
    assert_eq!(app.plugins().len(), PLUGINS);
    assert!(app.plugins().iter().all(|p| p.is_called_synchronously()));
    report("precept", elapsed, before, after);
}

/// Raw instances; with `one_async_call`, each also makes an async call of
/// `on-event` once set up.
fn raw_side(one_async_call: bool) {
    let engine = raw::engine();
    let linker = raw::linker(&engine);
    let component = Component::from_file(&engine, precept_tests::NOOP).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let event = raw::event();
    let new = || {
        let mut instance = raw::Raw::new(&engine, &linker, &component);
        if one_async_call {
            rt.block_on(instance.call_async(&event));
        }
        instance
    };
    let first = new();
    let before = resident_kib();
    let started = Instant::now();
    let instances: Vec<raw::Raw> = (1..PLUGINS).map(|_| new()).collect();
    let elapsed = started.elapsed();
    let after = resident_kib();
    assert_eq!(instances.len() + 1, PLUGINS);
    drop(first);
    let side = if one_async_call {
        "raw, async call"
    } else {
        "raw wasmtime"
    };
    report(side, elapsed, before, after);
}

fn report(side: &str, elapsed: std::time::Duration, before: u64, after: u64) {
    let each = (PLUGINS - 1) as f64;
    println!(
        "{side:>15}: {} more instances in {:.1} ms ({:.1} µs each), {:.1} KiB resident each",
        PLUGINS - 1,
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / each,
        (after.saturating_sub(before)) as f64 / each,
    );
}

fn main() {
    match std::env::var("PRECEPT_SCALE_SIDE").as_deref() {
        Ok("precept") => precept_side(),
        Ok("raw") => raw_side(false),
        Ok("raw-async") => raw_side(true),
        _ => {
            // `cargo bench` passes `--bench`; each side runs in a new process.
            for side in ["raw", "raw-async", "precept"] {
                let status = std::process::Command::new(std::env::current_exe().unwrap())
                    .env("PRECEPT_SCALE_SIDE", side)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        }
    }
}
