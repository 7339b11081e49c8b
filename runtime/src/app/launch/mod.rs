//! Launching an application before its lifecycle: the options read from
//! the command line before the plugins are loaded, the configuration file,
//! the plugins they name with their grants and limits, and the built-in
//! commands that describe what was loaded (`dump-config`, `completions`).

mod cache_command;
mod check;
mod commands;
mod install;
mod options;
mod plugin_command;
mod trust;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use commands::Builtin;
pub(crate) use options::{HostOptions, config_arg, no_installed_arg, plugin_args, update_lock_arg};

use crate::app::App;
use crate::app::registry::ToLoad;
use crate::app::status::ExitStatus;
use crate::events::trace::{EventTrace, TraceFormat};
use crate::io::logging;
use crate::model::config::{self, Config, PluginDump, PluginOptions};
use crate::trust::installed::{self, InstalledFile};
use crate::trust::lock::{self, LockFile};
use crate::trust::sandbox::{Grants, Limits};
use commands::Snapshot;

/// What an application reads and loads when it starts, beyond the plugins
/// its code loaded itself.
#[derive(Default)]
pub(crate) struct Launch {
    /// The configuration file's name, when the application has one.
    pub(crate) config_file: Option<String>,
    /// Whether `--plugin`, `--plugin-dir`, the grants and the limits are
    /// options of the application.
    pub(crate) plugin_flags: bool,
    /// Directories whose components are all loaded.
    pub(crate) plugin_dirs: Vec<PathBuf>,
    /// Options the code gave for plugins, by name.
    pub(crate) plugin_options: Vec<(String, PluginOptions)>,
    /// Built-in commands that describe the application rather than run it:
    /// its services do not run with them, and the plugins' output goes to
    /// standard error, so that theirs stays machine-readable.
    pub(crate) describing: Vec<&'static str>,
    /// What was loaded, for `dump-config` and `completions`.
    pub(crate) snapshot: Arc<OnceLock<Snapshot>>,
    /// The lockfiles the plugins are checked against.
    pub(crate) locks: Locks,
    /// Whether plugins run with nothing of their grants: no directories
    /// (nor a data directory), no environment, no network. What they are
    /// granted is still checked and answered, so that their `setup` runs
    /// as it would; `inspect`'s application.
    pub(crate) inert: bool,
    /// The plugin home, when installed plugins load at start.
    pub(crate) home: Option<PathBuf>,
}

/// The lockfiles plugins are checked against when they load.
#[derive(Clone, Default)]
pub(crate) struct Locks {
    /// The lockfile the plugins must match, when there is one and the run
    /// does not accept them anew.
    pub(crate) lock: Option<Arc<Lock>>,
    /// The installed plugins loaded this run, as a lockfile: each is
    /// checked against its record, not against `lock`.
    pub(crate) installed: Option<Arc<Lock>>,
}

/// A lockfile in force.
pub(crate) struct Lock {
    /// The accepted plugins.
    pub(crate) file: LockFile,
    /// Where it is.
    pub(crate) path: PathBuf,
    /// The command that accepts plugins as they are now.
    pub(crate) accept: String,
}

impl Launch {
    /// Whether starting reads anything before the lifecycle.
    fn reads_anything(&self) -> bool {
        self.config_file.is_some()
            || self.plugin_flags
            || !self.plugin_dirs.is_empty()
            || self.home.is_some()
    }
}

impl Locks {
    /// The lockfile the plugin loaded from `path` is checked against: the
    /// plugin home's record for an installed plugin, else the lockfile.
    pub(crate) fn lock_for(&self, path: &Path) -> Option<&Lock> {
        if self.is_installed(path) {
            return self.installed.as_deref();
        }
        self.lock.as_deref()
    }

    /// Whether the plugin at `path` is one of the installed plugins.
    fn is_installed(&self, path: &Path) -> bool {
        let shown = path.display().to_string();
        self.installed
            .as_ref()
            .is_some_and(|lock| lock.file.plugins.iter().any(|p| p.path == shown))
    }
}

