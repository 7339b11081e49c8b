//! The CLI lifecycle of an [`App`]: parsing, the lifecycle events,
//! services around the command, and Ctrl-C; and the same steps for an
//! application that never calls `start` (`setup_services`,
//! `start_services`, `stop_services`, `shutdown`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{ArgMatches, Command};
use tokio::sync::mpsc::unbounded_channel;

use crate::app::lazy::NotLoaded;
use crate::app::status::ExitStatus;
use crate::app::{App, BoxFuture, CommandError, Context, Runner};
use crate::events::Events;
use crate::host::Live;
use crate::io::logging::{self, LogSettings};
use crate::io::signals::{self, Signals};
use crate::io::task::Spawned;
use crate::model::command_spec;
use crate::model::error::PluginFailure;
use crate::model::value::{Payload, Value};
use crate::plugin::Plugin;
use crate::services::{Run, ServiceContext, ServiceFailure};

impl App {
    /// Runs the application with `args` (the first is the program name).
    /// First the plugins named by the configuration file, the plugin
    /// directories and the command line are loaded (see
    /// [`App::config_file`], [`App::plugin_dir`], [`App::plugin_flags`]);
    /// then the CLI lifecycle: `before_cli_start`; parsing; `cli_parsed`;
    /// the services are set up (the global ones first) and started; the
    /// command runs together with `cli_started` (with no command, the
    /// [default command](App::default_command) or help runs and, as in
    /// precept, no `cli_started` is dispatched); the services are stopped;
    /// `cli_stopped`.
    pub async fn start<I, T>(&mut self, args: I) -> ExitStatus
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        if let Err(status) = self.launch(&args).await {
            return status;
        }
        let shutdown = self
            .shutdown
            .get_mut()
            .unwrap()
            .take()
            .unwrap_or_else(|| Box::pin(std::future::pending()));
        self.run_lifecycle(args, shutdown).await
    }

    /// Loads what [`App::start`] loads before its lifecycle, for an
    /// application that does not call `start`: the plugins named by the
    /// configuration file, the plugin directories and, in `args` (the
    /// first is the program name), the plugin flags, with their grants and
    /// limits; the event trace and the log as those flags ask. A plugin
    /// that fails to load is reported in one line and the others load.
    /// `Err` is the status to end with: the options or the configuration
    /// could not be read, or, with fail-fast, a plugin could not be loaded.
    pub async fn load<I, T>(&mut self, args: I) -> Result<(), ExitStatus>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        self.launch(&args).await?;
        if self.fail_fast && self.registry.load_failures() > 0 {
            return Err(ExitStatus::PluginNotLoaded);
        }
        Ok(())
    }

    /// What the plugins' failures so far make of a run's status, as
    /// `start` counts them: a plugin that failed while running, else one
    /// that failed to load, else success.
    pub fn exit_status(&self) -> ExitStatus {
        let mut status = ExitStatus::Success;
        if !self.events.failures().is_empty() {
            status = status.max(ExitStatus::PluginFailed);
        }
        if self.registry.load_failures() > 0 {
            status = status.max(ExitStatus::PluginNotLoaded);
        }
        status
    }

    /// Sets up the application's services that run with every command,
    /// one after another in registration order, each announced by
    /// `{name}_setup` — as [`App::start`] does before a command. For an
    /// application that does not call `start`; then
    /// [`App::start_services`], and [`App::stop_services`] or
    /// [`App::shutdown`] at the end. Stops at the first failure.
    pub async fn setup_services(&self) -> Result<(), Vec<ServiceFailure>> {
        let run = Run::new(&self.registry.services(), None);
        self.setup_services_of(run).await
    }

    /// Starts the services set up by [`App::setup_services`] (without it:
    /// the ones that run with every command), concurrently, each announced
    /// by `{name}_start`; the failures, if any. The ones that started run
    /// until [`App::stop_services`].
    pub async fn start_services(&self) -> Result<(), Vec<ServiceFailure>> {
        let run = self.services_run();
        run.start(&self.service_context()).await
    }

    /// Stops every running service of the application concurrently, each
    /// announced by `{name}_stop`; the failures, if any.
    pub async fn stop_services(&self) -> Vec<ServiceFailure> {
        let run = self.services_run();
        run.stop(&self.service_context()).await
    }

    /// Ends the application's work in order, for an application that does
    /// not call `start` (`start` does the same when the command ends): its
    /// services are stopped, its plugins' timers end (a dispatch one began
    /// is waited for), and queued plugin output and log lines are written.
    /// The failures of stopping services are returned; every plugin failure
    /// of the run stays in [`Events::failures`].
    pub async fn shutdown(&self) -> Vec<ServiceFailure> {
        let failures = self.stop_services().await;
        self.events.close_timers().await;
        self.events.faults().summarise();
        let patience = std::time::Duration::from_secs(2);
        logging::flush(patience);
        crate::io::output::drain(patience);
        failures
    }

    /// Chooses `run` as the application's services, and sets them up.
    async fn setup_services_of(&self, run: Run) -> Result<(), Vec<ServiceFailure>> {
        *self.services.lock().unwrap() = Some(run.clone());
        let set_up = run.setup(&self.service_context()).await;
        if set_up.is_err() {
            // Nothing starts after a failed setup.
            *self.services.lock().unwrap() = Some(Run::default());
        }
        set_up
    }

    /// The services chosen by the last setup; without one, those that run
    /// with every command.
    fn services_run(&self) -> Run {
        let mut chosen = self.services.lock().unwrap();
        let run = chosen.get_or_insert_with(|| Run::new(&self.registry.services(), None));
        run.clone()
    }

    /// What a service gets: the application.
    pub(crate) fn service_context(&self) -> ServiceContext {
        ServiceContext {
            events: self.events.clone(),
            vars: self.info.vars.clone(),
            services: self.info.services.clone(),
        }
    }

    async fn run_lifecycle(&self, args: Vec<OsString>, shutdown: BoxFuture<()>) -> ExitStatus {
        if self.fail_fast && self.registry.load_failures() > 0 {
            return ExitStatus::PluginNotLoaded;
        }
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
        let settings = LogSettings {
            verbose: matches.get_count("verbose"),
            quiet: matches.get_flag("quiet"),
            file: matches.get_one::<PathBuf>("log-file").cloned(),
        };
        if let Err(error) = logging::configure(&settings) {
            eprintln!("error: cannot write the log: {error}");
            return ExitStatus::Usage;
        }
        self.events
            .dispatch(
                "cli_parsed",
                command_spec::parsed_payload(&command, &matches),
            )
            .await;

        let chosen = matches
            .subcommand()
            .map(|(name, m)| (name.to_string(), m.clone()));
        let chosen_name = chosen.as_ref().map(|(name, _)| name.clone());
        let describing = chosen_name
            .as_deref()
            .is_some_and(|name| self.launch.describing.contains(&name));
        let run = match describing {
            true => Run::default(),
            false => Run::new(&self.registry.services(), chosen_name.as_deref()),
        };
        let ctx = self.service_context();
        let restarts_failed = AtomicBool::new(false);
        let mut signals = if self.catch_signals {
            Signals::listen()
        } else {
            None
        };

        let main = async {
            if self.events.is_fatal() {
                return Err(Ended::PluginFailed);
            }
            self.setup_services_of(run).await.map_err(Ended::Services)?;
            self.start_services().await.map_err(Ended::Services)?;
            let Some(name) = chosen_name.clone() else {
                // No command: help is printed, and nothing has started.
                let help = self.run_command(&mut command, &matches, None);
                return help.await.map_err(Ended::Command);
            };
            let commanding = self.registry.command(&name).and_then(|c| match c.runner {
                Runner::Plugin(plugin) => Some(plugin.id()),
                Runner::Native(_) | Runner::Lazy(_) => None,
            });
            let started = vec![("command".to_string(), Value::from(name.clone()))];
            let command_run = self.run_command(&mut command, &matches, chosen);
            // The command and `cli_started` run at the same time, on
            // different threads when the runtime has several.
            let events = self.events.clone();
            let announce =
                Spawned::new(async move { events.dispatch("cli_started", started).await });
            // With --watch, changed plugins are loaded again while it runs.
            let (done, watching) = tokio::sync::watch::channel(false);
            let command_run = async {
                let outcome = command_run.await;
                let _ = done.send(true);
                outcome
            };
            let watch =
                async { self.watch && self.watch_plugins(&ctx, commanding, watching).await };
            let (outcome, (), restart_failed) = tokio::join!(command_run, announce, watch);
            if restart_failed {
                restarts_failed.store(true, Ordering::Relaxed);
            }
            outcome.map_err(Ended::Command)
        };
        let ended = tokio::select! {
            // The run's own outcome first when both are ready.
            biased;
            result = main => result.err(),
            signal = signals::next(&mut signals) => Some(Ended::Interrupted(signal)),
            () = shutdown => Some(Ended::Interrupted("shutdown")),
            () = self.events.fatal() => Some(Ended::PluginFailed),
        };

        let mut status = ExitStatus::Success;
        if restarts_failed.into_inner() {
            status = ExitStatus::ServiceFailed;
        }
        match ended {
            None | Some(Ended::PluginFailed) => {}
            Some(Ended::Services(failures)) => {
                failures.iter().for_each(ServiceFailure::report);
                status = status.max(ExitStatus::ServiceFailed);
            }
            Some(Ended::Command(error)) if error.is::<NotLoaded>() => {
                // Its plugin's load failed, and said why.
                status = status.max(ExitStatus::PluginNotLoaded);
            }
            Some(Ended::Command(error)) => {
                // A plugin's failure was reported by the fault policy.
                if error.downcast_ref::<PluginFailure>().is_none() {
                    logging::report(&error);
                }
                status = status.max(ExitStatus::CommandFailed);
            }
            Some(Ended::Interrupted(signal)) => {
                if let Some(signals) = signals.take() {
                    signals.exit_on_next();
                }
                let payload = vec![("signal".to_string(), Value::from(signal))];
                self.events.dispatch("keyboard_interrupt", payload).await;
                status = status.max(ExitStatus::Interrupted);
            }
        }
        for failure in self.stop_services().await {
            failure.report();
            status = status.max(ExitStatus::ServiceFailed);
        }
        self.events.close_timers().await;
        self.events.dispatch("cli_stopped", Payload::new()).await;
        self.events.faults().summarise();
        // Let queued output reach its reader, but never hold up Ctrl-C for
        // a reader that stalls.
        let patience = if status == ExitStatus::Interrupted {
            std::time::Duration::from_millis(200)
        } else {
            std::time::Duration::from_secs(2)
        };
        logging::flush(patience);
        crate::io::output::drain(patience);

        status.max(self.exit_status())
    }

    /// What a native command gets: `matches`, and the application.
    fn context(&self, matches: ArgMatches) -> Context {
        Context {
            matches,
            events: self.events.clone(),
            vars: self.info.vars.clone(),
            services: self.info.services.clone(),
        }
    }

    fn run_command(
        &self,
        command: &mut Command,
        top: &ArgMatches,
        chosen: Option<(String, ArgMatches)>,
    ) -> BoxFuture<Result<(), CommandError>> {
        let Some((name, matches)) = chosen else {
            if let Some(run) = &self.default_command {
                return run(self.context(top.clone()));
            }
            let help = command.render_help();
            return Box::pin(async move {
                crate::io::output::print(help.to_string().as_bytes());
                Ok(())
            });
        };
        let found = self
            .registry
            .command(&name)
            .expect("clap only accepts known commands");
        match &found.runner {
            Runner::Native(run) => run(self.context(matches)),
            Runner::Plugin(plugin) => {
                let args = command_spec::args_payload(&found.command, &matches);
                run_plugin_command(self.events.clone(), plugin.clone(), name, args)
            }
            Runner::Lazy(lazy) => {
                let args = command_spec::args_payload(&found.command, &matches);
                let (events, lazy) = (self.events.clone(), lazy.clone());
                Box::pin(async move {
                    let Some(plugin) = lazy.clone().woken().await else {
                        return Err(NotLoaded(lazy.name().to_string()).into());
                    };
                    run_plugin_command(events, plugin, name, args).await
                })
            }
        }
    }
}

