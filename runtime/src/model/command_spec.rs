//! The command line: commands contributed by plugins turned into clap
//! commands, and parsed clap arguments turned into payloads.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::{Deserialize, Serialize};

use crate::model::value::{Payload, Scalar, Value};

/// A command a plugin adds, as every WIT version describes it, and as a
/// manifest declares it (`[[lazy.commands]]`, the same fields in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommandSpec {
    /// The command's name, as typed after the program name.
    pub(crate) name: String,
    /// One line of help.
    #[serde(default)]
    pub(crate) help: String,
    /// Its arguments.
    #[serde(default)]
    pub(crate) args: Vec<ArgSpec>,
}

/// One argument of a plugin's command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArgSpec {
    /// Its id, long option and payload key.
    pub(crate) name: String,
    /// One line of help.
    #[serde(default)]
    pub(crate) help: String,
    /// How it appears on the command line.
    #[serde(default)]
    pub(crate) style: ArgStyle,
    /// The type of its values.
    #[serde(default)]
    pub(crate) kind: ValueKind,
    /// A one-letter alias.
    #[serde(default)]
    pub(crate) short: Option<char>,
    /// Whether it must be given.
    #[serde(default)]
    pub(crate) required: bool,
    /// Whether it may be given several times.
    #[serde(default)]
    pub(crate) repeated: bool,
    /// The value used when it is not given, as typed on a command line.
    #[serde(default)]
    pub(crate) default: Option<String>,
}

/// How an argument appears on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ArgStyle {
    /// `--name`, no value.
    Flag,
    /// `--name`, repeatable, counted.
    Count,
    /// `--name VALUE`.
    #[default]
    Option,
    /// A bare value.
    Positional,
}

/// The type of an argument's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ValueKind {
    /// Any string.
    #[default]
    Text,
    /// A signed integer.
    Integer,
    /// A floating-point number.
    Float,
    /// `true` or `false`.
    Boolean,
}

/// The payload of `cli_parsed`: every argument of the application and of the
/// chosen command, by id, plus `command`, the chosen command's name (absent
/// when none was given).
pub fn parsed_payload(command: &Command, matches: &ArgMatches) -> Payload {
    let mut payload = Payload::new();
    collect(command, matches, &mut payload);
    let chosen = matches.subcommand().and_then(|(name, sub_matches)| {
        let sub = command.find_subcommand(name)?;
        Some((name, sub, sub_matches))
    });
    match chosen {
        Some((name, sub, sub_matches)) => {
            payload.push(("command".into(), Value::Text(name.to_string())));
            collect(sub, sub_matches, &mut payload);
        }
        None => payload.push(("command".into(), Value::Absent)),
    }
    payload
}

/// The arguments of one command, by id, typed as parsed: what a plugin's
/// `run-command` receives.
pub fn args_payload(command: &Command, matches: &ArgMatches) -> Payload {
    let mut payload = Payload::new();
    collect(command, matches, &mut payload);
    payload
}

/// Builds the clap command for a plugin's command, or says why the
/// description is unusable. `app_args` are the application's arguments: a
/// command cannot reuse their ids (one `cli_parsed` payload holds both, as
/// does `command`), nor the names and letters of the global ones.
pub(crate) fn command_from_spec(spec: &CommandSpec, app_args: &[Arg]) -> Result<Command, String> {
    let globals: Vec<&Arg> = app_args.iter().filter(|a| a.is_global_set()).collect();
    check_name("command", &spec.name)?;
    if spec.name == "help" {
        return Err("command name 'help' is reserved for the help of every command".into());
    }
    if spec.args.len() > MAX_ARGS {
        return Err(format!(
            "command '{}' has {} arguments; at most {MAX_ARGS} are allowed",
            spec.name,
            spec.args.len()
        ));
    }
    let mut command = Command::new(spec.name.clone()).about(help_line(&spec.help));
    let mut optional_positional = false;
    let mut open_ended = false;
    for (i, arg) in spec.args.iter().enumerate() {
        check_name("argument", &arg.name)?;
        let taken = app_args.iter().any(|a| a.get_id() == arg.name.as_str())
            || globals
                .iter()
                .any(|g| g.get_long() == Some(arg.name.as_str()));
        if taken
            || matches!(arg.name.as_str(), "help" | "version" | "command")
            || spec.args[..i].iter().any(|a| a.name == arg.name)
        {
            return Err(format!(
                "argument '{}' is declared twice or reserved",
                arg.name
            ));
        }
        if let Some(short) = arg.short {
            let taken = spec.args[..i].iter().any(|a| a.short == Some(short))
                || globals.iter().any(|g| g.get_short() == Some(short));
            if !short.is_ascii_alphanumeric() || matches!(short, 'h' | 'V') || taken {
                return Err(format!(
                    "argument '{}' has an unusable short name '{short}'",
                    arg.name
                ));
            }
        }
        if arg.style == ArgStyle::Positional {
            if open_ended {
                return Err(format!(
                    "argument '{}' follows a repeated positional",
                    arg.name
                ));
            }
            if arg.required && optional_positional {
                return Err(format!(
                    "required argument '{}' follows an optional positional",
                    arg.name
                ));
            }
            optional_positional |= !arg.required;
            open_ended |= arg.repeated;
        }
        command = command.arg(arg_from_spec(arg)?);
    }
    Ok(command)
}