impl App {
    /// Reads the options, the configuration file and the plugins they name,
    /// and loads those plugins. `Err` is the status the run ends with.
    pub(crate) async fn launch(&mut self, args: &[OsString]) -> Result<(), ExitStatus> {
        let reads = self.launch.reads_anything();
        // Read also when nothing else is: the event trace may be asked for.
        let options = HostOptions::read(self.command_line(), args);
        if let Some(format) = options.trace.or_else(TraceFormat::from_env) {
            self.events.trace_to(Some(EventTrace::stderr(format)));
        }
        if let Some(command) = options.command.as_deref()
            && self.launch.describing.contains(&command)
        {
            self.plugin_stdout().to_stderr(true);
        }
        if reads && let Err(error) = logging::configure(&options.log) {
            return Err(fail(ExitStatus::Usage, "cannot write the log", error));
        }
        let (config, source) = match &self.launch.config_file {
            Some(name) => options
                .config(name, self.prog_name())
                .map_err(|error| fail(ExitStatus::Usage, "", error))?,
            None => (Config::default(), String::new()),
        };
        let installed = self.installed(&options);
        let paths = plugin_paths(&config, &self.launch.plugin_dirs, &options).map_err(|error| {
            fail(
                ExitStatus::PluginNotLoaded,
                "cannot list the plugins",
                error,
            )
        })?;

        if options.watch {
            self.watch(true);
        }
        let fail_fast = self.fail_fast || options.fail_fast || config.fail_fast;
        self.fail_fast(fail_fast);
        if let Some(dir) = options.cache_dir.clone() {
            self.cache_dir(dir);
        }
        if let Some(dir) = options.data_dir.clone() {
            self.data_dir(Some(dir));
        }
        let lock_path = self
            .launch
            .config_file
            .is_some()
            .then(|| lock::path_beside(Path::new(&source)));
        let accepting = options.update_lock || options.command.as_deref() == Some("lock");
        if let Some(path) = &lock_path
            && !accepting
        {
            let file = LockFile::load(path).map_err(|error| fail(ExitStatus::Usage, "", error))?;
            self.launch.locks.lock = file.map(|file| {
                Arc::new(Lock {
                    file,
                    path: path.clone(),
                    accept: format!("{} lock", self.prog_name()),
                })
            });
        }
        let given = self.given_options();
        let options_of = |name: &str| options.plugin_options(&config, &source, name, given(name));
        // The configuration's and the directories', the installed ones,
        // then `--plugin`'s.
        let as_named = |path: &PathBuf| ToLoad {
            path: path.clone(),
            rename: None,
            grants: Grants::default(),
            recorded: None,
        };
        let mut items: Vec<ToLoad> = paths.iter().map(as_named).collect();
        items.extend(installed);
        items.extend(options.plugins.iter().map(as_named));
        // Every plugin loads at start for the commands that describe them;
        // when the lockfile is written; under `--watch`, which watches the
        // loaded ones; and with fail-fast, so that one that cannot load
        // stops the run before it begins.
        let describing = options
            .command
            .as_deref()
            .is_some_and(|command| self.launch.describing.contains(&command));
        let lazily = self.lazy_plugins && !describing && !accepting && !self.watch && !fail_fast;
        self.load_all(items, options_of, lazily).await;
        if options.profile_startup {
            let report =
                crate::compile::profile::report(&self.load_profiles(), self.created.elapsed());
            eprint!("{report}");
        }

        let mut locked = None;
        if let Some(path) = lock_path.filter(|_| accepting) {
            let file = LockFile {
                plugins: self
                    .plugins()
                    .iter()
                    .filter(|p| !self.launch.locks.is_installed(Path::new(p.path())))
                    .map(|p| p.locked())
                    .collect(),
            };
            file.save(&path).map_err(|error| {
                let what = format!("cannot write {}", path.display());
                fail(ExitStatus::Usage, &what, error)
            })?;
            let mut said = format!(
                "locked {} plugin(s) in {}",
                file.plugins.len(),
                path.display()
            );
            for plugin in &file.plugins {
                said.push_str(&format!("\n  {}", plugin.summary()));
            }
            locked = Some(said);
        }

        let limits = options
            .limits
            .apply(config.limits.apply(self.sandbox.limits.clone()));
        let dumping = options.command.as_deref() == Some("dump-config");
        let snapshot = self.snapshot(dumping, fail_fast, &limits, &options_of, locked);
        let _ = self.launch.snapshot.set(snapshot);
        Ok(())
    }

