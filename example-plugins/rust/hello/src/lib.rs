//! Prints a line for each CLI lifecycle event.

use precept_guest::prelude::*;

#[derive(Default)]
struct Hello;

impl Plugin for Hello {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe_all(lifecycle::ALL);
        println!("hello: setup");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        println!("hello: {}", event.name);
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Hello);
