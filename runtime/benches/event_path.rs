//! The event path's targets side by side, in one run: an event to a native
//! subscriber, to one plugin, fanned out to 100 plugins, each beside its
//! baseline (the harness; a raw wasmtime typed call of the same `on-event`
//! export on the same component). Rows are measured interleaved: each
//! round runs every row for its own fixed number of iterations, one row
//! after another, so that the machine's drift between minutes reaches
//! every row alike; a row's figure is its median over the rounds.
//!
//! `cargo bench -p precept --bench event_path`

#[path = "raw/mod.rs"]
mod raw;

use std::hint::black_box;
use std::time::{Duration, Instant};

use precept::{App, Flow, Payload, Value};
use wasmtime::component::Component;

/// How many rounds each row is measured in.
const ROUNDS: usize = 41;

/// About how long one row runs in one round.
const BATCH: Duration = Duration::from_millis(4);

fn payload() -> Payload {
    vec![
        ("a".into(), Value::Text("1".into())),
        ("b".into(), Value::Text("2".into())),
    ]
}

/// A multi-threaded runtime, as `#[tokio::main]`'s.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// An application with the noop plugin loaded `count` times.
fn app_with_plugins(rt: &tokio::runtime::Runtime, count: usize) -> App {
    let mut app = App::new("bench", "0").unwrap();
    let options = precept::PluginOptions::default();
    rt.block_on(async {
        for i in 0..count {
            let name = format!("noop{i}");
            let loaded = app.load_plugin_as(precept_tests::NOOP, &name, &options);
            assert!(loaded.await.unwrap().is_called_synchronously());
        }
    });
    app
}

/// One row: its name, what one iteration does, and its figures.
struct Row<'a> {
    name: &'static str,
    iteration: Box<dyn FnMut() + 'a>,
    iterations: u64,
    per_iteration: Vec<f64>,
}

impl<'a> Row<'a> {
    fn new(name: &'static str, iteration: impl FnMut() + 'a) -> Self {
        let mut row = Row {
            name,
            iteration: Box::new(iteration),
            iterations: 1,
            per_iteration: Vec::new(),
        };
        // Warm up, and size the batch.
        let started = Instant::now();
        let mut ran = 0u64;
        while started.elapsed() < BATCH {
            (row.iteration)();
            ran += 1;
        }
        row.iterations = ran.max(1);
        row
    }

    fn measure(&mut self) {
        let started = Instant::now();
        for _ in 0..self.iterations {
            (self.iteration)();
        }
        let nanos = started.elapsed().as_nanos() as f64;
        self.per_iteration.push(nanos / self.iterations as f64);
    }

    fn median(&self) -> f64 {
        let mut sorted = self.per_iteration.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }
}

fn main() {
    let rt = runtime();
    let native = App::new("bench", "0").unwrap();
    native
        .events()
        .subscribe("tick", |_| async { Flow::Continue });
    let immediate = App::new("bench", "0").unwrap();
    immediate
        .events()
        .subscribe_sync("tick", |_| Flow::Continue);
    let one = app_with_plugins(&rt, 1);
    let hundred = app_with_plugins(&rt, 100);

    let engine = raw::engine();
    let linker = raw::linker(&engine);
    let component = Component::from_file(&engine, precept_tests::NOOP).unwrap();
    let mut instance = raw::Raw::new(&engine, &linker, &component);
    let mut instances: Vec<raw::Raw> = (0..100)
        .map(|_| raw::Raw::new(&engine, &linker, &component))
        .collect();
    let event = raw::event();
    let (rt, event) = (&rt, &event);

    let mut rows = vec![
        Row::new("harness: block_on of a ready future", || {
            rt.block_on(async { black_box(1) });
        }),
        Row::new("harness: block_on, building the payload", || {
            rt.block_on(async { black_box(payload()) });
        }),
        Row::new("precept: native subscriber (subscribe)", || {
            rt.block_on(native.events().dispatch("tick", payload()))
        }),
        Row::new("precept: native subscriber (subscribe_sync)", || {
            rt.block_on(immediate.events().dispatch("tick", payload()))
        }),
        Row::new("raw wasmtime: sync typed call", || {
            black_box(instance.call(event));
        }),
        Row::new("precept: plugin subscriber", || {
            rt.block_on(one.events().dispatch("tick", payload()))
        }),
        Row::new("raw wasmtime: 100 sync typed calls", || {
            for instance in &mut instances {
                black_box(instance.call(event));
            }
        }),
        Row::new("precept: 100 plugin subscribers", || {
            rt.block_on(hundred.events().dispatch("tick", payload()))
        }),
    ];
    for _ in 0..ROUNDS {
        for row in &mut rows {
            row.measure();
        }
    }

    println!("| row | median of {ROUNDS} rounds |");
    println!("| --- | ---: |");
    let medians: Vec<f64> = rows.iter().map(Row::median).collect();
    for (row, median) in rows.iter().zip(&medians) {
        println!("| {} | {} |", row.name, shown(*median));
    }
    let [
        bare,
        harness,
        native,
        immediate,
        raw_sync,
        plugin,
        raw_100,
        plugins_100,
    ] = medians[..]
    else {
        unreachable!("eight rows")
    };
    println!();
    println!(
        "native subscriber, net of the harness with its payload: subscribe {}, subscribe_sync {} \
         (net of the bare harness: {} and {})",
        shown(native - harness),
        shown(immediate - harness),
        shown(native - bare),
        shown(immediate - bare),
    );
    println!(
        "one plugin, net of the harness with its payload, against a raw sync call: {:.2}x \
         (net of the bare harness: {:.2}x)",
        (plugin - harness) / raw_sync,
        (plugin - bare) / raw_sync,
    );
    println!(
        "100 plugins against 100 raw sync calls: {:.2}x",
        plugins_100 / raw_100
    );
}

fn shown(nanos: f64) -> String {
    if nanos >= 10_000.0 {
        format!("{:.1} µs", nanos / 1000.0)
    } else {
        format!("{nanos:.0} ns")
    }
}
