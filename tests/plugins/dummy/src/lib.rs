//! precept's reference service: `dummy` subscribes to `send` in its setup
//! and, while running, records the `data` of each `send`. Every step's
//! event and every recorded message is appended to the variable `record`.
//!
//! It also adds the command `emit`, which dispatches `send` with
//! `data = "bar"`, and the service `audit`, which runs only with `emit`.

use precept_guest::prelude::*;

#[derive(Default)]
struct Dummy {
    running: bool,
}

fn record(entry: &str) {
    // One step: services starting together lose no entry.
    app::append_var("record", entry).expect("record is a list");
}

impl Plugin for Dummy {
    fn setup(&mut self) -> Result<(), String> {
        services::add("dummy");
        services::add_for_command("audit", "emit");
        commands::add(Command::new("emit", "Dispatch 'send' with data=bar"));
        Ok(())
    }

    fn service_setup(&mut self, name: &str) -> Result<(), String> {
        if name == "dummy" {
            for event in ["send", "dummy_setup", "dummy_start", "dummy_stop"] {
                events::subscribe(event);
            }
        }
        Ok(())
    }

    fn service_start(&mut self, name: &str) -> Result<(), String> {
        self.running |= name == "dummy";
        Ok(())
    }

    fn service_stop(&mut self, name: &str) -> Result<(), String> {
        self.running &= name != "dummy";
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        match &*event.name {
            "send" if self.running => record(&event.get::<String>("data").unwrap_or_default()),
            "send" => {}
            other => record(other),
        }
        Ok(Flow::Continue)
    }

    fn run_command(&mut self, _name: &str, _args: &Args) -> Result<(), String> {
        events::dispatch("send", [("data", "bar")]);
        Ok(())
    }
}

precept_guest::export!(Dummy);
