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

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_constant_matches_the_wit_package() {
        let wit = include_str!("../../wit/plugin.wit");
        let package = format!("package precept:plugin@{};", super::WORLD_VERSION);
        assert!(
            wit.contains(&package),
            "wit/plugin.wit does not declare {package}"
        );
    }
}
