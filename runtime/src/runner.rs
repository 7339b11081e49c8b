//! `precept-run`, the generic host: loads the plugins named on the command
//! line and runs the CLI lifecycle with them.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::app::{App, CommandError, Context};
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
    app.arg(plugin_arg());
    app.command(dispatch_command(), dispatch);

    let paths = plugin_paths(app.command_line(), &args);
    app.load_plugins(paths).await;
    app.start(args).await
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

/// The `--plugin` paths in `args`, read with `command` (the application's
/// command line so far) before the full command line can be parsed: plugins
/// may add to it. `--help` and unknown arguments do not stop the reading.
pub fn plugin_paths(command: Command, args: &[OsString]) -> Vec<PathBuf> {
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
    matches.ok().map_or_else(Vec::new, |m| {
        m.get_many::<PathBuf>("plugin")
            .map_or_else(Vec::new, |paths| paths.cloned().collect())
    })
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

    fn read(args: &[&str]) -> Vec<PathBuf> {
        let command = Command::new(PROG_NAME)
            .arg(plugin_arg())
            .arg(Arg::new("verbose").short('v').action(ArgAction::Count))
            .subcommand(dispatch_command());
        plugin_paths(command, &os(args))
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
}
