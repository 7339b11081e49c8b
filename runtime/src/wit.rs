//! Host bindings generated from the WIT package in `wit/`, the one source of
//! the contract for hosts and guests alike.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: trappable },
    exports: { default: async },
    additional_derives: [PartialEq],
});

pub use self::precept::plugin::types::{Event as WitEvent, Scalar, Value};

/// The version of the `precept:plugin` package this runtime implements.
pub const WORLD_VERSION: &str = "0.1.0";
