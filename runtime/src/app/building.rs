//! Building an application: its description, options, commands,
//! arguments and services, and what it reads and loads when it starts.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use clap::Command;

use super::{App, AppCommand, CommandError, Context, RunCommand, Runner};
use crate::compile::engine::{Compiler, PluginEngine};
use crate::model::config::PluginOptions;
use crate::model::error::Error;
use crate::services::{Registered, Service};
use crate::trust::sandbox::Sandbox;

impl App {
    /// Sets the one-line description shown by `--help`.
    pub fn about(&mut self, text: impl Into<String>) -> &mut App {
        self.about = Some(text.into());
        self
    }

    /// Whether [`App::start`] handles Ctrl-C and SIGTERM (the default): it
    /// dispatches `keyboard_interrupt`, stops the running services,
    /// dispatches `cli_stopped` and ends with [`ExitStatus::Interrupted`](crate::ExitStatus::Interrupted); a
    /// second signal ends the process at once. Once `start` returns, the
    /// signals end the process again, as they would without precept.
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
        *self.shutdown.get_mut().unwrap() = Some(Box::pin(shutdown));
        self
    }

    /// Loads a plugin again when its file changes while a command runs, as
    /// `--watch` does: for plugin authors, who rebuild while a long command
    /// (a server, a watcher) goes on. The new file goes through every check
    /// of a first load and takes the running plugin's place: its services
    /// stopped and started again, its subscriptions and commands replaced.
    /// A file that fails to load leaves the running plugin as it was. The
    /// plugin whose command runs is not replaced under it. Only plugins
    /// loaded after this is set are watched.
    pub fn watch(&mut self, watch: bool) -> &mut App {
        self.watch = watch;
        self
    }

    /// Whether the plugins [`App::start`] and [`App::load`] load that
    /// declare what their `setup` does (a `[lazy]` table in their
    /// manifest) are loaded when one of their events or commands first
    /// occurs rather than at start; on by default. Off, every plugin is
    /// loaded at start. Plugins loaded by [`App::load_plugin`] and its
    /// kin always are.
    pub fn lazy_plugins(&mut self, lazy: bool) -> &mut App {
        self.lazy_plugins = lazy;
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

    /// Compiles the plugins loaded from now on with `compiler` (Cranelift by
    /// default). Winch compiles several times faster, for code that runs
    /// somewhat slower (see BENCHMARKS.md). Each compiler has one engine per
    /// process, shared by every application that uses it.
    pub fn compiler(&mut self, compiler: Compiler) -> Result<&mut App, Error> {
        self.engine = PluginEngine::shared(compiler)?;
        Ok(self)
    }

    /// Compiles the first load of every component of at least `bytes`
    /// with Winch, several times faster than Cranelift, while Cranelift
    /// compiles it in the background for the compile cache (by default
    /// from [`WINCH_FIRST_BYTES`](crate::compile::WINCH_FIRST_BYTES): Python,
    /// JavaScript and Go plugins); `None` compiles every first load with
    /// Cranelift. Only with a cache and the Cranelift compiler: later
    /// starts map Cranelift's code, or Winch's until Cranelift's is there.
    pub fn winch_first(&mut self, bytes: Option<u64>) -> &mut App {
        self.winch_first = bytes;
        self
    }

    /// Keeps compiled components in `dir` (e.g. [`precept::cache::default_dir`](crate::compile::cache::default_dir)),
    /// so that later processes map them instead of compiling; `None` (the
    /// default) compiles in every process. A directory that belongs to
    /// another user or is open to others is not used (one warning).
    /// `--cache-dir` and `--no-cache` override it (see [`App::plugin_flags`]).
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut App {
        self.cache_dir = dir;
        self.cache = OnceLock::new();
        self
    }

    /// Keeps each plugin's data directory (`/data`, for a plugin that
    /// declares one) in `dir/NAME`, e.g. [`precept::data::default_dir`](crate::trust::data::default_dir).
    /// Without one (the default), a plugin that declares a data directory
    /// does not load. `--data-dir` overrides it.
    pub fn data_dir(&mut self, dir: Option<PathBuf>) -> &mut App {
        self.data_dir = dir;
        self
    }

    /// Gives the application a configuration file named `name` (e.g.
    /// `countdown.toml`): [`App::start`] reads the file given with
    /// `-c/--config-file`, else `./NAME` once the user trusted it, else
    /// `~/.config/STEM/NAME` (`STEM` is `name` without its extension), and
    /// loads the plugins it lists with the grants, limits and values it
    /// gives them. Adds `-c`, and the commands `dump-config` (print the
    /// configuration as loaded) and `trust` (trust `./NAME` as it is).
    ///
    /// The lockfile lives beside the file (`NAME` with the extension
    /// `lock`): once there, a plugin that differs from what it records is
    /// refused. The command `lock` and the option `--update-lock` accept the
    /// plugins as they are.
    pub fn config_file(&mut self, name: impl Into<String>) -> Result<&mut App, Error> {
        let name = name.into();
        self.arg(crate::app::launch::config_arg(&name))?;
        self.arg(crate::app::launch::update_lock_arg())?;
        self.config_commands(&name)?;
        self.launch.config_file = Some(name);
        Ok(self)
    }

    /// Adds the options that choose plugins on the command line:
    /// `--plugin PATH`, `--plugin-dir DIR`, the grants `--dir`, `--dir-rw`,
    /// `--env` and `--arg`, the limits `--deadline`, `--command-deadline`
    /// and `--memory`, `--fail-fast`, `--cache-dir DIR` and `--no-cache`.
    pub fn plugin_flags(&mut self) -> Result<&mut App, Error> {
        for arg in crate::app::launch::plugin_args() {
            self.arg(arg)?;
        }
        self.launch.plugin_flags = true;
        Ok(self)
    }

    /// Gives the application installed plugins, as precept's entry points:
    /// the command `plugin` (`add`, `list`, `remove`, `update`, `install
    /// --locked`) installs them into the plugin home
    /// ([`precept::trust::default_plugin_home`](crate::trust::default_plugin_home)
    /// of the program's name), and every plugin installed there loads at
    /// start with what it was granted, after the configuration's and
    /// before `--plugin`'s. `--no-installed` skips them for one run.
    /// Without a home directory to find the plugin home in, nothing is
    /// added.
    pub fn installed_plugins(&mut self) -> Result<&mut App, Error> {
        match crate::trust::installed::default_home(self.prog_name()) {
            Some(home) => self.plugin_home(home),
            None => Ok(self),
        }
    }

    /// Like [`App::installed_plugins`], with the plugin home in `dir`;
    /// once per application.
    pub fn plugin_home(&mut self, dir: impl Into<PathBuf>) -> Result<&mut App, Error> {
        let dir = dir.into();
        self.arg(crate::app::launch::no_installed_arg())?;
        self.plugin_command(dir.clone())?;
        self.launch.home = Some(dir);
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

    /// Adds a top-level argument; its value is part of `cli_parsed`. Its id
    /// must be new and not `command` (which names the chosen command there).
    pub fn arg(&mut self, arg: clap::Arg) -> Result<&mut App, Error> {
        let id = arg.get_id().as_str();
        if id == "command" {
            return Err(Error::Reserved(id.into()));
        }
        let taken = self.args.iter().any(|a| a.get_id() == id);
        let in_command = self.registry.owner_of_arg(id);
        if taken || in_command.is_some() {
            return Err(Error::Taken {
                what: "argument",
                name: id.into(),
                owner: in_command.unwrap_or_else(|| "the application".into()),
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
        if let Some(other) = self.registry.command(command.get_name()) {
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
        self.registry.add_command(AppCommand {
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
        if let Some(owner) = self.registry.service_owner(service.name()) {
            return Err(Error::Taken {
                what: "service",
                name: service.name().into(),
                owner,
            });
        }
        self.info.services.add(service.name(), service.running());
        self.registry.add_service(Arc::new(service));
        Ok(self)
    }
}

/// The options every precept application has.
pub(super) fn global_args() -> Vec<clap::Arg> {
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
        Arg::new("trace-events")
            .long("trace-events")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Show every event dispatch and whom it reached, on standard error (or PRECEPT_TRACE=1)"),
        Arg::new("trace-format")
            .long("trace-format")
            .value_name("FORMAT")
            .value_parser(["text", "json"])
            .global(true)
            .help("How the event trace is written: text, or json lines (implies --trace-events)"),
        Arg::new("profile-startup")
            .long("profile-startup")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Show how long loading each plugin took, step by step, on standard error"),
        Arg::new("watch")
            .long("watch")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Load a plugin again when its file changes while the command runs"),
    ]
}
