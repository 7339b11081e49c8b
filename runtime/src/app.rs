//! The embedding API: an application with its own commands and native
//! subscribers, extended by WebAssembly plugins, run through precept's CLI
//! lifecycle.

use std::ffi::OsString;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use clap::{ArgMatches, Command};

use crate::cli;
use crate::engine::PluginEngine;
use crate::error::{Error, LoadError};
use crate::events::Events;
use crate::logging;
use crate::plugin::{Plugin, plugin_name};
use crate::status::ExitStatus;
use crate::value::Payload;
use crate::vars::Vars;

/// What plugins can see of the application.
pub(crate) struct AppInfo {
    pub(crate) prog_name: String,
    pub(crate) version: String,
    pub(crate) vars: Vars,
}

/// The error a command returns.
pub type CommandError = Box<dyn std::error::Error + Send + Sync>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type RunCommand = Arc<dyn Fn(Context) -> BoxFuture<Result<(), CommandError>> + Send + Sync>;

/// What a running command gets: its parsed arguments and the application.
pub struct Context {
    /// The command's own arguments.
    pub matches: ArgMatches,
    /// The application's dispatcher.
    pub events: Events,
    /// The application's variables.
    pub vars: Vars,
}

struct NativeCommand {
    command: Command,
    run: RunCommand,
}

/// A precept application: commands, arguments, an event dispatcher, shared
/// variables and the plugins that extend them.
pub struct App {
    info: Arc<AppInfo>,
    about: Option<String>,
    events: Events,
    engine: Arc<PluginEngine>,
    plugins: Vec<Arc<Plugin>>,
    args: Vec<clap::Arg>,
    commands: Vec<NativeCommand>,
    load_failures: usize,
}

impl App {
    /// An application called `prog_name` at `version`, with no plugins yet.
    pub fn new(prog_name: impl Into<String>, version: impl Into<String>) -> Result<App, Error> {
        Ok(App {
            info: Arc::new(AppInfo {
                prog_name: prog_name.into(),
                version: version.into(),
                vars: Vars::default(),
            }),
            about: None,
            events: Events::new(),
            engine: PluginEngine::shared()?,
            plugins: Vec::new(),
            args: Vec::new(),
            commands: Vec::new(),
            load_failures: 0,
        })
    }

    /// Sets the one-line description shown by `--help`.
    pub fn about(mut self, text: impl Into<String>) -> App {
        self.about = Some(text.into());
        self
    }

    /// Adds a top-level argument; its value is part of `cli_parsed`.
    pub fn arg(&mut self, arg: clap::Arg) -> &mut App {
        self.args.push(arg);
        self
    }

    /// Adds a command; `run` is called with its parsed arguments when the
    /// user chooses it, while `cli_started` is dispatched.
    pub fn command<F, Fut>(&mut self, command: Command, run: F) -> &mut App
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CommandError>> + Send + 'static,
    {
        let run: RunCommand = Arc::new(move |ctx| Box::pin(run(ctx)));
        self.commands.push(NativeCommand { command, run });
        self
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

    /// Loads the plugin at `path` and runs its `setup`: its subscriptions
    /// take effect and its dispatches are delivered before this returns. On
    /// error the plugin is not loaded and the error is remembered for the
    /// exit status; other plugins are not affected.
    pub async fn load_plugin(&mut self, path: impl AsRef<Path>) -> Result<Arc<Plugin>, LoadError> {
        let result = self.try_load(path.as_ref()).await;
        if result.is_err() {
            self.load_failures += 1;
        }
        result
    }

    /// Loads every plugin in `paths`, in order, reporting each failure as
    /// one line on standard error and going on with the rest.
    pub async fn load_plugins<P: AsRef<Path>>(&mut self, paths: impl IntoIterator<Item = P>) {
        for path in paths {
            if let Err(error) = self.load_plugin(path).await {
                logging::report(&error);
            }
        }
    }

    async fn try_load(&mut self, path: &Path) -> Result<Arc<Plugin>, LoadError> {
        let name = plugin_name(path);
        if self.plugins.iter().any(|p| p.name() == name) {
            return Err(LoadError::Duplicate {
                name,
                path: path.display().to_string(),
            });
        }
        let plugin = Arc::new(Plugin::load(&self.engine, path, self.info.clone()).await?);
        let called = plugin.setup().await;
        called.result?;
        self.plugins.push(plugin.clone());
        self.events.apply(&plugin, called.ops, 0).await;
        Ok(plugin)
    }

    /// The command line as it will be parsed: the application's arguments
    /// and commands.
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

    /// Runs the CLI lifecycle with `args` (the first is the program name):
    /// `before_cli_start`, parsing, `cli_parsed`, the command together with
    /// `cli_started`, then `cli_stopped`. With no command, prints help.
    pub async fn start<I, T>(&self, args: I) -> ExitStatus
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        self.events
            .dispatch("before_cli_start", Payload::new())
            .await;

        let mut command = self.command_line();
        let matches = match command.try_get_matches_from_mut(args) {
            Ok(matches) => matches,
            Err(error) => {
                let _ = error.print();
                return if error.use_stderr() {
                    ExitStatus::Usage
                } else {
                    ExitStatus::Success
                };
            }
        };
        self.events
            .dispatch("cli_parsed", cli::parsed_payload(&command, &matches))
            .await;

        let chosen = matches
            .subcommand()
            .map(|(name, m)| (name.to_string(), m.clone()));
        let started = vec![(
            "command".to_string(),
            chosen.as_ref().map(|(name, _)| name.clone()).into(),
        )];
        let run = self.run_command(&mut command, chosen);
        let (outcome, ()) = tokio::join!(run, self.events.dispatch("cli_started", started));

        self.events.dispatch("cli_stopped", Payload::new()).await;

        let mut status = ExitStatus::Success;
        if let Err(error) = outcome {
            logging::report(&error);
            status = status.max(ExitStatus::CommandFailed);
        }
        if !self.events.failures().is_empty() {
            status = status.max(ExitStatus::PluginFailed);
        }
        if self.load_failures > 0 {
            status = status.max(ExitStatus::PluginNotLoaded);
        }
        status
    }

    fn run_command(
        &self,
        command: &mut Command,
        chosen: Option<(String, ArgMatches)>,
    ) -> BoxFuture<Result<(), CommandError>> {
        let Some((name, matches)) = chosen else {
            let help = command.render_help();
            return Box::pin(async move {
                print!("{help}");
                Ok(())
            });
        };
        let native = self
            .commands
            .iter()
            .find(|c| c.command.get_name() == name)
            .expect("clap only accepts known commands");
        (native.run)(Context {
            matches,
            events: self.events.clone(),
            vars: self.info.vars.clone(),
        })
    }
}
