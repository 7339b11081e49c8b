//! The example plugins the demo shows, built from source for
//! `wasm32-wasip2` by this crate's build script, and nothing else: the
//! test, hostile and other-language plugins are `precept-tests`' job.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