/// The most arguments one plugin command may have.
pub(crate) const MAX_ARGS: usize = 64;

/// The longest command or argument name.
const MAX_NAME_LEN: usize = 64;

/// A plugin's help text as one safe line.
fn help_line(help: &str) -> String {
    crate::io::text::clean(help, 300)
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "{what} name '{}' is longer than {MAX_NAME_LEN} bytes",
            crate::io::text::clean(name, MAX_NAME_LEN)
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "{what} name '{name}' must be letters, digits, '-' or '_', starting with a letter or digit"
        ))
    }
}

fn arg_from_spec(spec: &ArgSpec) -> Result<Arg, String> {
    let name = spec.name.clone();
    let value_name = spec.name.to_uppercase().replace('-', "_");
    let takes_value = matches!(spec.style, ArgStyle::Option | ArgStyle::Positional);
    if let Some(default) = &spec.default {
        if !takes_value || spec.required {
            return Err(format!(
                "argument '{name}' cannot have a default: it is a flag, a count or required"
            ));
        }
        if !default_fits(default, spec.kind) {
            return Err(format!(
                "argument '{name}' has a default '{default}' that is not of its kind"
            ));
        }
    }
    let mut arg = Arg::new(name.clone()).help(help_line(&spec.help));
    arg = match spec.style {
        ArgStyle::Flag => arg.long(name).action(ArgAction::SetTrue),
        ArgStyle::Count => arg.long(name).action(ArgAction::Count),
        ArgStyle::Option | ArgStyle::Positional => {
            if spec.style == ArgStyle::Option {
                arg = arg.long(name);
            } else if spec.short.is_some() {
                return Err(format!(
                    "positional argument '{name}' cannot have a short name"
                ));
            }
            let arg = arg
                .value_name(value_name)
                .required(spec.required)
                .action(if spec.repeated {
                    ArgAction::Append
                } else {
                    ArgAction::Set
                });
            match spec.kind {
                ValueKind::Text => arg.value_parser(clap::value_parser!(String)),
                ValueKind::Integer => arg.value_parser(clap::value_parser!(i64)),
                ValueKind::Float => arg.value_parser(clap::value_parser!(f64)),
                ValueKind::Boolean => arg.value_parser(clap::value_parser!(bool)),
            }
        }
    };
    if let Some(short) = spec.short {
        arg = arg.short(short);
    }
    if let Some(default) = &spec.default {
        arg = arg.default_value(default.clone());
    }
    Ok(arg)
}

fn default_fits(default: &str, kind: ValueKind) -> bool {
    match kind {
        ValueKind::Text => true,
        ValueKind::Integer => default.parse::<i64>().is_ok(),
        ValueKind::Float => default.parse::<f64>().is_ok(),
        ValueKind::Boolean => default.parse::<bool>().is_ok(),
    }
}

fn collect(command: &Command, matches: &ArgMatches, payload: &mut Payload) {
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(
            arg.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        ) || payload.iter().any(|(key, _)| key == id)
        {
            continue;
        }
        let value = match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse => Value::Boolean(matches.get_flag(id)),
            ArgAction::Count => Value::Integer(matches.get_count(id).into()),
            ArgAction::Append => Value::List(many(matches, id)),
            _ if arg.get_num_args().is_some_and(|n| n.max_values() > 1) => {
                Value::List(many(matches, id))
            }
            _ => one(matches, id).into(),
        };
        payload.push((id.to_string(), value));
    }
}

/// The single value of `id`, in the type its value parser produced.
fn one(matches: &ArgMatches, id: &str) -> Scalar {
    many(matches, id)
        .into_iter()
        .next()
        .unwrap_or(Scalar::Absent)
}

