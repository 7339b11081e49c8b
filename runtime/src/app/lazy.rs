//! Plugins loaded lazily. A plugin whose manifest declares, in `[lazy]`,
//! the events its `setup` subscribes to and the commands it adds is not
//! loaded at start: nothing of it is compiled, mapped or instantiated,
//! and its file is read only for its manifest. Its declared commands are
//! on the command line, and it holds its place among the subscribers of
//! each declared event. The first of those events dispatched, or of those
//! commands run, loads it through every check of a load at start, and its
//! `setup` must do what it declared (checked by `Loader::set_up`).

use std::sync::Arc;

use super::loader::Loader;
use super::registry::{Source, ToLoad};
use super::{App, AppCommand, BoxFuture, Runner};
use crate::events::Sleeper;
use crate::host::requests::{HostOp, Requests};
use crate::io::logging;
use crate::io::text::clean;
use crate::model::config::PluginOptions;
use crate::model::error::LoadError;
use crate::plugin::{Plugin, PluginFile, shown_path};
use crate::trust::manifest::Declared;

/// A plugin kept to load when first needed.
pub(crate) struct LazyPlugin {
    name: String,
    /// Where it is loaded from, and with which options.
    source: Source,
    declared: Declared,
    loader: Arc<Loader>,
    state: tokio::sync::Mutex<State>,
}

/// How far a lazily loaded plugin got.
enum State {
    Asleep,
    Awake(Arc<Plugin>),
    Failed,
}

impl LazyPlugin {
    /// The plugin's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The plugin, loaded (once) and set up: its subscriptions take the
    /// places it held and its commands replace those it declared, then
    /// what its `setup` asked is carried out. `None` when it could not be
    /// loaded: that is reported in one line and counted, and its places
    /// and commands go.
    pub(crate) async fn woken(self: Arc<Self>) -> Option<Arc<Plugin>> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Awake(plugin) => return Some(plugin.clone()),
            State::Failed => return None,
            State::Asleep => {}
        }
        let sleeper: Arc<dyn Sleeper> = self.clone();
        let events = &self.loader.events;
        let candidate = match self.load().await {
            Ok(candidate) => candidate,
            Err(error) => {
                logging::report(&error);
                events.wake_in_place(&sleeper, None, &Requests::default());
                self.loader.registry.woke(&self.name, true);
                *state = State::Failed;
                return None;
            }
        };
        let (plugin, requests) = self.loader.keep(candidate);
        events.wake_in_place(&sleeper, Some(&plugin), &requests);
        self.loader.registry.woke(&self.name, false);
        *state = State::Awake(plugin.clone());
        // Awake before its requests are carried out: a dispatch they make
        // that reaches it again finds it loaded.
        drop(state);
        tracing::debug!("loaded plugin '{}' lazily", clean(&self.name, 200));
        events.apply(&plugin, requests, 0).await;
        Some(plugin)
    }

    /// Reads, checks, loads and sets up the plugin, as at start.
    async fn load(&self) -> Result<super::loader::Candidate, LoadError> {
        let source = &self.source;
        let file = super::registry::read_file(&source.path, source.rename.as_deref()).await?;
        if file.file.name != self.name {
            return Err(LoadError::Replace {
                name: self.name.clone(),
                path: file.file.shown.clone(),
                cause: format!(
                    "its file changed since start: it is named '{}' now",
                    file.file.name
                ),
            });
        }
        if file.file.manifest.lazy.as_ref() != Some(&self.declared) {
            return Err(LoadError::Replace {
                name: self.name.clone(),
                path: file.file.shown.clone(),
                cause: "its file changed since start: its [lazy] table is another".into(),
            });
        }
        self.loader.set_up(file, source.clone()).await
    }
}

/// The error of a command whose plugin, loaded lazily, could not be
/// loaded: the cause was reported when it failed.
#[derive(Debug, thiserror::Error)]
#[error("plugin '{}' could not be loaded", clean(.0, 200))]
pub(crate) struct NotLoaded(pub(crate) String);

impl Sleeper for LazyPlugin {
    fn wake(self: Arc<Self>) -> BoxFuture<Option<Arc<Plugin>>> {
        Box::pin(self.woken())
    }
}

/// Checks one request of a lazily loadable plugin's `setup` against what
/// it declared: it subscribes only to declared events, adds only declared
/// commands, as declared, and provides no service.
pub(crate) fn check_op(declared: &Declared, op: &HostOp) -> Result<(), String> {
    match op {
        HostOp::Subscribe(event) if !declared.events.contains(event) => Err(format!(
            "it subscribes to '{}', which it does not declare",
            clean(event, 200)
        )),
        HostOp::AddCommand(spec) if !declared.commands.contains(spec) => {
            match declared.command_names().any(|name| name == spec.name) {
                true => Err(format!(
                    "it adds the command '{}' otherwise than it declares it",
                    clean(&spec.name, 200)
                )),
                false => Err(format!(
                    "it adds the command '{}', which it does not declare",
                    clean(&spec.name, 200)
                )),
            }
        }
        HostOp::AddService(service, _) => Err(format!(
            "it provides the service '{}'; a plugin loaded lazily cannot",
            clean(service, 200)
        )),
        _ => Ok(()),
    }
}

/// Checks that a lazily loadable plugin's `setup` added every command it
/// declared (`added` are the names of those it added).
pub(crate) fn check_commands_added(declared: &Declared, added: &[&str]) -> Result<(), String> {
    match declared.command_names().find(|name| !added.contains(name)) {
        Some(missing) => Err(format!(
            "it does not add the command '{}' it declares",
            clean(missing, 200)
        )),
        None => Ok(()),
    }
}

impl App {
    /// Keeps the plugin `item` to load when first needed, if its manifest
    /// declares what its `setup` does: its declared commands go on the
    /// command line, and it holds its place among the subscribers of each
    /// declared event. `None`: it is to be loaded now (it declares
    /// nothing, or its file cannot be read, which its load reports).
    pub(super) fn keep_lazy(
        &self,
        item: &ToLoad,
        options_of: &(dyn Fn(&str) -> PluginOptions + Sync),
        loader: &Arc<Loader>,
    ) -> Option<Result<(), LoadError>> {
        let (name, manifest) = PluginFile::peek(&item.path, item.rename.as_deref()).ok()?;
        let declared = manifest.lazy?;
        let shown = shown_path(&item.path);
        if self.registry.has_name(&name) {
            return Some(Err(LoadError::Duplicate { name, path: shown }));
        }
        let mut options = options_of(&name);
        options.sandbox.grants.extend(&item.grants);
        let lazy = Arc::new(LazyPlugin {
            name: name.clone(),
            source: Source {
                path: item.path.clone(),
                rename: item.rename.clone(),
                options,
                stamp: None,
            },
            declared,
            loader: loader.clone(),
            state: tokio::sync::Mutex::new(State::Asleep),
        });
        let kept = self.registry.commands();
        let mut commands = Vec::new();
        for spec in &lazy.declared.commands {
            let command = loader.new_command((&name, &shown), spec, &kept, &commands);
            let command = match command {
                Ok(command) => command,
                Err(error) => return Some(Err(error)),
            };
            commands.push(AppCommand {
                command,
                runner: Runner::Lazy(lazy.clone()),
            });
        }
        for event in &lazy.declared.events {
            self.events.subscribe_sleeper(event, lazy.clone());
        }
        self.registry.keep_sleeping(lazy, commands);
        Some(Ok(()))
    }
}