    /// What `dump-config` and `completions` describe: the plugins as loaded
    /// (the configuration's text only when `dumping`: it can be large).
    fn snapshot(
        &self,
        dumping: bool,
        fail_fast: bool,
        limits: &Limits,
        options_of: &(dyn Fn(&str) -> PluginOptions + Sync),
        locked: Option<String>,
    ) -> Snapshot {
        Snapshot {
            dump: if dumping {
                self.dump(fail_fast, limits, options_of)
            } else {
                String::new()
            },
            command_line: self.command_line(),
            locked,
            cache_dir: self.cache_dir.clone(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// The installed plugins, each with its recorded grants; none without
    /// a plugin home, with `--no-installed`, or for `plugin` itself (a
    /// broken plugin must not stop its own removal). Each is loaded under
    /// its recorded name and checked against its record.
    fn installed(&mut self, options: &HostOptions) -> Vec<ToLoad> {
        let Some(home) = self.launch.home.clone() else {
            return Vec::new();
        };
        if options.no_installed || options.command.as_deref() == Some("plugin") {
            return Vec::new();
        }
        let path = home.join(installed::RECORD);
        let record = installed::check_home(&home).and_then(|()| InstalledFile::load_home(&path));
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                eprintln!("error: no installed plugin is loaded: {error}");
                return Vec::new();
            }
        };
        let mut items = Vec::new();
        for plugin in &record.plugins {
            let mut grants = Grants::default();
            for grant in &plugin.grants {
                match options::parse_grant(&plugin.name, grant) {
                    Ok((_, grant)) => grant.add_to(&mut grants),
                    Err(error) => eprintln!(
                        "warning: installed plugin '{}' is not given '{}': {error}",
                        plugin.name,
                        crate::io::text::clean(grant, 200)
                    ),
                }
            }
            items.push(ToLoad {
                path: installed::file_in(&home, &plugin.name),
                rename: Some(plugin.name.clone()),
                grants,
                recorded: plugin.lazy.clone(),
            });
        }
        self.launch.locks.installed = Some(Arc::new(Lock {
            file: record.as_lock(&home),
            path,
            accept: format!("{} plugin update NAME", self.prog_name()),
        }));
        items
    }

    /// The configuration as loaded, with every plugin's keys, as
    /// `dump-config` prints it.
    fn dump(
        &self,
        fail_fast: bool,
        limits: &Limits,
        options_of: &(dyn Fn(&str) -> PluginOptions + Sync),
    ) -> String {
        let plugins = self.plugins();
        let loaded: Vec<(&str, PluginOptions)> = plugins
            .iter()
            .map(|p| (p.name(), options_of(p.name())))
            .collect();
        let dumps: Vec<PluginDump> = loaded
            .iter()
            .map(|(name, options)| PluginDump {
                name,
                options,
                keys: self.config_keys(name),
            })
            .collect();
        let paths: Vec<PathBuf> = plugins
            .iter()
            .map(|p| std::path::absolute(p.path()).unwrap_or_else(|_| p.path().into()))
            .collect();
        config::dump(&paths, fail_fast, limits, &dumps)
    }
}

/// The components the configuration names, then those in the
/// application's plugin directories and `--plugin-dir`'s.
fn plugin_paths(
    config: &Config,
    dirs: &[PathBuf],
    options: &HostOptions,
) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = config.plugin_paths()?;
    for dir in dirs.iter().chain(&options.plugin_dirs) {
        paths.extend(config::components_in(dir)?);
    }
    Ok(paths)
}

/// Reports why a run cannot start, in one line, and gives its status.
fn fail(status: ExitStatus, what: &str, error: impl std::fmt::Display) -> ExitStatus {
    if what.is_empty() {
        eprintln!("error: {error}");
    } else {
        eprintln!("error: {what}: {error}");
    }
    status
}
