//! `journal write TEXT` adds an entry to `/journal/journal.txt`, `journal
//! read` prints them. It declares what it needs: the directory, required,
//! and the variable `JOURNAL_TAG`, optional — without it, entries have no
//! tag. Try:
//!
//! ```text
//! precept-run --plugin journal.wasm --dir-rw journal=/tmp/j::/journal journal write hi
//! ```

use std::io::Write;

use precept_guest::prelude::*;

precept_guest::capabilities! {
    dir("/journal", read_write, "where the journal is kept");
    env("JOURNAL_TAG", "a tag put on every new entry", optional);
}

const FILE: &str = "/journal/journal.txt";

#[derive(Default)]
struct Journal;

impl Plugin for Journal {
    fn setup(&mut self) -> Result<(), String> {
        commands::add(
            Command::new("journal", "Write to or read the journal")
                .arg(Arg::positional("action", "write or read").required())
                .arg(Arg::positional("text", "What to write").repeated()),
        );
        Ok(())
    }

    fn run_command(&mut self, _name: &str, args: &Args) -> Result<(), String> {
        let action: String = args.get("action").unwrap_or_default();
        match action.as_str() {
            "write" => {
                let words: Vec<String> = args.get("text").unwrap_or_default();
                // Optional: asked, not assumed.
                let tag = if capabilities::env("JOURNAL_TAG") {
                    std::env::var("JOURNAL_TAG").ok()
                } else {
                    None
                };
                let entry = match &tag {
                    Some(tag) => format!("[{tag}] {}", words.join(" ")),
                    None => words.join(" "),
                };
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(FILE)
                    .map_err(|e| format!("cannot open {FILE}: {e}"))?;
                writeln!(file, "{entry}").map_err(|e| e.to_string())?;
                println!(
                    "journal: wrote '{entry}'{}",
                    if tag.is_none() {
                        " (no tag granted)"
                    } else {
                        ""
                    }
                );
            }
            "read" => {
                let text = std::fs::read_to_string(FILE).unwrap_or_default();
                print!("{text}");
            }
            other => return Err(format!("unknown action '{other}': write or read")),
        }
        Ok(())
    }
}

precept_guest::export!(Journal);
