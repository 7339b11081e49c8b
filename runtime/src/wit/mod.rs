//! The `precept:plugin` contract, one module per WIT version, side by side.
//! Each binds its version and converts its types to precept's own at the
//! boundary, so the dispatcher, the variables and the embedding API never
//! see generated types. This module picks a component's version from what
//! it imports and makes every call through the right bindings, but for
//! `on-event`, which takes precept's own event, lowered as it is.

mod shared;
pub(crate) mod v0_1;
pub(crate) mod v0_2;

/// The newest version: the one place that names it.
use v0_2 as newest;

use std::sync::OnceLock;
use wasmtime::Store;

use wasmtime::component::{
    Component, ComponentType, Func, HasSelf, Instance, InstancePre, Linker, Lower, TypedFunc,
};

use crate::host::HostState;
use crate::model::event::Event;
use crate::model::value::{Payload, Value};

/// The newest version of the `precept:plugin` package this runtime
/// provides: what the SDKs and `precept-build` target.
pub const WORLD_VERSION: &str = newest::VERSION;

/// Every version this runtime loads, oldest first.
pub const WORLD_VERSIONS: &[&str] = &[v0_1::VERSION, v0_2::VERSION];

/// A version of the contract this runtime loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// `precept:plugin@0.1.0`, frozen.
    V0_1,
    /// `precept:plugin@0.2.0`: adds capabilities.
    V0_2,
}

impl Version {
    /// The version a component was built for, from the `precept:plugin`
    /// interfaces it imports; `Err` names a version this runtime does not
    /// provide. A component importing none of them is taken as the newest.
    pub(crate) fn of(component: &Component, engine: &wasmtime::Engine) -> Result<Version, String> {
        let imported = component
            .component_type()
            .imports(engine)
            .filter_map(|(name, _)| name.strip_prefix("precept:plugin/"))
            .find_map(|rest| rest.split_once('@').map(|(_, version)| version.to_string()));
        match imported {
            None => Ok(Version::NEWEST),
            Some(version) => Version::named(&version).ok_or(version),
        }
    }

    /// The newest version.
    pub(crate) const NEWEST: Version = newest::THIS;

    /// The version called `version`, e.g. `0.2.0`, if this runtime has it.
    pub(crate) fn named(version: &str) -> Option<Version> {
        match version {
            v0_1::VERSION => Some(v0_1::THIS),
            v0_2::VERSION => Some(v0_2::THIS),
            _ => None,
        }
    }

    /// Whether its plugins declare their capabilities (0.1.0 ones do not).
    pub(crate) fn declares_capabilities(self) -> bool {
        self != Version::V0_1
    }

    /// `0.1.0` or `0.2.0`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Version::V0_1 => v0_1::VERSION,
            Version::V0_2 => v0_2::VERSION,
        }
    }
}

/// Adds the host side of every version to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    v0_1::Plugin::add_to_linker::<_, HasSelf<HostState>>(linker, |state| state)?;
    v0_2::Plugin::add_to_linker::<_, HasSelf<HostState>>(linker, |state| state)
}

/// A step of a service's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStep {
    /// Before the command: `service-setup`, then `{name}_setup`.
    Setup,
    /// Before the command, concurrently: `service-start`, then `{name}_start`.
    Start,
    /// After the command, concurrently: `service-stop`, then `{name}_stop`.
    Stop,
}

impl ServiceStep {
    /// The plugin export for this step.
    pub fn export(self) -> &'static str {
        match self {
            ServiceStep::Setup => "service-setup",
            ServiceStep::Start => "service-start",
            ServiceStep::Stop => "service-stop",
        }
    }

    /// The step's name, as in its event: `setup`, `start` or `stop`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStep::Setup => "setup",
            ServiceStep::Start => "start",
            ServiceStep::Stop => "stop",
        }
    }
}

/// A component compiled and linked for its version, ready to instantiate:
/// with the host's imports, and, when it imports nothing that can wait,
/// with the synchronous ones too (`crate::host::synchronous`).
#[derive(Clone)]
pub(crate) struct PluginPre {
    linked: Linked,
    synchronous: Option<InstancePre<HostState>>,
}

#[derive(Clone)]
enum Linked {
    V0_1(v0_1::PluginPre<HostState>),
    V0_2(v0_2::PluginPre<HostState>),
}

