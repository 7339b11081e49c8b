//! The conformance plugin of docs/CONFORMANCE.md, in Rust.

use precept_guest::prelude::*;

const SERVICE: &str = "conformance_svc";

precept_guest::capabilities! {
    net("*", "the URL a conformance_fetch event names", optional);
}

#[derive(Default)]
struct Conformance;

/// The configuration value of `greeting`.
fn greeting() -> String {
    config::get("greeting").unwrap_or_else(|| "Hello".into())
}

/// Appends `entry` to the list variable `conformance_seen`.
fn record(entry: String) {
    app::append_var("conformance_seen", entry).expect("conformance_seen is a list");
}

impl Plugin for Conformance {
    fn setup(&mut self) -> Result<(), String> {
        config::declare("greeting", "The word to greet with", "Hello");
        for name in [
            "before_cli_start",
            "cli_parsed",
            "cli_started",
            "cli_stopped",
            "conformance_ping",
            "conformance_stop",
            "conformance_tick",
            "conformance_fetch",
        ] {
            events::subscribe(name);
        }
        app::set_var("conformance_language", "rust");
        commands::add(
            Command::new("conform", "Greet someone, as every conformance plugin does")
                .arg(Arg::option("name", "Who to greet").short('n').required())
                .arg(
                    Arg::option("times", "How many times")
                        .integer()
                        .default("1"),
                )
                .arg(Arg::flag("loud", "Greet in capitals")),
        );
        services::add(SERVICE);
        log::info("conformance plugin ready");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        match event.name.as_str() {
            "cli_parsed" => {
                let command = event.get::<String>("command").unwrap_or("-".into());
                record(format!("cli_parsed:{command}"));
            }
            "conformance_ping" => {
                let n: i64 = event
                    .get("n")
                    .ok_or("conformance_ping needs an integer n")?;
                record(format!("ping:{n}"));
                events::dispatch(
                    "conformance_pong",
                    [("n", Value::from(n + 1)), ("greeting", greeting().into())],
                );
            }
            "conformance_tick" => {}
            "conformance_fetch" => {
                let url: String = event.get("url").unwrap_or_default();
                match http::get(&url) {
                    Ok(response) => {
                        record(format!("fetched:{}:{}", response.status, response.text()))
                    }
                    Err(_) => record("fetch_failed".into()),
                }
            }
            "conformance_stop" => {
                record("stop".into());
                return Ok(Flow::Stop);
            }
            name => record(name.into()),
        }
        Ok(Flow::Continue)
    }

    fn service_setup(&mut self, name: &str) -> Result<(), String> {
        service_step("setup", name)
    }

    fn service_start(&mut self, name: &str) -> Result<(), String> {
        service_step("start", name)
    }

    fn service_stop(&mut self, name: &str) -> Result<(), String> {
        service_step("stop", name)
    }

    fn run_command(&mut self, name: &str, args: &Args) -> Result<(), String> {
        if name != "conform" {
            return Err(format!("unknown command {name}"));
        }
        let times: i64 = args.get("times").unwrap_or(1);
        if times < 0 {
            return Err("--times must not be negative".into());
        }
        let who: String = args.get("name").unwrap_or_default();
        let mut line = format!("{}, {who}!", greeting());
        if args.get::<bool>("loud") == Some(true) {
            line.make_ascii_uppercase();
        }
        for _ in 0..times {
            println!("{line}");
        }
        app::set_var("conformance_greeting", line);
        log::info(&format!("greeted {who}"));
        Ok(())
    }
}

/// Records one step of the conformance service.
fn service_step(step: &str, name: &str) -> Result<(), String> {
    if name != SERVICE {
        return Err(format!("unknown service {name}"));
    }
    record(format!("service_{step}:{name}"));
    Ok(())
}

precept_guest::export!(Conformance);
