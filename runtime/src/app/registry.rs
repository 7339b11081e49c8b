//! The loaded plugins, those waiting to be loaded lazily, and what they
//! contributed; and the application's ways to load plugins, in order, each
//! at once (`loader`) or, when it declares what its `setup` does, when
//! first needed (`lazy`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use clap::Command;

use super::lazy::{LazyPlugin, Peeked, ToPeek};
use super::loader::Loader;
use super::{App, AppCommand, Runner};
use crate::compile::cache::CompileCache;
use crate::compile::engine::{CacheUse, CodePolicy, Compiler};
use crate::compile::profile::LoadProfile;
use crate::io::logging;
use crate::model::config::ConfigKey;
use crate::model::config::PluginOptions;
use crate::model::error::LoadError;
use crate::plugin::{Plugin, PluginFile};
use crate::services::Registered;
use crate::trust::manifest::Declared;
use crate::trust::sandbox::Grants;

/// The application's commands and services, and the plugins it loaded with
/// what each contributed. Shared with a running lifecycle, so that a plugin
/// loaded again or unloaded meanwhile is replaced or removed at once.
#[derive(Default)]
pub(crate) struct Registry {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    plugins: Vec<Arc<Plugin>>,
    commands: Vec<AppCommand>,
    services: Vec<Arc<Registered>>,
    /// Each plugin's declared keys, by plugin name.
    config_keys: Vec<(String, ConfigKey)>,
    /// How each plugin's load went.
    profiles: Vec<LoadProfile>,
    /// Where each plugin was loaded from, by name, to load it again
    /// (boxed: the table keeps room for more).
    sources: HashMap<String, Box<Source>>,
    /// The options last given to a plugin, shared by the next one given
    /// equal options.
    last_options: Option<Arc<PluginOptions>>,
    /// The plugins to load lazily that are not loaded yet.
    sleeping: Vec<Arc<LazyPlugin>>,
    /// How many loads failed.
    load_failures: usize,
}

