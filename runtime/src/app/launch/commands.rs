//! Built-in commands: `dump-config` and `trust`, which come with a
//! configuration file, and the optional [`Builtin`] ones: `dispatch`,
//! `inspect`, `check`, `cache` and `completions`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::json;

use crate::app::{App, CommandError, Context};
use crate::model::config::PluginOptions;
use crate::model::error::Error;
use crate::model::value::{Payload, Value};
use crate::trust::capabilities::Capabilities;
use crate::trust::sandbox::{DirGrant, Sandbox};

/// What the commands need from after the plugins were loaded.
pub(crate) struct Snapshot {
    /// The configuration `dump-config` prints; built only for that command.
    pub(crate) dump: String,
    /// The full command line, for `completions`.
    pub(crate) command_line: Command,
    /// What was written to the lockfile, when the run accepted plugins.
    pub(crate) locked: Option<String>,
    /// The compile cache's directory, if one is used.
    pub(crate) cache_dir: Option<PathBuf>,
    /// Where plugins' data directories are, if anywhere.
    pub(crate) data_dir: Option<PathBuf>,
}

pub(super) type Shared = Arc<OnceLock<Snapshot>>;

/// A command precept provides, for [`App::builtin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Builtin {
    /// `dispatch EVENT [KEY=VALUE]...`: dispatches an event, with values
    /// read as booleans, integers, floats or text.
    Dispatch,
    /// `inspect PATH [--json]`: describes a component (world, imports,
    /// exports, and what it declares at setup) without running a command.
    Inspect,
    /// `completions SHELL`: prints a completion script for the command line
    /// with the plugins' commands.
    Completions,
    /// `check SCRIPT`: tests a plugin against a script of events and what
    /// should follow each (printed output, variables, failures).
    Check,
    /// `cache [show|prune|clear]`: what the compile cache holds; removing
    /// what this build cannot use, or everything.
    Cache,
}

impl App {
    /// Adds one of precept's own commands (see [`Builtin`]).
    pub fn builtin(&mut self, builtin: Builtin) -> Result<&mut App, Error> {
        match builtin {
            Builtin::Dispatch => self.command(dispatch_command(), dispatch),
            Builtin::Inspect => {
                self.launch.describing.push("inspect");
                self.command(inspect_command(), inspect)
            }
            Builtin::Check => {
                self.launch.describing.push("check");
                self.command(super::check::check_command(), super::check::check)
            }
            Builtin::Cache => {
                self.launch.describing.push("cache");
                let shared = self.launch.snapshot.clone();
                self.command(
                    super::cache_command::cache_command(),
                    move |ctx: Context| {
                        let shared = shared.clone();
                        async move {
                            let dir = loaded(&shared)?.cache_dir.clone();
                            super::cache_command::cache(ctx, dir).await
                        }
                    },
                )
            }
            Builtin::Completions => {
                self.launch.describing.push("completions");
                let shared = self.launch.snapshot.clone();
                let prog_name = self.prog_name().to_string();
                self.command(completions_command(), move |ctx: Context| {
                    let (shared, prog_name) = (shared.clone(), prog_name.clone());
                    async move { completions(&ctx, &shared, &prog_name) }
                })
            }
        }
    }

    /// Adds `dump-config` and `trust`, the commands of an application with
    /// a configuration file named `name`.
    pub(crate) fn config_commands(&mut self, name: &str) -> Result<&mut App, Error> {
        self.launch.describing.push("dump-config");
        let shared = self.launch.snapshot.clone();
        let dump = Command::new("dump-config").about(
            "Print the configuration as loaded, with every plugin's keys, to start a file from",
        );
        self.command(dump, move |_ctx| {
            let shared = shared.clone();
            async move {
                crate::io::output::print(loaded(&shared)?.dump.as_bytes());
                Ok(())
            }
        })?;
        self.launch.describing.push("lock");
        let shared = self.launch.snapshot.clone();
        let lock = Command::new("lock")
            .about("Accept the plugins as they are now (file, identity, grants) into the lockfile");
        self.command(lock, move |_ctx| {
            let shared = shared.clone();
            async move {
                let locked = loaded(&shared)?.locked.as_deref();
                eprintln!("{}", locked.unwrap_or("no lockfile was written"));
                Ok(())
            }
        })?;
        let trust = Command::new("trust")
            .about("Trust a configuration file as it is now, so that it is read from the working directory")
            .arg(
                Arg::new("file")
                    .default_value(name.to_string())
                    .value_parser(clap::value_parser!(PathBuf))
                    .help("The file"),
            );
        let name = name.to_string();
        self.launch.describing.push("trust");
        self.command(trust, move |ctx: Context| {
            let name = name.clone();
            async move {
                let file = ctx
                    .matches
                    .get_one::<PathBuf>("file")
                    .expect("has a default");
                let list = super::trust::trust(file, &name)
                    .map_err(|e| format!("cannot trust {}: {e}", file.display()))?;
                eprintln!(
                    "trusted {} (recorded in {})",
                    file.display(),
                    list.display()
                );
                if !crate::trust::lock::path_beside(file).exists() {
                    eprintln!(
                        "note: it has no lockfile, so the plugin files it names are not pinned: \
                         run `lock`, then `trust` again"
                    );
                }
                Ok(())
            }
        })
    }
}

