//! The names of the events an application dispatches through its CLI
//! lifecycle, in the order it dispatches them.

/// Before the command line is parsed.
pub const BEFORE_CLI_START: &str = "before_cli_start";
/// The command line was parsed; the payload holds its arguments.
pub const CLI_PARSED: &str = "cli_parsed";
/// The command starts, at the same time as this event.
pub const CLI_STARTED: &str = "cli_started";
/// The command and the services ended.
pub const CLI_STOPPED: &str = "cli_stopped";
/// Ctrl-C (or a termination signal) ended the run.
pub const KEYBOARD_INTERRUPT: &str = "keyboard_interrupt";

/// Every lifecycle event, in order, with `keyboard_interrupt` last.
pub const ALL: [&str; 5] = [
    BEFORE_CLI_START,
    CLI_PARSED,
    CLI_STARTED,
    CLI_STOPPED,
    KEYBOARD_INTERRUPT,
];
