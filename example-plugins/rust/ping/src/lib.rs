//! When the command starts, dispatches `ping` (for the `pong` plugin); counts
//! the `pong` replies and reports them when the application stops.

use precept_guest::{Event, Flow, Plugin, app, events};

#[derive(Default)]
struct Ping {
    pongs: i64,
}

impl Plugin for Ping {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("cli_started");
        events::subscribe("pong");
        events::subscribe("cli_stopped");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        match &*event.name {
            "cli_started" => {
                println!("ping: ping 1");
                events::dispatch("ping", [("count", 1)]);
            }
            "pong" => {
                self.pongs += 1;
                let count = event.get::<i64>("count").unwrap_or_default();
                println!("ping: got pong {count}");
                app::set_var("pongs", self.pongs);
            }
            "cli_stopped" => println!("ping: {} pong(s) in all", self.pongs),
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Ping);
