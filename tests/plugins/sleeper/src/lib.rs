//! Loaded lazily: its manifest declares the events its `setup` subscribes
//! to and the command it adds. Its `setup` counts itself in the variable
//! `sleepers_set_up` and says so on standard output, and it prints each
//! event it gets, so that a test sees when it was loaded. Its command is
//! `nap` and its event `wake-up`, each followed by the suffix in
//! [`SUFFIX`], unless its configuration (`command`, `event`) names others.

use precept_guest::prelude::*;

precept_guest::lazy! {
    events = ["wake-up"];
    commands = [{ name = "nap", help = "Take a nap", args = [
        { name = "minutes", help = "How long", kind = "integer", default = "5" },
    ] }];
}

/// The suffix of its command's and event's names: none as built. The
/// tests make builds of their own by writing another suffix over these
/// bytes (`precept_tests::sleeper_build`), padded with NUL bytes.
#[used]
static SUFFIX: [u8; 16] = *b"@sleeper-suffix@";

/// The suffix this build has.
fn suffix() -> String {
    // Read from memory, not folded at compile time: a build's bytes differ.
    let bytes: &[u8; 16] = std::hint::black_box(&SUFFIX);
    if bytes == b"@sleeper-suffix@" {
        return String::new();
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[derive(Default)]
struct Sleeper;

impl Plugin for Sleeper {
    fn setup(&mut self) -> Result<(), String> {
        let (nap, wake_up) = (format!("nap{}", suffix()), format!("wake-up{}", suffix()));
        config::declare("command", "The command it adds", nap.as_str());
        config::declare("event", "The event that wakes it", wake_up.as_str());
        let command: String = config::get("command").unwrap_or(nap);
        let event: String = config::get("event").unwrap_or(wake_up);
        let count = app::add_var("sleepers_set_up", 1)?;
        println!("sleeper: setup ({count} set up)");
        events::subscribe(&event);
        commands::add(
            Command::new(&command, "Take a nap")
                .arg(Arg::option("minutes", "How long").integer().default("5")),
        );
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        println!("sleeper: got {} as subscriber #{}", event.name, event.num);
        Ok(Flow::Continue)
    }

    fn run_command(&mut self, name: &str, args: &Args) -> Result<(), String> {
        let minutes: i64 = args.get("minutes").unwrap_or(5);
        println!("sleeper: {name} for {minutes} minutes");
        Ok(())
    }
}

precept_guest::export!(Sleeper);
