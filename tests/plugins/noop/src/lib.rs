//! Subscribes to `tick` and does nothing with it: what an event costs,
//! nothing more.

use precept_guest::prelude::*;

#[derive(Default)]
struct Noop;

impl Plugin for Noop {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("tick");
        Ok(())
    }

    fn on_event(&mut self, _event: &Event) -> Result<Flow, String> {
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Noop);