impl Registry {
    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap()
    }

    /// The plugins, in load order.
    pub(crate) fn plugins(&self) -> Vec<Arc<Plugin>> {
        self.kept().plugins.clone()
    }

    /// The plugin named `name`, in any case.
    pub(crate) fn plugin(&self, name: &str) -> Option<Arc<Plugin>> {
        let kept = self.kept();
        let found = kept
            .plugins
            .iter()
            .find(|p| p.name().eq_ignore_ascii_case(name));
        found.cloned()
    }

    /// Whether a plugin named `name`, in any case, is loaded or waits to
    /// be loaded lazily.
    pub(crate) fn has_name(&self, name: &str) -> bool {
        let kept = self.kept();
        let loaded = kept.plugins.iter().map(|p| p.name());
        let sleeping = kept.sleeping.iter().map(|l| l.name());
        loaded.chain(sleeping).any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The names of the plugins to load lazily that are not loaded yet,
    /// in load order.
    pub(crate) fn sleeping(&self) -> Vec<String> {
        let kept = self.kept();
        kept.sleeping.iter().map(|l| l.name().to_string()).collect()
    }

    /// `options`, shared: the last plugin's own when they are equal, so
    /// that plugins loaded one after another with the same options (those
    /// of a directory, or of the application's sandbox) keep one copy.
    /// Options with configuration values are not shared: those are each
    /// plugin's own, and floats that compare equal can differ (`-0.0`).
    pub(crate) fn share_options(&self, options: PluginOptions) -> Arc<PluginOptions> {
        let mut kept = self.kept();
        match &kept.last_options {
            Some(last) if options.config.is_empty() && **last == options => last.clone(),
            _ => kept.last_options.insert(Arc::new(options)).clone(),
        }
    }

    /// Keeps a plugin to load lazily, with the commands it declares (their
    /// names were checked to be new).
    pub(crate) fn keep_sleeping(&self, lazy: Arc<LazyPlugin>, commands: Vec<AppCommand>) {
        let mut kept = self.kept();
        kept.commands.extend(commands);
        kept.sleeping.push(lazy);
    }

    /// Forgets the plugin to load lazily named `name` as waiting: it was
    /// loaded, or failed to load (`failed`: counted). Its commands stay
    /// until the loaded plugin's replace them: a command parsed already
    /// finds it, and says it could not be loaded.
    pub(crate) fn woke(&self, name: &str, failed: bool) {
        let mut kept = self.kept();
        kept.sleeping.retain(|l| l.name() != name);
        kept.load_failures += usize::from(failed);
    }

    /// Removes the plugin to load lazily named `name` (in any case) that
    /// is still waiting, with its commands.
    pub(crate) fn remove_sleeping(&self, name: &str) -> Option<Arc<LazyPlugin>> {
        let mut kept = self.kept();
        let at = kept
            .sleeping
            .iter()
            .position(|l| l.name().eq_ignore_ascii_case(name))?;
        let lazy = kept.sleeping.remove(at);
        kept.commands.retain(|c| !c.is_of(lazy.name()));
        Some(lazy)
    }

    /// The command `name`, with who runs it.
    pub(crate) fn command(&self, name: &str) -> Option<AppCommand> {
        let kept = self.kept();
        let found = kept.commands.iter().find(|c| c.command.get_name() == name);
        found.cloned()
    }

    /// Who provides the command `name`, unless the plugin `except` does.
    pub(crate) fn command_owner(&self, name: &str, except: &str) -> Option<String> {
        let kept = self.kept();
        let mut commands = kept.commands.iter();
        let found = commands.find(|c| c.command.get_name() == name && !c.is_of(except));
        found.map(AppCommand::owner)
    }

    /// Every command, with who runs it.
    pub(crate) fn commands(&self) -> Vec<AppCommand> {
        self.kept().commands.clone()
    }

    /// Every command, as clap parses it.
    pub(crate) fn clap_commands(&self) -> Vec<Command> {
        self.kept()
            .commands
            .iter()
            .map(|c| c.command.clone())
            .collect()
    }

    /// Who added the command with an argument `id`, if one has it.
    pub(crate) fn owner_of_arg(&self, id: &str) -> Option<String> {
        let kept = self.kept();
        let mut commands = kept.commands.iter();
        let found = commands.find(|c| c.command.get_arguments().any(|a| a.get_id() == id));
        found.map(AppCommand::owner)
    }

    /// Adds a command; its name was checked to be new.
    pub(crate) fn add_command(&self, command: AppCommand) {
        self.kept().commands.push(command);
    }

    /// Every service, in registration order.
    pub(crate) fn services(&self) -> Vec<Arc<Registered>> {
        self.kept().services.clone()
    }

    /// Who provides the service `name`, if it is known.
    pub(crate) fn service_owner(&self, name: &str) -> Option<String> {
        let kept = self.kept();
        let found = kept.services.iter().find(|s| s.name() == name);
        found.map(|s| s.owner())
    }

    /// Adds a service; its name was checked to be new.
    pub(crate) fn add_service(&self, service: Arc<Registered>) {
        self.kept().services.push(service);
    }

    /// Counts a load that failed.
    pub(crate) fn load_failed(&self) {
        self.kept().load_failures += 1;
    }

    /// How many loads failed.
    pub(crate) fn load_failures(&self) -> usize {
        self.kept().load_failures
    }

    /// How each plugin's load went, in load order.
    pub(crate) fn profiles(&self) -> Vec<LoadProfile> {
        self.kept().profiles.clone()
    }

    /// The configuration keys `plugin` declared, in order.
    pub(crate) fn config_keys(&self, plugin: &str) -> Vec<ConfigKey> {
        let kept = self.kept();
        let keys = kept.config_keys.iter().filter(|(owner, _)| owner == plugin);
        keys.map(|(_, key)| key.clone()).collect()
    }

    /// Where `plugin` was loaded from, and how.
    pub(crate) fn source(&self, plugin: &str) -> Option<Source> {
        self.kept()
            .sources
            .get(plugin)
            .map(|source| (**source).clone())
    }

    /// Keeps a new plugin and what it contributes; its commands replace
    /// those it declared to be loaded lazily.
    pub(crate) fn keep(&self, plugin: &Arc<Plugin>, contributed: Contributed) {
        let name = plugin.name().to_string();
        let mut kept = self.kept();
        kept.plugins.push(plugin.clone());
        kept.commands.retain(|c| !c.is_of(&name));
        kept.commands.extend(contributed.commands);
        kept.services.extend(contributed.services);
        let keys = contributed.declared.into_iter();
        kept.config_keys.extend(keys.map(|key| (name.clone(), key)));
        kept.profiles.push(contributed.profile);
        kept.sources.insert(name, Box::new(contributed.source));
    }

    /// Replaces what `plugin`, loaded again, contributes: its commands
    /// (run by the same handle), configuration keys, profile and source.
    /// Its services are the same ones.
    pub(crate) fn replace(&self, plugin: &Arc<Plugin>, contributed: Contributed) {
        let name = plugin.name().to_string();
        let mut kept = self.kept();
        kept.commands.retain(|c| !c.is_of(&name));
        let commands = contributed.commands.into_iter().map(|mut command| {
            command.runner = Runner::Plugin(plugin.clone());
            command
        });
        kept.commands.extend(commands);
        kept.config_keys.retain(|(owner, _)| *owner != name);
        let keys = contributed.declared.into_iter();
        kept.config_keys.extend(keys.map(|key| (name.clone(), key)));
        if let Some(profile) = kept.profiles.iter_mut().find(|p| p.plugin == name) {
            *profile = contributed.profile;
        }
        kept.sources.insert(name, Box::new(contributed.source));
    }

    /// Forgets the plugin `name` and what it contributed; its services, to
    /// stop them.
    pub(crate) fn remove(&self, name: &str) -> Option<(Arc<Plugin>, Vec<Arc<Registered>>)> {
        let mut kept = self.kept();
        let at = kept.plugins.iter().position(|p| p.name() == name)?;
        let plugin = kept.plugins.remove(at);
        kept.commands.retain(|c| !c.is_of(name));
        let (services, others) = std::mem::take(&mut kept.services)
            .into_iter()
            .partition(|s| s.plugin_name() == Some(name));
        kept.services = others;
        kept.config_keys.retain(|(owner, _)| owner != name);
        kept.profiles.retain(|p| p.plugin != name);
        kept.sources.remove(name);
        Some((plugin, services))
    }
}

