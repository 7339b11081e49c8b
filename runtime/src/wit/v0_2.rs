//! `precept:plugin@0.2.0`: host bindings generated from `wit/0.2.0/`. It
//! has everything 0.1.0 has, `capabilities` (what the user granted of what
//! the plugin declares), `timers`, `add-var`, `append-var` and
//! `is-running`.

/// The generated bindings.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/0.2.0",
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
        path: "../wit/0.2.0",
        world: "plugin",
        with: {
            "precept:plugin/types": super::bindings::precept::plugin::types,
            "precept:plugin/events": super::bindings::precept::plugin::events,
            "precept:plugin/app": super::bindings::precept::plugin::app,
            "precept:plugin/log": super::bindings::precept::plugin::log,
            "precept:plugin/commands": super::bindings::precept::plugin::commands,
            "precept:plugin/services": super::bindings::precept::plugin::services,
            "precept:plugin/config": super::bindings::precept::plugin::config,
            "precept:plugin/capabilities": super::bindings::precept::plugin::capabilities,
            "precept:plugin/timers": super::bindings::precept::plugin::timers,
        },
    });
}

pub(crate) use synchronous::Plugin as SyncPlugin;

use self::bindings::precept::plugin::capabilities::{self, DirectoryGrant, Grant};
use self::bindings::precept::plugin::timers;
use crate::trust::capabilities::{Access, Granted};

super::shared::since_0_1!(services: {
    fn is_running(&mut self, name: String) -> wasmtime::Result<Option<bool>> {
        Ok(HostState::service_running(self, &name))
    }
}, app: {
    fn add_var(&mut self, name: String, delta: i64) -> wasmtime::Result<Result<i64, String>> {
        HostState::add_var(self, &name, delta)
    }

    fn append_var(
        &mut self,
        name: String,
        item: types::Scalar,
    ) -> wasmtime::Result<Result<u32, String>> {
        HostState::append_var(self, &name, item.into())
    }
});

/// The version of the `precept:plugin` package this module binds.
pub const VERSION: &str = "0.2.0";

/// This version, as the runtime names it.
pub(crate) const THIS: super::Version = super::Version::V0_2;

impl timers::Host for HostState {
    fn set_timeout(
        &mut self,
        ms: u32,
        event: String,
        payload: types::Payload,
    ) -> wasmtime::Result<Result<u64, String>> {
        HostState::set_timer(self, ms, false, event, payload_from_wit(payload))
    }

    fn set_interval(
        &mut self,
        ms: u32,
        event: String,
        payload: types::Payload,
    ) -> wasmtime::Result<Result<u64, String>> {
        HostState::set_timer(self, ms, true, event, payload_from_wit(payload))
    }

    fn cancel(&mut self, id: u64) -> wasmtime::Result<()> {
        HostState::cancel_timer(self, id);
        Ok(())
    }
}

impl capabilities::Host for HostState {
    fn granted(&mut self) -> wasmtime::Result<Vec<Grant>> {
        let grant = |granted: &Granted| match granted {
            Granted::Directory { path, access } => Grant::Directory(DirectoryGrant {
                path: path.clone(),
                access: match access {
                    Access::Read => capabilities::Access::Read,
                    Access::ReadWrite => capabilities::Access::ReadWrite,
                },
            }),
            Granted::Env(name) => Grant::Env(name.clone()),
            Granted::Net(host) => Grant::Net(host.clone()),
        };
        Ok(HostState::granted(self).iter().map(grant).collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_constant_matches_the_wit_package() {
        let wit = include_str!("../../../wit/0.2.0/plugin.wit");
        assert!(wit.contains(&format!("package precept:plugin@{};", super::VERSION)));
    }

    #[test]
    fn the_guest_sdk_carries_the_newest_wit() {
        // `precept-guest` is packaged on its own, so it keeps a copy of the
        // contract inside its crate: it must not drift from `wit/`.
        assert!(
            include_str!("../../../guest-sdk/wit/plugin.wit")
                == include_str!("../../../wit/0.2.0/plugin.wit"),
            "guest-sdk/wit/plugin.wit differs from wit/0.2.0/plugin.wit: copy it over"
        );
    }
}
