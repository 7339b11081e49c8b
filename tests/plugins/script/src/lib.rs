//! Runs a script of host calls when it receives `script:run`: the
//! variable `script` (a list) holds operations, each a text followed by its
//! arguments. Property tests generate scripts to check what the host accepts
//! from a plugin, and what it refuses.
//!
//! | operation | arguments | host calls |
//! | --- | --- | --- |
//! | `subscribe`, `unsubscribe` | name | one |
//! | `subscribe-many` | prefix, count | `subscribe(prefix + i)` for each `i < count` |
//! | `dispatch` | name, bytes | `dispatch(name, { data: "x" × bytes })` |
//! | `dispatch-many` | name, count | `dispatch(name, {})` `count` times |
//! | `set` | name, value | `set-var(name, value)` |
//! | `fill` | prefix, count, bytes | `set-var(prefix + i, "x" × bytes)` for each `i < count` |
//! | `get` | name | `get-var(name)` |
//! | `log` | level (0 to 4), message | `log(level, message)` |
//! | `config` | key | `config.get(key)` |
//! | `append` | name, text | `append-var(name, text)` (its error ignored) |
//! | `timer` | event, bytes | `set-timeout(10 ms, event, { data: "x" × bytes })` (its error ignored) |
//! | `declare` | key, bytes | `declare(key, "", "x" × bytes)` (outside setup: reported, ignored) |
//! | `fail` | message | returns the error `message` |
//! | `trap` | — | traps (`unreachable`) |
//!
//! A malformed script ends where it stops making sense.

use precept_guest::Scalar;
use precept_guest::prelude::*;

#[derive(Default)]
struct Script;

/// Reads a script's arguments one by one; `None` when the next one is
/// missing or of another type.
struct Reader(std::vec::IntoIter<Scalar>);

impl Reader {
    fn text(&mut self) -> Option<String> {
        match self.0.next()? {
            Scalar::Text(text) => Some(text),
            _ => None,
        }
    }

    fn count(&mut self) -> Option<usize> {
        match self.0.next()? {
            Scalar::Integer(n) => usize::try_from(n).ok(),
            _ => None,
        }
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.0.next()? {
            Scalar::Absent => Value::Absent,
            Scalar::Boolean(b) => Value::Boolean(b),
            Scalar::Integer(n) => Value::Integer(n),
            Scalar::Float(f) => Value::Float(f),
            Scalar::Text(text) => Value::Text(text),
        })
    }
}

/// Runs one operation; `None` when its arguments are not there.
fn step(op: &str, args: &mut Reader) -> Option<Result<(), String>> {
    match op {
        "subscribe" => events::subscribe(&args.text()?),
        "unsubscribe" => events::unsubscribe(&args.text()?),
        "subscribe-many" => {
            let (prefix, count) = (args.text()?, args.count()?);
            for i in 0..count {
                events::subscribe(&format!("{prefix}{i}"));
            }
        }
        "dispatch" => {
            let (name, bytes) = (args.text()?, args.count()?);
            events::dispatch(&name, [("data", "x".repeat(bytes))]);
        }
        "dispatch-many" => {
            let (name, count) = (args.text()?, args.count()?);
            for _ in 0..count {
                events::dispatch::<String, Value>(&name, []);
            }
        }
        "set" => {
            let (name, value) = (args.text()?, args.value()?);
            app::set_var(&name, value);
        }
        "fill" => {
            let (prefix, count, bytes) = (args.text()?, args.count()?, args.count()?);
            let value = "x".repeat(bytes);
            for i in 0..count {
                app::set_var(&format!("{prefix}{i}"), value.as_str());
            }
        }
        "get" => drop(app::get_value(&args.text()?)),
        "log" => {
            let (level, message) = (args.count()?, args.text()?);
            match level {
                0 => log::trace(&message),
                1 => log::debug(&message),
                2 => log::info(&message),
                3 => log::warn(&message),
                _ => log::error(&message),
            }
        }
        "config" => drop(config::get::<String>(&args.text()?)),
        "append" => {
            let (name, text) = (args.text()?, args.text()?);
            drop(app::append_var(&name, text));
        }
        "timer" => {
            let (event, bytes) = (args.text()?, args.count()?);
            let payload = [("data", "x".repeat(bytes))];
            drop(timers::after(
                std::time::Duration::from_millis(10),
                &event,
                payload,
            ));
        }
        "declare" => {
            let (key, bytes) = (args.text()?, args.count()?);
            config::declare(&key, "", "x".repeat(bytes));
        }
        "fail" => return Some(Err(args.text()?)),
        "trap" => core::arch::wasm32::unreachable(),
        _ => return None,
    }
    Some(Ok(()))
}

/// Runs `script` until it ends, fails, or stops making sense.
fn run(script: Vec<Scalar>) -> Result<(), String> {
    let mut args = Reader(script.into_iter());
    while let Some(op) = args.text() {
        match step(&op, &mut args) {
            Some(result) => result?,
            None => break,
        }
    }
    Ok(())
}

impl Plugin for Script {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("script:run");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        if event.name == "script:run"
            && let Some(Value::List(script)) = app::get_value("script")
        {
            run(script)?;
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Script);
