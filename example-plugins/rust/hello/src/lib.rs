//! Prints a line for each CLI lifecycle event.
use precept_guest::prelude::*;

fn setup() -> Result<(), String> {
    events::subscribe_all(lifecycle::ALL);
    println!("hello: setup");
    Ok(())
}

fn on_event(event: &Event) -> Result<Flow, String> {
    println!("hello: {}", event.name);
    Ok(Flow::Continue)
}

precept_guest::export!(fn setup, fn on_event);
