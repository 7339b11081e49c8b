//! `precept-run`, the generic host: reads the configuration file and the
//! command line, loads the plugins they name, and runs the CLI lifecycle
//! with them.

mod commands;
mod options;
pub mod trust;

use std::ffi::OsString;
use std::sync::{Arc, OnceLock};

pub use options::{DEFAULT_CONFIG, Grant, HostOptions};

use crate::app::App;
use crate::config::{self, PluginDump};
use crate::logging;
use crate::status::ExitStatus;
use commands::Snapshot;

/// The program name of the generic host.
pub const PROG_NAME: &str = "precept-run";

/// Runs `precept-run` with `args` (the first is the program name).
pub async fn run<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut app = match App::new(PROG_NAME, env!("CARGO_PKG_VERSION")) {
        Ok(app) => app.about("Run a command-line application made of WebAssembly plugins"),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitStatus::CommandFailed;
        }
    };
    for arg in options::host_args() {
        app.arg(arg);
    }
    let snapshot = Arc::new(OnceLock::new());
    commands::add_all(&mut app, &snapshot);

    let options = HostOptions::read(app.command_line(), &args);
    // Output meant for files and scripts stays the host's alone.
    if matches!(
        options.command.as_deref(),
        Some("dump-config" | "inspect" | "completions")
    ) {
        app.plugin_stdout().to_stderr(true);
    }
    if let Err(error) = logging::configure(&options.log) {
        eprintln!("error: cannot write the log: {error}");
        return ExitStatus::Usage;
    }
    let (config, source) = match options.config() {
        Ok(found) => found,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitStatus::Usage;
        }
    };
    let paths = match options.plugin_paths(&config) {
        Ok(paths) => paths,
        Err(error) => {
            eprintln!("error: cannot list the plugins: {error}");
            return ExitStatus::PluginNotLoaded;
        }
    };

    let fail_fast = options.fail_fast || config.fail_fast;
    let mut app = app
        .fail_fast(fail_fast)
        .cache_dir(options.cache_dir.clone());
    let options_of = |name: &str| options.plugin_options(&config, &source, name);
    app.load_plugins_with(&paths, options_of).await;

    let loaded: Vec<_> = app
        .plugins()
        .iter()
        .map(|p| (p.name().to_string(), options_of(p.name())))
        .collect();
    let dumps: Vec<PluginDump> = loaded
        .iter()
        .map(|(name, options)| PluginDump {
            name,
            options,
            keys: app.config_keys(name),
        })
        .collect();
    let loaded_paths: Vec<_> = app
        .plugins()
        .iter()
        .map(|p| std::path::absolute(p.path()).unwrap_or_else(|_| p.path().into()))
        .collect();
    let limits = options
        .limits
        .apply(config.limits.apply(Default::default()));
    let dump = config::dump(&loaded_paths, fail_fast, &limits, &dumps);
    let _ = snapshot.set(Snapshot {
        dump,
        command_line: app.command_line(),
    });

    app.start(args).await
}