/// Why the main part of a run ended early.
enum Ended {
    Services(Vec<crate::services::ServiceFailure>),
    Command(CommandError),
    Interrupted(&'static str),
    /// A plugin failed, with fail-fast on.
    PluginFailed,
}

/// Runs a plugin's command. What it dispatches while running is delivered
/// to the others at once; to the plugin itself once the command returns.
fn run_plugin_command(
    events: Events,
    plugin: Arc<Plugin>,
    name: String,
    args: Payload,
) -> BoxFuture<Result<(), CommandError>> {
    Box::pin(async move {
        // Unbounded in length, bounded by what each request is counted
        // against until it is carried out (`crate::host::requests`).
        let (requests, received) = unbounded_channel();
        let live = Live { requests };
        // The command runs on a task of its own, so that what it dispatches
        // reaches the others in parallel with it.
        let commanding = plugin.clone();
        let call = Spawned::new(async move { commanding.run_command(&name, &args, live).await });
        let pump = events.pump(&plugin, received);
        let (called, ()) = tokio::join!(call, pump);
        let Some(called) = called else {
            return Err(format!("plugin '{}' is disabled", plugin.name()).into());
        };
        events.apply(&plugin, called.ops, 0).await;
        called.result.map_err(|failure| {
            // The fault policy shows it, counts it and decides whether the
            // plugin stays.
            events.report(failure.clone());
            Box::new(failure) as CommandError
        })
    })
}
