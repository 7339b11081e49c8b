//! A plugin that misbehaves as its mode says. The mode is the variable
//! `hostile.mode`, or else its first WASI argument; `hostile.arg` (or the
//! second argument) is a path or address for the modes that need one.
//! Setup modes act in `setup`; the others when `cli_started` arrives. What
//! an attempt got is written to the variable `hostile.result` (and printed)
//! as `ok: ...` or `err: ...`.

use std::io::{Read, Write};

use precept_guest::prelude::*;

#[derive(Default)]
struct Hostile {
    mode: String,
    arg: String,
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
            _ => events::subscribe("cli_started"),
        }
        Ok(())
    }

    fn on_event(&mut self, _event: &Event) -> Result<Flow, String> {
        match self.mode.as_str() {
            "loop-event" => spin(),
            "panic-event" => panic!("hostile handler"),
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
