//! A loaded plugin and calls to its exports. Each plugin owns one `Store`;
//! calls to it queue on a lock, so a plugin runs one call at a time while
//! different plugins run concurrently. Loading it is `load`'s job.

mod call;
mod load;

pub(crate) use load::{granted, shown_path, usable_name};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;
use wasmtime::Store;

pub use crate::model::config::PluginOptions;
pub(crate) use call::{Called, Now};
pub(crate) use load::PluginFile;

use crate::host::timers::TimerBook;
use crate::host::{HostState, Live};
use crate::model::event::Event;
use crate::model::value::Payload;
use crate::trust::capabilities::{Capabilities, Granted};
use crate::trust::lock::Locked;
use crate::trust::manifest::Identity;
use crate::trust::sandbox::Limits;
use crate::wit::{Exports, ServiceStep, Version};

/// A plugin's identity within its application: it stays the same when the
/// plugin is loaded again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginId(u64);

impl PluginId {
    /// A new identity, never given before in this process.
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        PluginId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl std::fmt::Display for PluginId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A plugin: a handle to one component instance in its own sandboxed
/// store. The handle stays while the instance behind it may be replaced
/// (the plugin loaded again): subscriptions, services, commands and timers
/// hold the handle.
pub struct Plugin {
    id: PluginId,
    name: Arc<str>,
    path: String,
    /// Its options, shared with its store (and with other plugins given
    /// the same ones).
    options: Arc<PluginOptions>,
    loaded: RwLock<Arc<Loaded>>,
}

/// One loaded instance of a plugin's component.
struct Loaded {
    instance: Arc<Mutex<Option<Instance>>>,
    /// Shared with its store, so that a running call sees it.
    disabled: Arc<AtomicBool>,
    timers: Arc<TimerBook>,
    /// Whether `setup` and `on-event` are called synchronously.
    synchronous: bool,
    /// Its compiled component, for the names of its imports and exports
    /// (shared by every plugin of the same component).
    component: (wasmtime::Engine, wasmtime::component::Component),
    about: About,
}

impl Loaded {
    /// Stops every further call into it and releases its store (at once,
    /// or when the call that holds it returns); its timers fire no more.
    fn disable(&self) {
        self.disabled.store(true, Ordering::Release);
        self.timers.end();
        if let Ok(mut instance) = self.instance.try_lock() {
            instance.take();
        }
    }

    /// Like `disable`, once the call running in it, if any, has returned
    /// (that call ends as it would have, not cut off); `first` runs then,
    /// before the instance is disabled.
    async fn retire(&self, first: impl FnOnce()) {
        let mut instance = self.instance.lock().await;
        first();
        self.disabled.store(true, Ordering::Release);
        self.timers.end();
        instance.take();
    }
}

/// What is known of a plugin from its file, before any of its code runs.
#[derive(Debug, Clone)]
pub(crate) struct About {
    /// Its file, absolute.
    pub(crate) file: PathBuf,
    /// Who it says it is.
    pub(crate) identity: Identity,
    /// What it declares it needs.
    pub(crate) declared: Capabilities,
    /// The `precept:plugin` version it was built for.
    pub(crate) version: Version,
    /// What it was granted of what it declares.
    pub(crate) granted: Vec<Granted>,
    /// Its content hash (BLAKE3, hex).
    pub(crate) digest: String,
}

struct Instance {
    store: Store<HostState>,
    exports: Exports,
}

impl Plugin {
    /// A handle to a newly loaded instance.
    fn new(name: Arc<str>, path: String, options: Arc<PluginOptions>, loaded: Loaded) -> Self {
        Plugin {
            id: PluginId::next(),
            name,
            path,
            options,
            loaded: RwLock::new(Arc::new(loaded)),
        }
    }

    /// The instance behind the handle now.
    fn current(&self) -> Arc<Loaded> {
        self.loaded.read().unwrap().clone()
    }

