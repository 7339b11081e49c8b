//! precept's reference service: `dummy` subscribes to `send` in its setup
//! and, while running, records the `data` of each `send`. Every step's
//! event and every recorded message is appended to the variable `record`.
//!
//! It also adds the command `emit`, which dispatches `send` with
//! `data = "bar"`, and the service `audit`, which runs only with `emit`.
//!
//! The variable `dummy.fail` names a step that returns an error instead:
//! `setup`, `start` or `stop` (of the service `dummy`), or `emit`.

use precept_guest::prelude::*;

#[derive(Default)]
struct Dummy {
    running: bool,
}

/// An error when `dummy.fail` names `step`.
fn fails(step: &str) -> Result<(), String> {
    match app::get_var::<String>("dummy.fail") {
        Some(asked) if asked == step => Err(format!("{step} failed as asked")),
        _ => Ok(()),
    }
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
            fails("setup")?;
            for event in ["send", "dummy_setup", "dummy_start", "dummy_stop"] {
                events::subscribe(event);
            }
        }
        Ok(())
    }

    fn service_start(&mut self, name: &str) -> Result<(), String> {
        if name == "dummy" {
            fails("start")?;
        }
        self.running |= name == "dummy";
        Ok(())
    }

    fn service_stop(&mut self, name: &str) -> Result<(), String> {
        self.running &= name != "dummy";
        if name == "dummy" {
            fails("stop")?;
        }
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
        fails("emit")?;
        events::dispatch("send", [("data", "bar")]);
        Ok(())
    }
}

precept_guest::export!(Dummy);
