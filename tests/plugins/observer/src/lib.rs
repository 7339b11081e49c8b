//! Prints `observer: NAME` for the interrupt, the `recorder` service's
//! events and the end of the lifecycle.

use precept_guest::prelude::*;

#[derive(Default)]
struct Observer;

impl Plugin for Observer {
    fn setup(&mut self) -> Result<(), String> {
        for name in [
            "cli_started",
            "keyboard_interrupt",
            "recorder_setup",
            "recorder_start",
            "recorder_stop",
            "cli_stopped",
        ] {
            events::subscribe(name);
        }
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        println!("observer: {}", event.name);
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Observer);
