//! The first load of each language's conformance plugin, with an empty
//! compile cache: Winch first (the default: Cranelift compiles in the
//! background for the cache) against Cranelift only. Each load runs in a
//! process of its own (this program, run again), since a process keeps
//! what it prepared; three runs each, the median printed.
//!
//! `cargo bench -p precept --bench first_load`

use std::process::Command;
use std::time::Instant;

use precept::App;

const RUNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, child, path, cache, strategy] = &args[..]
        && child == "--child"
    {
        return load_once(path, cache, strategy);
    }
    let languages = [
        ("rust", Ok(precept_tests::CONFORMANCE)),
        ("c", precept_tests::CONFORMANCE_C),
        ("python", precept_tests::CONFORMANCE_PYTHON),
        ("javascript", precept_tests::CONFORMANCE_JAVASCRIPT),
        ("go", precept_tests::CONFORMANCE_GO),
    ];
    println!("first load, median of {RUNS} (empty cache each time)");
    for (language, built) in languages {
        let Ok(path) = built else {
            println!("{language}: skipped, not built");
            continue;
        };
        let median = |strategy: &str| {
            let mut times: Vec<f64> = (0..RUNS).map(|_| child(path, strategy)).collect();
            times.sort_by(f64::total_cmp);
            times[RUNS / 2]
        };
        let (winch, cranelift) = (median("winch-first"), median("cranelift"));
        println!(
            "{language:>10}: winch first {winch:8.1} ms   cranelift only {cranelift:8.1} ms   ({:.2}×)",
            winch / cranelift
        );
    }
}

/// Runs one load in a new process; its time in ms.
fn child(path: &str, strategy: &str) -> f64 {
    let cache =
        std::env::temp_dir().join(format!("precept-first-load-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--child", path, cache.to_str().unwrap(), strategy])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&cache);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn load_once(path: &str, cache: &str, strategy: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut app = App::new("bench", "0").unwrap();
    app.catch_signals(false);
    app.plugin_stdout().capture();
    app.cache_dir(Some(cache.into()));
    if strategy == "cranelift" {
        app.winch_first(None);
    }
    let started = Instant::now();
    runtime.block_on(app.load_plugin(path)).unwrap();
    println!("{}", started.elapsed().as_secs_f64() * 1000.0);
}
