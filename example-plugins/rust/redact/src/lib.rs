//! A plugin of the line filter `lines`: drops every line that mentions a
//! secret, and masks the digits of the others. The line being filtered is
//! the variable `line`; a subscriber rewrites it by setting the variable,
//! and drops it by stopping the event.

use precept_guest::prelude::*;

#[derive(Default)]
struct Redact;

impl Plugin for Redact {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("line");
        Ok(())
    }

    fn on_event(&mut self, _event: &Event) -> Result<Flow, String> {
        let line: String = app::get_var("line").unwrap_or_default();
        if line.to_lowercase().contains("secret") {
            return Ok(Flow::Stop);
        }
        let digit = |c: char| if c.is_ascii_digit() { '#' } else { c };
        app::set_var("line", line.chars().map(digit).collect::<String>());
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Redact);