/// Every value of `id`, in the type its value parser produced: text,
/// integers (of any width that fits an `i64`), floats, flags and paths
/// keep their type; any other value (an enum, an integer past `i64`) is
/// given as the text it was written as, so nothing parsed is lost.
fn many(matches: &ArgMatches, id: &str) -> Vec<Scalar> {
    macro_rules! try_as {
        ($($ty:ty => $wrap:expr),* $(,)?) => {
            $(if let Ok(values) = matches.try_get_many::<$ty>(id) {
                let values = values.map_or_else(Vec::new, |v| v.map($wrap).collect::<Vec<_>>());
                if values.iter().all(Option::is_some) {
                    return values.into_iter().flatten().collect();
                }
            })*
        };
    }
    let int = |i: i128| i64::try_from(i).ok().map(Scalar::Integer);
    try_as!(
        String => |s: &String| Some(Scalar::Text(s.clone())),
        i64 => |i: &i64| Some(Scalar::Integer(*i)),
        u64 => |i: &u64| int((*i).into()),
        i32 => |i: &i32| int((*i).into()),
        u32 => |i: &u32| int((*i).into()),
        i16 => |i: &i16| int((*i).into()),
        u16 => |i: &u16| int((*i).into()),
        i8 => |i: &i8| int((*i).into()),
        u8 => |i: &u8| int((*i).into()),
        usize => |i: &usize| int(*i as i128),
        f64 => |f: &f64| Some(Scalar::Float(*f)),
        bool => |b: &bool| Some(Scalar::Boolean(*b)),
        PathBuf => |p: &PathBuf| Some(Scalar::Text(p.display().to_string())),
    );
    matches
        .get_raw(id)
        .map(|raw| {
            raw.map(|value| Scalar::Text(value.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::lookup;
    use clap::Arg;

    fn command() -> Command {
        Command::new("app")
            .arg(Arg::new("plugin").long("plugin").action(ArgAction::Append))
            .arg(Arg::new("verbose").short('v').action(ArgAction::Count))
            .subcommand(
                Command::new("greet")
                    .arg(Arg::new("name").long("name"))
                    .arg(
                        Arg::new("times")
                            .long("times")
                            .value_parser(clap::value_parser!(i64)),
                    )
                    .arg(Arg::new("loud").long("loud").action(ArgAction::SetTrue))
                    .arg(
                        Arg::new("ratio")
                            .long("ratio")
                            .value_parser(clap::value_parser!(f64)),
                    ),
            )
    }

    #[test]
    fn values_of_other_types_are_given_as_their_text() {
        /// A type clap parses that the payload has no kind for.
        #[derive(Clone, Debug)]
        struct Level(#[allow(dead_code)] u8);
        let cmd = Command::new("app")
            .arg(
                Arg::new("port")
                    .long("port")
                    .value_parser(clap::value_parser!(u16)),
            )
            .arg(
                Arg::new("big")
                    .long("big")
                    .value_parser(clap::value_parser!(u64)),
            )
            .arg(
                Arg::new("level")
                    .long("level")
                    .value_parser(|s: &str| s.parse().map(Level).map_err(|_| "a number")),
            )
            .arg(
                Arg::new("levels")
                    .long("levels")
                    .action(ArgAction::Append)
                    .value_parser(|s: &str| s.parse().map(Level).map_err(|_| "a number")),
            );
        let m = cmd
            .clone()
            .try_get_matches_from([
                "app",
                "--port",
                "8080",
                "--big",
                "18446744073709551615",
                "--level",
                "3",
                "--levels",
                "1",
                "--levels",
                "2",
            ])
            .unwrap();
        let payload = parsed_payload(&cmd, &m);
        assert_eq!(lookup(&payload, "port"), Some(&Value::Integer(8080)));
        assert_eq!(
            lookup(&payload, "big"),
            Some(&Value::Text("18446744073709551615".into()))
        );
        assert_eq!(lookup(&payload, "level"), Some(&Value::Text("3".into())));
        assert_eq!(
            lookup(&payload, "levels"),
            Some(&Value::List(vec![
                Scalar::Text("1".into()),
                Scalar::Text("2".into())
            ]))
        );
    }

    #[test]
    fn payload_keeps_types() {
        let cmd = command();
        let m = cmd
            .clone()
            .try_get_matches_from([
                "app", "--plugin", "a.wasm", "--plugin", "b.wasm", "-vv", "greet", "--name", "Ada",
                "--times", "2", "--loud",
            ])
            .unwrap();
        let p = parsed_payload(&cmd, &m);
        let get = |k| lookup(&p, k).cloned();
        assert_eq!(
            get("plugin"),
            Some(Value::List(vec![
                Scalar::Text("a.wasm".into()),
                Scalar::Text("b.wasm".into())
            ]))
        );
        assert_eq!(get("verbose"), Some(Value::Integer(2)));
        assert_eq!(get("command"), Some(Value::Text("greet".into())));
        assert_eq!(get("name"), Some(Value::Text("Ada".into())));
        assert_eq!(get("times"), Some(Value::Integer(2)));
        assert_eq!(get("loud"), Some(Value::Boolean(true)));
        assert_eq!(get("ratio"), Some(Value::Absent));
    }

    fn spec(name: &str, style: ArgStyle, kind: ValueKind) -> ArgSpec {
        ArgSpec {
            name: name.into(),
            help: String::new(),
            style,
            kind,
            short: None,
            required: false,
            repeated: false,
            default: None,
        }
    }

    #[test]
    fn a_plugin_command_parses_typed_arguments() {
        let greet = CommandSpec {
            name: "greet".into(),
            help: "Greet someone".into(),
            args: vec![
                ArgSpec {
                    required: true,
                    short: Some('n'),
                    ..spec("name", ArgStyle::Option, ValueKind::Text)
                },
                ArgSpec {
                    default: Some("1".into()),
                    ..spec("times", ArgStyle::Option, ValueKind::Integer)
                },
                spec("shout", ArgStyle::Flag, ValueKind::Boolean),
                ArgSpec {
                    repeated: true,
                    ..spec("extra", ArgStyle::Positional, ValueKind::Float)
                },
            ],
        };
        let cmd = command_from_spec(&greet, &[]).unwrap();
        cmd.clone().debug_assert();
        let m = cmd
            .clone()
            .try_get_matches_from(["greet", "-n", "Ada", "1.5", "2"])
            .unwrap();
        let p = args_payload(&cmd, &m);
        assert_eq!(
            p,
            vec![
                ("name".into(), Value::Text("Ada".into())),
                ("times".into(), Value::Integer(1)),
                ("shout".into(), Value::Boolean(false)),
                (
                    "extra".into(),
                    Value::List(vec![Scalar::Float(1.5), Scalar::Float(2.0)])
                ),
            ]
        );
        assert!(cmd.try_get_matches_from(["greet"]).is_err());
    }

    #[test]
    fn unusable_command_descriptions_are_refused() {
        let with = |args: Vec<ArgSpec>| CommandSpec {
            name: "c".into(),
            help: String::new(),
            args,
        };
        let text = |name| spec(name, ArgStyle::Option, ValueKind::Text);
        let bad = [
            CommandSpec {
                name: "no spaces".into(),
                ..with(vec![])
            },
            with(vec![text("a"), text("a")]),
            with(vec![text("help")]),
            with(vec![ArgSpec {
                short: Some('h'),
                ..text("a")
            }]),
            with(vec![ArgSpec {
                default: Some("x".into()),
                ..spec("n", ArgStyle::Option, ValueKind::Integer)
            }]),
            with(vec![
                spec("a", ArgStyle::Positional, ValueKind::Text),
                ArgSpec {
                    required: true,
                    ..spec("b", ArgStyle::Positional, ValueKind::Text)
                },
            ]),
        ];
        for spec in bad {
            assert!(command_from_spec(&spec, &[]).is_err(), "{spec:?}");
        }
    }

    #[test]
    fn global_argument_names_are_reserved() {
        let verbose = Arg::new("verbose").short('v').long("verbose").global(true);
        let command = |arg: ArgSpec| CommandSpec {
            name: "c".into(),
            help: String::new(),
            args: vec![arg],
        };
        let flag = spec("verbose", ArgStyle::Flag, ValueKind::Text);
        assert!(command_from_spec(&command(flag), std::slice::from_ref(&verbose)).is_err());
        let short = ArgSpec {
            short: Some('v'),
            ..spec("vivid", ArgStyle::Flag, ValueKind::Text)
        };
        assert!(command_from_spec(&command(short), std::slice::from_ref(&verbose)).is_err());
    }

    #[test]
    fn ids_of_the_application_and_command_are_reserved() {
        // One `cli_parsed` payload holds the application's arguments, the
        // chosen command's name and the command's arguments.
        let level = Arg::new("level").long("level");
        let command = |name: &str| CommandSpec {
            name: "c".into(),
            help: String::new(),
            args: vec![spec(name, ArgStyle::Option, ValueKind::Text)],
        };
        let app = std::slice::from_ref(&level);
        assert!(command_from_spec(&command("level"), app).is_err());
        assert!(command_from_spec(&command("command"), app).is_err());
        assert!(command_from_spec(&command("other"), app).is_ok());
    }

    #[test]
    fn no_command_is_absent() {
        let cmd = command();
        let m = cmd.clone().try_get_matches_from(["app"]).unwrap();
        let p = parsed_payload(&cmd, &m);
        assert_eq!(lookup(&p, "command"), Some(&Value::Absent));
        assert_eq!(lookup(&p, "plugin"), Some(&Value::List(vec![])));
    }
}
