//! The embedding API: an application with its own commands, arguments,
//! native subscribers and services, extended by WebAssembly plugins, run
//! through precept's CLI lifecycle. `building` sets it up, `launch` reads
//! what it loads at start, `registry` holds the loaded plugins and what
//! they added, `lifecycle` runs it.

mod building;
pub(crate) mod launch;
mod lazy;
mod lifecycle;
mod loader;
mod registry;
pub(crate) mod status;
pub mod testing;
mod watch;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use clap::{ArgMatches, Command};

pub use launch::Builtin;

use crate::compile::cache::CompileCache;
use crate::compile::engine::{Compiler, PluginEngine};
use crate::events::Events;
use crate::io::logging::PluginLog;
use crate::io::output::PluginStdout;
use crate::model::app_info::AppInfo;
use crate::model::error::Error;
use crate::model::service_states::ServiceStates;
use crate::model::vars::Vars;
use crate::plugin::Plugin;
use crate::trust::sandbox::Sandbox;
use launch::Launch;
use registry::Registry;

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
    /// Which of the application's services are running.
    pub services: ServiceStates,
}

/// Who runs a command.
#[derive(Clone)]
pub(crate) enum Runner {
    Native(RunCommand),
    Plugin(Arc<Plugin>),
    /// A plugin loaded lazily, loaded when the command runs.
    Lazy(Arc<lazy::LazyPlugin>),
}

/// A command of the application or of a plugin, with who runs it.
#[derive(Clone)]
pub(crate) struct AppCommand {
    pub(crate) command: Command,
    pub(crate) runner: Runner,
}

impl AppCommand {
    /// Whether the plugin named `plugin` added it.
    pub(crate) fn is_of(&self, plugin: &str) -> bool {
        match &self.runner {
            Runner::Native(_) => false,
            Runner::Plugin(p) => p.name() == plugin,
            Runner::Lazy(lazy) => lazy.name() == plugin,
        }
    }

    /// Who added it, as an error names them.
    pub(crate) fn owner(&self) -> String {
        match &self.runner {
            Runner::Native(_) => "the application".into(),
            Runner::Plugin(plugin) => format!("plugin '{}'", plugin.name()),
            Runner::Lazy(lazy) => format!("plugin '{}'", lazy.name()),
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
    /// When the application was made: the start the profile measures.
    pub(crate) created: Instant,
    /// Components at least this large are compiled with Winch on a first
    /// load; `None`: never.
    pub(crate) winch_first: Option<u64>,
    pub(crate) args: Vec<clap::Arg>,
    /// The plugins, commands and services (shared with the plugins loaded
    /// lazily, which add theirs when they load).
    pub(crate) registry: Arc<Registry>,
    /// Whether plugins that declare what their `setup` does are loaded
    /// when first needed rather than at start.
    pub(crate) lazy_plugins: bool,
    pub(crate) catch_signals: bool,
    pub(crate) fail_fast: bool,
    pub(crate) sandbox: Sandbox,
    pub(crate) cache_dir: Option<PathBuf>,
    /// Where plugins' data directories are kept.
    pub(crate) data_dir: Option<PathBuf>,
    /// The cache in `cache_dir`, opened at its first use.
    cache: OnceLock<Option<Arc<CompileCache>>>,
    /// What is read and loaded when the application starts.
    pub(crate) launch: Launch,
    /// What runs when no command is given; help is printed without it.
    pub(crate) default_command: Option<RunCommand>,
    /// Held while a plugin is loaded again or unloaded: one at a time.
    pub(crate) reloading: tokio::sync::Mutex<()>,
    /// The services of the run: chosen by their setup.
    pub(crate) services: Mutex<Option<crate::services::Run>>,
    /// The embedder's own reason to end the run, as Ctrl-C would (in a
    /// lock only so that the application can be shared between tasks).
    pub(crate) shutdown: Mutex<Option<BoxFuture<()>>>,
    /// Whether plugins are loaded again when their files change while a
    /// command runs.
    pub(crate) watch: bool,
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
                services: ServiceStates::default(),
                stdout: PluginStdout::default(),
                log: PluginLog::default(),
            }),
            about: None,
            events: Events::new(),
            engine: PluginEngine::shared(Compiler::default())?,
            created: Instant::now(),
            winch_first: Some(crate::compile::engine::WINCH_FIRST_BYTES),
            args: building::global_args(),
            registry: Arc::default(),
            lazy_plugins: true,
            catch_signals: true,
            fail_fast: false,
            sandbox: Sandbox::default(),
            cache_dir: None,
            data_dir: None,
            cache: OnceLock::new(),
            launch: Launch::default(),
            default_command: None,
            reloading: tokio::sync::Mutex::new(()),
            services: Mutex::new(None),
            shutdown: Mutex::new(None),
            watch: false,
        })
    }

    /// Where the plugins' standard output goes: switch it to standard error
    /// while the application writes output that must stay machine-readable.
    pub fn plugin_stdout(&self) -> &PluginStdout {
        &self.info.stdout
    }

    /// Where the plugins' log messages go: the process's log, or kept in
    /// memory for a test.
    pub fn plugin_log(&self) -> &PluginLog {
        &self.info.log
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

    /// Whether the service `name` is running; `None` when the application
    /// has no such service.
    pub fn service_running(&self, name: &str) -> Option<bool> {
        self.info.services.is_running(name)
    }

    /// The plugins loaded so far, in load order.
    pub fn plugins(&self) -> Vec<Arc<Plugin>> {
        self.registry.plugins()
    }

    /// The plugin named `name` (in any case), if one is loaded.
    pub fn plugin(&self, name: &str) -> Option<Arc<Plugin>> {
        self.registry.plugin(name)
    }

    /// The command line as it will be parsed: the application's arguments
    /// and the commands of the application and its plugins.
    pub fn command_line(&self) -> Command {
        let mut command = Command::new(self.info.prog_name.clone())
            .version(self.info.version.clone())
            .args(self.args.iter().cloned())
            .subcommands(self.registry.clap_commands());
        if let Some(about) = &self.about {
            command = command.about(about.clone());
        }
        command
    }
}