impl PluginPre {
    /// Checks that the linked component has the exports of `version`;
    /// `synchronous` is the same component linked with the synchronous
    /// imports, if it could be.
    pub(crate) fn new(
        version: Version,
        pre: InstancePre<HostState>,
        synchronous: Option<InstancePre<HostState>>,
    ) -> wasmtime::Result<Self> {
        let linked = match version {
            Version::V0_1 => Linked::V0_1(v0_1::PluginPre::new(pre)?),
            Version::V0_2 => Linked::V0_2(v0_2::PluginPre::new(pre)?),
        };
        Ok(PluginPre {
            linked,
            synchronous,
        })
    }

    /// The compiled component.
    pub(crate) fn component(&self) -> &Component {
        match &self.linked {
            Linked::V0_1(pre) => pre.instance_pre().component(),
            Linked::V0_2(pre) => pre.instance_pre().component(),
        }
    }

    /// The version it was built for.
    pub(crate) fn version(&self) -> Version {
        match self.linked {
            Linked::V0_1(_) => Version::V0_1,
            Linked::V0_2(_) => Version::V0_2,
        }
    }

    /// Instantiates it in `store`, to be called asynchronously.
    pub(crate) async fn instantiate_async(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Exports> {
        let calls = match &self.linked {
            Linked::V0_1(pre) => Calls::V0_1(pre.instantiate_async(&mut *store).await?),
            Linked::V0_2(pre) => Calls::V0_2(pre.instantiate_async(&mut *store).await?),
        };
        Ok(Exports {
            on_event: calls.on_event().typed(&*store)?,
            instance: None,
            calls: OnceLock::from(Box::new(calls)),
            now: None,
        })
    }

    /// Instantiates it in `store` with the synchronous imports, on this
    /// thread: its `setup` and `on-event` are then called synchronously,
    /// the others asynchronously. `None` when it imports something that
    /// can wait.
    pub(crate) fn instantiate_now(
        &self,
        store: &mut Store<HostState>,
    ) -> Option<wasmtime::Result<Exports>> {
        let pre = self.synchronous.as_ref()?;
        Some((|| {
            let instance = pre.instantiate(&mut *store)?;
            let now = match &self.linked {
                Linked::V0_1(_) => NowCalls::V0_1(v0_1::SyncPlugin::new(&mut *store, &instance)?),
                Linked::V0_2(_) => NowCalls::V0_2(v0_2::SyncPlugin::new(&mut *store, &instance)?),
            };
            Ok(Exports {
                on_event: now.on_event().typed(&*store)?,
                instance: Some((instance, self.version())),
                calls: OnceLock::new(),
                now: Some(now),
            })
        })())
    }
}

/// An instance's exports, for its version: called asynchronously, and,
/// for an instance of the synchronous imports, synchronously.
pub(crate) struct Exports {
    /// Its `on-event`, synchronous or not as the instance is.
    on_event: OnEvent,
    /// The instance, while its asynchronous calls are not bound yet.
    instance: Option<(Instance, Version)>,
    /// Its asynchronous calls; an instance called synchronously binds
    /// them at its first asynchronous call (a service's or a command's),
    /// as most never make one.
    calls: OnceLock<Box<Calls>>,
    now: Option<NowCalls>,
}

enum Calls {
    V0_1(v0_1::Plugin),
    V0_2(v0_2::Plugin),
}

impl Calls {
    /// The `on-event` export.
    fn on_event(&self) -> Func {
        match self {
            Calls::V0_1(plugin) => *plugin.func_on_event().func(),
            Calls::V0_2(plugin) => *plugin.func_on_event().func(),
        }
    }
}

enum NowCalls {
    V0_1(v0_1::SyncPlugin),
    V0_2(v0_2::SyncPlugin),
}

impl NowCalls {
    /// The `on-event` export.
    fn on_event(&self) -> Func {
        match self {
            NowCalls::V0_1(plugin) => *plugin.func_on_event().func(),
            NowCalls::V0_2(plugin) => *plugin.func_on_event().func(),
        }
    }
}

impl Exports {
    /// The asynchronous calls, bound now if they were not.
    fn calls(&self, store: &mut Store<HostState>) -> wasmtime::Result<&Calls> {
        if let Some(calls) = self.calls.get() {
            return Ok(calls);
        }
        let (instance, version) = self.instance.as_ref().expect("an instance to bind");
        let calls = match version {
            Version::V0_1 => Calls::V0_1(v0_1::Plugin::new(&mut *store, instance)?),
            Version::V0_2 => Calls::V0_2(v0_2::Plugin::new(&mut *store, instance)?),
        };
        Ok(self.calls.get_or_init(|| Box::new(calls)))
    }
}

/// A call's result: a trap, or the plugin's answer.
pub(crate) type Answer<T> = wasmtime::Result<Result<T, String>>;

/// Makes the same call through whichever version's bindings `$exports` has.
macro_rules! each_version {
    ($exports:expr, $store:expr, $plugin:ident => $call:expr) => {
        match $exports.calls($store)? {
            Calls::V0_1($plugin) => $call,
            Calls::V0_2($plugin) => $call,
        }
    };
}

impl Exports {
    /// Calls `setup`.
    pub(crate) async fn setup(&self, store: &mut Store<HostState>) -> Answer<()> {
        each_version!(self, store, plugin => plugin.call_setup(store).await)
    }

