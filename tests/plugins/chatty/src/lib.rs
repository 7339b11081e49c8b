//! Logs `chatty <level> <when>` at every level in `setup` and on
//! `cli_started`.

use precept_guest::prelude::*;

#[derive(Default)]
struct Chatty;

fn chat(when: &str) {
    log::trace(&format!("chatty trace {when}"));
    log::debug(&format!("chatty debug {when}"));
    log::info(&format!("chatty info {when}"));
    log::warn(&format!("chatty warn {when}"));
    log::error(&format!("chatty error {when}"));
}

impl Plugin for Chatty {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("cli_started");
        chat("setup");
        Ok(())
    }

    fn on_event(&mut self, _event: &Event) -> Result<Flow, String> {
        chat("started");
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Chatty);
