//! `precept-run`, the generic host: loads the plugins named on the command
//! line and runs the CLI lifecycle with them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::app::{App, CommandError, Context};
use crate::sandbox::{DirGrant, Limits, Sandbox};
use crate::status::ExitStatus;
use crate::value::{Payload, Value};

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
    for arg in host_args() {
        app.arg(arg);
    }
    app.command(dispatch_command(), dispatch);

    let options = HostOptions::read(app.command_line(), &args);
    let mut app = app.fail_fast(options.fail_fast);
    app.load_plugins_with(&options.plugins, |name| options.sandbox(name))
        .await;
    app.start(args).await
}

/// The options `precept-run` needs before the plugins are loaded.
#[derive(Debug, Default, PartialEq)]
pub struct HostOptions {
    /// The components to load, in order.
    pub plugins: Vec<PathBuf>,
    /// Grants and limits by plugin name, in the order given.
    pub grants: Vec<(String, Grant)>,
    /// The limits every plugin gets.
    pub limits: Limits,
    /// Whether any plugin failure ends the run.
    pub fail_fast: bool,
}

/// One grant given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Grant {
    /// `--dir` or `--dir-rw`.
    Dir(DirGrant),
    /// `--env`.
    Env(String, String),
    /// `--arg`.
    Arg(String),
}

impl HostOptions {
    /// Reads the options from `args` with `command` (the application's
    /// command line so far: plugins may add to it), before the full command
    /// line can be parsed. `--help` and unknown arguments do not stop the
    /// reading; wrong values are reported by the full parse later.
    pub fn read(command: Command, args: &[OsString]) -> HostOptions {
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
        let many = |id: &str| -> Vec<(String, Grant)> {
            m.get_many::<(String, Grant)>(id)
                .map_or_else(Vec::new, |v| v.cloned().collect())
        };
        let mut limits = Limits::default();
        if let Some(ms) = m.get_one::<u64>("deadline") {
            limits.call = Duration::from_millis(*ms);
        }
        if let Some(ms) = m.get_one::<u64>("command-deadline") {
            limits.command = Some(Duration::from_millis(*ms));
        }
        if let Some(mib) = m.get_one::<usize>("memory") {
            limits.memory_bytes = mib << 20;
        }
        let mut grants = many("dir");
        grants.extend(many("dir-rw"));
        grants.extend(many("env"));
        grants.extend(many("arg"));
        HostOptions {
            plugins: m
                .get_many::<PathBuf>("plugin")
                .map_or_else(Vec::new, |paths| paths.cloned().collect()),
            grants,
            limits,
            fail_fast: m.get_flag("fail-fast"),
        }
    }

    /// The sandbox of the plugin `name`: the common limits and its grants.
    pub fn sandbox(&self, name: &str) -> Sandbox {
        let mut sandbox = Sandbox {
            limits: self.limits.clone(),
            ..Sandbox::default()
        };
        for (plugin, grant) in &self.grants {
            if plugin != name {
                continue;
            }
            match grant.clone() {
                Grant::Dir(dir) => sandbox.grants.dirs.push(dir),
                Grant::Env(var, value) => sandbox.grants.env.push((var, value)),
                Grant::Arg(arg) => sandbox.grants.args.push(arg),
            }
        }
        sandbox
    }
}

