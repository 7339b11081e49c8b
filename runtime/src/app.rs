//! The embedding API: an application with its own commands, arguments,
//! native subscribers and services, extended by WebAssembly plugins, run
//! through precept's CLI lifecycle.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use clap::{ArgMatches, Command};

use crate::cache::CompileCache;
use crate::cli;
use crate::engine::PluginEngine;
use crate::error::{Error, LoadError};
use crate::events::Events;
use crate::host::ConfigKey;
use crate::host::HostOp;
use crate::launch::Launch;
use crate::logging;
use crate::output::PluginStdout;
use crate::plugin::{Plugin, PluginOptions, plugin_name, shown_path};
use crate::sandbox::Sandbox;
use crate::services::{Registered, Service};
use crate::vars::Vars;

/// What plugins can see of the application.
pub(crate) struct AppInfo {
    pub(crate) prog_name: String,
    pub(crate) version: String,
    pub(crate) vars: Vars,
    pub(crate) stdout: PluginStdout,
}

/// The error a command returns.
pub type CommandError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type RunCommand = Arc<dyn Fn(Context) -> BoxFuture<Result<(), CommandError>> + Send + Sync>;

/// What a running native command gets: its parsed arguments and the
/// application.
pub struct Context {
    /// The command's own arguments.
    pub matches: ArgMatches,
    /// The application's dispatcher.
    pub events: Events,
    /// The application's variables.
    pub vars: Vars,
}

/// Who runs a command.
pub(crate) enum Runner {
    Native(RunCommand),
    Plugin(Arc<Plugin>),
}

/// A command of the application or of a plugin, with who runs it.
pub(crate) struct AppCommand {
    pub(crate) command: Command,
    pub(crate) runner: Runner,
}

impl AppCommand {
    fn owner(&self) -> String {
        match &self.runner {
            Runner::Native(_) => "the application".into(),
            Runner::Plugin(plugin) => format!("plugin '{}'", plugin.name()),
        }
    }
}

/// A precept application: commands, arguments, services, an event
/// dispatcher, shared variables and the plugins that extend them.
pub struct App {
    pub(crate) info: Arc<AppInfo>,
    pub(crate) about: Option<String>,
    pub(crate) events: Events,
    pub(crate) engine: Arc<PluginEngine>,
    pub(crate) plugins: Vec<Arc<Plugin>>,
    pub(crate) args: Vec<clap::Arg>,
    pub(crate) commands: Vec<AppCommand>,
    pub(crate) services: Vec<Arc<Registered>>,
    pub(crate) load_failures: usize,
    pub(crate) catch_signals: bool,
    pub(crate) fail_fast: bool,
    pub(crate) sandbox: Sandbox,
    pub(crate) config_keys: Vec<(String, ConfigKey)>,
    pub(crate) cache_dir: Option<PathBuf>,
    /// The cache in `cache_dir`, opened at its first use.
    cache: OnceLock<Option<Arc<CompileCache>>>,
    /// What is read and loaded when the application starts.
    pub(crate) launch: Launch,
    /// What runs when no command is given; help is printed without it.
    pub(crate) default_command: Option<RunCommand>,
    /// The embedder's own reason to end the run, as Ctrl-C would.
    pub(crate) shutdown: Option<BoxFuture<()>>,
}

impl App {
    /// An application called `prog_name` at `version`, with no plugins yet,
    /// and precept's global options: `-v/--verbose`, `--quiet` and
    /// `--log-file FILE` (see [`logging`](crate::logging)).
    pub fn new(prog_name: impl Into<String>, version: impl Into<String>) -> Result<App, Error> {
        Ok(App {
            info: Arc::new(AppInfo {
                prog_name: prog_name.into(),
                version: version.into(),
                vars: Vars::default(),
                stdout: PluginStdout::default(),
            }),
            about: None,
            events: Events::new(),
            engine: PluginEngine::shared()?,
            plugins: Vec::new(),
            args: global_args(),
            commands: Vec::new(),
            services: Vec::new(),
            load_failures: 0,
            catch_signals: true,
            fail_fast: false,
            sandbox: Sandbox::default(),
            config_keys: Vec::new(),
            cache_dir: None,
            cache: OnceLock::new(),
            launch: Launch::default(),
            default_command: None,
            shutdown: None,
        })
    }

