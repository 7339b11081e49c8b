//! `precept:plugin@0.1.0`, frozen: host bindings generated from
//! `wit/0.1.0/`, and its types and interfaces converted to precept's own.

/// The generated bindings.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "plugin",
        imports: { default: trappable },
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

pub(crate) use bindings::{Plugin, PluginPre};

/// The same world with synchronous exports, sharing the types above: the
/// calls of a plugin that cannot wait (see `crate::host::synchronous`).
mod synchronous {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "plugin",
        with: {
            "precept:plugin/types": super::bindings::precept::plugin::types,
            "precept:plugin/events": super::bindings::precept::plugin::events,
            "precept:plugin/app": super::bindings::precept::plugin::app,
            "precept:plugin/log": super::bindings::precept::plugin::log,
            "precept:plugin/commands": super::bindings::precept::plugin::commands,
            "precept:plugin/services": super::bindings::precept::plugin::services,
            "precept:plugin/config": super::bindings::precept::plugin::config,
        },
    });
}

pub(crate) use synchronous::Plugin as SyncPlugin;

super::shared::since_0_1!();

/// The version of the `precept:plugin` package this module binds.
pub const VERSION: &str = "0.1.0";

/// This version, as the runtime names it.
pub(crate) const THIS: super::Version = super::Version::V0_1;

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_constant_matches_the_wit_package() {
        let wit = include_str!("../../../wit/0.1.0/plugin.wit");
        assert!(wit.contains(&format!("package precept:plugin@{};", super::VERSION)));
    }
}