/// The arguments `precept-run` adds to the application.
fn host_args() -> Vec<Arg> {
    let grant = |id: &'static str, value_name: &'static str, help: &'static str| {
        Arg::new(id)
            .long(id)
            .value_name(value_name)
            .action(ArgAction::Append)
            .help(help)
    };
    vec![
        plugin_arg(),
        grant(
            "dir",
            "PLUGIN=HOST[::GUEST]",
            "Let PLUGIN read the host directory HOST, seen as GUEST (default: the same path)",
        )
        .value_parser(|s: &str| parse_dir(s, false)),
        grant(
            "dir-rw",
            "PLUGIN=HOST[::GUEST]",
            "Like --dir, and let PLUGIN write there too",
        )
        .value_parser(|s: &str| parse_dir(s, true)),
        grant(
            "env",
            "PLUGIN=VAR[=VALUE]",
            "Give PLUGIN the environment variable VAR (its host value unless VALUE is given)",
        )
        .value_parser(parse_env),
        grant("arg", "PLUGIN=ARG", "Add ARG to PLUGIN's command-line arguments")
            .value_parser(|s: &str| {
                let (plugin, arg) = split_plugin(s)?;
                Ok::<_, String>((plugin, Grant::Arg(arg.to_string())))
            }),
        Arg::new("deadline")
            .long("deadline")
            .value_name("MS")
            .value_parser(clap::value_parser!(u64))
            .help("The longest a plugin's setup, event handler or service step may run [default: 1000]"),
        Arg::new("command-deadline")
            .long("command-deadline")
            .value_name("MS")
            .value_parser(clap::value_parser!(u64))
            .help("The longest a plugin's command may run [default: no limit]"),
        Arg::new("memory")
            .long("memory")
            .value_name("MIB")
            .value_parser(clap::value_parser!(usize))
            .help("The most memory each plugin may use [default: 256]"),
        Arg::new("fail-fast")
            .long("fail-fast")
            .action(ArgAction::SetTrue)
            .help("End the run at the first plugin failure"),
    ]
}

fn split_plugin(text: &str) -> Result<(String, &str), String> {
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

/// Sends log lines (the runtime's and the plugins') to standard error, at
/// `info` and above unless the `PRECEPT_LOG` filter says otherwise.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRECEPT_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .init();
}

fn plugin_arg() -> Arg {
    Arg::new("plugin")
        .long("plugin")
        .value_name("PATH")
        .value_parser(clap::value_parser!(PathBuf))
        .action(ArgAction::Append)
        .help("Load the WebAssembly component at PATH as a plugin (repeatable)")
}

fn dispatch_command() -> Command {
    Command::new("dispatch")
        .about("Dispatch an event to the plugins, e.g. `dispatch send data=bar`")
        .arg(Arg::new("event").required(true).help("The event's name"))
        .arg(
            Arg::new("payload")
                .value_name("KEY=VALUE")
                .num_args(0..)
                .help("Payload entries; values are read as bool, integer, float or text"),
        )
}

async fn dispatch(ctx: Context) -> Result<(), CommandError> {
    let name = ctx.matches.get_one::<String>("event").expect("required");
    let payload = parse_payload(&ctx.matches)?;
    ctx.events.dispatch(name, payload).await;
    Ok(())
}

fn parse_payload(matches: &ArgMatches) -> Result<Payload, CommandError> {
    let entries = matches.get_many::<String>("payload").unwrap_or_default();
    entries
        .map(|entry| match entry.split_once('=') {
            Some((key, value)) => Ok((key.to_string(), Value::parse(value))),
            None => Err(format!("payload entry '{entry}' is not KEY=VALUE").into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn options(args: &[&str]) -> HostOptions {
        let command = Command::new(PROG_NAME)
            .args(host_args())
            .arg(Arg::new("verbose").short('v').action(ArgAction::Count))
            .subcommand(dispatch_command());
        HostOptions::read(command, &os(args))
    }

    fn read(args: &[&str]) -> Vec<PathBuf> {
        options(args).plugins
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
            read(&args),
            [PathBuf::from("a.wasm"), PathBuf::from("b.wasm")]
        );
    }

    #[test]
    fn plugin_paths_survive_help_and_unknown_flags() {
        assert_eq!(
            read(&[
                "precept-run",
                "--help",
                "-v",
                "--plugin",
                "a.wasm",
                "--nope"
            ]),
            [PathBuf::from("a.wasm")]
        );
        assert!(read(&["precept-run"]).is_empty());
    }

    #[test]
    fn grants_and_limits_go_to_the_named_plugin() {
        let options = options(&[
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
            "--memory",
            "16",
            "--fail-fast",
        ]);
        assert!(options.fail_fast);
        let a = options.sandbox("a");
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
        let c = options.sandbox("c");
        assert!(c.grants.dirs.is_empty() && c.grants.env.is_empty());
    }
}
