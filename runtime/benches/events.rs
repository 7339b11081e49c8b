//! What an event costs: to a native subscriber, to one plugin, fanned out
//! to 100 plugins — each beside its baseline in the same run: a raw
//! wasmtime typed call of the same `on-event` export on the same component,
//! synchronous and asynchronous; and the same events with the event trace
//! off and on.
//!
//! `cargo bench -p precept --bench events`

#[path = "raw/mod.rs"]
mod raw;

use criterion::{BatchSize, Bencher, Criterion, criterion_group, criterion_main};
use precept::logging::{EventTrace, TraceFormat};
use precept::{App, Flow, Payload, Value};
use wasmtime::component::Component;

fn payload() -> Payload {
    vec![
        ("a".into(), Value::Text("1".into())),
        ("b".into(), Value::Text("2".into())),
    ]
}

/// Dispatches `tick` in `app` with a payload built outside the timing, as
/// the raw calls' event is: what is timed is the dispatch, which owns the
/// payload and frees it.
fn dispatch_prebuilt(b: &mut Bencher, rt: &tokio::runtime::Runtime, app: &App) {
    b.iter_batched(
        payload,
        |payload| rt.block_on(app.events().dispatch("tick", payload)),
        BatchSize::SmallInput,
    )
}

/// A multi-threaded runtime, as `#[tokio::main]`'s: the one on which
/// plugins that cannot wait are called synchronously.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// An application with the noop plugin loaded `count` times, each under a
/// name of its own.
fn app_with_plugins(rt: &tokio::runtime::Runtime, count: usize) -> App {
    let mut app = App::new("bench", "0").unwrap();
    let options = precept::PluginOptions::default();
    rt.block_on(async {
        for i in 0..count {
            let name = format!("noop{i}");
            let loaded = app.load_plugin_as(precept_tests::NOOP, &name, &options);
            loaded.await.unwrap();
        }
    });
    app
}

fn one_subscriber(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("one subscriber");

    group.bench_function("harness: block_on of a ready future", |b| {
        b.iter(|| rt.block_on(async { std::hint::black_box(1) }))
    });

    let native = App::new("bench", "0").unwrap();
    native
        .events()
        .subscribe("tick", |_| async { Flow::Continue });
    group.bench_function("precept: native subscriber", |b| {
        b.iter(|| rt.block_on(native.events().dispatch("tick", payload())))
    });
    group.bench_function("precept: native subscriber, payload prebuilt", |b| {
        dispatch_prebuilt(b, &rt, &native)
    });
    let immediate = App::new("bench", "0").unwrap();
    immediate
        .events()
        .subscribe_sync("tick", |_| Flow::Continue);
    group.bench_function(
        "precept: subscribe_sync subscriber, payload prebuilt",
        |b| dispatch_prebuilt(b, &rt, &immediate),
    );

    let engine = raw::engine();
    let linker = raw::linker(&engine);
    let component = Component::from_file(&engine, precept_tests::NOOP).unwrap();
    let mut instance = raw::Raw::new(&engine, &linker, &component);
    let event = raw::event();
    group.bench_function("raw wasmtime: sync typed call", |b| {
        b.iter(|| instance.call(&event))
    });
    group.bench_function("raw wasmtime: async typed call", |b| {
        b.iter(|| rt.block_on(instance.call_async(&event)))
    });

    let app = app_with_plugins(&rt, 1);
    group.bench_function("precept: plugin subscriber", |b| {
        b.iter(|| rt.block_on(app.events().dispatch("tick", payload())))
    });
    group.bench_function("precept: plugin subscriber, payload prebuilt", |b| {
        dispatch_prebuilt(b, &rt, &app)
    });
    group.finish();
}

fn fan_out(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("fan-out to 100");

    let engine = raw::engine();
    let linker = raw::linker(&engine);
    let component = Component::from_file(&engine, precept_tests::NOOP).unwrap();
    let mut instances: Vec<raw::Raw> = (0..100)
        .map(|_| raw::Raw::new(&engine, &linker, &component))
        .collect();
    let event = raw::event();
    group.bench_function("raw wasmtime: 100 sync typed calls", |b| {
        b.iter(|| {
            for instance in &mut instances {
                instance.call(&event);
            }
        })
    });
    group.bench_function("raw wasmtime: 100 async typed calls", |b| {
        b.iter(|| {
            rt.block_on(async {
                for instance in &mut instances {
                    instance.call_async(&event).await;
                }
            })
        })
    });

    let app = app_with_plugins(&rt, 100);
    group.bench_function("precept: 100 plugin subscribers", |b| {
        b.iter(|| rt.block_on(app.events().dispatch("tick", payload())))
    });
    group.bench_function("precept: 100 plugin subscribers, payload prebuilt", |b| {
        dispatch_prebuilt(b, &rt, &app)
    });
    group.finish();
}

/// One event to a native subscriber and to one plugin, with the trace off
/// and on (written to a sink, so that only its own work counts).
fn trace(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("event trace");
    let native = App::new("bench", "0").unwrap();
    native
        .events()
        .subscribe("tick", |_| async { Flow::Continue });
    let plugin = app_with_plugins(&rt, 1);
    for (what, app) in [
        ("native subscriber", &native),
        ("plugin subscriber", &plugin),
    ] {
        for format in [None, Some(TraceFormat::Text), Some(TraceFormat::Json)] {
            let trace = format.map(|format| EventTrace::new(format, std::io::sink()));
            app.events().trace_to(trace);
            let name = match format {
                None => format!("{what}, trace off"),
                Some(format) => format!("{what}, trace on ({format:?})"),
            };
            group.bench_function(name, |b| {
                b.iter(|| rt.block_on(app.events().dispatch("tick", payload())))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, one_subscriber, fan_out, trace);
criterion_main!(benches);
