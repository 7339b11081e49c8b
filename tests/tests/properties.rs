//! Properties over many generated inputs: payload values cross into a
//! plugin and back unchanged, and no bytes make the loader panic.
//!
//! `PRECEPT_CASES` sets how many cases each property runs (`just fuzz`
//! runs many more than CI).

mod common;

use std::collections::BTreeMap;

use common::{app, probe, texts};
use precept::{Payload, Scalar, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("PRECEPT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn float() -> impl Strategy<Value = f64> {
    // NaN is not equal to itself; every other float must survive exactly.
    any::<f64>().prop_filter("not NaN", |f| !f.is_nan())
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        Just(Scalar::Absent),
        any::<bool>().prop_map(Scalar::Boolean),
        any::<i64>().prop_map(Scalar::Integer),
        float().prop_map(Scalar::Float),
        any::<String>().prop_map(Scalar::Text),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Absent),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        float().prop_map(Value::Float),
        any::<String>().prop_map(Value::Text),
        prop::collection::vec(scalar(), 0..6).prop_map(Value::List),
        any::<String>().prop_map(Value::Json),
    ]
}

#[test]
fn payload_values_round_trip_through_a_plugin() {
    let rt = runtime();
    let app = rt.block_on(async {
        let mut app = app();
        probe(&mut app, "rt", &[("subscribe", texts(&["values"]))]).await;
        app
    });
    let payloads = prop::collection::btree_map("[a-z]{1,8}", value(), 0..8);
    let mut runner = TestRunner::new(Config::with_cases(cases(300)));
    runner
        .run(&payloads, |entries: BTreeMap<String, Value>| {
            let payload: Payload = entries.clone().into_iter().collect();
            rt.block_on(app.events().dispatch("values", payload));
            for (key, sent) in entries {
                let back = app.vars().get(&format!("rt.values.{key}"));
                prop_assert_eq!(back, Some(sent), "{}", key);
            }
            Ok(())
        })
        .unwrap();
    assert!(app.events().failures().is_empty());
}

/// Bytes to try loading: noise, noise behind a component header, and a
/// real component cut short or with a few bytes changed.
fn plugin_bytes() -> impl Strategy<Value = Vec<u8>> {
    let component = std::fs::read(precept_tests::HELLO).unwrap();
    let len = component.len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(|tail| {
            let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
            bytes.extend(tail);
            bytes
        }),
        (0..len).prop_map({
            let component = component.clone();
            move |cut| component[..cut].to_vec()
        }),
        prop::collection::vec((8..len, any::<u8>()), 1..6).prop_map(move |edits| {
            let mut bytes = component.clone();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            bytes
        }),
    ]
}

#[test]
fn loading_arbitrary_bytes_never_panics() {
    let rt = runtime();
    let dir = std::env::temp_dir().join(format!("precept-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fuzzed.wasm");
    let mut runner = TestRunner::new(Config::with_cases(cases(2000)));
    runner
        .run(&plugin_bytes(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            let mut app = app();
            // Loading may fail or succeed; it must not panic, and a failure
            // is one line.
            if let Err(error) = rt.block_on(app.load_plugin(&path)) {
                prop_assert!(!error.to_string().contains('\n'), "{}", error);
            }
            Ok(())
        })
        .unwrap();
}
