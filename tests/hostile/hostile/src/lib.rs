//! A plugin that misbehaves as its mode says. The mode is the variable
//! `hostile.mode`, or else its first WASI argument; `hostile.arg` (or the
//! second argument) is a path or address for the modes that need one.
//! Setup modes act in `setup`; the others when `cli_started` arrives. What
//! an attempt got is written to the variable `hostile.result` (and printed)
//! as `ok: ...` or `err: ...`.

use std::io::{Read, Write};

use precept_guest::Scalar;
use precept_guest::prelude::*;

// What the tests may grant it; nothing is required, so it loads without.
precept_guest::capabilities! {
    dir("/data", read_write, "a directory a test grants, to read or write", optional);
    dir("/notes", read_write, "a directory a test grants, to read", optional);
    env("MODE", "a variable a test grants", optional);
}

#[derive(Default)]
struct Hostile {
    mode: String,
    arg: String,
    /// Dispatches made so far (`brink`).
    sent: u64,
}

/// `arg` as a count, or `default`.
fn count(arg: &str, default: u64) -> u64 {
    arg.parse().unwrap_or(default)
}

fn report(result: Result<String, String>) {
    let text = match result {
        Ok(got) => format!("ok: {got}"),
        Err(error) => format!("err: {error}"),
    };
    println!("hostile: {text}");
    app::set_var("hostile.result", text);
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

impl Plugin for Hostile {
    fn setup(&mut self) -> Result<(), String> {
        let mut args = std::env::args();
        self.mode = app::get_var("hostile.mode")
            .or_else(|| args.next())
            .unwrap_or_default();
        self.arg = app::get_var("hostile.arg")
            .or_else(|| args.next())
            .unwrap_or_default();
        match self.mode.as_str() {
            "loop-setup" => spin(),
            "trap-setup" => panic!("hostile setup"),
            "vars-bomb" => {
                // Each value is under the payload limit; together they are not.
                let value = "v".repeat(1_000_000);
                for i in 0..1_500 {
                    app::set_var(&format!("bomb-{i}"), value.as_str());
                }
            }
            "subscribe-bomb" => {
                for i in 0..100_000 {
                    events::subscribe(&format!("name-{i}"));
                }
            }
            "long-name" => events::subscribe(&"n".repeat(1 << 20)),
            "help-command" => commands::add(Command::new("help", "shadows clap's help")),
            "busy-service" | "meet-service" => {
                let n: i64 = app::get_var("services.count").unwrap_or(0);
                app::set_var("services.count", n + 1);
                services::add(&format!("service_{n}"));
            }
            "errors" => events::subscribe("tick"),
            "brink" => events::subscribe("status"),
            "declare-repeat" => {
                // Each within every per-call bound; together far past them.
                let default = "d".repeat(200_000);
                for _ in 0..600 {
                    config::declare("k", "", default.as_str());
                }
            }
            "declare-many" => {
                let default = "d".repeat(100_000);
                for i in 0..128 {
                    config::declare(&format!("k{i}"), "", default.as_str());
                }
            }
            "command-flood" => {
                events::subscribe("me");
                commands::add(Command::new(
                    "flood",
                    "floods the dispatcher from a command",
                ));
            }
            "fd-hoard" => {
                // Files held open in /data: each a descriptor of the host.
                let mut held = Vec::new();
                for i in 0..count(&self.arg, 2_000) {
                    match std::fs::File::create(format!("/data/held-{i}")) {
                        Ok(file) => held.push(file),
                        Err(error) => {
                            report(Err(format!("after {i} files: {error}")));
                            break;
                        }
                    }
                }
                std::mem::forget(held);
            }
            "fan-out" => {
                events::subscribe("fan");
                events::subscribe("cli_started");
            }
            "print-toml" => {
                events::subscribe("cli_parsed");
                events::subscribe("cli_stopped");
            }
            _ => events::subscribe("cli_started"),
        }
        Ok(())
    }

    fn service_start(&mut self, _name: &str) -> Result<(), String> {
        if self.mode == "meet-service" {
            // Arrives, then spins until all `arg` parties have arrived: it
            // returns only if the others' starts run at the same time.
            let parties = count(&self.arg, 2) as i64;
            app::add_var("meet.arrived", 1)?;
            while app::get_var::<i64>("meet.arrived").unwrap_or(0) < parties {
                std::hint::spin_loop();
            }
            return Ok(());
        }
        // About as much work as `arg` (a number of millions) says.
        let rounds: u64 = self.arg.parse().unwrap_or(1) * 1_000_000;
        let mut n: u64 = 0;
        for i in 0..rounds {
            n = std::hint::black_box(n.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(n);
        Ok(())
    }

    fn run_command(&mut self, _name: &str, _args: &Args) -> Result<(), String> {
        // Parks the delivery of its own event on itself, then floods.
        events::dispatch("me", [("n", 1i64)]);
        loop {
            events::subscribe("z");
            events::unsubscribe("z");
        }
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        match self.mode.as_str() {
            "brink" => {
                // Dispatches up to `arg` in all, ten more per `status`,
                // four hops deep: one short of a budget that then ends on
                // someone else's dispatch.
                let (budget, hop) = (count(&self.arg, 0), event.get::<i64>("hop").unwrap_or(0));
                for _ in 0..10 {
                    if self.sent >= budget || hop >= 4 {
                        break;
                    }
                    self.sent += 1;
                    events::dispatch("status", [("hop", hop + 1)]);
                }
            }
            "empty-entries" => {
                // Entries with nothing in them, each still a host entry,
                // dispatched ten times in one call.
                let entries: Vec<(String, &str)> =
                    vec![(String::new(), ""); count(&self.arg, 100_000) as usize];
                for _ in 0..10 {
                    events::dispatch("empty", entries.iter().cloned());
                }
            }
            "empty-list-var" => {
                let items = vec![Scalar::Text(String::new()); count(&self.arg, 100_000) as usize];
                app::set_var("hoard", Value::List(items));
            }
            "empty-append" => {
                let mut appended = 0;
                let result = loop {
                    if appended == count(&self.arg, 200_000) {
                        break Ok(format!("{appended} items"));
                    }
                    match app::append_var("q", "") {
                        Ok(_) => appended += 1,
                        Err(error) => break Err(format!("after {appended} items: {error}")),
                    }
                };
                report(result);
            }
            "body-hoard" => {
                // Unsent requests whose bodies were written to, never
                // dropped: what each keeps in the host.
                use wasip2::http::types::{Fields, OutgoingBody, OutgoingRequest};
                let chunk = vec![7u8; 1 << 20];
                let requests = count(&self.arg, 900);
                for _ in 0..requests {
                    let request = OutgoingRequest::new(Fields::new());
                    let body = request.body().expect("a new request's body");
                    let stream = body.write().expect("a body's stream");
                    for _ in 0..2 {
                        let room = stream.check_write().unwrap_or(0) as usize;
                        let _ = stream.write(&chunk[..room.min(chunk.len())]);
                    }
                    drop(stream);
                    let _ = OutgoingBody::finish(body, None);
                    std::mem::forget(request);
                }
                report(Ok(format!("{requests} requests")));
            }
            "fan-out" => {
                // Every `fan` becomes a hundred more, four hops deep.
                let hop = event.get::<i64>("hop").unwrap_or(0);
                if hop < 4 {
                    for _ in 0..100 {
                        events::dispatch("fan", [("hop", hop + 1)]);
                    }
                }
            }
            "random" => {
                // Bytes from `wasi:random`, as many as `arg` asks.
                let bytes = wasip2::random::random::get_random_bytes(count(&self.arg, 32));
                let distinct = bytes
                    .iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                let hex: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
                report(Ok(format!(
                    "{} bytes, {distinct} distinct, {hex}",
                    bytes.len()
                )));
            }
            "forge" => {
                let forged =
                    "done\nerror: plugin 'good' trapped in on-event(cli_started): forged\x1b[2J";
                log::info(forged);
                return Err(forged.into());
            }
            "log-flood" => {
                for i in 0..100_000 {
                    log::info(&format!("flood {i}"));
                }
            }
            "errors" => return Err("always failing".into()),
            "print-toml" => {
                let quote = if event.name == "cli_parsed" {
                    "x = '''"
                } else {
                    "'''"
                };
                println!("{quote}");
                if event.name == "cli_stopped" {
                    println!(
                        "[plugin.hostile]\ndirs = [{{ host = \"/\", guest = \"/\", writable = true }}]"
                    );
                }
            }
            "big-write" => {
                let chunk = "x".repeat(1 << 20);
                for _ in 0..10 {
                    print!("{chunk}");
                }
                println!();
            }
            "loop-event" => spin(),
            "panic-event" => panic!("hostile handler"),
            "handle-hoard" => {
                // Host-side handles, never dropped: `arg` of them.
                let count: u64 = self.arg.parse().unwrap_or(u64::MAX);
                for _ in 0..count {
                    let pollable = wasip2::clocks::monotonic_clock::subscribe_duration(1 << 40);
                    std::mem::forget(pollable);
                }
                report(Ok(format!("{count} handles")));
            }
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recursion" => {
                events::dispatch("cli_started", [("again", true)]);
            }
            "storm" => {
                for i in 0..100_000 {
                    events::dispatch(&format!("storm-{i}"), [("i", i)]);
                }
            }
            "huge-payload" => {
                events::dispatch("huge", [("data", "x".repeat(8 << 20))]);
            }
            "stdout-flood" => {
                let line = "flood ".repeat(100);
                loop {
                    println!("{line}");
                }
            }
            "read-file" => report(std::fs::read_to_string(&self.arg).map_err(|e| e.to_string())),
            "write-file" => report(
                std::fs::write(&self.arg, "written by hostile")
                    .map(|()| "written".into())
                    .map_err(|e| e.to_string()),
            ),
            "list-dir" => report(
                std::fs::read_dir(&self.arg)
                    .map(|entries| {
                        let names: Vec<String> = entries
                            .filter_map(Result::ok)
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect();
                        names.join(",")
                    })
                    .map_err(|e| e.to_string()),
            ),
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
                report(Ok(vars.join(",")))
            }
            "socket" => report(
                std::net::TcpStream::connect(&self.arg)
                    .and_then(|mut stream| {
                        stream.write_all(b"hello")?;
                        let mut buf = String::new();
                        stream.read_to_string(&mut buf)?;
                        Ok(buf)
                    })
                    .map_err(|e| e.to_string()),
            ),
            "lookup" => report(
                std::net::ToSocketAddrs::to_socket_addrs(&(self.arg.as_str(), 80))
                    .map(|addrs| format!("{} address(es)", addrs.count()))
                    .map_err(|e| e.to_string()),
            ),
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Hostile);
