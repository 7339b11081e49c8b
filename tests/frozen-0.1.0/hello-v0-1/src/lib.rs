//! Prints a line for each CLI lifecycle event.

use precept_guest::{Event, Flow, Plugin, events};

#[derive(Default)]
struct Hello;

impl Plugin for Hello {
    fn setup(&mut self) -> Result<(), String> {
        for name in [
            "before_cli_start",
            "cli_parsed",
            "cli_started",
            "cli_stopped",
            "keyboard_interrupt",
        ] {
            events::subscribe(name);
        }
        println!("hello: setup");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        println!("hello: {}", event.name);
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Hello);