    /// Sets the one-line description shown by `--help`.
    pub fn about(&mut self, text: impl Into<String>) -> &mut App {
        self.about = Some(text.into());
        self
    }

    /// Whether [`App::start`] handles Ctrl-C and SIGTERM (the default): it
    /// dispatches `keyboard_interrupt`, stops the running services,
    /// dispatches `cli_stopped` and ends with [`ExitStatus::Interrupted`](crate::ExitStatus::Interrupted); a
    /// second signal ends the process at once.
    pub fn catch_signals(&mut self, catch: bool) -> &mut App {
        self.catch_signals = catch;
        self
    }

    /// Ends the next run when `shutdown` completes, as Ctrl-C would:
    /// `keyboard_interrupt` (with `signal = "shutdown"`), the services
    /// stopped, `cli_stopped`, and [`ExitStatus::Interrupted`](crate::ExitStatus::Interrupted). For an
    /// embedder with its own signal handling or a server's shutdown; use
    /// [`App::catch_signals`] to turn precept's own off.
    pub fn shutdown_on(&mut self, shutdown: impl Future<Output = ()> + Send + 'static) -> &mut App {
        self.shutdown = Some(Box::pin(shutdown));
        self
    }

    /// Makes any plugin failure fatal: a plugin that cannot be loaded stops
    /// the loading and [`App::start`] runs nothing; a plugin that fails
    /// while running ends the run as Ctrl-C would (services stopped,
    /// `cli_stopped`) with [`ExitStatus::PluginFailed`](crate::ExitStatus::PluginFailed). Off by default: a
    /// failing plugin is reported and the others go on. `--fail-fast` and
    /// the configuration file can turn it on too.
    pub fn fail_fast(&mut self, fail_fast: bool) -> &mut App {
        self.fail_fast = fail_fast;
        self.events.faults().set_fail_fast(fail_fast);
        self
    }

    /// The sandbox of every plugin without options of its own: nothing
    /// granted and the default [`Limits`](crate::Limits) unless set here.
    pub fn sandbox(&mut self, sandbox: Sandbox) -> &mut App {
        self.sandbox = sandbox;
        self
    }

    /// The options of the plugin named `name` (its grants, limits,
    /// configuration values and fault policy), wherever it is loaded from
    /// when the application starts. The configuration file and the command
    /// line add to them.
    pub fn plugin_options(&mut self, name: impl Into<String>, options: PluginOptions) -> &mut App {
        let name = name.into();
        self.launch.plugin_options.retain(|(n, _)| *n != name);
        self.launch.plugin_options.push((name, options));
        self
    }

    /// Keeps compiled components in `dir` (e.g. [`precept::cache::default_dir`](crate::cache::default_dir)),
    /// so that later processes map them instead of compiling; `None` (the
    /// default) compiles in every process. A directory that belongs to
    /// another user or is open to others is not used (one warning).
    /// `--cache-dir` and `--no-cache` override it (see [`App::plugin_flags`]).
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut App {
        self.cache_dir = dir;
        self.cache = OnceLock::new();
        self
    }

    /// Gives the application a configuration file named `name` (e.g.
    /// `countdown.toml`): [`App::start`] reads the file given with
    /// `-c/--config-file`, else `./NAME` once the user trusted it, else
    /// `~/.config/STEM/NAME` (`STEM` is `name` without its extension), and
    /// loads the plugins it lists with the grants, limits and values it
    /// gives them. Adds `-c`, and the commands `dump-config` (print the
    /// configuration as loaded) and `trust` (trust `./NAME` as it is).
    pub fn config_file(&mut self, name: impl Into<String>) -> Result<&mut App, Error> {
        let name = name.into();
        self.arg(crate::launch::config_arg(&name))?;
        self.config_commands(&name)?;
        self.launch.config_file = Some(name);
        Ok(self)
    }

    /// Adds the options that choose plugins on the command line:
    /// `--plugin PATH`, `--plugin-dir DIR`, the grants `--dir`, `--dir-rw`,
    /// `--env` and `--arg`, the limits `--deadline`, `--command-deadline`
    /// and `--memory`, `--fail-fast`, `--cache-dir DIR` and `--no-cache`.
    pub fn plugin_flags(&mut self) -> Result<&mut App, Error> {
        for arg in crate::launch::plugin_args() {
            self.arg(arg)?;
        }
        self.launch.plugin_flags = true;
        Ok(self)
    }

