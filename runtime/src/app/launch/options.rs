//! The options an application reads before loading any plugin: which
//! plugins, their grants and limits, the configuration file and the log
//! settings.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::trust::{self, user_config_dir};
use crate::events::trace::TraceFormat;
use crate::io::logging::LogSettings;
use crate::model::config::{
    Config, ConfigError, LimitsConfig, MAX_MEMORY_MIB, MAX_MS, PluginOptions,
};
use crate::trust::sandbox::{DirGrant, Grants};

/// The options given on the command line, before the plugins are loaded.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct HostOptions {
    /// `--plugin`: components to load, in order.
    pub plugins: Vec<PathBuf>,
    /// `--plugin-dir`: directories whose components are all loaded.
    pub plugin_dirs: Vec<PathBuf>,
    /// Grants by plugin name, in the order given.
    pub grants: Vec<(String, Grant)>,
    /// Limits given as flags; they override the configuration file.
    pub limits: LimitsConfig,
    /// `--fail-fast`.
    pub fail_fast: bool,
    /// `-c/--config-file`.
    pub config_file: Option<PathBuf>,
    /// `-v`, `--quiet`, `--log-file`.
    pub log: LogSettings,
    /// Where compiled components are kept, when the command line says:
    /// `Some(Some(dir))` with `--cache-dir`, `Some(None)` with `--no-cache`.
    pub cache_dir: Option<Option<PathBuf>>,
    /// `--data-dir`: where plugins' data directories are kept.
    pub data_dir: Option<PathBuf>,
    /// The command given, if it is known before the plugins are loaded.
    pub command: Option<String>,
    /// `--update-lock`: accept the plugins as they are into the lockfile.
    pub update_lock: bool,
    /// `--trace-events` and `--trace-format`: the event trace, if asked for.
    pub trace: Option<TraceFormat>,
    /// `--profile-startup`.
    pub profile_startup: bool,
    /// `--watch`.
    pub watch: bool,
    /// `--no-installed`: the installed plugins do not load this run.
    pub no_installed: bool,
}

/// One grant given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Grant {
    /// `--dir` or `--dir-rw`.
    Dir(DirGrant),
    /// `--env`.
    Env(String, String),
    /// `--arg`.
    Arg(String),
    /// `--net`.
    Net(String),
}

impl HostOptions {
    /// Reads the options from `args` with `command` (the application's
    /// command line so far: plugins may add to it), before the full command
    /// line can be parsed. `--help` and unknown arguments do not stop the
    /// reading; wrong values are reported by the full parse later. Options
    /// `command` does not define are left at their defaults, so an
    /// application with only a `plugin` argument can use this too.
    pub(crate) fn read(command: Command, args: &[OsString]) -> HostOptions {
        let matches = command
            .disable_help_flag(true)
            .disable_version_flag(true)
            .arg(
                Arg::new("help")
                    .short('h')
                    .long("help")
                    .action(ArgAction::SetTrue),
            )
            .arg(
                Arg::new("version")
                    .short('V')
                    .long("version")
                    .action(ArgAction::SetTrue),
            )
            .ignore_errors(true)
            .allow_external_subcommands(true)
            .try_get_matches_from(args);
        let Ok(m) = matches else {
            return HostOptions::default();
        };
        let paths = |id: &str| -> Vec<PathBuf> {
            m.try_get_many::<PathBuf>(id)
                .ok()
                .flatten()
                .map_or_else(Vec::new, |v| v.cloned().collect())
        };
        let mut grants = Vec::new();
        for id in ["dir", "dir-rw", "env", "arg", "net"] {
            if let Ok(Some(given)) = m.try_get_many::<(String, Grant)>(id) {
                grants.extend(given.cloned());
            }
        }
        HostOptions {
            plugins: paths("plugin"),
            plugin_dirs: paths("plugin-dir"),
            grants,
            limits: LimitsConfig {
                deadline_ms: one::<u64>(&m, "deadline"),
                command_deadline_ms: one::<u64>(&m, "command-deadline"),
                memory_mib: one::<usize>(&m, "memory"),
                ..LimitsConfig::default()
            },
            fail_fast: one::<bool>(&m, "fail-fast").unwrap_or(false),
            config_file: one::<PathBuf>(&m, "config-file"),
            log: LogSettings {
                verbose: one::<u8>(&m, "verbose").unwrap_or(0),
                quiet: one::<bool>(&m, "quiet").unwrap_or(false),
                file: one::<PathBuf>(&m, "log-file"),
            },
            command: m.subcommand_name().map(str::to_string),
            update_lock: one::<bool>(&m, "update-lock").unwrap_or(false),
            cache_dir: if one::<bool>(&m, "no-cache").unwrap_or(false) {
                Some(None)
            } else {
                one::<PathBuf>(&m, "cache-dir").map(Some)
            },
            data_dir: one::<PathBuf>(&m, "data-dir"),
            trace: match one::<String>(&m, "trace-format").as_deref() {
                Some("json") => Some(TraceFormat::Json),
                Some(_) => Some(TraceFormat::Text),
                None => one::<bool>(&m, "trace-events")
                    .unwrap_or(false)
                    .then_some(TraceFormat::Text),
            },
            profile_startup: one::<bool>(&m, "profile-startup").unwrap_or(false),
            watch: one::<bool>(&m, "watch").unwrap_or(false),
            no_installed: one::<bool>(&m, "no-installed").unwrap_or(false),
        }
    }

