//! Writes 10 MiB to standard output from its `cli_started` handler. It
//! imports nothing that can wait, so it is called synchronously: against a
//! reader that never reads, its call waits for a full pipe on the run's
//! own task.

use std::io::Write;

use precept_guest::prelude::*;

#[derive(Default)]
struct Flood;

impl Plugin for Flood {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("cli_started");
        events::subscribe("cli_stopped");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        if event.name == "cli_started" {
            let chunk = vec![b'x'; 1 << 20];
            let mut out = std::io::stdout().lock();
            for _ in 0..10 {
                out.write_all(&chunk).map_err(|e| e.to_string())?;
            }
            out.flush().map_err(|e| e.to_string())?;
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Flood);