fn completions_command() -> Command {
    Command::new("completions")
        .about("Print a shell completion script")
        .arg(
            Arg::new("shell")
                .required(true)
                .value_parser(clap::value_parser!(clap_complete::Shell)),
        )
}

fn completions(ctx: &Context, shared: &Shared, prog_name: &str) -> Result<(), CommandError> {
    let shell = *ctx
        .matches
        .get_one::<clap_complete::Shell>("shell")
        .expect("required");
    let mut command = loaded(shared)?.command_line.clone();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, prog_name, &mut script);
    crate::io::output::print(&script);
    Ok(())
}

fn inspect_command() -> Command {
    Command::new("inspect")
        .about("Show a component's world, imports, exports and what it declares at setup")
        .arg(
            Arg::new("path")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("The component"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print JSON, for scripts"),
        )
}

pub(super) fn loaded(shared: &Shared) -> Result<&Snapshot, CommandError> {
    shared
        .get()
        .ok_or_else(|| "the plugins are not loaded yet".into())
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

/// Loads the component into an application of its own, runs its `setup`
/// with no reach at all, and describes who it says it is, what it declares
/// and what it did at setup; no command runs. Its required capabilities
/// are answered as granted (so that its setup runs as it would), but it is
/// given nothing of them: no directory, no data directory, no environment
/// variable, no network.
async fn inspect(ctx: Context) -> Result<(), CommandError> {
    let path = ctx.matches.get_one::<PathBuf>("path").expect("required");
    // The same bounded read as a load: a regular file, at most 1 GiB.
    let (_, manifest) =
        crate::compile::cache::fingerprint(path, None, crate::trust::manifest::read)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest = manifest?;
    let mut app = App::new("precept-inspect", env!("CARGO_PKG_VERSION"))?;
    app.catch_signals(false);
    app.launch.inert = true;
    // The report is the output: what the plugin prints goes to stderr.
    app.plugin_stdout().to_stderr(true);
    let options = PluginOptions::from(stand_ins(&manifest.capabilities));
    let plugin = app.load_plugin_with(path, &options).await?;
    let name = plugin.name();
    let world = format!("precept:plugin@{}", plugin.world_version());
    // Every name below is the plugin's own text: one safe line each, in
    // JSON too (serde_json escapes only C0 control characters).
    let shown = |text: &str| crate::io::text::clean(text, crate::io::text::MAX_SHOWN_CHARS);
    let mut subscriptions: Vec<String> = app
        .events()
        .subscriptions_of(name)
        .iter()
        .map(|s| shown(s))
        .collect();
    subscriptions.sort();
    let services: Vec<_> = app
        .plugin_services(name)
        .into_iter()
        .map(|(service, command)| {
            json!({ "name": shown(&service), "command": command.as_deref().map(shown) })
        })
        .collect();
    let commands: Vec<_> = app
        .plugin_commands(name)
        .iter()
        .map(describe_command)
        .collect();
    let config: Vec<_> = app
        .config_keys(name)
        .into_iter()
        .map(|key| {
            json!({
                "key": shown(&key.key),
                "help": shown(&key.help),
                "default": crate::model::config::to_toml(&key.default),
            })
        })
        .collect();
    let report = json!({
        "name": name,
        "path": plugin.path(),
        "identity": plugin.identity(),
        "blake3": plugin.digest(),
        "world": world,
        "declares": plugin.declared().describe(),
        "imports": plugin.imports(),
        "exports": plugin.exports(),
        "subscriptions": subscriptions,
        "services": services,
        "commands": commands,
        "config": config,
        "lazy": manifest.lazy.as_ref().map(|lazy| json!({
            "events": lazy.events.iter().map(|e| shown(e)).collect::<Vec<_>>(),
            "commands": lazy.command_names().map(shown).collect::<Vec<_>>(),
        })),
    });
    if ctx.matches.get_flag("json") {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        crate::io::output::print(json.as_bytes());
    } else {
        crate::io::output::print(as_text(&report).as_bytes());
    }
    Ok(())
}

/// Grants for the required capabilities of `declared`, to be checked and
/// answered, never given (`inspect` runs its plugin inert): a directory
/// for each directory, with the access declared; empty values for
/// variables; each host as declared.
pub(super) fn stand_ins(declared: &Capabilities) -> Sandbox {
    let mut sandbox = Sandbox::default();
    let grants = &mut sandbox.grants;
    for dir in declared.dirs.iter().filter(|d| d.required) {
        grants.dirs.push(DirGrant {
            host: PathBuf::from("/nonexistent"),
            guest: dir.path.clone(),
            writable: dir.access == crate::trust::capabilities::Access::ReadWrite,
        });
    }
    for env in declared.env.iter().filter(|e| e.required) {
        grants.env.push((env.name.clone(), String::new()));
    }
    for net in declared.net.iter().filter(|n| n.required) {
        grants.net.push(net.stand_in());
    }
    sandbox
}

fn describe_command(command: &Command) -> serde_json::Value {
    let args: Vec<_> = command
        .get_arguments()
        .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
        .map(|arg| {
            json!({
                "name": arg.get_id().as_str(),
                "help": arg.get_help().map(|h| h.to_string()),
                "long": arg.get_long(),
                "short": arg.get_short().map(String::from),
                "required": arg.is_required_set(),
                "positional": arg.is_positional(),
            })
        })
        .collect();
    json!({
        "name": command.get_name(),
        "help": command.get_about().map(|a| a.to_string()),
        "args": args,
    })
}

/// The human form of `inspect`'s report.
fn as_text(report: &serde_json::Value) -> String {
    let list = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let or_none = |items: Vec<String>| {
        if items.is_empty() {
            "(none)".to_string()
        } else {
            items.join(", ")
        }
    };
    let mut out = String::new();
    let mut line = |label: &str, text: String| {
        let text = crate::io::text::Clean::capped(&text, 4000);
        out.push_str(&format!("{label:<14}{text}\n"))
    };
    line(
        "plugin",
        format!(
            "{} ({})",
            report["name"].as_str().unwrap_or_default(),
            report["path"].as_str().unwrap_or_default()
        ),
    );
    let identity = &report["identity"];
    for (label, key) in [
        ("version", "version"),
        ("description", "description"),
        ("authors", "authors"),
        ("licence", "licenses"),
        ("homepage", "homepage"),
        ("source", "source"),
        ("revision", "revision"),
    ] {
        if let Some(value) = identity[key].as_str() {
            line(label, value.to_string());
        }
    }
    line(
        "blake3",
        report["blake3"].as_str().unwrap_or_default().to_string(),
    );
    line(
        "world",
        report["world"].as_str().unwrap_or_default().to_string(),
    );
    line("declares", or_none(list("declares")));
    line("imports", or_none(list("imports")));
    line("exports", or_none(list("exports")));
    line("subscribes to", or_none(list("subscriptions")));
    let services: Vec<String> = report["services"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| match s["command"].as_str() {
            Some(command) => format!(
                "{} (with {command})",
                s["name"].as_str().unwrap_or_default()
            ),
            None => s["name"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    line("services", or_none(services));
    let commands: Vec<String> = report["commands"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} — {}",
                c["name"].as_str().unwrap_or_default(),
                c["help"].as_str().unwrap_or_default()
            )
        })
        .collect();
    line("commands", or_none(commands));
    let config: Vec<String> = report["config"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            format!(
                "{} = {} ({})",
                k["key"].as_str().unwrap_or_default(),
                k["default"],
                k["help"].as_str().unwrap_or_default()
            )
        })
        .collect();
    line("config", or_none(config));
    let lazy = &report["lazy"];
    let loads = match lazy.is_null() {
        true => "at start".to_string(),
        false => {
            let names = |key: &str| -> Vec<String> {
                let items = lazy[key].as_array().into_iter().flatten();
                items
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect()
            };
            format!(
                "when first needed: events {}; commands {}",
                or_none(names("events")),
                or_none(names("commands"))
            )
        }
    };
    line("loads", loads);
    out
}
