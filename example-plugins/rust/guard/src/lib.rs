//! Stops `send` events whose `data` is `secret`, so later subscribers never
//! see them; lets every other `send` go on.

use precept_guest::{Event, Flow, Plugin, events, log};

#[derive(Default)]
struct Guard {
    stopped: u32,
}

impl Plugin for Guard {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("send");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        if event.get::<String>("data").as_deref() == Some("secret") {
            self.stopped += 1;
            log::warn(&format!("stopped a secret 'send' (#{})", self.stopped));
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Guard);
