//! Adding commands to the application's command line.
//!
//! ```ignore
//! commands::add(
//!     Command::new("greet", "Greet someone")
//!         .arg(Arg::option("name", "Who to greet").short('n').required())
//!         .arg(Arg::option("times", "How many times").integer().default("1")),
//! );
//! ```

use crate::bindings::precept::plugin::commands::{self as host, ArgSpec, ArgStyle, CommandSpec};
pub use host::ValueKind;

/// A command this plugin adds, run by [`Plugin::run_command`](crate::Plugin::run_command).
#[derive(Debug, Clone)]
pub struct Command {
    spec: CommandSpec,
}

impl Command {
    /// A command called `name` with one line of `help`.
    pub fn new(name: &str, help: &str) -> Command {
        Command {
            spec: CommandSpec {
                name: name.into(),
                help: help.into(),
                args: Vec::new(),
            },
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: Arg) -> Command {
        self.spec.args.push(arg.spec);
        self
    }
}

/// An argument of a [`Command`].
#[derive(Debug, Clone)]
pub struct Arg {
    spec: ArgSpec,
}

impl Arg {
    fn new(name: &str, help: &str, style: ArgStyle) -> Arg {
        Arg {
            spec: ArgSpec {
                name: name.into(),
                help: help.into(),
                style,
                kind: ValueKind::Text,
                short: None,
                required: false,
                repeated: false,
                default: None,
            },
        }
    }

    /// `--name`, without a value: `true` when given.
    pub fn flag(name: &str, help: &str) -> Arg {
        Arg::new(name, help, ArgStyle::Flag)
    }

    /// `--name`, repeatable, without a value: how many times it was given.
    pub fn count(name: &str, help: &str) -> Arg {
        Arg::new(name, help, ArgStyle::Count)
    }

    /// `--name VALUE`, text unless another kind is chosen.
    pub fn option(name: &str, help: &str) -> Arg {
        Arg::new(name, help, ArgStyle::Option)
    }

    /// A bare value, in declaration order, text unless another kind is chosen.
    pub fn positional(name: &str, help: &str) -> Arg {
        Arg::new(name, help, ArgStyle::Positional)
    }

    /// Its values are integers.
    pub fn integer(mut self) -> Arg {
        self.spec.kind = ValueKind::Integer;
        self
    }

    /// Its values are floats.
    pub fn float(mut self) -> Arg {
        self.spec.kind = ValueKind::Float;
        self
    }

    /// Its values are `true` or `false`.
    pub fn boolean(mut self) -> Arg {
        self.spec.kind = ValueKind::Boolean;
        self
    }

    /// A one-letter alias, e.g. `-n`.
    pub fn short(mut self, letter: char) -> Arg {
        self.spec.short = Some(letter);
        self
    }

    /// It must be given.
    pub fn required(mut self) -> Arg {
        self.spec.required = true;
        self
    }

    /// It may be given several times; its value is a list.
    pub fn repeated(mut self) -> Arg {
        self.spec.repeated = true;
        self
    }

    /// The value used when it is not given, as typed on a command line.
    pub fn default(mut self, value: &str) -> Arg {
        self.spec.default = Some(value.into());
        self
    }
}

/// Adds `command` to the application's command line. Call it in `setup`.
pub fn add(command: Command) {
    host::add_command(&command.spec);
}
