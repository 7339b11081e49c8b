//! Plugins loaded lazily. A plugin whose manifest declares, in `[lazy]`,
//! the events its `setup` subscribes to and the commands it adds is not
//! loaded at start: nothing of it is compiled, mapped or instantiated,
//! and its file is read only for its manifest. Its declared commands are
//! on the command line, and it holds its place among the subscribers of
//! each declared event. The first of those events dispatched, or of those
//! commands run, loads it through every check of a load at start, and its
//! `setup` must do what it declared (checked by `Loader::set_up`).

use std::path::PathBuf;
use std::sync::Arc;

use super::launch::Locks;
use super::loader::Loader;
use super::registry::{Source, ToLoad};
use super::{App, AppCommand, BoxFuture, Runner};
use crate::compile::cache::CompileCache;
use crate::events::Sleeper;
use crate::host::requests::{HostOp, Requests};
use crate::io::logging;
use crate::io::text::clean;
use crate::model::config::PluginOptions;
use crate::model::error::LoadError;
use crate::plugin::{Plugin, PluginFile, granted, shown_path};
use crate::trust::manifest::{Declared, Manifest};

/// A plugin kept to load when first needed.
pub(crate) struct LazyPlugin {
    /// Its name, kept by the application from start.
    name: String,
    /// Whether what it declares was read from its record in the plugin
    /// home rather than from its file.
    recorded: bool,
    /// Where it is loaded from, and with which options.
    source: Source,
    /// What its manifest declares its `setup` does.
    declared: Declared,
    /// What loading it needs of the application.
    loader: Arc<Loader>,
    /// Whether it was loaded; held while it loads, so that it loads once.
    state: tokio::sync::Mutex<State>,
}

