//! Adds `greet --name NAME [--times N] [--shout]` to the application; the
//! configuration key `greeting` sets the word it greets with. It declares
//! its command, so that it is loaded only when the command runs.

use precept_guest::prelude::*;

precept_guest::lazy! {
    commands = [{ name = "greet", help = "Greet someone, once or more", args = [
        { name = "name", help = "Who to greet", short = "n", required = true },
        { name = "times", help = "How many times", kind = "integer", default = "1" },
        { name = "shout", help = "Greet in capitals", style = "flag" },
    ] }];
}

#[derive(Default)]
struct Greet;

impl Plugin for Greet {
    fn setup(&mut self) -> Result<(), String> {
        config::declare("greeting", "The word to greet with", "Hello");
        commands::add(
            Command::new("greet", "Greet someone, once or more")
                .arg(Arg::option("name", "Who to greet").short('n').required())
                .arg(
                    Arg::option("times", "How many times")
                        .integer()
                        .default("1"),
                )
                .arg(Arg::flag("shout", "Greet in capitals")),
        );
        Ok(())
    }

    fn run_command(&mut self, _name: &str, args: &Args) -> Result<(), String> {
        let name: String = args.get("name").ok_or("--name is required")?;
        let times: i64 = args.get("times").unwrap_or(1);
        if times < 0 {
            return Err(format!("--times must not be negative, got {times}"));
        }
        let word: String = config::get("greeting").unwrap_or_else(|| "Hello".into());
        let mut greeting = format!("{word}, {name}!");
        if args.get::<bool>("shout") == Some(true) {
            greeting = greeting.to_uppercase();
        }
        for _ in 0..times {
            println!("{greeting}");
        }
        Ok(())
    }
}

precept_guest::export!(Greet);