    /// The configuration: the `-c` file, else the file `name` in the working
    /// directory (once trusted) or in the user's configuration directory for
    /// it, else none. Returns the file's name too, for messages.
    pub(crate) fn config(
        &self,
        name: &str,
        prog_name: &str,
    ) -> Result<(Config, String), ConfigError> {
        let found = match &self.config_file {
            Some(path) => Some(path.clone()),
            None => default_config_paths(name)
                .into_iter()
                .find(|p| usable(p, name, prog_name)),
        };
        match found {
            Some(path) => Ok((Config::load(&path)?, path.display().to_string())),
            None => Ok((Config::default(), name.to_string())),
        }
    }

    /// The options of the plugin `name`: `base` with the configuration's
    /// over it, then the flags' limits over them and the flags' grants
    /// added.
    pub(crate) fn plugin_options(
        &self,
        config: &Config,
        source: &str,
        name: &str,
        base: PluginOptions,
    ) -> PluginOptions {
        let mut options = config.plugin_options(name, source, base);
        let sandbox = &mut options.sandbox;
        sandbox.limits = self.limits.apply(sandbox.limits.clone());
        for (plugin, grant) in &self.grants {
            if plugin != name {
                continue;
            }
            grant.clone().add_to(&mut sandbox.grants);
        }
        options
    }
}

/// The value of `id`, if `m` has such an argument and it was given.
fn one<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
    m.try_get_one::<T>(id).ok().flatten().cloned()
}

/// Whether the configuration file at `path` exists and may be used
/// without `-c`: the working directory's only once trusted.
fn usable(path: &Path, name: &str, prog_name: &str) -> bool {
    if !path.is_file() {
        return false;
    }
    if path != Path::new(name) || trust::is_trusted(path, name) {
        return true;
    }
    tracing::warn!(
        "ignoring ./{name}: it is not trusted; use `-c {name}` or run `{prog_name} trust` to trust it as it is"
    );
    false
}

/// Where the configuration file `name` is looked for, in order.
fn default_config_paths(name: &str) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from(name)];
    if let Some(dir) = user_config_dir(name) {
        paths.push(dir.join(name));
    }
    paths
}

/// `--update-lock`, for an application with a configuration file (and so
/// a lockfile beside it).
pub(crate) fn update_lock_arg() -> Arg {
    Arg::new("update-lock")
        .long("update-lock")
        .action(ArgAction::SetTrue)
        .help("Accept the plugins as they are now into the lockfile, then run")
}

/// `--no-installed`, for an application with installed plugins.
pub(crate) fn no_installed_arg() -> Arg {
    Arg::new("no-installed")
        .long("no-installed")
        .action(ArgAction::SetTrue)
        .help("Do not load the installed plugins this run")
}

/// `-c/--config-file`, for an application whose configuration file is
/// `name`.
pub(crate) fn config_arg(name: &str) -> Arg {
    let user = user_config_dir(name)
        .map(|dir| format!(", then {}", dir.join(name).display()))
        .unwrap_or_default();
    Arg::new("config-file")
        .short('c')
        .long("config-file")
        .value_name("FILE")
        .value_parser(clap::value_parser!(PathBuf))
        .help(format!(
            "Read the configuration from FILE [default: ./{name}{user}]"
        ))
}

