//! The first load of a large component: compiled with Winch at once while
//! Cranelift compiles it for the compile cache in the background; a later
//! load maps Cranelift's code. `App::winch_first(Some(0))` makes the small
//! Rust plugins stand in for large ones.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use precept::compile::{CacheUse, Compiler};
use precept::logging::LoadProfile;
use precept::value::lookup;
use precept::{App, FailureKind, Sandbox, Value, payload};

use crate::common::scratch;

/// An application keeping compiled code in `cache`, Winch-first from
/// `winch_first` bytes.
fn app(cache: Option<PathBuf>, winch_first: Option<u64>) -> App {
    let mut app = App::new("first-load", "0").unwrap();
    app.catch_signals(false);
    app.plugin_stdout().capture();
    app.cache_dir(cache).winch_first(winch_first);
    app
}

async fn load(app: &mut App, path: &str) -> LoadProfile {
    app.load_plugin(path).await.unwrap();
    app.load_profiles().last().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_load_runs_on_winch_and_a_later_one_maps_cranelifts_code() {
    let cache = scratch("first-load-winch").join("cache");
    let mut first = app(Some(cache.clone()), Some(0));
    let profile = load(&mut first, precept_tests::CONFORMANCE).await;
    assert_eq!(
        (profile.cache, profile.compiler),
        (CacheUse::Miss, Compiler::Winch)
    );
    // Winch's code behaves as Cranelift's: a ping brings its pong.
    let pongs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = pongs.clone();
    first.events().subscribe("conformance_pong", move |event| {
        seen.lock()
            .unwrap()
            .push(lookup(&event.payload, "n").cloned());
        async { precept::Flow::Continue }
    });
    first
        .events()
        .dispatch("conformance_ping", payload([("n", 1i64)]))
        .await;
    assert_eq!(*pongs.lock().unwrap(), [Some(Value::from(2))]);

    // Cranelift's code reaches the cache in the background; until then a
    // load takes Winch's.
    let until = Instant::now() + Duration::from_secs(300);
    loop {
        let mut later = app(Some(cache.clone()), Some(0));
        let profile = load(&mut later, precept_tests::CONFORMANCE).await;
        if profile.compiler == Compiler::Cranelift {
            assert_eq!(profile.cache, CacheUse::Hit);
            break;
        }
        assert!(
            Instant::now() < until,
            "Cranelift's code never reached the cache"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test(flavor = "multi_thread")]
async fn small_components_without_a_cache_or_with_winch_first_off_compile_with_cranelift() {
    let cache = scratch("first-load-cranelift").join("cache");
    // A Rust plugin is below the default size.
    let mut small = app(
        Some(cache.clone()),
        Some(precept::compile::WINCH_FIRST_BYTES),
    );
    let profile = load(&mut small, precept_tests::HELLO).await;
    assert_eq!(
        (profile.cache, profile.compiler),
        (CacheUse::Miss, Compiler::Cranelift)
    );
    let mut off = app(Some(cache.clone()), None);
    let profile = load(&mut off, precept_tests::PING).await;
    assert_eq!(profile.compiler, Compiler::Cranelift);
    // Without a cache there is nowhere to keep Cranelift's code for later.
    let mut uncached = app(None, Some(0));
    let profile = load(&mut uncached, precept_tests::PONG).await;
    assert_eq!(
        (profile.cache, profile.compiler),
        (CacheUse::Off, Compiler::Cranelift)
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test(flavor = "multi_thread")]
async fn winchs_code_is_cut_at_the_deadline_too() {
    let cache = scratch("first-load-deadline").join("cache");
    let mut app = app(Some(cache.clone()), Some(0));
    app.vars().set("hostile.mode", "loop-event");
    let mut sandbox = Sandbox::default();
    sandbox.limits.call = Duration::from_millis(300);
    app.load_plugin_with(precept_tests::HOSTILE, &sandbox.into())
        .await
        .unwrap();
    assert_eq!(app.load_profiles()[0].compiler, Compiler::Winch);
    let started = Instant::now();
    app.events().dispatch("cli_started", Vec::new()).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let failures = app.events().failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].kind, FailureKind::Timeout, "{}", failures[0]);
    let _ = std::fs::remove_dir_all(&cache);
}
