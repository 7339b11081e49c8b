//! Answers every `ping` with a `pong` carrying the same count.

use precept_guest::{Event, Flow, Plugin, events};

#[derive(Default)]
struct Pong;

impl Plugin for Pong {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("ping");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        let count = event.get::<i64>("count").unwrap_or_default();
        println!("pong: pong {count}");
        events::dispatch("pong", [("count", count)]);
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Pong);