/// What a plugin contributes besides its requests, checked, to keep.
pub(crate) struct Contributed {
    pub(crate) source: Source,
    pub(crate) commands: Vec<AppCommand>,
    pub(crate) services: Vec<Arc<Registered>>,
    pub(crate) declared: Vec<ConfigKey>,
    pub(crate) profile: LoadProfile,
}

/// A plugin file to load, the name it is loaded under when not its own,
/// and grants of its own beside those its name is given.
pub(crate) struct ToLoad {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its name, when the file's own is not used.
    pub(crate) rename: Option<String>,
    /// Its own grants.
    pub(crate) grants: Grants,
    /// What its `setup` does, as a record made when it was installed
    /// declares it: it is then loaded lazily without reading its file.
    pub(crate) recorded: Option<Declared>,
}

impl App {
    /// The compile cache, opened at its first use; `None` without a cache
    /// directory, or when it is refused.
    pub(super) fn cache(&self) -> Option<Arc<CompileCache>> {
        let dir = self.cache_dir.as_deref()?;
        let opened = self.cache.get_or_init(|| {
            CompileCache::open(dir)
                .inspect_err(|error| {
                    tracing::warn!("not using the compile cache {}: {error}", dir.display());
                })
                .ok()
                .map(Arc::new)
        });
        opened.clone()
    }

    /// Where compiled code is kept, and which first loads Winch compiles.
    fn code_policy(&self) -> CodePolicy {
        CodePolicy {
            cache: self.cache(),
            winch_first: self.winch_first,
        }
    }

    /// What loading a plugin needs of the application, as it is now.
    pub(crate) fn loader(&self) -> Loader {
        Loader {
            engine: self.engine.clone(),
            info: self.info.clone(),
            events: self.events.clone(),
            registry: self.registry.clone(),
            policy: self.code_policy(),
            data_dir: self.data_dir.clone(),
            locks: self.launch.locks.clone(),
            inert: self.launch.inert,
            args: self.args.clone().into(),
        }
    }

    /// Loads the plugin at `path` and runs its `setup`: its commands and
    /// services are added, its subscriptions take effect and its dispatches
    /// are delivered before this returns. On error nothing of the plugin is
    /// kept and the error is remembered for the exit status; other plugins
    /// are not affected. The plugin gets the options given for its name
    /// ([`App::plugin_options`]), else the application's sandbox.
    pub async fn load_plugin(&mut self, path: impl AsRef<Path>) -> Result<Arc<Plugin>, LoadError> {
        let given = self.given_options();
        self.load_counted(path.as_ref(), None, &given).await
    }

    /// Like [`App::load_plugin`], with the plugin's own sandbox,
    /// configuration values and fault policy.
    pub async fn load_plugin_with(
        &mut self,
        path: impl AsRef<Path>,
        options: &PluginOptions,
    ) -> Result<Arc<Plugin>, LoadError> {
        self.load_counted(path.as_ref(), None, &|_: &str| options.clone())
            .await
    }