    /// Loads every component (`*.wasm`) in `dir` when the application
    /// starts, in name order, after the configuration file's plugins.
    pub fn plugin_dir(&mut self, dir: impl Into<PathBuf>) -> &mut App {
        self.launch.plugin_dirs.push(dir.into());
        self
    }

    /// What runs when no command is given, as precept's `main`; without
    /// it, help is printed. No `cli_started` is dispatched either way.
    pub fn default_command<F, Fut>(&mut self, run: F) -> &mut App
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CommandError>> + Send + 'static,
    {
        self.default_command = Some(Arc::new(move |ctx| Box::pin(run(ctx))));
        self
    }

    /// The compile cache, opened at its first use; `None` without a cache
    /// directory, or when it is refused.
    fn cache(&self) -> Option<Arc<CompileCache>> {
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

    /// Adds a top-level argument; its value is part of `cli_parsed`. Its id
    /// must be new and not `command` (which names the chosen command there).
    pub fn arg(&mut self, arg: clap::Arg) -> Result<&mut App, Error> {
        let id = arg.get_id().as_str();
        if id == "command" {
            return Err(Error::Reserved(id.into()));
        }
        let taken = self.args.iter().any(|a| a.get_id() == id);
        let in_command = self
            .commands
            .iter()
            .find(|c| c.command.get_arguments().any(|a| a.get_id() == id));
        if taken || in_command.is_some() {
            return Err(Error::Taken {
                what: "argument",
                name: id.into(),
                owner: in_command.map_or("the application".into(), AppCommand::owner),
            });
        }
        self.args.push(arg);
        Ok(self)
    }

    /// Adds a command; `run` is called with its parsed arguments when the
    /// user chooses it, while `cli_started` is dispatched. Its name must be
    /// new, and its arguments' ids other than the application's and
    /// `command`.
    pub fn command<F, Fut>(&mut self, command: Command, run: F) -> Result<&mut App, Error>
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CommandError>> + Send + 'static,
    {
        if let Some(other) = self.find_command(command.get_name()) {
            return Err(Error::Taken {
                what: "command",
                name: command.get_name().into(),
                owner: other.owner(),
            });
        }
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "command" {
                return Err(Error::Reserved(id.into()));
            }
            if self.args.iter().any(|a| a.get_id() == id) {
                return Err(Error::Taken {
                    what: "argument",
                    name: id.into(),
                    owner: "the application".into(),
                });
            }
        }
        let run: RunCommand = Arc::new(move |ctx| Box::pin(run(ctx)));
        self.commands.push(AppCommand {
            command,
            runner: Runner::Native(run),
        });
        Ok(self)
    }

    /// Adds a native service that runs with every command. Its name must be
    /// new.
    pub fn service(&mut self, service: impl Service) -> Result<&mut App, Error> {
        self.add_service(Registered::native(Box::new(service), None))
    }

    /// Adds a native service that runs only when `command` runs. Its name
    /// must be new.
    pub fn command_service(
        &mut self,
        command: &str,
        service: impl Service,
    ) -> Result<&mut App, Error> {
        self.add_service(Registered::native(Box::new(service), Some(command.into())))
    }

    fn add_service(&mut self, service: Registered) -> Result<&mut App, Error> {
        if let Some(other) = self.services.iter().find(|s| s.name() == service.name()) {
            return Err(Error::Taken {
                what: "service",
                name: service.name().into(),
                owner: other
                    .plugin_name()
                    .map_or("the application".into(), |p| format!("plugin '{p}'")),
            });
        }
        self.services.push(Arc::new(service));
        Ok(self)
    }

    /// Where the plugins' standard output goes: switch it to standard error
    /// while the application writes output that must stay machine-readable.
    pub fn plugin_stdout(&self) -> &PluginStdout {
        &self.info.stdout
    }

    /// The application's program name.
    pub fn prog_name(&self) -> &str {
        &self.info.prog_name
    }

    /// The application's event dispatcher.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// The application's variables, shared with every plugin.
    pub fn vars(&self) -> &Vars {
        &self.info.vars
    }

