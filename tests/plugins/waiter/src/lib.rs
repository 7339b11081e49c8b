//! Adds `wait --seconds N`, which prints `waiting` and sleeps: a plugin
//! command to interrupt; and `ask --answer VAR`, which dispatches
//! `question` and waits, while it runs, until the variable `VAR` is set: a
//! plugin command whose dispatch must reach the others before it returns.

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
        commands::add(
            Command::new("ask", "Dispatch 'question', then wait for the answer")
                .arg(Arg::option("answer", "The variable the answer is put in").required()),
        );
        Ok(())
    }

    fn run_command(&mut self, name: &str, args: &Args) -> Result<(), String> {
        if name == "ask" {
            return ask(&args.get::<String>("answer").unwrap_or_default());
        }
        let seconds: i64 = args.get("seconds").unwrap_or(60);
        println!("waiting");
        std::io::stdout().flush().map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_secs(seconds.max(0) as u64));
        println!("done waiting");
        Ok(())
    }
}

/// Dispatches `question` and waits up to five seconds for `answer` to be
/// set.
fn ask(answer: &str) -> Result<(), String> {
    events::dispatch("question", [("q", "ping")]);
    for _ in 0..500 {
        if app::get_value(answer).is_some() {
            println!("answered while running");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("'{answer}' was not set while the command ran"))
}

precept_guest::export!(Waiter);