/// The options that choose plugins, grant them, limit them and keep them
/// compiled.
pub(crate) fn plugin_args() -> Vec<Arg> {
    let [dir, dir_rw, env, net] = grant_args();
    vec![
        Arg::new("plugin")
            .long("plugin")
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .action(ArgAction::Append)
            .help("Load the WebAssembly component at PATH as a plugin (repeatable)"),
        Arg::new("plugin-dir")
            .long("plugin-dir")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .action(ArgAction::Append)
            .help("Load every component (*.wasm) in DIR (repeatable)"),
        dir.value_parser(|s: &str| parse_dir(s, false)),
        dir_rw.value_parser(|s: &str| parse_dir(s, true)),
        env.value_parser(parse_env),
        net.value_parser(|s: &str| {
            let (plugin, host) = split_plugin(s)?;
            Ok::<_, String>((plugin, Grant::Net(host.to_string())))
        }),
        Arg::new("arg")
            .long("arg")
            .value_name("PLUGIN=ARG")
            .action(ArgAction::Append)
            .help("Add ARG to PLUGIN's command-line arguments")
            .value_parser(|s: &str| {
                let (plugin, arg) = split_plugin(s)?;
                Ok::<_, String>((plugin, Grant::Arg(arg.to_string())))
            }),
        Arg::new("deadline")
            .long("deadline")
            .value_name("MS")
            .value_parser(clap::value_parser!(u64).range(1..=MAX_MS))
            .help("The most running time a plugin's setup, event handler or service step may use [default: 1000]"),
        Arg::new("command-deadline")
            .long("command-deadline")
            .value_name("MS")
            .value_parser(clap::value_parser!(u64).range(1..=MAX_MS))
            .help("The longest a plugin's command may run [default: no limit]"),
        Arg::new("memory")
            .long("memory")
            .value_name("MIB")
            .value_parser(
                clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_MEMORY_MIB as u64),
            )
            .help("The most memory each plugin may use [default: 256]"),
        Arg::new("fail-fast")
            .long("fail-fast")
            .action(ArgAction::SetTrue)
            .help("End the run at the first plugin failure"),
        Arg::new("cache-dir")
            .long("cache-dir")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Keep compiled plugins in DIR"),
        Arg::new("no-cache")
            .long("no-cache")
            .action(ArgAction::SetTrue)
            .conflicts_with("cache-dir")
            .help("Compile every plugin, keeping nothing on disk"),
        Arg::new("data-dir")
            .long("data-dir")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Keep each plugin's own data directory in DIR/NAME"),
    ]
}

/// A grant as the plugin home records it, for the plugin `plugin`: a
/// flag's name and its value without `PLUGIN=` (`dir=HOST::GUEST`,
/// `dir-rw=HOST::GUEST`, `env=VAR[=VALUE]`, `net=HOST:PORT`).
pub(crate) fn parse_grant(plugin: &str, text: &str) -> Result<(String, Grant), String> {
    let (kind, rest) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not a grant"))?;
    let flag = format!("{plugin}={rest}");
    match kind {
        "dir" => parse_dir(&flag, false),
        "dir-rw" => parse_dir(&flag, true),
        "env" => parse_env(&flag),
        "net" => Ok((plugin.to_string(), Grant::Net(rest.to_string()))),
        _ => Err(format!("'{kind}' is not a grant: dir, dir-rw, env or net")),
    }
}

/// The grant flags `--dir`, `--dir-rw`, `--env` and `--net`, each
/// `PLUGIN=...`, without what reads their values: the run's resolve them,
/// `plugin add`'s keep them as given.
pub(crate) fn grant_args() -> [Arg; 4] {
    let grant = |id: &'static str, value_name: &'static str, help: &'static str| {
        Arg::new(id)
            .long(id)
            .value_name(value_name)
            .action(ArgAction::Append)
            .help(help)
    };
    [
        grant(
            "dir",
            "PLUGIN=HOST[::GUEST]",
            "Let PLUGIN read the host directory HOST, seen as GUEST (default: the same path)",
        ),
        grant(
            "dir-rw",
            "PLUGIN=HOST[::GUEST]",
            "Like --dir, and let PLUGIN write there too",
        ),
        grant(
            "env",
            "PLUGIN=VAR[=VALUE]",
            "Give PLUGIN the environment variable VAR (its host value unless VALUE is given)",
        ),
        grant(
            "net",
            "PLUGIN=HOST:PORT",
            "Grant PLUGIN the network host HOST:PORT it declares",
        ),
    ]
}

impl Grant {
    /// Adds this grant to `grants`.
    pub(crate) fn add_to(self, grants: &mut Grants) {
        match self {
            Grant::Dir(dir) => grants.dirs.push(dir),
            Grant::Env(var, value) => grants.env.push((var, value)),
            Grant::Arg(arg) => grants.args.push(arg),
            Grant::Net(host) => grants.net.push(host),
        }
    }
}