    /// The plugin's identity within its application, kept when it is
    /// loaded again.
    pub fn id(&self) -> PluginId {
        self.id
    }

    /// The plugin's name: the one its metadata gives, else the file stem of
    /// its component.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Who the plugin says it is, from its metadata.
    pub fn identity(&self) -> Identity {
        self.current().about.identity.clone()
    }

    /// The `precept:plugin` version it was built for, e.g. `0.2.0`.
    pub fn world_version(&self) -> &'static str {
        self.current().about.version.as_str()
    }

    /// What it was granted of the capabilities it declares (empty for a
    /// plugin built for 0.1.0, which declares none).
    pub fn granted(&self) -> Vec<Granted> {
        self.current().about.granted.clone()
    }

    /// The BLAKE3 hash of its file, in hex.
    pub fn digest(&self) -> String {
        self.current().about.digest.clone()
    }

    /// The capabilities it declares, from its manifest.
    pub fn declared(&self) -> Capabilities {
        self.current().about.declared.clone()
    }

    /// The plugin as a lockfile records it.
    pub(crate) fn locked(&self) -> Locked {
        let loaded = self.current();
        let about = &loaded.about;
        Locked::new(
            &self.name,
            &about.file,
            &about.digest,
            about.version.as_str(),
            (&about.identity, &about.declared),
            &about.granted,
        )
    }

    /// The file the plugin was loaded from.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The names of the component's imports, e.g. `precept:plugin/events@0.1.0`.
    pub fn imports(&self) -> Vec<String> {
        let loaded = self.current();
        let (engine, component) = &loaded.component;
        let names = component.component_type();
        let names = names.imports(engine).map(|(name, _)| name.to_string());
        names.collect()
    }

    /// The names of the component's exports, e.g. `on-event`.
    pub fn exports(&self) -> Vec<String> {
        let loaded = self.current();
        let (engine, component) = &loaded.component;
        let names = component.component_type();
        let names = names.exports(engine).map(|(name, _)| name.to_string());
        names.collect()
    }

    /// Whether a timer booked in `book` may still fire: `book` is the
    /// running instance's, and it is not disabled.
    pub(crate) fn runs_timers_of(&self, book: &Arc<TimerBook>) -> bool {
        let loaded = self.current();
        Arc::ptr_eq(&loaded.timers, book) && !loaded.disabled.load(Ordering::Acquire)
    }

    /// Whether its `setup` and `on-event` are called synchronously, on
    /// the caller's thread without a fiber: it imports nothing that can
    /// wait, and it was loaded on a multi-threaded runtime.
    pub fn is_called_synchronously(&self) -> bool {
        self.current().synchronous
    }

    /// Whether the plugin was disabled after a trap, a timeout or a limit.
    pub fn is_disabled(&self) -> bool {
        self.current().disabled.load(Ordering::Acquire)
    }

    /// The bytes of linear memory the plugin holds now, all its memories
    /// together; `None` while a call into it runs, or once it is disabled.
    pub fn memory_bytes(&self) -> Option<usize> {
        let loaded = self.current();
        let instance = loaded.instance.try_lock().ok()?;
        Some(instance.as_ref()?.store.data().limiter.memory_in_use())
    }

    /// Stops every further call into the plugin and releases its store (at
    /// once, or when the call that holds it returns).
    pub(crate) fn disable(&self) {
        self.current().disable();
    }

    /// Puts the instance `new` holds behind this handle once the call
    /// running in the current one, if any, has returned: calls from then
    /// on reach the new one. The instance it replaces is disabled and
    /// released, its timers end, and what it still asked of the dispatcher
    /// is dropped.
    pub(crate) async fn swap(&self, new: &Plugin) {
        let old = self.current();
        old.retire(|| *self.loaded.write().unwrap() = new.current())
            .await;
    }

    /// Disables the plugin for good once the call running in it, if any,
    /// has returned; its store is released and its timers end.
    pub(crate) async fn retire(&self) {
        self.current().retire(|| {}).await;
    }

