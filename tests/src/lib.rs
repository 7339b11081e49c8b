//! Test plugins compiled from source by this crate's build script.
//!
//! Each constant is the path of a component built for `wasm32-wasip2` from a
//! crate in `example-plugins/` or `tests/plugins/`.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