/// `PLUGIN` and the rest of `PLUGIN=...`.
pub(crate) fn split_plugin(text: &str) -> Result<(String, &str), String> {
    match text.split_once('=') {
        Some((plugin, rest)) if !plugin.is_empty() && !rest.is_empty() => {
            Ok((plugin.to_string(), rest))
        }
        _ => Err(format!("expected PLUGIN=..., got '{text}'")),
    }
}

fn parse_dir(text: &str, writable: bool) -> Result<(String, Grant), String> {
    let (plugin, rest) = split_plugin(text)?;
    let (host, guest) = rest.split_once("::").unwrap_or((rest, rest));
    let grant = DirGrant {
        host: PathBuf::from(host),
        guest: guest.to_string(),
        writable,
    };
    Ok((plugin, Grant::Dir(grant)))
}

fn parse_env(text: &str) -> Result<(String, Grant), String> {
    let (plugin, rest) = split_plugin(text)?;
    let (var, value) = match rest.split_once('=') {
        Some((var, value)) => (var.to_string(), value.to_string()),
        None => {
            let value = std::env::var(rest).map_err(|_| format!("${rest} is not set"))?;
            (rest.to_string(), value)
        }
    };
    Ok((plugin, Grant::Env(var, value)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn options(args: &[&str]) -> HostOptions {
        let command = Command::new("precept-run")
            .args(plugin_args())
            .arg(config_arg("precept.toml"))
            .arg(Arg::new("verbose").short('v').action(ArgAction::Count))
            .subcommand(Command::new("dispatch").arg(Arg::new("event")));
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        HostOptions::read(command, &args)
    }

    #[test]
    fn plugin_paths_are_read_before_the_command() {
        let args = [
            "precept-run",
            "--plugin",
            "a.wasm",
            "--plugin=b.wasm",
            "dispatch",
            "x",
            "--plugin",
            "c.wasm",
        ];
        assert_eq!(
            options(&args).plugins,
            [PathBuf::from("a.wasm"), PathBuf::from("b.wasm")]
        );
    }

    #[test]
    fn a_command_line_with_only_plugin_is_read_too() {
        let command = Command::new("app").arg(
            Arg::new("plugin")
                .long("plugin")
                .value_parser(clap::value_parser!(PathBuf))
                .action(ArgAction::Append),
        );
        let args: Vec<OsString> = ["app", "--plugin", "a.wasm"].map(OsString::from).to_vec();
        let read = HostOptions::read(command, &args);
        assert_eq!(read.plugins, [PathBuf::from("a.wasm")]);
        assert!(!read.fail_fast && read.grants.is_empty());
    }

    #[test]
    fn plugin_paths_survive_help_and_unknown_flags() {
        let read = options(&[
            "precept-run",
            "--help",
            "-vv",
            "--plugin",
            "a.wasm",
            "--nope",
        ]);
        assert_eq!(read.plugins, [PathBuf::from("a.wasm")]);
        assert_eq!(read.log.verbose, 2);
        assert!(options(&["precept-run"]).plugins.is_empty());
    }

    #[test]
    fn flags_go_to_the_named_plugin_over_the_configuration() {
        let read = options(&[
            "precept-run",
            "--dir",
            "a=/srv/data::/data",
            "--dir-rw",
            "a=/tmp/out",
            "--env",
            "a=MODE=fast",
            "--env",
            "b=LANG=C",
            "--arg",
            "a=--quick",
            "--deadline",
            "250",
            "--fail-fast",
        ]);
        assert!(read.fail_fast);
        let config = Config::parse("[limits]\ndeadline-ms = 900\nmemory-mib = 16\n").unwrap();
        let base = PluginOptions::default;
        let a = read.plugin_options(&config, "f.toml", "a", base()).sandbox;
        assert_eq!(
            a.grants.dirs,
            [
                DirGrant {
                    host: "/srv/data".into(),
                    guest: "/data".into(),
                    writable: false
                },
                DirGrant {
                    host: "/tmp/out".into(),
                    guest: "/tmp/out".into(),
                    writable: true
                },
            ]
        );
        assert_eq!(a.grants.env, [("MODE".to_string(), "fast".to_string())]);
        assert_eq!(a.grants.args, ["--quick"]);
        assert_eq!(a.limits.call, Duration::from_millis(250));
        assert_eq!(a.limits.memory_bytes, 16 << 20);
        let c = read.plugin_options(&config, "f.toml", "c", base()).sandbox;
        assert!(c.grants.dirs.is_empty() && c.grants.env.is_empty());
        assert_eq!(c.limits.call, Duration::from_millis(250));
    }
}