    /// Calls `on-event` with `event`.
    pub(crate) async fn on_event(
        &self,
        store: &mut Store<HostState>,
        event: &Event,
    ) -> Answer<bool> {
        let on_event: &TypedFunc<(LoweredEvent<'_>,), _> = &self.on_event;
        let called = on_event.call_async(store, (LoweredEvent::of(event),));
        called.await.map(|(answer,)| answer)
    }

    /// Whether `setup` and `on-event` are called synchronously.
    pub(crate) fn is_synchronous(&self) -> bool {
        self.now.is_some()
    }

    /// Calls `setup` synchronously; `None` if it is not called so.
    pub(crate) fn setup_now(&self, store: &mut Store<HostState>) -> Option<Answer<()>> {
        Some(match self.now.as_ref()? {
            NowCalls::V0_1(plugin) => plugin.call_setup(store),
            NowCalls::V0_2(plugin) => plugin.call_setup(store),
        })
    }

    /// Calls `on-event` synchronously; `None` if it is not called so.
    pub(crate) fn on_event_now(
        &self,
        store: &mut Store<HostState>,
        event: &Event,
    ) -> Option<Answer<bool>> {
        // Only an instance of the synchronous imports is called so.
        self.now.as_ref()?;
        let on_event: &TypedFunc<(LoweredEvent<'_>,), _> = &self.on_event;
        let called = on_event.call(store, (LoweredEvent::of(event),));
        Some(called.map(|(answer,)| answer))
    }

    /// Calls the service export of `step` for the service `name`.
    pub(crate) async fn service(
        &self,
        store: &mut Store<HostState>,
        step: ServiceStep,
        name: &str,
    ) -> Answer<()> {
        each_version!(self, store, plugin => match step {
            ServiceStep::Setup => plugin.call_service_setup(store, name).await,
            ServiceStep::Start => plugin.call_service_start(store, name).await,
            ServiceStep::Stop => plugin.call_service_stop(store, name).await,
        })
    }

    /// Calls `run-command` for the command `name` with `args`.
    pub(crate) async fn run_command(
        &self,
        store: &mut Store<HostState>,
        name: &str,
        args: &Payload,
    ) -> Answer<()> {
        match self.calls(store)? {
            Calls::V0_1(plugin) => {
                let args = v0_1::payload_to_wit(args);
                plugin.call_run_command(store, name, &args).await
            }
            Calls::V0_2(plugin) => {
                let args = v0_2::payload_to_wit(args);
                plugin.call_run_command(store, name, &args).await
            }
        }
    }
}

/// An event as a plugin's `on-event` receives it, the contract's `event`
/// record (the same in every version), lowered from precept's own event
/// as it is: its name and payload are not copied first.
#[derive(ComponentType, Lower)]
#[component(record)]
struct LoweredEvent<'a> {
    name: &'a str,
    payload: &'a [(String, Value)],
    num: u32,
    timestamp: u64,
}

impl<'a> LoweredEvent<'a> {
    /// `event`, borrowed.
    fn of(event: &'a Event) -> Self {
        LoweredEvent {
            name: &event.name,
            payload: &event.payload,
            num: event.num,
            timestamp: event.timestamp,
        }
    }
}

/// What `on-event` gives back: whether the plugin stopped the event.
type OnEventAnswer = (Result<bool, String>,);

/// An instance's `on-event` export, typed to take a [`LoweredEvent`]:
/// checked once, when it is instantiated, and called with events borrowed
/// for less than `'static` (a `TypedFunc` is covariant in its parameters).
type OnEvent = TypedFunc<(LoweredEvent<'static>,), OnEventAnswer>;