    /// Loads every plugin in `paths`, in order, reporting each failure as
    /// one line on standard error and going on with the rest (stopping at
    /// the first with [`App::fail_fast`]).
    pub async fn load_plugins<P: AsRef<Path>>(&mut self, paths: impl IntoIterator<Item = P>) {
        let given = self.given_options();
        self.load_plugins_with(paths, given).await;
    }

    /// Like [`App::load_plugins`], each plugin with the options `options_of`
    /// gives for its name.
    pub async fn load_plugins_with<P: AsRef<Path>>(
        &mut self,
        paths: impl IntoIterator<Item = P>,
        options_of: impl Fn(&str) -> PluginOptions + Sync,
    ) {
        let items = paths
            .into_iter()
            .map(|path| ToLoad {
                path: path.as_ref().to_path_buf(),
                rename: None,
                grants: Grants::default(),
                recorded: None,
            })
            .collect();
        self.load_all(items, options_of, false).await;
    }

    /// Loads every plugin of `items`, in order, as
    /// [`App::load_plugins_with`] does; each with its own grants besides.
    /// With `lazily`, a plugin that declares what its `setup` does is kept
    /// to load when first needed instead (see `lazy`).
    pub(crate) async fn load_all(
        &mut self,
        items: Vec<ToLoad>,
        options_of: impl Fn(&str) -> PluginOptions + Sync,
        lazily: bool,
    ) {
        // Which plugins are kept to load when first needed, read for their
        // manifests (hashed too when a lockfile pins them) off the executor.
        let peeked = match lazily {
            true => {
                let files: Vec<_> = items.iter().map(ToPeek::from).collect();
                let (locks, cache) = (self.launch.locks.clone(), self.cache());
                let peeking = move || Peeked::read_all(&files, &locks, cache.as_deref());
                crate::io::task::off_executor(peeking).await
            }
            false => items.iter().map(|_| None).collect(),
        };
        let eager: Vec<PathBuf> = items
            .iter()
            .zip(&peeked)
            .filter(|(_, peeked)| peeked.is_none())
            .map(|(item, _)| item.path.clone())
            .collect();
        if eager.len() > 1 {
            let (engine, policy) = (self.engine.clone(), self.code_policy());
            // Compiling takes seconds for large components: off the executor.
            let what = format!("{} plugins", eager.len());
            let preparing =
                crate::io::task::off_executor(move || engine.prepare_all(&eager, &policy));
            crate::compile::progress::while_compiling(&what, "", preparing).await;
        }
        // In order: a plugin kept to load lazily holds its place among the
        // subscribers of its events, and its name and commands, as one
        // loaded now does.
        let loader = lazily.then(|| Arc::new(self.loader()));
        for (item, peeked) in items.into_iter().zip(peeked) {
            let with_grants = |name: &str| {
                let mut options = options_of(name);
                options.sandbox.grants.extend(&item.grants);
                options
            };
            let kept = match (peeked, &loader) {
                (Some(peeked), Some(loader)) => {
                    let kept = self.keep_lazy(&item, peeked, &with_grants, loader);
                    kept.inspect_err(|_| self.registry.load_failed())
                }
                _ => {
                    let rename = item.rename.as_deref();
                    let loaded = self.load_counted(&item.path, rename, &with_grants).await;
                    loaded.map(|_| ())
                }
            };
            if let Err(error) = kept {
                logging::report(&error);
                if self.fail_fast {
                    break;
                }
            }
        }
    }

