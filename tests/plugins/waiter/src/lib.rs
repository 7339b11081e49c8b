//! Adds `wait --seconds N`, which prints `waiting` and sleeps: a plugin
//! command to interrupt.

use std::io::Write;
use std::time::Duration;

use precept_guest::prelude::*;

#[derive(Default)]
struct Waiter;

impl Plugin for Waiter {
    fn setup(&mut self) -> Result<(), String> {
        commands::add(
            Command::new("wait", "Print 'waiting', then sleep")
                .arg(Arg::option("seconds", "How long").integer().default("60")),
        );
        Ok(())
    }

    fn run_command(&mut self, _name: &str, args: &Args) -> Result<(), String> {
        let seconds: i64 = args.get("seconds").unwrap_or(60);
        println!("waiting");
        std::io::stdout().flush().map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_secs(seconds.max(0) as u64));
        println!("done waiting");
        Ok(())
    }
}

precept_guest::export!(Waiter);
