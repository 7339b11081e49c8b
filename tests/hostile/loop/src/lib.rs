//! Never returns from its `cli_started` handler.

use precept_guest::prelude::*;

#[derive(Default)]
struct Loop;

impl Plugin for Loop {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("cli_started");
        Ok(())
    }

    fn on_event(&mut self, _event: &Event) -> Result<Flow, String> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

precept_guest::export!(Loop);