    /// The plugins loaded so far, in load order.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// Loads the plugin at `path` and runs its `setup`: its commands and
    /// services are added, its subscriptions take effect and its dispatches
    /// are delivered before this returns. On error nothing of the plugin is
    /// kept and the error is remembered for the exit status; other plugins
    /// are not affected.
    pub async fn load_plugin(&mut self, path: impl AsRef<Path>) -> Result<Arc<Plugin>, LoadError> {
        let options = PluginOptions::from(self.sandbox.clone());
        self.load_plugin_with(path, &options).await
    }

    /// Like [`App::load_plugin`], with the plugin's own sandbox,
    /// configuration values and fault policy.
    pub async fn load_plugin_with(
        &mut self,
        path: impl AsRef<Path>,
        options: &PluginOptions,
    ) -> Result<Arc<Plugin>, LoadError> {
        let result = self.try_load(path.as_ref(), options).await;
        if result.is_err() {
            self.load_failures += 1;
        }
        result
    }

    /// Loads every plugin in `paths`, in order, reporting each failure as
    /// one line on standard error and going on with the rest (stopping at
    /// the first with [`App::fail_fast`]).
    pub async fn load_plugins<P: AsRef<Path>>(&mut self, paths: impl IntoIterator<Item = P>) {
        let options = PluginOptions::from(self.sandbox.clone());
        self.load_plugins_with(paths, |_| options.clone()).await;
    }

    /// Like [`App::load_plugins`], each plugin with the options `options_of`
    /// gives for its name.
    pub async fn load_plugins_with<P: AsRef<Path>>(
        &mut self,
        paths: impl IntoIterator<Item = P>,
        options_of: impl Fn(&str) -> PluginOptions,
    ) {
        let paths: Vec<P> = paths.into_iter().collect();
        if paths.len() > 1 {
            let owned: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
            let (engine, cache) = (self.engine.clone(), self.cache());
            // Compiling takes seconds for large components: off the executor.
            let prepared =
                tokio::task::spawn_blocking(move || engine.prepare_all(&owned, cache.as_deref()));
            if let Err(error) = prepared.await {
                std::panic::resume_unwind(error.into_panic());
            }
        }
        for path in paths {
            let options = options_of(&plugin_name(path.as_ref()));
            if let Err(error) = self.load_plugin_with(path, &options).await {
                logging::report(&error);
                if self.fail_fast {
                    break;
                }
            }
        }
    }

    async fn try_load(
        &mut self,
        path: &Path,
        options: &PluginOptions,
    ) -> Result<Arc<Plugin>, LoadError> {
        let name = plugin_name(path);
        let shown = shown_path(path);
        if self.plugins.iter().any(|p| p.name() == name) {
            return Err(LoadError::Duplicate { name, path: shown });
        }
        let cache = self.cache();
        let plugin = Plugin::load(&self.engine, path, self.info.clone(), options, cache).await?;
        let plugin = Arc::new(plugin);
        let called = plugin.setup().await;
        called.result?;

        // Check everything the plugin contributes before keeping any of it.
        let clash = |what, item: &str, owner: String| LoadError::Clash {
            name: name.clone(),
            path: shown.clone(),
            what,
            item: item.to_string(),
            owner,
        };
        let mut commands: Vec<AppCommand> = Vec::new();
        let mut services: Vec<Arc<Registered>> = Vec::new();
        let mut declared: Vec<ConfigKey> = Vec::new();
        let mut rest = Vec::new();
        for op in called.ops {
            match op {
                HostOp::AddCommand(spec) => {
                    let globals: Vec<&clap::Arg> =
                        self.args.iter().filter(|a| a.is_global_set()).collect();
                    let command = cli::command_from_spec(&spec, &globals).map_err(|cause| {
                        LoadError::BadCommand {
                            name: name.clone(),
                            path: shown.clone(),
                            cause,
                        }
                    })?;
                    let other = self
                        .find_command(&spec.name)
                        .or_else(|| commands.iter().find(|c| c.command.get_name() == spec.name));
                    if let Some(other) = other {
                        return Err(clash("the command", &spec.name, other.owner()));
                    }
                    commands.push(AppCommand {
                        command,
                        runner: Runner::Plugin(plugin.clone()),
                    });
                }
                HostOp::AddService(service, command) => {
                    let other = self
                        .services
                        .iter()
                        .chain(&services)
                        .find(|s| s.name() == service);
                    if let Some(other) = other {
                        let owner = other
                            .plugin_name()
                            .map_or("the application".into(), |p| format!("plugin '{p}'"));
                        return Err(clash("the service", &service, owner));
                    }
                    services.push(Arc::new(Registered::plugin(
                        plugin.clone(),
                        service,
                        command,
                    )));
                }
                HostOp::DeclareConfig(key) => {
                    declared.retain(|k| k.key != key.key);
                    declared.push(key);
                }
                op => rest.push(op),
            }
        }
        check_config(&name, options, &declared).map_err(|cause| LoadError::Config {
            name: name.clone(),
            cause,
        })?;
        self.config_keys
            .extend(declared.into_iter().map(|key| (name.clone(), key)));
        if options.fatal {
            self.events.faults().mark_fatal(&name);
        }
        self.events.register(&plugin);
        self.plugins.push(plugin.clone());
        self.commands.extend(commands);
        self.services.extend(services);
        self.events.apply(&plugin, rest, 0).await;
        Ok(plugin)
    }