/// How far a lazily loaded plugin got.
enum State {
    Asleep,
    Awake(Arc<Plugin>),
    /// It failed to load, or was unloaded before it loaded.
    Gone,
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
    /// go (its commands stay, and say it could not be loaded).
    pub(crate) async fn woken(self: Arc<Self>) -> Option<Arc<Plugin>> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Awake(plugin) => return Some(plugin.clone()),
            State::Gone => return None,
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
                *state = State::Gone;
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
        events.apply_woken(&plugin, requests).await;
        Some(plugin)
    }

    /// Ends its wait: it is not loaded from now on, and its places go.
    /// `false` when it was loaded meanwhile.
    pub(crate) async fn cancel(self: Arc<Self>) -> bool {
        let mut state = self.state.lock().await;
        if !matches!(*state, State::Asleep) {
            return false;
        }
        *state = State::Gone;
        let sleeper: Arc<dyn Sleeper> = self.clone();
        let events = &self.loader.events;
        events.wake_in_place(&sleeper, None, &Requests::default());
        true
    }

    /// Reads, checks, loads and sets up the plugin, as at start.
    async fn load(&self) -> Result<super::loader::Candidate, LoadError> {
        let source = &self.source;
        let cache = self.loader.policy.cache.clone();
        let file =
            super::registry::read_file(&source.path, source.rename.as_deref(), cache).await?;
        if file.file.name != self.name {
            return Err(LoadError::Manifest {
                name: self.name.clone(),
                path: file.file.shown.clone(),
                cause: format!(
                    "its file changed since start: it is named '{}' now",
                    file.file.name
                ),
            });
        }
        if file.file.manifest.lazy.as_ref() != Some(&self.declared) {
            let cause = match self.recorded {
                true => {
                    "its [lazy] table is not the one its record in the plugin home holds; add it again (`plugin remove`, then `plugin add`)"
                }
                false => "its file changed since start: its [lazy] table is another",
            };
            return Err(LoadError::Manifest {
                name: self.name.clone(),
                path: file.file.shown.clone(),
                cause: cause.into(),
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

/// The fewest files one thread peeks: fewer are not worth a thread.
const MIN_PEEKS_PER_THREAD: usize = 8;

/// A plugin to load, as [`Peeked::read_all`] takes it.
pub(crate) struct ToPeek {
    path: PathBuf,
    rename: Option<String>,
    recorded: Option<Declared>,
}

impl From<&ToLoad> for ToPeek {
    fn from(item: &ToLoad) -> ToPeek {
        ToPeek {
            path: item.path.clone(),
            rename: item.rename.clone(),
            recorded: item.recorded.clone(),
        }
    }
}

/// What is known at start of a plugin to keep to load when first needed.
pub(crate) struct Peeked {
    /// The name it loads under.
    name: String,
    /// What it declares its `setup` does.
    declared: Declared,
    /// What its file says about itself, when the file was read (not for
    /// an installed plugin, whose record declares what it does).
    manifest: Option<Manifest>,
    /// The file read and hashed, when a lockfile pins it.
    pinned: Option<PluginFile>,
}

impl Peeked {
    /// [`Peeked::read`] for each of `files`, in order, on every core;
    /// `cache` remembers the hashes of files that are hashed.
    pub(crate) fn read_all(
        files: &[ToPeek],
        locks: &Locks,
        cache: Option<&CompileCache>,
    ) -> Vec<Option<Peeked>> {
        let read = |file: &ToPeek| Peeked::read(file, locks, cache);
        // Few files are read here, before asking how many cores there are
        // (which reads the process's control groups on Linux).
        if files.len() <= MIN_PEEKS_PER_THREAD {
            return files.iter().map(read).collect();
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = files.len().div_ceil(cores).max(MIN_PEEKS_PER_THREAD);
        if files.len() <= chunk {
            return files.iter().map(read).collect();
        }
        std::thread::scope(|scope| {
            let peeking: Vec<_> = files
                .chunks(chunk)
                .map(|files| scope.spawn(move || files.iter().map(read).collect::<Vec<_>>()))
                .collect();
            let peeked = peeking.into_iter().map(|thread| match thread.join() {
                Ok(peeked) => peeked,
                Err(panic) => std::panic::resume_unwind(panic),
            });
            peeked.flatten().collect()
        })
    }

    /// What is known of `file` if it declares what its `setup` does: an
    /// installed plugin's record says so, and its file is not read; else
    /// its file is read for its manifest, and read whole and hashed when
    /// one of `locks` pins it. `None`: it is to be loaded at start (it
    /// declares nothing, or cannot be read, which its load reports).
    fn read(file: &ToPeek, locks: &Locks, cache: Option<&CompileCache>) -> Option<Peeked> {
        let ToPeek {
            path,
            rename,
            recorded,
        } = file;
        // A record that does not hold is passed by: the plugin's load at
        // start reports what is wrong with it.
        let usable = |name: &str, declared: &Declared| {
            crate::plugin::usable_name(name).is_ok() && declared.check().is_ok()
        };
        if let (Some(declared), Some(name)) = (recorded, rename)
            && usable(name, declared)
        {
            return Some(Peeked {
                name: name.clone(),
                declared: declared.clone(),
                manifest: None,
                pinned: None,
            });
        }
        let rename = rename.as_deref();
        let (name, manifest) = PluginFile::peek(path, rename).ok()?;
        let declared = manifest.lazy.clone()?;
        // Pinned by a lockfile or record: read whole and hashed, to check
        // it now (a plugin that declares nothing is hashed by its load).
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let pinned = match locks.lock_for(&absolute) {
            None => None,
            Some(_) => Some(PluginFile::read_now(path, rename, cache).ok()?),
        };
        let (name, manifest) = match &pinned {
            Some(file) => (file.name.clone(), file.manifest.clone()),
            None => (name, manifest),
        };
        Some(Peeked {
            name,
            declared,
            manifest: Some(manifest),
            pinned,
        })
    }
}

impl App {
    /// Keeps the plugin `item`, `peeked`, to load when first needed: what
    /// can be checked without running it is checked now (its name is new,
    /// its commands are usable and new, and, but for an installed plugin,
    /// which its record declares and whose file is checked against the
    /// record when it loads: its required capabilities are granted, the
    /// lockfile that pins it accepts it); its declared commands
    /// go on the command line, and it holds its place among the
    /// subscribers of each declared event.
    pub(super) fn keep_lazy(
        &self,
        item: &ToLoad,
        peeked: Peeked,
        options_of: &(dyn Fn(&str) -> PluginOptions + Sync),
        loader: &Arc<Loader>,
    ) -> Result<(), LoadError> {
        let Peeked {
            name,
            declared,
            manifest,
            pinned,
        } = peeked;
        let shown = shown_path(&item.path);
        if self.registry.has_name(&name) {
            return Err(LoadError::Duplicate { name, path: shown });
        }
        let options = self.registry.share_options(options_of(&name));
        if let Some(manifest) = &manifest {
            let granted = granted(&name, &shown, manifest, &options.sandbox.grants)?;
            if let Some(file) = &pinned {
                loader.check_lock(file, &granted)?;
            }
        }
        let lazy = Arc::new(LazyPlugin {
            name: name.clone(),
            recorded: manifest.is_none(),
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
        let mut commands = Vec::new();
        for spec in &lazy.declared.commands {
            let command = loader.new_command((&name, &shown), spec, &commands)?;
            commands.push(AppCommand {
                command,
                runner: Runner::Lazy(lazy.clone()),
            });
        }
        for event in &lazy.declared.events {
            self.events.subscribe_sleeper(event, lazy.clone());
        }
        self.registry.keep_sleeping(lazy, commands);
        Ok(())
    }
}
