//! Loaded lazily: its manifest declares the events its `setup` subscribes
//! to and the command it adds. Its `setup` counts itself in the variable
//! `sleepers_set_up` and says so on standard output, and it prints each
//! event it gets, so that a test sees when it was loaded. The command's
//! and the wake-up event's names come from its configuration (`command`,
//! `event`): one component installed under many names, each declaring
//! its own, adds a command of its own under each.

use precept_guest::prelude::*;

precept_guest::lazy! {
    events = ["wake-up"];
    commands = [{ name = "nap", help = "Take a nap", args = [
        { name = "minutes", help = "How long", kind = "integer", default = "5" },
    ] }];
}

#[derive(Default)]
struct Sleeper;

impl Plugin for Sleeper {
    fn setup(&mut self) -> Result<(), String> {
        config::declare("command", "The command it adds", "nap");
        config::declare("event", "The event that wakes it", "wake-up");
        let command: String = config::get("command").unwrap_or_else(|| "nap".into());
        let event: String = config::get("event").unwrap_or_else(|| "wake-up".into());
        let count = app::add_var("sleepers_set_up", 1)?;
        println!("sleeper: setup ({count} set up)");
        events::subscribe(&event);
        commands::add(
            Command::new(&command, "Take a nap")
                .arg(Arg::option("minutes", "How long").integer().default("5")),
        );
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        println!("sleeper: got {} as subscriber #{}", event.name, event.num);
        Ok(Flow::Continue)
    }

    fn run_command(&mut self, name: &str, args: &Args) -> Result<(), String> {
        let minutes: i64 = args.get("minutes").unwrap_or(5);
        println!("sleeper: {name} for {minutes} minutes");
        Ok(())
    }
}

precept_guest::export!(Sleeper);