    /// The plugin's limits.
    pub fn limits(&self) -> &Limits {
        &self.options.sandbox.limits
    }

    /// Calls the plugin's `setup` export.
    pub(crate) async fn setup(&self) -> Called<()> {
        let Some(mut entered) = self.enter(Some(self.limits().call)).await else {
            return Called::disabled(self, "setup");
        };
        let now = entered.call_now(self.limits().wait, |store, exports| {
            store.data_mut().begin_setup();
            exports.setup_now(store)
        });
        let (result, ticked) = match now {
            Some(done) => done,
            None => {
                let wait = Some(self.limits().wait);
                let (store, exports, disabled) = entered.parts_async(wait);
                store.data_mut().begin_setup();
                (
                    call::watched(disabled, wait, exports.setup(store)).await,
                    false,
                )
            }
        };
        let called = entered.settle(result, "setup", None);
        if ticked {
            tokio::task::yield_now().await;
        }
        called
    }

    /// Calls the plugin's `on-event` export; `None` when it is disabled.
    /// `Ok(true)` means the plugin stopped the event. A synchronous call
    /// that ran for an epoch tick or more yields to the executor after
    /// it, as an asynchronous one does at each tick.
    pub(crate) async fn on_event(&self, event: &Event) -> Option<Called<bool>> {
        let mut entered = self.enter(Some(self.limits().call)).await?;
        let now = entered.call_now(self.limits().wait, |store, exports| {
            exports.on_event_now(store, event)
        });
        let (result, ticked) = match now {
            Some(done) => done,
            None => {
                let wait = Some(self.limits().wait);
                let (store, exports, disabled) = entered.parts_async(wait);
                let call = exports.on_event(store, event);
                (call::watched(disabled, wait, call).await, false)
            }
        };
        let called = entered.settle(result, "on-event", Some(&event.name));
        if ticked {
            tokio::task::yield_now().await;
        }
        Some(called)
    }

    /// Calls the plugin's `on-event` export at once, on this thread, if
    /// it is called synchronously and no call holds its store: no future,
    /// no fiber. [`Now::Later`] when that cannot be done now: the caller
    /// then calls [`Plugin::on_event`].
    pub(crate) fn on_event_now(&self, event: &Event) -> Now<bool> {
        let mut entered = match self.enter_now(Some(self.limits().call)) {
            None => return Now::Later,
            Some(None) => return Now::Disabled,
            Some(Some(entered)) => entered,
        };
        let now = entered.call_now(self.limits().wait, |store, exports| {
            exports.on_event_now(store, event)
        });
        let Some((result, ticked)) = now else {
            return Now::Later;
        };
        let called = entered.settle(result, "on-event", Some(&event.name));
        Now::Done(called, ticked)
    }

    /// Calls one of the plugin's service exports for the service `name`;
    /// `None` when it is disabled.
    pub(crate) async fn service(&self, step: ServiceStep, name: &str) -> Option<Called<()>> {
        let mut entered = self.enter(Some(self.limits().call)).await?;
        let wait = Some(self.limits().wait);
        let (store, exports, disabled) = entered.parts_async(wait);
        let call = exports.service(store, step, name);
        let result = call::watched(disabled, wait, call).await;
        Some(entered.settle(result, step.export(), Some(name)))
    }

    /// Calls the plugin's `run-command` export. What the plugin requests
    /// while the command runs is sent to `live` as it happens.
    pub(crate) async fn run_command(
        &self,
        name: &str,
        args: &Payload,
        live: Live,
    ) -> Option<Called<()>> {
        let mut entered = self.enter(self.limits().command).await?;
        let (store, exports, disabled) = entered.parts_async(self.limits().command);
        store.data_mut().go_live(live);
        let call = exports.run_command(store, name, args);
        let result = call::watched(disabled, self.limits().command, call).await;
        Some(entered.settle(result, "run-command", Some(name)))
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}
