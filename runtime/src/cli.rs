//! The command line: turning parsed clap arguments into an event payload.

use std::path::PathBuf;

use clap::{ArgAction, ArgMatches, Command};

use crate::value::{Payload, Scalar, Value};

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
    macro_rules! try_as {
        ($($ty:ty => $wrap:expr),* $(,)?) => {
            $(if let Ok(value) = matches.try_get_one::<$ty>(id) {
                return value.map_or(Scalar::Absent, $wrap);
            })*
        };
    }
    try_as!(
        String => |s: &String| Scalar::Text(s.clone()),
        i64 => |i: &i64| Scalar::Integer(*i),
        u64 => |i: &u64| Scalar::Integer(*i as i64),
        u8 => |i: &u8| Scalar::Integer((*i).into()),
        f64 => |f: &f64| Scalar::Float(*f),
        bool => |b: &bool| Scalar::Boolean(*b),
        PathBuf => |p: &PathBuf| Scalar::Text(p.display().to_string()),
    );
    Scalar::Absent
}

/// Every value of `id`, in the type its value parser produced.
fn many(matches: &ArgMatches, id: &str) -> Vec<Scalar> {
    macro_rules! try_as {
        ($($ty:ty => $wrap:expr),* $(,)?) => {
            $(if let Ok(values) = matches.try_get_many::<$ty>(id) {
                return values.map_or_else(Vec::new, |v| v.map($wrap).collect());
            })*
        };
    }
    try_as!(
        String => |s: &String| Scalar::Text(s.clone()),
        i64 => |i: &i64| Scalar::Integer(*i),
        u64 => |i: &u64| Scalar::Integer(*i as i64),
        f64 => |f: &f64| Scalar::Float(*f),
        bool => |b: &bool| Scalar::Boolean(*b),
        PathBuf => |p: &PathBuf| Scalar::Text(p.display().to_string()),
    );
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::lookup;
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

    #[test]
    fn no_command_is_absent() {
        let cmd = command();
        let m = cmd.clone().try_get_matches_from(["app"]).unwrap();
        let p = parsed_payload(&cmd, &m);
        assert_eq!(lookup(&p, "command"), Some(&Value::Absent));
        assert_eq!(lookup(&p, "plugin"), Some(&Value::List(vec![])));
    }
}