    /// The options given by name in code ([`App::plugin_options`]), else
    /// the application's sandbox.
    pub(crate) fn given_options(&self) -> impl Fn(&str) -> PluginOptions + Sync + use<> {
        let given = self.launch.plugin_options.clone();
        let sandbox = self.sandbox.clone();
        move |name: &str| {
            given
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, options)| options.clone())
                .unwrap_or_else(|| PluginOptions::from(sandbox.clone()))
        }
    }

    /// Like [`App::load_plugin_with`], under the name `name` instead of the
    /// one the plugin gives itself: to load one component several times,
    /// each under a name (and so a configuration section and grants) of
    /// its own. `name` is letters, digits, `-`, `_` and `.`.
    pub async fn load_plugin_as(
        &mut self,
        path: impl AsRef<Path>,
        name: &str,
        options: &PluginOptions,
    ) -> Result<Arc<Plugin>, LoadError> {
        self.load_counted(path.as_ref(), Some(name), &|_: &str| options.clone())
            .await
    }

    async fn load_counted(
        &mut self,
        path: &Path,
        rename: Option<&str>,
        options_of: &(dyn Fn(&str) -> PluginOptions + Sync),
    ) -> Result<Arc<Plugin>, LoadError> {
        let result = self.try_load(path, rename, options_of).await;
        if result.is_err() {
            self.registry.load_failed();
        }
        result
    }

    async fn try_load(
        &mut self,
        path: &Path,
        rename: Option<&str>,
        options_of: &(dyn Fn(&str) -> PluginOptions + Sync),
    ) -> Result<Arc<Plugin>, LoadError> {
        // Before reading: a change from here on is seen by `--watch`.
        let stamp = if self.watch { stamp(path) } else { None };
        let file = read_file(path, rename, self.cache()).await?;
        let (name, shown) = (file.file.name.clone(), file.file.shown.clone());
        // Names that differ only by case would share a data directory on a
        // case-insensitive file system: one name, however it is written.
        if self.registry.has_name(&name) {
            return Err(LoadError::Duplicate { name, path: shown });
        }
        let source = Source {
            path: path.to_path_buf(),
            rename: rename.map(str::to_string),
            options: self.registry.share_options(options_of(&name)),
            stamp,
        };
        let loader = self.loader();
        let candidate = loader.set_up(file, source).await?;
        let (plugin, requests) = loader.keep(candidate);
        self.events.apply(&plugin, requests, 0).await;
        Ok(plugin)
    }

    /// The plugins kept to load when first needed (see
    /// [`App::lazy_plugins`]) that are not loaded yet, by name, in load
    /// order.
    pub fn waiting_plugins(&self) -> Vec<String> {
        self.registry.sleeping()
    }

    /// How each plugin's load went, step by step, in the order loaded.
    pub fn load_profiles(&self) -> Vec<LoadProfile> {
        self.registry.profiles()
    }

    /// The services the plugin `plugin` provides, as `(name, command)`:
    /// `command` is the one command they run with, if any.
    pub fn plugin_services(&self, plugin: &str) -> Vec<(String, Option<String>)> {
        let services = self.registry.services().into_iter();
        let of = services.filter(|s| s.plugin_name() == Some(plugin));
        of.map(|s| (s.name().to_string(), s.command().map(str::to_string)))
            .collect()
    }

    /// The commands the plugin `plugin` added.
    pub fn plugin_commands(&self, plugin: &str) -> Vec<Command> {
        let commands = self.registry.commands().into_iter();
        commands
            .filter(|c| c.is_of(plugin))
            .map(|c| c.command)
            .collect()
    }

    /// The configuration keys the plugin `plugin` declared, in order.
    pub fn config_keys(&self, plugin: &str) -> Vec<ConfigKey> {
        self.registry.config_keys(plugin)
    }
}

/// Where a plugin was loaded from and with which options: what loading it
/// again needs.
#[derive(Clone)]
pub(crate) struct Source {
    /// The file as given.
    pub(crate) path: PathBuf,
    /// The name it was loaded under instead of its own, if any.
    pub(crate) rename: Option<String>,
    /// Its options, before the data directory is added to its grants.
    pub(crate) options: Arc<PluginOptions>,
    /// The file's length and modification time before it was read (taken
    /// only while `--watch` is on).
    pub(crate) stamp: Stamp,
}

/// A file's length and modification time; `None` while it cannot be read.
pub(crate) type Stamp = Option<(u64, std::time::SystemTime)>;

/// The file at `path` as it is now.
pub(crate) fn stamp(path: &Path) -> Stamp {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}

/// A plugin's file, read, with the profile of its load begun.
pub(crate) struct ReadFile {
    pub(crate) file: PluginFile,
    pub(crate) profile: LoadProfile,
}

/// Reads the plugin file at `path`, named `rename` if given, its hash
/// remembered in `cache` while the file is unchanged.
pub(crate) async fn read_file(
    path: &Path,
    rename: Option<&str>,
    cache: Option<Arc<CompileCache>>,
) -> Result<ReadFile, LoadError> {
    let reading = Instant::now();
    let file = PluginFile::read(path, rename, cache).await?;
    let profile = LoadProfile {
        plugin: file.name.clone(),
        read: reading.elapsed(),
        cache: CacheUse::Off,
        compiler: Compiler::Cranelift,
        prepare: Duration::ZERO,
        instantiate: Duration::ZERO,
        setup: Duration::ZERO,
    };
    Ok(ReadFile { file, profile })
}