    /// The services the plugin `plugin` provides, as `(name, command)`:
    /// `command` is the one command they run with, if any.
    pub fn plugin_services(&self, plugin: &str) -> Vec<(&str, Option<&str>)> {
        self.services
            .iter()
            .filter(|s| s.plugin_name() == Some(plugin))
            .map(|s| (s.name(), s.command()))
            .collect()
    }

    /// The commands the plugin `plugin` added.
    pub fn plugin_commands(&self, plugin: &str) -> Vec<&Command> {
        self.commands
            .iter()
            .filter(|c| matches!(&c.runner, Runner::Plugin(p) if p.name() == plugin))
            .map(|c| &c.command)
            .collect()
    }

    /// The configuration keys the plugin `plugin` declared, in order.
    pub fn config_keys(&self, plugin: &str) -> Vec<&ConfigKey> {
        self.config_keys
            .iter()
            .filter(|(owner, _)| owner == plugin)
            .map(|(_, key)| key)
            .collect()
    }

    pub(crate) fn find_command(&self, name: &str) -> Option<&AppCommand> {
        self.commands.iter().find(|c| c.command.get_name() == name)
    }

    /// The command line as it will be parsed: the application's arguments
    /// and the commands of the application and its plugins.
    pub fn command_line(&self) -> Command {
        let mut command = Command::new(self.info.prog_name.clone())
            .version(self.info.version.clone())
            .args(self.args.iter().cloned())
            .subcommands(self.commands.iter().map(|c| c.command.clone()));
        if let Some(about) = &self.about {
            command = command.about(about.clone());
        }
        command
    }
}

/// The options every precept application has.
fn global_args() -> Vec<clap::Arg> {
    use clap::{Arg, ArgAction};
    vec![
        Arg::new("verbose")
            .short('v')
            .long("verbose")
            .action(ArgAction::Count)
            .global(true)
            .help("Log more: -v for debug, -vv for trace"),
        Arg::new("quiet")
            .long("quiet")
            .action(ArgAction::SetTrue)
            .global(true)
            .conflicts_with("verbose")
            .help("Log errors only"),
        Arg::new("log-file")
            .long("log-file")
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .global(true)
            .help("Append log lines to FILE instead of standard error"),
    ]
}

/// Checks the plugin's configuration values against what it declared: every
/// key declared, every value of its default's type.
fn check_config(
    plugin: &str,
    options: &PluginOptions,
    declared: &[ConfigKey],
) -> Result<(), String> {
    let source = options.config_source.as_deref().unwrap_or("configuration");
    for (key, value) in &options.config {
        let at = format!("{source}: plugin.{plugin}.config.{key}");
        let Some(declared) = declared.iter().find(|k| k.key == *key) else {
            let known: Vec<&str> = declared.iter().map(|k| k.key.as_str()).collect();
            return Err(format!(
                "{at}: unknown key; {plugin} declares {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        if !crate::value::same_kind(&declared.default, value) {
            return Err(format!(
                "{at}: expected {} like the default {}, found {}",
                crate::value::kind_name(&declared.default),
                declared.default,
                crate::value::kind_name(value)
            ));
        }
    }
    Ok(())
}
